"""Library adapters (Optuna, Nevergrad, scikit-optimize, Hyperopt): behaviour beyond the contract suite.

Each adapter, built from its YAML id, must find better configurations than
random sampling typically does, repeat itself exactly for a seed, respect the
objective direction, return valid configurations on multi-objective and
conditional/forbidden spaces, survive crashed evaluations, and refuse what it
cannot represent.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pytest
from ConfigSpace import (
    CategoricalHyperparameter,
    ConfigurationSpace,
    Float,
    ForbiddenAndConjunction,
    ForbiddenEqualsClause,
    Integer,
    OrdinalHyperparameter,
)
from omegaconf import OmegaConf

from bench.registry import optimizer_class, optimizer_config, optimizer_ids
from optimizers.base import Budget, Optimizer, Problem
from optimizers.contract import conditional_space
from optimizers.sampling import sample_configs, validate
from tasks.base import Fidelity, Objective, Result

SINGLE = [
    "optuna_tpe",
    "optuna_cmaes",
    "optuna_qmc",
    "optuna_random",
    "optuna_nsga2",
    "ng_ngopt",
    "ng_cmaes",
    "ng_twopointsde",
    "ng_pso",
    "ng_oneplusone",
    "ng_de",
    "skopt_gp",
    "skopt_rf",
    "hyperopt_tpe",
]
MULTI = ["optuna_motpe", "optuna_nsga2", "optuna_qmc", "optuna_random", "ng_ngopt", "ng_de", "ng_twopointsde"]
#: Model-based adapters: the direction of the objective changes what they propose.
MODEL_BASED = ["optuna_tpe", "optuna_cmaes", "ng_oneplusone", "hyperopt_tpe"]
#: The GP refits on every tell; keep it to a few model-based steps.
FAST_PARAMS: dict[str, dict[str, Any]] = {
    "skopt_gp": {"n_initial_points": 5},
    "skopt_rf": {"n_initial_points": 5},
}
N_TRIALS = {"skopt_gp": 10, "skopt_rf": 10}


def make(oid: str, problem: Problem, seed: int = 0, **override: Any) -> Optimizer:
    cfg = optimizer_config(oid)
    params = OmegaConf.to_container(cfg.params) if cfg.get("params") else {}
    assert isinstance(params, dict)
    cls = optimizer_class(str(cfg["_target_"]))
    reason = cls.incompatibility(problem)
    assert reason is None, reason
    return cls(problem, seed, **{**params, **FAST_PARAMS.get(oid, {}), **override})


def mixed_space() -> ConfigurationSpace:
    space = ConfigurationSpace(seed=0)
    space.add(
        Float("x0", (-5.0, 5.0)),
        Float("x1", (-5.0, 5.0)),
        Integer("n", (1, 10)),
        Float("lr", (1e-5, 1.0), log=True),
        CategoricalHyperparameter("c", ["a", "b", "c"]),
        OrdinalHyperparameter("size", ["s", "m", "l", "xl"]),
    )
    return space


def loss(config: Mapping[str, Any]) -> float:
    return (
        (config["x0"] - 1) ** 2
        + (config["x1"] + 2) ** 2
        + (config["n"] - 3) ** 2 / 5
        + (math.log10(config["lr"]) + 2) ** 2
        + (config["c"] != "b") * 3
        + abs(["s", "m", "l", "xl"].index(config["size"]) - 2)
    )


def run(
    opt: Optimizer, n: int, fn: Callable[[Mapping[str, Any]], tuple[float, ...]], tell: bool = True
) -> list[dict[str, Any]]:
    configs = []
    for _ in range(n):
        trial = opt.ask()
        assert trial.fidelity is None  # black-box adapters run at the highest fidelity
        validate(opt.problem.space, trial.config)
        configs.append(trial.config)
        if tell:
            opt.tell(trial, Result(fn(trial.config)))
    return configs


@pytest.fixture(scope="module")
def random_quartile() -> float:
    """The 25th percentile of the loss under uniform random sampling of the space."""
    configs = sample_configs(mixed_space(), np.random.default_rng(0), 2000)
    return float(np.quantile([loss(c) for c in configs], 0.25))


def test_ids_are_registered() -> None:
    assert set(SINGLE + MULTI) <= set(optimizer_ids())


@pytest.mark.parametrize(
    "oid", [pytest.param(o, marks=pytest.mark.slow) if o.startswith("skopt") else o for o in SINGLE]
)
def test_improves_over_random_and_is_deterministic(oid: str, random_quartile: float) -> None:
    """Best of n trials beats the random 25th percentile (best-of-20 random fails that ~0.3% of the time)."""
    n = N_TRIALS.get(oid, 20)
    problem = Problem(mixed_space(), (Objective("loss"),), None, Budget(n))
    first = run(make(oid, problem, seed=3), n, lambda c: (loss(c),))
    assert min(loss(c) for c in first) < random_quartile
    again = run(make(oid, problem, seed=3), n, lambda c: (loss(c),))
    assert again == first
    assert all(type(c["n"]) is int and type(c["x0"]) is float and c["c"] in "abc" for c in first)


@pytest.mark.parametrize("oid", MODEL_BASED)
def test_maximize_is_handled(oid: str, random_quartile: float) -> None:
    """On ``score = -loss`` (maximized) the adapter must climb, not descend."""
    n = 20
    problem = Problem(mixed_space(), (Objective("score", minimize=False),), None, Budget(n))
    configs = run(make(oid, problem, seed=1), n, lambda c: (-loss(c),))
    assert min(loss(c) for c in configs) < random_quartile
    later = [loss(c) for c in configs[n // 2 :]]
    assert float(np.median(later)) < float(np.median([loss(c) for c in configs[: n // 2]])) + 2.0


@pytest.mark.parametrize("oid", MULTI)
def test_multi_objective(oid: str) -> None:
    n = 16
    problem = Problem(mixed_space(), (Objective("loss"), Objective("acc", minimize=False)), None, Budget(n))
    configs = run(make(oid, problem, seed=0), n, lambda c: (loss(c), -((c["x0"] + 1) ** 2)))
    assert len({repr(sorted(c.items())) for c in configs}) > n // 2


def test_optuna_directions_follow_objectives() -> None:
    problem = Problem(mixed_space(), (Objective("loss"), Objective("acc", minimize=False)), None, Budget(5))
    opt = make("optuna_nsga2", problem)
    assert [d.name for d in opt._study.directions] == ["MINIMIZE", "MAXIMIZE"]  # type: ignore[attr-defined]


def test_motpe_is_multi_objective_only_and_tpe_single() -> None:
    cls_motpe = optimizer_class(str(optimizer_config("optuna_motpe")["_target_"]))
    cls_tpe = optimizer_class(str(optimizer_config("optuna_tpe")["_target_"]))
    single = Problem(mixed_space(), (Objective("loss"),), None, Budget(5))
    multi = Problem(mixed_space(), (Objective("a"), Objective("b")), None, Budget(5))
    assert "multi-objective only" in (cls_motpe.incompatibility(single) or "")
    assert cls_motpe.incompatibility(multi) is None
    assert "single-objective" in (cls_tpe.incompatibility(multi) or "")


def test_black_box_adapters_accept_multi_fidelity_tasks() -> None:
    problem = Problem(mixed_space(), (Objective("loss"),), Fidelity("epochs", 1, 27), Budget(4))
    configs = run(make("optuna_tpe", problem), 4, lambda c: (loss(c),))
    assert len(configs) == 4


def structured_space() -> ConfigurationSpace:
    return conditional_space()  # the contract suite's conditional + forbidden space


def structured_loss(config: Mapping[str, Any]) -> tuple[float]:
    if config["kind"] == "linear":
        return (math.log10(config["alpha"]) ** 2 + config["x"],)
    return (abs(config["depth"] - 4) / 4 + config["x"],)


@pytest.mark.parametrize(
    "oid", ["optuna_tpe", "optuna_cmaes", "optuna_qmc", "optuna_nsga2", "ng_de", "ng_cmaes", "ng_ngopt"]
)
def test_conditionals_and_forbiddens(oid: str) -> None:
    # Nevergrad flattens the space: children appear exactly when their condition holds.
    problem = Problem(structured_space(), (Objective("loss"),), None, Budget(30))
    configs = run(make(oid, problem, seed=2), 30, structured_loss)
    kinds = {c["kind"] for c in configs}
    assert kinds == {"linear", "tree"}
    assert all(
        ("alpha" in c) == (c["kind"] == "linear") and ("depth" in c) == (c["kind"] == "tree") for c in configs
    )
    assert not any(c["kind"] == "tree" and c["mode"] == "exact" for c in configs)


def forbidden_only_space() -> ConfigurationSpace:
    space = ConfigurationSpace(seed=0)
    a, b = CategoricalHyperparameter("a", ["p", "q"]), CategoricalHyperparameter("b", ["u", "v", "w"])
    space.add(a, b, Float("x", (0.0, 1.0)))
    space.add(ForbiddenAndConjunction(ForbiddenEqualsClause(a, "q"), ForbiddenEqualsClause(b, "w")))
    return space


@pytest.mark.parametrize("oid", ["hyperopt_tpe", "ng_oneplusone", "ng_de"])
def test_forbidden_clauses_are_respected(oid: str) -> None:
    problem = Problem(forbidden_only_space(), (Objective("loss"),), None, Budget(25))

    def fn(c: Mapping[str, Any]) -> tuple[float]:
        # The optimum sits next to the forbidden corner, so a model is drawn towards it.
        return ((c["x"] - 0.5) ** 2 + (c["a"] == "p") + (c["b"] != "w"),)

    configs = run(make(oid, problem, seed=0), 25, fn)
    assert not any(c["a"] == "q" and c["b"] == "w" for c in configs)


@pytest.mark.parametrize(
    ("oid", "feature"),
    [
        ("skopt_gp", "conditional"),
        ("skopt_rf", "conditional"),
        ("hyperopt_tpe", "conditional"),
        ("ng_cmaes", None),
        ("optuna_tpe", None),
    ],
)
def test_check_space_refuses_what_cannot_be_represented(oid: str, feature: str | None) -> None:
    cls = optimizer_class(str(optimizer_config(oid)["_target_"]))
    reason = cls.check_space(structured_space())
    assert (reason is None) if feature is None else (reason is not None and feature in reason)
    assert cls.check_space(mixed_space()) is None


def test_skopt_refuses_forbiddens() -> None:
    cls = optimizer_class(str(optimizer_config("skopt_rf")["_target_"]))
    assert "forbidden" in (cls.check_space(forbidden_only_space()) or "")


@pytest.mark.parametrize("oid", ["optuna_tpe", "ng_twopointsde", "skopt_rf", "hyperopt_tpe"])
def test_crashed_evaluations_do_not_break_the_adapter(oid: str) -> None:
    n = 8 if oid.startswith("skopt") else 14
    problem = Problem(mixed_space(), (Objective("loss"),), None, Budget(n))

    def fn(c: Mapping[str, Any]) -> tuple[float]:
        return (math.nan if c["c"] == "a" else loss(c),)

    configs = run(make(oid, problem, seed=0), n, fn)
    assert len(configs) == n and any(c["c"] == "a" for c in configs)


def test_seeds_change_the_sequence() -> None:
    problem = Problem(mixed_space(), (Objective("loss"),), None, Budget(6))
    for oid in ["optuna_tpe", "ng_oneplusone", "skopt_rf", "hyperopt_tpe"]:
        a = run(make(oid, problem, seed=0), 3, lambda c: (loss(c),))
        b = run(make(oid, problem, seed=1), 3, lambda c: (loss(c),))
        assert a != b, oid


def test_bad_params_name_the_valid_choices() -> None:
    problem = Problem(mixed_space(), (Objective("loss"),), None, Budget(5))
    from optimizers.hyperopt import HyperoptTPE
    from optimizers.nevergrad import Nevergrad, NevergradMultiObjective
    from optimizers.skopt import Skopt

    with pytest.raises(ValueError, match=r"'NGOpt2x'.*did you mean"):
        Nevergrad(problem, 0, optimizer="NGOpt2x")
    with pytest.raises(ValueError, match="no native multi-objective support: valid are NGOpt, DE"):
        NevergradMultiObjective(problem, 0, optimizer="CMA")
    with pytest.raises(ValueError, match=r"\['n_start'\]: valid are"):
        HyperoptTPE(problem, 0, n_start=3)
    with pytest.raises(ValueError, match="random_state"):
        Skopt(problem, 0, random_state=3)


def test_ngopt_on_bbob_prints_no_cobyla_rhoend_warning(run_cli: Callable[..., Any]) -> None:
    """NGOpt's COBYLA step passes scipy an end radius it resets itself; one line per run flooded
    a sweep's log. Checked as a user sees it, a run through ``python -m bench`` (in-process, a
    test's warning filters depend on what earlier tests installed)."""
    proc = run_cli("optimizer=ng_ngopt", "task=bbob/f01/d05/i01", "n_trials=50")
    assert proc.returncode == 0, proc.stderr
    assert "50 trials" in proc.stdout
    assert "RHOEND" not in proc.stdout + proc.stderr


