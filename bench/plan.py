"""Expand a study into RunSpecs (task × optimizer × seed), refusing incompatible pairs.

Example:
    >>> from bench.config import OptimizerChoice, StudyConfig
    >>> from optimizers.base import Budget
    >>> study = StudyConfig("demo", (OptimizerChoice("random_search",
    ...     "optimizers.random_search.RandomSearch"),), ("synthetic/branin",), (0, 1), Budget(5))
    >>> [s.run_id for s in make_plan(study).specs]
    ['synthetic__branin--random_search--s0', 'synthetic__branin--random_search--s1']
"""

from __future__ import annotations

import contextlib
import faulthandler
import sys
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bench.config import ConfigError, OptimizerChoice, StudyConfig
from bench.registry import config_file, expand_tasks, make_task, optimizer_class
from bench.run_context import RunContext, apply_context, current_context
from bench.simulated_workers import simulated_cost_reason
from bench.spec import RunSpec
from optimizers.base import Optimizer, Problem
from tasks.base import Task


@dataclass(frozen=True)
class Refusal:
    task: str
    optimizer: str
    reason: str


@dataclass
class Plan:
    specs: list[RunSpec]
    refused: list[Refusal] = field(default_factory=list)
    tasks: list[str] = field(default_factory=list)

    def manifest(self, study: StudyConfig) -> dict[str, Any]:
        """What this sweep planned, as stored in ``<study dir>/study.json``."""
        return {
            "study": study.name,
            "description": study.description,
            "optimizers": [o.id for o in study.optimizers],
            "tasks": self.tasks,
            "seeds": list(study.seeds),
            "budget": {"n_trials": study.budget.n_trials, "time": study.budget.time},
            "n_workers": study.n_workers,
            "runs": [
                {"run_id": s.run_id, "task": s.task, "optimizer": s.optimizer, "seed": s.seed}
                for s in self.specs
            ],
            "refused": [{"task": r.task, "optimizer": r.optimizer, "reason": r.reason} for r in self.refused],
            "planned_at": datetime.now(UTC).isoformat(),
        }


def _workers_reason(
    cls: type[Optimizer], task: Task, n_workers: int, cost_reasons: dict[str, str | None]
) -> str | None:
    """Why ``cls`` on ``task`` cannot run with ``n_workers`` simulated workers (cached per task)."""
    if task.id not in cost_reasons:
        cost_reasons[task.id] = simulated_cost_reason(task)
    if cost_reasons[task.id]:
        return cost_reasons[task.id]
    if not cls.supports_pending:
        return (
            f"{cls.__name__} does not support pending trials (supports_pending is False), "
            f"so it cannot run with n_workers={n_workers}"
        )
    return None


def _source(opt: OptimizerChoice) -> str:
    """``optimizer 'ID' (its YAML)``, and for a variant the parameters the command line changed."""
    base, _, changed = opt.id.partition("@")
    path = config_file("optimizer", base)
    return (
        f"optimizer {base!r}"
        + (f" ({path})" if path else "")
        + (f" with optimizer.params {changed} from the command line" if changed else "")
    )


def check_optimizers(study: StudyConfig) -> tuple[dict[str, type[Optimizer]], dict[str, str]]:
    """Each optimizer's class, and why some cannot run here (a library is not installed).

    Refuses, with :class:`ConfigError`, a ``_target_`` that is not an importable Optimizer
    subclass and ``params`` the optimizer does not accept (an unknown name, a wrong type), so
    they fail once at planning instead of in every run. A missing library is refused too
    unless the study says ``incompatible: skip``; then it is returned, and its pairs are
    listed as refused with the reason (which names the extra to install).

    Example:
        >>> from optimizers.base import Budget
        >>> bad = OptimizerChoice("hyperband", "optimizers.hyperband.Hyperband", {"etta": 3})
        >>> check_optimizers(StudyConfig("demo", (bad,), ("synthetic/mfh3",), (0,), Budget(5)))
        Traceback (most recent call last):
        ...
        bench.config.ConfigError: optimizer 'hyperband' (...): Hyperband has no parameter 'etta': ...
    """
    classes: dict[str, type[Optimizer]] = {}
    missing: dict[str, str] = {}
    for opt in study.optimizers:
        try:
            cls = classes[opt.id] = optimizer_class(opt.target)
        except ConfigError as exc:
            raise ConfigError(f"{_source(opt)}: {exc}") from None
        reason = cls.missing_requirement()
        if reason:  # its params can only be checked against the library itself
            missing[opt.id] = reason
            continue
        try:
            problem = cls.check_params(opt.params)
        except Exception as exc:  # the library's import, for a signature: broken install
            cause = " ".join(str(exc).split())
            problem = f"cannot check params of {cls.__name__}: {type(exc).__name__}: {cause}"
        if problem:
            raise ConfigError(f"{_source(opt)}: {problem}")
    if missing and study.incompatible == "error":
        oid, reason = next(iter(missing.items()))
        more = f" (and {len(missing) - 1} more optimizers)" if len(missing) > 1 else ""
        raise ConfigError(
            f"optimizer {oid!r} cannot run here: {reason}{more}; or leave it out "
            "(a study with incompatible: skip lists such pairs as refused)"
        )
    return classes, missing


class PlanningTimeout(ConfigError):
    """Planning did not finish in time: building (or listing) some task hangs."""


