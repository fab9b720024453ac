"""Syne Tune 0.16 schedulers driven through their own scheduler API (``synetune`` extra).

Syne Tune's :class:`~syne_tune.Tuner` owns a loop and a trial backend; here the runner owns
the loop, so the adapter plays the Tuner's part itself: ``scheduler.suggest()`` gives a
``TrialSuggestion``, the adapter registers a Syne Tune ``Trial`` (``on_trial_add``) and,
when the result is told, reports it (``on_trial_result``) and ends the trial as the Tuner
would (``on_trial_complete``, or ``on_trial_remove`` after a ``STOP`` decision).

Single-fidelity methods (tasks with a fidelity axis run at the highest fidelity):

* :class:`SyneTuneBORE` (``synetune_bore``): BORE, a classifier (XGBoost) as density-ratio
  acquisition (Tiao et al. 2021).
* :class:`SyneTuneCQR` (``synetune_cqr``): conformalized quantile regression with gradient
  boosting (Salinas et al. 2023). Syne Tune imports ``huggingface_hub`` on that path.
* :class:`SyneTuneKDE` (``synetune_kde``): the multivariate KDE model of BOHB used as a
  single-fidelity TPE (Bergstra et al. 2011; Falkner et al. 2018).
* :class:`SyneTuneBoTorch` (``synetune_botorch``): Syne Tune's GP/EI searcher on BoTorch.

Multi-fidelity methods on Syne Tune's ``AsynchronousSuccessiveHalving``:

* :class:`SyneTuneASHA` (``synetune_asha``): ASHA with random sampling (Li et al. 2020).
* :class:`SyneTuneBOHB` (``synetune_bohb``): ASHA with the KDE searcher (Falkner et al. 2018,
  asynchronous as in Syne Tune).
* :class:`SyneTuneASHABORE` (``synetune_asha_bore``) and :class:`SyneTuneASHACQR`
  (``synetune_asha_cqr``): ASHA with the BORE and the CQR searcher (Syne Tune's ``ASHABORE``
  and ``ASHACQR`` baselines): model-based asynchronous multi-fidelity methods.

Syne Tune 0.16's ASHA is the *stopping* variant: a trial trains through the rung levels
(``resource_attr`` milestones ``1, eta, eta**2, ...``) and at each milestone the scheduler
says ``CONTINUE`` (the trial is in the top ``1/eta`` of that rung so far) or ``STOP``. The
runner evaluates one fidelity per trial, so milestone ``k`` is mapped onto the fidelity of
rung ``k`` of :mod:`optimizers.asha` (``max_fidelity * eta**(k - s_max)``, snapped to
admissible values on discrete axes): a new Syne Tune trial is asked at its bracket's lowest
milestone, its result is reported at that milestone, and a ``CONTINUE`` queues the same
configuration at the next rung (the next :meth:`~SyneTuneMultiFidelity.ask`, before any
new configuration) — a promotion evaluated from scratch, as in ``asha``. The top rung
ends the trial.

Search spaces: floats and integers (linear or log) map to ``uniform``/``loguniform`` and
``randint``/``lograndint``; categoricals to ``choice`` over the category index; ordinals to
``randint`` over the index (so models keep their order); constants are added back by
:func:`~optimizers.space_conversion.decode_config`. Conditional spaces are refused (Syne Tune
has no conditions). Forbidden clauses are handled by resampling: a forbidden suggestion is
never evaluated (these searchers keep no state per suggestion), and after ``MAX_RESAMPLES``
forbidden suggestions in a row a valid random configuration drawn from the run seed is handed
to the scheduler as its next point to evaluate. BoTorch keeps every suggestion as a pending
(fantasized) point, so :class:`SyneTuneBoTorch` refuses forbidden clauses instead.

Randomness: the run seed becomes the scheduler's ``random_seed``. Several Syne Tune code paths
also draw from the *global* numpy / ``random`` / torch generators (random sampling with
``Domain.sample()``, ASHA's bracket choice, BORE's DE, BoTorch's ``torch.manual_seed``), so
every call into Syne Tune runs inside a :class:`~optimizers.global_rng.GlobalRngSandbox`:
private generator states seeded from the run seed are swapped in and the caller's states
restored afterwards. Results then depend on the seed only, and the caller's global generators
are left untouched.

Losses: maximized objectives are negated, non-finite values replaced by the worst loss seen
(:func:`~optimizers.space_conversion.minimization_losses`); Syne Tune always minimizes.
Asynchronous by design (Syne Tune runs its schedulers with many workers), every class accepts
several outstanding asks (``supports_pending``); the searchers other than BoTorch do not
model pending trials.

Example:
    >>> from ConfigSpace import ConfigurationSpace
    >>> from optimizers.base import Budget, Problem
    >>> from tasks.base import Fidelity, Objective, Result
    >>> space = ConfigurationSpace({"x": (0.0, 1.0), "k": ["a", "b"]}, seed=0)
    >>> opt = SyneTuneASHA(Problem(space, (Objective("y"),), Fidelity("epochs", 1, 9), Budget(5)), seed=0)
    >>> opt.rungs
    (1.0, 3.0, 9.0)
    >>> trial = opt.ask()
    >>> trial.fidelity, trial.config["k"] in ("a", "b")
    (1.0, True)
    >>> opt.tell(trial, Result((trial.config["x"],)))
"""

