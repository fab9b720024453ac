"""Per-trial and per-run time limits: hung or slow runs end with status ``timeout``, the sweep goes on."""

from __future__ import annotations

import dataclasses
import json
import signal
from pathlib import Path
from typing import Any

import pytest

from bench import results
from bench.config import OptimizerChoice, StudyConfig
from bench.loop import run_one
from bench.parallel import run_all
from bench.plan import make_plan
from bench.spec import RunSpec
from optimizers.base import Budget

RANDOM = OptimizerChoice("random_search", "optimizers.random_search.RandomSearch")


def _spec(
    task: str, seed: int = 0, n_trials: float = 10, optimizer: OptimizerChoice = RANDOM, **limits: Any
) -> RunSpec:
    return RunSpec(
        study="limits",
        task=task,
        optimizer=optimizer.id,
        optimizer_target=optimizer.target,
        optimizer_params={},
        seed=seed,
        budget=Budget(n_trials),
        **limits,
    )


def _xs(path: str | None) -> list[float]:
    assert path is not None
    return [json.loads(c)["x"] for c in results.load(path)["config"]]


@pytest.mark.parametrize("task", ["stall/sleep", "stall/spin"])
def test_trial_timeout_interrupts_a_hung_evaluate(plugins, tmp_path: Path, task: str) -> None:
    out = run_one(_spec(task, trial_timeout=0.2), tmp_path)
    assert out.status == "timeout"
    assert out.error is not None and "trial_timeout=0.2 s" in out.error
    assert f"after {out.n_trials} trials" in out.error
    # the trials before the hang are kept; the hung one (x > 0) is not recorded
    xs = _xs(out.path)
    assert len(xs) == out.n_trials < 10 and all(x <= 0 for x in xs)
    meta = results.read_run_meta(Path(str(out.path)))
    assert meta["status"] == "timeout" and meta["n_trials"] == out.n_trials
    assert "faulty_plugin.py" in meta["error"] and "in evaluate" in meta["error"]  # where it hung
    assert set(results.load(str(out.path))["run_status"]) <= {"timeout"}


def test_run_timeout_ends_a_slow_run_and_keeps_its_trials(plugins, tmp_path: Path) -> None:
    out = run_one(_spec("stall/slow", n_trials=10_000, run_timeout=0.3), tmp_path)
    assert out.status == "timeout"
    assert out.error is not None and "run_timeout=0.3 s" in out.error
    assert 1 <= out.n_trials < 0.3 / 0.02 + 1
    assert len(_xs(out.path)) == out.n_trials
    assert out.duration < 2.0


def test_run_timeout_interrupts_a_hung_optimizer(plugins, tmp_path: Path) -> None:
    hangs = OptimizerChoice("hangs_on_ask", "faulty_plugin.HangsOnAsk")
    out = run_one(_spec("faulty/ok", optimizer=hangs, run_timeout=0.3, trial_timeout=5), tmp_path)
    assert out.status == "timeout" and out.n_trials == 2
    assert out.error is not None and "run_timeout=0.3 s" in out.error


def test_previous_alarm_handler_is_restored(plugins, tmp_path: Path) -> None:
    def mine(signum: int, frame: object) -> None:
        raise AssertionError("must not fire")

    previous = signal.signal(signal.SIGALRM, mine)
    try:
        assert run_one(_spec("faulty/ok", trial_timeout=5, run_timeout=5), tmp_path).status == "ok"
        assert signal.getsignal(signal.SIGALRM) is mine
        assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    finally:
        signal.signal(signal.SIGALRM, previous)


def test_threads_check_limits_when_each_evaluate_returns(plugins, tmp_path: Path) -> None:
    """No signals in threads: a too-slow trial is detected when it returns, and dropped."""
    from bench.config import BackendConfig

    specs = [_spec("stall/slow", seed=s, trial_timeout=0.005) for s in (0, 1)]
    specs += [_spec("stall/slow", seed=s, n_trials=10_000, run_timeout=0.2) for s in (2, 3)]
    sweep = run_all(specs, tmp_path, n_jobs=2, backend=BackendConfig("threading"), progress=False)
    by_seed = {o.seed: o for o in sweep.outcomes}
    assert all(o.status == "timeout" for o in sweep.outcomes)
    for s in (0, 1):
        assert by_seed[s].n_trials == 0 and "trial_timeout=0.005 s (took" in str(by_seed[s].error)
    for s in (2, 3):
        assert by_seed[s].n_trials >= 1 and "run_timeout=0.2 s" in str(by_seed[s].error)


def test_limits_enter_the_fingerprint_only_when_set() -> None:
    plain = _spec("faulty/ok")
    assert "trial_timeout" not in plain.to_dict() and "run_timeout" not in plain.to_dict()
    # a spec without limits hashes as before the limits existed: this value was computed
    # with the RunSpec that had no limit fields, so results written then are still resumed
    assert plain.fingerprint == "e7e663b6a8a9256e"
    limited = dataclasses.replace(plain, trial_timeout=1.0)
    assert limited.fingerprint != plain.fingerprint
    assert limited.to_dict()["trial_timeout"] == 1.0


