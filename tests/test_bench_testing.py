"""The harness of bench.testing finds what is wrong with a task family, one line per problem."""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping
from typing import Any

import pytest
from ConfigSpace import ConfigurationSpace

from bench.config_files import UnknownNameError
from bench.contract import check_optimizer as contract_check_optimizer
from bench.testing import FamilyReport, check_optimizer, check_task, check_task_family
from tasks.base import Fidelity, Objective, Result, Task, TaskFamily, TaskMeta


class Quad(Task):
    """A good task; each test spoils one thing about it."""

    def __init__(self, task_id: str = "quad/a", fidelity: Fidelity | None = None) -> None:
        self.id = task_id
        self.space = ConfigurationSpace({"x": (-1.0, 1.0), "y": (-1.0, 1.0)}, seed=0)
        self.objectives = (Objective("loss"),)
        self.fidelity = fidelity
        self.meta = TaskMeta(kind="synthetic", optimum=(0.0,))

    def evaluate(self, config: Mapping[str, Any], fidelity: float | None = None, seed: int = 0) -> Result:
        return Result((float(config["x"]) ** 2 + float(config["y"]) ** 2,), cost=0.1)


class Family(TaskFamily):
    def __init__(self, build: Callable[[str], Task] = Quad, ids: list[str] | None = None) -> None:
        self.name = "quad"
        self.build = build
        self._ids = ["quad/a", "quad/b", "quad/c"] if ids is None else ids

    def ids(self) -> list[str]:
        return list(self._ids)

    def make(self, task_id: str) -> Task:
        if task_id not in self._ids:
            raise ValueError(f"unknown quad task {task_id!r}; valid: {self._ids}")
        return self.build(task_id)


def _failures(build: Callable[[str], Task] = Quad, **kwargs: Any) -> list[tuple[str, str]]:
    return check_task_family(Family(build, **kwargs), max_tasks=3).failures


def test_a_good_family_passes() -> None:
    report = check_task_family(Family(), max_tasks=2)
    assert report.ok and report.failures == [] and report.family == "quad"
    assert len(report.checked) == 2 and set(report.checked) < {"quad/a", "quad/b", "quad/c"}
    assert report.lines()[0] == "task family 'quad': 2 tasks checked, all pass"
    assert check_task_family(Family(), max_tasks=2, seed=0).checked == report.checked  # reproducible
    assert check_task_family(Family(), max_tasks=0, all_ids=True).checked == ["quad/a", "quad/b", "quad/c"]
    assert check_task(Quad()) == []


def test_metadata_that_disagrees_with_the_task() -> None:
    def wrong(task_id: str) -> Task:
        task = Quad(task_id, Fidelity("epochs", 1, 10))
        task.meta = TaskMeta(family="other", type="bb", kind="synthetic", dims=3, optimum=(0.0, 1.0))
        return task

    reasons = [why for where, why in _failures(wrong) if where == "quad/a"]
    assert reasons == [
        "meta.family is 'other' but the id's first component is 'quad'",
        "meta.type is 'bb' but 1 objective(s) and a fidelity make 'mf'",
        "meta.dims is 3 but the space has 2 hyperparameters",
        "meta.optimum has 2 values for 1 objective(s)",
    ]


def test_evaluation_problems_are_found() -> None:
    class Noisy(Quad):
        def evaluate(self, config: Mapping[str, Any], fidelity: float | None = None, seed: int = 0) -> Result:
            return Result((random.random(),))

    class NaN(Quad):
        def evaluate(self, config: Mapping[str, Any], fidelity: float | None = None, seed: int = 0) -> Result:
            return Result((math.nan,))

    class Raises(Quad):
        def evaluate(self, config: Mapping[str, Any], fidelity: float | None = None, seed: int = 0) -> Result:
            raise ValueError("x\nsecond line")

    class Ints(Quad):
        def evaluate(self, config: Mapping[str, Any], fidelity: float | None = None, seed: int = 0) -> Result:
            return Result((1,))

    class Negative(Quad):
        def evaluate(self, config: Mapping[str, Any], fidelity: float | None = None, seed: int = 0) -> Result:
            return Result((1.0,), cost=-1.0)

    class TwoValues(Quad):
        def evaluate(self, config: Mapping[str, Any], fidelity: float | None = None, seed: int = 0) -> Result:
            return Result((1.0, 2.0))

    expected = {
        Noisy: "is not deterministic",
        NaN: "every value must be a finite number",
        Raises: "raised ValueError: x second line",
        Ints: "not float",
        Negative: "need a finite number >= 0",
        TwoValues: "returned 2 values for 1 objective(s)",
    }
    for cls, text in expected.items():
        problems = check_task(cls())
        assert len(problems) == 1 and text in problems[0], (cls.__name__, problems)
        assert "\n" not in problems[0]


