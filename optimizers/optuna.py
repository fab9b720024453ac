"""Optuna samplers through Optuna's own ask/tell API.

One class per sampler family; the YAML ``params`` go to the sampler's
constructor (``seed`` is always derived from the run seed). Objectives keep
their direction (Optuna is told ``minimize``/``maximize``), conditional
parameters are sampled define-by-run (a child is suggested only when its
ConfigSpace conditions hold), and a configuration that hits a forbidden clause
is reported to Optuna as a failed trial and resampled, so the runner only ever
sees valid configurations. A model-based sampler can keep proposing the same
forbidden point (failed trials teach it nothing), so after ``MAX_RESAMPLES``
consecutive forbidden proposals a uniformly random valid configuration, drawn
from the run seed, is enqueued into the study instead and evaluated normally.
Non-finite results are told as failed trials too.

Tasks with a fidelity axis are optimized at the highest fidelity.

Example:
    >>> from ConfigSpace import ConfigurationSpace
    >>> from optimizers.base import Budget, Problem
    >>> from tasks.base import Objective, Result
    >>> space = ConfigurationSpace({"x": (-2.0, 2.0), "k": ["a", "b"]}, seed=0)
    >>> opt = OptunaTPE(Problem(space, (Objective("y"),), None, Budget(5)), seed=1)
    >>> trial = opt.ask()
    >>> sorted(trial.config), trial.fidelity
    (['k', 'x'], None)
    >>> opt.tell(trial, Result((trial.config["x"] ** 2,)))
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
from ConfigSpace import ConfigurationSpace

from optimizers.base import Optimizer, Problem, Trial
from optimizers.sampling import sample_configs
from optimizers.space_conversion import (
    Param,
    decode,
    decode_config,
    encode,
    is_active,
    is_forbidden,
    library_seed,
    params_of,
    searchable,
    unsupported_features,
)
from tasks.base import Result

#: Consecutive forbidden proposals after which ``ask`` falls back to a random valid configuration.
MAX_RESAMPLES = 20


def _suggest(trial: Any, param: Param, distribution: Any) -> Any:
    """Suggest one value through Optuna's public define-by-run API."""
    from optuna.distributions import CategoricalDistribution, FloatDistribution

    if isinstance(distribution, FloatDistribution):
        return trial.suggest_float(param.name, distribution.low, distribution.high, log=distribution.log)
    if isinstance(distribution, CategoricalDistribution):
        return trial.suggest_categorical(param.name, distribution.choices)
    return trial.suggest_int(param.name, distribution.low, distribution.high, log=distribution.log)


def optuna_distributions(space: ConfigurationSpace) -> dict[str, Any]:
    """Optuna distributions for every searched parameter (categoricals/ordinals as index).

    Ordinals become an ``IntDistribution`` over the index so their order is kept.

    Example:
        >>> from ConfigSpace import ConfigurationSpace
        >>> optuna_distributions(ConfigurationSpace({"x": (1e-3, 1.0)}))["x"].log
        False
    """
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    out: dict[str, Any] = {}
    for p in searchable(space):
        if p.kind == "float":
            out[p.name] = FloatDistribution(p.lower, p.upper, log=p.log)
        elif p.kind == "int":
            out[p.name] = IntDistribution(int(p.lower), int(p.upper), log=p.log)
        elif p.kind == "ordinal":
            out[p.name] = IntDistribution(0, p.n_choices - 1)
        else:
            out[p.name] = CategoricalDistribution(tuple(range(p.n_choices)))
    return out


