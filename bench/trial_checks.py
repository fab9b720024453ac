"""What the runner checks on every trial, shared by the sequential and the simulated-workers loops.

Each check raises :class:`RunError` (or :class:`~bench.config_check.InvalidConfigError`), which
ends the run with status ``crashed`` and a message naming the bad value: a fidelity off the
task's axis, a configuration outside the task's space, a result with the wrong number of
objective values, a non-finite value, a negative or non-finite cost.

Example:
    >>> from tasks.base import Result
    >>> check_result(Result((1.0, 2.0), cost=0.5), 2, "t")
    >>> check_result(Result((1.0,), cost=-1.0), 1, "t")
    Traceback (most recent call last):
    ...
    bench.trial_checks.RunError: task t returned cost -1.0: a cost must be a finite number of seconds >= 0
"""

from __future__ import annotations

import math
from functools import cache
from typing import Any

from bench.config_check import ConfigChecker, InvalidConfigError
from optimizers.base import Trial
from tasks.base import Fidelity, Task

__all__ = [
    "InvalidConfigError",
    "RunError",
    "check_finite",
    "check_result",
    "config_checker",
    "trial_fidelity",
]


class RunError(RuntimeError):
    """A run-level failure caused by what a task or optimizer returned."""


@cache
def _checker(space_key: int, task: Task) -> ConfigChecker:
    return ConfigChecker(task.space)


def config_checker(task: Task) -> ConfigChecker:
    """The (per-process cached) :class:`~bench.config_check.ConfigChecker` of ``task``'s space.

    Example:
        >>> from bench.registry import make_task
        >>> config_checker(make_task("synthetic/branin"))({"x0": 0.0, "x1": 1.0})
        {'x0': 0.0, 'x1': 1.0}
    """
    return _checker(id(task.space), task)


def trial_fidelity(trial: Trial, fidelity: Fidelity | None, task_id: str) -> tuple[float | None, float]:
    """The fidelity ``trial`` runs at and the budget it uses (``fidelity / high``, 1 for black-box).

    ``None`` from the optimizer means the highest fidelity; a fidelity off the task's axis, or one
    on a task without an axis, is a :class:`RunError`.

    Example:
        >>> trial_fidelity(Trial({}, 3.0), Fidelity("epochs", 1, 12), "t")
        (3.0, 0.25)
    """
    fid = trial.fidelity
    if fidelity is None:
        if fid is not None:
            raise RunError(f"optimizer asked for fidelity {fid!r} but task {task_id} has none")
        return None, 1.0
    if fid is None:
        return fidelity.high, 1.0
    try:
        inside = fidelity.contains(fid)
    except (TypeError, ValueError):
        inside = False
    if not inside or not math.isfinite(float(fid)):
        raise RunError(f"optimizer asked for fidelity {fid!r}, outside task {task_id}'s axis {fidelity}")
    return float(fid), float(fid) / fidelity.high


def check_finite(values: tuple[float, ...], config: Any, fid: float | None, task_id: str) -> None:
    """Raise :class:`RunError` if a task returned a NaN, infinite or non-numeric objective value."""
    for v in values:
        try:
            finite = math.isfinite(v)
        except TypeError:
            finite = False
        if not finite:
            shown = dict(config) if hasattr(config, "keys") else config
            raise RunError(
                f"task {task_id} returned non-finite objective {values!r} for config "
                f"{shown!r} at fidelity {fid!r}"
            )


def check_result(result: Any, n_objectives: int, task_id: str) -> None:
    """Raise :class:`RunError` unless ``result`` is a :class:`~tasks.base.Result` with one value per
    objective and a finite cost >= 0 (the values' finiteness is :func:`check_finite`'s job)."""
    try:
        values, cost = result.values, result.cost
        n = len(values)
    except (AttributeError, TypeError):
        raise RunError(
            f"task {task_id} returned {result!r}, not a Result with one value per objective"
        ) from None
    if n != n_objectives:
        raise RunError(
            f"task {task_id} returned {n} objective values {tuple(values)!r}; it has "
            f"{n_objectives} objectives"
        )
    try:
        valid = 0.0 <= cost < math.inf and not isinstance(cost, bool)
    except TypeError:
        valid = False
    if not valid:
        raise RunError(
            f"task {task_id} returned cost {cost!r}: a cost must be a finite number of seconds >= 0"
        )