class Diverges(Quad):
    """NaN at the lowest fidelity (a diverged run), a number at the highest."""

    def evaluate(self, config: Mapping[str, Any], fidelity: float | None = None, seed: int = 0) -> Result:
        return Result((math.nan if fidelity == 1 else 1.0,))


def test_nan_below_the_highest_fidelity_is_allowed() -> None:
    assert check_task(Diverges(fidelity=Fidelity("epochs", 1, 10))) == []


def test_pickling_problems_are_found() -> None:
    class Unpicklable(Quad):
        def __init__(self, task_id: str = "quad/a") -> None:
            super().__init__(task_id)
            self.hook = lambda: None

    assert check_task(Unpicklable())[0].startswith("pickling the task failed: ")


def test_family_problems_are_found() -> None:
    family = [why for where, why in _failures(ids=["quad/a", "quad/a", "other/b"]) if where == "family"]
    assert "ids() lists 1 duplicate id(s)" in family
    assert "1 id(s) do not start with 'quad/', e.g. 'other/b'" in family
    assert _failures(ids=[]) == [("family", "ids() lists no tasks")]

    class Lenient(Family):
        def make(self, task_id: str) -> Task:
            return Quad(task_id)

    report = check_task_family(Lenient(), max_tasks=1)
    assert report.failures == [
        (
            "family",
            "make('quad/nope') returned Quad('quad/nope') instead of raising a ValueError naming the id",
        )
    ]


def test_a_task_that_cannot_be_built_or_has_another_id() -> None:
    def broken(task_id: str) -> Task:
        if task_id == "quad/b":
            raise RuntimeError("no data")
        return Quad("quad/a")

    failures = dict(check_task_family(Family(broken), max_tasks=3).failures)
    assert failures["quad/b"] == "raised RuntimeError: no data"
    assert failures["quad/c"] == "make('quad/c') built a task whose id is 'quad/a'"
    assert "quad/a" not in failures


def test_unavailable_and_unknown_families() -> None:
    class Missing(Family):
        def unavailable_reason(self) -> str | None:
            return "needs the 'quad' extra"

    report = check_task_family(Missing())
    assert not report.ok and report.checked == [] and report.unavailable == "needs the 'quad' extra"
    assert report.lines() == ["task family 'quad': unavailable here, nothing checked: needs the 'quad' extra"]
    with pytest.raises(UnknownNameError, match="did you mean 'synthetic'"):
        check_task_family("synthetc")
    with pytest.raises(ValueError, match="max_tasks=-1"):
        check_task_family("synthetic", max_tasks=-1)


def test_report_lines_list_failures_first_and_cap_the_passing_ids() -> None:
    report = FamilyReport("f", [f"f/{i}" for i in range(30)], [("f/3", "bad"), ("family", "worse")])
    lines = report.lines()
    assert lines[:3] == [
        "task family 'f': 30 tasks checked, 2 failures",
        "  FAIL  f/3: bad",
        "  FAIL  family: worse",
    ]
    assert lines[3] == "  pass  f/0" and "f/3" not in " ".join(lines[3:])
    assert lines[-1] == "  pass  ... and 9 more"


def test_check_optimizer_is_the_contract_suite() -> None:
    assert check_optimizer is contract_check_optimizer


class Named(Quad):
    """A task that names the libraries its values come from (module level: it must pickle)."""

    def __init__(self, libraries: tuple[str, ...]) -> None:
        super().__init__()
        self.meta = TaskMeta(kind="synthetic", optimum=(0.0,), libraries=libraries)


def test_libraries_must_be_installed_distributions() -> None:
    """``meta.libraries`` names distributions whose versions every run records: an import name
    (``sklearn``) or a typo would be recorded as "not installed" in every run, silently."""

    assert check_task(Named(("scipy", "numpy"))) == []
    problems = check_task(Named(("scipy", "sklearn_typo_xyz")))
    assert problems == [
        "meta.libraries names 'sklearn_typo_xyz', which is not an installed distribution: name each "
        "library by its distribution (PyPI) name, e.g. 'scikit-learn' for import sklearn"
    ]
