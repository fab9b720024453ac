"""ASHA: asynchronous successive halving (Li et al., MLSys 2020).

"A System for Massively Parallel Hyperparameter Tuning", Algorithm 2. Rungs
are those of Hyperband's most exploratory bracket (see
:mod:`optimizers.hyperband`): with ``s_max = floor(log_eta(max / min))``, rung
``k`` runs at ``max_fidelity * eta**(k - s_max)``. Every :meth:`ASHA.ask`
looks at the rungs from the top down and promotes the best configuration of
rung ``k`` that is in the top ``1/eta`` of the results rung ``k`` has so far
and was not promoted yet; when no rung has one, a new random configuration
starts at the lowest rung. It never waits for a rung to fill, so every worker
is always busy; the price is that some promotions are made on partial rungs.

On tasks with discrete fidelities each rung fidelity is snapped to the nearest
admissible value in log scale (rungs that snap to the same value are merged).
Only the first objective is optimized (negated when maximized); a non-finite
result ranks last.

Example:
    >>> from ConfigSpace import ConfigurationSpace
    >>> from optimizers.base import Budget, Problem
    >>> from tasks.base import Fidelity, Objective, Result
    >>> space = ConfigurationSpace({"x": (0.0, 1.0)}, seed=0)
    >>> asha = ASHA(Problem(space, (Objective("y"),), Fidelity("epochs", 1, 9), Budget(5)), seed=0)
    >>> asha.rungs
    (1.0, 3.0, 9.0)
    >>> first = [asha.ask() for _ in range(3)]
    >>> for trial, loss in zip(first, (0.5, 0.2, 0.9)):
    ...     asha.tell(trial, Result((loss,)))
    >>> promoted = asha.ask()  # 3 results in rung 0: the best third (loss 0.2) moves up
    >>> promoted.fidelity, promoted.config == first[1].config
    (3.0, True)
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np

from optimizers.base import Optimizer, Problem, Trial
from optimizers.hyperband import admissible_fidelity, bandit_fidelity_range, bracket_schedule, max_bracket
from optimizers.sampling import SpaceSampler
from tasks.base import Result

#: New configurations are drawn this many at a time (a fixed size keeps sequences seed-only).
_BATCH = 16


class ASHA(Optimizer):
    """Asynchronous Successive Halving with random sampling.

    Args:
        problem: The task's problem; must have a fidelity axis.
        seed: Seed of the configuration sampler.
        eta: Reduction factor (> 1): a configuration is promoted when it is in the
            top ``1/eta`` of its rung.
        min_fidelity: Fidelity of the lowest rung; defaults to the task's lowest.
        max_fidelity: Fidelity of the highest rung; defaults to the task's highest.
    """

    supports: ClassVar[frozenset[str]] = frozenset({"multi_fidelity"})
    requires_fidelity: ClassVar[bool] = True
    supports_pending: ClassVar[bool] = True  # asynchronous by design: it never waits

    def __init__(
        self,
        problem: Problem,
        seed: int,
        eta: float = 3,
        min_fidelity: float | None = None,
        max_fidelity: float | None = None,
    ) -> None:
        super().__init__(problem, seed, eta=eta, min_fidelity=min_fidelity, max_fidelity=max_fidelity)
        fidelity, self.eta, low, high = bandit_fidelity_range(
            "ASHA", problem, eta, min_fidelity, max_fidelity
        )
        s_max = max_bracket(self.eta, low, high)
        fids = [
            admissible_fidelity(r.fidelity, fidelity, low, high)
            for r in bracket_schedule(s_max, s_max, self.eta, high)
        ]
        #: Fidelity of each rung, lowest first.
        self.rungs: tuple[float, ...] = tuple(sorted(set(fids)))
        self.minimize = problem.objectives[0].minimize
        self._sampler = SpaceSampler(problem.space, np.random.default_rng(self.seed))
        self._queue: list[dict[str, Any]] = []
        self._configs: list[dict[str, Any]] = []  # by config id
        # Per rung: (loss, config id) of every result told so far, and the ids promoted from it.
        self._results: list[list[tuple[float, int]]] = [[] for _ in self.rungs]
        self._promoted: list[set[int]] = [set() for _ in self.rungs]

    def _promotion(self) -> tuple[int, int] | None:
        """(config id, rung to run it on) of the next promotion, top rungs first; ``None`` if none."""
        for k in range(len(self.rungs) - 2, -1, -1):
            results = self._results[k]
            n_top = math.floor(len(results) / self.eta + 1e-9)
            if n_top == 0:
                continue
            # Ties go to the earlier configuration, so runs stay deterministic.
            for _, cid in sorted(results)[:n_top]:
                if cid not in self._promoted[k]:
                    self._promoted[k].add(cid)
                    return cid, k + 1
        return None

    def ask(self) -> Trial:
        promotion = self._promotion()
        if promotion is not None:
            cid, rung = promotion
        else:
            cid, rung = len(self._configs), 0
            self._configs.append(self._new_config())
        # A copy: whatever the runner does with the dict cannot alter the stored config.
        return Trial(dict(self._configs[cid]), self.rungs[rung], {"rung": rung, "config_id": cid})

    def _new_config(self) -> dict[str, Any]:
        """The configuration a new entry at the lowest rung runs: here a random one."""
        if not self._queue:
            self._queue = self._sampler.sample(_BATCH)
            self._queue.reverse()  # pop() from the end keeps the sampled order
        return self._queue.pop()

    def tell(self, trial: Trial, result: Result) -> None:
        rung, cid = trial.meta.get("rung"), trial.meta.get("config_id")
        if (
            not isinstance(rung, int)
            or not isinstance(cid, int)
            or not (0 <= rung < len(self.rungs) and 0 <= cid < len(self._configs))
        ):
            raise ValueError(f"trial {trial.config!r} (meta {trial.meta!r}) was not proposed by this ASHA")
        value = float(result.values[0])
        loss = math.inf if math.isnan(value) else (value if self.minimize else -value)
        self._results[rung].append((loss, cid))
