"""Nevergrad optimizers through Nevergrad's ask/tell API.

The YAML names the optimizer (``optimizer: NGOpt``, any key of
``nevergrad.optimizers.registry``) and may pass extra keyword arguments in
``options``. The parametrization is an ``ng.p.Dict`` seeded from the run seed,
and the optimizer gets ``budget=int(problem.budget.n_trials)`` and one worker. Purely
continuous spaces use one unit-cube ``ng.p.Array`` instead (see
:class:`~optimizers.space_conversion.UnitCubeFloats`): ~100× less overhead per trial.
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

import difflib
import warnings
from collections.abc import Mapping
from typing import Any, ClassVar

from ConfigSpace import ConfigurationSpace

from optimizers.base import Optimizer, Problem, Trial
from optimizers.params import params_problem, signature_params
from optimizers.space_conversion import (
    UnitCubeFloats,
    decode_config,
    is_forbidden,
    minimization_losses,
    nevergrad_parametrization,
    unsupported_features,
)
from tasks.base import Result


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
    requires: ClassVar[tuple[str, ...]] = ("nevergrad",)
    extra: ClassVar[str | None] = "nevergrad"
    #: Arguments the adapter gives the Nevergrad optimizer itself, so ``options`` cannot set them.
    OWN_ARGUMENTS: ClassVar[tuple[str, ...]] = ("parametrization", "budget", "num_workers")

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
        self._pending: dict[int, Any] = {}
        self._worst: list[float] = []
        self._n_asked = 0

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
            return (f"unknown nevergrad optimizer {name!r}: did you mean "
                    f"{' or '.join(repr(c) for c in close) or repr('NGOpt')}? "
                    "(valid: any key of nevergrad.optimizers.registry)")
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
                return (f"nevergrad {name} option {key!r} is set by the adapter "
                        "(from the task and the budget): remove it from options")
            if not names and not open_ended:
                return f"nevergrad {name} option {key!r} is not accepted: it takes no options"
        return None if open_ended else params_problem(options, names, f"nevergrad {name}")

    @classmethod
    def check_space(cls, space: ConfigurationSpace) -> str | None:
        return unsupported_features(space, "nevergrad", conditions=True, forbiddens=True)

    def ask(self) -> Trial:
        import nevergrad as ng

        with warnings.catch_warnings():
            # Nevergrad warns when it runs past its budget or fails to satisfy a constraint;
            # the first is the runner's business, the second is checked just below.
            warnings.simplefilter("ignore", ng.errors.NevergradWarning)
            # pycma warns when told a candidate it did not sample itself; Nevergrad's CMA
            # wrapper does this by design (it re-injects the parametrization's candidates).
            warnings.filterwarnings("ignore", message=".*orphanated injected solution")
            candidate = self._optimizer.ask()
        if self._cube is not None:
            config: dict[str, Any] = self._cube.decode(candidate.value)
        else:
            config = decode_config(self.problem.space, candidate.value)
        if is_forbidden(self.problem.space, config):
            raise RuntimeError(
                f"nevergrad {type(self._optimizer).__name__} could not propose a configuration outside "
                f"the forbidden clauses of the space (last: {config!r})"
            )
        key = self._n_asked
        self._n_asked += 1
        self._pending[key] = candidate
        return Trial(config, meta={"nevergrad_candidate": key})

    def tell(self, trial: Trial, result: Result) -> None:
        import nevergrad as ng

        candidate = self._pending.pop(trial.meta["nevergrad_candidate"])
        losses = minimization_losses(self.problem, result, self._worst)
        with warnings.catch_warnings():
            # Multi-objective telling warns about points outside the current reference box.
            warnings.simplefilter("ignore", ng.errors.NevergradWarning)
            # pycma warns when told a candidate it did not sample itself; Nevergrad's CMA
            # wrapper does this by design (it re-injects the parametrization's candidates).
            warnings.filterwarnings("ignore", message=".*orphanated injected solution")
            self._optimizer.tell(candidate, losses[0] if len(losses) == 1 else losses)


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
            return (f"nevergrad optimizer {name!r} has no native multi-objective support: valid are "
                    f"{', '.join(cls.MULTI_OBJECTIVE)} (use optimizers.nevergrad.Nevergrad otherwise)")
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
