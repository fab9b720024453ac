"""Random search: the baseline every HPO study needs (Bergstra & Bengio, 2012).

Configurations are drawn in batches by :class:`~optimizers.sampling.SpaceSampler`
and handed out one by one, so :meth:`RandomSearch.ask` costs about a microsecond.
The batch sizes follow a fixed schedule, so the first ``k`` configurations of a
seed do not depend on the run's budget. On multi-fidelity tasks every trial runs
at the highest fidelity; with several objectives the sampling is unchanged.

Example:
    >>> from ConfigSpace import ConfigurationSpace
    >>> from optimizers.base import Budget, Problem
    >>> from tasks.base import Fidelity, Objective
    >>> space = ConfigurationSpace({"x": (0.0, 1.0)}, seed=0)
    >>> problem = Problem(space, (Objective("y"),), Fidelity("epochs", 1, 50), Budget(10))
    >>> trial = RandomSearch(problem, seed=0).ask()
    >>> trial.fidelity, 0.0 <= trial.config["x"] <= 1.0
    (50.0, True)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from optimizers.base import Optimizer, Problem, Trial
from optimizers.sampling import SpaceSampler
from tasks.base import Fidelity, Result

#: Batch sizes grow from ``_FIRST_BATCH`` to ``_MAX_BATCH``: short runs (and ConfigSpace's slower
#: sampler for conditional spaces) do not pay for hundreds of unused draws, long runs amortize.
_FIRST_BATCH = 16
_MAX_BATCH = 256


def top_fidelity(fidelity: Fidelity | None) -> float | None:
    """The highest admissible fidelity of an axis (``None`` when there is no axis).

    Example:
        >>> top_fidelity(Fidelity("epochs", 1, 100, values=(1, 10, 100)))
        100.0
    """
    if fidelity is None:
        return None
    if fidelity.values is not None:
        return float(max(fidelity.values))
    return float(fidelity.high)


class RandomSearch(Optimizer):
    """Independent uniform sampling of the search space (priors and weights respected).

    Takes no parameters; ``tell`` ignores results.
    """

    supports: ClassVar[frozenset[str]] = frozenset({"multi_fidelity", "multi_objective"})
    supports_pending: ClassVar[bool] = True  # proposals never depend on results

    #: ``**params`` is only there to refuse params with a clear message: none are accepted.
    param_types: ClassVar[Mapping[str, Any] | None] = {}

    def __init__(self, problem: Problem, seed: int, **params: Any) -> None:
        if params:
            raise ValueError(f"RandomSearch takes no parameters, got {sorted(params)}; valid: none")
        super().__init__(problem, seed)
        self._sampler = SpaceSampler(problem.space, np.random.default_rng(self.seed))
        self._fidelity = top_fidelity(problem.fidelity)
        self._queue: list[dict[str, Any]] = []
        self._batch = _FIRST_BATCH

    def ask(self) -> Trial:
        if not self._queue:
            self._queue = self._sampler.sample(self._batch)
            self._queue.reverse()  # pop() from the end keeps the sampled order
            self._batch = min(2 * self._batch, _MAX_BATCH)
        return Trial(self._queue.pop(), self._fidelity)

    def tell(self, trial: Trial, result: Result) -> None:
        """Random search learns nothing from results."""
