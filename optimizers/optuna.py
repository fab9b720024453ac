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

:class:`OptunaAuto` picks the sampler from the problem (OptunaHub's AutoSampler rule,
re-implemented here: OptunaHub downloads its code at run time, which a benchmark must not do).

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

import contextlib
import logging
import math
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
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

    @classmethod
    def check_params(cls, params: Mapping[str, Any]) -> str | None:
        """Names and types (see :meth:`Optimizer.check_params`), then the signs of the numbers.

        Every numeric parameter of Optuna's samplers is a count, a size, a probability or a
        weight; Optuna takes some negative ones without a word (``n_startup_trials=-5`` runs as
        0), so a typo would give a study of another method than the one named.

        Example:
            >>> print(OptunaTPE.check_params({"n_startup_trials": -5}))  # doctest: +ELLIPSIS
            OptunaTPE n_startup_trials=-5 is invalid: use a finite number >= 0 (...)
            >>> OptunaTPE.check_params({"n_startup_trials": 0}) is None
            True
        """
        reason = super().check_params(params)
        if reason:
            return reason
        for name, value in params.items():
            number = isinstance(value, (int, float)) and not isinstance(value, bool)
            if number and not (math.isfinite(value) and value >= 0):
                return (
                    f"{cls.__name__} {name}={value!r} is invalid: use a finite number >= 0 "
                    "(Optuna's numeric sampler parameters are counts, sizes, probabilities or weights)"
                )
        return None

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
        with self._compute_threads():
            return self._ask()

    def tell(self, trial: Trial, result: Result) -> None:
        with self._compute_threads():
            self._tell(trial, result)

    def _compute_threads(self) -> Any:
        """Context around the sampler's work (torch-based samplers limit torch's threads)."""
        return contextlib.nullcontext()

    def _ask(self) -> Trial:
        from optuna.trial import TrialState

        for _ in range(MAX_RESAMPLES):
            otrial, config = self._propose()
            if not is_forbidden(self.problem.space, config):
                return Trial(config, meta={"optuna_trial": otrial.number, **self._trial_meta()})
            # A failed trial is ignored by Optuna's models: the forbidden point teaches nothing false.
            self._study.tell(otrial, state=TrialState.FAIL)
        (valid,) = sample_configs(self.problem.space, self._fallback_rng, 1)
        by_name = {p.name: p for p in self._params}
        searched = {name: value for name, value in valid.items() if name in self._distributions}
        self._study.enqueue_trial({name: encode(by_name[name], value) for name, value in searched.items()})
        otrial, config = self._propose()
        meta = {"optuna_trial": otrial.number, "forbidden_fallback": True, **self._trial_meta()}
        return Trial(config, meta=meta)

    def _trial_meta(self) -> dict[str, Any]:
        """What a subclass records about the proposal just made (see :class:`OptunaAuto`)."""
        return {}

    def _tell(self, trial: Trial, result: Result) -> None:
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
    # optuna does not depend on cmaes; its CmaEsSampler needs it, and cmaes imports scipy (for its
    # CMA-ES with margin), so runs record both
    requires = ("optuna", "cmaes", "scipy")

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
    requires = ("optuna", "scipy")  # the Sobol sequence is scipy.stats.qmc's

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


class OptunaNSGA3(OptunaSampler):
    """Optuna's ``NSGAIIISampler`` (reference-point based NSGA-III); multi-objective tasks only.

    Reference points default to Das and Dennis's simplex lattice (``dividing_parameter``
    divisions per objective), as in Optuna.

    Example:
        >>> sorted(OptunaNSGA3.supports)
        ['multi_objective']
    """

    supports = frozenset({"multi_objective"})

    params_from = "optuna.samplers:NSGAIIISampler"

    @classmethod
    def incompatibility(cls, problem: Problem) -> str | None:
        if not problem.is_multi_objective:
            # Reference directions on a 1-D "front" are one point: NSGA-III degenerates to a plain GA.
            return f"{cls.__name__} is multi-objective only (use optuna_nsga2 on single-objective tasks)"
        return super().incompatibility(problem)

    def make_sampler(self, seed: int, params: dict[str, Any]) -> Any:
        import optuna

        return optuna.samplers.NSGAIIISampler(seed=seed, **params)


@contextlib.contextmanager
def _one_torch_thread() -> Iterator[None]:
    """One torch thread while a GP is fitted and its acquisition optimized.

    The matrices are small (one row per trial) and runs execute side by side in worker
    processes: torch's default of one thread per core oversubscribes them (a contract
    check of optuna_gp took 1.7x longer with them on a loaded 2-core machine).
    """
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