#: What planning is doing now, for the message when it hangs (one planning at a time per process).
_activity = ["checking the optimizers"]


def make_plan_within(study: StudyConfig, seconds: float, context: RunContext | None = None) -> Plan:
    """:func:`make_plan` (with ``context``), bounded: a task whose family or constructor hangs makes
    planning fail with one line naming it after ``seconds``, instead of hanging the command.

    Planning runs in a daemon thread, which the caller abandons on timeout (it cannot be
    stopped; the process exits soon after). As a last resort for a hang in C code that holds
    the GIL, ``faulthandler`` ends the process ``seconds`` + 30 s later with every thread's
    traceback on stderr.

    Example:
        >>> from bench.config import OptimizerChoice
        >>> from optimizers.base import Budget
        >>> study = StudyConfig("demo", (OptimizerChoice("random_search",
        ...     "optimizers.random_search.RandomSearch"),), ("synthetic/branin",), (0,), Budget(5))
        >>> len(make_plan_within(study, 60).specs)
        1
    """
    box: list[Any] = []

    def plan() -> None:
        try:
            box.append(make_plan(study, context))
        except BaseException as exc:  # handed to the caller's thread
            box.append(exc)

    thread = threading.Thread(target=plan, daemon=True, name="nxm-bench planning")
    with contextlib.suppress(AttributeError, ValueError, OSError):  # no real stderr: no last resort
        faulthandler.dump_traceback_later(seconds + 30, exit=True, file=sys.__stderr__ or sys.stderr)
    try:
        thread.start()
        thread.join(seconds)
    finally:
        faulthandler.cancel_dump_traceback_later()
    if not box:
        raise PlanningTimeout(
            f"planning did not finish within plan_timeout={seconds:g} s: it hangs "
            f"{_activity[0]}; fix that task (or its family), or raise plan_timeout=SECONDS"
        )
    if isinstance(box[0], BaseException):
        raise box[0]
    result: Plan = box[0]
    return result


def make_plan(study: StudyConfig, context: RunContext | None = None) -> Plan:
    """All RunSpecs of ``study``; raise :class:`ConfigError` for incompatible pairs
    unless the study says ``incompatible: skip`` (then they are listed in ``Plan.refused``).
    Optimizers are checked first (see :func:`check_optimizers`).

    ``context`` (where runs find their resources: YAHPO data, user task modules) is applied here,
    for planning, and goes into every spec, for the workers; by default the one this process runs
    under already (:func:`~bench.run_context.current_context`).

    Example:
        >>> from optimizers.base import Budget
        >>> study = StudyConfig("demo", (OptimizerChoice("random_search",
        ...     "optimizers.random_search.RandomSearch"),), ("synthetic/branin",), (0,), Budget(5))
        >>> ctx = RunContext(task_modules=("tasks.synthetic",))
        >>> make_plan(study, ctx).specs[0].context == ctx
        True
    """
    if context is None:
        context = current_context()
    else:
        apply_context(context)
    _activity[0] = "checking the optimizers"
    classes, missing = check_optimizers(study)
    _activity[0] = f"expanding the task patterns {list(study.tasks)[:5]}"
    task_ids = expand_tasks(study.tasks)
    refused: list[Refusal] = []
    specs: list[RunSpec] = []
    cost_reasons: dict[str, str | None] = {}
    for tid in task_ids:
        _activity[0] = f"building task {tid!r}"
        task = make_task(tid)
        problem = Problem(task.space, task.objectives, task.fidelity, study.budget)
        for opt in study.optimizers:
            reason = missing.get(opt.id) or classes[opt.id].incompatibility(problem)
            if not reason and study.n_workers > 1:
                _activity[0] = f"evaluating task {tid!r} for its simulated cost"
                reason = _workers_reason(classes[opt.id], task, study.n_workers, cost_reasons)
            if reason:
                refused.append(Refusal(tid, opt.id, reason))
                continue
            specs.extend(
                RunSpec(
                    study=study.name,
                    task=tid,
                    optimizer=opt.id,
                    optimizer_target=opt.target,
                    optimizer_params=dict(opt.params),
                    seed=seed,
                    budget=study.budget,
                    n_workers=study.n_workers,
                    trial_timeout=study.trial_timeout,
                    run_timeout=study.run_timeout,
                    task_revision=task.meta.revision,
                    context=context,
                )
                for seed in study.seeds
            )
    if refused and study.incompatible == "error":
        r = refused[0]
        more = f" (and {len(refused) - 1} more pairs)" if len(refused) > 1 else ""
        raise ConfigError(
            f"optimizer {r.optimizer!r} cannot run task {r.task!r}: {r.reason}{more}; "
            "remove the pair or set study.incompatible=skip to run only compatible pairs"
        )
    if not specs and refused:
        r = refused[0]
        raise ConfigError(
            f"nothing to run: every pair was refused, e.g. {r.optimizer!r} on {r.task!r}: {r.reason}"
        )
    if not specs:  # no pair at all: the selection itself is empty (settings refuse most such cases)
        raise ConfigError(
            f"nothing to run: study {study.name!r} selects {len(task_ids)} tasks, "
            f"{len(study.optimizers)} optimizers and {len(study.seeds)} seeds; select at least one of each"
        )
    return Plan(specs, refused, task_ids)