def test_resume_reruns_timeouts_like_crashes(plugins, tmp_path: Path) -> None:
    study = StudyConfig(
        "limits", (RANDOM,), ("faulty/ok", "stall/sleep"), (0, 1), Budget(10), trial_timeout=0.2
    )
    specs = [dataclasses.replace(s, trial_timeout=0.2) for s in make_plan(study).specs]
    first = run_all(specs, tmp_path, n_jobs=1, progress=False)
    status = {o.task: o.status for o in first.outcomes}
    assert status == {"faulty/ok": "ok", "stall/sleep": "timeout"}
    again = run_all(specs, tmp_path, n_jobs=1, progress=False)
    assert again.skipped == 2 and {o.task for o in again.outcomes} == {"stall/sleep"}


STUDY = """
    name: stalls
    optimizers: [random_search]
    tasks: [faulty/ok, stall/sleep, stall/spin, stall/slow]
    seeds: 2
    n_trials: 10
    trial_timeout: 0.5
    run_timeout: 5
"""


def test_cli_sweep_with_hangs_completes_and_exit_status_reports_it(
    run_cli, study_conf, tmp_path: Path
) -> None:
    """loky workers run each run in their main thread, so a hang there is interrupted too."""
    proc = run_cli(
        "study=stalls",
        "n_jobs=2",
        "progress=false",
        extra_conf=study_conf("stalls", STUDY),
        plugins=True,
        timeout=240,
    )
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    assert "FAILED" in proc.stdout and "trial_timeout=0.5 s" in proc.stdout
    runs = results.load_runs(tmp_path / "results" / "stalls").set_index("run_id")
    assert len(runs) == 8
    for run in runs.itertuples():
        expected = "timeout" if run.task in ("stall/sleep", "stall/spin") else "ok"
        assert run.status == expected, (run.Index, run.status, run.error)
        if expected == "timeout":
            assert "trial_timeout=0.5 s" in run.error and run.n_trials < 10
        assert run.meta["spec"]["trial_timeout"] == 0.5 and run.meta["spec"]["run_timeout"] == 5


# --- limits that the run tries to escape ---------------------------------------------------------


def _deadly(task: str, **limits: Any) -> RunSpec:
    return dataclasses.replace(_spec(task, n_trials=5), study="escape", **limits)


@pytest.mark.slow
def test_a_task_swallowing_its_interrupt_still_ends_at_the_limit(plugins, tmp_path: Path) -> None:
    """``while True: try: sleep() except: pass`` catches every TimeLimitExceeded: its worker writes
    the run as timeout after the grace and ends; the sweep goes on (and ``ok`` runs beside it)."""
    from bench.time_limits import HARD_LIMIT_GRACE

    specs = [_deadly("deadly/swallow", trial_timeout=0.5), _deadly("deadly/ok", trial_timeout=0.5)]
    sweep = run_all(specs, tmp_path, n_jobs=2, progress=False)
    status = {o.task: o for o in sweep.outcomes}
    assert status["deadly/ok"].status == "ok"
    swallowed = status["deadly/swallow"]
    assert swallowed.status == "timeout" and "caught TimeLimitExceeded" in str(swallowed.error)
    assert swallowed.duration < 0.5 + 3 * HARD_LIMIT_GRACE
    meta = results.read_run_meta(Path(str(swallowed.path)))
    assert "deadly_plugin.py" in meta["error"]  # where it was stuck


@pytest.mark.slow
@pytest.mark.parametrize("limits", [{"run_timeout": 1.0}, {"trial_timeout": 1.0}])
def test_a_run_stuck_in_c_without_signals_is_ended(plugins, tmp_path: Path, limits: dict[str, Any]) -> None:
    """Stuck in one C call holding the GIL, SIGALRM blocked: no Python handler ever runs.
    ``run_timeout`` is enforced by faulthandler's watchdog in the worker, ``trial_timeout`` by the
    main process watching the run's marker; either way the run is a timeout, the sweep goes on."""
    specs = [_deadly("deadly/chang", **limits), _deadly("deadly/ok", **limits)]
    sweep = run_all(specs, tmp_path, n_jobs=1, progress=False)
    status = {o.task: o for o in sweep.outcomes}
    assert status["deadly/ok"].status == "ok"
    stuck = status["deadly/chang"]
    assert stuck.status == "timeout", stuck.error
    error = results.read_run_meta(Path(str(stuck.path)))["error"]
    assert "did not stop at its time limit" in error
    assert ("main process watchdog" in error) == ("trial_timeout" in limits)


def test_a_task_that_hangs_while_being_built_is_bounded(run_cli, tmp_path: Path) -> None:
    proc = run_cli(
        "optimizer=random_search", "task=hangbuild/forever", "plan_timeout=2", plugins=True, timeout=60
    )
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert proc.returncode == 2 and len(lines) == 1, proc.stderr
    assert "plan_timeout=2 s" in lines[0] and "building task 'hangbuild/forever'" in lines[0]
    assert not (tmp_path / "results").exists()
