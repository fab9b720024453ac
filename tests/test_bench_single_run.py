"""Single runs are single: the plan header's counts, one run in this process, and its summary."""

from __future__ import annotations

import json
import os
import re
import signal
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest

import bench.parallel
from analysis.leaderboard.sweep_summary import summarize
from bench.config import BackendConfig, OptimizerChoice, StudyConfig
from bench.loop import RunOutcome, run_path
from bench.plan import Plan, Refusal, make_plan
from bench.results import TrialRecorder, load, read_run_meta, write_run
from bench.spec import RunSpec
from bench.summary import pareto_front, plan_header, run_lines
from optimizers.base import Budget
from tasks.base import Objective

RANDOM = "optimizers.random_search.RandomSearch"


def _spec(
    task: str,
    optimizer: str = "random_search",
    target: str = RANDOM,
    seed: int = 0,
    n_trials: float = 20,
    **kw: Any,
) -> RunSpec:
    return RunSpec(
        study="one",
        task=task,
        optimizer=optimizer,
        optimizer_target=target,
        optimizer_params={},
        seed=seed,
        budget=Budget(n_trials),
        **kw,
    )


def _no_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make any use of the worker pool fail the test."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the worker pool was used")

    monkeypatch.setattr(bench.parallel, "run_local", refuse)


def _single(tmp_path: Path, spec: RunSpec) -> tuple[str, Path]:
    """Run ``spec`` alone in this process; its summary and its run file."""
    sweep = bench.parallel.run_all([spec], tmp_path, progress=False, in_process=True)
    return summarize(tmp_path / spec.study, sweep, Plan([spec], tasks=[spec.task])), run_path(tmp_path, spec)


def _config_lines(text: str, trial: int) -> dict[str, str]:
    block = text.split(f"configuration of trial {trial}:\n", 1)[1].splitlines()
    return dict(ln.strip().split(" = ", 1) for ln in block if ln.startswith("  ") and " = " in ln)


# ---------------------------------------------------------------- plan header


def test_header_of_one_run_is_singular() -> None:
    plan = Plan([_spec("synthetic/branin", n_trials=1)], tasks=["synthetic/branin"])
    assert plan_header("x", plan, n_optimizers=1, n_seeds=1, budget=Budget(1)) == (
        "study 'x': 1 optimizer × 1 task × 1 seed = 1 pair, 1 run, budget 1 full-fidelity trial"
    )


def test_header_counts_refused_pairs_once_per_seed() -> None:
    study = StudyConfig(
        "h",
        (
            OptimizerChoice("random_search", RANDOM),
            OptimizerChoice("hyperband", "optimizers.hyperband.Hyperband"),
        ),
        ("synthetic/branin", "synthetic/mfh3"),
        (0, 1, 2),
        Budget(50, time=600),
        incompatible="skip",
    )
    plan = make_plan(study)
    assert len(plan.refused) == 1 and len(plan.specs) == 9  # hyperband on branin (no fidelity)
    assert plan_header("h", plan, n_optimizers=2, n_seeds=3, budget=study.budget) == (
        "study 'h': 2 optimizers × 2 tasks × 3 seeds = 12 pairs, 3 refused, 9 runs, "
        "budget 50 full-fidelity trials, 600 s simulated"
    )


def test_header_does_not_print_arithmetic_that_does_not_add_up() -> None:
    spec = _spec("synthetic/branin")
    plan = Plan(
        [spec, spec, _spec("synthetic/branin", seed=1)],
        [Refusal("synthetic/branin", "hyperband", "no fidelity")],
        tasks=["synthetic/branin"],
    )
    header = plan_header("d", plan, n_optimizers=2, n_seeds=2, budget=Budget(2.5))
    assert header == (
        "study 'd': 2 optimizers × 1 task × 2 seeds = 4 pairs, 2 refused, 3 runs "
        "(not 2 as pairs − refused would give; 2 distinct runs), "
        "budget 2.5 full-fidelity trials"
    )


