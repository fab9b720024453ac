"""Settings travel with the plan: a worker that never saw the environment runs YAHPO and user tasks.

``RunSpec.context`` carries the YAHPO data folder and extra task modules; it is not part of what a
run *is* (fingerprint, stored spec). Workers here are fresh processes whose environment lacks every
``NXMBENCH_``/``NXM_`` variable, as on a remote dask cluster.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench import run_context
from bench.config import OptimizerChoice, StudyConfig
from bench.plan import make_plan
from bench.run_context import RunContext
from bench.spec import RunSpec
from optimizers.base import Budget
from tasks import environment

REPO = Path(__file__).resolve().parents[1]
PLUGINS = Path(__file__).resolve().parent / "plugins"
DATA = Path(os.environ.get("NXMBENCH_YAHPO_DATA") or REPO.parent / "shared" / "data" / "yahpo")
needs_yahpo = pytest.mark.skipif(
    not (DATA / "lcbench").is_dir(), reason=f"YAHPO data folder {DATA} (with lcbench) is absent"
)

RANDOM = ("random_search", "optimizers.random_search.RandomSearch")


def _spec(task: str, context: RunContext | None = None, seed: int = 0) -> RunSpec:
    return RunSpec(
        study="ctx",
        task=task,
        optimizer=RANDOM[0],
        optimizer_target=RANDOM[1],
        optimizer_params={},
        seed=seed,
        budget=Budget(3),
        context=context or RunContext(),
    )


def _bare_env() -> dict[str, str]:
    """The environment of a worker on another machine: no setting of ours, the user's task modules
    installed (here: on PYTHONPATH)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NXMBENCH_", "NXM_"))}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), str(PLUGINS)])
    return env


# ----------------------------------------------------------------------------- identity


def test_fingerprints_of_existing_runs_are_unchanged() -> None:
    # Values computed before RunSpec had a context: finished runs must not be re-run.
    plain = RunSpec(
        study="demo",
        task="bbob/f01/d02/i01",
        optimizer="random_search",
        optimizer_target="optimizers.random_search.RandomSearch",
        optimizer_params={},
        seed=0,
        budget=Budget(20),
    )
    full = RunSpec(
        study="x",
        task="synthetic/mfh3",
        optimizer="hyperband",
        optimizer_target="optimizers.hyperband.Hyperband",
        optimizer_params={"eta": 3},
        seed=7,
        budget=Budget(10, time=60.0),
        trial_timeout=5.0,
        run_timeout=100.0,
        n_workers=4,
        task_revision="r2",
    )
    assert plain.fingerprint == "ab7bdc54945e2be6"
    assert full.fingerprint == "134e581b237a02e9"


def test_context_is_not_part_of_a_runs_identity() -> None:
    ctx = RunContext(yahpo_data="/data/yahpo", task_modules=("mylab.tasks",))
    plain, placed = _spec("synthetic/branin"), _spec("synthetic/branin", ctx)
    assert placed.context == ctx and plain.context.is_empty()
    assert placed.fingerprint == plain.fingerprint and placed.to_dict() == plain.to_dict()
    assert "context" not in placed.to_dict() and placed == plain
    # Filling a stored spec's omitted keys never invents a context (study_folder, analysis.load).
    assert set(RunSpec.omitted_defaults()) == {"trial_timeout", "run_timeout", "n_workers", "task_revision"}
    assert pickle.loads(pickle.dumps(placed)).context == ctx


def test_context_is_normalized_in_the_main_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    ctx = RunContext(yahpo_data="data", task_modules=(" a.b ", "", "a.b", "c"))
    assert ctx.yahpo_data == str(tmp_path / "data")  # a remote worker's folder differs
    assert ctx.task_modules == ("a.b", "c")
    assert RunContext(yahpo_data=" ").yahpo_data is None
    with pytest.raises(TypeError, match="is a string"):
        RunContext(task_modules="a.b")  # type: ignore[arg-type]


def test_from_environment_and_the_command_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NXMBENCH_YAHPO_DATA", "/env/yahpo")
    monkeypatch.setenv("NXMBENCH_TASK_MODULES", "mylab.tasks,other.tasks")
    assert RunContext.from_environment() == RunContext("/env/yahpo", ("mylab.tasks", "other.tasks"))
    assert RunContext.from_environment(yahpo_data="/cli/yahpo").yahpo_data == "/cli/yahpo"
    assert RunContext.from_environment(yahpo_data=Path("/cli/yahpo")).yahpo_data == "/cli/yahpo"
    monkeypatch.delenv("NXMBENCH_YAHPO_DATA")
    monkeypatch.delenv("NXMBENCH_TASK_MODULES")
    monkeypatch.delenv("NXM_YAHPO_DATA", raising=False)
    assert RunContext.from_environment().is_empty()