#: Where Optuna's Gaussian-process sampler gets torch (and scipy) from: the ``botorch`` extra.
_TORCH_HINT = "pip install 'nxm-bench[optuna,botorch]' (torch; a CPU build is enough, see README)"


class OptunaGP(OptunaSampler):
    """Optuna's ``GPSampler``: Gaussian-process BO (Matern-5/2 ARD kernel, logEI; logEHVI on
    several objectives), after ``n_startup_trials`` random trials.

    Needs torch and scipy besides Optuna (the ``optuna`` extra does not bring them). Categorical
    parameters get the GP's own categorical kernel; on conditional spaces only the parameters
    active in every trial are modelled, the others are sampled at random by Optuna.

    Example:
        >>> sorted(OptunaGP.supports), OptunaGP.requires
        (['multi_objective'], ('optuna', 'torch', 'scipy'))
    """

    supports = frozenset({"multi_objective"})

    params_from = "optuna.samplers:GPSampler"
    requires = ("optuna", "torch", "scipy")
    install_hint = _TORCH_HINT

    def _compute_threads(self) -> Any:
        return _one_torch_thread()

    def make_sampler(self, seed: int, params: dict[str, Any]) -> Any:
        import optuna

        sequential_lbfgsb()
        # Conditional children fall back to Optuna's random sampler by design; one warning per
        # trial and parameter would bury the run's log.
        params.setdefault("warn_independent_sampling", False)
        return optuna.samplers.GPSampler(seed=seed, **params)


class _Unavailable:
    """Stands in for Optuna's record of the greenlet import: "it failed"."""

    def is_successful(self) -> bool:
        return False


def _not_greenlet_notice(record: logging.LogRecord) -> bool:
    return not record.getMessage().startswith("The 'greenlet' package is unavailable")


def sequential_lbfgsb() -> None:
    """Make Optuna's GP acquisition optimizer run its L-BFGS-B restarts one after the other.

    ``GPSampler`` batches them through greenlet when that package imports and runs them
    sequentially when not, and the two give different trials for one seed (hartmann3 and bbob
    f10 5-D, seeds 0 and 1, 30 trials: the same first 11-12 trials, then different ones).
    greenlet comes with many environments (SQLAlchemy, gevent and others install it), so a run
    would depend on a package that no run records. The adapters always take the sequential path,
    the one the archive's ``optuna_gp`` and ``optuna_auto`` entries were built on. The switch is
    process-wide and concerns only this optimizer of Optuna's; Optuna's notice that it "falls
    back" to that path, logged once per process, is dropped, as it is the chosen path here.
    A future Optuna without this module is left as it is.

    Example:
        >>> sequential_lbfgsb()  # doctest: +SKIP
    """
    logging.getLogger("optuna._gp.batched_lbfgsb").addFilter(_not_greenlet_notice)  # before its import
    try:
        from optuna._gp import batched_lbfgsb
    except ImportError:
        return
    flag = getattr(batched_lbfgsb, "_greenlet_imports", None)
    if flag is not None and flag.is_successful():
        batched_lbfgsb._greenlet_imports = _Unavailable()  # type: ignore[assignment]


@dataclass(frozen=True)
class AutoPhase:
    """One phase of :class:`OptunaAuto`'s plan: once ``start`` trials completed, ``sampler`` proposes.

    Example:
        >>> AutoPhase(1, "GPSampler")
        AutoPhase(start=1, sampler='GPSampler')
    """

    start: int
    sampler: str


#: Completed trials after which AutoSampler leaves its model-based sampler (``_MAX_BUDGET_FOR_*``).
AUTO_SWITCH_AFTER = 250


