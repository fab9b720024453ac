"""Gaussian-process Bayesian optimization with BoTorch (``botorch`` extra).

Three optimizers share one adapter, :class:`BotorchOptimizer`; each subclass picks an
acquisition function:

* :class:`BotorchEI` (``botorch_ei``): single objective, log expected improvement
  (Jones et al. 1998; the numerically robust LogEI family of Ament et al. 2023):
  ``qLogNoisyExpectedImprovement`` by default, analytic ``LogExpectedImprovement`` on request.
* :class:`BotorchQNEHVI` (``botorch_qnehvi``): multi-objective,
  ``qLogNoisyExpectedHypervolumeImprovement`` (Daulton et al. 2021; log form of Ament et al. 2023).
* :class:`BotorchParEGO` (``botorch_parego``): multi-objective, qNParEGO: a random augmented
  Chebyshev scalarization per proposal (Knowles 2006) of the GP samples, maximized with qLogNEI.

**The space.** Every searched parameter is one dimension of the unit cube: floats and
integers scaled linearly, or on the log scale when ``log=True``; ordinals as their index
scaled to [0, 1]; categoricals as their index scaled to [0, 1] too, but modelled by
``MixedSingleTaskGP``'s categorical kernel (only equal/different matters, so no order is
invented). Parameters with a single possible value and constants are left out of the cube and
added back by :func:`~optimizers.space_conversion.decode_config`. Conditional parameters and
forbidden clauses cannot be represented by a GP on a fixed cube and are refused at planning
time.

**The loop.** The first ``n_initial`` trials are a scrambled Sobol design (seeded); afterwards
each ask fits a GP per objective with BoTorch's default priors and outcome standardization
(``SingleTaskGP``; ``MixedSingleTaskGP`` when there are categoricals) with ``fit_gpytorch_mll``,
in double precision, and maximizes the acquisition function with ``optimize_acqf``, or, when
integers with at most 20 values, ordinals or categoricals are present,
``optimize_acqf_mixed_alternating`` (BoTorch's mixed optimizer: alternating discrete local search
and L-BFGS; it scales where ``optimize_acqf_mixed``'s enumeration of every discrete combination
does not). Wider integers are optimized continuously and rounded on decoding. The GP is trained
on the decoded (rounded) configurations, so it sees what was evaluated. Pending trials (asked,
not yet told) are passed as ``X_pending``. A proposal equal to a configuration already evaluated
or pending (possible on discrete spaces) is replaced by the next Sobol point not seen yet; a
finite space that is completely evaluated ends the run (``SearchExhausted``).

**Randomness.** Each ask runs inside ``torch.random.fork_rng`` seeded from the run seed and the
ask's index, and the QMC samplers get explicit seeds, so the same seed gives the same trials
whatever the global torch/numpy state, and the global state is never disturbed. Torch uses
``torch_threads`` intra-op threads (default 1) during an ask, restored afterwards: the matrices
are small and runs execute one per worker process, where more threads only oversubscribe.

Maximized objectives are negated (:func:`~optimizers.space_conversion.minimization_losses`),
non-finite results are told as the worst finite loss seen; tasks with a fidelity axis are
optimized at the highest fidelity.

Example:
    >>> from ConfigSpace import ConfigurationSpace
    >>> from optimizers.base import Budget, Problem
    >>> from tasks.base import Objective, Result
    >>> space = ConfigurationSpace({"x": (-2.0, 2.0), "k": ["a", "b"]}, seed=0)
    >>> opt = BotorchEI(Problem(space, (Objective("y"),), None, Budget(5)), seed=1)
    >>> trial = opt.ask()
    >>> trial.config["k"] in ("a", "b")
    True
    >>> opt.tell(trial, Result((trial.config["x"] ** 2,)))
"""

from __future__ import annotations

import contextlib
import math
import warnings
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from ConfigSpace import ConfigurationSpace

from optimizers.base import Optimizer, Problem, SearchExhausted, Trial
from optimizers.space_conversion import (
    Param,
    decode_config,
    library_seed,
    minimization_losses,
    searchable,
    unsupported_features,
)
from tasks.base import Result