def test_make_plan_puts_the_context_into_every_spec() -> None:
    study = StudyConfig(
        "ctx", (OptimizerChoice(*RANDOM),), ("synthetic/branin", "synthetic/mfh3"), (0, 1), Budget(3)
    )
    ctx = RunContext(task_modules=("tasks.synthetic",))  # shipped: applying it changes nothing here
    specs = make_plan(study, ctx).specs
    assert len(specs) == 4 and all(s.context == ctx for s in specs)
    # Without one, the plan carries what this process runs under (here: its environment).
    assert {s.context for s in make_plan(study).specs} == {run_context.current_context()}


def test_the_module_is_cheap_to_import() -> None:
    code = (
        "import sys, bench.run_context; "
        "print(sorted({'numpy', 'ConfigSpace', 'omegaconf'} & set(sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=_bare_env(), check=True
    )
    assert out.stdout.strip() == "[]", out.stdout


# ----------------------------------------------------------------------------- workers without our variables

#: What ``bench.supervisor._run_on_dask`` does on a worker: ``run_one`` on an unpickled spec.
WORKER = """
import json, pickle, sys
from pathlib import Path
from bench.loop import run_one
specs = pickle.loads(Path(sys.argv[1]).read_bytes())
print(json.dumps([[o.status, o.error] for o in (run_one(s, Path(sys.argv[2])) for s in specs)]))
"""


