"""A run's own states for the process-wide random generators, for libraries that draw from them.

Some libraries draw from numpy's global generator (pycma, Syne Tune, HEBO), from Python's
``random`` or from torch's default generator instead of a generator they are given. Their
adapters run every call into the library inside :meth:`GlobalRngSandbox.active`: the global
generators then hold the run's private states, seeded from the run, and the caller's states
are put back afterwards. Trials depend on the run seed only, and the caller's streams (the
runner's, another run's in the same process) are left untouched.
"""

from __future__ import annotations

import contextlib
import random
import sys
from collections.abc import Iterator
from typing import Any

import numpy as np


class GlobalRngSandbox:
    """Private states for the global numpy generator and, optionally, ``random`` and torch.

    Args:
        numpy_seed: Seed of the private ``np.random`` state.
        python_seed: Seed of the private ``random`` state; ``None``: ``random`` is not swapped.
        torch_seed: Seed of the private torch CPU generator state; ``None``: torch is not
            swapped. torch is swapped only once it is imported (import it before entering when
            the library inside will).

    Each swap copies the generators' states in and out (numpy's about 25 µs each way), so
    adapters enter it per library call, not per value drawn.

    Example:
        >>> box = GlobalRngSandbox(0)
        >>> np.random.seed(123)
        >>> with box.active():
        ...     first = np.random.rand()
        >>> np.random.rand() == np.random.RandomState(123).rand()  # caller's stream untouched
        True
        >>> again = GlobalRngSandbox(0)
        >>> with again.active():
        ...     first == np.random.rand()
        True
    """

    def __init__(
        self, numpy_seed: int, python_seed: int | None = None, torch_seed: int | None = None
    ) -> None:
        self._numpy = np.random.RandomState(numpy_seed).get_state()
        self._python = random.Random(python_seed).getstate() if python_seed is not None else None
        self._torch_seed = torch_seed
        self._torch: Any = None

    @contextlib.contextmanager
    def active(self) -> Iterator[None]:
        """The block runs with the private states in the global generators; they advance there."""
        torch = sys.modules.get("torch") if self._torch_seed is not None else None
        saved_numpy = np.random.get_state()
        saved_python = random.getstate() if self._python is not None else None
        saved_torch = torch.random.get_rng_state() if torch is not None else None
        np.random.set_state(self._numpy)
        if self._python is not None:
            random.setstate(self._python)
        if torch is not None:
            if self._torch is None:
                self._torch = torch.Generator().manual_seed(self._torch_seed).get_state()
            torch.random.set_rng_state(self._torch)
        try:
            yield
        finally:
            self._numpy = np.random.get_state()
            np.random.set_state(saved_numpy)
            if saved_python is not None:
                self._python = random.getstate()
                random.setstate(saved_python)
            if torch is not None:
                self._torch = torch.random.get_rng_state()
                torch.random.set_rng_state(saved_torch)
