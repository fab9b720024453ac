"""CMA-ES and IPOP-CMA-ES with pycma (``cma.CMAEvolutionStrategy``), the reference implementation.

The adapter drives pycma's own ask/tell loop: one ``es.ask()`` samples a generation
of ``popsize`` candidates, which :meth:`CMAES.ask` hands out one per call; when the
last result of the generation arrives, the whole generation goes to ``es.tell``.
Several generations are never mixed: with simulated parallel workers, asking while
the generation's last candidates are still being evaluated raises
:class:`~optimizers.base.WaitForPending` (CMA-ES ranks a complete generation).

Search space. CMA-ES searches the unit cube ``[0, 1]^d`` (:class:`UnitCube`), one
coordinate per searched parameter, log-scaled parameters on their log scale, with
pycma's own ``bounds=[0, 1]`` option: its default boundary handler (``BoundTransform``)
maps each sampled point into the box and the distribution is updated with the
unbounded genotype, so candidates are feasible without rejection. Integers are
continuous coordinates widened by half a step on each side and rounded on decode
(both bounds as likely as inner values); their standard deviation is kept above the
lower bound of pycma's integer handling (``cma.options_parameters.integer_std_lower_bound``,
Hansen 2011, "A CMA-ES for mixed-integer nonlinear optimization"), rescaled from one
integer unit to the coordinate's step in the cube, so a run never freezes on one value.
Ordinals are integers on their index (their order is all ConfigSpace says about them).
Constants are added back on decode. Categorical parameters (no order, nothing for a
Gaussian to move along), conditional parameters and forbidden clauses are refused by
:meth:`CMAES.check_space`, so the planner never runs CMA-ES on such a space.

Restarts. When pycma's termination criteria fire (``es.stop()``: flat fitness,
``tolfun``, ``tolx``, stagnation, ...) a new ``CMAEvolutionStrategy`` starts from a
uniformly random point with the same ``sigma0``: :class:`CMAES` keeps the population
size (a plain restart, as ``cma.fmin(..., restarts=k, incpopsize=1)``, so a run that
converged early keeps searching within its budget), :class:`IPOPCMAES` multiplies it by
``incpopsize`` (2: IPOP-CMA-ES, Auger & Hansen 2005).

Randomness. pycma draws its normal samples from numpy's *global* RNG (the default of
its ``randn`` option) and reseeds that global RNG from its ``seed`` option. Each run
therefore keeps its own global-RNG state (a :class:`~optimizers.global_rng.GlobalRngSandbox`):
every call into pycma runs with that state swapped in (pycma reseeds it with
``seed=library_seed(run seed, restart)``) and the caller's global
state restored afterwards, so trials depend only on the run seed and the caller's
``np.random`` stream is left untouched. Console and file output are off
(``verbose=-9``, ``verb_disp=0``, ``verb_log=0``: no ``outcmaes/`` folder).

Tasks with a fidelity axis are optimized at the highest fidelity.

Example:
    >>> from ConfigSpace import ConfigurationSpace
    >>> from optimizers.base import Budget, Problem
    >>> from tasks.base import Objective, Result
    >>> space = ConfigurationSpace({"x": (-2.0, 2.0), "n": (1, 5)}, seed=0)
    >>> opt = CMAES(Problem(space, (Objective("y"),), None, Budget(20)), seed=1)
    >>> trial = opt.ask()
    >>> isinstance(trial.config["n"], int) and -2.0 <= trial.config["x"] <= 2.0
    True
    >>> opt.tell(trial, Result((trial.config["x"] ** 2,)))
"""

from __future__ import annotations

import contextlib
import difflib
import math
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
from ConfigSpace import ConfigurationSpace

from optimizers.base import Optimizer, Problem, Trial, WaitForPending
from optimizers.global_rng import GlobalRngSandbox
from optimizers.space_conversion import library_seed, minimization_losses
from optimizers.unit_cube import UnitCube, cube_space_reason
from tasks.base import Result

__all__ = ["CMAES", "IPOPCMAES", "UnitCube", "cube_space_reason"]


