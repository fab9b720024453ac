"""Multi-objective tasks whose second objective is maximized, and an optimizer that replays given
points, for the tests of objective directions in the results.

``directions/trade`` has one parameter ``x`` in [0, 1] and two objectives of value ``x``: ``loss``
(minimized) and ``accuracy`` (maximized), so every point is a trade-off; read as minimized, the
point ``x = 0`` would dominate all others. ``directions/lcbench`` (only with a YAHPO data folder)
is YAHPO's lcbench instance 3945 with objectives ``val_cross_entropy`` (minimized) and
``val_balanced_accuracy`` (maximized). ``Replay`` asks ``x`` = each of its ``xs`` in turn.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from ConfigSpace import ConfigurationSpace

from optimizers.base import Optimizer, Problem, Trial
from tasks.base import Objective, Result, Task, TaskFamily, TaskMeta


class TradeTask(Task):
    def __init__(self) -> None:
        self.id = "directions/trade"
        self.space = ConfigurationSpace({"x": (0.0, 1.0)}, seed=0)
        self.objectives = (Objective("loss"), Objective("accuracy", minimize=False))
        self.fidelity = None
        self.meta = TaskMeta(kind="synthetic")

    def evaluate(self, config: Mapping[str, Any], fidelity: float | None = None, seed: int = 0) -> Result:
        x = float(config["x"])
        return Result((x, x))


class YahpoSecondMaximized(Task):
    """YAHPO lcbench/3945 ranked on cross-entropy (minimized) and balanced accuracy (maximized)."""

    def __init__(self) -> None:
        from tasks.collections.yahpo import YahpoTask, data_dir, load_surrogate

        root = data_dir()
        if root is None:
            raise ValueError("directions/lcbench needs a YAHPO data folder")
        self._inner = YahpoTask(
            load_surrogate(str(root.resolve()), "lcbench"),
            "3945",
            objectives=("val_cross_entropy", "val_balanced_accuracy"),
        )
        self.id = "directions/lcbench"
        self.space = self._inner.space
        self.objectives = self._inner.objectives
        self.fidelity = self._inner.fidelity
        self.meta = TaskMeta(kind="surrogate")

    def evaluate(self, config: Mapping[str, Any], fidelity: float | None = None, seed: int = 0) -> Result:
        return self._inner.evaluate(config, fidelity, seed)


class DirectionsFamily(TaskFamily):
    name = "directions"
    description = "multi-objective tasks with a maximized second objective"

    def ids(self) -> list[str]:
        return ["directions/trade", "directions/lcbench"]

    def make(self, task_id: str) -> Task:
        if task_id == "directions/trade":
            return TradeTask()
        if task_id == "directions/lcbench":
            return YahpoSecondMaximized()
        raise ValueError(f"unknown directions task {task_id!r}: use one of {self.ids()}")


def families() -> list[TaskFamily]:
    return [DirectionsFamily()]


class Replay(Optimizer):
    """Asks ``x`` = ``xs[0]``, ``xs[1]``, ... (cycling); learns nothing."""

    supports: ClassVar[frozenset[str]] = frozenset({"multi_objective"})

    def __init__(self, problem: Problem, seed: int, xs: Sequence[float] = (0.5,), **params: Any) -> None:
        super().__init__(problem, seed, **params)
        self._xs = [float(x) for x in xs]
        self._i = 0

    def ask(self) -> Trial:
        x = self._xs[self._i % len(self._xs)]
        self._i += 1
        return Trial({"x": x})

    def tell(self, trial: Trial, result: Result) -> None:
        pass
