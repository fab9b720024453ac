"""pymoo's evolutionary multi-objective algorithms through pymoo's ask/tell interface.

Four algorithms, one class each: NSGA-II (Deb et al. 2002), NSGA-III (Deb & Jain 2014),
MOEA/D (Zhang & Li 2007) and SMS-EMOA (Beume et al. 2007). pymoo thinks in batches (a
generation); the runner asks for one configuration at a time. The adapter bridges the two:

* ``ask`` takes the next batch from pymoo's ``algorithm.ask()`` when the previous one was
  told, and hands its individuals out one per call;
* ``tell`` records each individual's losses; when the whole batch is in, pymoo is told the
  batch (``algorithm.tell(infills=batch)``) and runs its survival/replacement step.

A batch is what pymoo itself asks for: the initial population, then a generation of
offspring for NSGA-II/NSGA-III, a single offspring for SMS-EMOA (steady state, as in the
paper) and MOEA/D (pymoo's MOEA/D updates the neighbourhood after every offspring).

**Pending trials** (simulated parallel workers) are supported by waiting: once every
individual of the current batch is out, ``ask`` raises
:class:`~optimizers.base.WaitForPending` until the last of them is told, exactly as a
synchronous generational EA would idle its workers. The steady-state methods therefore keep
only one worker busy after the initial population; that is the algorithm, not the adapter.

**End of the budget.** The runner owns the budget and simply stops asking; a generation
that is partly evaluated then is never told to pymoo. Nothing is lost: every evaluation was
already logged by the runner, and the results (incumbents, hypervolume) are computed from
those logs, not from pymoo's population.

**Search space.** pymoo searches a real-valued box: floats on their own scale (log-scaled
ones on the log scale), integers widened by half a step so both bounds are as likely as
inner values, ordinals and categoricals as their index. A :class:`_SnapRepair` (pymoo's
repair hook, the same place as pymoo's ``RoundingRepair`` for discrete variables) rounds
integer, ordinal and categorical coordinates, so the genotype pymoo keeps is exactly the
configuration evaluated and pymoo's duplicate elimination works on real configurations.
Categorical coordinates never go through SBX/polynomial mutation, which would invent an
order among the categories: they are recombined by uniform crossover and mutated by
resetting to a uniformly random category (pymoo's own operators for ``Choice`` variables,
``UX`` and ``ChoiceRandomMutation``), at the same per-variable rate as the polynomial
mutation; the algorithms' own selection and survival are kept. Conditional spaces are
flattened the way the Nevergrad adapter does it: every searched hyperparameter keeps a
coordinate, and inactive ones are dropped when an individual is decoded (for a population
method an inactive coordinate is a neutral direction). Forbidden clauses are handled in the
repair too: an individual that decodes to a forbidden configuration is redrawn uniformly
from the box (from the algorithm's random generator) until it is allowed.

NSGA-III, MOEA/D and SMS-EMOA are multi-objective only: their reference directions,
decomposition and hypervolume selection have no single-objective meaning (pymoo's MOEA/D
asserts two or more objectives; NSGA-III would get one direction). NSGA-II also runs on one
objective, as pymoo (and Optuna's NSGA-II sampler, ``optuna_nsga2``) allow: non-dominated
ranks are then fitness ranks, so it is an elitist (mu + lambda) real-coded GA with binary
tournaments, SBX and polynomial mutation.
Maximized objectives are negated; a non-finite result is told as the worst finite loss
seen for that objective. Tasks with a fidelity axis are optimized at the highest fidelity.
pymoo draws every random number from the generator ``algorithm.setup(seed=...)`` creates
(pymoo >= 0.6.2), seeded here from the run seed; no global RNG is read or seeded.

Example:
    >>> from ConfigSpace import ConfigurationSpace
    >>> from optimizers.base import Budget, Problem
    >>> from tasks.base import Objective, Result
    >>> space = ConfigurationSpace({"x": (0.0, 1.0), "k": ["a", "b"]}, seed=0)
    >>> objectives = (Objective("f1"), Objective("f2"))
    >>> opt = PymooNSGA2(Problem(space, objectives, None, Budget(8)), seed=0, pop_size=4)
    >>> trials = [opt.ask() for _ in range(4)]  # the initial population, one by one
    >>> opt.ask()
    Traceback (most recent call last):
    ...
    optimizers.base.WaitForPending: pymoo NSGA2: batch 0 is out (4 individuals), 4 not told yet
    >>> for t in trials:
    ...     opt.tell(t, Result((t.config["x"], 1.0 - t.config["x"])))
    >>> sorted(opt.ask().config)  # the first offspring
    ['k', 'x']
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
from ConfigSpace import ConfigurationSpace

from optimizers.base import Optimizer, Problem, SearchExhausted, Trial, WaitForPending
from optimizers.space_conversion import (
    Param,
    RowDecoder,
    is_forbidden,
    library_seed,
    minimization_losses,
    searchable,
    unsupported_features,
)
from tasks.base import Result

#: How far integer-like coordinates reach past their bounds: just under half a step, so that
#: rounding maps the widened box onto the bounds and each value gets a cell of equal width.
_HALF_STEP = 0.4999
#: Uniform redraws of an individual that decodes to a forbidden configuration before giving up.
MAX_REDRAWS = 1000


class PymooBox:
    """A ConfigSpace space as pymoo's real-valued box, and back.

    Coordinates follow :func:`~optimizers.space_conversion.searchable`. Floats keep their
    scale (log-scaled ones live on the log scale); integers, ordinals and categoricals are
    snapped to whole values by :meth:`snap` (integers with ``log=True`` on the log scale).

    Example:
        >>> from ConfigSpace import ConfigurationSpace, Integer
        >>> space = ConfigurationSpace({"x": (0.0, 2.0), "c": ["a", "b", "c"]}, seed=0)
        >>> _ = space.add(Integer("n", (1, 100), log=True))
        >>> box = PymooBox(space)
        >>> box.names, box.categorical.tolist()
        (['c', 'n', 'x'], [True, False, False])
        >>> x = box.snap(np.array([[1.7, math.log(9.6), 0.5]]))[0]
        >>> box.config(x)
        {'c': 'c', 'n': 10, 'x': 0.5}
    """

    def __init__(self, space: ConfigurationSpace) -> None:
        self.space = space
        self.params: list[Param] = searchable(space)
        self.names = [p.name for p in self.params]
        self._decode = RowDecoder(space)
        kinds = [p.kind for p in self.params]
        self.categorical = np.array([k == "categorical" for k in kinds], dtype=bool)
        #: coordinates whose value is a whole number (the integer itself, or an index)
        self.whole = np.array([k != "float" for k in kinds], dtype=bool)
        self._any_whole = bool(self.whole.any())
        self.log = np.array([p.log and p.kind in ("float", "int") for p in self.params], dtype=bool)
        # the whole-number range of each integer-like coordinate (value space, not log space)
        self.low_value = np.array([self._range(p)[0] for p in self.params], dtype=float)
        self.high_value = np.array([self._range(p)[1] for p in self.params], dtype=float)
        widen = np.where(self.whole, _HALF_STEP, 0.0)
        lo, hi = self.low_value - widen, self.high_value + widen
        self.xl = np.where(self.log, np.log(np.where(self.log, lo, 1.0)), lo)
        self.xu = np.where(self.log, np.log(np.where(self.log, hi, 1.0)), hi)

    @staticmethod
    def _range(p: Param) -> tuple[float, float]:
        if p.kind in ("categorical", "ordinal"):
            return 0.0, float(p.n_choices - 1)
        return p.lower, p.upper

    @property
    def n_var(self) -> int:
        return len(self.params)

    def snap(self, x: np.ndarray) -> np.ndarray:
        """Round the integer-like coordinates of the rows of ``x`` to the values they decode to."""
        x = np.clip(np.asarray(x, dtype=float), self.xl, self.xu)
        if not self._any_whole:  # floats only: clipping is all there is (5 numpy calls saved)
            return x
        value = np.where(self.log, np.exp(x), x)
        whole = np.clip(np.round(value), self.low_value, self.high_value)
        snapped = np.where(self.log, np.log(np.where(self.log, whole, 1.0)), whole)
        return np.where(self.whole, snapped, x)

    def config(self, x: np.ndarray) -> dict[str, Any]:
        """The configuration of one (snapped) row: plain Python values, constants added back,
        inactive parameters left out."""
        return self.configs(np.asarray(x, dtype=float)[None, :])[0]

    def configs(self, xs: np.ndarray) -> list[dict[str, Any]]:
        """The configurations of the rows of ``xs`` (one numpy pass for the whole batch)."""
        values = np.where(self.log, np.exp(np.where(self.log, xs, 0.0)), xs)
        return self._decode.many(values)

    def forbidden(self, x: np.ndarray) -> bool:
        return is_forbidden(self.space, self.config(x))


def _snap_repair(box: PymooBox) -> Any:
    """A pymoo ``Repair`` that snaps integer-like coordinates and redraws forbidden individuals."""
    from pymoo.core.repair import Repair

    class _SnapRepair(Repair):
        def _do(self, problem: Any, X: Any, random_state: Any = None, **kwargs: Any) -> Any:
            X = box.snap(X)
            if not box.space.forbidden_clauses:
                return X
            for i in range(len(X)):
                tries = 0
                while box.forbidden(X[i]):
                    if tries == MAX_REDRAWS:
                        raise RuntimeError(
                            f"pymoo: {MAX_REDRAWS} uniform draws all hit a forbidden clause of the space; "
                            "cannot propose an allowed configuration"
                        )
                    X[i] = box.snap(random_state.uniform(box.xl, box.xu))
                    tries += 1
            return X

    return _SnapRepair()


def _categorical_operators(algorithm: Any, box: PymooBox) -> None:
    """Give the categorical coordinates pymoo's categorical operators (uniform crossover,
    random-reset mutation), leaving the algorithm's SBX/polynomial mutation on the others."""
    from pymoo.core.crossover import Crossover
    from pymoo.core.mutation import Mutation

    cat = np.flatnonzero(box.categorical)
    n_choices = box.high_value[cat].astype(int) + 1
    mating = algorithm.mating
    inner_crossover, inner_mutation = mating.crossover, mating.mutation

    class _CategoricalCrossover(Crossover):
        def __init__(self) -> None:
            super().__init__(inner_crossover.n_parents, inner_crossover.n_offsprings)
            self.prob = inner_crossover.prob  # the base class draws whether to cross at all

        def _do(self, problem: Any, X: Any, *args: Any, random_state: Any = None, **kwargs: Any) -> Any:
            Q = inner_crossover._do(problem, X, *args, random_state=random_state, **kwargs)
            # UX on the categorical columns of the two parents: each category comes from either
            # parent with probability 1/2, and the second child gets what the first did not.
            swap = random_state.random((X.shape[1], len(cat))) < 0.5
            first, second = X[0][:, cat], X[1][:, cat]
            for k in range(Q.shape[0]):
                Q[k][:, cat] = np.where(swap, second, first) if k % 2 == 0 else np.where(swap, first, second)
            return Q

    class _CategoricalMutation(Mutation):
        def __init__(self) -> None:
            super().__init__()
            self.prob = inner_mutation.prob  # the base class draws whether to mutate at all

        def _do(self, problem: Any, X: Any, *args: Any, random_state: Any = None, **kwargs: Any) -> Any:
            Xp = inner_mutation._do(problem, X, *args, random_state=random_state, **kwargs)
            Xp[:, cat] = X[:, cat]
            # The polynomial mutation's per-variable rate (1/n_var by default) for a random reset.
            rate = inner_mutation.get_prob_var(problem, size=len(X))
            reset = random_state.random((len(X), len(cat))) < np.reshape(rate, (-1, 1))
            fresh = random_state.integers(0, n_choices, size=(len(X), len(cat)))
            Xp[:, cat] = np.where(reset, fresh, Xp[:, cat])
            return Xp

    mating.crossover = _CategoricalCrossover()
    mating.mutation = _CategoricalMutation()


