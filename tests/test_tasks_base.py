"""The task contract's derived metadata: a task declares what cannot be derived, ``task.meta``
fills in family, type, dims and parameter types, and no registered task's record changes."""

from __future__ import annotations

import dataclasses
import json
import pickle
import random
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from ConfigSpace import ConfigurationSpace

from bench.registry import make_task, task_families
from tasks.base import Fidelity, Objective, Result, Task, TaskMeta

#: Full records of three tasks per registered family, as they were before any field was derived;
#: a change here changes every run file of the task (``task_meta``): make it a revision instead.
GOLDEN = json.loads((Path(__file__).parent / "data" / "task_meta_sample.json").read_text())
#: Families whose ``param_types`` is their own word ("float"), not the space's class names.
OWN_PARAM_TYPES = {"bbob", "bbob-biobj", "synthetic"}
#: Tasks per family whose derived fields are compared with the record.
SAMPLE = 12


class Toy(Task):
    def __init__(self, meta: TaskMeta, fidelity: Fidelity | None = None, n_objectives: int = 1) -> None:
        self.id = "toy/a/b"
        self.space = ConfigurationSpace({"x": (0.0, 1.0), "n": (1, 4), "c": ["u", "v"]}, seed=0)
        self.objectives = (Objective("y"), Objective("z", minimize=False))[:n_objectives]
        self.fidelity = fidelity
        self.meta = meta

    def evaluate(self, config: Mapping[str, Any], fidelity: float | None = None, seed: int = 0) -> Result:
        return Result(tuple(float(config["x"]) for _ in self.objectives))


def _available(name: str) -> list[str]:
    fam = task_families()[name]
    reason = fam.unavailable_reason()
    if reason:
        pytest.skip(f"family {name} unavailable here: {reason}")
    return list(fam.ids())


def _plain(meta: TaskMeta) -> dict[str, Any]:
    """The record as its run file's ``task_meta`` holds it, read back from JSON."""
    return json.loads(json.dumps({k: getattr(meta, k) for k in meta.__dataclass_fields__}))


def test_declared_part_is_completed_from_the_task() -> None:
    meta = Toy(TaskMeta(kind="synthetic", optimum=(0.0,), tags=("t",))).meta
    assert meta == TaskMeta(
        family="toy",
        type="bb",
        kind="synthetic",
        dims=3,
        optimum=(0.0,),
        param_types=(
            "CategoricalHyperparameter",
            "UniformFloatHyperparameter",
            "UniformIntegerHyperparameter",
        ),
        tags=("t",),
    )
    assert Toy(TaskMeta(kind="real"), Fidelity("e", 1, 9)).meta.type == "mf"
    assert Toy(TaskMeta(kind="real"), n_objectives=2).meta.type == "mo"
    assert Toy(TaskMeta(kind="real"), Fidelity("e", 1, 9), n_objectives=2).meta.type == "mfmo"


def test_explicit_fields_are_kept_as_given() -> None:
    full = TaskMeta(family="other", type="mf", kind="tabular", dims=7, param_types=("float",))
    task = Toy(full)
    assert task.meta is full  # nothing to derive: the declared record itself
    assert Toy(TaskMeta(kind="real", param_types=("float",))).meta.param_types == ("float",)


def test_meta_is_read_after_init_and_reassignment_rederives() -> None:
    task = Toy(TaskMeta(kind="real"))
    assert task.meta.dims == 3 and task.meta is task.meta
    task.meta = TaskMeta(kind="surrogate", family="x")
    assert (task.meta.kind, task.meta.family, task.meta.dims) == ("surrogate", "x", 3)
    clone = pickle.loads(pickle.dumps(task))
    assert clone.meta == task.meta


def test_a_task_without_meta_says_so() -> None:
    class NoMeta(Toy):
        def __init__(self) -> None:
            self.id = "toy/a"

    with pytest.raises(AttributeError, match="NoMeta sets no meta"):
        _ = NoMeta().meta


@pytest.mark.parametrize("family", sorted(task_families()))
def test_derived_fields_equal_every_family_s_record(family: str) -> None:
    """Deriving family, type, dims and param_types gives each family's own values (the families
    in OWN_PARAM_TYPES keep their word for param_types)."""
    ids = _available(family)
    for task_id in random.Random(family).sample(ids, min(SAMPLE, len(ids))):
        task = make_task(task_id)
        empty = dataclasses.replace(task.meta, family="", type="", dims=0, param_types=())
        derived = empty.derived_for(task)
        if family in OWN_PARAM_TYPES:
            assert task.meta.param_types == ("float",)
            derived = dataclasses.replace(derived, param_types=("float",))
        assert derived == task.meta, task_id


@pytest.mark.parametrize("task_id", sorted(GOLDEN))
def test_registered_task_records_are_unchanged(task_id: str) -> None:
    _available(task_id.split("/", 1)[0])
    meta = make_task(task_id).meta
    assert _plain(meta) == GOLDEN[task_id]
    assert list(meta.__dataclass_fields__) == list(GOLDEN[task_id])  # the run file's key order