def _run_in_bare_worker(tmp_path: Path, specs: list[RunSpec]) -> list[list[str | None]]:
    (tmp_path / "specs.pkl").write_bytes(pickle.dumps(specs))
    proc = subprocess.run(
        [sys.executable, "-c", WORKER, str(tmp_path / "specs.pkl"), str(tmp_path / "out")],
        cwd=tmp_path,
        env=_bare_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    outcomes: list[list[str | None]] = json.loads(proc.stdout.splitlines()[-1])
    return outcomes


@needs_yahpo
def test_a_worker_without_the_yahpo_variable_runs_yahpo_tasks_from_the_spec(tmp_path: Path) -> None:
    with_ctx = _spec("yahpo/lcbench/3945", RunContext(yahpo_data=str(DATA)))
    without = _spec("yahpo/lcbench/3945", seed=1)
    (ok, _), (failed, error) = _run_in_bare_worker(tmp_path, [with_ctx, without])
    assert ok == "ok"
    assert failed == "crashed" and "NXMBENCH_YAHPO_DATA" in (error or "")  # nothing leaked in


def test_a_worker_without_the_task_module_variable_runs_user_tasks_from_the_spec(tmp_path: Path) -> None:
    without = _spec("revised/a", seed=1)
    missing = _spec("revised/a", RunContext(task_modules=("nxm_no_such_module",)), seed=2)
    with_ctx = _spec("revised/a", RunContext(task_modules=("revision_plugin",)))
    # In this order: a process keeps the task modules it once loaded (the next spec of a study
    # carries the same), so the runs without them come first.
    (failed, error), (broken, why), (ok, _) = _run_in_bare_worker(tmp_path, [without, missing, with_ctx])
    assert failed == "crashed" and "unknown task 'revised/a'" in (error or "")
    assert broken == "crashed"
    assert "task module 'nxm_no_such_module' (from the run's task_modules)" in (why or "")
    assert ok == "ok"  # and the module that failed did not spoil the worker for the next runs


@pytest.fixture
def bare_dask_worker(tmp_path: Path) -> Iterator[str]:
    """A dask scheduler and one worker started on their own, without our environment variables:
    a remote cluster. Yields the scheduler file."""
    pytest.importorskip("dask.distributed")
    bindir = Path(sys.executable).parent
    dask = [str(bindir / "dask")] if (bindir / "dask").exists() else [sys.executable, "-m", "dask"]
    sched_file = tmp_path / "scheduler.json"
    env = _bare_env()
    procs = [
        subprocess.Popen(
            [
                *dask,
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--dashboard-address",
                ":0",
                "--scheduler-file",
                str(sched_file),
            ],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    ]
    try:
        deadline = time.monotonic() + 60
        while not sched_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        procs.append(
            subprocess.Popen(
                [
                    *dask,
                    "worker",
                    "--scheduler-file",
                    str(sched_file),
                    "--nworkers",
                    "1",
                    "--nthreads",
                    "1",
                    "--no-dashboard",
                ],
                env=env,
                cwd=tmp_path,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        yield str(sched_file)
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.mark.slow
def test_a_remote_dask_worker_gets_everything_from_the_specs(bare_dask_worker: str, tmp_path: Path) -> None:
    from distributed import Client

    from bench.supervisor import run_dask

    has_yahpo = (DATA / "lcbench").is_dir()
    ctx = RunContext(yahpo_data=str(DATA) if has_yahpo else None, task_modules=("revision_plugin",))
    specs = [_spec("revised/a", ctx)]
    if has_yahpo:  # and one without the context: the worker has no folder to go on
        specs += [_spec("yahpo/lcbench/3945", ctx), _spec("yahpo/lcbench/3945", seed=1)]
    outcomes: dict[str, str] = {}
    with Client(scheduler_file=bare_dask_worker, timeout=60) as client:
        client.wait_for_workers(1, timeout=60)
        run_dask(specs, tmp_path / "out", client, lambda o: outcomes.__setitem__(o.run_id, o.status))
    expected = {s.run_id: "ok" if s.seed == 0 else "crashed" for s in specs}
    assert outcomes == expected


# ----------------------------------------------------------------------------- one prefix, old names read


@pytest.fixture
def fresh_notes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(environment, "_noted", set())
    for name in (*environment.LEGACY_NAMES, *environment.LEGACY_NAMES.values()):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.usefixtures("fresh_notes")
@pytest.mark.parametrize(("new", "old"), sorted(environment.LEGACY_NAMES.items()))
def test_an_old_variable_name_is_read_with_one_note(
    new: str, old: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(old, "/old/place")
    assert environment.setting(new) == "/old/place"
    assert environment.setting(new) == "/old/place"
    note = capsys.readouterr().err.splitlines()
    assert len(note) == 1 and old in note[0] and new in note[0] and "deprecated" in note[0]
    monkeypatch.setenv(new, "/new/place")  # the new name wins, silently
    assert environment.setting(new) == "/new/place"
    assert capsys.readouterr().err == ""


@pytest.mark.usefixtures("fresh_notes")
def test_old_names_keep_yahpo_and_the_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from tasks.collections import yahpo
    from tasks.tabular import cache_dir

    monkeypatch.setenv("NXM_YAHPO_DATA", str(tmp_path / "yahpo"))
    monkeypatch.setenv("NXM_CACHE_DIR", str(tmp_path / "cache"))
    assert yahpo.data_dir_from_env() == tmp_path / "yahpo"
    assert RunContext.from_environment().yahpo_data == str(tmp_path / "yahpo")
    assert cache_dir() == tmp_path / "cache"


@pytest.mark.usefixtures("fresh_notes")
def test_pool_workers_get_old_names_under_the_new_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    from bench.supervisor import _plugin_env

    monkeypatch.setenv("NXM_CACHE_DIR", "/old/cache")
    monkeypatch.setenv("NXM_UNRELATED", "x")
    env = _plugin_env()
    assert env["NXMBENCH_CACHE_DIR"] == "/old/cache" and "NXM_UNRELATED" not in env


def test_no_old_names_are_left_in_the_project() -> None:
    old = [f"NXM_{name}" for name in ("YAHPO_DATA", "CACHE_DIR", "HIDE_MODULES", "TEST_TASK_REVISION")]
    # Where the deprecated names are read (and documented, and tested) on purpose.
    allowed = {
        Path(p)
        for p in (
            "tasks/environment.py",
            "tasks/collections/yahpo.py",
            "tasks/tabular.py",
            "bench/run_context.py",
            "docs/environment.md",
            "tests/test_bench_run_context.py",
            "tests/test_tasks_yahpo.py",
        )
    }
    paths = [REPO / "README.md"]
    for folder in ("bench", "tasks", "analysis", "optimizers", "tests", "docs", "notebooks", "conf", ".ci"):
        paths += [p for p in (REPO / folder).rglob("*") if p.is_file() and p.suffix not in {".pyc", ".npz"}]
    found = [
        f"{path.relative_to(REPO)}: {name}"
        for path in paths
        if path.relative_to(REPO) not in allowed
        for name in old
        if name in path.read_text(errors="ignore")
    ]
    assert not found, found