class Pymoo(Optimizer):
    """The shared adapter of the pymoo algorithms: subclasses build the pymoo algorithm.

    Args:
        problem: The problem to optimize (two or more objectives).
        seed: Run seed; pymoo's random generator is seeded from it.
    """

    supports: ClassVar[frozenset[str]] = frozenset({"multi_objective"})
    supports_pending: ClassVar[bool] = True  # by waiting for the batch, see the module docstring
    #: Whether single-objective tasks are refused (see the module docstring).
    multi_objective_only: ClassVar[bool] = True
    # pymoo computes hypervolumes in moocore and distances in scipy; autograd comes with its problems
    requires: ClassVar[tuple[str, ...]] = ("pymoo", "moocore", "autograd", "scipy")
    extra: ClassVar[str | None] = "pymoo"
    library: ClassVar[str | None] = "pymoo"

    def __init__(self, problem: Problem, seed: int, **params: Any) -> None:
        super().__init__(problem, seed, **params)
        reason = self.params_reason(params) or self.incompatibility(problem)
        if reason:
            raise ValueError(reason)
        from pymoo.core.problem import Problem as PymooProblem
        from pymoo.core.termination import NoTermination

        self._box = PymooBox(problem.space)
        self._pymoo_problem = PymooProblem(
            n_var=self._box.n_var, n_obj=len(problem.objectives), xl=self._box.xl, xu=self._box.xu
        )
        # On a box of floats without forbidden clauses the repair would only clip, and pymoo's
        # sampling draws inside the box and its SBX and polynomial mutation clamp into it: the
        # clip changes nothing (a test checks the trials are identical) and costs pymoo's
        # population get/set around every mating, so the algorithm gets no repair there.
        needs_repair = self._box.whole.any() or bool(problem.space.forbidden_clauses)
        repair = _snap_repair(self._box) if needs_repair else None
        algorithm = self.make_algorithm(len(problem.objectives), repair)
        if self._box.categorical.any():
            _categorical_operators(algorithm, self._box)
        # The runner owns the budget: pymoo must never decide to stop (and finalize) by itself.
        algorithm.setup(
            self._pymoo_problem, termination=NoTermination(), seed=library_seed(self.seed), verbose=False
        )
        if not isinstance(getattr(algorithm, "random_state", None), np.random.Generator):
            raise RuntimeError(
                "pymoo >= 0.6.2 is needed (earlier releases draw from and reseed numpy's global RNG): "
                "pip install 'pymoo>=0.6.2'"
            )
        self._algorithm = algorithm
        self._batch: Any = None  # what pymoo's ask returned: a Population, or one Individual
        self._members: list[Any] = []  # the batch's individuals, in the order they are handed out
        self._n_out = 0
        self._losses: dict[int, list[float]] = {}
        self._n_batches = 0
        self._worst: list[float] = []

    # ------------------------------------------------------------------ what subclasses define

    def make_algorithm(self, n_obj: int, repair: Any) -> Any:
        """The pymoo algorithm (not yet set up) for ``n_obj`` objectives, with ``repair`` (``None``: pymoo's
        ``NoRepair``)."""
        raise NotImplementedError

    @classmethod
    def params_reason(cls, params: Mapping[str, Any]) -> str | None:
        """Why the (well-typed) ``params`` values cannot work, or ``None``."""
        return None

    # ------------------------------------------------------------------ planning

    @classmethod
    def check_params(cls, params: Mapping[str, Any]) -> str | None:
        """Names and types (see :meth:`Optimizer.check_params`), then the values' ranges.

        Example:
            >>> PymooNSGA2.check_params({"pop_size": 1})
            'pymoo NSGA-II pop_size=1 is invalid: use an integer >= 2'
        """
        return super().check_params(params) or cls.params_reason(params)

    @classmethod
    def incompatibility(cls, problem: Problem) -> str | None:
        if cls.multi_objective_only and not problem.is_multi_objective:
            return f"{cls.__name__} is multi-objective only (pymoo_nsga2 also runs single-objective tasks)"
        return super().incompatibility(problem)

    @classmethod
    def check_space(cls, space: ConfigurationSpace) -> str | None:
        reason = unsupported_features(space, "pymoo", conditions=True, forbiddens=True)
        if reason:
            return reason
        if not searchable(space):
            return "pymoo needs at least one non-constant hyperparameter, the space has none"
        return None

    # ------------------------------------------------------------------ ask / tell

    def ask(self) -> Trial:
        if self._batch is None:
            self._next_batch()
        index = self._n_out
        if index == len(self._members):
            pending = len(self._members) - len(self._losses)
            raise WaitForPending(
                f"pymoo {self.algorithm_name}: batch {self._n_batches - 1} is out "
                f"({len(self._members)} individuals), {pending} not told yet"
            )
        self._n_out = index + 1
        return Trial(self._configs[index], None, {"pymoo_batch": self._n_batches - 1, "pymoo_index": index})

    def tell(self, trial: Trial, result: Result) -> None:
        meta, losses = trial.meta, self._losses
        batch, index = meta.get("pymoo_batch"), meta.get("pymoo_index")
        if batch != self._n_batches - 1 or not isinstance(index, int) or not 0 <= index < self._n_out:
            raise ValueError(f"pymoo {self.algorithm_name} never handed out this trial (meta {meta!r})")
        if index in losses:
            raise ValueError(f"pymoo {self.algorithm_name}: trial {index} of batch {batch} was told twice")
        losses[index] = minimization_losses(self.problem, result, self._worst)
        if len(losses) == len(self._members):
            self._tell_batch()

    def _next_batch(self) -> None:
        from pymoo.core.individual import Individual

        with warnings.catch_warnings():  # see _tell_batch
            batch = self._algorithm.ask()
        if batch is None:
            raise SearchExhausted(
                f"pymoo {self.algorithm_name} cannot create an offspring that is not a duplicate of "
                "one it has evaluated"
            )
        # MOEA/D asks for one Individual at a time; the others for a Population.
        self._members = [batch] if isinstance(batch, Individual) else list(batch)
        if not self._members:
            raise SearchExhausted(f"pymoo {self.algorithm_name} proposed an empty generation")
        self._batch = batch
        # Decoded when the batch arrives, in one pass: per ask that would be two numpy calls
        # and pymoo's attribute lookup per individual.
        self._configs = self._box.configs(np.array([m.X for m in self._members], dtype=float))
        self._n_out = 0
        self._losses = {}
        self._n_batches += 1

    def _tell_batch(self) -> None:
        from pymoo.core.population import Population
        from pymoo.problems.static import StaticProblem

        F = np.array([self._losses[i] for i in range(len(self._members))], dtype=float)
        # pymoo's documented ask/tell route: a StaticProblem holds the values, the evaluator
        # sets F and the feasibility attributes (and counts the evaluations).
        # a Population batch is evaluated as it is (as pymoo's own loop does); MOEA/D's single
        # Individual is wrapped
        batch = self._batch
        population = batch if isinstance(batch, Population) else Population.create(*self._members)
        # catch_warnings restores the process's warning filters: pymoo's NSGA-III survival calls
        # warnings.simplefilter("ignore"), which would otherwise silence every later warning.
        with warnings.catch_warnings():
            self._algorithm.evaluator.eval(StaticProblem(self._pymoo_problem, F=F), population)
            self._algorithm.tell(infills=self._batch)
        self._batch = None

    @property
    def algorithm_name(self) -> str:
        return type(self).__name__.removeprefix("Pymoo")


