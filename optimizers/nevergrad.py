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
from typing import Any, ClassVar

from ConfigSpace import ConfigurationSpace

from optimizers.base import Optimizer, Problem, Trial
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

    def __init__(
        self,
        problem: Problem,
        seed: int,
        optimizer: str = "NGOpt",
        options: dict[str, Any] | None = None,
        **params: Any,
    ) -> None:
        super().__init__(problem, seed, optimizer=optimizer, options=options, **params)
        if params:
            raise ValueError(
                f"unknown Nevergrad adapter params {sorted(params)}: valid are optimizer, options"
            )
        import nevergrad as ng

        if optimizer not in ng.optimizers.registry:
            close = difflib.get_close_matches(optimizer, list(ng.optimizers.registry), n=3)
            raise ValueError(
                f"unknown nevergrad optimizer {optimizer!r}: did you mean {' or '.join(close) or 'NGOpt'}? "
                "(valid: any key of nevergrad.optimizers.registry)"
            )
        self._check_optimizer(optimizer)
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

    def _check_optimizer(self, name: str) -> None:
        """Hook for subclasses that accept only some optimizers."""

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

    def _check_optimizer(self, name: str) -> None:
        if name not in self.MULTI_OBJECTIVE:
            raise ValueError(
                f"nevergrad optimizer {name!r} has no native multi-objective support: "
                f"valid are {', '.join(self.MULTI_OBJECTIVE)} (use optimizers.nevergrad.Nevergrad otherwise)"
            )


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