from __future__ import annotations

import datetime
import logging
import math
import warnings
from collections import deque
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
from ConfigSpace import ConfigurationSpace

from optimizers.base import Optimizer, Problem, SearchExhausted, Trial, load_callable
from optimizers.global_rng import GlobalRngSandbox
from optimizers.hyperband import admissible_fidelity, bandit_fidelity_range, bracket_schedule, max_bracket
from optimizers.sampling import sample_configs
from optimizers.smac import single_fidelity_reason
from optimizers.space_conversion import (
    decode_config,
    encode,
    is_forbidden,
    library_seed,
    minimization_losses,
    searchable,
    unsupported_features,
)
from tasks.base import Result

#: Consecutive forbidden suggestions after which a random valid configuration is handed over.
MAX_RESAMPLES = 20
#: Name of the metric reported to Syne Tune (a loss: the adapter always minimizes).
METRIC = "loss"
#: Name of the resource attribute (rung level) reported to the multi-fidelity schedulers.
RESOURCE_ATTR = "rung_level"
#: A fixed creation time for Syne Tune ``Trial`` records: the wall clock would add nothing.
_EPOCH = datetime.datetime(2000, 1, 1)


def quiet_synetune_logging() -> None:
    """Keep Syne Tune's INFO chatter out of the run logs, unless the user set a level for it.

    Example:
        >>> quiet_synetune_logging()
        >>> logging.getLogger("syne_tune").getEffectiveLevel() >= logging.WARNING
        True
    """
    logger = logging.getLogger("syne_tune")
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.WARNING)


def synetune_space(space: ConfigurationSpace) -> dict[str, Any]:
    """Syne Tune's config space for the searched parameters of ``space`` (constants left out).

    Categoricals become ``choice`` over the category index, ordinals ``randint`` over the
    index (so Syne Tune's models keep the order); :func:`~optimizers.space_conversion.decode_config`
    maps values back.

    Example:
        >>> from ConfigSpace import ConfigurationSpace, Float, Integer, OrdinalHyperparameter
        >>> s = ConfigurationSpace(seed=0)
        >>> s.add(Float("lr", (1e-4, 1.0), log=True), Integer("n", (1, 8)),
        ...       OrdinalHyperparameter("size", ["s", "m", "l"]))
        >>> synetune_space(s)
        {'lr': loguniform(0.0001, 1.0), 'n': randint(1, 8), 'size': randint(0, 2)}
    """
    from syne_tune.config_space import choice, lograndint, loguniform, randint, uniform

    out: dict[str, Any] = {}
    for p in searchable(space):
        if p.kind == "float":
            out[p.name] = (loguniform if p.log else uniform)(p.lower, p.upper)
        elif p.kind == "int":
            out[p.name] = (lograndint if p.log else randint)(int(p.lower), int(p.upper))
        elif p.kind == "ordinal":
            out[p.name] = randint(0, p.n_choices - 1)
        else:
            out[p.name] = choice(list(range(p.n_choices)))
    return out


#: The libraries Syne Tune's model-based searchers compute with, all dependencies of syne-tune:
#: BORE's XGBoost classifier, CQR's gradient-boosted quantiles (scikit-learn's; its package imports
#: XGBoost with the other searchers), the KDE of statsmodels. In ``requires``, so runs record their
#: versions and an upgrade marks archive entries stale.
MODEL_LIBRARIES: dict[str, tuple[str, ...]] = {
    "bore": ("xgboost", "sklearn", "scipy"),
    "cqr": ("xgboost", "sklearn", "scipy"),
    "kde": ("statsmodels", "scipy"),
}


