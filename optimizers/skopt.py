"""scikit-optimize (``skopt.Optimizer``) through its ask/tell API.

``params`` go to ``skopt.Optimizer`` (``base_estimator``, ``n_initial_points``,
``acq_func``, ``acq_optimizer``, ...); ``random_state`` is always derived from
the run seed. ``acq_func`` is one of :data:`ACQ_FUNCS` (``gp_hedge``, skopt's
default, picks among EI, PI and LCB by their past gains; the ``skopt_gp_ei`` /
``_lcb`` / ``_pi`` ids fix one); the string choices of ``acq_func``,
``acq_optimizer`` and ``base_estimator`` are checked when a study is planned.
Maximized objectives are negated and non-finite results are told as the worst
finite loss seen so far (a Gaussian process cannot fit ``nan``). skopt has
neither conditional parameters nor forbidden configurations, so such spaces are
refused. Works with numpy 2 and scikit-learn 1.9 (scikit-optimize 0.10.2).

Tasks with a fidelity axis are optimized at the highest fidelity.

Example:
    >>> from ConfigSpace import ConfigurationSpace
    >>> from optimizers.base import Budget, Problem
    >>> from tasks.base import Objective, Result
    >>> space = ConfigurationSpace({"x": (-2.0, 2.0), "k": ["a", "b"]}, seed=0)
    >>> opt = Skopt(Problem(space, (Objective("y"),), None, Budget(5)), seed=1, base_estimator="RF")
    >>> trial = opt.ask()
    >>> trial.config["k"] in ("a", "b")
    True
    >>> opt.tell(trial, Result((trial.config["x"] ** 2,)))
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from ConfigSpace import ConfigurationSpace

from optimizers.base import Optimizer, Problem, Trial
from optimizers.space_conversion import (
    decode_config,
    library_seed,
    minimization_losses,
    plain,
    searchable,
    unsupported_features,
)
from tasks.base import Result

#: skopt's acquisition functions this adapter can drive. ``EIps``/``PIps`` (per second) are left
#: out: they need each evaluation's duration told with its loss, and the adapter tells the loss only.
ACQ_FUNCS: tuple[str, ...] = ("gp_hedge", "EI", "LCB", "PI")
#: String choices of skopt.Optimizer's other options (``base_estimator`` is case-insensitive).
ACQ_OPTIMIZERS: tuple[str, ...] = ("auto", "sampling", "lbfgs")
BASE_ESTIMATORS: tuple[str, ...] = ("GP", "RF", "ET", "GBRT", "DUMMY")


def _did_you_mean(value: str, valid: Sequence[str]) -> str:
    """``"did you mean 'EI'? "`` for the closest valid choice (case ignored), or ``""``."""
    by_lower = {v.lower(): v for v in valid}
    close = difflib.get_close_matches(value.lower(), list(by_lower), n=1, cutoff=0.5)
    return f"did you mean {by_lower[close[0]]!r}? " if close else ""


def _one_blas_thread() -> Any:
    """Limit BLAS/OpenMP to one thread while skopt fits and optimizes its model.

    The matrices are tiny (one row per trial), so threads only add overhead, and
    runs execute side by side in worker processes: multithreaded BLAS there
    oversubscribes the cores and made a GP step about three times slower.
    """
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1)


def skopt_dimensions(space: ConfigurationSpace) -> list[Any]:
    """scikit-optimize dimensions for every searched parameter, in ``searchable`` order.

    Example:
        >>> from ConfigSpace import ConfigurationSpace
        >>> skopt_dimensions(ConfigurationSpace({"n": (1, 4)}))[0].bounds
        (1, 4)
    """
    from skopt.space import Categorical, Integer, Real

    out: list[Any] = []
    for p in searchable(space):
        prior = "log-uniform" if p.log else "uniform"
        if p.kind == "float":
            out.append(Real(p.lower, p.upper, prior=prior, name=p.name))
        elif p.kind == "int":
            out.append(Integer(int(p.lower), int(p.upper), prior=prior, name=p.name))
        elif p.kind == "ordinal":
            out.append(Integer(0, p.n_choices - 1, name=p.name))
        else:
            out.append(Categorical(list(range(p.n_choices)), name=p.name))
    return out


class Skopt(Optimizer):
    """Bayesian optimization with scikit-optimize (GP, random forest, extra trees, GBRT).

    Args:
        problem: The problem to optimize (single objective).
        seed: Run seed; becomes skopt's ``random_state``.
        **params: Keyword arguments of ``skopt.Optimizer``.
    """

    supports: ClassVar[frozenset[str]] = frozenset()
    # scikit-optimize's models are scikit-learn's, its acquisition optimizer scipy's
    requires: ClassVar[tuple[str, ...]] = ("skopt", "sklearn", "scipy")
    extra: ClassVar[str | None] = "skopt"
    library: ClassVar[str | None] = "scikit-optimize"
    params_from: ClassVar[str | None] = "skopt:Optimizer"
    reserved_params: ClassVar[Mapping[str, str]] = {
        "dimensions": "converted from the task's space",
        "random_state": "derived from the run seed",
    }

    def __init__(self, problem: Problem, seed: int, **params: Any) -> None:
        super().__init__(problem, seed, **params)
        from skopt import Optimizer as SkoptOptimizer

        if "random_state" in params:
            raise ValueError("skopt params must not set random_state: it is derived from the run seed")
        self._names = [p.name for p in searchable(problem.space)]
        if not self._names:
            raise ValueError("skopt needs at least one non-constant hyperparameter, the space has none")
        self._optimizer = SkoptOptimizer(
            skopt_dimensions(problem.space), random_state=library_seed(self.seed), **params
        )
        self._worst: list[float] = []

    @classmethod
    def check_space(cls, space: ConfigurationSpace) -> str | None:
        return unsupported_features(space, "skopt", conditions=False, forbiddens=False)

    @classmethod
    def check_params(cls, params: Mapping[str, Any]) -> str | None:
        """Names and types (see :meth:`Optimizer.check_params`), then the string choices of
        ``acq_func``, ``acq_optimizer`` and ``base_estimator`` (skopt itself refuses a bad one
        only when each run starts).

        Example:
            >>> Skopt.check_params({"acq_func": "ei"})
            "skopt acq_func='ei' is invalid: did you mean 'EI'? (valid: gp_hedge, EI, LCB, PI)"
        """
        reason = super().check_params(params)
        if reason:
            return reason
        checks = (
            ("acq_func", ACQ_FUNCS, False),
            ("acq_optimizer", ACQ_OPTIMIZERS, False),
            ("base_estimator", BASE_ESTIMATORS, True),
        )
        for name, valid, ignore_case in checks:
            value = params.get(name)
            if not isinstance(value, str):
                continue  # absent (skopt's default), or an estimator object for base_estimator
            if (value.upper() if ignore_case else value) not in valid:
                hint = _did_you_mean(value, valid)
                return f"skopt {name}={value!r} is invalid: {hint}(valid: {', '.join(valid)})"
        return None

    def ask(self) -> Trial:
        with _one_blas_thread():
            point = [plain(v) for v in self._optimizer.ask()]
        config = decode_config(self.problem.space, dict(zip(self._names, point, strict=True)))
        return Trial(config, meta={"skopt_point": point})

    def tell(self, trial: Trial, result: Result) -> None:
        loss = minimization_losses(self.problem, result, self._worst)[0]
        with _one_blas_thread():
            self._optimizer.tell(trial.meta["skopt_point"], loss)
