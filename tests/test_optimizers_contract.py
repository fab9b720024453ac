"""Every registered optimizer passes the contract suite; the suite catches contract breaches."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pytest

from bench.contract import check_optimizer, resolve
from bench.registry import optimizer_config, optimizer_ids
from optimizers.base import Optimizer, Problem, Trial
from optimizers.contract import ContractError, contract_tasks
from optimizers.random_search import RandomSearch
from optimizers.sampling import SpaceSampler
from tasks.base import Result

#: Modules of the numpy-only built-ins; adapters drive heavier libraries and are marked slow.
BUILTIN_MODULES = (
    "optimizers.random_search.",
    "optimizers.hyperband.",
    "optimizers.asha.",
    "optimizers.id_hyperband.",
    "optimizers.bohb.",
)


def registered_ids() -> list[Any]:
    def builtin(name: str) -> bool:
        return str(optimizer_config(name)["_target_"]).startswith(BUILTIN_MODULES)

    return [pytest.param(n, marks=() if builtin(n) else pytest.mark.slow) for n in optimizer_ids()]


#: Model-based optimizers whose per-trial model fit costs seconds: a smaller initial design and
#: fewer trials still exercise model-based proposals, in a time CI can afford.
SLOW_MODEL_OVERRIDES: dict[str, tuple[dict[str, Any], int]] = {
    "smac_bb": ({"n_initial_configs": 2}, 4),
    "smac_hpo": ({"n_initial_configs": 3}, 8),
    "smac_parego": ({"n_initial_configs": 3}, 8),
    "skopt_gp": ({}, 8),
    "skopt_rf": ({}, 8),
    "bayesopt_ucb": ({}, 8),
    "bayesopt_ei": ({}, 8),
    # every model-based suggest runs HEBO's hard-coded NSGA-II (100 x 100): seconds each
    "hebo": ({"rand_sample": 2}, 3),
    "synetune_bore": ({"init_random": 3, "feval_acq": 50}, 6),
    "synetune_botorch": ({"num_init_random": 2, "num_restarts": 2, "num_raw_samples": 32}, 3),
    "synetune_cqr": ({"num_init_random_draws": 3, "update_frequency": 2}, 6),
    "optuna_gp": ({"n_startup_trials": 2}, 3),
    "ng_bayesopt": ({}, 4),
    "smac_mo_gp": ({"n_initial_configs": 2}, 3),
    **dict.fromkeys(
        ("botorch_ei", "botorch_qnehvi", "botorch_parego"),
        ({"n_initial": 2, "fit_maxiter": 50, "raw_samples": 32, "num_restarts": 2, "mc_samples": 32}, 3),
    ),
}


@pytest.mark.parametrize("optimizer_id", registered_ids())
def test_registered_optimizer_meets_contract(optimizer_id: str) -> None:
    params, n_trials = SLOW_MODEL_OVERRIDES.get(optimizer_id, ({}, 12))
    try:
        report = check_optimizer(optimizer_id, params or None, n_trials=n_trials)
    except ImportError as exc:
        pytest.skip(f"{optimizer_id}: optional library not installed ({exc})")
    assert report.checked, f"{optimizer_id} was checked on no task"
    assert len(report.checked) + len(report.not_applicable) == len(contract_tasks())


# ----------------------------------------------------------------------------- the suite bites


class GlobalRandom(Optimizer):
    """Ignores its seed and draws from numpy's global RNG."""

    supports: ClassVar[frozenset[str]] = frozenset()

    def ask(self) -> Trial:
        sampler = SpaceSampler(self.problem.space, np.random.default_rng(np.random.randint(1 << 30)))
        return Trial(sampler.sample(1)[0])

    def tell(self, trial: Trial, result: Result) -> None:
        pass


class OutOfBounds(RandomSearch):
    """Pushes every float one unit past its upper bound."""

    def ask(self) -> Trial:
        trial = super().ask()
        trial.config = {k: v + 1.0 if isinstance(v, float) else v for k, v in trial.config.items()}
        return trial


class NumpyInts(RandomSearch):
    """Returns numpy integers, which break the JSON results."""

    def ask(self) -> Trial:
        trial = super().ask()
        trial.config = {k: np.int64(v) if type(v) is int else v for k, v in trial.config.items()}
        return trial


class SeedBlind(RandomSearch):
    """Uses a fixed seed whatever it is given."""

    def __init__(self, problem: Problem, seed: int, **params: Any) -> None:
        super().__init__(problem, 0, **params)


class WrongFidelity(RandomSearch):
    """Asks for a fidelity above the axis' maximum."""

    supports: ClassVar[frozenset[str]] = frozenset({"multi_fidelity"})

    def ask(self) -> Trial:
        trial = super().ask()
        if self.problem.fidelity is not None:
            trial.fidelity = self.problem.fidelity.high * 2
        return trial


class SpaceEditor(RandomSearch):
    """Mutates the task's space (adds a hyperparameter) when constructed."""

    def __init__(self, problem: Problem, seed: int, **params: Any) -> None:
        from ConfigSpace import Float

        if "__extra" not in problem.space:
            problem.space.add(Float("__extra", (0.0, 1.0)))
        super().__init__(problem, seed, **params)


@pytest.mark.parametrize(
    ("broken", "match"),
    [
        (GlobalRandom, "not deterministic"),
        (OutOfBounds, "is not allowed"),
        (NumpyInts, "plain bool, int, float or str"),
        (SeedBlind, "seeds 0 and 1 gave the same"),
        (WrongFidelity, "is not admissible"),
        (SpaceEditor, "modified the task's search space|unknown hyperparameter|active but has no value"),
    ],
)
def test_contract_catches_breaches(broken: type[Optimizer], match: str) -> None:
    with pytest.raises(ContractError, match=match):
        check_optimizer(broken, n_trials=6)


def test_contract_runs_only_applicable_tasks() -> None:
    report = check_optimizer("successive_halving", n_trials=13)
    assert all("mf" in task_id for task_id in report.checked)
    assert {task_id for task_id, _ in report.not_applicable} >= {"contract/mixed", "contract/mfmo"}


def test_resolve_merges_yaml_params_and_rejects_junk() -> None:
    name, cls, params = resolve("hyperband", {"eta": 2})
    assert (name, cls.__name__, params["eta"], params["min_fidelity"]) == ("hyperband", "Hyperband", 2, None)
    with pytest.raises(ValueError, match="did you mean 'hyperband'"):
        resolve("hyperbnd")
    with pytest.raises(ValueError, match="optimizer id"):
        resolve(42)  # type: ignore[arg-type]


def test_the_suite_itself_takes_a_class_and_points_ids_to_bench() -> None:
    # optimizers/ must not import the runner's registry: an id is resolved by bench.contract
    from optimizers import contract

    with pytest.raises(ValueError, match=r"bench\.contract\.check_optimizer"):
        contract.check_optimizer("random_search")  # type: ignore[arg-type]
    report = contract.check_optimizer(RandomSearch, n_trials=4, name="rs")
    assert report.optimizer == "rs" and "contract/mixed" in report.checked