if TYPE_CHECKING:
    import torch

#: Integers with at most this many values are discrete dimensions of the acquisition optimizer
#: (BoTorch's own ``MAX_DISCRETE_VALUES``: it relaxes wider ones to continuous anyway).
MAX_DISCRETE_VALUES = 20
#: How many further Sobol points to try when a proposal repeats a known configuration.
_MAX_FALLBACK_DRAWS = 256


def default_n_initial(n_dims: int, n_trials: float) -> int:
    """The default initial-design size: ``2 * (d + 1)``, at most a quarter of the budget, at least 2.

    ``2(d + 1)`` points identify a GP's ARD length scales about as well as the ``max(5, 2d)`` of Ax;
    the quarter-budget cap (SMAC's rule) leaves short runs most of their trials for the model; two
    points are the fewest a GP with standardized outcomes can be fitted on.

    Example:
        >>> default_n_initial(2, 25), default_n_initial(5, 50), default_n_initial(10, 12)
        (6, 12, 3)
    """
    return max(2, min(2 * (n_dims + 1), math.floor(n_trials / 4)))


class UnitCube:
    """The searched parameters of a space as the unit cube BoTorch models, and back.

    ``discrete_dims`` (integers with at most :data:`MAX_DISCRETE_VALUES` values, ordinals) and
    ``cat_dims`` (categoricals) map a dimension to its allowed coordinates, in the form
    ``optimize_acqf_mixed_alternating`` takes.

    Example:
        >>> from ConfigSpace import ConfigurationSpace, Float
        >>> space = ConfigurationSpace({"n": (1, 5), "c": ["a", "b", "c"]})
        >>> space.add(Float("lr", (1e-4, 1.0), log=True))
        >>> cube = UnitCube(space)
        >>> cube.names, cube.cat_dims, cube.discrete_dims
        (['c', 'lr', 'n'], {0: [0.0, 0.5, 1.0]}, {2: [0.0, 0.25, 0.5, 0.75, 1.0]})
        >>> config = cube.decode([0.5, 0.75, 0.6])
        >>> config["c"], round(config["lr"], 12), config["n"]
        ('b', 0.1, 3)
        >>> cube.encode({'c': 'b', 'lr': 0.1, 'n': 3})
        [0.5, 0.75, 0.5]
    """

    def __init__(self, space: ConfigurationSpace) -> None:
        self.space = space
        params = searchable(space)
        # A parameter with one possible value carries no information: leave it out of the cube.
        self.fixed: dict[str, Any] = {p.name: 0 for p in params if _n_values(p) == 1}
        self.params: list[Param] = [p for p in params if _n_values(p) != 1]
        self.names = [p.name for p in self.params]
        self.discrete_dims: dict[int, list[float]] = {}
        self.cat_dims: dict[int, list[float]] = {}
        for i, p in enumerate(self.params):
            if p.kind == "categorical":
                self.cat_dims[i] = _index_grid(p.n_choices)
            elif p.kind == "ordinal":
                self.discrete_dims[i] = _index_grid(p.n_choices)
            elif p.kind == "int" and _n_values(p) <= MAX_DISCRETE_VALUES:
                self.discrete_dims[i] = [_to_unit(p, v) for v in range(int(p.lower), int(p.upper) + 1)]

    @property
    def dim(self) -> int:
        return len(self.params)

    @property
    def size(self) -> float:
        """The number of distinct configurations (``inf`` when a float or a wide integer is searched)."""
        counts = [_n_values(p) for p in self.params]
        return math.prod(counts) if all(math.isfinite(c) for c in counts) else math.inf

    def snap_sobol(self, u: Sequence[float]) -> list[float]:
        """A Sobol point as cube coordinates: choices take the index of the cell ``u`` falls in,
        so every category is drawn equally often (rounding ``u`` would halve the end ones)."""
        out = []
        for p, ui in zip(self.params, u, strict=True):
            if p.kind in ("categorical", "ordinal"):
                index = min(int(ui * p.n_choices), p.n_choices - 1)
                out.append(_index_grid(p.n_choices)[index])
            else:
                out.append(float(ui))
        return out

    def decode(self, x: Sequence[float]) -> dict[str, Any]:
        """Cube coordinates → a valid configuration (integers rounded, choices snapped)."""
        raw: dict[str, Any] = dict(self.fixed)
        for p, xi in zip(self.params, x, strict=True):
            u = min(max(float(xi), 0.0), 1.0)
            if p.kind in ("categorical", "ordinal"):
                raw[p.name] = round(u * (p.n_choices - 1))
            elif p.log:
                raw[p.name] = math.exp(math.log(p.lower) + u * (math.log(p.upper) - math.log(p.lower)))
            else:
                raw[p.name] = p.lower + u * (p.upper - p.lower)
        return decode_config(self.space, raw)

    def encode(self, config: Mapping[str, Any]) -> list[float]:
        """A configuration → cube coordinates (the inverse of :meth:`decode` on its image)."""
        out = []
        for p in self.params:
            value = config[p.name]
            if p.kind in ("categorical", "ordinal"):
                out.append(_index_grid(p.n_choices)[p.choices.index(value)])
            else:
                out.append(_to_unit(p, float(value)))
        return out


