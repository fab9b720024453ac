"""How many worker processes a sweep gets, and how its runs are grouped for them.

A worker process costs about half a second before its first run (imports: see
docs/PERFORMANCE.md, "Start-up and workers"); each run sent to it costs a round trip through
the pool (pickling the spec and the outcome, the queue) of about a millisecond. For a sweep of
tiny runs both dominate, so:

* :func:`auto_workers`: ``n_jobs=-1`` (and other negative values) gives a worker only as much
  as the plan can pay for: one worker per :data:`WORK_PER_WORKER_S` seconds of estimated work,
  at most one per core this process may use (``os.sched_getaffinity``) and per run. A tiny
  sweep gets one worker, so it is never slower than ``n_jobs=1``. A positive ``n_jobs`` is
  taken as given (at most one worker per run).
* :func:`batches`: runs are sent in batches of about :data:`BATCH_S` seconds of estimated work,
  with at least :data:`BATCHES_PER_WORKER` batches per worker so that the workers finish
  together. A batch of one run is what an expensive run gets.

The estimate (:func:`estimated_seconds`) is the budget's trial count times the optimizer's cost
per trial: the ``expensive`` entry of its YAML (e.g. ``0.73 s/trial (GP, gp_hedge)``, measured
when it was added), else :data:`CHEAP_TRIAL_S`. It only sizes the pool and the batches; results
never depend on it (runs are deterministic given their spec, on any worker, in any batch).

Example:
    >>> from bench.spec import RunSpec
    >>> from optimizers.base import Budget
    >>> specs = [RunSpec(study="doc", task="bbob/f01/d02/i01", optimizer="random_search",
    ...                  optimizer_target="optimizers.random_search.RandomSearch",
    ...                  optimizer_params={}, seed=s, budget=Budget(10)) for s in range(8)]
    >>> auto_workers(specs, -1)  # 8 runs of 10 cheap trials: not worth a second worker
    1
    >>> [len(b) for b in batches(specs, 1)]
    [2, 2, 2, 2]
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Sequence

from bench.spec import RunSpec

__all__ = [
    "BATCHES_PER_WORKER",
    "BATCH_S",
    "CHEAP_TRIAL_S",
    "WORK_PER_WORKER_S",
    "auto_workers",
    "batches",
    "estimated_seconds",
    "usable_cores",
]

#: Seconds per trial assumed for an optimizer without an ``expensive`` entry: the harness and a
#: cheap optimizer cost 10 µs to a few ms per trial (docs/PERFORMANCE.md); the high end is taken.
CHEAP_TRIAL_S = 0.002
#: Fixed seconds per run (building the task and optimizer, writing the file).
RUN_OVERHEAD_S = 0.005
#: A worker is started only for at least this much estimated work (its start-up, with margin).
WORK_PER_WORKER_S = 2.0
#: Estimated seconds of work per batch sent to a worker.
BATCH_S = 0.25
#: At least this many batches per worker, so that no worker is left with a long tail.
BATCHES_PER_WORKER = 4

_SECONDS = re.compile(r"^\s*(?:about\s+)?([0-9]*\.?[0-9]+)\s*s\b")


@functools.cache
def _trial_seconds(optimizer: str) -> float:
    base = optimizer.split("@", 1)[0]  # a variant (optuna_tpe@n_startup_trials=5) costs as its base
    try:
        from bench.config_files import optimizer_config

        why = str(optimizer_config(base).get("expensive") or "")
    except Exception:  # an id the YAML folders do not know (a plugin's): assume it is cheap
        return CHEAP_TRIAL_S
    match = _SECONDS.match(why)
    return float(match.group(1)) if match else (0.5 if why else CHEAP_TRIAL_S)


def estimated_seconds(spec: RunSpec) -> float:
    """The estimated wall time of one run (see the module docstring); only for sizing.

    Example:
        >>> from optimizers.base import Budget
        >>> spec = RunSpec(study="doc", task="bbob/f01/d02/i01", optimizer="skopt_gp",
        ...                optimizer_target="optimizers.skopt.SkoptGP", optimizer_params={},
        ...                seed=0, budget=Budget(50))
        >>> round(estimated_seconds(spec), 2)  # 50 trials at 0.73 s
        36.51
    """
    return RUN_OVERHEAD_S + spec.budget.n_trials * _trial_seconds(spec.optimizer)


def usable_cores() -> int:
    """The cores this process may run on (a CPU set of a container or ``taskset``), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not on Linux
        return max(1, os.cpu_count() or 1)


def auto_workers(specs: Sequence[RunSpec], n_jobs: int) -> int:
    """The number of worker processes for ``specs`` under ``n_jobs`` (see the module docstring).

    ``n_jobs > 0``: that many (at most one per run). ``n_jobs < 0``: joblib's reading (-1 all
    cores, -2 all but one, ...) as the most, fewer when the estimated work cannot pay for them.

    Example:
        >>> auto_workers([], 4)
        1
    """
    n_runs = max(1, len(specs))
    if n_jobs > 0:
        return min(n_jobs, n_runs)
    most = max(1, usable_cores() + 1 + n_jobs)
    work = sum(estimated_seconds(s) for s in specs)
    worth = max(1, int(work // WORK_PER_WORKER_S))
    return max(1, min(most, n_runs, worth))


def batches(specs: Sequence[RunSpec], n_workers: int) -> list[list[RunSpec]]:
    """``specs`` in order, grouped into batches for ``n_workers`` workers (see the module docstring).

    Example:
        >>> batches([], 2)
        []
    """
    if not specs:
        return []
    most = max(1, len(specs) // (BATCHES_PER_WORKER * max(1, n_workers)))
    out: list[list[RunSpec]] = []
    batch: list[RunSpec] = []
    work = 0.0
    for spec in specs:
        cost = estimated_seconds(spec)
        if batch and (work + cost > BATCH_S or len(batch) >= most):
            out.append(batch)
            batch, work = [], 0.0
        batch.append(spec)
        work += cost
    out.append(batch)
    return out
