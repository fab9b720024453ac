"""Simulated asynchronous workers: one optimizer, ``k`` workers, an event-driven simulated clock.

For tasks whose :attr:`Result.cost <tasks.base.Result.cost>` is recorded or
modelled (tabular and surrogate tasks, synthetic tasks with a cost model), the
runner can play out what ``k`` parallel workers would have done, without
waiting for any of it:

* a free worker asks the optimizer for a trial at the current simulated time
  ``start``; the task is evaluated at once (a table lookup is instant), but the
  result is told to the optimizer only when the clock reaches ``start + cost``.
  Until then the trial is *pending*: the optimizer has handed it out and not
  heard back, exactly as with real workers;
* an optimizer that cannot propose before pending results arrive (synchronous
  Successive Halving / Hyperband mid-rung) raises
  :class:`~optimizers.base.WaitForPending`; the worker idles until the next
  completion;
* the clock jumps from one completion to the next; completions at the same
  instant are all told, lowest worker index first, before any worker asks again.

Budget: ``Budget.n_trials`` counts the (fidelity-weighted) evaluations that were
*started*; ``Budget.time`` caps the simulated wall clock at which a trial may
start. Trials already running when the budget runs out finish and are recorded,
as the last trial of the sequential loop is. Rows are recorded in completion
order; ``sim_time`` is the completion time on the simulated wall clock, so a
trial started at ``sim_time - cost``. With one worker the loop is the sequential
one, trial for trial.

Example:
    >>> from bench.registry import make_task
    >>> from bench.results import TrialRecorder
    >>> from optimizers.base import Budget, Problem
    >>> from optimizers.random_search import RandomSearch
    >>> task = make_task("synthetic/mfh3")
    >>> problem = Problem(task.space, task.objectives, task.fidelity, Budget(4))
    >>> rec = TrialRecorder()
    >>> simulated_loop(task, RandomSearch(problem, seed=0), Budget(4), 0, rec, 0.0, n_workers=4)
    >>> [round(row[5], 2) for row in rec.rows]  # every trial costs 1 s at full fidelity
    [1.0, 1.0, 1.0, 1.0]
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Callable
from typing import Any

from bench.results import TrialRecorder
from bench.trial_checks import RunError, check_finite, check_result, config_checker, trial_fidelity
from optimizers.base import Budget, Optimizer, SearchExhausted, Trial, WaitForPending
from tasks.base import Result, Task
from tasks.vocabulary import TaskKind

#: Kinds whose ``Result.cost`` is recorded or modelled rather than measured on this machine.
SIMULATED_COST_KINDS: tuple[TaskKind, ...] = ("tabular", "surrogate", "synthetic")

Evaluate = Callable[[Any, "float | None", int], Result]


def simulated_cost_reason(task: Task) -> str | None:
    """Why ``task`` cannot run under simulated workers, or ``None`` when it can.

    It can when its kind is tabular, surrogate or synthetic (costs come from a
    table or a model, so the simulation is deterministic) and its default
    configuration at the highest fidelity has a positive cost (a task without
    a cost model reports 0 s, and every trial would finish instantly).

    Example:
        >>> from bench.registry import make_task
        >>> simulated_cost_reason(make_task("synthetic/mfh3")) is None
        True
        >>> print(simulated_cost_reason(make_task("synthetic/branin")))  # doctest: +ELLIPSIS
        task synthetic/branin reports no simulated cost (Result.cost is 0 s), so n_workers > 1 ...
    """
    if task.meta.kind not in SIMULATED_COST_KINDS:
        return (
            f"task {task.id} is of kind {task.meta.kind!r}, whose cost is measured, not recorded; "
            f"n_workers > 1 needs a kind in {list(SIMULATED_COST_KINDS)}"
        )
    config = dict(task.space.get_default_configuration())
    fid = task.fidelity
    top = None if fid is None else float(max(fid.values) if fid.values is not None else fid.high)
    if not task.evaluate(config, top, 0).cost > 0:
        return (
            f"task {task.id} reports no simulated cost (Result.cost is 0 s), so n_workers > 1 "
            "would finish every trial instantly"
        )
    return None


def simulated_loop(
    task: Task,
    optimizer: Optimizer,
    budget: Budget,
    noise_seed: int,
    rec: TrialRecorder,
    t_start: float,
    evaluate: Evaluate | None = None,
    n_workers: int = 2,
) -> str | None:
    """Run ``optimizer`` on ``task`` with ``n_workers`` simulated workers (see module docstring).

    Arguments match the sequential loop's; ``evaluate`` replaces ``task.evaluate``
    (e.g. wrapped in time limits). Returns why the run stopped before its budget
    was spent, or ``None``. Raises :class:`~bench.loop.RunError` for a bad
    fidelity, a non-finite objective, or ``WaitForPending`` with nothing pending.
    """
    if isinstance(n_workers, bool) or not isinstance(n_workers, int) or n_workers < 1:
        raise ValueError(f"n_workers={n_workers!r} is invalid: use an integer >= 1")
    fidelity = task.fidelity
    n_max, t_max = budget.n_trials, budget.time
    run = evaluate if evaluate is not None else task.evaluate
    ask, tell, add = optimizer.ask, optimizer.tell, rec.add
    check_config, n_obj = config_checker(task), len(task.objectives)
    clock = time.perf_counter
    free = list(range(n_workers))  # a heap: the lowest free worker index asks first
    # (finish time, worker, trial, config, fidelity, step, result, eval seconds); worker breaks ties.
    running: list[tuple[float, int, Trial, dict[str, Any], float | None, float, Result, float]] = []
    now = started = done = 0.0
    i = 0
    stopped: str | None = None
    while True:
        while free and stopped is None and started < n_max and (t_max is None or now < t_max):
            try:
                trial = ask()
            except WaitForPending as exc:
                if not running:
                    raise RunError(
                        f"{type(optimizer).__name__} waits for pending trials but none is pending: {exc}"
                    ) from exc
                break  # idle until the next completion
            except SearchExhausted as exc:
                stopped = f"{type(optimizer).__name__} exhausted the search space: {exc}"
                break
            config = check_config(trial.config)
            fid, step = trial_fidelity(trial, fidelity, task.id)
            t0 = clock()
            result = run(config, fid, (noise_seed + i) & 0xFFFFFFFF)
            t1 = clock()
            check_result(result, n_obj, task.id)
            check_finite(result.values, config, fid, task.id)
            worker = heapq.heappop(free)
            heapq.heappush(running, (now + result.cost, worker, trial, config, fid, step, result, t1 - t0))
            started += step
            i += 1
        if not running:
            return stopped
        # Tell every trial that completes at this instant before anyone asks again.
        now = running[0][0]
        while running and running[0][0] == now:
            finish, worker, trial, config, fid, step, result, eval_time = heapq.heappop(running)
            done += step
            add(config, fid, result.values, result.cost, done, finish, clock() - t_start, eval_time)
            tell(trial, result)
            heapq.heappush(free, worker)
