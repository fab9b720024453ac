"""BoTorch adapters (``botorch_ei``, ``botorch_qnehvi``, ``botorch_parego``): behaviour beyond the contract.

GP BO must beat random search on a smooth bbob function and qNEHVI must reach a larger
hypervolume than random search on a bi-objective one; the same seed must give the same trials
whatever the global torch/numpy state (which BoTorch must leave as it was); pending trials,
crashed evaluations, maximized objectives and finite spaces must be handled; and what a GP on a
fixed cube cannot represent is refused at planning time.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from ConfigSpace import (
    CategoricalHyperparameter,
    ConfigurationSpace,
    Constant,
    EqualsCondition,
    Float,
    ForbiddenEqualsClause,
    Integer,
    OrdinalHyperparameter,
)

from optimizers.base import Budget, Optimizer, Problem, SearchExhausted
from optimizers.random_search import RandomSearch
from optimizers.sampling import sample_configs, validate
from tasks.base import Objective, Result

pytest.importorskip("botorch", reason="the botorch extra is not installed")

import torch

from optimizers.botorch import BotorchEI, BotorchParEGO, BotorchQNEHVI, UnitCube, default_n_initial

#: Cheaper acquisition optimization for tests: the behaviour checked does not need BoTorch's full effort.
FAST: dict[str, Any] = {"raw_samples": 64, "num_restarts": 2, "mc_samples": 64}

Trace = list[tuple[dict[str, Any], tuple[float, ...]]]


def mixed_space() -> ConfigurationSpace:
    """Every feature the adapter supports: linear/log floats and ints, ordinal, categorical, constant."""
    space = ConfigurationSpace(seed=0)
    space.add(
        Float("x", (-2.0, 2.0)),
        Float("lr", (1e-4, 1.0), log=True),
        Integer("n", (1, 6)),
        Integer("units", (8, 512), log=True),
        OrdinalHyperparameter("size", ["s", "m", "l"]),
        CategoricalHyperparameter("act", ["relu", "tanh", "gelu"]),
        Constant("solver", "adam"),
    )
    return space


def mixed_loss(c: Mapping[str, Any]) -> tuple[float, ...]:
    return (
        (c["x"] - 0.5) ** 2
        + (math.log10(c["lr"]) + 2) ** 2
        + (c["n"] - 3) ** 2 / 4
        + (c["act"] != "tanh")
        + ["s", "m", "l"].index(c["size"]) / 2,
    )


def run(opt: Optimizer, n: int, fn: Callable[[Mapping[str, Any]], tuple[float, ...]]) -> Trace:
    """Ask/evaluate/tell ``n`` times, checking every configuration against the space."""
    trace: Trace = []
    for _ in range(n):
        trial = opt.ask()
        assert trial.fidelity is None
        validate(opt.problem.space, trial.config)
        values = fn(trial.config)
        opt.tell(trial, Result(values))
        trace.append((trial.config, values))
    return trace


def problem(space: ConfigurationSpace, n: int, n_objectives: int = 1) -> Problem:
    objectives = (Objective("loss"), Objective("score", minimize=False))[:n_objectives]
    return Problem(space, objectives, None, Budget(n))


def hypervolume_2d(points: np.ndarray, ref: np.ndarray) -> float:
    """Area dominated by ``points`` (both objectives minimized) and bounded by ``ref``."""
    inside = points[(points < ref).all(axis=1)]
    area, best_second = 0.0, float(ref[1])
    for first, second in inside[np.argsort(inside[:, 0])]:
        if second < best_second:
            area += (ref[0] - first) * (best_second - second)
            best_second = second
    return area


# ----------------------------------------------------------------------------- it optimizes


@pytest.mark.slow
def test_ei_beats_random_search_on_a_smooth_bbob_function() -> None:
    """On bbob f02 (separable ellipsoid) in 2-D, 20 GP-BO trials beat the best of 10 random searches
    of 20 trials each (seed 0 of BO reaches about -185 where random's best is about -30; optimum -209.9)."""
    from bench.registry import make_task

    task = make_task("bbob/f02/d02/i01")

    def f(c: Mapping[str, Any]) -> tuple[float, ...]:
        return task.evaluate(c).values

    prob = Problem(task.space, task.objectives, None, Budget(20))
    bo = run(BotorchEI(prob, seed=0, **FAST), 20, f)
    random_bests = [min(v[0] for _, v in run(RandomSearch(prob, seed=s), 20, f)) for s in range(10)]
    assert min(v[0] for _, v in bo) < min(random_bests)


@pytest.mark.slow
@pytest.mark.parametrize("cls", [BotorchQNEHVI, BotorchParEGO])
def test_hypervolume_beats_random_search_on_bbob_biobj(cls: type[Optimizer]) -> None:
    """20 trials on bbob-biobj f01 (sphere x sphere) in 2-D: the hypervolume beats that of each of 10
    random searches of 20 trials, with the reference point at the nadir of the random searches'
    joint Pareto front (which puts the measure on the front, not on the dominated bulk)."""
    from bench.registry import make_task

    task = make_task("bbob-biobj/f01/d02/i01")

    def f(c: Mapping[str, Any]) -> tuple[float, ...]:
        return task.evaluate(c).values

    prob = Problem(task.space, task.objectives, None, Budget(20))
    randoms = [np.array([v for _, v in run(RandomSearch(prob, seed=s), 20, f)]) for s in range(10)]
    joint = np.vstack(randoms)
    dominated = [((joint <= p).all(axis=1) & (joint < p).any(axis=1)).any() for p in joint]
    ref = joint[~np.array(dominated)].max(axis=0)
    bo = np.array([v for _, v in run(cls(prob, seed=0, **FAST), 20, f)])
    random_hv = sorted(hypervolume_2d(r, ref) for r in randoms)
    assert hypervolume_2d(bo, ref) > random_hv[-1], (hypervolume_2d(bo, ref), random_hv)


# ----------------------------------------------------------------------------- determinism


@pytest.mark.slow
@pytest.mark.parametrize("cls", [BotorchEI, BotorchQNEHVI, BotorchParEGO])
def test_same_seed_same_trials_whatever_the_global_state(cls: type[Optimizer]) -> None:
    """Single objective on every kind of parameter; the multi-objective ones (whose mixed-space
    path the contract suite runs) on a continuous space, where their acquisition is cheaper."""
    n_objectives = 1 if cls is BotorchEI else 2
    space = mixed_space() if cls is BotorchEI else ConfigurationSpace({"x": (-2.0, 2.0), "n": (1, 6)}, seed=0)

    def fn(c: Mapping[str, Any]) -> tuple[float, ...]:
        if cls is BotorchEI:
            return mixed_loss(c)
        return ((c["x"] - 1) ** 2 + c["n"], -((c["x"] + 1) ** 2))

    def trace(seed: int, global_seed: int) -> Trace:
        torch.manual_seed(global_seed)
        np.random.seed(global_seed)
        opt = cls(problem(space, 4, n_objectives), seed, n_initial=2, fit_maxiter=30, **FAST)
        before, threads = torch.get_rng_state(), torch.get_num_threads()
        out = run(opt, 4, fn)
        assert torch.equal(torch.get_rng_state(), before), "an ask disturbed torch's global RNG"
        assert torch.get_num_threads() == threads
        return out

    first = trace(3, global_seed=1)
    assert first == trace(3, global_seed=2)
    assert first != trace(4, global_seed=1)
    assert all(type(c["n"]) is int and type(c["x"]) is float for c, _ in first)


def test_unit_cube_round_trips_every_kind_of_parameter() -> None:
    cube = UnitCube(mixed_space())
    assert cube.names == ["act", "lr", "n", "size", "units", "x"]  # the constant is left out
    assert sorted(cube.cat_dims) == [0] and sorted(cube.discrete_dims) == [2, 3]  # wide ints: continuous
    for config in sample_configs(mixed_space(), np.random.default_rng(0), 50):
        x = cube.encode(config)
        assert all(0.0 <= v <= 1.0 for v in x)
        back = cube.decode(x)
        assert back.keys() == config.keys()
        assert all(
            back[k] == pytest.approx(v) if isinstance(v, float) else back[k] == v for k, v in config.items()
        )


def test_default_initial_design_follows_dimension_and_budget() -> None:
    assert default_n_initial(2, 25) == 6  # 2 (d + 1)
    assert default_n_initial(10, 40) == 10  # a quarter of the budget
    assert default_n_initial(10, 4) == 2  # a GP needs two points


# ----------------------------------------------------------------------------- the ask/tell protocol


def test_pending_trials_are_distinct_told_out_of_order_and_crashes_survive() -> None:
    space = ConfigurationSpace({"x": (-2.0, 2.0), "y": (-2.0, 2.0)}, seed=0)
    opt = BotorchEI(problem(space, 10), seed=0, n_initial=2, **FAST)
    assert BotorchEI.supports_pending
    run(opt, 2, lambda c: (c["x"] ** 2 + c["y"] ** 2,))
    trials = [opt.ask() for _ in range(3)]  # three workers busy: each proposal sees the others pending
    assert [t.meta["botorch_source"] for t in trials] == ["model"] * 3
    assert len({tuple(sorted(t.config.items())) for t in trials}) == 3
    opt.tell(trials[2], Result((math.nan,)))  # a crashed evaluation is told as the worst loss seen
    opt.tell(trials[0], Result((1.0,)))
    opt.tell(trials[1], Result((0.5,)))
    with pytest.raises(ValueError, match="told already"):
        opt.tell(trials[1], Result((0.5,)))
    assert np.isfinite(opt._Y).all()
    assert opt.ask().meta["botorch_source"] == "model"


def test_maximized_objectives_are_negated() -> None:
    space = ConfigurationSpace({"x": (0.0, 1.0)}, seed=0)
    objectives = (Objective("acc", minimize=False), Objective("err"))
    opt = BotorchQNEHVI(Problem(space, objectives, None, Budget(10)), seed=0)
    run(opt, 2, lambda c: (c["x"], c["x"]))
    assert [a == -b for a, b in opt._Y] == [True, True]


def test_finite_space_is_searched_without_repeats_then_exhausted() -> None:
    space = ConfigurationSpace(seed=0)
    space.add(CategoricalHyperparameter("k", ["a", "b", "c"]), OrdinalHyperparameter("o", ["lo", "hi"]))
    opt = BotorchEI(problem(space, 10), seed=0, fit_maxiter=30, **FAST)
    trace = run(opt, 6, lambda c: (float(c["k"] == "b") + float(c["o"] == "hi"),))
    assert len({tuple(sorted(c.items())) for c, _ in trace}) == 6
    with pytest.raises(SearchExhausted, match="all 6 configurations"):
        opt.ask()


# ----------------------------------------------------------------------------- refusals and params


def test_check_space_and_objectives_refuse_what_cannot_be_represented() -> None:
    conditional = ConfigurationSpace({"a": ["x", "y"], "b": (0.0, 1.0)})
    conditional.add(EqualsCondition(conditional["b"], conditional["a"], "y"))
    forbidden = ConfigurationSpace({"a": ["x", "y"], "b": (0.0, 1.0)})
    forbidden.add(ForbiddenEqualsClause(forbidden["a"], "y"))
    for cls in (BotorchEI, BotorchQNEHVI, BotorchParEGO):
        assert cls.check_space(mixed_space()) is None
        assert "conditional parameters (b)" in (cls.check_space(conditional) or "")
        assert "forbidden clauses" in (cls.check_space(forbidden) or "")
    assert "single-objective" in (BotorchEI.incompatibility(problem(mixed_space(), 5, 2)) or "")
    for cls in (BotorchQNEHVI, BotorchParEGO):
        assert "multi-objective only" in (cls.incompatibility(problem(mixed_space(), 5)) or "")
        assert cls.incompatibility(problem(mixed_space(), 5, 2)) is None
    with pytest.raises(ValueError, match="at least one hyperparameter"):
        BotorchEI(problem(ConfigurationSpace({"c": "fixed"}), 5), seed=0)


@pytest.mark.slow
def test_cli_refuses_a_conditional_task_at_planning_time(
    bench: Any, one_line_error: Any, tmp_path: Path
) -> None:
    proc = bench(
        tmp_path,
        "optimizer=botorch_ei",
        "task=odd/conditional",
        "n_trials=3",
        env={"NXMBENCH_TASK_MODULES": "misbehaving_plugin"},
    )
    line = one_line_error(proc, tmp_path)
    assert "optimizer 'botorch_ei' cannot run task 'odd/conditional'" in line
    assert "cannot represent conditional parameters (b)" in line


@pytest.mark.parametrize(
    ("cls", "params", "words"),
    [
        (BotorchEI, {"acquisition": "EI"}, "acquisition='EI' is invalid"),
        (BotorchEI, {"num_restart": 3}, "did you mean 'num_restarts'"),
        (BotorchEI, {"raw_samples": "many"}, "raw_samples='many' is invalid"),
        (BotorchQNEHVI, {"ref_margin": "auto"}, "ref_margin='auto' is invalid"),
        (BotorchParEGO, {"acquisition": "qLogNEI"}, "has no parameter 'acquisition'"),
    ],
)
def test_bad_params_are_refused_at_planning_time(
    cls: type[Optimizer], params: dict[str, Any], words: str
) -> None:
    reason = cls.check_params(params)
    assert reason and words in reason, reason


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"n_initial": 0}, "n_initial=0 is invalid"),
        ({"torch_threads": 0}, "torch_threads=0 is invalid"),
        ({"acquisition": "UCB"}, "valid are 'qLogNEI', 'LogEI'"),
    ],
)
def test_bad_values_are_refused_by_the_constructor(params: dict[str, Any], words: str) -> None:
    with pytest.raises(ValueError, match=words):
        BotorchEI(problem(mixed_space(), 5), seed=0, **params)
