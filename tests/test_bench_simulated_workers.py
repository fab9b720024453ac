"""Simulated asynchronous workers: clock semantics, budgets, pending trials, planning and the CLI."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import pyarrow.parquet as pq
import pytest
from ConfigSpace import ConfigurationSpace, Integer

from bench.__main__ import main
from bench.config import ConfigError, OptimizerChoice, StudyConfig
from bench.loop import RunError, _loop, run_one
from bench.plan import make_plan
from bench.registry import make_task
from bench.results import TrialRecorder
from bench.simulated_workers import simulated_cost_reason, simulated_loop
from bench.spec import RunSpec
from optimizers.asha import ASHA
from optimizers.base import Budget, Optimizer, Problem, Trial, WaitForPending
from optimizers.hyperband import Hyperband, SuccessiveHalving
from optimizers.optuna import OptunaTPE
from tasks.base import Fidelity, Objective, Result, Task, TaskMeta


class CostTask(Task):
    """Config ``{"c": k}`` costs ``k`` simulated seconds and scores ``k``."""

    def __init__(self) -> None:
        self.id = "test/cost"
        self.space = ConfigurationSpace(seed=0)
        self.space.add(Integer("c", (1, 9)))
        self.objectives = (Objective("y"),)
        self.fidelity = None
        self.meta = TaskMeta(family="test", type="bb", kind="synthetic", dims=1)

    def evaluate(self, config: Mapping[str, Any], fidelity: float | None = None, seed: int = 0) -> Result:
        return Result((float(config["c"]),), cost=float(config["c"]))


class Scripted(Optimizer):
    """Proposes ``c`` = 3, 1, 1, 2, 2, ... and logs every tell."""

    supports_pending: ClassVar[bool] = True
    script: tuple[int, ...] = (3, 1, 1, 2, 2, 2, 2, 2)

    def __init__(self, problem: Problem, seed: int, **params: Any) -> None:
        super().__init__(problem, seed)
        self.asked = 0
        self.told: list[int] = []

    def ask(self) -> Trial:
        self.asked += 1
        return Trial({"c": self.script[self.asked - 1]}, meta={"n": self.asked - 1})

    def tell(self, trial: Trial, result: Result) -> None:
        self.told.append(trial.meta["n"])


def _problem(task: Task, n: float, time: float | None = None) -> Problem:
    return Problem(task.space, task.objectives, task.fidelity, Budget(n, time))


def _rows(rec: TrialRecorder) -> list[tuple[Any, ...]]:
    """Rows without the two measured wall-clock columns."""
    return [r[:6] for r in rec.rows]


def test_two_workers_tell_in_completion_order() -> None:
    task = CostTask()
    opt = Scripted(_problem(task, 3), seed=0)
    rec = TrialRecorder()
    assert simulated_loop(task, opt, Budget(3), 0, rec, 0.0, n_workers=2) is None
    # Worker 0 runs c=3 over [0, 3]; worker 1 runs c=1 over [0, 1], then c=1 over [1, 2].
    assert opt.told == [1, 2, 0]
    assert [r[0]["c"] for r in rec.rows] == [1, 1, 3]
    assert [r[5] for r in rec.rows] == [1.0, 2.0, 3.0]  # sim_time: completion on the simulated clock
    assert [r[4] for r in rec.rows] == [1.0, 2.0, 3.0]  # budget_used grows in completion order


def test_time_budget_caps_starts_and_running_trials_finish() -> None:
    task = CostTask()
    opt = Scripted(_problem(task, 100, time=2.5), seed=0)
    rec = TrialRecorder()
    simulated_loop(task, opt, Budget(100, time=2.5), 0, rec, 0.0, n_workers=2)
    # Starts at 0 (c=3, c=1), 1 (c=1), 2 (c=2); nothing may start at 3 >= 2.5, the c=2 started at 2 ends at 4.
    assert opt.asked == 4
    assert [(r[0]["c"], r[5]) for r in rec.rows] == [(1, 1.0), (1, 2.0), (3, 3.0), (2, 4.0)]


def test_simultaneous_completions_are_all_told_before_the_next_ask() -> None:
    task = CostTask()

    class Ones(Scripted):
        script = (1, 1, 1, 1)

        def ask(self) -> Trial:
            # Both workers' results at t=1 must be in before the third ask.
            assert len(self.told) == (0 if self.asked < 2 else 2)
            return super().ask()

    rec = TrialRecorder()
    simulated_loop(task, Ones(_problem(task, 4), seed=0), Budget(4), 0, rec, 0.0, n_workers=2)
    assert [r[5] for r in rec.rows] == [1.0, 1.0, 2.0, 2.0]


@pytest.mark.parametrize("cls", [Hyperband, ASHA, OptunaTPE])
def test_one_worker_is_the_sequential_loop(cls: type[Optimizer]) -> None:
    task = make_task("synthetic/mfh3")
    budget = Budget(6)
    seq, sim = TrialRecorder(), TrialRecorder()
    _loop(task, cls(_problem(task, 6), seed=3), budget, 11, seq, 0.0)
    simulated_loop(task, cls(_problem(task, 6), seed=3), budget, 11, sim, 0.0, n_workers=1)
    assert len(seq) > 6 if cls is not OptunaTPE else len(seq) == 6
    assert _rows(sim) == _rows(seq)


def test_n_workers_1_keeps_run_ids_and_fingerprints() -> None:
    base = dict(
        study="s",
        task="synthetic/mfh3",
        optimizer="asha",
        optimizer_target="optimizers.asha.ASHA",
        optimizer_params={},
        seed=0,
        budget=Budget(5),
    )
    one, four = RunSpec(**base), RunSpec(**base, n_workers=4)  # type: ignore[arg-type]
    assert one.run_id == "synthetic__mfh3--asha--s0" and "n_workers" not in one.to_dict()
    assert four.run_id == "synthetic__mfh3--asha--s0--w4" and four.to_dict()["n_workers"] == 4
    assert one.fingerprint != four.fingerprint


def _counting(opt: Optimizer) -> list[int]:
    """Count the ``WaitForPending`` raised by ``opt.ask`` (patched on the instance)."""
    waits = [0]
    ask = opt.ask

    def counted() -> Trial:
        try:
            return ask()
        except WaitForPending:
            waits[0] += 1
            raise

    opt.ask = counted  # type: ignore[method-assign]
    return waits


class EpochTask(Task):
    """Multi-fidelity task whose cost grows linearly with the fidelity (and with ``x``: stragglers)."""

    def __init__(self) -> None:
        self.id = "test/epochs"
        self.space = ConfigurationSpace({"x": (0.0, 1.0)}, seed=0)
        self.objectives = (Objective("y"),)
        self.fidelity = Fidelity("epochs", 1, 27)
        self.meta = TaskMeta(family="test", type="mf", kind="synthetic", dims=1)

    def evaluate(self, config: Mapping[str, Any], fidelity: float | None = None, seed: int = 0) -> Result:
        assert fidelity is not None
        return Result((config["x"] + 1 / fidelity,), cost=fidelity * (0.5 + config["x"]))


def test_hyperband_idles_and_takes_longer_than_asha() -> None:
    task = EpochTask()
    budget = Budget(10)
    makespan, waits, used, busy = {}, {}, {}, {}
    for cls in (Hyperband, ASHA):
        opt = cls(_problem(task, 10), seed=0)
        waits[cls] = _counting(opt)
        rec = TrialRecorder()
        simulated_loop(task, opt, budget, 5, rec, 0.0, n_workers=4)
        makespan[cls] = max(r[5] for r in rec.rows)
        used[cls] = rec.rows[-1][4]
        # Busy time over the makespan: ASHA keeps its 4 workers busy until the budget runs out.
        busy[cls] = sum(r[3] for r in rec.rows) / (4 * makespan[cls])
    assert waits[Hyperband][0] > 0 and waits[ASHA][0] == 0
    assert abs(used[Hyperband] - used[ASHA]) < 1.0  # the same budget was spent ...
    # ... but Hyperband's synchronous rungs took far longer (about 107 vs 50 simulated seconds).
    assert makespan[Hyperband] > 1.5 * makespan[ASHA]
    assert busy[Hyperband] < 0.7 < 0.9 < busy[ASHA]


def test_successive_halving_waits_for_its_rung() -> None:
    sh = SuccessiveHalving(_problem_mf(Fidelity("epochs", 1, 9)), seed=0)
    rung = [sh.ask() for _ in range(9)]
    with pytest.raises(WaitForPending, match="bracket 0, rung 0: 9 of 9 trials pending"):
        sh.ask()
    for t in rung[:-1]:
        sh.tell(t, Result((t.config["x"],)))
    with pytest.raises(WaitForPending, match="1 of 9"):
        sh.ask()
    sh.tell(rung[-1], Result((rung[-1].config["x"],)))
    assert sh.ask().fidelity == 3.0


def _problem_mf(fidelity: Fidelity) -> Problem:
    return Problem(ConfigurationSpace({"x": (0.0, 1.0)}, seed=0), (Objective("y"),), fidelity, Budget(10))


def test_wait_with_nothing_pending_is_a_run_error() -> None:
    task = CostTask()

    class Stuck(Scripted):
        def ask(self) -> Trial:
            raise WaitForPending("never ready")

    with pytest.raises(RunError, match="none is pending: never ready"):
        simulated_loop(
            task, Stuck(_problem(task, 3), seed=0), Budget(3), 0, TrialRecorder(), 0.0, n_workers=2
        )


def test_pending_trials_are_running_in_optuna() -> None:
    task = make_task("sklearn-tab/hgb/iris")
    opt = OptunaTPE(_problem(task, 20), seed=0, n_startup_trials=4)
    running_at_ask: list[int] = []
    ask = opt.ask

    def watched() -> Trial:
        running_at_ask.append(sum(t.state.name == "RUNNING" for t in opt._study.trials))
        return ask()

    opt.ask = watched  # type: ignore[method-assign]
    simulated_loop(task, opt, Budget(20), 0, TrialRecorder(), 0.0, n_workers=4)
    assert running_at_ask[:4] == [0, 1, 2, 3]  # the first four asks fill the four workers
    assert max(running_at_ask) == 3 and min(running_at_ask[4:]) == 3  # then 3 others always pending


def test_runs_are_deterministic(tmp_path: Path) -> None:
    spec = RunSpec(
        study="s",
        task="sklearn-tab/mlp/wine",
        optimizer="asha",
        optimizer_target="optimizers.asha.ASHA",
        optimizer_params={},
        seed=2,
        budget=Budget(30, time=5.0),
        n_workers=3,
    )
    tables = []
    for out in (tmp_path / "a", tmp_path / "b"):
        outcome = run_one(spec, out)
        assert outcome.status == "ok", outcome.error
        tables.append(pq.read_table(outcome.path).drop(["wall_time", "eval_time"]).to_pandas())
    assert tables[0].equals(tables[1])
    sim = tables[0]["sim_time"]
    assert sim.is_monotonic_increasing and (sim - tables[0]["cost"]).min() >= 0
    assert (sim - tables[0]["cost"]).max() < 5.0  # every trial started within the time budget


def test_planner_refuses_what_cannot_run_with_workers() -> None:
    def study(opt: str, target: str, task: str, n_workers: int) -> StudyConfig:
        return StudyConfig(
            "s", (OptimizerChoice(opt, target),), (task,), (0,), Budget(5), n_workers=n_workers
        )

    with pytest.raises(ConfigError, match=r"HyperoptTPE does not support pending trials.*n_workers=4"):
        make_plan(study("hyperopt_tpe", "optimizers.hyperopt.HyperoptTPE", "sklearn-tab/hgb/iris", 4))
    with pytest.raises(ConfigError, match="synthetic/branin reports no simulated cost"):
        make_plan(study("random_search", "optimizers.random_search.RandomSearch", "synthetic/branin", 4))
    # One worker is the sequential loop: any pair goes.
    plan = make_plan(study("hyperopt_tpe", "optimizers.hyperopt.HyperoptTPE", "synthetic/branin", 1))
    assert plan.specs[0].n_workers == 1
    plan = make_plan(study("asha", "optimizers.asha.ASHA", "sklearn-tab/hgb/iris", 4))
    assert plan.specs[0].run_id.endswith("--w4")


def test_real_tasks_are_refused() -> None:
    task = copy.copy(make_task("synthetic/mfh3"))
    task.meta = TaskMeta(family="x", type="mf", kind="real", dims=3)
    assert "measured, not recorded" in (simulated_cost_reason(task) or "")


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Any:
    monkeypatch.chdir(tmp_path)

    def run(*args: str) -> tuple[int, str, str]:
        rc = main(list(args))
        out = capsys.readouterr()
        return rc, out.out, out.err

    return run


@pytest.mark.parametrize("value", ["0", "-2", "two", "1.5"])
def test_bad_n_workers_is_a_one_line_error(cli: Any, value: str) -> None:
    rc, _, err = cli("study=async_workers", f"study.n_workers={value}")
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert rc == 2 and len(lines) == 1 and "Traceback" not in err, err
    assert f"n_workers={value!r}" in lines[0].replace('"', "'") or f"n_workers={value}" in lines[0]
    assert "integer >= 1" in lines[0]


def test_cli_single_run_with_workers(cli: Any, tmp_path: Path) -> None:
    rc, _, err = cli(
        "optimizer=asha",
        "task=sklearn-tab/hgb/iris",
        "+study.n_workers=4",
        "n_trials=10",
        "seed=0",
        "n_jobs=1",
        "progress=false",
    )
    assert rc == 0, err
    (path,) = (tmp_path / "results" / "single").glob("*/runs/*.parquet")
    assert path.name == "sklearn-tab__hgb__iris--asha--s0--w4.parquet"
    df = pq.read_table(path).to_pandas()
    assert (df["sim_time"] - df["cost"]).iloc[:4].abs().max() < 1e-12  # four trials start at t=0
