"""Successive Halving and Hyperband (Li et al., JMLR 2018) as synchronous ask/tell optimizers.

With ``R = max_fidelity / min_fidelity`` and ``s_max = floor(log_eta R)``, bracket
``s`` starts ``n = ceil((s_max + 1) / (s + 1) * eta**s)`` random configurations at
fidelity ``max_fidelity * eta**-s``; rung ``i`` runs ``floor(n * eta**-i)`` of
them at ``max_fidelity * eta**(i - s)``, the best ones promoted from rung
``i - 1``. :class:`Hyperband` cycles through brackets ``s_max, ..., 0``;
:class:`SuccessiveHalving` repeats the most exploratory bracket ``s_max``.
Brackets repeat until the runner's budget ends the run.

Promotion is synchronous: a rung is promoted once every one of its trials was
told. If :meth:`~SuccessiveHalving.ask` is called while the running bracket has
handed out its whole rung and some of those trials still wait for results
(impossible in the sequential runner, routine with simulated parallel workers),
it raises :class:`~optimizers.base.WaitForPending`: the worker idles until the
rung completes, as a synchronous method does for real.

On tasks with discrete fidelities (``Fidelity.values``), each rung fidelity is
snapped to the nearest admissible value in log scale. Only the first objective
is optimized (negated when it is maximized); a failed trial should be told with
a non-finite value, which ranks last.

Example:
    >>> [[(r.n, r.fidelity) for r in b] for b in hyperband_schedule(3, 1, 9)]
    [[(9, 1.0), (3, 3.0), (1, 9.0)], [(5, 3.0), (1, 9.0)], [(3, 9.0)]]
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from optimizers.base import Optimizer, Problem, Trial, WaitForPending
from optimizers.sampling import SpaceSampler
from tasks.base import Fidelity, Result

_TOL = 1e-9  # absorbs float error in log/power arithmetic (log_3(81) = 3.9999999999999996)


@dataclass(frozen=True)
class Rung:
    """One rung of a bracket: ``n`` configurations evaluated at ``fidelity``."""

    n: int
    fidelity: float


def max_bracket(eta: float, min_fidelity: float, max_fidelity: float) -> int:
    """``s_max = floor(log_eta(max_fidelity / min_fidelity))``.

    Example:
        >>> max_bracket(3, 1, 81), max_bracket(3, 1, 80), max_bracket(2, 5, 5)
        (4, 3, 0)
    """
    return math.floor(math.log(max_fidelity / min_fidelity) / math.log(eta) + _TOL)


def bracket_schedule(s: int, s_max: int, eta: float, max_fidelity: float) -> tuple[Rung, ...]:
    """The rungs of Hyperband bracket ``s`` (Li et al. 2018, Algorithm 1).

    Example:
        >>> [(r.n, r.fidelity) for r in bracket_schedule(3, 4, 3, 81)]
        [(34, 3.0), (11, 9.0), (3, 27.0), (1, 81.0)]
    """
    if not 0 <= s <= s_max:
        raise ValueError(f"bracket index s={s} must be in [0, {s_max}]")
    n = math.ceil((s_max + 1) * eta**s / (s + 1) - _TOL)
    return tuple(
        Rung(max(1, math.floor(n / eta**i + _TOL)), float(max_fidelity * eta ** (i - s)))
        for i in range(s + 1)
    )


def hyperband_schedule(eta: float, min_fidelity: float, max_fidelity: float) -> list[tuple[Rung, ...]]:
    """All brackets of one Hyperband iteration, most exploratory first.

    Example:
        >>> [b[0].n for b in hyperband_schedule(3, 1, 81)]
        [81, 34, 15, 8, 5]
    """
    s_max = max_bracket(eta, min_fidelity, max_fidelity)
    return [bracket_schedule(s, s_max, eta, max_fidelity) for s in range(s_max, -1, -1)]


def snap(value: float, admissible: tuple[float, ...]) -> float:
    """The admissible fidelity closest to ``value`` in log scale.

    Example:
        >>> snap(3.7, (1.0, 2.0, 5.0, 10.0)), snap(1.2, (1.0, 2.0, 5.0, 10.0))
        (5.0, 1.0)
    """
    return float(min(admissible, key=lambda a: (abs(math.log(a / value)), a)))


def bandit_fidelity_range(
    name: str, problem: Problem, eta: Any, min_fidelity: float | None, max_fidelity: float | None
) -> tuple[Fidelity, float, float, float]:
    """Check a bandit method's problem and parameters; return the axis, ``eta``, lowest and highest rung.

    Shared by successive halving, Hyperband and ASHA: they need a fidelity axis and a single
    objective, ``eta > 1`` and ``axis.low <= min_fidelity <= max_fidelity <= axis.high``.

    Example:
        >>> from ConfigSpace import ConfigurationSpace
        >>> from optimizers.base import Budget
        >>> from tasks.base import Objective
        >>> space = ConfigurationSpace({"x": (0.0, 1.0)})
        >>> p = Problem(space, (Objective("y"),), Fidelity("e", 1, 9), Budget(5))
        >>> bandit_fidelity_range("SH", p, 3, None, None)[1:]
        (3.0, 1.0, 9.0)
    """
    fidelity = problem.fidelity
    if fidelity is None:
        raise ValueError(f"{name} needs a task with a fidelity axis; this one has none")
    if problem.is_multi_objective:
        raise ValueError(f"{name} is single-objective; the task has {len(problem.objectives)} objectives")
    if isinstance(eta, bool) or not isinstance(eta, int | float) or not eta > 1:
        raise ValueError(f"eta={eta!r} is invalid: eta must be a number > 1 (3 is usual)")
    low = float(fidelity.low if min_fidelity is None else min_fidelity)
    high = float(fidelity.high if max_fidelity is None else max_fidelity)
    if not fidelity.low <= low <= high <= fidelity.high:
        raise ValueError(
            f"min_fidelity={low}, max_fidelity={high} are invalid for fidelity {fidelity.name!r}: "
            f"use {fidelity.low} <= min_fidelity <= max_fidelity <= {fidelity.high}"
        )
    return fidelity, float(eta), low, high


def admissible_fidelity(value: float, fidelity: Fidelity, low: float, high: float) -> float:
    """``value`` moved onto the axis: clipped to ``[low, high]``, or snapped to its nearest listed value.

    Example:
        >>> admissible_fidelity(3.2, Fidelity("e", 1, 9, values=(1, 3, 9)), 1, 9)
        3.0
    """
    if fidelity.values is None:
        return min(max(value, low), high)  # clip away float error so Fidelity.contains holds
    window = tuple(float(v) for v in fidelity.values if low <= v <= high)
    if not window:
        raise ValueError(
            f"no admissible value of fidelity {fidelity.name!r} in [{low}, {high}]; "
            f"valid: {sorted(fidelity.values)}"
        )
    return snap(value, window)


def first_loss(result: Result, minimize: bool) -> float:
    """The first objective as a loss to minimize; ``nan`` (a failed trial) ranks last as ``inf``.

    Example:
        >>> first_loss(Result((0.8,)), minimize=False), first_loss(Result((float("nan"),)), True)
        (-0.8, inf)
    """
    value = float(result.values[0])
    if math.isnan(value):
        return math.inf
    return value if minimize else -value


def top_k(losses: Mapping[int, float], k: int) -> list[int]:
    """The ``k`` keys of ``losses`` with the lowest loss, best first.

    Stable on ties: the lower key (the earlier-sampled configuration) wins, so runs stay
    deterministic.

    Example:
        >>> top_k({0: 0.5, 1: 0.2, 2: 0.2, 3: 0.9}, 2)
        [1, 2]
    """
    return sorted(losses, key=lambda i: (losses[i], i))[:k]


class _Bracket:
    """State of one running bracket: the current rung's configs and the losses told so far."""

    def __init__(self, bracket_id: int, rungs: tuple[Rung, ...], draw: Callable[[], dict[str, Any]]) -> None:
        self.id = bracket_id
        self.rungs = rungs
        self.rung = 0
        self.size = rungs[0].n  # trials of the current rung
        self._draw = draw  # first-rung configurations, drawn when handed out
        self.configs: list[dict[str, Any]] = []  # of the current rung
        self.config_ids = list(range(self.size))  # lineage across rungs, for Trial.meta
        self.next_index = 0
        self.losses: dict[int, float] = {}

    @property
    def done(self) -> bool:
        return self.rung >= len(self.rungs)

    def next_trial(self) -> Trial | None:
        if self.done or self.next_index >= self.size:
            return None
        i = self.next_index
        self.next_index += 1
        if i == len(self.configs):
            self.configs.append(self._draw())
        meta = {"bracket": self.id, "rung": self.rung, "index": i, "config_id": self.config_ids[i]}
        # A copy: whatever the runner does with the dict cannot alter the promoted configs.
        return Trial(dict(self.configs[i]), self.rungs[self.rung].fidelity, meta)

    def record(self, rung: int, index: int, loss: float) -> None:
        if rung != self.rung or not 0 <= index < self.next_index or index in self.losses:
            raise ValueError(
                f"bracket {self.id}: unexpected result for rung {rung}, index {index} "
                f"(current rung {self.rung}, {self.next_index} trials handed out, "
                f"{len(self.losses)} told)"
            )
        self.losses[index] = loss
        if len(self.losses) == self.size:
            self._promote()

    def _promote(self) -> None:
        self.rung += 1
        if self.done:
            return
        keep = top_k(self.losses, self.rungs[self.rung].n)
        self.configs = [self.configs[i] for i in keep]
        self.config_ids = [self.config_ids[i] for i in keep]
        self.size = len(keep)
        self.next_index = 0
        self.losses = {}


