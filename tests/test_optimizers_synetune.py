"""Syne Tune adapters: space conversion, refusals, rung mapping, pending trials, seeding, quality."""

from __future__ import annotations

import random
import subprocess
import sys
from typing import Any

import numpy as np
import pytest
from ConfigSpace import (
    CategoricalHyperparameter,
    ConfigurationSpace,
    EqualsCondition,
    Float,
    ForbiddenEqualsClause,
    Integer,
)

pytest.importorskip("syne_tune", reason="the Syne Tune adapters need the `synetune` extra")

from bench.registry import make_task
from optimizers.base import Budget, Optimizer, Problem, Trial
from optimizers.random_search import RandomSearch
from optimizers.sampling import validate
from optimizers.synetune import (
    SyneTuneASHA,
    SyneTuneASHABORE,
    SyneTuneASHACQR,
    SyneTuneBOHB,
    SyneTuneBORE,
    SyneTuneBoTorch,
    SyneTuneCQR,
    SyneTuneKDE,
    synetune_space,
)
from tasks.base import Fidelity, Objective, Result, Task


def _sphere_problem(minimize: bool = True) -> Problem:
    space = ConfigurationSpace(seed=0)
    space.add(Float("x0", (-5.0, 5.0)), Float("x1", (-5.0, 5.0)), Integer("n", (1, 20)))
    return Problem(space, (Objective("y", minimize=minimize),), None, Budget(40))


def _sphere(config: dict[str, Any]) -> float:
    return (config["x0"] - 1.0) ** 2 + (config["x1"] + 2.0) ** 2 + ((config["n"] - 7) / 4) ** 2


def _best_bb(opt: Optimizer, n: int, sign: float = 1.0) -> float:
    best = float("inf")
    for _ in range(n):
        trial = opt.ask()
        y = _sphere(trial.config)
        opt.tell(trial, Result((sign * y,)))
        best = min(best, y)
    return best


def _run_mf(opt: Optimizer, task: Task, budget: float) -> tuple[float, list[Trial]]:
    """Ask/tell until ``budget`` full-fidelity equivalents are spent; best full-fidelity value."""
    assert task.fidelity is not None
    used, best = 0.0, float("inf")
    trials: list[Trial] = []
    while used < budget:
        trial = opt.ask()
        fidelity = task.fidelity.high if trial.fidelity is None else trial.fidelity
        result = task.evaluate(trial.config, fidelity, seed=len(trials))
        opt.tell(trial, result)
        used += task.fidelity.fraction(fidelity)
        trials.append(trial)
        if fidelity == task.fidelity.high:
            best = min(best, result.values[0])
    return best, trials


# ----------------------------------------------------------------------------- spaces


def test_space_conversion_and_refusals() -> None:
    space = ConfigurationSpace(seed=0)
    space.add(
        Float("lr", (1e-4, 1.0), log=True),
        Integer("units", (8, 512), log=True),
        CategoricalHyperparameter("act", ["relu", "tanh", "gelu"]),
    )
    converted = synetune_space(space)
    assert repr(converted["lr"]) == "loguniform(0.0001, 1.0)"
    assert repr(converted["units"]) == "lograndint(8, 512)"
    assert converted["act"].categories == [0, 1, 2]  # the index; decoded back to the category
    assert SyneTuneKDE.check_space(space) is None

    conditional = ConfigurationSpace(seed=0)
    conditional.add(CategoricalHyperparameter("k", ["a", "b"]), Float("x", (0.0, 1.0)))
    conditional.add(EqualsCondition(conditional["x"], conditional["k"], "b"))
    assert "conditional parameters (x)" in (SyneTuneBORE.check_space(conditional) or "")

    forbidden = ConfigurationSpace(seed=0)
    forbidden.add(CategoricalHyperparameter("k", ["a", "b", "c"]), Float("x", (0.0, 1.0)))
    forbidden.add(ForbiddenEqualsClause(forbidden["k"], "b"))
    assert SyneTuneKDE.check_space(forbidden) is None  # resampled
    assert "forbidden clauses" in (SyneTuneBoTorch.check_space(forbidden) or "")
    assert "only constants" in (SyneTuneKDE.check_space(ConfigurationSpace({"c": "fixed"})) or "")


def test_forbidden_configurations_are_never_proposed() -> None:
    space = ConfigurationSpace(seed=0)
    space.add(CategoricalHyperparameter("k", ["a", "b", "c"]), Float("x", (0.0, 1.0)))
    space.add(ForbiddenEqualsClause(space["k"], "b"))
    opt = SyneTuneKDE(Problem(space, (Objective("y"),), None, Budget(30)), seed=0)
    for _ in range(30):
        trial = opt.ask()
        validate(space, trial.config)
        assert trial.config["k"] != "b"
        # "b" would be best: the model keeps proposing near it, and must be refused each time.
        opt.tell(trial, Result((abs(trial.config["x"] - 0.5),)))