def _positive_int(name: str, value: Any, minimum: int, owner: str) -> str | None:
    if value is None or (isinstance(value, int) and not isinstance(value, bool) and value >= minimum):
        return None
    return f"{owner} {name}={value!r} is invalid: use an integer >= {minimum}"


class PymooNSGA2(Pymoo):
    """NSGA-II (Deb et al. 2002): non-dominated sorting and crowding distance, generational;
    single- or multi-objective.

    Args:
        pop_size: Population size (the initial population is uniform random).
        n_offsprings: Offspring per generation (``None``: ``pop_size``).

    Example:
        >>> PymooNSGA2.check_params({"pop_size": 20, "n_offsprings": None}) is None
        True
    """

    multi_objective_only: ClassVar[bool] = False

    def __init__(
        self, problem: Problem, seed: int, pop_size: int = 20, n_offsprings: int | None = None
    ) -> None:
        self.pop_size, self.n_offsprings = pop_size, n_offsprings
        super().__init__(problem, seed, pop_size=pop_size, n_offsprings=n_offsprings)

    @classmethod
    def params_reason(cls, params: Mapping[str, Any]) -> str | None:
        return _positive_int("pop_size", params.get("pop_size"), 2, "pymoo NSGA-II") or _positive_int(
            "n_offsprings", params.get("n_offsprings"), 1, "pymoo NSGA-II"
        )

    def make_algorithm(self, n_obj: int, repair: Any) -> Any:
        from pymoo.algorithms.moo.nsga2 import NSGA2

        return NSGA2(pop_size=self.pop_size, n_offsprings=self.n_offsprings, repair=repair)


