"""Variants of the Optuna, Nevergrad and scikit-optimize adapters: behaviour beyond the contract.

``optuna_gp`` (GPSampler), ``optuna_nsga3`` (NSGAIIISampler), ``optuna_auto`` (OptunaHub
AutoSampler's rule, implemented here), ``ng_es`` / ``ng_mutde`` / ``ng_noisybandit`` /
``ng_bayesopt`` (Nevergrad registry keys) and ``skopt_gp_ei`` / ``_lcb`` / ``_pi`` (fixed acquisition).
The contract suite (tests/test_optimizers_contract.py) checks validity and seeding; these
check that each variant is the method it says it is.
"""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pytest
from ConfigSpace import CategoricalHyperparameter, ConfigurationSpace, EqualsCondition, Float
from omegaconf import OmegaConf

from bench.registry import optimizer_class, optimizer_config
from optimizers.base import Budget, Optimizer, Problem, Trial
from optimizers.sampling import validate
from tasks.base import Objective, Result
from tasks.synthetic import dtlz2

pytest.importorskip("optuna", reason="the optuna extra is not installed")

IDS = [
    "optuna_gp",
    "optuna_nsga3",
    "optuna_auto",
    "ng_es",
    "ng_mutde",
    "ng_noisybandit",
    "ng_bayesopt",
    "skopt_gp_ei",
    "skopt_gp_lcb",
    "skopt_gp_pi",
]


def make(oid: str, problem: Problem, seed: int = 0, **override: Any) -> Optimizer:
    """The optimizer of YAML id ``oid`` with its params (and ``override``), as the runner builds it."""
    cfg = optimizer_config(oid)
    raw = OmegaConf.to_container(cfg.params) if cfg.get("params") else {}
    assert isinstance(raw, dict)
    params = {str(k): v for k, v in raw.items()}
    cls = optimizer_class(str(cfg["_target_"]))
    if cls.missing_requirement():
        pytest.skip(str(cls.missing_requirement()))
    assert cls.check_params({**params, **override}) is None
    reason = cls.incompatibility(problem)
    assert reason is None, reason
    return cls(problem, seed, **{**params, **override})


def run(opt: Optimizer, n: int, fn: Callable[[Mapping[str, Any]], tuple[float, ...]]) -> list[Trial]:
    """``n`` ask → evaluate → tell steps; every configuration must be valid."""
    trials = []
    for _ in range(n):
        trial = opt.ask()
        validate(opt.problem.space, trial.config)
        opt.tell(trial, Result(fn(trial.config)))
        trials.append(trial)
    return trials


def cube(d: int, low: float = -5.0, high: float = 5.0) -> ConfigurationSpace:
    return ConfigurationSpace({f"x{i}": (low, high) for i in range(d)}, seed=0)


def sphere(config: Mapping[str, Any]) -> tuple[float]:
    """A smooth bowl with its minimum 0 at x_i = 1 - i/2, away from the centre of the box."""
    return (sum((v - (1.0 - 0.5 * i)) ** 2 for i, v in enumerate(config[k] for k in sorted(config))),)


def random_best_quantile(space: ConfigurationSpace, n: int, q: float, reps: int = 400) -> float:
    """The ``q`` quantile of the best of ``n`` uniform random trials on the sphere."""
    rng = np.random.default_rng(0)
    d = len(space)
    x = rng.uniform(-5.0, 5.0, size=(reps, n, d))
    optimum = 1.0 - 0.5 * np.arange(d)
    best = ((x - optimum) ** 2).sum(axis=2).min(axis=1)
    return float(np.quantile(best, q))


def test_ids_are_registered() -> None:
    from bench.registry import optimizer_ids

    assert set(IDS) <= set(optimizer_ids())


# ----------------------------------------------------------------------------- Optuna GPSampler


@pytest.mark.slow
def test_optuna_gp_beats_random_search_on_a_smooth_3d_function() -> None:
    pytest.importorskip("torch", reason="optuna_gp needs torch")
    n = 15
    problem = Problem(cube(3), (Objective("y"),), None, Budget(n))
    trials = run(make("optuna_gp", problem, seed=0, n_startup_trials=5), n, sphere)
    best = min(sphere(t.config)[0] for t in trials)
    # Best of 15 random trials is below this one time in ten; the GP lands far under it.
    assert best < random_best_quantile(problem.space, n, 0.1) / 2


def test_optuna_gp_is_refused_at_planning_time_without_torch(monkeypatch: pytest.MonkeyPatch) -> None:
    from optimizers.optuna import OptunaAuto, OptunaGP

    monkeypatch.setitem(sys.modules, "torch", None)  # None in sys.modules: "import torch" fails
    for cls in (OptunaGP, OptunaAuto):
        reason = cls.missing_requirement()
        assert reason is not None
        assert "'torch'" in reason and "pip install 'nxm-bench[optuna,botorch]'" in reason, reason


