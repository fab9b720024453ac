"""Every numerical library an optimizer's run computes with is named in the run's versions.

A run records the version of its adapter's library and of every library in the adapter's
``requires`` (bench/loop.py), and an archive entry goes stale when one of them changes. A library
the run uses but does not record is a silent hole: scikit-optimize computes in scikit-learn and
scipy, SMAC in scikit-learn, Nevergrad's CMA in pycma, HEBO in gpytorch and pymoo, and an upgrade
of any of them changed results with no trace in the run and no stale entry.

The check is empirical, so a new adapter (or a library that starts importing another) is caught
too: each registered optimizer runs a few trials in a forked child of a process that has imported
only the harness and the task, and every library of :data:`COMPUTING` the child imported must be in
the run's recorded versions, the adapter's own library at its installed version among them.
"""

from __future__ import annotations

import functools
import json
import re
import subprocess
import sys
from collections.abc import Iterator, Mapping
from importlib import metadata
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from bench.config_files import optimizer_config, optimizer_ids
from bench.registry import make_task, optimizer_class
from optimizers.base import Budget, Problem

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

#: Import names of the libraries an optimizer may compute with (models, samplers, linear algebra,
#: optimizers of acquisition functions). Plumbing (pandas frames of configurations, tqdm, networkx
#: graphs of search spaces, logging) is not listed: its version does not change a trial.
COMPUTING = (
    "autograd", "bayes_opt", "botorch", "catboost", "cma", "cmaes", "dehb", "emcee", "GPy",
    "gpytorch", "hebo", "hyperopt", "jax", "lightgbm", "linear_operator", "moocore", "nevergrad",
    "optuna", "pymoo", "pyrfr", "scipy", "skopt", "sklearn", "smac", "statsmodels", "syne_tune",
    "tensorflow", "torch", "xgboost",
)  # fmt: skip

#: Libraries an adapter's library imports without computing with them, by adapter module.
IMPORTED_NOT_USED = {
    # Nevergrad imports hyperopt when it is installed, to offer its HyperOpt optimizers; no shipped
    # ng_ id is one of them, and hyperopt is not a dependency of nevergrad (requires must not name it).
    "optimizers.nevergrad": {"hyperopt"},
}

#: Candidate tasks, cheapest first: black-box, multi-objective, multi-fidelity, both.
TASKS = ("bbob/f01/d02/i01", "synthetic/zdt1", "synthetic/mfh3", "lcdb/1233/mo")
N_TRIALS = 12  # past every model-based id's initial design (optuna_gp fits its GP at trial 11)

DRIVER = r"""
import json, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[4])  # tests/, for forked_probe
from forked_probe import in_fork
from bench.loop import run_one, run_path
from bench.registry import make_task
from bench.results import read_run_meta
from bench.spec import RunSpec
from optimizers.base import Budget

out = Path(sys.argv[2])
for oid, target, params, task in json.loads(sys.argv[1]):
    make_task(task)  # the task's own imports are not the optimizer's
    spec = RunSpec(study="probe", task=task, optimizer=oid, optimizer_target=target,
                   optimizer_params=params, seed=0, budget=Budget(int(sys.argv[3])))

    def probe():
        run_one(spec, out)
        meta = read_run_meta(run_path(out, spec))
        return [meta.get("status"), meta.get("error"), meta.get("versions")]

    t0 = time.perf_counter()
    result, new, error = in_fork(probe)
    status, run_error, versions = result or ["probe failed", error, {}]
    print(json.dumps([oid, status, run_error, new, versions]), flush=True)
    sys.stderr.write(f"{oid} {time.perf_counter() - t0:.1f} s\n")
"""


@functools.cache
def _packages_distributions() -> Mapping[str, list[str]]:
    return metadata.packages_distributions()  # about 0.35 s: once, not once per id


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _task_for(oid: str) -> str | None:
    cls = optimizer_class(str(optimizer_config(oid)["_target_"]))
    if cls.missing_requirement():
        return None
    for task_id in TASKS:
        try:
            task = make_task(task_id)
        except Exception:  # a task family not installed here: try the next
            continue
        if cls.incompatibility(Problem(task.space, task.objectives, task.fidelity, Budget(N_TRIALS))) is None:
            return task_id
    return None


def _jobs() -> Iterator[list[object]]:
    for oid in optimizer_ids():
        cfg = optimizer_config(oid)
        task = _task_for(oid)
        if task is not None:
            params = OmegaConf.to_container(cfg.params) if cfg.get("params") else {}
            yield [oid, str(cfg["_target_"]), params, task]


@pytest.fixture(scope="module")
def probes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[object]]:
    """``id → [status, error, new top-level modules, recorded versions]``, two drivers at once."""
    if not hasattr(__import__("os"), "fork"):
        pytest.skip("needs os.fork")
    jobs = list(_jobs())
    out = tmp_path_factory.mktemp("probe")
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", DRIVER, json.dumps(jobs[i::2]), str(out), str(N_TRIALS), str(HERE)],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(2)
    ]
    result: dict[str, list[object]] = {}
    for proc in procs:
        stdout, stderr = proc.communicate(timeout=900)
        assert proc.returncode == 0, stderr[-3000:]
        for line in stdout.splitlines():
            if line.startswith("["):
                oid, *rest = json.loads(line)
                result[oid] = rest
    return result


@pytest.mark.slow
@pytest.mark.parametrize("oid", optimizer_ids())
def test_every_library_a_run_computes_with_is_recorded(oid: str, probes: dict[str, list[object]]) -> None:
    target = str(optimizer_config(oid)["_target_"])
    cls = optimizer_class(target)
    if cls.missing_requirement():
        pytest.skip(f"{oid}: {cls.missing_requirement()}")
    if oid not in probes:
        assert _task_for(oid) is None, f"{oid}: its probe gave no answer"
        pytest.skip(f"{oid}: none of {TASKS} can run it here")
    status, error, new, versions = probes[oid]
    assert status == "ok", (oid, status, error)
    assert isinstance(new, list) and isinstance(versions, dict)
    provides = _packages_distributions()
    recorded = {_normalized(k) for k in versions}
    ignored = IMPORTED_NOT_USED.get(cls.__module__, set())
    unrecorded = sorted(
        module
        for module in COMPUTING
        if module in new
        and module not in ignored
        and not recorded & {_normalized(d) for d in provides.get(module, [module])}
    )
    if cls.library:  # the adapter's own library, under its distribution name, at the installed version
        assert versions.get(cls.library) == metadata.version(cls.library), (oid, cls.library, versions)
    assert not unrecorded, (
        f"{oid} ({target}) computes with {unrecorded} but its runs do not record their versions: "
        f"add them to `requires` (recorded: {sorted(versions)})"
    )