class SyneTuneOptimizer(Optimizer):
    """Shared adapter: a Syne Tune scheduler driven by ask/tell; subclasses build the scheduler.

    ``params`` go to the Syne Tune searcher (single-fidelity classes) or baseline scheduler
    (multi-fidelity classes) named in :attr:`params_from`.
    """

    supports: ClassVar[frozenset[str]] = frozenset()
    supports_pending: ClassVar[bool] = True
    requires: ClassVar[tuple[str, ...]] = ("syne_tune",)
    extra: ClassVar[str | None] = "synetune"
    library: ClassVar[str | None] = "syne-tune"
    reserved_params: ClassVar[Mapping[str, str]] = {
        "config_space": "converted from the task's ConfigurationSpace",
        "random_seed": "derived from the run seed",
        "points_to_evaluate": "not used: the runner's trials start from the seed",
    }
    #: Whether forbidden clauses are handled (by resampling); see the module docstring.
    handles_forbidden: ClassVar[bool] = True

    def __init__(self, problem: Problem, seed: int, **params: Any) -> None:
        super().__init__(problem, seed, **params)
        quiet_synetune_logging()
        rng_seed = library_seed(self.seed, salt=1)
        self._sandbox = GlobalRngSandbox(rng_seed, python_seed=rng_seed, torch_seed=rng_seed)
        self._space = problem.space
        self._params = {p.name: p for p in searchable(problem.space)}
        self._st_space = synetune_space(problem.space)
        self._fallback_rng = np.random.default_rng(library_seed(self.seed, salt=2))
        self._worst: list[float] = []
        self._trials: dict[int, Any] = {}  # Syne Tune trial id -> its Trial record, until it ends
        self._next_id = 0
        with self._sandbox.active(), warnings.catch_warnings():
            self._quiet_warnings()
            self.scheduler = self.make_scheduler(self._st_space, library_seed(self.seed), dict(params))

    def make_scheduler(self, config_space: dict[str, Any], seed: int, params: dict[str, Any]) -> Any:
        """The Syne Tune scheduler (override in subclasses)."""
        raise NotImplementedError

    @staticmethod
    def _quiet_warnings() -> None:
        """Warnings Syne Tune's models emit on every fit that say nothing about the run."""
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", DeprecationWarning)

    @classmethod
    def check_space(cls, space: ConfigurationSpace) -> str | None:
        reason = unsupported_features(space, "Syne Tune", conditions=False, forbiddens=cls.handles_forbidden)
        if reason is None and not searchable(space):
            return "Syne Tune needs at least one hyperparameter to search; the space has only constants"
        return reason

    def _suggest(self) -> tuple[Any, dict[str, Any]]:
        """A new Syne Tune trial, registered with the scheduler, and its decoded configuration."""
        from syne_tune.backend.trial_status import Trial as SyneTrial

        for attempt in range(MAX_RESAMPLES + 1):
            if attempt == MAX_RESAMPLES:
                self._hand_over_valid_config()
            suggestion = self.scheduler.suggest()
            if suggestion is None:
                raise SearchExhausted("the Syne Tune searcher has no configuration left to suggest")
            config = decode_config(self._space, suggestion.config)
            if not is_forbidden(self._space, config):
                break
        trial_id = self._next_id
        self._next_id += 1
        # Syne Tune learns from what was evaluated: the decoded (clipped, rounded) values.
        raw = {name: encode(param, config[name]) for name, param in self._params.items()}
        strial = SyneTrial(trial_id=trial_id, config=raw, creation_time=_EPOCH)
        self.scheduler.on_trial_add(strial)
        self._trials[trial_id] = strial
        return strial, config

    def _hand_over_valid_config(self) -> None:
        """Queue a random valid configuration as the searcher's next point (forbidden clauses)."""
        (valid,) = sample_configs(self._space, self._fallback_rng, 1)
        raw = {name: encode(param, valid[name]) for name, param in self._params.items()}
        searcher = self.scheduler.searcher
        searcher.points_to_evaluate.insert(0, raw)

    def _loss(self, result: Result) -> float:
        return minimization_losses(self.problem, result, self._worst)[0]

    def _trial_of(self, trial: Trial) -> Any:
        trial_id = trial.meta.get("synetune_trial")
        if trial_id not in self._trials:
            raise ValueError(f"trial meta synetune_trial={trial_id!r} was not asked, or its trial has ended")
        return self._trials[trial_id]

    def _end(self, trial_id: int) -> None:
        del self._trials[trial_id]


