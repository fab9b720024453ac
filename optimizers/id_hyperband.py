"""Iterative Deepening Hyperband (Brandt, Wever, Iliadis, Bengs & Hüllermeier, 2023).

"Iterative Deepening Hyperband", arXiv:2302.00511. Hyperband (see
:mod:`optimizers.hyperband`) must be told its maximal budget ``R`` up front; if ``R``
proves too small, plain Hyperband has to start again. The paper's incremental
variants raise ``R`` to ``eta * R`` and *continue* the brackets already run. This
module implements that incremental, no-re-evaluation variant, built on incremental
successive halving (iSHA, Brandt et al., IJCAI 2024):

* Raising the maximum from ``R`` to ``eta * R`` turns bracket ``s`` of Hyperband with
  ``s_max`` into bracket ``s + 1`` of Hyperband with ``s_max + 1``: the same lowest
  fidelity, one more rung on top. Each rung is filled up to the size Hyperband's
  formula gives for the new ``s_max`` (``n = ceil((s_max + 1) / (s + 1) * eta**s)``,
  ``floor(n * eta**-i)`` at rung ``i``): new random configurations at the lowest
  rung; at rung ``i`` the configurations already there *stay* (their results are
  reused, never re-run) and the free places go to the best configurations of rung
  ``i - 1`` that are not in rung ``i`` yet (the paper's iSHA promotion rule); the new
  top rung takes the best of the old top rung.
* A new bracket ``s = 0`` (only the new maximum) is added.

So no ``(configuration, fidelity)`` pair is ever evaluated twice, and once deepened to
``R`` the brackets hold exactly the rung sizes of one plain Hyperband iteration with
maximum ``R`` — the same number of evaluations, but results at small maxima come
first. (Where the rule above would shrink a rung, i.e. for ``eta < 2``, the rung keeps
what it holds: results are never thrown away.)

Our tasks have a fixed fidelity range, so the run starts with the maximum
``max_fidelity * eta**-deepenings`` and deepens ``deepenings`` times, one Hyperband
iteration per maximum, up to ``max_fidelity``; then it goes on with plain Hyperband
iterations at ``max_fidelity`` (fresh brackets) until the runner's budget ends the run.
The default deepens from the lowest rung up (``deepenings = s_max``: the first
iteration is one configuration at the lowest fidelity).

What this module does not reproduce, since the text of the paper was not at hand
when it was written: the paper's other variants (one that discards the old brackets,
one that re-runs promotions with re-evaluations) and its exact bracket order.
Brackets here run most exploratory first, as in Hyperband. Promotion is synchronous
(``ask`` raises :class:`~optimizers.base.WaitForPending` while the running rung
waits for results), only the first objective is optimized (negated when maximized)
and a failed trial (``nan``) ranks last; discrete fidelities are snapped as in
Hyperband.

Example:
    >>> for stage in deepening_schedule(3, 1, 9, deepenings=2):  # maxima 1, 3, 9
    ...     print([[(r.n, r.fidelity) for r in bracket] for bracket in stage])
    [[(1, 1.0)]]
    [[(3, 1.0), (1, 3.0)], [(2, 3.0)]]
    [[(9, 1.0), (3, 3.0), (1, 9.0)], [(5, 3.0), (1, 9.0)], [(3, 9.0)]]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from optimizers.base import Problem, Trial, WaitForPending
from optimizers.hyperband import Hyperband, Rung, bracket_schedule, first_loss, max_bracket, top_k
from tasks.base import Result


def deepening_schedule(
    eta: float, min_fidelity: float, max_fidelity: float, deepenings: int
) -> list[list[tuple[Rung, ...]]]:
    """The Hyperband brackets of each stage, from maximum ``max_fidelity * eta**-deepenings`` up.

    Stage ``t`` is Hyperband with ``s_max - deepenings + t`` and maximum
    ``max_fidelity * eta**(t - deepenings)``, most exploratory bracket first; bracket ``j``
    of stage ``t`` grows into bracket ``j`` of stage ``t + 1``, whose last bracket is new.
    Fidelities come from integer powers of ``eta``, so a rung has bit for bit the same
    fidelity in every stage.

    Example:
        >>> [len(stage) for stage in deepening_schedule(3, 1, 81, 2)]
        [3, 4, 5]
    """
    s_max = max_bracket(eta, min_fidelity, max_fidelity)
    if isinstance(deepenings, bool) or not isinstance(deepenings, int) or not 0 <= deepenings <= s_max:
        raise ValueError(
            f"deepenings={deepenings!r} is invalid: use an integer in [0, {s_max}] "
            f"(s_max = floor(log_{eta:g}({max_fidelity:g} / {min_fidelity:g})))"
        )
    stages = []
    for t in range(deepenings + 1):
        top = s_max - deepenings + t  # s_max of this stage's Hyperband
        stages.append(
            [
                tuple(
                    Rung(r.n, float(max_fidelity * eta ** (t - deepenings + i - s)))
                    for i, r in enumerate(bracket_schedule(s, top, eta, 1.0))
                )
                for s in range(top, -1, -1)
            ]
        )
    return stages


class _GrowingBracket:
    """A Successive Halving bracket that keeps every result, so it can grow (iSHA)."""

    def __init__(self, bracket_id: int, sample: Callable[[int], list[dict[str, Any]]]) -> None:
        self.id = bracket_id
        self._sample = sample
        self.rungs: tuple[Rung, ...] = ()
        self.configs: list[dict[str, Any]] = []  # by config id: the order they were sampled in
        self.members: list[list[int]] = []  # per rung: config ids, in the order they entered
        self.losses: list[dict[int, float]] = []  # per rung: config id -> loss
        self.rung = 0  # the rung being evaluated
        self._queue: list[int] = []  # config ids of that rung not handed out yet
        self._pending: set[int] = set()  # handed out, not told

    @property
    def done(self) -> bool:
        return self.rung >= len(self.rungs)

    @property
    def n_pending(self) -> int:
        return len(self._pending)

    def grow(self, rungs: tuple[Rung, ...]) -> None:
        """Run the bracket as ``rungs``: its rungs so far, larger, and (usually) one more on top."""
        held = [r.fidelity for r in self.rungs]
        if [r.fidelity for r in rungs[: len(held)]] != held or len(rungs) < len(held):
            raise ValueError(f"bracket {self.id} with rungs at {held} cannot grow into {rungs}")
        if not self.done:
            raise ValueError(f"bracket {self.id} is still running rung {self.rung}; it cannot grow yet")
        self.members += [[] for _ in range(len(rungs) - len(held))]
        self.losses += [{} for _ in range(len(rungs) - len(held))]
        self.rungs = rungs
        self.rung = 0
        self._open()

    def _open(self) -> None:
        """Fill the current rung up to its size; skip rungs that need no new evaluation."""
        while not self.done:
            members = self.members[self.rung]
            missing = self.rungs[self.rung].n - len(members)
            new: list[int] = []
            if missing > 0 and self.rung == 0:
                new = list(range(len(self.configs), len(self.configs) + missing))
                self.configs += self._sample(missing)
            elif missing > 0:
                # iSHA: who is already here stays; the free places go to the best of the rest below.
                inside = set(members)
                below = {cid: loss for cid, loss in self.losses[self.rung - 1].items() if cid not in inside}
                new = top_k(below, missing)
            members += new
            if new:
                self._queue = new
                return
            self.rung += 1

    def next_trial(self) -> Trial | None:
        if self.done or not self._queue:
            return None
        cid = self._queue.pop(0)
        self._pending.add(cid)
        meta = {"bracket": self.id, "rung": self.rung, "config_id": cid}
        # A copy: whatever the runner does with the dict cannot alter the stored config.
        return Trial(dict(self.configs[cid]), self.rungs[self.rung].fidelity, meta)

    def record(self, rung: int, cid: int, loss: float) -> None:
        if rung != self.rung or cid not in self._pending:
            raise ValueError(
                f"bracket {self.id}: unexpected result for rung {rung}, config {cid} "
                f"(current rung {self.rung}, pending {sorted(self._pending)})"
            )
        self._pending.discard(cid)
        self.losses[rung][cid] = loss
        if not self._pending and not self._queue:
            self.rung += 1
            self._open()


class IterativeDeepeningHyperband(Hyperband):
    """Hyperband whose maximum fidelity grows by ``eta`` per iteration, reusing every result.

    See the module docstring for the variant implemented (incremental, iSHA-based).

    Args:
        problem: The task's problem; must have a fidelity axis.
        seed: Seed of the configuration sampler.
        eta: Reduction factor (> 1); also the factor the maximum grows by.
        min_fidelity: Fidelity of the lowest rung; defaults to the task's lowest.
        max_fidelity: The final maximum fidelity; defaults to the task's highest.
        deepenings: How many times the maximum grows; the first iteration runs at
            ``max_fidelity * eta**-deepenings``. ``None``: as many as the range allows
            (``s_max``), i.e. start from a single rung at the lowest fidelity.

    Example:
        >>> from ConfigSpace import ConfigurationSpace
        >>> from optimizers.base import Budget
        >>> from tasks.base import Fidelity, Objective
        >>> space = ConfigurationSpace({"x": (0.0, 1.0)}, seed=0)
        >>> problem = Problem(space, (Objective("y"),), Fidelity("epochs", 1, 9), Budget(10))
        >>> idhb = IterativeDeepeningHyperband(problem, seed=0)
        >>> trials = []
        >>> for _ in range(6):  # stage 0: one config at 1; stage 1 begins: two more at 1, ...
        ...     trials.append(idhb.ask())
        ...     idhb.tell(trials[-1], Result((trials[-1].config["x"],)))
        >>> [(t.fidelity, t.meta["stage"]) for t in trials]
        [(1.0, 0), (1.0, 1), (1.0, 1), (3.0, 1), (3.0, 1), (3.0, 1)]
    """

    def __init__(
        self,
        problem: Problem,
        seed: int,
        eta: float = 3,
        min_fidelity: float | None = None,
        max_fidelity: float | None = None,
        deepenings: int | None = None,
    ) -> None:
        super().__init__(problem, seed, eta=eta, min_fidelity=min_fidelity, max_fidelity=max_fidelity)
        self.params = {**self.params, "deepenings": deepenings}
        fidelity = problem.fidelity
        assert fidelity is not None  # checked by SuccessiveHalving
        if deepenings is None:
            deepenings = max_bracket(self.eta, self.min_fidelity, self.max_fidelity)
        #: Per stage, the rungs of each bracket (snapped to the axis' admissible values).
        self.stages = [
            [self._admissible(rungs, fidelity) for rungs in stage]
            for stage in deepening_schedule(self.eta, self.min_fidelity, self.max_fidelity, deepenings)
        ]
        self._stage = 0
        self._plan = self.stages[0]  # rungs of the current stage's brackets, in order
        self._brackets: list[_GrowingBracket] = []  # the current stage's, grown or new
        self._position = -1  # index of the running bracket in the plan
        self._running: _GrowingBracket | None = None

    def _next_bracket(self) -> _GrowingBracket:
        """Move on to the next bracket of the plan, to the next stage when the plan is done."""
        self._position += 1
        if self._position == len(self._plan):
            self._stage += 1
            self._position = 0
            if self._stage < len(self.stages):
                self._plan = self.stages[self._stage]
            else:  # fully deepened: plain Hyperband iterations at max_fidelity, fresh brackets
                self._plan = self.brackets
                self._brackets = []
        if self._position == len(self._brackets):
            self._brackets.append(_GrowingBracket(self._n_started, self._sampler.sample))
            self._n_started += 1
        bracket = self._brackets[self._position]
        bracket.grow(self._plan[self._position])
        self._running = bracket
        return bracket

    def ask(self) -> Trial:
        bracket = self._running
        while True:
            if bracket is not None:
                trial = bracket.next_trial()
                if trial is not None:
                    trial.meta["stage"] = self._stage
                    return trial
                if not bracket.done:
                    # Synchronous: the next rung needs the results of every pending trial.
                    raise WaitForPending(
                        f"bracket {bracket.id}, rung {bracket.rung}: {bracket.n_pending} trials pending"
                    )
            bracket = self._next_bracket()

    def tell(self, trial: Trial, result: Result) -> None:
        bracket = self._running
        meta = trial.meta
        if (
            bracket is None
            or meta.get("bracket") != bracket.id
            or "rung" not in meta
            or "config_id" not in meta
        ):
            raise ValueError(
                f"trial {trial.config!r} (meta {meta!r}) was not proposed by this "
                f"{type(self).__name__} or its bracket already finished"
            )
        bracket.record(meta["rung"], meta["config_id"], first_loss(result, self.minimize))
