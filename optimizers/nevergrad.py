"""Nevergrad optimizers through Nevergrad's ask/tell API.

The YAML names the optimizer (``optimizer: NGOpt``, any key of
``nevergrad.optimizers.registry``) and may pass extra keyword arguments in
``options``. The parametrization is an ``ng.p.Dict`` seeded from the run seed,
and the optimizer gets ``budget=int(problem.budget.n_trials)`` and one worker. Purely
continuous spaces use one unit-cube ``ng.p.Array`` instead (see
:class:`UnitCubeFloats`): ~100× less overhead per trial.
Maximized objectives are negated. Forbidden clauses become Nevergrad "cheap
constraints": Nevergrad itself resamples violating candidates, and if it cannot
find a valid one ``ask`` raises instead of proposing a forbidden configuration.
Conditional spaces are flattened the way DEHB handles them: every searched
hyperparameter keeps a coordinate, and the ones whose condition fails are dropped
when a candidate is decoded, so every proposal is a valid configuration. An
inactive coordinate does not change the loss: for the population and step-size
methods Nevergrad offers it is a neutral direction, not a wrong model input (the
model-based scikit-optimize and Hyperopt adapters still refuse conditional spaces).

Tasks with a fidelity axis are optimized at the highest fidelity.

Example:
    >>> from ConfigSpace import ConfigurationSpace
    >>> from optimizers.base import Budget, Problem
    >>> from tasks.base import Objective, Result
    >>> space = ConfigurationSpace({"x": (-2.0, 2.0), "n": (1, 5)}, seed=0)
    >>> opt = Nevergrad(Problem(space, (Objective("y"),), None, Budget(5)), seed=1, optimizer="OnePlusOne")
    >>> trial = opt.ask()
    >>> isinstance(trial.config["n"], int)
    True
    >>> opt.tell(trial, Result((trial.config["x"] ** 2,)))
"""

from __future__ import annotations

import contextlib
import difflib
import math
import warnings
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
from ConfigSpace import ConfigurationSpace

from optimizers.base import Optimizer, Problem, Trial
from optimizers.params import params_problem, signature_params
from optimizers.space_conversion import (
    Param,
    decode_config,
    is_forbidden,
    library_seed,
    minimization_losses,
    params_of,
    searchable,
    unsupported_features,
)
from tasks.base import Result


def nevergrad_parametrization(space: ConfigurationSpace, seed: int) -> Any:
    """A seeded ``ng.p.Dict`` for every searched parameter.

    Integers are scalars widened by half a step and rounded, so both bounds are
    as likely as inner values; ordinals are ``TransitionChoice`` (ordered),
    categoricals ``Choice``.

    Example:
        >>> from ConfigSpace import ConfigurationSpace
        >>> p = nevergrad_parametrization(ConfigurationSpace({"x": (0.0, 1.0)}), seed=0)
        >>> sorted(p.value)
        ['x']
    """
    import nevergrad as ng

    params: dict[str, Any] = {}
    for p in searchable(space):
        if p.kind in ("float", "int"):
            lo, hi = p.lower, p.upper
            if p.kind == "int":
                lo, hi = lo - 0.4999, hi + 0.4999
            if p.log:
                scalar = ng.p.Log(lower=lo, upper=hi)
            else:
                scalar = ng.p.Scalar(lower=lo, upper=hi)
            params[p.name] = scalar.set_integer_casting() if p.kind == "int" else scalar
        elif p.kind == "ordinal":
            params[p.name] = ng.p.TransitionChoice(list(range(p.n_choices)))
        else:
            params[p.name] = ng.p.Choice(list(range(p.n_choices)))
    parametrization = ng.p.Dict(**params)
    parametrization.random_state = np.random.RandomState(library_seed(seed))
    return parametrization