class SyneTuneSingleFidelity(SyneTuneOptimizer):
    """A Syne Tune searcher in a ``SingleObjectiveScheduler``; full fidelity."""

    #: ``"module:class"`` of the Syne Tune searcher.
    searcher_path: ClassVar[str] = ""

    def make_scheduler(self, config_space: dict[str, Any], seed: int, params: dict[str, Any]) -> Any:
        from syne_tune.optimizer.schedulers.single_objective_scheduler import SingleObjectiveScheduler

        searcher = load_callable(self.searcher_path)(config_space=config_space, random_seed=seed, **params)
        return SingleObjectiveScheduler(
            config_space, metric=METRIC, do_minimize=True, searcher=searcher, random_seed=seed
        )

    def ask(self) -> Trial:
        with self._sandbox.active(), warnings.catch_warnings():
            self._quiet_warnings()
            strial, config = self._suggest()
        return Trial(config, meta={"synetune_trial": strial.trial_id})

    def tell(self, trial: Trial, result: Result) -> None:
        strial = self._trial_of(trial)
        report = {METRIC: self._loss(result)}
        with self._sandbox.active(), warnings.catch_warnings():
            self._quiet_warnings()
            # The Tuner's order for a trial that reports once and completes.
            self.scheduler.on_trial_result(strial, report)
            self.scheduler.on_trial_complete(strial, report)
        self._end(strial.trial_id)


class SyneTuneBORE(SyneTuneSingleFidelity):
    """BORE (Tiao et al. 2021): a classifier of "top ``gamma``" as acquisition; XGBoost by default.

    Example:
        >>> SyneTuneBORE.supports_pending
        True
    """

    searcher_path = "syne_tune.optimizer.schedulers.searchers.bore:Bore"
    params_from = searcher_path
    requires = ("syne_tune", *MODEL_LIBRARIES["bore"])


class SyneTuneCQR(SyneTuneSingleFidelity):
    """Conformalized quantile regression (Salinas et al. 2023) with gradient-boosted quantiles.

    Syne Tune 0.16 imports its blackbox repository (and so ``huggingface_hub``) on this path.

    Example:
        >>> SyneTuneCQR.requires
        ('syne_tune', 'huggingface_hub', 'xgboost', 'sklearn', 'scipy')
    """

    searcher_path = (
        "syne_tune.optimizer.schedulers.searchers.conformal.conformal_quantile_regression_searcher"
        ":ConformalQuantileRegression"
    )
    requires = ("syne_tune", "huggingface_hub", *MODEL_LIBRARIES["cqr"])
    install_hint = "pip install 'nxm-bench[synetune]' huggingface_hub"
    # The searcher forwards **surrogate_kwargs to sklearn; its own names are declared here.
    param_types: ClassVar[Mapping[str, Any] | None] = {
        "num_init_random_draws": int,
        "update_frequency": int,
        "max_fit_samples": int | None,
        "quantiles": int,
    }


class SyneTuneKDE(SyneTuneSingleFidelity):
    """Multivariate KDE density-ratio BO (TPE-like; the model of BOHB, Falkner et al. 2018).

    Example:
        >>> SyneTuneKDE.params_from.endswith("KernelDensityEstimator")
        True
    """

    searcher_path = "syne_tune.optimizer.schedulers.searchers.kde:KernelDensityEstimator"
    params_from = searcher_path
    requires = ("syne_tune", *MODEL_LIBRARIES["kde"])


class SyneTuneBoTorch(SyneTuneSingleFidelity):
    """Syne Tune's GP searcher on BoTorch (log-EI, pending trials fantasized).

    Example:
        >>> SyneTuneBoTorch.requires
        ('syne_tune', 'botorch', 'gpytorch', 'linear_operator', 'torch', 'scipy')
    """

    searcher_path = "syne_tune.optimizer.schedulers.searchers.botorch.botorch_searcher:BoTorchSearcher"
    params_from = searcher_path
    requires = ("syne_tune", "botorch", "gpytorch", "linear_operator", "torch", "scipy")
    install_hint = "pip install 'nxm-bench[synetune,botorch]'"
    # Every suggestion stays pending (fantasized) in the searcher: a discarded one would too.
    handles_forbidden = False

    def __init__(self, problem: Problem, seed: int, **params: Any) -> None:
        import torch  # noqa: F401  (imported before the sandbox, so its generator is sandboxed too)

        super().__init__(problem, seed, **params)

    @staticmethod
    def _quiet_warnings() -> None:
        SyneTuneOptimizer._quiet_warnings()
        from gpytorch.utils.warnings import NumericalWarning

        # gpytorch rounds up tiny noise levels on noise-free objectives, and says so on every fit.
        warnings.simplefilter("ignore", NumericalWarning)