def test_params_are_checked_at_planning_time() -> None:
    assert "did you mean 'reduction_factor'" in (SyneTuneASHA.check_params({"reduction_factr": 3}) or "")
    assert SyneTuneBOHB.check_params({"top_n_percent": 20, "brackets": 2}) is None
    assert "random_seed" in (SyneTuneKDE.check_params({"random_seed": 3}) or "")
    assert SyneTuneKDE.check_params({"top_n_percent": 20}) is None
    problem = Problem(
        ConfigurationSpace({"x": (0.0, 1.0)}), (Objective("y"),), Fidelity("e", 1, 9), Budget(5)
    )
    with pytest.raises(ValueError, match="eta"):
        SyneTuneASHA(problem, seed=0, reduction_factor=1)


def test_cli_refuses_unsupported_tasks(tmp_path: Any) -> None:
    argv = ["optimizer=synetune_kde", "task=bbob-biobj/f01/d02/i01", "n_trials=3", f"output_dir={tmp_path}"]
    proc = subprocess.run([sys.executable, "-m", "bench", *argv], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert "objectives" in proc.stderr
    no_axis = Problem(ConfigurationSpace({"x": (0.0, 1.0)}), (Objective("y"),), None, Budget(5))
    assert "no fidelity axis" in (SyneTuneASHA.incompatibility(no_axis) or "")
    one_value = Problem(no_axis.space, no_axis.objectives, Fidelity("e", 3, 3), Budget(5))
    assert "single value" in (SyneTuneBOHB.incompatibility(one_value) or "")


def test_cqr_names_its_missing_dependency() -> None:
    reason = SyneTuneCQR.missing_requirement()
    try:
        import huggingface_hub  # noqa: F401
    except ImportError:
        assert reason is not None and "huggingface_hub" in reason
    else:
        assert reason is None


# ----------------------------------------------------------------------------- seeding


def test_seeded_and_independent_of_global_rng() -> None:
    def trace(seed: int, global_seed: int) -> list[Any]:
        np.random.seed(global_seed)
        random.seed(global_seed)
        opt = SyneTuneKDE(_sphere_problem(), seed=seed)
        out = []
        for _ in range(15):
            trial = opt.ask()
            opt.tell(trial, Result((_sphere(trial.config),)))
            out.append(trial.config)
        return out

    assert trace(0, 1) == trace(0, 2)
    assert trace(0, 1) != trace(1, 1)
    np.random.seed(5)
    expected = np.random.RandomState(5).rand(3)
    trace(0, 5)  # constructing and running reseeds nothing global ...
    np.random.seed(5)
    opt = SyneTuneKDE(_sphere_problem(), seed=0)
    opt.tell(opt.ask(), Result((1.0,)))
    assert np.array_equal(np.random.rand(3), expected)  # ... the caller's stream is untouched


# ----------------------------------------------------------------------------- quality


def test_kde_beats_random_search_and_handles_maximization() -> None:
    kde = _best_bb(SyneTuneKDE(_sphere_problem(), seed=0), 40)
    rs = _best_bb(RandomSearch(_sphere_problem(), seed=0), 40)
    assert kde < rs
    # Maximizing -f is the same problem: it must not search for the worst point.
    kde_max = _best_bb(SyneTuneKDE(_sphere_problem(minimize=False), seed=0), 40, sign=-1.0)
    assert kde_max < rs


@pytest.mark.slow
def test_bore_beats_random_search() -> None:
    bore = _best_bb(SyneTuneBORE(_sphere_problem(), seed=0, feval_acq=100), 25)
    assert bore < _best_bb(RandomSearch(_sphere_problem(), seed=0), 25)


@pytest.mark.slow
def test_botorch_beats_random_search() -> None:
    pytest.importorskip("botorch", reason="synetune_botorch needs the `botorch` extra")
    opt = SyneTuneBoTorch(_sphere_problem(), seed=0, num_restarts=2, num_raw_samples=64)
    assert _best_bb(opt, 12) < _best_bb(RandomSearch(_sphere_problem(), seed=0), 12)


@pytest.mark.slow
def test_cqr_beats_random_search() -> None:
    pytest.importorskip("huggingface_hub", reason="Syne Tune 0.16's CQR path imports huggingface_hub")
    opt = SyneTuneCQR(_sphere_problem(), seed=0, update_frequency=3)
    assert _best_bb(opt, 20) < _best_bb(RandomSearch(_sphere_problem(), seed=0), 20)


# ----------------------------------------------------------------------------- multi-fidelity


def test_asha_rungs_promotions_and_stops() -> None:
    space = ConfigurationSpace({"x": (0.0, 1.0)}, seed=0)
    problem = Problem(space, (Objective("y"),), Fidelity("epochs", 1, 9), Budget(20))
    opt = SyneTuneASHA(problem, seed=0)
    assert opt.rungs == (1.0, 3.0, 9.0)
    first = opt.ask()
    assert first.fidelity == 1.0 and first.meta["rung"] == 0
    opt.tell(first, Result((0.5,)))
    # The first result of a rung is always in its top third: the trial continues at once.
    up = opt.ask()
    assert (up.config, up.fidelity, up.meta["synetune_trial"]) == (
        first.config,
        3.0,
        first.meta["synetune_trial"],
    )
    opt.tell(up, Result((0.4,)))
    top = opt.ask()
    assert top.fidelity == 9.0 and top.config == first.config
    opt.tell(top, Result((0.3,)))
    second = opt.ask()  # the top rung ends the trial: a new configuration at the lowest rung
    assert second.fidelity == 1.0 and second.meta["synetune_trial"] == first.meta["synetune_trial"] + 1
    opt.tell(second, Result((0.9,)))  # worse than the rung's best third: stopped
    third = opt.ask()
    assert third.fidelity == 1.0 and third.meta["synetune_trial"] == second.meta["synetune_trial"] + 1
    with pytest.raises(ValueError, match="was not asked"):
        opt.tell(second, Result((0.1,)))


def test_discrete_fidelities_snap_and_pending_asks_work() -> None:
    space = ConfigurationSpace({"x": (0.0, 1.0)}, seed=0)
    axis = Fidelity("epochs", 1, 16, values=(1.0, 2.0, 4.0, 8.0, 16.0))
    opt = SyneTuneBOHB(Problem(space, (Objective("y"),), axis, Budget(20)), seed=0)
    assert opt.rungs == (2.0, 4.0, 16.0)
    seen: set[float | None] = set()
    pending = [opt.ask() for _ in range(4)]  # four workers, nothing told yet
    assert len({t.meta["synetune_trial"] for t in pending}) == 4
    for _ in range(30):
        done = pending.pop(0)
        assert done.fidelity in (axis.values or ())
        seen.add(done.fidelity)
        opt.tell(done, Result((abs(done.config["x"] - 0.3),)))
        pending.append(opt.ask())
    assert seen == set(opt.rungs)


@pytest.mark.parametrize(
    ("cls", "budget", "seed"),
    [
        (SyneTuneASHA, 60.0, 0),
        pytest.param(SyneTuneBOHB, 20.0, 0, marks=pytest.mark.slow),
        pytest.param(SyneTuneASHABORE, 20.0, 0, marks=pytest.mark.slow),
        pytest.param(SyneTuneASHACQR, 10.0, 0, marks=pytest.mark.slow),
    ],
)
def test_mf_beats_random_search_at_equal_fidelity_budget(
    cls: type[Optimizer], budget: float, seed: int
) -> None:
    task = make_task("synthetic/mfh3_good")
    problem = Problem(task.space, task.objectives, task.fidelity, Budget(budget))
    best, trials = _run_mf(cls(problem, seed=seed), task, budget)
    rs_best, _ = _run_mf(RandomSearch(problem, seed=seed), task, budget)
    assert best < rs_best
    rungs_used = {t.fidelity for t in trials}
    assert len(rungs_used) == len(cls(problem, seed=seed).rungs) == 5  # type: ignore[attr-defined]
    # Promotions: some configuration was evaluated at several fidelities.
    by_trial: dict[int, set[float | None]] = {}
    for t in trials:
        by_trial.setdefault(t.meta["synetune_trial"], set()).add(t.fidelity)
    assert max(len(f) for f in by_trial.values()) == 5


def test_cli_runs_with_four_simulated_workers(tmp_path: Any) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "optimizer=synetune_asha",
            "task=synthetic/mfh3_good",
            "n_trials=5",
            "n_workers=4",
            f"output_dir={tmp_path}",
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    import pandas as pd

    files = list(tmp_path.rglob("*.parquet"))
    assert files, "no run file written"
    frame = pd.concat(pd.read_parquet(f) for f in files)
    assert len(frame) > 5 and frame["fidelity"].nunique() > 1
