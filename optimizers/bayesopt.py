"""GP-UCB and GP-EI with the ``bayesian-optimization`` package (``bayes_opt`` 1.4.0).

``bayes_opt.BayesianOptimization`` is used without an objective (``f=None``) through
its ask/tell pair: ``suggest(utility)`` proposes a point and ``register(params, target)``
records its value. The library fits a scikit-learn Gaussian process (Matern 5/2 kernel,
``normalize_y``, five restarts of the marginal-likelihood optimizer) and maximizes the
acquisition (``UtilityFunction(kind, kappa, xi)``) by 10,000 random points followed by
L-BFGS-B from 10 random starts.

The library maximizes: losses are negated (maximized objectives are told as they are,
see :func:`~optimizers.space_conversion.minimization_losses`), and a crashed evaluation
is told as the worst finite loss seen so far (a Gaussian process cannot fit ``nan``).

Search space. bayes_opt searches a continuous box only. The adapter gives it the unit
cube of :class:`~optimizers.unit_cube.UnitCube` (one isotropic length scale then suits every
coordinate): log-scaled parameters on their log scale; integers and ordinal indices as a
*relaxed* continuous coordinate, rounded when decoded (the GP models the relaxed point
it proposed, the task evaluates the rounded one, as bayes_opt's own documentation does
for discrete parameters); constants added back. Categorical parameters, conditions and
forbidden clauses are refused by :meth:`BayesOpt.check_space`.

The first ``n_init`` trials are uniform random points drawn by the library's own
``TargetSpace.random_sample`` (what ``suggest`` returns with no data and what
``maximize(init_points=...)`` evaluates first); the model proposes the rest. The same
point may be proposed twice (e.g. a corner of the box); it is registered again
(``allow_duplicate_points=True``) instead of raising ``NotUniqueError``.
All randomness comes from ``random_state=library_seed(run seed)``, which bayes_opt turns
into ``np.random.RandomState`` instances for the random points, the GP's restarts and the
acquisition search; it never draws from numpy's global RNG.

Tasks with a fidelity axis are optimized at the highest fidelity.

Example:
    >>> from ConfigSpace import ConfigurationSpace
    >>> from optimizers.base import Budget, Problem
    >>> from tasks.base import Objective, Result
    >>> space = ConfigurationSpace({"x": (-2.0, 2.0), "n": (1, 5)}, seed=0)
    >>> opt = BayesOpt(Problem(space, (Objective("y"),), None, Budget(5)), seed=1, n_init=2)
    >>> for _ in range(3):
    ...     trial = opt.ask()
    ...     opt.tell(trial, Result((trial.config["x"] ** 2 + trial.config["n"],)))
    >>> isinstance(trial.config["n"], int) and -2.0 <= trial.config["x"] <= 2.0
    True
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Mapping
from typing import Any, ClassVar

from ConfigSpace import ConfigurationSpace

from optimizers.base import Optimizer, Problem, Trial
from optimizers.params import params_problem, signature_params
from optimizers.space_conversion import library_seed, minimization_losses
from optimizers.unit_cube import UnitCube, cube_space_reason
from tasks.base import Result


def _one_blas_thread() -> Any:
    """Limit BLAS/OpenMP to one thread while the GP is fitted and the acquisition maximized:
    the matrices are tiny, and runs execute side by side in worker processes."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1)