def auto_plan(problem: Problem, switch_after: int = AUTO_SWITCH_AFTER) -> tuple[AutoPhase, ...]:
    """The samplers :class:`OptunaAuto` uses on ``problem``, in order, and when each starts.

    The rule is OptunaHub's AutoSampler (Optuna team, 2024; ``samplers/auto_sampler``),
    decided here from the problem instead of from the study's trials:

    * the first trial is random (``RandomSampler``: nothing has completed yet);
    * one objective, a categorical or conditional parameter: ``TPESampler``
      (multivariate, constant liar) for the rest of the run;
    * one objective, numeric parameters only (ordinals count as integers):
      ``GPSampler``; after ``switch_after`` completed trials ``CmaEsSampler``
      warm-started from them (a GP refit per trial grows cubic in the trials; with
      fewer than 10 to start from, CMA-ES starts cold);
    * several objectives, a conditional parameter: ``TPESampler``;
    * several objectives otherwise: ``TPESampler`` with 4+ objectives or a
      categorical parameter, else ``GPSampler`` (logEHVI); after ``switch_after``
      completed trials ``NSGAIISampler`` (2-3 objectives) or ``NSGAIIISampler``
      (4+), whose first generation is every earlier trial.

    Phases the budget (``n_trials``) never reaches are left out.

    Example:
        >>> from ConfigSpace import ConfigurationSpace
        >>> from optimizers.base import Budget
        >>> from tasks.base import Objective
        >>> numeric = ConfigurationSpace({"x": (0.0, 1.0), "n": (1, 9)})
        >>> [p.sampler for p in auto_plan(Problem(numeric, (Objective("y"),), None, Budget(100)))]
        ['RandomSampler', 'GPSampler']
        >>> [p.sampler for p in auto_plan(Problem(numeric, (Objective("y"),), None, Budget(300)))]
        ['RandomSampler', 'GPSampler', 'CmaEsSampler']
        >>> mixed = ConfigurationSpace({"x": (0.0, 1.0), "k": ["a", "b"]})
        >>> [p.sampler for p in auto_plan(Problem(mixed, (Objective("y"),), None, Budget(300)))]
        ['RandomSampler', 'TPESampler']
    """
    if switch_after < 2:
        raise ValueError(f"switch_after={switch_after!r} is invalid: use at least 2 completed trials")
    categorical = any(p.kind == "categorical" for p in searchable(problem.space))
    conditional = bool(problem.space.conditions)
    n_objectives = len(problem.objectives)
    phases = [AutoPhase(0, "RandomSampler")]
    if conditional:
        phases.append(AutoPhase(1, "TPESampler"))
    elif n_objectives == 1:
        if categorical:
            phases.append(AutoPhase(1, "TPESampler"))
        else:
            phases += [AutoPhase(1, "GPSampler"), AutoPhase(switch_after, "CmaEsSampler")]
    else:
        model = "TPESampler" if n_objectives >= 4 or categorical else "GPSampler"
        late = "NSGAIISampler" if n_objectives < 4 else "NSGAIIISampler"
        phases += [AutoPhase(1, model), AutoPhase(switch_after, late)]
    return tuple(p for p in phases if p.start < problem.budget.n_trials)


def _phase_sampler(name: str, seed: int, study: Any, switch_after: int) -> Any:
    """A fresh sampler for one phase of the plan, configured as AutoSampler configures it."""
    import optuna
    from optuna.trial import TrialState

    samplers = optuna.samplers
    if name == "RandomSampler":
        return samplers.RandomSampler(seed=seed)
    if name == "TPESampler":
        return samplers.TPESampler(seed=seed, multivariate=True, constant_liar=True)
    if name == "GPSampler":
        return samplers.GPSampler(seed=seed, warn_independent_sampling=False)
    if name == "CmaEsSampler":
        done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        # Trial-number order, not completion time: the same seed must give the same warm start.
        source = sorted(done, key=lambda t: t.number)[:switch_after]
        # WS-CMA-ES starts from the best 10% of the source trials: it needs 10 of them (a plan
        # with a small switch_after starts CMA-ES cold instead).
        warm = source if len(source) >= 10 else None
        return samplers.CmaEsSampler(seed=seed, source_trials=warm, warn_independent_sampling=False)
    if name == "NSGAIISampler":
        return samplers.NSGAIISampler(seed=seed)
    if name == "NSGAIIISampler":
        return samplers.NSGAIIISampler(seed=seed)
    raise ValueError(f"unknown phase sampler {name!r}")