# ---------------------------------------------------------------- one run in this process


def test_in_process_run_matches_the_pool_bit_for_bit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = _spec("synthetic/hartmann3", n_trials=30)
    pooled = bench.parallel.run_all([spec], tmp_path / "pool", n_jobs=1, progress=False)
    assert [o.status for o in pooled.outcomes] == ["ok"]

    _no_pool(monkeypatch)
    pids: list[int] = []
    real = bench.parallel.run_one

    def spy(*args: Any, **kwargs: Any) -> RunOutcome:
        pids.append(os.getpid())
        return real(*args, **kwargs)

    monkeypatch.setattr(bench.parallel, "run_one", spy)
    here = bench.parallel.run_all([spec], tmp_path / "here", n_jobs=1, progress=False, in_process=True)
    assert [o.status for o in here.outcomes] == ["ok"] and pids == [os.getpid()]

    timing = {"wall_time", "eval_time"}  # wall clock: the only columns that may differ
    a, b = (pq.read_table(run_path(tmp_path / d, spec)) for d in ("pool", "here"))
    columns = [c for c in a.column_names if c not in timing]
    assert a.num_rows == 30
    assert a.select(columns).to_pandas().equals(b.select(columns).to_pandas())  # NaN fidelity == NaN
    assert (
        read_run_meta(run_path(tmp_path / "pool", spec))["fingerprint"]
        == read_run_meta(run_path(tmp_path / "here", spec))["fingerprint"]
    )
    assert not list(run_path(tmp_path / "here", spec).parent.glob(".*"))  # no marker, no temp file


def test_in_process_only_for_exactly_one_pending_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pooled: list[int] = []

    def fake_pool(specs: list[RunSpec], output_dir: Path, n_workers: int, on_outcome: Any) -> None:
        pooled.append(len(specs))
        for s in specs:
            on_outcome(bench.parallel.run_one(s, output_dir))

    monkeypatch.setattr(bench.parallel, "run_local", fake_pool)
    specs = [_spec("synthetic/branin", seed=s, n_trials=3) for s in (0, 1)]
    first = bench.parallel.run_all(specs, tmp_path, n_jobs=1, progress=False, in_process=True)
    assert pooled == [2] and len(first.outcomes) == 2  # two pending: the pool, as before

    run_path(tmp_path, specs[1]).unlink()
    again = bench.parallel.run_all(specs, tmp_path, n_jobs=1, progress=False, in_process=True)
    assert pooled == [2] and again.skipped == 1 and [o.seed for o in again.outcomes] == [1]


def test_in_process_is_not_used_for_the_threading_backend(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object) -> None:
        raise AssertionError("ran in this process")

    monkeypatch.setattr(bench.parallel, "run_in_this_process", refuse)
    out = bench.parallel.run_all(
        [_spec("synthetic/branin", n_trials=3)],
        tmp_path,
        n_jobs=1,
        backend=BackendConfig(name="threading"),
        progress=False,
        in_process=True,
    )
    assert [o.status for o in out.outcomes] == ["ok"]