class SyneTuneMultiFidelity(SyneTuneOptimizer):
    """Syne Tune's ``AsynchronousSuccessiveHalving`` (stopping type) on the task's fidelity axis.

    Args:
        problem: The task's problem; must have a fidelity axis with several values.
        seed: Run seed.
        min_fidelity: Fidelity of the lowest rung; defaults to the task's lowest.
        max_fidelity: Fidelity of the highest rung; defaults to the task's highest.
        **params: ``reduction_factor`` (the rungs' ``eta``, 3) and ``brackets`` (1) of Syne Tune's
            ``AsynchronousSuccessiveHalving``; the rest go to its searcher (see :attr:`param_types`).
    """

    supports = frozenset({"multi_fidelity"})
    requires_fidelity = True
    reserved_params = {
        **SyneTuneOptimizer.reserved_params,
        "metric": "the adapter's loss",
        "do_minimize": "always true: maximized objectives are negated",
        "time_attr": "the adapter's rung level",
        "max_t": "set from the rungs",
        "grace_period": "set from the rungs",
    }
    #: Syne Tune's name of the searcher proposing new configurations (``searcher_factory``).
    searcher: ClassVar[str] = "random_search"
    param_types: ClassVar[Mapping[str, Any] | None] = {"reduction_factor": float, "brackets": int}

    def __init__(
        self,
        problem: Problem,
        seed: int,
        min_fidelity: float | None = None,
        max_fidelity: float | None = None,
        **params: Any,
    ) -> None:
        eta = params.get("reduction_factor", 3)
        fidelity, eta, low, high = bandit_fidelity_range(
            type(self).__name__, problem, eta, min_fidelity, max_fidelity
        )
        s_max = max_bracket(eta, low, high)
        fids = [
            admissible_fidelity(r.fidelity, fidelity, low, high)
            for r in bracket_schedule(s_max, s_max, eta, high)
        ]
        #: Fidelity of each rung, lowest first: rung ``k`` is Syne Tune's milestone ``eta**k``.
        self.rungs: tuple[float, ...] = tuple(sorted(set(fids)))
        self._eta = eta
        # eta**(n-1) plus a hair: Syne Tune counts its rungs as int(log(max_t) / log(eta) + 1),
        # which float error can cut one short (log(243) / log(3) = 4.999...).
        self._max_t = eta ** (len(self.rungs) - 1) * (1 + 1e-9)
        self._queue: deque[tuple[int, int]] = deque()  # (Syne Tune trial id, rung) continuing
        self._configs: dict[int, dict[str, Any]] = {}
        super().__init__(problem, seed, min_fidelity=min_fidelity, max_fidelity=max_fidelity, **params)
        milestones = sorted(m for bracket in self.scheduler.brackets for m, _ in bracket.rungs)
        if round(max(milestones)) != round(eta ** (len(self.rungs) - 1)):
            raise ValueError(f"Syne Tune made rung levels {milestones} for {len(self.rungs)} rungs")

    @classmethod
    def incompatibility(cls, problem: Problem) -> str | None:
        return single_fidelity_reason(cls.__name__, problem) or super().incompatibility(problem)

    def make_scheduler(self, config_space: dict[str, Any], seed: int, params: dict[str, Any]) -> Any:
        from syne_tune.optimizer.schedulers.asha import AsynchronousSuccessiveHalving

        params.pop("min_fidelity", None)
        params.pop("max_fidelity", None)
        scheduler_params = {k: params.pop(k) for k in ("reduction_factor", "brackets") if k in params}
        return AsynchronousSuccessiveHalving(
            config_space,
            metric=METRIC,
            do_minimize=True,
            searcher=self.searcher,
            time_attr=RESOURCE_ATTR,
            max_t=self._max_t,
            grace_period=1,
            random_seed=seed,
            searcher_kwargs=params,  # what is left: the searcher's options
            **scheduler_params,
        )

    def _resource(self, rung: int) -> float:
        """The milestone reported for ``rung``; the top one is ``max_t`` (Syne Tune then stops)."""
        return self._max_t if rung == len(self.rungs) - 1 else float(self._eta**rung)

    def _rung_of(self, milestone: float) -> int:
        return min(round(math.log(milestone) / math.log(self._eta)), len(self.rungs) - 1)

    def ask(self) -> Trial:
        if self._queue:
            trial_id, rung = self._queue.popleft()
            config = dict(self._configs[trial_id])
        else:
            with self._sandbox.active(), warnings.catch_warnings():
                self._quiet_warnings()
                strial, config = self._suggest()
            trial_id = strial.trial_id
            self._configs[trial_id] = config
            # A trial of bracket s (brackets > 1) starts at that bracket's lowest milestone.
            bracket = self.scheduler.trial_info[trial_id]
            rung = self._rung_of(min(m for m, _ in bracket.rungs))
            config = dict(config)
        return Trial(config, self.rungs[rung], {"synetune_trial": trial_id, "rung": rung})

    def tell(self, trial: Trial, result: Result) -> None:
        from syne_tune.optimizer.scheduler import SchedulerDecision

        strial = self._trial_of(trial)
        rung = trial.meta.get("rung")
        if not isinstance(rung, int) or not 0 <= rung < len(self.rungs):
            raise ValueError(f"trial meta rung={rung!r} is not a rung of this optimizer")
        report = {METRIC: self._loss(result), RESOURCE_ATTR: self._resource(rung)}
        with self._sandbox.active(), warnings.catch_warnings():
            self._quiet_warnings()
            decision = self.scheduler.on_trial_result(strial, report)
            if decision == SchedulerDecision.CONTINUE and rung + 1 < len(self.rungs):
                self._queue.append((strial.trial_id, rung + 1))
                return
            # STOP (or the top rung): the Tuner removes a trial the scheduler stopped.
            self.scheduler.on_trial_remove(strial)
        self._end(strial.trial_id)
        del self._configs[strial.trial_id]


