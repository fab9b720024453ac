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

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bench.config import ConfigError, StudyConfig
from bench.registry import expand_tasks, make_task, optimizer_class
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
    #: Per task, the ``minimize`` flag of each objective (for the summary's hypervolumes).
    directions: dict[str, tuple[bool, ...]] = field(default_factory=dict)

    def manifest(self, study: StudyConfig) -> dict[str, Any]:
        """What this sweep planned, as stored in ``<study dir>/study.json``."""
        return {
            "study": study.name, "description": study.description,
            "optimizers": [o.id for o in study.optimizers], "tasks": self.tasks,
            "seeds": list(study.seeds),
            "budget": {"n_trials": study.budget.n_trials, "time": study.budget.time},
            "n_workers": study.n_workers,
            "runs": [{"run_id": s.run_id, "task": s.task, "optimizer": s.optimizer, "seed": s.seed}
                     for s in self.specs],
            "refused": [{"task": r.task, "optimizer": r.optimizer, "reason": r.reason}
                        for r in self.refused],
            "planned_at": datetime.now(UTC).isoformat(),
        }


def _workers_reason(cls: type[Optimizer], task: Task, n_workers: int,
                    cost_reasons: dict[str, str | None]) -> str | None:
    """Why ``cls`` on ``task`` cannot run with ``n_workers`` simulated workers (cached per task)."""
    if task.id not in cost_reasons:
        cost_reasons[task.id] = simulated_cost_reason(task)
    if cost_reasons[task.id]:
        return cost_reasons[task.id]
    if not cls.supports_pending:
        return (f"{cls.__name__} does not support pending trials (supports_pending is False), "
                f"so it cannot run with n_workers={n_workers}")
    return None


def make_plan(study: StudyConfig) -> Plan:
    """All RunSpecs of ``study``; raise :class:`ConfigError` for incompatible pairs
    unless the study says ``incompatible: skip`` (then they are listed in ``Plan.refused``)."""
    task_ids = expand_tasks(study.tasks)
    classes = {o.id: optimizer_class(o.target) for o in study.optimizers}
    refused: list[Refusal] = []
    specs: list[RunSpec] = []
    cost_reasons: dict[str, str | None] = {}
    directions: dict[str, tuple[bool, ...]] = {}
    for tid in task_ids:
        task = make_task(tid)
        directions[tid] = tuple(o.minimize for o in task.objectives)
        problem = Problem(task.space, task.objectives, task.fidelity, study.budget)
        for opt in study.optimizers:
            reason = classes[opt.id].incompatibility(problem)
            if not reason and study.n_workers > 1:
                reason = _workers_reason(classes[opt.id], task, study.n_workers, cost_reasons)
            if reason:
                refused.append(Refusal(tid, opt.id, reason))
                continue
            specs.extend(
                RunSpec(study=study.name, task=tid, optimizer=opt.id, optimizer_target=opt.target,
                        optimizer_params=dict(opt.params), seed=seed, budget=study.budget,
                        n_workers=study.n_workers, trial_timeout=study.trial_timeout,
                        run_timeout=study.run_timeout, task_revision=task.meta.revision)
                for seed in study.seeds
            )
    if refused and study.incompatible == "error":
        r = refused[0]
        more = f" (and {len(refused) - 1} more pairs)" if len(refused) > 1 else ""
        raise ConfigError(
            f"optimizer {r.optimizer!r} cannot run task {r.task!r}: {r.reason}{more}; "
            "remove the pair or set study.incompatible=skip to run only compatible pairs")
    if not specs:
        r = refused[0]
        raise ConfigError(f"nothing to run: every pair was refused, e.g. {r.optimizer!r} on {r.task!r}: "
                          f"{r.reason}")
    return Plan(specs, refused, task_ids, directions)