class PymooSMSEMOA(Pymoo):
    """SMS-EMOA (Beume et al. 2007): steady-state (mu + 1) selection by hypervolume contribution.

    Args:
        pop_size: Population size mu (the initial population is uniform random).
        n_offsprings: Offspring per generation: 1 is the paper's steady-state scheme; ``None``
            is pymoo's default (``pop_size``, a generational variant).

    Example:
        >>> PymooSMSEMOA.check_params({"n_offsprings": 0})
        'pymoo SMS-EMOA n_offsprings=0 is invalid: use an integer >= 1'
    """

    def __init__(self, problem: Problem, seed: int, pop_size: int = 20, n_offsprings: int | None = 1) -> None:
        self.pop_size, self.n_offsprings = pop_size, n_offsprings
        super().__init__(problem, seed, pop_size=pop_size, n_offsprings=n_offsprings)

    @classmethod
    def params_reason(cls, params: Mapping[str, Any]) -> str | None:
        return _positive_int("pop_size", params.get("pop_size"), 2, "pymoo SMS-EMOA") or _positive_int(
            "n_offsprings", params.get("n_offsprings"), 1, "pymoo SMS-EMOA"
        )

    def make_algorithm(self, n_obj: int, repair: Any) -> Any:
        from pymoo.algorithms.moo.sms import SMSEMOA

        return SMSEMOA(pop_size=self.pop_size, n_offsprings=self.n_offsprings, repair=repair)


