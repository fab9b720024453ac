"""pycma (CMA-ES, IPOP-CMA-ES) and bayesian-optimization (GP-UCB, GP-EI) adapters: behaviour beyond
the contract suite — they beat random search on 5-D BBOB functions, IPOP doubles its population
on restarts, generations under pending trials, seed determinism without touching the global RNG,
refusal of what they cannot represent, and parameter validation."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from ConfigSpace import ConfigurationSpace, EqualsCondition, Float, Integer, OrdinalHyperparameter

from optimizers.base import Budget, Optimizer, Problem, Trial, WaitForPending
from optimizers.random_search import RandomSearch
from optimizers.sampling import validate
from tasks.base import Objective, Result

pytest.importorskip("cma", reason="pycma is optional: pip install 'nxm-bench[cma]'")
pytest.importorskip(
    "bayes_opt", reason="bayesian-optimization is optional: pip install 'nxm-bench[bayesopt]'"
)

from optimizers.bayesopt import BayesOpt
from optimizers.cma_es import CMAES, IPOPCMAES
from optimizers.unit_cube import UnitCube


def run(
    opt: Optimizer, n: int, f: Callable[[Mapping[str, Any]], float]
) -> list[tuple[dict[str, Any], float]]:
    """Sequential ask → evaluate → tell; every configuration is checked against the space."""
    trace = []
    for _ in range(n):
        trial = opt.ask()
        validate(opt.problem.space, trial.config)
        y = f(trial.config)
        trace.append((dict(trial.config), y))
        opt.tell(trial, Result((y,)))
    return trace


def problem(space: ConfigurationSpace, n: int, minimize: bool = True) -> Problem:
    return Problem(space, (Objective("y", minimize=minimize),), None, Budget(n))


def rastrigin_space() -> ConfigurationSpace:
    return ConfigurationSpace({"x0": (-5.12, 5.12), "x1": (-5.12, 5.12)}, seed=0)


def rastrigin(c: Mapping[str, Any]) -> float:
    x = np.array([c["x0"], c["x1"]])
    return float(10 * len(x) + np.sum(x**2 - 10 * np.cos(2 * np.pi * x)))


def mixed_numeric_space() -> ConfigurationSpace:
    """Floats (linear and log), integers (linear and log), an ordinal and a constant."""
    space = ConfigurationSpace(seed=0)
    space.add(
        Float("x", (-2.0, 2.0)),
        Float("lr", (1e-4, 1.0), log=True),
        Integer("n", (1, 6)),
        Integer("units", (8, 512), log=True),
        OrdinalHyperparameter("size", ["s", "m", "l"]),
    )
    return space


def mixed_loss(c: Mapping[str, Any]) -> float:
    return (
        (c["x"] - 0.5) ** 2
        + (math.log10(c["lr"]) + 2) ** 2
        + 0.1 * (c["n"] - 4) ** 2
        + (math.log2(c["units"]) - 6) ** 2
        + ["s", "m", "l"].index(c["size"])
    )


# ----------------------------------------------------------------------------- beats random search


@pytest.mark.parametrize("function", [1, 8])
@pytest.mark.parametrize("cls", [CMAES, IPOPCMAES])
def test_cma_beats_random_search_on_5d_bbob(cls: type[CMAES], function: int) -> None:
    pytest.importorskip("cocoex", reason="BBOB needs coco-experiment")
    from tasks.bbob import make_task

    task = make_task(f"bbob/f{function:02d}/d05/i01")
    n = 150

    def f(c: Mapping[str, Any]) -> float:
        return task.evaluate(c).values[0]

    for seed in (0, 1):
        best = min(y for _, y in run(cls(problem(task.space, n), seed), n, f))
        random_best = min(y for _, y in run(RandomSearch(problem(task.space, n), seed), n, f))
        assert best < random_best, (seed, best, random_best)


@pytest.mark.slow
@pytest.mark.parametrize("acquisition", ["ucb", "ei"])
def test_bayesopt_beats_random_search_on_5d_sphere(acquisition: str) -> None:
    pytest.importorskip("cocoex", reason="BBOB needs coco-experiment")
    from tasks.bbob import make_task

    task = make_task("bbob/f01/d05/i01")
    n = 15  # 5 random points, then 10 GP proposals

    def f(c: Mapping[str, Any]) -> float:
        return task.evaluate(c).values[0]

    best = min(y for _, y in run(BayesOpt(problem(task.space, n), 0, acquisition=acquisition), n, f))
    random_best = min(y for _, y in run(RandomSearch(problem(task.space, n), 0), n, f))
    assert best < random_best


# ----------------------------------------------------------------------------- CMA-ES specifics


def test_ipop_doubles_the_population_on_restarts_and_plain_cma_keeps_it() -> None:
    n = 1500  # Rastrigin traps each run in a local optimum: cma's tolfun/tolx then fire
    ipop = IPOPCMAES(problem(rastrigin_space(), n), seed=0)
    run(ipop, n, rastrigin)
    assert len(ipop.popsizes) >= 2, ipop.popsizes
    assert ipop.popsizes[0] == 4 + int(3 * math.log(2))  # pycma's default in 2-D
    assert all(b == 2 * a for a, b in zip(ipop.popsizes, ipop.popsizes[1:], strict=False))
    plain = CMAES(problem(rastrigin_space(), n), seed=0)
    run(plain, n, rastrigin)
    assert len(plain.popsizes) >= 2 and set(plain.popsizes) == {plain.popsizes[0]}


def test_cma_hands_out_one_generation_and_waits_for_it() -> None:
    opt = CMAES(problem(rastrigin_space(), 30), seed=0, popsize=5)
    trials = [opt.ask() for _ in range(5)]
    assert {t.meta["cma_generation"] for t in trials} == {0}
    with pytest.raises(WaitForPending, match="5 of 5 results pending"):
        opt.ask()
    for t in reversed(trials[1:]):  # results may arrive in any order
        opt.tell(t, Result((rastrigin(t.config),)))
    with pytest.raises(WaitForPending, match="1 of 5"):
        opt.ask()
    opt.tell(trials[0], Result((rastrigin(trials[0].config),)))
    assert opt.ask().meta["cma_generation"] == 1
    with pytest.raises(ValueError, match=r"told twice|not handed out"):
        opt.tell(trials[0], Result((0.0,)))
    assert CMAES.supports_pending and not BayesOpt.supports_pending


def test_cma_is_deterministic_leaves_the_global_rng_alone_and_writes_no_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # pycma would write outcmaes/ here if logging were on
    space = mixed_numeric_space()
    np.random.seed(123)
    before = np.random.get_state()[1].copy()  # type: ignore[index]
    first = run(IPOPCMAES(problem(space, 40), seed=5), 40, mixed_loss)
    assert np.array_equal(np.random.get_state()[1], before), "the caller's numpy stream moved"  # type: ignore[index]
    np.random.seed(999)  # another global state must not change the trials
    again = run(IPOPCMAES(problem(space, 40), seed=5), 40, mixed_loss)
    other = run(IPOPCMAES(problem(space, 40), seed=6), 40, mixed_loss)
    assert first == again and first != other
    assert all(type(c["n"]) is int and type(c["units"]) is int and type(c["x"]) is float for c, _ in first)
    assert list(tmp_path.iterdir()) == []


def test_cma_restarts_draw_nothing_from_the_global_rng_without_the_sandbox() -> None:
    """With the adapter's own options pycma draws only through the private randn option, so
    its construction, ask and tell run without the global-RNG swap (the global state is checked
    untouched across restarts, on a space with integers); a flat objective forces restarts."""
    space = mixed_numeric_space()
    np.random.seed(7)
    before = np.random.get_state()[1].copy()  # type: ignore[index]
    opt = IPOPCMAES(problem(space, 600), seed=3)
    assert opt._rngs is None and isinstance(opt._sandbox(), contextlib.nullcontext)
    run(opt, 600, lambda c: 1.0)
    assert len(opt.popsizes) >= 3, "a flat objective should stop pycma and restart it"
    assert np.array_equal(np.random.get_state()[1], before)  # type: ignore[index]
    # A user option may switch on pycma code that draws from the global generator: sandboxed.
    with_options = IPOPCMAES(problem(space, 60), seed=3, options={"tolfun": 1e-11})
    assert with_options._rngs is not None
    assert not isinstance(with_options._sandbox(), contextlib.nullcontext)
    np.random.seed(7)
    run(with_options, 60, mixed_loss)
    assert np.array_equal(np.random.get_state()[1], before)  # type: ignore[index]


def test_cma_climbs_a_maximized_objective() -> None:
    space = mixed_numeric_space()
    trace = run(CMAES(problem(space, 60, minimize=False), seed=2), 60, lambda c: -mixed_loss(c))
    early = max(y for _, y in trace[:10])
    assert max(y for _, y in trace) > early


def test_integer_coordinates_keep_a_minimal_spread() -> None:
    """Integers are rounded on decode; pycma's integer std floor keeps them moving on plateaus."""
    space = ConfigurationSpace({"n": (1, 20), "m": (0, 3)}, seed=0)
    opt = CMAES(problem(space, 400), seed=0)
    trace = run(opt, 400, lambda c: float((c["n"] - 7) ** 2 + (c["m"] - 2) ** 2))
    assert min(y for _, y in trace) == 0.0
    minstd = opt._es.opts["minstd"]
    cube = UnitCube(space)
    assert all(minstd[i] > 0.1 * cube.step(i) for i in cube.discrete)