class SuccessiveHalving(Optimizer):
    """Successive Halving: Hyperband's most exploratory bracket, repeated.

    Args:
        problem: The task's problem; must have a fidelity axis.
        seed: Seed of the configuration sampler.
        eta: Reduction factor (> 1): each rung keeps the best ``1/eta`` configurations.
        min_fidelity: Fidelity of the first rung; defaults to the task's lowest.
        max_fidelity: Fidelity of the last rung; defaults to the task's highest.
    """

    supports: ClassVar[frozenset[str]] = frozenset({"multi_fidelity"})
    requires_fidelity: ClassVar[bool] = True
    supports_pending: ClassVar[bool] = True  # by waiting: ask raises WaitForPending mid-rung

    def __init__(
        self,
        problem: Problem,
        seed: int,
        eta: float = 3,
        min_fidelity: float | None = None,
        max_fidelity: float | None = None,
    ) -> None:
        super().__init__(problem, seed, eta=eta, min_fidelity=min_fidelity, max_fidelity=max_fidelity)
        fidelity, self.eta, self.min_fidelity, self.max_fidelity = bandit_fidelity_range(
            type(self).__name__, problem, eta, min_fidelity, max_fidelity
        )
        self.minimize = problem.objectives[0].minimize
        self.brackets = [self._admissible(b, fidelity) for b in self._schedule()]
        self._sampler = SpaceSampler(problem.space, np.random.default_rng(self.seed))
        self._active: dict[int, _Bracket] = {}
        self._n_started = 0

    def _schedule(self) -> list[tuple[Rung, ...]]:
        return hyperband_schedule(self.eta, self.min_fidelity, self.max_fidelity)[:1]

    def _admissible(self, rungs: tuple[Rung, ...], fidelity: Fidelity) -> tuple[Rung, ...]:
        low, high = self.min_fidelity, self.max_fidelity
        return tuple(Rung(r.n, admissible_fidelity(r.fidelity, fidelity, low, high)) for r in rungs)

    def _first_rung(self, n: int) -> Callable[[], dict[str, Any]]:
        """Where a new bracket's ``n`` first-rung configurations come from, one per call.

        Random search draws them in one batch now; a model-based subclass (BOHB) overrides
        this to draw each one when it is handed out, from a model of every result so far.
        """
        batch = self._sampler.sample(n)
        batch.reverse()  # pop() from the end keeps the sampled order
        return batch.pop

    def _start_bracket(self) -> _Bracket:
        rungs = self.brackets[self._n_started % len(self.brackets)]
        bracket = _Bracket(self._n_started, rungs, self._first_rung(rungs[0].n))
        self._active[bracket.id] = bracket
        self._n_started += 1
        return bracket

    def ask(self) -> Trial:
        for bracket in self._active.values():  # oldest first: finish brackets before opening new ones
            trial = bracket.next_trial()
            if trial is not None:
                return trial
        if self._active:
            # Synchronous: the next rung (or bracket) needs the results of every pending trial.
            bracket = next(iter(self._active.values()))
            raise WaitForPending(
                f"bracket {bracket.id}, rung {bracket.rung}: {bracket.size - len(bracket.losses)} "
                f"of {bracket.size} trials pending"
            )
        trial = self._start_bracket().next_trial()
        assert trial is not None  # a fresh bracket always has a first trial
        return trial

    def tell(self, trial: Trial, result: Result) -> None:
        try:
            bracket = self._active[trial.meta["bracket"]]
            rung, index = trial.meta["rung"], trial.meta["index"]
        except KeyError:
            raise ValueError(
                f"trial {trial.config!r} (meta {trial.meta!r}) was not proposed by this "
                f"{type(self).__name__} or its bracket already finished"
            ) from None
        bracket.record(rung, index, first_loss(result, self.minimize))
        if bracket.done:
            del self._active[bracket.id]


class Hyperband(SuccessiveHalving):
    """Hyperband: Successive Halving over brackets ``s_max, ..., 0``, cycled.

    Same parameters as :class:`SuccessiveHalving`.

    Example:
        >>> from ConfigSpace import ConfigurationSpace
        >>> from optimizers.base import Budget
        >>> from tasks.base import Objective
        >>> space = ConfigurationSpace({"x": (0.0, 1.0)}, seed=0)
        >>> problem = Problem(space, (Objective("y"),), Fidelity("epochs", 1, 27), Budget(10))
        >>> hb = Hyperband(problem, seed=0)
        >>> [len(b) for b in hb.brackets], hb.ask().fidelity
        ([4, 3, 2, 1], 1.0)
    """

    def _schedule(self) -> list[tuple[Rung, ...]]:
        return hyperband_schedule(self.eta, self.min_fidelity, self.max_fidelity)