class BayesOpt(Optimizer):
    """GP-based Bayesian optimization with ``bayes_opt.BayesianOptimization``.

    Args:
        problem: The problem to optimize (single objective; numeric and ordinal parameters).
        seed: Run seed; becomes bayes_opt's ``random_state``.
        acquisition: ``"ucb"`` (GP-UCB, Srinivas et al. 2010), ``"ei"`` (expected improvement,
            Jones et al. 1998) or ``"poi"`` (probability of improvement).
        kappa: UCB exploration weight (bayes_opt's default 2.576).
        xi: EI/POI improvement margin, in units of the (negated) loss; 0 keeps it scale-free.
        kappa_decay: ``kappa`` is multiplied by this after every model-based proposal.
        kappa_decay_delay: Model-based proposals before the decay starts.
        n_init: Uniform random trials before the GP proposes (at least 1).
        gp_params: Parameters of the scikit-learn ``GaussianProcessRegressor`` to override
            (``bayes_opt``'s ``set_gp_params``), e.g. ``{"alpha": 1e-4}``.
    """

    supports: ClassVar[frozenset[str]] = frozenset()
    # bayes_opt fits scikit-learn's GP and maximizes the acquisition with scipy: their versions are
    # recorded with every run (bench/loop.py) and mark archive entries stale when they change.
    requires: ClassVar[tuple[str, ...]] = ("bayes_opt", "sklearn", "scipy")
    extra: ClassVar[str | None] = "bayesopt"
    library: ClassVar[str | None] = "bayesian-optimization"
    ACQUISITIONS: ClassVar[tuple[str, ...]] = ("ucb", "ei", "poi")

    def __init__(
        self,
        problem: Problem,
        seed: int,
        acquisition: str = "ucb",
        kappa: float = 2.576,
        xi: float = 0.0,
        kappa_decay: float = 1.0,
        kappa_decay_delay: int = 0,
        n_init: int = 5,
        gp_params: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(
            problem,
            seed,
            acquisition=acquisition,
            kappa=kappa,
            xi=xi,
            kappa_decay=kappa_decay,
            kappa_decay_delay=kappa_decay_delay,
            n_init=n_init,
            gp_params=gp_params,
        )
        reason = self.check_params(dict(self.params))
        if reason:
            raise ValueError(reason)
        from bayes_opt import BayesianOptimization, UtilityFunction

        self.cube = UnitCube(problem.space)
        self._names = [p.name for p in self.cube.params]
        self._bo = BayesianOptimization(
            f=None,
            pbounds={name: (0.0, 1.0) for name in self._names},
            random_state=library_seed(self.seed),
            verbose=0,
            allow_duplicate_points=True,
        )
        if gp_params:
            self._bo.set_gp_params(**gp_params)
        self._utility = UtilityFunction(
            kind=acquisition, kappa=kappa, xi=xi, kappa_decay=kappa_decay, kappa_decay_delay=kappa_decay_delay
        )
        self.n_init = int(n_init)
        self._n_asked = 0
        self._worst: list[float] = []

    @classmethod
    def check_space(cls, space: ConfigurationSpace) -> str | None:
        return cube_space_reason(space, "bayes_opt")

    @classmethod
    def check_params(cls, params: Mapping[str, Any]) -> str | None:
        """Names and types, the acquisition's name, ``n_init`` and the GP's parameters
        (imports scikit-learn: called only when planned).

        Example:
            >>> BayesOpt.check_params({"acquisition": "lcb"})
            "acquisition='lcb' is invalid: valid are 'ucb', 'ei', 'poi'"
            >>> BayesOpt.check_params({"gp_params": {"alpah": 1e-4}})  # doctest: +ELLIPSIS
            "GaussianProcessRegressor has no parameter 'alpah': did you mean 'alpha'? ..."
        """
        reason = super().check_params(params)
        if reason:
            return reason
        acquisition = params.get("acquisition", "ucb")
        if acquisition not in cls.ACQUISITIONS:
            return (
                f"acquisition={acquisition!r} is invalid: valid are {', '.join(map(repr, cls.ACQUISITIONS))}"
            )
        n_init = params.get("n_init", 5)
        if not (isinstance(n_init, int) and n_init >= 1):
            return f"n_init={n_init!r} is invalid: use an integer >= 1 (bayes_opt needs data for its GP)"
        gp_params = params.get("gp_params") or {}
        if gp_params:
            from sklearn.gaussian_process import GaussianProcessRegressor

            names, _ = signature_params(GaussianProcessRegressor, skip=("self", "random_state"))
            return params_problem(gp_params, names, "GaussianProcessRegressor")
        return None

    def ask(self) -> Trial:
        space = self._bo.space
        if self._n_asked < self.n_init or len(space) == 0:
            point = space.array_to_params(space.random_sample())
        else:
            with _one_blas_thread():
                point = self._bo.suggest(self._utility)
            self._utility.update_params()
        self._n_asked += 1
        unit = {name: float(point[name]) for name in self._names}
        config = self.cube.decode([unit[name] for name in self._names])
        return Trial(config, meta={"bayesopt_point": unit})

    def tell(self, trial: Trial, result: Result) -> None:
        loss = minimization_losses(self.problem, result, self._worst)[0]
        # bayes_opt prints a coloured notice on stdout for every duplicate point it registers.
        with contextlib.redirect_stdout(io.StringIO()):
            self._bo.register(params=trial.meta["bayesopt_point"], target=-loss)
