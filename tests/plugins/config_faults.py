"""Optimizers whose declarations the planner must check, loaded as user plugins by the
bad-input tests: a missing optional library, typed parameters, and impostors."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Literal

from optimizers.base import Problem
from optimizers.random_search import RandomSearch


class NeedsMissingLibrary(RandomSearch):
    """Random search that declares a library nobody has installed."""

    requires: ClassVar[tuple[str, ...]] = ("nxm_no_such_library",)
    extra: ClassVar[str | None] = "nosuch"


class Typed(RandomSearch):
    """Random search with typed parameters (all ignored): one of each annotation the check knows."""

    param_types: ClassVar[Mapping[str, Any] | None] = None

    def __init__(
        self,
        problem: Problem,
        seed: int,
        count: int = 1,
        rate: float = 0.5,
        flag: bool = False,
        label: str = "a",
        mode: Literal["fast", "slow"] = "fast",
        limit: float | None = None,
        sizes: Sequence[int] = (1,),
        pair: tuple[int, str] = (1, "a"),
        extra: dict[str, Any] | None = None,
        hook: type | None = None,
    ) -> None:
        super().__init__(problem, seed)


class TakesAnything(RandomSearch):
    """An optimizer that takes ``**params`` without declaring them: any name is accepted."""

    param_types: ClassVar[Mapping[str, Any] | None] = None

    def __init__(self, problem: Problem, seed: int, **params: Any) -> None:
        super().__init__(problem, seed)


NOT_A_CLASS = 42


class NotAnOptimizer:
    """A class that is not an Optimizer subclass."""