def das_dennis_partitions(n_obj: int, max_ref_dirs: int) -> int:
    """The most Das–Dennis partitions whose directions number at most ``max_ref_dirs`` (>= 1).

    ``p`` partitions give ``C(p + m - 1, m - 1)`` directions for ``m`` objectives.

    Example:
        >>> das_dennis_partitions(2, 20), das_dennis_partitions(3, 20), das_dennis_partitions(5, 3)
        (19, 4, 1)
    """
    p = 1
    while math.comb(p + 1 + n_obj - 1, n_obj - 1) <= max_ref_dirs:
        p += 1
    return p


def das_dennis_directions(n_obj: int, n_partitions: int | None, max_ref_dirs: int) -> Any:
    """Das–Dennis reference directions: ``n_partitions`` if given, else sized by ``max_ref_dirs``.

    Example:
        >>> das_dennis_directions(3, None, 20).shape
        (15, 3)
    """
    from pymoo.util.ref_dirs import get_reference_directions

    p = n_partitions if n_partitions is not None else das_dennis_partitions(n_obj, max_ref_dirs)
    return get_reference_directions("das-dennis", n_obj, n_partitions=p)


def _reference_reason(params: Mapping[str, Any], owner: str) -> str | None:
    return _positive_int("n_partitions", params.get("n_partitions"), 1, owner) or _positive_int(
        "max_ref_dirs", params.get("max_ref_dirs"), 2, owner
    )