def _n_values(p: Param) -> float:
    if p.kind in ("categorical", "ordinal"):
        return p.n_choices
    if p.kind == "int":
        return int(p.upper) - int(p.lower) + 1
    return 1 if p.lower == p.upper else math.inf


def _index_grid(n: int) -> list[float]:
    """The coordinates of ``n`` choices: ``k / (n - 1)``, computed once the same way everywhere,
    so a category's coordinate compares equal in the training data and the optimizer's proposals."""
    return [k / (n - 1) for k in range(n)]


def _to_unit(p: Param, value: float) -> float:
    if p.log:
        u = (math.log(value) - math.log(p.lower)) / (math.log(p.upper) - math.log(p.lower))
    else:
        u = (value - p.lower) / (p.upper - p.lower)
    return min(max(u, 0.0), 1.0)


@contextlib.contextmanager
def _torch_sandbox(seed: int, threads: int | None) -> Iterator[None]:
    """Seed torch's RNG for one ask without disturbing the global state, with ``threads`` threads.

    BoTorch draws from torch's global generator (raw samples, restarts, fit retries), so it is
    forked and seeded here; the thread count is restored on exit.
    """
    import torch

    previous = torch.get_num_threads()
    with torch.random.fork_rng(devices=[]):
        # The CPU generator only: torch.manual_seed would also reseed CUDA's, which is not forked.
        torch.default_generator.manual_seed(seed)
        if threads is not None:
            torch.set_num_threads(threads)
        try:
            with warnings.catch_warnings():
                # Expected numerics of small GPs (jitter added, an L-BFGS run stopped early,
                # a restart without gradient) are BoTorch's/GPyTorch's business, not the run log's.
                from botorch.exceptions.warnings import (
                    BadInitialCandidatesWarning,
                    NumericsWarning,
                    OptimizationWarning,
                )
                from gpytorch.utils.warnings import NumericalWarning

                for category in (
                    BadInitialCandidatesWarning,
                    NumericsWarning,
                    OptimizationWarning,
                    NumericalWarning,
                ):
                    warnings.simplefilter("ignore", category)
                warnings.filterwarnings("ignore", module=r"scipy\.optimize")
                # optimize_acqf retries an L-BFGS run that stopped ABNORMAL (converged on a
                # flat acquisition surface) and says so as a RuntimeWarning.
                warnings.filterwarnings("ignore", "Optimization failed", RuntimeWarning)
                yield
        finally:
            torch.set_num_threads(previous)