class UnitCubeFloats:
    """A continuous space as one Nevergrad ``Array`` on the unit cube, decoded per dimension.

    Nevergrad's ``Dict`` of per-parameter scalars costs tens of milliseconds per
    ask/tell in 10-D (deep-copying nested parameter trees); one array is ~10× cheaper.
    Used only when every searched parameter is a float and there are no conditions
    or forbidden clauses; log-scaled floats are searched on their log scale.

    Example:
        >>> from ConfigSpace import ConfigurationSpace, Float
        >>> space = ConfigurationSpace({"a": (0.0, 10.0)})
        >>> _ = space.add(Float("b", (1e-4, 1.0), log=True))
        >>> {k: round(v, 6) for k, v in UnitCubeFloats.of(space).decode([0.5, 0.5]).items()}
        {'a': 5.0, 'b': 0.01}
    """

    def __init__(self, space: ConfigurationSpace, params: list[Param]) -> None:
        self.space = space
        self.names = [p.name for p in params]
        self.log = np.array([p.log for p in params])
        lo = np.array([p.lower for p in params], dtype=float)
        hi = np.array([p.upper for p in params], dtype=float)
        self.lo = np.where(self.log, np.log(np.where(self.log, lo, 1.0)), lo)
        self.hi = np.where(self.log, np.log(np.where(self.log, hi, 1.0)), hi)
        self.bounds = (lo, hi)
        # per dimension, as plain floats for decode(): lower end, span, log?, bounds
        self._decoder = (
            self.lo.tolist(),
            (self.hi - self.lo).tolist(),
            self.log.tolist(),
            lo.tolist(),
            hi.tolist(),
        )

    @classmethod
    def of(cls, space: ConfigurationSpace) -> UnitCubeFloats | None:
        """The unit-cube view of ``space``, or ``None`` when it is not purely continuous."""
        params = searchable(space)
        if space.conditions or space.forbidden_clauses or not params:
            return None
        if any(p.kind != "float" for p in params) or len(params) != len(params_of(space)):
            return None
        return cls(space, params)

    def parametrization(self, seed: int) -> Any:
        import nevergrad as ng

        d = len(self.names)
        # sigma 1/6 of the range, as ng.p.Scalar(lower, upper) uses per parameter
        arr = ng.p.Array(init=np.full(d, 0.5), lower=0.0, upper=1.0).set_mutation(sigma=1.0 / 6.0)
        arr.random_state = np.random.RandomState(library_seed(seed))
        return arr

    def decode(self, unit: Any) -> dict[str, float]:
        # Plain floats, not numpy: for the few dimensions of a search space, numpy's per-call
        # overhead (clip, where, exp on tiny arrays) is a sizeable share of a cheap optimizer's ask.
        # (Conditional expressions, not min/max: a builtin call per bound costs more here.)
        out: dict[str, float] = {}
        values = unit.tolist() if isinstance(unit, np.ndarray) else [float(u) for u in unit]
        for name, u, lo, span, log, low, high in zip(self.names, values, *self._decoder, strict=True):
            x = lo + (0.0 if u < 0.0 else 1.0 if u > 1.0 else u) * span
            if log:
                x = math.exp(x)
            out[name] = low if x < low else high if x > high else x  # exp/log round-off stays inside
        return out


class _EdgeSafeNormalizer:
    """Nevergrad's ``Normalizer`` of a BO optimizer, retried a hair inside the unit cube where the
    library fails on the cube's edge.

    bayes_opt proposes points on its box's faces (``x = 1.0``) and Nevergrad (1.0.12) maps them
    into each parameter's bounds; for some log-scaled bounds the affine map lands one ulp past the
    upper bound (``Only data between [-5.] and [1.] can be transformed back. Got: [1.]``), and the
    library's fallback then fails on the half-transformed vector, which crashed the run. Such a
    proposal is mapped again moved :data:`EDGE` inside the cube (the same point to nine digits of
    its range); every proposal the library maps is passed on unchanged, so runs that never hit the
    edge propose exactly what they did before.

    Example:
        >>> class Strict:
        ...     def backward(self, x):
        ...         if max(x) >= 1.0:
        ...             raise ValueError("past the bound")
        ...         return x
        >>> _EdgeSafeNormalizer(Strict()).backward(np.array([0.5, 1.0])).tolist()
        [0.5, 0.999999999]
    """

    EDGE = 1e-9

    def __init__(self, normalizer: Any) -> None:
        self._normalizer = normalizer

    def backward(self, x: Any) -> Any:
        try:
            return self._normalizer.backward(x)
        except ValueError:
            inside = np.clip(np.asarray(x, dtype=float), self.EDGE, 1.0 - self.EDGE)
            return self._normalizer.backward(inside)

    def __getattr__(self, name: str) -> Any:  # forward() and the rest: the library's own
        if name == "_normalizer":  # not set yet (copy and pickle build the object bare)
            raise AttributeError(name)
        return getattr(self._normalizer, name)