class PymooNSGA3(Pymoo):
    """NSGA-III (Deb & Jain 2014): non-dominated sorting with niching on reference directions.

    Args:
        n_partitions: Das–Dennis partitions per objective; ``None``: the most that give at
            most ``max_ref_dirs`` directions (2 objectives: 19 partitions, 20 directions;
            3 objectives: 4 partitions, 15 directions).
        max_ref_dirs: Cap on the number of directions when ``n_partitions`` is ``None``.
        pop_size: Population size; ``None``: one per reference direction (pymoo's default).

    Example:
        >>> PymooNSGA3.check_params({"n_partitions": 0})
        'pymoo NSGA-III n_partitions=0 is invalid: use an integer >= 1'
    """

    def __init__(
        self,
        problem: Problem,
        seed: int,
        n_partitions: int | None = None,
        max_ref_dirs: int = 20,
        pop_size: int | None = None,
    ) -> None:
        self.n_partitions, self.max_ref_dirs, self.pop_size = n_partitions, max_ref_dirs, pop_size
        super().__init__(
            problem, seed, n_partitions=n_partitions, max_ref_dirs=max_ref_dirs, pop_size=pop_size
        )

    @classmethod
    def params_reason(cls, params: Mapping[str, Any]) -> str | None:
        owner = "pymoo NSGA-III"
        return _reference_reason(params, owner) or _positive_int("pop_size", params.get("pop_size"), 2, owner)

    def make_algorithm(self, n_obj: int, repair: Any) -> Any:
        from pymoo.algorithms.moo.nsga3 import NSGA3

        ref_dirs = das_dennis_directions(n_obj, self.n_partitions, self.max_ref_dirs)
        if self.pop_size is not None and self.pop_size < len(ref_dirs):
            # pymoo only prints a warning; NSGA-III needs a member per direction to niche.
            raise ValueError(
                f"pymoo NSGA-III pop_size={self.pop_size} is smaller than its {len(ref_dirs)} reference "
                f"directions for {n_obj} objectives: use pop_size >= {len(ref_dirs)} or null"
            )
        return NSGA3(ref_dirs, pop_size=self.pop_size, repair=repair)