class BotorchOptimizer(Optimizer):
    """Shared BoTorch adapter: Sobol design, then one GP-based proposal per ask.

    Subclasses implement :meth:`_acquisition`.

    Args:
        problem: The problem to optimize.
        seed: Run seed: the Sobol scrambling and every torch random draw derive from it.
        n_initial: Size of the Sobol initial design; ``None``: :func:`default_n_initial`.
        num_restarts: Restarts of the acquisition optimizer (``optimize_acqf``'s ``num_restarts``).
        raw_samples: Random points from which the restarts are chosen.
        mc_samples: Quasi-Monte-Carlo samples of the MC acquisition functions.
        torch_threads: Torch intra-op threads during an ask (restored afterwards); ``None``
            leaves torch's setting alone. One thread was 2-10 times faster than two in our
            measurements of GP fits on 2 busy cores.
        fit_maxiter: Cap on the L-BFGS iterations of each GP fit; ``None``: BoTorch's default
            (fits to convergence). ``MixedSingleTaskGP`` (categoricals) has many kernel
            hyperparameters and may need hundreds of iterations: a cap trades fit quality for time.
    """

    supports: ClassVar[frozenset[str]] = frozenset()
    supports_pending: ClassVar[bool] = True  # pending points go to the acquisition as X_pending
    # every library the GP and its acquisition optimization compute in (runs record their versions)
    requires: ClassVar[tuple[str, ...]] = ("botorch", "gpytorch", "linear_operator", "torch", "scipy")
    extra: ClassVar[str | None] = "botorch"
    library: ClassVar[str | None] = "botorch"

    def __init__(
        self,
        problem: Problem,
        seed: int,
        n_initial: int | None = None,
        num_restarts: int = 5,
        raw_samples: int = 256,
        mc_samples: int = 128,
        torch_threads: int | None = 1,
        fit_maxiter: int | None = None,
        **params: Any,
    ) -> None:
        common = dict(
            n_initial=n_initial,
            num_restarts=num_restarts,
            raw_samples=raw_samples,
            mc_samples=mc_samples,
            torch_threads=torch_threads,
            fit_maxiter=fit_maxiter,
        )
        super().__init__(problem, seed, **common, **params)
        for name, value in common.items():
            if value is None and name in ("n_initial", "torch_threads", "fit_maxiter"):
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name}={value!r} is invalid: expected an integer >= 1")
        import torch

        with warnings.catch_warnings():
            # linear_operator (a gpytorch dependency) decorates with torch.jit.script at import,
            # which torch >= 2.10 deprecates: a library matter, not the run's.
            warnings.filterwarnings("ignore", r".*torch\.jit\.script.* is deprecated", DeprecationWarning)
            import botorch  # noqa: F401

        self._cube = UnitCube(problem.space)
        if self._cube.dim == 0:
            raise ValueError(
                "BoTorch needs at least one hyperparameter with two or more values, the space has none"
            )
        self._n_initial = (
            default_n_initial(self._cube.dim, problem.budget.n_trials) if n_initial is None else n_initial
        )
        self._num_restarts = num_restarts
        self._raw_samples = raw_samples
        self._mc_samples = mc_samples
        self._threads = torch_threads
        self._fit_options: dict[str, Any] | None = (
            None if fit_maxiter is None else {"options": {"maxiter": fit_maxiter}}
        )
        # Scrambling is seeded here, once; draws are deterministic afterwards.
        self._sobol = torch.quasirandom.SobolEngine(
            self._cube.dim, scramble=True, seed=library_seed(self.seed)
        )
        self._X: list[list[float]] = []  # cube coordinates of told trials
        self._Y: list[list[float]] = []  # their losses (minimized)
        self._worst: list[float] = []
        self._pending: dict[int, list[float]] = {}
        self._seen: set[tuple[float, ...]] = set()
        self._n_asked = 0

    @classmethod
    def incompatibility(cls, problem: Problem) -> str | None:
        if "multi_objective" in cls.supports and not problem.is_multi_objective:
            return f"{cls.__name__} is multi-objective only but the task has a single objective"
        return super().incompatibility(problem)

    @classmethod
    def check_space(cls, space: ConfigurationSpace) -> str | None:
        return unsupported_features(
            space, "BoTorch (a GP on a fixed unit cube)", conditions=False, forbiddens=False
        )

    # ------------------------------------------------------------------------- ask / tell

    def ask(self) -> Trial:
        key = self._n_asked
        self._n_asked += 1
        source = "sobol"
        x: list[float] | None = None
        if key >= self._n_initial and len(self._Y) >= 2:
            with _torch_sandbox(library_seed(self.seed, key + 1), self._threads):
                x, source = self._propose(key)
        if x is None or tuple(x) in self._seen:
            if x is not None:
                source = "sobol (the model proposed a known configuration)"
            x = self._next_unseen_sobol()
        self._seen.add(tuple(x))
        self._pending[key] = x
        return Trial(self._cube.decode(x), meta={"botorch_trial": key, "botorch_source": source})

    def tell(self, trial: Trial, result: Result) -> None:
        key = trial.meta.get("botorch_trial")
        if key not in self._pending:
            raise ValueError(f"trial meta botorch_trial={key!r} was not asked or was told already")
        self._X.append(self._pending.pop(key))
        self._Y.append(minimization_losses(self.problem, result, self._worst))

    # ------------------------------------------------------------------------- internals

    def _next_unseen_sobol(self) -> list[float]:
        if len(self._seen) >= self._cube.size:
            raise SearchExhausted(f"all {len(self._seen)} configurations of the finite space were proposed")
        x = self._cube.encode(self._cube.decode(self._cube.snap_sobol(self._sobol.draw(1)[0].tolist())))
        for _ in range(_MAX_FALLBACK_DRAWS):
            if tuple(x) not in self._seen:
                break
            x = self._cube.encode(self._cube.decode(self._cube.snap_sobol(self._sobol.draw(1)[0].tolist())))
        return x  # after many repeats on a nearly exhausted space, a repeat is accepted

    def _propose(self, key: int) -> tuple[list[float] | None, str]:
        """Fit the GP(s) and maximize the acquisition function; ``None`` when BoTorch gives up."""
        import torch
        from botorch.exceptions.errors import CandidateGenerationError, ModelFittingError
        from linear_operator.utils.errors import NanError, NotPSDError

        tkw: dict[str, Any] = {"dtype": torch.float64}
        X = torch.tensor(self._X, **tkw)
        Y = -torch.tensor(self._Y, **tkw)  # BoTorch maximizes
        pending = torch.tensor(list(self._pending.values()), **tkw) if self._pending else None
        try:
            model = self._fit(X, Y)
            acq = self._acquisition(model, X, Y, pending, library_seed(self.seed, 2 * key + 1))
            candidate = self._optimize(acq)
        except (ModelFittingError, CandidateGenerationError, NotPSDError, NanError) as exc:
            return None, f"sobol (BoTorch failed: {type(exc).__name__})"
        x = self._cube.encode(self._cube.decode(candidate.view(-1).tolist()))
        return x, "model"

    def _fit(self, X: torch.Tensor, Y: torch.Tensor) -> Any:
        """A GP per objective with BoTorch's default priors and outcome standardization.

        Several objectives get a ``ModelListGP`` of independent GPs, each fitted on its own: in our
        timings on bbob-biobj a batched multi-output GP, fitted jointly, made qNEHVI and qNParEGO
        runs about twice as slow.
        """
        from botorch import fit_gpytorch_mll
        from botorch.models import MixedSingleTaskGP, ModelListGP, SingleTaskGP
        from gpytorch.mlls import ExactMarginalLogLikelihood, SumMarginalLogLikelihood

        def one(y: torch.Tensor) -> Any:
            if self._cube.cat_dims:
                return MixedSingleTaskGP(X, y, cat_dims=sorted(self._cube.cat_dims))
            return SingleTaskGP(X, y)

        if Y.shape[-1] == 1:
            model = one(Y)
            mll: Any = ExactMarginalLogLikelihood(model.likelihood, model)
        else:
            model = ModelListGP(*[one(Y[:, i : i + 1]) for i in range(Y.shape[-1])])
            mll = SumMarginalLogLikelihood(model.likelihood, model)
        fit_gpytorch_mll(mll, optimizer_kwargs=self._fit_options)
        return model

    def _sampler(self, seed: int) -> Any:
        import torch
        from botorch.sampling import SobolQMCNormalSampler

        return SobolQMCNormalSampler(sample_shape=torch.Size([self._mc_samples]), seed=seed)

    def _acquisition(
        self, model: Any, X: torch.Tensor, Y: torch.Tensor, pending: torch.Tensor | None, seed: int
    ) -> Any:
        raise NotImplementedError

    def _optimize(self, acq: Any) -> torch.Tensor:
        import torch
        from botorch.optim import optimize_acqf
        from botorch.optim.optimize_mixed import optimize_acqf_mixed_alternating

        d = self._cube.dim
        bounds = torch.stack([torch.zeros(d), torch.ones(d)]).to(torch.float64)
        if not (self._cube.discrete_dims or self._cube.cat_dims):
            candidate, _ = optimize_acqf(
                acq, bounds, q=1, num_restarts=self._num_restarts, raw_samples=self._raw_samples
            )
        else:
            candidate, _ = optimize_acqf_mixed_alternating(
                acq,
                bounds,
                discrete_dims=self._cube.discrete_dims,
                cat_dims=self._cube.cat_dims,
                num_restarts=self._num_restarts,
                raw_samples=self._raw_samples,
            )
        return candidate


