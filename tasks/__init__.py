"""Tasks: what an optimizer is run on (see :mod:`tasks.base` for the interface).

Importing the package defers ``scipy.stats`` (which ConfigSpace imports but only its Beta and
Normal hyperparameters use) until something uses it: see :mod:`tasks.lazy_scipy_stats`.
"""

from tasks.lazy_scipy_stats import defer as _defer_scipy_stats

_defer_scipy_stats()
