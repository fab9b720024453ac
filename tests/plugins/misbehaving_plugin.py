"""Optimizers that propose what the task's space does not allow, and tasks that return malformed
results: loaded as a user plugin by the fault tests (NXMBENCH_TASK_MODULES=misbehaving_plugin).

Every misbehaviour starts at a known trial, so the trials recorded before it are known.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
from ConfigSpace import Configuration, ConfigurationSpace, EqualsCondition

from optimizers.base import Problem, Trial
from optimizers.random_search import RandomSearch
from tasks.base import Objective, Result, Task, TaskFamily, TaskMeta

#: The trial (0-based) at which every misbehaviour below starts.
BAD_TRIAL = 3


class _Counting(RandomSearch):
    supports: ClassVar[frozenset[str]] = RandomSearch.supports

    def __init__(self, problem: Problem, seed: int, **params: Any) -> None:
        super().__init__(problem, seed, **params)
        self.asked = 0

    def ask(self) -> Trial:
        trial = super().ask()
        self.asked += 1
        if self.asked - 1 == BAD_TRIAL:
            trial = Trial(self.spoil(dict(trial.config)), trial.fidelity)
        return trial

    def spoil(self, config: dict[str, Any]) -> Any:  # pragma: no cover - overridden
        return config


class OutOfBounds(_Counting):
    """Proposes ``x0=1e6`` (bbob bounds are ±5)."""

    def spoil(self, config: dict[str, Any]) -> Any:
        return {**config, "x0": 1e6}


class ExtraParameter(_Counting):
    def spoil(self, config: dict[str, Any]) -> Any:
        return {**config, "learning_rate": 0.1}


class MissingParameter(_Counting):
    def spoil(self, config: dict[str, Any]) -> Any:
        config.pop("x0")
        return config


class WrongType(_Counting):
    def spoil(self, config: dict[str, Any]) -> Any:
        return {**config, "x0": "0.5"}


class NanValue(_Counting):
    def spoil(self, config: dict[str, Any]) -> Any:
        return {**config, "x0": float("nan")}


class NotAMapping(_Counting):
    def spoil(self, config: dict[str, Any]) -> Any:
        return [1.0, 2.0]


class AsConfiguration(RandomSearch):
    """Hands out ``ConfigSpace.Configuration`` objects and numpy scalars instead of plain dicts
    (legal values, not JSON): the runner must record them as plain values."""

    supports: ClassVar[frozenset[str]] = RandomSearch.supports

    def ask(self) -> Trial:
        trial = super().ask()
        config = Configuration(self.problem.space, values=dict(trial.config))
        return Trial(config, trial.fidelity)  # type: ignore[arg-type]


class NumpyValues(RandomSearch):
    supports: ClassVar[frozenset[str]] = RandomSearch.supports

    def ask(self) -> Trial:
        trial = super().ask()
        return Trial({k: np.float64(v) for k, v in trial.config.items()}, trial.fidelity)


class InactiveValue(RandomSearch):
    """On the conditional ``odd/conditional`` task, sets the child even when its parent says no."""

    supports: ClassVar[frozenset[str]] = RandomSearch.supports

    def ask(self) -> Trial:
        trial = super().ask()
        return Trial({**trial.config, "b": 0.5}, trial.fidelity)


class OddTask(Task):
    """``odd/<mode>`` returns, for every config with ``x0 > 0`` (so which trial turns bad depends only
    on the config, not on which runs a worker did before): the wrong number of values
    (``ragged``), a NaN/negative/None/inf cost, or a string value. ``odd/conditional`` is a valid
    conditional task.
    """

    def __init__(self, task_id: str) -> None:
        self.id = task_id
        self.mode = task_id.split("/")[1]
        self.space = ConfigurationSpace({"x0": (-5.0, 5.0), "x1": (-5.0, 5.0)}, seed=0)
        if self.mode == "conditional":
            self.space = ConfigurationSpace({"a": ["x", "y"], "b": (0.0, 1.0)}, seed=0)
            self.space.add(EqualsCondition(self.space["b"], self.space["a"], "y"))
        self.objectives = (Objective("y"),)
        self.fidelity = None
        self.meta = TaskMeta(family="odd", type="bb", kind="synthetic", dims=2, optimum=(0.0,))

    def evaluate(self, config: Mapping[str, Any], fidelity: float | None = None, seed: int = 0) -> Result:
        if self.mode == "conditional":
            return Result((float(config.get("b", 0.0)),))
        bad = float(config["x0"]) > 0
        y = float(config["x0"]) ** 2 + float(config["x1"]) ** 2
        if bad and self.mode == "ragged":
            return Result((y, y))
        if bad and self.mode in ("nancost", "negcost", "nonecost", "infcost"):
            cost = {"nancost": float("nan"), "negcost": -1.0, "nonecost": None, "infcost": float("inf")}
            return Result((y,), cost=cost[self.mode])  # type: ignore[arg-type]
        if bad and self.mode == "strvalue":
            return Result(("3.5",))  # type: ignore[arg-type]
        return Result((y,), cost=1.0)


class OddFamily(TaskFamily):
    name = "odd"
    description = "tasks that return malformed results on purpose"

    def ids(self) -> list[str]:
        return [
            f"odd/{m}"
            for m in ("ok", "ragged", "nancost", "negcost", "nonecost", "infcost", "strvalue", "conditional")
        ]

    def make(self, task_id: str) -> Task:
        if task_id not in self.ids():
            raise ValueError(f"unknown odd task {task_id!r}")
        return OddTask(task_id)


def families() -> list[TaskFamily]:
    return [OddFamily()]