class BotorchEI(BotorchOptimizer):
    """Single-objective GP BO with log expected improvement (Jones et al. 1998; Ament et al. 2023).

    Args:
        acquisition: ``"qLogNEI"`` (default): ``qLogNoisyExpectedImprovement``, the improvement
            over the GP's noisy incumbents (robust when evaluations are noisy, Ax's default);
            ``"LogEI"``: analytic ``LogExpectedImprovement`` over the best observed value, which
            becomes its Monte-Carlo twin ``qLogExpectedImprovement`` while trials are pending.
        **kwargs: see :class:`BotorchOptimizer`.
    """

    def __init__(
        self,
        problem: Problem,
        seed: int,
        acquisition: Literal["qLogNEI", "LogEI"] = "qLogNEI",
        n_initial: int | None = None,
        num_restarts: int = 5,
        raw_samples: int = 256,
        mc_samples: int = 128,
        torch_threads: int | None = 1,
        fit_maxiter: int | None = None,
    ) -> None:
        if acquisition not in ("qLogNEI", "LogEI"):
            raise ValueError(f"acquisition={acquisition!r} is invalid: valid are 'qLogNEI', 'LogEI'")
        super().__init__(
            problem,
            seed,
            n_initial=n_initial,
            num_restarts=num_restarts,
            raw_samples=raw_samples,
            mc_samples=mc_samples,
            torch_threads=torch_threads,
            fit_maxiter=fit_maxiter,
            acquisition=acquisition,
        )
        self._kind = acquisition

    def _acquisition(
        self, model: Any, X: torch.Tensor, Y: torch.Tensor, pending: torch.Tensor | None, seed: int
    ) -> Any:
        from botorch.acquisition import (
            LogExpectedImprovement,
            qLogExpectedImprovement,
            qLogNoisyExpectedImprovement,
        )

        if self._kind == "LogEI":
            if pending is None:
                return LogExpectedImprovement(model, best_f=Y.max())
            return qLogExpectedImprovement(
                model, best_f=Y.max(), sampler=self._sampler(seed), X_pending=pending
            )
        return qLogNoisyExpectedImprovement(
            model, X_baseline=X, sampler=self._sampler(seed), X_pending=pending, prune_baseline=True
        )