def test_unit_cube_round_trips_grid_values() -> None:
    space = mixed_numeric_space()
    cube = UnitCube(space)
    rng = np.random.default_rng(0)
    for _ in range(50):
        config = cube.decode(rng.random(cube.dim))
        assert cube.decode(cube.encode(config)) == pytest.approx(config)


def test_unit_cube_float_box_fast_path_equals_the_general_decoder() -> None:
    """A box of floats decodes in one pass; it must give exactly what the general route
    (affine map, then RowDecoder's clipping) gives, key order included, inside and outside
    the cube and with log scales."""
    space = ConfigurationSpace(seed=0)
    space.add([Float("lr", (1e-5, 1.0), log=True), Float("x", (-3.0, 2.0))])
    space.add(Float("w", (0.5, 64.0), log=True))
    fast = UnitCube(space)
    slow = UnitCube(space)
    slow._floats = None
    assert fast._floats is not None
    rng = np.random.default_rng(1)
    for point in [*rng.uniform(-0.2, 1.2, (200, 3)), np.zeros(3), np.ones(3)]:
        a, b = fast.decode(point), slow.decode(point)
        assert list(a.items()) == list(b.items())
        assert all(type(v) is float for v in a.values())
    with pytest.raises(ValueError, match="2 coordinates for a 3-d cube"):
        fast.decode([0.5, 0.5])
    # anything but a plain float box takes the general route
    assert UnitCube(ConfigurationSpace({"x": (0.0, 1.0), "n": (1, 4)}, seed=0))._floats is None
    assert UnitCube(ConfigurationSpace({"x": (0.0, 1.0), "c": "fixed"}, seed=0))._floats is None