def _edge_safe(optimizer: Any) -> None:
    """Wrap the ``_normalizer`` of a Nevergrad BO optimizer (see :class:`_EdgeSafeNormalizer`);
    optimizers without one, or a Nevergrad that renamed it, run unchanged."""
    normalizer = getattr(optimizer, "_normalizer", None)
    if normalizer is not None and hasattr(normalizer, "backward"):
        optimizer._normalizer = _EdgeSafeNormalizer(normalizer)


def _blas_threads(limit: bool) -> Any:
    """One BLAS/OpenMP thread while a model-based optimizer works, else no change.

    Bayesian optimization (package bayesian-optimization) fits a small GP and runs
    L-BFGS-B on it thousands of times per ask: tiny matrices, where BLAS threads only
    add overhead, and runs execute side by side in worker processes, where they
    oversubscribe the cores (one BO step took 3-4x longer with them on 2 cores). The
    cheap optimizers are spared the limit's own cost (it lists the loaded libraries).
    """
    if not limit:
        return contextlib.nullcontext()
    from threadpoolctl import threadpool_limits  # a dependency of scikit-learn, which bayes_opt needs

    return threadpool_limits(limits=1)


#: (message regex, category name, module regex) of the library warnings the adapter handles itself.
_QUIET: tuple[tuple[str, str, str], ...] = (
    ("", "NevergradWarning", ""),
    (".*orphanated injected solution", "Warning", ""),
    ("COBYLA: ", "UserWarning", r"scipy\._lib\.pyprima\.common\.preproc"),
)


def quiet_nevergrad_warnings() -> None:
    """Silence, for the process, the library warnings the adapter handles itself.

    Installed once (idempotent) rather than by ``warnings.catch_warnings()`` around every ask
    and tell: entering and leaving that context twice per trial cost about 4% of a cheap
    Nevergrad optimizer's own time (benchmarks/bench_adapter_overhead.py). The filters match
    only these warnings:

    * ``NevergradWarning``: Nevergrad warns when it runs past its budget (the runner's
      business), when a cheap constraint could not be met (checked by :meth:`Nevergrad.ask`)
      and, for multi-objective tells, about points outside its reference box;
    * pycma's "orphanated injected solution": Nevergrad's CMA wrapper tells candidates pycma
      did not sample itself, by design;
    * scipy's fix-ups of COBYLA's parameters ("COBYLA: Invalid RHOEND ...; it is set to 1e-06",
      "COBYLA: Invalid MAXFUN ...; it is set to 4", and the like, all from the module that
      checks them): NGOpt's COBYLA step asks for an end radius above its start radius on small
      boxes, or for fewer evaluations than scipy's minimum near the end of a budget; scipy
      corrects the value and goes on, and one such line per run flooded a sweep's log.

    Example:
        >>> quiet_nevergrad_warnings()
        >>> n = len(warnings.filters)
        >>> quiet_nevergrad_warnings()  # a second call adds nothing
        >>> len(warnings.filters) == n
        True
    """
    import nevergrad as ng

    categories = {
        "NevergradWarning": ng.errors.NevergradWarning,
        "Warning": Warning,
        "UserWarning": UserWarning,
    }
    for message, name, module in _QUIET:
        category = categories[name]
        present = any(
            f[0] == "ignore"
            and f[2] is category
            and (f[1].pattern if f[1] else "") == message
            and (f[3].pattern if f[3] else "") == module
            for f in warnings.filters
        )
        if not present:
            warnings.filterwarnings("ignore", message=message, category=category, module=module)


