"""A task family whose revision is set from the environment, for the study-folder tests.

``revised/a`` and ``revised/b`` are a 1-D quadratic; their ``TaskMeta.revision`` is the value of
``$NXMBENCH_TEST_TASK_REVISION`` (empty when unset), as if a new version of a task collection had
changed what these ids mean.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from ConfigSpace import ConfigurationSpace

from tasks.base import Objective, Result, Task, TaskFamily, TaskMeta

REVISION_ENV = "NXMBENCH_TEST_TASK_REVISION"


class RevisedTask(Task):
    def __init__(self, task_id: str) -> None:
        self.id = task_id
        self.space = ConfigurationSpace({"x": (-1.0, 1.0)}, seed=0)
        self.objectives = (Objective("y"),)
        self.fidelity = None
        self.meta = TaskMeta(
            family="revised",
            type="bb",
            kind="synthetic",
            dims=1,
            optimum=(0.0,),
            revision=os.environ.get(REVISION_ENV, ""),
        )

    def evaluate(self, config: Mapping[str, Any], fidelity: float | None = None, seed: int = 0) -> Result:
        return Result((float(config["x"]) ** 2,))


class RevisedFamily(TaskFamily):
    name = "revised"
    description = "tasks whose revision comes from $NXMBENCH_TEST_TASK_REVISION"

    def ids(self) -> list[str]:
        return ["revised/a", "revised/b"]

    def make(self, task_id: str) -> Task:
        if task_id not in self.ids():
            raise ValueError(f"unknown revised task {task_id!r}: use one of {self.ids()}")
        return RevisedTask(task_id)


def families() -> list[TaskFamily]:
    return [RevisedFamily()]
