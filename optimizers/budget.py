"""Budget: how much an optimizer may spend on one run.

In a module of its own, importing nothing, so that the command line can build a study's settings
without importing ConfigSpace (``python -m bench --cfg`` answers in a fraction of a second);
:mod:`optimizers.base` re-exports it as part of the optimizer contract.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Budget:
    """How much an optimizer may spend on one run.

    ``n_trials`` counts full-fidelity equivalents: a black-box trial costs 1, a
    multi-fidelity trial at fidelity ``z`` costs ``z / fidelity.high``.
    ``time`` optionally caps the summed simulated cost (``Result.cost``) in seconds.

    Example:
        >>> Budget(n_trials=50).n_trials
        50.0
    """

    n_trials: float
    time: float | None = None

    def __post_init__(self) -> None:
        if not self.n_trials > 0:
            raise ValueError(f"budget n_trials must be > 0, got {self.n_trials!r}")
        if self.time is not None and not self.time > 0:
            raise ValueError(f"budget time must be > 0 seconds or null, got {self.time!r}")
        object.__setattr__(self, "n_trials", float(self.n_trials))
