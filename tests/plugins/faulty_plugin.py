"""Deliberately broken tasks and optimizers, loaded as user plugins by the fault tests.

Their misbehaviour depends only on the seed/config they are given, so which runs
fail is known in advance.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, ClassVar

from ConfigSpace import ConfigurationSpace

from optimizers.base import Optimizer, Problem, Trial
from optimizers.random_search import RandomSearch
from tasks.base import Objective, Result, Task, TaskFamily, TaskMeta


class FaultyTask(Task):
    """``faulty/nan`` returns NaN for ``x > 0.6``; ``faulty/raise`` raises for ``x < -0.6``.

    Failure depends only on the config (tasks are pure and cached per process).
    """

    def __init__(self, task_id: str) -> None:
        self.id = task_id
        self.mode = task_id.split("/")[1]
        self.space = ConfigurationSpace({"x": (-1.0, 1.0)}, seed=0)
        self.objectives = (Objective("y"),)
        self.fidelity = None
        self.meta = TaskMeta(family="faulty", type="bb", kind="synthetic", dims=1, optimum=(0.0,))

    def evaluate(self, config: Mapping[str, Any], fidelity: float | None = None, seed: int = 0) -> Result:
        x = float(config["x"])
        if self.mode == "nan" and x > 0.6:
            return Result((float("nan"),))
        if self.mode == "raise" and x < -0.6:
            raise RuntimeError("simulated task failure")
        return Result((float(config["x"]) ** 2,))


class FaultyFamily(TaskFamily):
    name = "faulty"
    description = "tasks that fail on purpose"

    def ids(self) -> list[str]:
        return ["faulty/ok", "faulty/nan", "faulty/raise"]

    def make(self, task_id: str) -> Task:
        if task_id not in self.ids():
            raise ValueError(f"unknown faulty task {task_id!r}")
        return FaultyTask(task_id)


class StallTask(FaultyTask):
    """Tasks for the time limits, like a live training run that never finishes.

    ``stall/sleep`` sleeps an hour and ``stall/spin`` loops in Python for ``x > 0``;
    ``stall/slow`` takes ``SLOW_SECONDS`` on every config.
    """

    SLOW_SECONDS = 0.02

    def evaluate(self, config: Mapping[str, Any], fidelity: float | None = None, seed: int = 0) -> Result:
        x = float(config["x"])
        if self.mode == "sleep" and x > 0:
            time.sleep(3600)
        if self.mode == "spin" and x > 0:
            end = time.monotonic() + 3600
            while time.monotonic() < end:  # pure-Python busy loop: no sleep to interrupt
                pass
        if self.mode == "slow":
            time.sleep(self.SLOW_SECONDS)
        return Result((x**2,))


class StallFamily(TaskFamily):
    name = "stall"
    description = "tasks that hang or are slow on purpose"

    def ids(self) -> list[str]:
        return ["stall/sleep", "stall/spin", "stall/slow"]

    def make(self, task_id: str) -> Task:
        if task_id not in self.ids():
            raise ValueError(f"unknown stall task {task_id!r}")
        task = StallTask(task_id)
        task.meta = TaskMeta(family="stall", type="bb", kind="synthetic", dims=1, optimum=(0.0,))
        return task


def families() -> list[TaskFamily]:
    return [FaultyFamily(), StallFamily()]


class CrashOnOddSeed(RandomSearch):
    """Random search that raises in ``ask`` on its 3rd call when the run seed is odd."""

    supports: ClassVar[frozenset[str]] = RandomSearch.supports

    def __init__(self, problem: Problem, seed: int, **params: Any) -> None:
        super().__init__(problem, seed, **params)
        self.odd = bool(seed % 2)
        self.asked = 0

    def ask(self) -> Trial:
        self.asked += 1
        if self.odd and self.asked == 3:
            raise RuntimeError("simulated optimizer failure")
        return super().ask()


class HangsOnAsk(RandomSearch):
    """Random search that hangs (sleeps an hour) in its 3rd ``ask``."""

    supports: ClassVar[frozenset[str]] = RandomSearch.supports

    def __init__(self, problem: Problem, seed: int, **params: Any) -> None:
        super().__init__(problem, seed, **params)
        self.asked = 0

    def ask(self) -> Trial:
        self.asked += 1
        if self.asked == 3:
            time.sleep(3600)
        return super().ask()


class NeverAsks(Optimizer):
    """An optimizer whose constructor fails: the run is recorded as crashed with 0 trials."""

    def __init__(self, problem: Problem, seed: int, **params: Any) -> None:
        raise ValueError("simulated constructor failure")

    def ask(self) -> Trial:  # pragma: no cover - never reached
        raise AssertionError

    def tell(self, trial: Trial, result: Result) -> None:  # pragma: no cover
        raise AssertionError