class _Allowed:
    """Nevergrad cheap constraint: the decoded value hits no forbidden clause (picklable, unlike a lambda)."""

    def __init__(self, space: ConfigurationSpace) -> None:
        self.space = space

    def __call__(self, value: dict[str, Any]) -> bool:
        return not is_forbidden(self.space, decode_config(self.space, value))


class Nevergrad(Optimizer):
    """Any single-objective Nevergrad optimizer, chosen by registry name.

    Args:
        problem: The problem to optimize.
        seed: Run seed; seeds the parametrization's random state.
        optimizer: Name in ``nevergrad.optimizers.registry`` (e.g. ``"CMA"``).
        options: Extra keyword arguments for the optimizer's constructor.
    """

    supports: ClassVar[frozenset[str]] = frozenset()
    # Nevergrad's CMA runs pycma, its BO bayes_opt (scikit-learn's GP, scipy), NGOpt may pick scipy's
    # optimizers: all dependencies of nevergrad, so runs record them (one class for every ng_ id)
    requires: ClassVar[tuple[str, ...]] = ("nevergrad", "cma", "bayes_opt", "sklearn", "scipy")
    extra: ClassVar[str | None] = "nevergrad"
    library: ClassVar[str | None] = "nevergrad"
    #: Arguments the adapter gives the Nevergrad optimizer itself, so ``options`` cannot set them.
    OWN_ARGUMENTS: ClassVar[tuple[str, ...]] = ("parametrization", "budget", "num_workers")
    #: Registry names of Gaussian-process optimizers: they run with one BLAS thread (see ``_blas_threads``).
    GAUSSIAN_PROCESS: ClassVar[frozenset[str]] = frozenset(
        {"BO", "BOSplit", "PCABO", "PCABO80", "PCABO95DoE20", "BayesOptimBO"}
    )

    def __init__(
        self,
        problem: Problem,
        seed: int,
        optimizer: str = "NGOpt",
        options: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(problem, seed, optimizer=optimizer, options=options)
        reason = self.optimizer_reason(optimizer)
        if reason:
            raise ValueError(reason)
        import nevergrad as ng

        quiet_nevergrad_warnings()
        space = problem.space
        self._cube = UnitCubeFloats.of(space)
        if self._cube is not None:
            parametrization = self._cube.parametrization(self.seed)
        else:
            parametrization = nevergrad_parametrization(space, self.seed)
        if space.forbidden_clauses:
            parametrization.register_cheap_constraint(_Allowed(space))
        self._optimizer = ng.optimizers.registry[optimizer](
            parametrization=parametrization,
            budget=max(1, int(problem.budget.n_trials)),
            num_workers=1,
            **(options or {}),
        )
        _edge_safe(self._optimizer)
        self._pending: dict[int, Any] = {}
        self._worst: list[float] = []
        self._n_asked = 0
        self._one_thread = optimizer in self.GAUSSIAN_PROCESS

    @classmethod
    def optimizer_reason(cls, name: str) -> str | None:
        """Why ``name`` is not a Nevergrad optimizer this class can run, or ``None``.

        Example:
            >>> Nevergrad.optimizer_reason("CMAA")  # doctest: +ELLIPSIS
            "unknown nevergrad optimizer 'CMAA': did you mean 'CMA'...? (valid: any key of ...)"
        """
        import nevergrad as ng

        if name not in ng.optimizers.registry:
            close = difflib.get_close_matches(name, list(ng.optimizers.registry), n=3)
            return (
                f"unknown nevergrad optimizer {name!r}: did you mean "
                f"{' or '.join(repr(c) for c in close) or repr('NGOpt')}? "
                "(valid: any key of nevergrad.optimizers.registry)"
            )
        return None

    @classmethod
    def check_params(cls, params: Mapping[str, Any]) -> str | None:
        """Names and types (see :meth:`Optimizer.check_params`), then the optimizer name and its
        ``options`` against Nevergrad's registry (imports nevergrad: called only when planned).

        Example:
            >>> Nevergrad.check_params({"optimizer": "OnePlusOne", "options": {"popsize": 3}})
            "nevergrad OnePlusOne option 'popsize' is not accepted: it takes no options"
        """
        reason = super().check_params(params)
        if reason:
            return reason
        import nevergrad as ng

        # "NGOpt" is __init__'s default and the only choice of NevergradNGOpt.
        name = params.get("optimizer", "NGOpt")
        reason = cls.optimizer_reason(name)
        options = params.get("options") or {}
        if reason or not options:
            return reason
        names, open_ended = signature_params(ng.optimizers.registry[name], skip=cls.OWN_ARGUMENTS)
        for key in options:
            if key in cls.OWN_ARGUMENTS:
                return (
                    f"nevergrad {name} option {key!r} is set by the adapter "
                    "(from the task and the budget): remove it from options"
                )
            if not names and not open_ended:
                return f"nevergrad {name} option {key!r} is not accepted: it takes no options"
        return None if open_ended else params_problem(options, names, f"nevergrad {name}")

    @classmethod
    def check_space(cls, space: ConfigurationSpace) -> str | None:
        return unsupported_features(space, "nevergrad", conditions=True, forbiddens=True)

    def ask(self) -> Trial:
        if self._one_thread:
            with _blas_threads(True):
                candidate = self._optimizer.ask()
        else:
            candidate = self._optimizer.ask()
        if self._cube is not None:  # a plain box: no forbidden clauses to check
            config: dict[str, Any] = self._cube.decode(candidate.value)
        else:
            config = decode_config(self.problem.space, candidate.value)
        if self._cube is None and is_forbidden(self.problem.space, config):
            raise RuntimeError(
                f"nevergrad {type(self._optimizer).__name__} could not propose a configuration outside "
                f"the forbidden clauses of the space (last: {config!r})"
            )
        key = self._n_asked
        self._n_asked += 1
        self._pending[key] = candidate
        return Trial(config, meta={"nevergrad_candidate": key})

    def tell(self, trial: Trial, result: Result) -> None:
        candidate = self._pending.pop(trial.meta["nevergrad_candidate"])
        losses = minimization_losses(self.problem, result, self._worst)
        loss = losses[0] if len(losses) == 1 else losses
        if self._one_thread:
            with _blas_threads(True):
                self._optimizer.tell(candidate, loss)
        else:
            self._optimizer.tell(candidate, loss)


class NevergradMultiObjective(Nevergrad):
    """Nevergrad optimizers with native multi-objective handling: the DE family and NGOpt.

    Differential evolution keeps a Pareto-based population when told several losses,
    and NGOpt switches to DE on multi-objective problems. Other Nevergrad optimizers
    only see a hypervolume scalarization, so they are not declared multi-objective.

    Example:
        >>> sorted(NevergradMultiObjective.supports)
        ['multi_objective']
    """

    supports = frozenset({"multi_objective"})
    #: Registry names with native multi-objective support.
    MULTI_OBJECTIVE: ClassVar[tuple[str, ...]] = ("NGOpt", "DE", "TwoPointsDE")

    @classmethod
    def optimizer_reason(cls, name: str) -> str | None:
        if name not in cls.MULTI_OBJECTIVE:
            return (
                f"nevergrad optimizer {name!r} has no native multi-objective support: valid are "
                f"{', '.join(cls.MULTI_OBJECTIVE)} (use optimizers.nevergrad.Nevergrad otherwise)"
            )
        return super().optimizer_reason(name)


class NevergradNGOpt(NevergradMultiObjective):
    """Nevergrad's NGOpt algorithm selector.

    NGOpt chooses an algorithm from the dimension, budget and variable types. For
    small budgets on continuous spaces it picks deterministic local methods
    (e.g. COBYLA started from the center), so different seeds may give identical
    runs: that is NGOpt's design, hence ``deterministic = True``.

    Example:
        >>> NevergradNGOpt.deterministic
        True
    """

    deterministic: ClassVar[bool] = True

    def __init__(self, problem: Problem, seed: int, options: dict[str, Any] | None = None) -> None:
        super().__init__(problem, seed, optimizer="NGOpt", options=options)