class CMAES(Optimizer):
    """CMA-ES (Hansen & Ostermeier 2001; Hansen 2016, "The CMA Evolution Strategy: A Tutorial").

    Args:
        problem: The problem to optimize (single objective; numeric and ordinal parameters).
        seed: Run seed; seeds pycma (``seed`` option) and the restart points.
        sigma0: Initial step size in the unit cube. 0.25: a quarter of every range, so that
            ``x0 ± 2 sigma0`` spans the cube from its centre (Hansen's advice: the optimum
            should lie within ``x0 ± 2..3 sigma0``).
        popsize: Population size (lambda); ``None``: pycma's default ``4 + floor(3 ln d)``,
            which suits budgets of 50–500 trials (8 in 5-D: 60 generations in 500 trials).
        x0: First mean: ``"center"`` of the cube, or ``"random"`` (uniform, from the seed).
            Restarts always start from a uniformly random point.
        options: Further ``cma.CMAOptions`` (e.g. ``{"tolfun": 1e-8, "CMA_diagonal": True}``);
            bounds, seed, population size and verbosity are set by the adapter.
    """

    supports: ClassVar[frozenset[str]] = frozenset()
    supports_pending: ClassVar[bool] = True
    # pycma imports scipy when it is installed (always: it is a core dependency here), so runs record it
    requires: ClassVar[tuple[str, ...]] = ("cma", "scipy")
    extra: ClassVar[str | None] = "cma"
    library: ClassVar[str | None] = "cma"
    #: cma options the adapter sets itself, so ``options`` cannot.
    OWN_OPTIONS: ClassVar[tuple[str, ...]] = (
        "bounds",
        "seed",
        "popsize",
        "randn",
        "verbose",
        "verb_disp",
        "verb_log",
        "verb_filenameprefix",
    )
    #: Population factor between restarts: 1 for plain restarts, 2 for IPOP.
    incpopsize: float = 1.0

    def __init__(
        self,
        problem: Problem,
        seed: int,
        sigma0: float = 0.25,
        popsize: int | None = None,
        x0: str = "center",
        options: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(problem, seed, sigma0=sigma0, popsize=popsize, x0=x0, options=options)
        reason = self._value_reason(sigma0, popsize, x0) or self.check_params({"options": options or {}})
        if reason:
            raise ValueError(reason)
        self.cube = UnitCube(problem.space)
        self.sigma0 = float(sigma0)
        self.options = dict(options or {})
        self._rng = np.random.default_rng(np.random.SeedSequence([self.seed, 0x434D41]))  # restart points
        # pycma's own state of numpy's global RNG, for user options that make pycma draw from
        # it (see _sandbox); with the adapter's own options every draw goes through randn.
        self._rngs = GlobalRngSandbox(library_seed(self.seed, 0x434D41)) if self.options else None
        self._worst: list[float] = []
        #: Population size of each CMA-ES run so far (the first, then one per restart).
        self.popsizes: list[int] = []
        first = np.full(self.cube.dim, 0.5) if x0 == "center" else self._rng.random(self.cube.dim)
        self._start(first, popsize)

    @staticmethod
    def _value_reason(sigma0: float, popsize: int | None, x0: str) -> str | None:
        if not (isinstance(sigma0, int | float) and 0 < sigma0 <= 1):
            return f"sigma0={sigma0!r} is invalid: use a step size in (0, 1], relative to the unit cube"
        if popsize is not None and not (isinstance(popsize, int) and popsize >= 2):
            return f"popsize={popsize!r} is invalid: use an integer >= 2, or null for pycma's default"
        if x0 not in ("center", "random"):
            return f"x0={x0!r} is invalid: use 'center' or 'random'"
        return None

    @classmethod
    def check_space(cls, space: ConfigurationSpace) -> str | None:
        return cube_space_reason(space, "pycma")

    @classmethod
    def check_params(cls, params: Mapping[str, Any]) -> str | None:
        """Names and types (see :meth:`Optimizer.check_params`), values, then ``options`` against
        ``cma.CMAOptions`` (imports cma: called only when planned).

        Example:
            >>> CMAES.check_params({"options": {"tolfunn": 1e-9}})
            "pycma option 'tolfunn' is unknown: did you mean 'tolfun'? (valid: any key of cma.CMAOptions())"
            >>> CMAES.check_params({"options": {"popsize": 4}})
            "pycma option 'popsize' is set by the adapter: use the optimizer's own parameter or remove it"
        """
        reason = super().check_params(params)
        if reason:
            return reason
        reason = cls._value_reason(
            params.get("sigma0", 0.25), params.get("popsize"), params.get("x0", "center")
        )
        if reason:
            return reason
        import cma

        known = set(cma.CMAOptions())
        for key in params.get("options") or {}:
            if key in cls.OWN_OPTIONS:
                return (
                    f"pycma option {key!r} is set by the adapter: "
                    "use the optimizer's own parameter or remove it"
                )
            if key not in known:
                close = difflib.get_close_matches(key, list(known), n=1)
                hint = f"did you mean {close[0]!r}? " if close else ""
                return f"pycma option {key!r} is unknown: {hint}(valid: any key of cma.CMAOptions())"
        return None

    def _start(self, x0: np.ndarray, popsize: int | None) -> None:
        import cma
        from cma.options_parameters import integer_std_lower_bound
        from cma.recombination_weights import RecombinationWeights

        d = self.cube.dim
        lam = int(popsize) if popsize is not None else 4 + int(3 * math.log(d))
        # pycma would seed numpy's global generator with its seed option and draw its normal
        # samples from it; a private RandomState with that seed, passed as its randn option,
        # gives the very same samples without touching the global generator (0 would mean
        # "seed from the clock" to pycma).
        randn = np.random.RandomState(max(1, library_seed(self.seed, len(self.popsizes)))).randn
        opts: dict[str, Any] = {
            **self.options,
            "bounds": [0.0, 1.0],
            "seed": math.nan,  # pycma: "do nothing" (it would only seed the global generator)
            "randn": randn,
            "popsize": lam,
            "verbose": -9,
            "verb_disp": 0,
            "verb_log": 0,
        }
        discrete = self.cube.discrete
        if discrete and "minstd" not in self.options:
            # pycma's integer rule (std >= this many integer units), in units of the cube step.
            floor = integer_std_lower_bound(d, RecombinationWeights(lam).mueff, len(discrete))
            minstd = np.zeros(d)
            for i in discrete:
                minstd[i] = floor * self.cube.step(i)
            opts["minstd"] = minstd
        with self._sandbox():
            self._es = cma.CMAEvolutionStrategy(x0.tolist(), self.sigma0, opts)
            self._next = self._sample()
        self.popsizes.append(lam)
        self._generation: list[np.ndarray] = []
        self._losses: list[float | None] = []
        self._handed_out = 0
        self._told = 0  # results of the current generation told so far
        self._generation_id = getattr(self, "_generation_id", -1)

    def _restart(self) -> None:
        lam = max(2, round(self.popsizes[-1] * self.incpopsize))
        self._start(self._rng.random(self.cube.dim), lam)

    def ask(self) -> Trial:
        if self._handed_out == len(self._generation):
            if self._told < len(self._losses):
                waiting = len(self._losses) - self._told
                raise WaitForPending(
                    f"CMA-ES generation {self._generation_id}: "
                    f"{waiting} of {len(self._losses)} results pending"
                )
            # sampled when the previous generation was told (or pycma started), inside the same
            # swap of the global RNG: each swap copies numpy's global state twice (~25 µs each)
            self._generation, self._next = self._next, []
            self._losses = [None] * len(self._generation)
            self._handed_out = 0
            self._told = 0
            self._generation_id += 1
        index = self._handed_out
        self._handed_out = index + 1
        return Trial(
            self.cube.decode(self._generation[index]),
            None,
            {"cma_generation": self._generation_id, "cma_index": index},
        )

    def tell(self, trial: Trial, result: Result) -> None:
        meta, losses = trial.meta, self._losses
        generation, index = meta["cma_generation"], meta["cma_index"]
        if generation != self._generation_id or losses[index] is not None:
            raise ValueError(
                f"trial {index} of CMA-ES generation {generation} was not handed out in the current "
                f"generation {self._generation_id}, or was told twice"
            )
        losses[index] = minimization_losses(self.problem, result, self._worst)[0]
        told = self._told = self._told + 1
        if told < len(losses):
            return
        with self._sandbox():
            self._es.tell(self._generation, self._losses)
            stop = bool(self._es.stop())
            if not stop:
                self._next = self._sample()  # the next generation, as es.ask() at the next ask would
        if stop:
            self._restart()

    def _sandbox(self) -> contextlib.AbstractContextManager[None]:
        """The global-RNG sandbox around pycma's construction, ``tell`` and ``ask``, needed only
        with user ``options``.

        With the adapter's own options every draw goes through the private ``randn`` (a test
        checks the global state is untouched across construction, generations and restarts);
        options such as pycma's ``integer_variables`` draw from the global generator directly,
        so with any user option each call runs in the sandbox (about 4 copies of numpy's state
        per generation).
        """
        return self._rngs.active() if self._rngs is not None else contextlib.nullcontext()

    def _sample(self) -> list[np.ndarray]:
        """pycma's next generation (call with this run's global RNG swapped in)."""
        return [np.asarray(x) for x in self._es.ask()]


class IPOPCMAES(CMAES):
    """IPOP-CMA-ES (Auger & Hansen 2005): CMA-ES restarted with an ``incpopsize``-times larger
    population whenever pycma's termination criteria fire.

    Args:
        problem: The problem to optimize.
        seed: Run seed.
        incpopsize: Factor between successive population sizes (2 in the paper).
        **kwargs: As for :class:`CMAES` (``sigma0``, ``popsize``, ``x0``, ``options``).

    Example:
        >>> IPOPCMAES.check_params({"incpopsize": 1})
        'incpopsize=1 is invalid: use a factor > 1 (2 is IPOP-CMA-ES; plain restarts are cma_es)'
    """

    def __init__(
        self,
        problem: Problem,
        seed: int,
        sigma0: float = 0.25,
        popsize: int | None = None,
        x0: str = "center",
        options: dict[str, Any] | None = None,
        incpopsize: float = 2.0,
    ) -> None:
        reason = self._incpopsize_reason(incpopsize)
        if reason:
            raise ValueError(reason)
        self.incpopsize = float(incpopsize)
        super().__init__(problem, seed, sigma0=sigma0, popsize=popsize, x0=x0, options=options)
        self.params = {**self.params, "incpopsize": incpopsize}

    @staticmethod
    def _incpopsize_reason(incpopsize: Any) -> str | None:
        if not (isinstance(incpopsize, int | float) and incpopsize > 1):
            return (
                f"incpopsize={incpopsize!r} is invalid: "
                "use a factor > 1 (2 is IPOP-CMA-ES; plain restarts are cma_es)"
            )
        return None

    @classmethod
    def check_params(cls, params: Mapping[str, Any]) -> str | None:
        reason = super().check_params(params)
        return reason or cls._incpopsize_reason(params.get("incpopsize", 2.0))