class PymooMOEAD(Pymoo):
    """MOEA/D (Zhang & Li 2007): one scalar subproblem per reference direction, each mated
    with its neighbours; Tchebycheff decomposition on two objectives, PBI on more (pymoo).

    Args:
        n_partitions: Das–Dennis partitions; ``None``: sized by ``max_ref_dirs`` (see
            :class:`PymooNSGA3`). The population has one member per direction.
        max_ref_dirs: Cap on the number of directions when ``n_partitions`` is ``None``.
        n_neighbors: Neighbourhood size T (at most the number of directions).
        prob_neighbor_mating: Probability of mating within the neighbourhood (delta).

    Example:
        >>> PymooMOEAD.check_params({"prob_neighbor_mating": 1.5})
        'pymoo MOEA/D prob_neighbor_mating=1.5 is invalid: use a probability in [0, 1]'
    """

    def __init__(
        self,
        problem: Problem,
        seed: int,
        n_partitions: int | None = None,
        max_ref_dirs: int = 20,
        n_neighbors: int = 5,
        prob_neighbor_mating: float = 0.9,
    ) -> None:
        self.n_partitions, self.max_ref_dirs = n_partitions, max_ref_dirs
        self.n_neighbors, self.prob_neighbor_mating = n_neighbors, prob_neighbor_mating
        super().__init__(
            problem,
            seed,
            n_partitions=n_partitions,
            max_ref_dirs=max_ref_dirs,
            n_neighbors=n_neighbors,
            prob_neighbor_mating=prob_neighbor_mating,
        )

    @classmethod
    def params_reason(cls, params: Mapping[str, Any]) -> str | None:
        owner = "pymoo MOEA/D"
        reason = _reference_reason(params, owner) or _positive_int(
            "n_neighbors", params.get("n_neighbors"), 2, owner
        )
        prob = params.get("prob_neighbor_mating", 0.9)
        is_probability = isinstance(prob, int | float) and not isinstance(prob, bool) and 0 <= prob <= 1
        if reason is None and not is_probability:
            reason = f"{owner} prob_neighbor_mating={prob!r} is invalid: use a probability in [0, 1]"
        return reason

    def make_algorithm(self, n_obj: int, repair: Any) -> Any:
        from pymoo.algorithms.moo.moead import MOEAD

        ref_dirs = das_dennis_directions(n_obj, self.n_partitions, self.max_ref_dirs)
        return MOEAD(
            ref_dirs,
            n_neighbors=min(self.n_neighbors, len(ref_dirs)),
            prob_neighbor_mating=float(self.prob_neighbor_mating),
            repair=repair,
        )