def test_ngopt_prints_none_of_scipys_cobyla_parameter_fixups(run_cli: Callable[..., Any]) -> None:
    """The same class as RHOEND: on bbob f05 2-D, NGOpt's COBYLA step gets fewer evaluations than
    scipy's minimum and scipy says "COBYLA: Invalid MAXFUN ...; it is set to 4", then goes on."""
    proc = run_cli("optimizer=ng_ngopt", "task=bbob/f05/d02/i03", "n_trials=50")
    assert proc.returncode == 0, proc.stderr
    assert "50 trials" in proc.stdout
    assert "COBYLA" not in proc.stdout + proc.stderr


def test_nevergrad_warning_filters_leave_other_warnings_alone() -> None:
    import warnings

    from optimizers.nevergrad import quiet_nevergrad_warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.resetwarnings()
        warnings.simplefilter("always")
        quiet_nevergrad_warnings()  # ahead of "always", as in a worker that imports the adapter
        warnings.warn("a warning of the caller's own", UserWarning, stacklevel=1)
        for message in (
            "COBYLA: Invalid RHOEND; it should be a positive number and RHOEND <= RHOBEG; it is set to 1e-06",
            "COBYLA: Invalid MAXFUN; it should be at least num_vars + 2; it is set to 4",
            "COBYLA: RHOBEG is revised to 0.1 and RHOEND to at most 0.1*RHOBEG so that ...",
        ):  # scipy fixes these parameters of COBYLA up, in the module that checks them
            module = "scipy._lib.pyprima.common.preproc"
            warnings.warn_explicit(message, UserWarning, "preproc.py", 68, module)
        warnings.warn("COBYLA: a caller's own warning that mentions COBYLA", UserWarning, stacklevel=1)
    assert [str(w.message) for w in caught] == [
        "a warning of the caller's own",
        "COBYLA: a caller's own warning that mentions COBYLA",
    ]