def test_unit_cube_linear_box_fast_path_equals_the_general_decoders() -> None:
    """A box of floats without log scales takes the shortest route; it must give exactly what
    the float-box route and the general route give, inside and outside the cube, bounds
    included (``low + 1.0 * span`` can overshoot ``upper`` by one ulp)."""
    space = ConfigurationSpace(seed=0)
    space.add([Float("x", (-3.0, 2.0)), Float("y", (0.1, 0.7)), Float("z", (-1e-3, 1e9))])
    linear = UnitCube(space)
    assert linear._linear is not None
    floats = UnitCube(space)
    floats._linear = None
    general = UnitCube(space)
    general._linear = general._floats = None
    rng = np.random.default_rng(2)
    for point in [*rng.uniform(-0.2, 1.2, (300, 3)), np.zeros(3), np.ones(3)]:
        a, b, c = linear.decode(point), floats.decode(point), general.decode(point)
        assert list(a.items()) == list(b.items()) == list(c.items())
        assert all(type(v) is float for v in a.values())
        assert all(space[k].lower <= v <= space[k].upper for k, v in a.items())
    with pytest.raises(ValueError, match="4 coordinates for a 3-d cube"):
        linear.decode([0.5, 0.5, 0.5, 0.5])
    # a log scale keeps the float-box route
    logged = ConfigurationSpace({"x": (0.0, 1.0)}, seed=0)
    logged.add(Float("lr", (1e-4, 1.0), log=True))
    assert UnitCube(logged)._linear is None and UnitCube(logged)._floats is not None


# ----------------------------------------------------------------------------- bayes_opt specifics