class BotorchQNEHVI(BotorchOptimizer):
    """Multi-objective GP BO with qLogNEHVI (Daulton et al. 2021; Ament et al. 2023).

    The hypervolume's reference point is recomputed at every ask from the observed Pareto front
    with BoTorch's ``infer_reference_point``: the front's nadir moved back by ``ref_margin``
    times the front's range in each objective (0.1 is the robust multiplier of Ishibuchi et al.
    2011, Ax's default). Tasks rarely publish a reference point, and a fixed one from the first
    observations would be too loose or exclude later improvements.

    Args:
        ref_margin: Margin of the reference point behind the nadir, as a fraction of the range.
        **kwargs: see :class:`BotorchOptimizer`.
    """

    supports: ClassVar[frozenset[str]] = frozenset({"multi_objective"})

    def __init__(
        self,
        problem: Problem,
        seed: int,
        ref_margin: float = 0.1,
        n_initial: int | None = None,
        num_restarts: int = 5,
        raw_samples: int = 256,
        mc_samples: int = 128,
        torch_threads: int | None = 1,
        fit_maxiter: int | None = None,
    ) -> None:
        if isinstance(ref_margin, bool) or not isinstance(ref_margin, int | float) or not ref_margin >= 0:
            raise ValueError(f"ref_margin={ref_margin!r} is invalid: expected a number >= 0")
        super().__init__(
            problem,
            seed,
            n_initial=n_initial,
            num_restarts=num_restarts,
            raw_samples=raw_samples,
            mc_samples=mc_samples,
            torch_threads=torch_threads,
            fit_maxiter=fit_maxiter,
            ref_margin=ref_margin,
        )
        self._ref_margin = float(ref_margin)

    def _acquisition(
        self, model: Any, X: torch.Tensor, Y: torch.Tensor, pending: torch.Tensor | None, seed: int
    ) -> Any:
        from botorch.acquisition.multi_objective.logei import qLogNoisyExpectedHypervolumeImprovement
        from botorch.utils.multi_objective.hypervolume import infer_reference_point
        from botorch.utils.multi_objective.pareto import is_non_dominated

        ref_point = infer_reference_point(Y[is_non_dominated(Y)], scale=self._ref_margin)
        return qLogNoisyExpectedHypervolumeImprovement(
            model,
            ref_point=ref_point,
            X_baseline=X,
            sampler=self._sampler(seed),
            X_pending=pending,
            prune_baseline=True,
        )