class OptunaSampler(Optimizer):
    """Base adapter: an Optuna study driven by ask/tell. Subclasses pick the sampler.

    ``params`` are keyword arguments of the sampler class.
    """

    supports: ClassVar[frozenset[str]] = frozenset()
    # Optuna's ask/tell is built for parallel workers: asked, untold trials stay RUNNING in the study.
    supports_pending: ClassVar[bool] = True
    requires: ClassVar[tuple[str, ...]] = ("optuna",)
    extra: ClassVar[str | None] = "optuna"
    library: ClassVar[str | None] = "optuna"
    reserved_params: ClassVar[Mapping[str, str]] = {"seed": "derived from the run seed"}

    def __init__(self, problem: Problem, seed: int, **params: Any) -> None:
        super().__init__(problem, seed, **params)
        import optuna

        # Optuna logs one INFO line per trial; the runner does the logging here.
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        with warnings.catch_warnings():
            # QMCSampler and some sampler options are flagged experimental; that is not news to a benchmark.
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            sampler = self.make_sampler(library_seed(self.seed), dict(params))
        directions = [
            optuna.study.StudyDirection.MINIMIZE if o.minimize else optuna.study.StudyDirection.MAXIMIZE
            for o in problem.objectives
        ]
        self._study = optuna.create_study(sampler=sampler, directions=directions)
        self._params = params_of(problem.space)
        self._distributions = optuna_distributions(problem.space)
        self._conditional = bool(problem.space.conditions)
        self._fallback_rng = np.random.default_rng(library_seed(self.seed, salt=1))

    def make_sampler(self, seed: int, params: dict[str, Any]) -> Any:
        """The configured Optuna sampler (override in subclasses)."""
        raise NotImplementedError

    @classmethod
    def check_space(cls, space: ConfigurationSpace) -> str | None:
        return unsupported_features(space, "optuna", conditions=True, forbiddens=True)

    def _propose(self) -> tuple[Any, dict[str, Any]]:
        if not self._conditional:
            otrial = self._study.ask(self._distributions)
            return otrial, decode_config(self.problem.space, otrial.params)
        # Define-by-run: Optuna only learns about parameters that are active in this trial.
        otrial = self._study.ask()
        config: dict[str, Any] = {}
        for param in self._params:
            if not is_active(self.problem.space, param.name, config):
                continue
            if param.kind == "constant":
                config[param.name] = param.choices[0]
            else:
                raw = _suggest(otrial, param, self._distributions[param.name])
                config[param.name] = decode(param, raw)
        return otrial, config

    def ask(self) -> Trial:
        from optuna.trial import TrialState

        for _ in range(MAX_RESAMPLES):
            otrial, config = self._propose()
            if not is_forbidden(self.problem.space, config):
                return Trial(config, meta={"optuna_trial": otrial.number})
            # A failed trial is ignored by Optuna's models: the forbidden point teaches nothing false.
            self._study.tell(otrial, state=TrialState.FAIL)
        (valid,) = sample_configs(self.problem.space, self._fallback_rng, 1)
        by_name = {p.name: p for p in self._params}
        searched = {name: value for name, value in valid.items() if name in self._distributions}
        self._study.enqueue_trial({name: encode(by_name[name], value) for name, value in searched.items()})
        otrial, config = self._propose()
        return Trial(config, meta={"optuna_trial": otrial.number, "forbidden_fallback": True})

    def tell(self, trial: Trial, result: Result) -> None:
        from optuna.trial import TrialState

        number = trial.meta["optuna_trial"]
        values = [float(v) for v in result.values]
        if len(values) != len(self.problem.objectives):
            raise ValueError(
                f"result has {len(values)} values but the task has {len(self.problem.objectives)} objectives"
            )
        if all(math.isfinite(v) for v in values):
            self._study.tell(number, values)
        else:
            self._study.tell(number, state=TrialState.FAIL)


class OptunaTPE(OptunaSampler):
    """Optuna's ``TPESampler`` on single-objective tasks (see :class:`OptunaMOTPE` for MO).

    Example:
        >>> OptunaTPE.supports
        frozenset()
    """

    params_from = "optuna.samplers:TPESampler"

    def make_sampler(self, seed: int, params: dict[str, Any]) -> Any:
        import optuna

        # Pending (RUNNING) trials count as the worst value seen, so parallel workers spread out
        # (Optuna 5's default; explicit for Optuna 4). Sequential runs have no other RUNNING trial.
        params.setdefault("constant_liar", True)
        return optuna.samplers.TPESampler(seed=seed, **params)


class OptunaMOTPE(OptunaTPE):
    """Optuna's ``TPESampler`` with several objectives (MOTPE); multi-objective tasks only.

    Example:
        >>> sorted(OptunaMOTPE.supports)
        ['multi_objective']
    """

    supports = frozenset({"multi_objective"})

    @classmethod
    def incompatibility(cls, problem: Problem) -> str | None:
        if not problem.is_multi_objective:
            return f"{cls.__name__} is multi-objective only (use optuna_tpe on single-objective tasks)"
        return super().incompatibility(problem)


class OptunaCmaEs(OptunaSampler):
    """Optuna's ``CmaEsSampler`` (package ``cmaes``); categoricals fall back to random sampling.

    Example:
        >>> OptunaCmaEs.supports
        frozenset()
    """

    params_from = "optuna.samplers:CmaEsSampler"
    requires = ("optuna", "cmaes")  # optuna does not depend on cmaes; its CmaEsSampler needs it

    def make_sampler(self, seed: int, params: dict[str, Any]) -> Any:
        import optuna

        params.setdefault("warn_independent_sampling", False)
        return optuna.samplers.CmaEsSampler(seed=seed, **params)


class OptunaQMC(OptunaSampler):
    """Optuna's ``QMCSampler`` (scrambled Sobol by default): space filling, any number of objectives.

    Example:
        >>> sorted(OptunaQMC.supports)
        ['multi_objective']
    """

    supports = frozenset({"multi_objective"})

    params_from = "optuna.samplers:QMCSampler"

    def make_sampler(self, seed: int, params: dict[str, Any]) -> Any:
        import optuna

        params.setdefault("scramble", True)
        params.setdefault("warn_independent_sampling", False)
        params.setdefault("warn_asynchronous_seeding", False)
        return optuna.samplers.QMCSampler(seed=seed, **params)


class OptunaRandom(OptunaSampler):
    """Optuna's ``RandomSampler``: any number of objectives.

    Example:
        >>> sorted(OptunaRandom.supports)
        ['multi_objective']
    """

    supports = frozenset({"multi_objective"})

    params_from = "optuna.samplers:RandomSampler"

    def make_sampler(self, seed: int, params: dict[str, Any]) -> Any:
        import optuna

        return optuna.samplers.RandomSampler(seed=seed, **params)


class OptunaNSGA2(OptunaSampler):
    """Optuna's ``NSGAIISampler``: a genetic algorithm, single- or multi-objective.

    Example:
        >>> sorted(OptunaNSGA2.supports)
        ['multi_objective']
    """

    supports = frozenset({"multi_objective"})

    params_from = "optuna.samplers:NSGAIISampler"

    def make_sampler(self, seed: int, params: dict[str, Any]) -> Any:
        import optuna

        return optuna.samplers.NSGAIISampler(seed=seed, **params)