def test_bayesopt_is_deterministic_random_first_and_survives_duplicates() -> None:
    space = ConfigurationSpace({"n": (1, 3), "m": (1, 2)}, seed=0)  # 6 configurations: repeats certain
    trace = run(BayesOpt(problem(space, 8), seed=1, n_init=3), 8, lambda c: float(c["n"] + c["m"]))
    again = run(BayesOpt(problem(space, 8), seed=1, n_init=3), 8, lambda c: float(c["n"] + c["m"]))
    other = run(BayesOpt(problem(space, 8), seed=2, n_init=3), 8, lambda c: float(c["n"] + c["m"]))
    assert trace == again and trace[:3] != other[:3]
    opt = BayesOpt(problem(space, 3), seed=0, n_init=1)
    trial = opt.ask()
    for _ in range(2):  # the very same point twice: bayes_opt would raise NotUniqueError by default
        opt.tell(Trial(trial.config, meta=dict(trial.meta)), Result((1.0,)))
    assert len(opt._bo.space) == 2


def test_bayesopt_negates_losses_and_tells_maximized_values_as_they_are() -> None:
    space = ConfigurationSpace({"x": (-1.0, 1.0)}, seed=0)
    for minimize, sign in ((True, -1.0), (False, 1.0)):
        opt = BayesOpt(problem(space, 4, minimize=minimize), seed=0, n_init=4)
        trace = run(opt, 4, lambda c: float(c["x"]))
        assert sorted(opt._bo.space.target) == pytest.approx(sorted(sign * y for _, y in trace))


# ----------------------------------------------------------------------------- refusals and params


@pytest.mark.parametrize("cls", [CMAES, BayesOpt])
def test_check_space_refuses_categoricals_conditions_and_empty_spaces(cls: type[Optimizer]) -> None:
    assert cls.check_space(mixed_numeric_space()) is None
    reason = cls.check_space(ConfigurationSpace({"k": ["a", "b"], "x": (0.0, 1.0)}))
    assert reason and "categorical parameters (k)" in reason
    space = ConfigurationSpace({"a": (0, 1), "b": (0.0, 1.0)})
    space.add(EqualsCondition(space["b"], space["a"], 1))
    assert "conditional" in (cls.check_space(space) or "")
    assert "non-constant" in (cls.check_space(ConfigurationSpace({"c": "fixed"})) or "")
    two = Problem(mixed_numeric_space(), (Objective("a"), Objective("b")), None, Budget(5))
    assert "single-objective" in (cls.incompatibility(two) or "")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("optimizer", "task", "names"),
    [("cma_ipop", "nb201/cifar10", "Op0"), ("bayesopt_ei", "sklearn-live/knn/iris/err", "")],
)
def test_cli_refuses_categorical_tasks_at_planning_time(
    bench: Any, one_line_error: Any, tmp_path: Path, optimizer: str, task: str, names: str
) -> None:
    proc = bench(tmp_path, f"optimizer={optimizer}", f"task={task}", "n_trials=3", "seed=0")
    line = one_line_error(proc, tmp_path)
    assert f"optimizer '{optimizer}' cannot run task '{task}'" in line
    assert "cannot represent categorical parameters" in line and names in line


@pytest.mark.parametrize(
    ("cls", "params", "words"),
    [
        (CMAES, {"sigma0": 0.0}, "sigma0=0.0 is invalid"),
        (CMAES, {"popsize": 1}, "popsize=1 is invalid"),
        (CMAES, {"x0": "middle"}, "x0='middle' is invalid"),
        (CMAES, {"options": {"tolfunn": 1e-9}}, "did you mean 'tolfun'"),
        (CMAES, {"options": {"bounds": [0, 2]}}, "'bounds' is set by the adapter"),
        (CMAES, {"sigma": 0.3}, "did you mean 'sigma0'"),
        (IPOPCMAES, {"incpopsize": 1}, "incpopsize=1 is invalid"),
        (BayesOpt, {"acquisition": "lcb"}, "valid are 'ucb', 'ei', 'poi'"),
        (BayesOpt, {"n_init": 0}, "n_init=0 is invalid"),
        (BayesOpt, {"kapa": 1.0}, "did you mean 'kappa'"),
        (BayesOpt, {"gp_params": {"alpah": 1e-4}}, "did you mean 'alpha'"),
    ],
)
def test_bad_params_are_refused_with_the_reason(
    cls: type[Optimizer], params: dict[str, Any], words: str
) -> None:
    reason = cls.check_params(params)
    assert reason and words in reason, reason


def test_cma_options_reach_pycma() -> None:
    opt = CMAES(problem(rastrigin_space(), 5), seed=0, options={"tolfun": 1e-3, "CMA_diagonal": True})
    assert opt._es.opts["tolfun"] == 1e-3 and opt._es.opts["verbose"] == -9