class BotorchParEGO(BotorchOptimizer):
    """Multi-objective GP BO with qNParEGO: random augmented Chebyshev scalarizations (Knowles 2006).

    Unlike Knowles' ParEGO, which fits one GP on the scalarized values, BoTorch's qNParEGO keeps
    a GP per objective and scalarizes their posterior samples (Daulton et al. 2020), with weights
    drawn uniformly from the simplex at every ask and objectives normalized by their observed
    range; the scalarization is maximized with ``qLogNoisyExpectedImprovement``.

    Args:
        **kwargs: see :class:`BotorchOptimizer`.
    """

    supports: ClassVar[frozenset[str]] = frozenset({"multi_objective"})

    def __init__(
        self,
        problem: Problem,
        seed: int,
        n_initial: int | None = None,
        num_restarts: int = 5,
        raw_samples: int = 256,
        mc_samples: int = 128,
        torch_threads: int | None = 1,
        fit_maxiter: int | None = None,
    ) -> None:
        super().__init__(
            problem,
            seed,
            n_initial=n_initial,
            num_restarts=num_restarts,
            raw_samples=raw_samples,
            mc_samples=mc_samples,
            torch_threads=torch_threads,
            fit_maxiter=fit_maxiter,
        )

    def _acquisition(
        self, model: Any, X: torch.Tensor, Y: torch.Tensor, pending: torch.Tensor | None, seed: int
    ) -> Any:
        from botorch.acquisition import qLogNoisyExpectedImprovement
        from botorch.acquisition.objective import GenericMCObjective
        from botorch.utils.multi_objective.scalarization import get_chebyshev_scalarization
        from botorch.utils.sampling import sample_simplex

        weights = sample_simplex(Y.shape[-1], seed=seed, dtype=Y.dtype).view(-1)
        objective = GenericMCObjective(get_chebyshev_scalarization(weights, Y))
        return qLogNoisyExpectedImprovement(
            model,
            X_baseline=X,
            sampler=self._sampler(seed),
            objective=objective,
            X_pending=pending,
            prune_baseline=True,
        )