def test_in_process_trial_timeout_is_honoured(
    tmp_path: Path, plugins: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    _no_pool(monkeypatch)
    spec = _spec("stall/sleep", trial_timeout=0.2)  # sleeps an hour for x > 0
    out = bench.parallel.run_all([spec], tmp_path, progress=False, in_process=True)
    assert [o.status for o in out.outcomes] == ["timeout"]
    assert "trial_timeout=0.2 s" in str(read_run_meta(run_path(tmp_path, spec))["error"])
    assert signal.getsignal(signal.SIGALRM) in (signal.SIG_DFL, None)  # the timer's handler is gone


def test_in_process_sysexit_is_the_run_dying_not_the_caller(
    tmp_path: Path, plugins: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    _no_pool(monkeypatch)
    spec = _spec("deadly/sysexit")
    out = bench.parallel.run_all([spec], tmp_path, progress=False, in_process=True)
    assert [o.status for o in out.outcomes] == ["died"]
    assert "SystemExit(4)" in str(read_run_meta(run_path(tmp_path, spec))["error"])


def test_ctrl_c_in_process_propagates_and_leaves_no_file(
    tmp_path: Path, plugins: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    _no_pool(monkeypatch)
    spec = _spec("stall/sleep")
    timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT))  # the user's Ctrl-C
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            bench.parallel.run_all([spec], tmp_path, progress=False, in_process=True)
    finally:
        timer.cancel()
    runs = run_path(tmp_path, spec).parent
    assert list(runs.iterdir()) == []


def test_ctrl_c_while_writing_in_process_leaves_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _no_pool(monkeypatch)
    real = pq.write_table

    def interrupted(table: Any, where: Any, **kwargs: Any) -> None:
        real(table, where, **kwargs)
        raise KeyboardInterrupt  # between the temp file and its rename

    monkeypatch.setattr(pq, "write_table", interrupted)
    spec = _spec("synthetic/branin", n_trials=5)
    with pytest.raises(KeyboardInterrupt):
        bench.parallel.run_all([spec], tmp_path, progress=False, in_process=True)
    assert list(run_path(tmp_path, spec).parent.iterdir()) == []


# ---------------------------------------------------------------- the single-run summary


def test_single_objective_summary_shows_the_best_trial(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _no_pool(monkeypatch)
    text, path = _single(tmp_path, _spec("synthetic/branin", n_trials=25))
    df = load(path)
    best = int(df["value"].idxmin())
    assert "leaderboard" not in text
    assert text.startswith("run synthetic/branin × random_search, seed 0: ok, 25 trials in ")
    m = re.search(r"^best (\w+) = (\S+) \(minimized\), at trial (\d+) of 25$", text, re.M)
    assert m is not None, text
    assert float(m[2]) == df["value"].min() and int(m[3]) == int(df["trial"][best])
    config = json.loads(df["config"][best])
    assert _config_lines(text, int(m[3])) == {k: repr(v) for k, v in config.items()}
    assert f"trials: {path}" in text and f"analysis.load({str(path)!r})" in text


def test_multi_fidelity_summary_counts_only_full_fidelity(tmp_path: Path) -> None:
    spec = _spec("synthetic/mfh3", "hyperband", "optimizers.hyperband.Hyperband", n_trials=20)
    text, path = _single(tmp_path, spec)
    df = load(path)
    high = read_run_meta(path)["fidelity"]["high"]
    full = df[df["fidelity"] == high]
    assert 0 < len(full) < len(df)
    m = re.search(
        r"^best \w+ = (\S+) \(minimized\), at trial (\d+) of (\d+), among its (\d+) trials at "
        r"full fidelity \(\w+ = (\S+)\)$",
        text,
        re.M,
    )
    assert m is not None, text
    assert float(m[1]) == full["value"].min() and int(m[3]) == len(df) and int(m[4]) == len(full)
    row = full.loc[full["value"].idxmin()]
    assert int(m[2]) == row["trial"] and float(m[5]) == high
    assert _config_lines(text, int(m[2])) == {k: repr(v) for k, v in json.loads(row["config"]).items()}


def _mf_run(path: Path, fidelities: list[float], values: list[float]) -> Path:
    """A hand-made run file of a task with fidelity ``epochs`` in [1, 10]."""
    rec = TrialRecorder()
    for i, (z, v) in enumerate(zip(fidelities, values, strict=True)):
        rec.add({"x": float(i)}, z, (v,), 0.0, float(i), 0.0, 0.0, 0.0)
    table = rec.table(
        study="s",
        run_id="r",
        task="t/mf",
        family="t",
        task_type="mf",
        task_kind="synthetic",
        optimizer="o",
        seed=0,
        optimum=None,
        objectives=[Objective("loss")],
        run_status="ok",
    )
    meta = {
        "status": "ok",
        "n_trials": len(rec),
        "duration": 0.5,
        "objectives": [{"name": "loss", "minimize": True}],
        "fidelity": {"name": "epochs", "low": 1.0, "high": 10.0},
        "spec": {"task": "t/mf", "optimizer": "o", "seed": 0},
    }
    return write_run(path, table, meta)


def test_a_low_fidelity_trial_is_never_the_best(tmp_path: Path) -> None:
    path = _mf_run(tmp_path / "r.parquet", [1.0, 10.0, 3.0, 10.0], [0.1, 0.5, 0.05, 0.4])
    text = "\n".join(run_lines(path))
    assert (
        "best loss = 0.4 (minimized), at trial 3 of 4, among its 2 trials at full fidelity (epochs = 10)"
    ) in text  # not trial 2's 0.05, at 3 epochs
    assert _config_lines(text, 3) == {"x": "3.0"}


def test_without_a_full_fidelity_trial_the_highest_reached_counts_and_it_says_so(tmp_path: Path) -> None:
    path = _mf_run(tmp_path / "r.parquet", [1.0, 3.0, 3.0], [0.1, 0.5, 0.4])
    text = "\n".join(run_lines(path))
    assert (
        "best loss = 0.4 (minimized), at trial 2 of 3, among its 2 trials at its highest fidelity "
        "(epochs = 3; no trial reached full fidelity 10)"
    ) in text


def test_multi_objective_summary_shows_the_front(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _no_pool(monkeypatch)
    text, path = _single(tmp_path, _spec("synthetic/zdt1", n_trials=40))
    df = load(path)
    vals = np.array(df["values"].tolist())
    # brute force: a trial is Pareto-optimal when no other is as good everywhere and better somewhere
    dominated = [((vals <= v).all(axis=1) & (vals < v).any(axis=1)).any() for v in vals]
    n_front = len(vals) - sum(dominated)
    assert "leaderboard" not in text
    assert f"Pareto-optimal trials: {n_front} of 40" in text
    for j, name in enumerate(o["name"] for o in read_run_meta(path)["objectives"]):
        m = re.search(rf"^  best {name} = (\S+) \(minimized\), at trial (\d+)$", text, re.M)
        assert m is not None, text
        assert float(m[1]) == vals[:, j].min() and int(m[2]) == int(np.argmin(vals[:, j]))
    m = re.search(r"^balanced trial (\d+) \(", text, re.M)
    assert m is not None, text
    chosen = int(m[1])
    assert not dominated[chosen]
    assert _config_lines(text, chosen) == {k: repr(v) for k, v in json.loads(df["config"][chosen]).items()}


def test_crashed_single_run_shows_its_error_and_file(
    tmp_path: Path, plugins: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    _no_pool(monkeypatch)
    spec = _spec("faulty/raise")  # raises for x < -0.6
    sweep = bench.parallel.run_all([spec], tmp_path, progress=False, in_process=True)
    assert [o.status for o in sweep.outcomes] == ["crashed"]
    path = run_path(tmp_path, spec)
    text = summarize(tmp_path / spec.study, sweep, Plan([spec], tasks=[spec.task]))
    n = read_run_meta(path)["n_trials"]
    assert text.startswith(f"run faulty/raise × random_search, seed 0: crashed after {n} trials in ")
    assert "\nerror: RuntimeError: simulated task failure\n" in text
    assert f"trials: {path}" in text and "leaderboard" not in text


def test_resumed_single_run_says_so(tmp_path: Path) -> None:
    spec = _spec("synthetic/branin", n_trials=3)
    _single(tmp_path, spec)
    text, _ = _single(tmp_path, spec)
    assert text.splitlines()[0].endswith(
        "ok, 3 trials in "
        + text.split(" trials in ")[1].split(" s")[0]
        + " s (done before: resumed, not run again)"
    )


def test_pareto_front_keeps_one_of_identical_points() -> None:
    costs = np.array([[1.0, 4.0], [2.0, 2.0], [3.0, 3.0], [1.0, 4.0], [4.0, 1.0], [2.0, 2.0]])
    assert pareto_front(costs).tolist() == [0, 1, 4]