@pytest.mark.parametrize("oid", ["optuna_gp", "optuna_auto"])
def test_optuna_gp_takes_the_sequential_lbfgsb_path_even_with_greenlet(
    oid: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GPSampler batches its acquisition's L-BFGS-B restarts through greenlet when that package
    imports, and runs them one after the other when not; the two give different trials for one
    seed. The adapters take the sequential path either way, so a run does not depend on whether
    some other package brought greenlet into the environment (the archive was built without it)."""
    pytest.importorskip("torch", reason="optuna_gp needs torch")
    from optuna._gp import batched_lbfgsb

    class Importable:
        def is_successful(self) -> bool:
            return True

    monkeypatch.setattr(batched_lbfgsb, "_greenlet_imports", Importable())
    make(oid, Problem(cube(2), (Objective("y"),), None, Budget(12)), seed=0)
    assert not batched_lbfgsb._greenlet_imports.is_successful()


def test_optuna_gp_run_logs_no_greenlet_notice(run_cli: Any, tmp_path: Any) -> None:
    """Without greenlet Optuna logs that it falls back to sequential L-BFGS-B, once per process; that
    path is the adapters' choice (test above), so the notice is not shown to the user."""
    pytest.importorskip("torch", reason="optuna_gp needs torch")
    proc = run_cli("optimizer=optuna_gp", "task=synthetic/branin", "n_trials=12", f"output_dir={tmp_path}")
    assert proc.returncode == 0, proc.stderr
    assert "greenlet" not in proc.stdout + proc.stderr


# ----------------------------------------------------------------------------- Optuna NSGA-III


def three_objectives(config: Mapping[str, Any]) -> tuple[float, ...]:
    x = np.array([config[f"x{i}"] for i in range(6)])
    return tuple(float(v) for v in dtlz2(x, n_obj=3))


def test_optuna_nsga3_moves_a_three_objective_population_towards_the_front() -> None:
    """DTLZ2 with 3 objectives: its front is the unit sphere, so ||f|| - 1 measures the distance."""
    n = 400
    problem = Problem(cube(6, 0.0, 1.0), tuple(Objective(f"f{i}") for i in range(3)), None, Budget(n))

    def gaps(oid: str) -> list[float]:
        trials = run(make(oid, problem, seed=0), n, three_objectives)
        return [float(np.linalg.norm(three_objectives(t.config))) - 1.0 for t in trials]

    nsga3, random = gaps("optuna_nsga3"), gaps("optuna_random")
    first_generation, last_trials = np.median(nsga3[:50]), np.median(nsga3[-50:])
    # Measured with seed 0: 0.27 (random first generation) -> 0.14 after 8 generations; random stays ~0.34.
    assert last_trials < 0.6 * first_generation, (first_generation, last_trials)
    assert last_trials < 0.6 * np.median(random[-50:])


def test_optuna_nsga3_is_multi_objective_only() -> None:
    from optimizers.optuna import OptunaNSGA3

    reason = OptunaNSGA3.incompatibility(Problem(cube(2), (Objective("y"),), None, Budget(10)))
    assert reason is not None and "multi-objective only" in reason


# ----------------------------------------------------------------------------- Optuna automatic


def auto_problem(space: ConfigurationSpace, n_objectives: int, n_trials: int) -> Problem:
    return Problem(space, tuple(Objective(f"f{i}") for i in range(n_objectives)), None, Budget(n_trials))


def categorical_space() -> ConfigurationSpace:
    space = cube(2)
    space.add(CategoricalHyperparameter("k", ["a", "b"]))
    return space


def conditional_space() -> ConfigurationSpace:
    space = categorical_space()
    space.add(Float("z", (0.0, 1.0)))
    space.add(EqualsCondition(space["z"], space["k"], "b"))
    return space


NUMERIC = cube(3)  # floats, and ordinals/integers (Optuna integers) count as numeric too


@pytest.mark.parametrize(
    ("space", "n_objectives", "n_trials", "expected"),
    [
        (NUMERIC, 1, 100, ["RandomSampler", "GPSampler"]),
        (NUMERIC, 1, 500, ["RandomSampler", "GPSampler", "CmaEsSampler"]),
        (categorical_space(), 1, 500, ["RandomSampler", "TPESampler"]),
        (conditional_space(), 1, 500, ["RandomSampler", "TPESampler"]),
        (NUMERIC, 2, 100, ["RandomSampler", "GPSampler"]),
        (NUMERIC, 3, 500, ["RandomSampler", "GPSampler", "NSGAIISampler"]),
        (categorical_space(), 2, 500, ["RandomSampler", "TPESampler", "NSGAIISampler"]),
        (NUMERIC, 4, 500, ["RandomSampler", "TPESampler", "NSGAIIISampler"]),
        (conditional_space(), 2, 500, ["RandomSampler", "TPESampler"]),
    ],
    ids=[
        "so-numeric",
        "so-numeric-long",
        "so-categorical",
        "so-conditional",
        "mo-numeric",
        "mo3-numeric-long",
        "mo-categorical-long",
        "mo4-long",
        "mo-conditional",
    ],
)
def test_optuna_auto_plan_follows_the_autosampler_rule(
    space: ConfigurationSpace, n_objectives: int, n_trials: int, expected: list[str]
) -> None:
    from optimizers.optuna import auto_plan

    plan = auto_plan(auto_problem(space, n_objectives, n_trials))
    assert [phase.sampler for phase in plan] == expected
    assert [phase.start for phase in plan] == [0, 1, 250][: len(expected)]


def test_optuna_auto_plan_switch_is_a_budget_boundary() -> None:
    from optimizers.optuna import auto_plan

    # The switch happens once 250 trials completed: a 250-trial run never reaches it.
    assert len(auto_plan(auto_problem(NUMERIC, 1, 250))) == 2
    assert len(auto_plan(auto_problem(NUMERIC, 1, 251))) == 3
    with pytest.raises(ValueError, match="switch_after=1 is invalid"):
        auto_plan(auto_problem(NUMERIC, 1, 10), switch_after=1)


@pytest.mark.parametrize(
    ("n_objectives", "expected"),
    [
        (1, ["RandomSampler", "GPSampler", "CmaEsSampler"]),
        (2, ["RandomSampler", "GPSampler", "NSGAIISampler"]),
    ],
)
def test_optuna_auto_records_which_sampler_proposed_each_trial(
    n_objectives: int, expected: list[str]
) -> None:
    """A short plan (switch after 5 completed trials) runs every phase; GPSampler's own first
    10 trials are random, so no GP is fitted here (that is optuna_gp's test)."""
    problem = auto_problem(NUMERIC, n_objectives, 9)
    opt = make("optuna_auto", problem, seed=0, switch_after=5)

    def values(config: Mapping[str, Any]) -> tuple[float, ...]:
        return (sphere(config)[0], float(config["x0"]))[:n_objectives]

    used = [t.meta["optuna_sampler"] for t in run(opt, 9, values)]
    assert used == [expected[0]] + [expected[1]] * 4 + [expected[2]] * 4
    assert [phase.sampler for phase in opt.plan] == expected  # type: ignore[attr-defined]


def test_optuna_auto_uses_tpe_on_a_categorical_space() -> None:
    problem = auto_problem(categorical_space(), 1, 15)

    def loss(config: Mapping[str, Any]) -> tuple[float]:
        return (sphere({k: v for k, v in config.items() if k != "k"})[0] + (config["k"] == "a"),)

    used = [t.meta["optuna_sampler"] for t in run(make("optuna_auto", problem, seed=1), 15, loss)]
    assert used == ["RandomSampler"] + ["TPESampler"] * 14


# ----------------------------------------------------------------------------- Nevergrad


FAR = (3.0, -3.0, 2.5)  # an optimum far from the centre, where Nevergrad's first samples gather


def far_bowl(config: Mapping[str, Any]) -> float:
    return sum((config[f"x{i}"] - c) ** 2 for i, c in enumerate(FAR))


def test_ng_es_generations_move_towards_the_optimum() -> None:
    """ES (40 parents, 60 children, comma selection): the first 40 trials are the random
    population, each later 60 a generation; measured medians 31 -> 8 by the sixth generation."""
    n = 340
    problem = Problem(cube(3), (Objective("y"),), None, Budget(n))
    opt = make("ng_es", problem, seed=0)
    assert opt.params["optimizer"] == "ES"
    rng = np.random.default_rng(0)
    exact = [far_bowl(t.config) for t in run(opt, n, lambda c: (far_bowl(c) + float(rng.normal(0.0, 0.5)),))]
    assert np.median(exact[280:]) < np.median(exact[:40]) / 2, (np.median(exact[:40]), np.median(exact[280:]))


def test_ng_noisybandit_reevaluates_its_arms_and_favours_a_good_one() -> None:
    """NoisyBandit is UCB over the points seen (arms): it adds an arm only when
    ``20 * asks >= arms**3`` and otherwise re-evaluates one, so on a noisy function most
    trials repeat a few configurations, the optimistic best most often."""
    n = 100
    problem = Problem(cube(3), (Objective("y"),), None, Budget(n))
    opt = make("ng_noisybandit", problem, seed=0)
    assert opt.params["optimizer"] == "NoisyBandit"
    rng = np.random.default_rng(0)
    trials = run(opt, n, lambda c: (sphere(c)[0] + float(rng.normal(0.0, 0.5)),))
    counts = Counter(tuple(sorted(t.config.items())) for t in trials)
    assert len(counts) <= n // 4  # about (20 n) ** (1/3) arms
    favourite, pulls = counts.most_common(1)[0]
    assert pulls >= n // 4
    arm_losses = [sphere(dict(arm))[0] for arm in counts]
    assert sphere(dict(favourite))[0] <= np.median(arm_losses)


@pytest.mark.slow
def test_nevergrad_bayesopt_beats_random_search() -> None:
    """GP-UCB (kappa 2.576) first probes the box's edges, then settles on the optimum."""
    pytest.importorskip("bayes_opt", reason="ng_bayesopt needs bayesian-optimization")
    n = 20
    problem = Problem(cube(2), (Objective("y"),), None, Budget(n))
    opt = make("ng_bayesopt", problem, seed=0)
    assert opt.params["optimizer"] == "BO"
    losses = [sphere(t.config)[0] for t in run(opt, n, sphere)]
    typical_random_best = random_best_quantile(problem.space, n, 0.5)
    assert min(losses) < typical_random_best
    assert np.median(losses[-5:]) < typical_random_best  # its last proposals, not one lucky probe


# ----------------------------------------------------------------------------- scikit-optimize


@pytest.mark.parametrize(
    ("oid", "acq_func"), [("skopt_gp_ei", "EI"), ("skopt_gp_lcb", "LCB"), ("skopt_gp_pi", "PI")]
)
def test_skopt_acquisition_reaches_the_library(oid: str, acq_func: str) -> None:
    pytest.importorskip("skopt", reason="the skopt extra is not installed")
    problem = Problem(cube(2), (Objective("y"),), None, Budget(5))
    opt = make(oid, problem, seed=0, n_initial_points=3)
    run(opt, 4, sphere)  # the fourth ask fits the GP and optimizes this acquisition
    library = opt._optimizer  # type: ignore[attr-defined]
    assert library.acq_func == acq_func
    assert library.cand_acq_funcs_ == [acq_func]  # gp_hedge would list EI, LCB and PI
    assert len(library.models) >= 1


def test_skopt_acquisitions_propose_different_points() -> None:
    pytest.importorskip("skopt", reason="the skopt extra is not installed")
    problem = Problem(cube(2), (Objective("y"),), None, Budget(5))
    fourth = {}
    for oid in ("skopt_gp_ei", "skopt_gp_lcb", "skopt_gp_pi"):
        trials = run(make(oid, problem, seed=0, n_initial_points=3), 4, sphere)
        assert [t.config for t in trials[:3]] == [
            t.config for t in run(make(oid, problem, seed=0), 3, sphere)
        ]
        fourth[oid] = tuple(trials[3].config.values())
    assert len(set(fourth.values())) == 3, fourth


def test_skopt_refuses_a_bad_acquisition_naming_the_valid_ones() -> None:
    from optimizers.skopt import Skopt

    assert Skopt.check_params({"acq_func": "UCB"}) == (
        "skopt acq_func='UCB' is invalid: did you mean 'LCB'? (valid: gp_hedge, EI, LCB, PI)"
    )
    assert "EIps" in str(Skopt.check_params({"acq_func": "EIps"}))  # needs durations the adapter never tells
    assert Skopt.check_params({"acq_optimizer": "lbgfs"}) is not None
    assert Skopt.check_params({"base_estimator": "gp", "acq_func": "LCB"}) is None


# ----------------------------------------------------------------------------- planning-time refusals


def bench(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bench", *argv], capture_output=True, text=True, timeout=120)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["optimizer=skopt_gp_ei", "optimizer.params.acq_func=UCB"],
            "did you mean 'LCB'? (valid: gp_hedge, EI, LCB, PI)",
        ),
        (["optimizer=optuna_nsga3"], "OptunaNSGA3 is multi-objective only"),
    ],
)
def test_cli_refuses_at_planning_time(argv: list[str], message: str, tmp_path: Any) -> None:
    proc = bench(*argv, "task=bbob/f01/d02/i01", "n_trials=5", f"output_dir={tmp_path}")
    assert proc.returncode == 2, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0], proc.stderr
    assert not list(tmp_path.rglob("*.parquet"))