class SyneTuneASHA(SyneTuneMultiFidelity):
    """Syne Tune's ASHA (Li et al. 2020), stopping type, random sampling.

    Example:
        >>> sorted(SyneTuneASHA.supports)
        ['multi_fidelity']
    """

    searcher = "random_search"


class SyneTuneBOHB(SyneTuneMultiFidelity):
    """Syne Tune's BOHB: ASHA whose new configurations come from the KDE searcher.

    Syne Tune 0.16 fits one KDE on the latest result of every trial (whatever its rung),
    where Falkner et al. (2018) fit one KDE per budget.

    Example:
        >>> SyneTuneBOHB.requires_fidelity
        True
    """

    searcher = "kde"
    requires = ("syne_tune", *MODEL_LIBRARIES["kde"])
    param_types = {
        "reduction_factor": float,
        "brackets": int,
        # Options of Syne Tune's KernelDensityEstimator, as its BOHB baseline takes them.
        "num_min_data_points": int | None,
        "top_n_percent": int,
        "min_bandwidth": float,
        "num_candidates": int,
        "bandwidth_factor": float,
        "random_fraction": float,
    }


class SyneTuneASHABORE(SyneTuneMultiFidelity):
    """Syne Tune's ASHA-BORE: ASHA whose new configurations come from the BORE searcher.

    Example:
        >>> SyneTuneASHABORE.searcher, SyneTuneASHABORE.supports_pending
        ('bore', True)
    """

    searcher = "bore"
    requires = ("syne_tune", *MODEL_LIBRARIES["bore"])


class SyneTuneASHACQR(SyneTuneMultiFidelity):
    """Syne Tune's ASHA-CQR: ASHA whose new configurations come from the CQR searcher.

    Syne Tune 0.16 imports its blackbox repository (and so ``huggingface_hub``) on this path.

    Example:
        >>> SyneTuneASHACQR.requires
        ('syne_tune', 'huggingface_hub', 'xgboost', 'sklearn', 'scipy')
    """

    searcher = "cqr"
    requires = ("syne_tune", "huggingface_hub", *MODEL_LIBRARIES["cqr"])
    install_hint = "pip install 'nxm-bench[synetune]' huggingface_hub"
