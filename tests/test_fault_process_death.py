"""A run that kills its own process is recorded as that run's failure; the sweep goes on.

The tasks of tests/plugins/deadly_plugin.py segfault, abort, get SIGKILL (what the
out-of-memory killer sends), call ``os._exit`` or raise ``SystemExit``/``KeyboardInterrupt`` in
their first evaluation. Each death must end up as a result file with status ``died`` naming the
signal or exit code, the other runs must finish ``ok``, and a re-run must not die on them again
— with one worker, several, on dask, and through ``python -m bench``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import results
from bench.config import BackendConfig, OptimizerChoice, StudyConfig
from bench.parallel import run_all
from bench.plan import make_plan
from optimizers.base import Budget

RANDOM = OptimizerChoice("random_search", "optimizers.random_search.RandomSearch")
#: What each death must be recorded as: a phrase of the run's error.
DEATHS = {
    "deadly/segv": "Segmentation fault",
    "deadly/abort": "Aborted",
    "deadly/sigkill": "signal 9 (SIGKILL",
    "deadly/exit": "exited with status 3",
    "deadly/sysexit": "SystemExit(4)",
    "deadly/kbint": "KeyboardInterrupt()",
}
OK_TASKS = ("deadly/ok", "synthetic/branin")


def _study(tasks: tuple[str, ...] = (*OK_TASKS, *DEATHS), seeds: tuple[int, ...] = (0, 1)) -> StudyConfig:
    return StudyConfig("deaths", (RANDOM,), tasks, seeds, Budget(5))


def _check(out: Path, n_specs: int) -> None:
    runs = results.load_runs(out / "deaths")
    assert len(runs) == n_specs and set(runs["status"]) <= {"ok", "died"}
    for row in runs.itertuples():
        if row.task in OK_TASKS:
            assert row.status == "ok" and row.n_trials == 5, row.error
        else:
            assert row.status == "died" and row.n_trials == 0
            assert DEATHS[row.task] in row.error, row.error
    leftovers = [p.name for p in (out / "deaths" / "runs").iterdir() if p.name.startswith(".")]
    assert not leftovers  # no marker or temp file left behind


@pytest.mark.slow
@pytest.mark.parametrize("n_jobs", [1, 2])
def test_runs_that_kill_their_process_are_recorded_and_the_sweep_completes(
    plugins, tmp_path: Path, n_jobs: int
) -> None:
    specs = make_plan(_study()).specs
    sweep = run_all(specs, tmp_path, n_jobs=n_jobs, progress=False)
    assert len(sweep.outcomes) == len(specs)  # every run has an outcome: the sweep completed
    _check(tmp_path, len(specs))
    # a re-run retries the died runs (as it retries crashes) and survives them again
    again = run_all(specs, tmp_path, n_jobs=n_jobs, progress=False)
    assert again.skipped == 2 * len(OK_TASKS) and len(again.outcomes) == len(specs) - again.skipped
    _check(tmp_path, len(specs))


@pytest.mark.slow
def test_dask_workers_that_die_are_recorded_per_run(plugins, tmp_path: Path) -> None:
    pytest.importorskip("dask.distributed")
    specs = make_plan(_study(seeds=(0,))).specs
    sweep = run_all(specs, tmp_path, n_jobs=2, backend=BackendConfig("dask", n_workers=2), progress=False)
    runs = results.load_runs(tmp_path / "deaths")
    assert len(sweep.outcomes) == len(specs) == len(runs)
    for row in runs.itertuples():
        if row.task in OK_TASKS:
            assert row.status == "ok" and row.n_trials == 5
        else:  # dask reports the death itself (KilledWorker), or the run's own SystemExit/KeyboardInterrupt
            assert row.status == "died", row.error
            assert "dask worker process died" in row.error or DEATHS[row.task] in row.error


@pytest.mark.slow
def test_cli_sweep_with_deaths_exits_1_and_summarizes(run_cli, study_conf, tmp_path: Path) -> None:
    conf = study_conf(
        "deaths",
        """
        name: deaths
        optimizers: [random_search]
        tasks: [deadly/ok, deadly/segv, deadly/sigkill, synthetic/branin]
        seeds: 2
        n_trials: 5
    """,
    )
    proc = run_cli("study=deaths", "n_jobs=2", "progress=false", extra_conf=conf, plugins=True)
    assert proc.returncode == 1, proc.stderr
    assert "runs: 8 planned, 8 ran this time (4 failed)" in proc.stdout
    assert (
        "FAILED deadly__segv--random_search--s0: the run's process died: Fatal Python error: "
        "Segmentation fault" in proc.stdout
    )
    assert "Traceback" not in proc.stdout
    runs = results.load_runs(tmp_path / "results" / "deaths")
    assert sorted(runs["status"]) == ["died"] * 4 + ["ok"] * 4


def test_segfault_record_keeps_the_python_traceback_of_the_crash(plugins, tmp_path: Path) -> None:
    specs = make_plan(_study(("deadly/segv",), (0,))).specs
    [outcome] = run_all(specs, tmp_path, n_jobs=1, progress=False).outcomes
    meta = results.read_run_meta(Path(str(outcome.path)))
    assert meta["status"] == "died"
    assert "deadly_plugin.py" in meta["error"] and "in evaluate" in meta["error"]  # where it crashed
    assert meta["spec"]["task"] == "deadly/segv" and meta["n_trials"] == 0