@cache
def _phased_sampler_class() -> type:
    """The Optuna sampler that runs an :func:`auto_plan` (a class made on first use: Optuna is
    imported lazily, so its ``BaseSampler`` cannot be subclassed at module import)."""
    import optuna
    from optuna.trial import TrialState

    class PhasedSampler(optuna.samplers.BaseSampler):
        """Delegates to the plan's phase for the number of completed trials (AutoSampler's switch)."""

        def __init__(self, plan: Sequence[AutoPhase], seed: int, switch_after: int) -> None:
            self.plan = tuple(plan)
            self._seed = seed
            self._switch_after = switch_after
            self._index = -1
            self._sampler: Any = None
            self.current = self.plan[0].sampler
            # NSGA-II/III only breed from trials tagged with their generation; tagging every
            # trial of the earlier phases as generation 0 makes them its first population
            # (AutoSampler's warm start), instead of spending a population on random trials.
            late = self.plan[-1].sampler
            nsga: dict[str, Any] = {
                "NSGAIISampler": optuna.samplers.NSGAIISampler,
                "NSGAIIISampler": optuna.samplers.NSGAIIISampler,
            }
            self._generation_key = nsga[late]._get_generation_key() if late in nsga else None

        def before_trial(self, study: Any, trial: Any) -> None:
            n_complete = len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)))
            index = max(i for i, phase in enumerate(self.plan) if phase.start <= n_complete)
            if index != self._index:
                self._index = index
                self.current = self.plan[index].sampler
                seed = library_seed(self._seed, salt=index)
                with warnings.catch_warnings():
                    # NSGAIIISampler and CmaEsSampler's source_trials are flagged experimental.
                    warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                    self._sampler = _phase_sampler(self.current, seed, study, self._switch_after)
            self._sampler.before_trial(study, trial)

        def infer_relative_search_space(self, study: Any, trial: Any) -> dict[str, Any]:
            return dict(self._sampler.infer_relative_search_space(study, trial))

        def sample_relative(self, study: Any, trial: Any, search_space: dict[str, Any]) -> dict[str, Any]:
            if self._generation_key is not None and self._index < len(self.plan) - 1:
                study._storage.set_trial_system_attr(trial._trial_id, self._generation_key, 0)
            return dict(self._sampler.sample_relative(study, trial, search_space))

        def sample_independent(self, study: Any, trial: Any, param_name: str, param_distribution: Any) -> Any:
            return self._sampler.sample_independent(study, trial, param_name, param_distribution)

        def after_trial(self, study: Any, trial: Any, state: Any, values: Sequence[float] | None) -> None:
            self._sampler.after_trial(study, trial, state, values)

        def reseed_rng(self) -> None:
            if self._sampler is not None:
                self._sampler.reseed_rng()

    return PhasedSampler


class OptunaAuto(OptunaSampler):
    """Automatic sampler choice: OptunaHub's AutoSampler rule, decided from the problem.

    OptunaHub's ``AutoSampler`` (Optuna team, 2024) picks a built-in sampler from the
    search space, the number of objectives and the trials so far; OptunaHub downloads
    its code at run time, so the rule is re-implemented here (see :func:`auto_plan`):
    GP-based BO (``GPSampler``) for numeric spaces, multivariate TPE for categorical or
    conditional ones, CMA-ES (one objective) or NSGA-II/III (several) once
    ``switch_after`` trials completed, after one random trial. The plan is in
    :attr:`plan`; each trial's ``meta["optuna_sampler"]`` names the sampler that
    proposed it.

    Needs torch and scipy (``GPSampler``) and cmaes besides Optuna, as AutoSampler does.

    Example:
        >>> from ConfigSpace import ConfigurationSpace
        >>> from optimizers.base import Budget
        >>> from tasks.base import Objective
        >>> space = ConfigurationSpace({"x": (0.0, 1.0), "k": ["a", "b"]}, seed=0)
        >>> opt = OptunaAuto(Problem(space, (Objective("y"),), None, Budget(5)), seed=0)
        >>> [p.sampler for p in opt.plan], opt.ask().meta["optuna_sampler"]
        (['RandomSampler', 'TPESampler'], 'RandomSampler')
    """

    supports = frozenset({"multi_objective"})

    requires = ("optuna", "torch", "scipy", "cmaes")
    install_hint = _TORCH_HINT
    param_types: ClassVar[Mapping[str, Any] | None] = {"switch_after": int}

    def make_sampler(self, seed: int, params: dict[str, Any]) -> Any:
        switch_after = int(params.pop("switch_after", AUTO_SWITCH_AFTER))
        self.plan = auto_plan(self.problem, switch_after)
        if any(phase.sampler == "GPSampler" for phase in self.plan):
            sequential_lbfgsb()
        self._auto = _phased_sampler_class()(self.plan, seed, switch_after)
        return self._auto

    def _compute_threads(self) -> Any:
        # Only a plan with a GP phase needs torch (importing it alone takes a second or two).
        if any(phase.sampler == "GPSampler" for phase in self.plan):
            return _one_torch_thread()
        return contextlib.nullcontext()

    def _trial_meta(self) -> dict[str, Any]:
        return {"optuna_sampler": self._auto.current}
