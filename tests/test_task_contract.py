"""The shared task contract: every registered task family, every task id.

Each id must build a task whose id, metadata, space, objectives and fidelity agree;
a sample of each family (all of a small family) is evaluated at random configs and
at the fidelity bounds, deterministically, and survives pickling.
"""

from __future__ import annotations

import math
import pickle
import random

import pytest

from bench.registry import task_families
from tasks.base import Result, Task, TaskFamily, task_type

FAMILIES = sorted(task_families())
#: Tasks evaluated per family (all when the family is smaller).
SAMPLE = 25


def _family(name: str) -> TaskFamily:
    fam = task_families()[name]
    reason = fam.unavailable_reason()
    if reason:
        pytest.skip(f"family {name} unavailable here: {reason}")
    return fam


def check_static(task: Task, task_id: str, family: str) -> None:
    assert task.id == task_id
    assert task_id.split("/", 1)[0] == family == task.meta.family
    assert task.objectives and all(o.name for o in task.objectives)
    assert task.meta.type == task_type(len(task.objectives), task.fidelity)
    assert task.meta.kind in ("synthetic", "tabular", "surrogate", "real")
    assert task.meta.dims == len(list(task.space.values())) > 0
    if task.meta.optimum is not None:
        assert len(task.meta.optimum) == len(task.objectives)
    if task.fidelity is not None:
        assert 0 < task.fidelity.low <= task.fidelity.high
        if task.fidelity.values is not None:
            assert task.fidelity.contains(task.fidelity.high)


def check_evaluate(task: Task, rng: random.Random) -> None:
    task.space.seed(rng.randrange(2**31))
    fidelities: list[float | None] = [None]
    if task.fidelity is not None:
        f = task.fidelity
        fidelities = [f.high, f.values[0] if f.values else f.low]
    for config in [dict(task.space.get_default_configuration()),
                   *(dict(c) for c in task.space.sample_configuration(2))]:
        for fid in fidelities:
            res = task.evaluate(config, fid, 7)
            assert isinstance(res, Result)
            assert len(res.values) == len(task.objectives)
            assert all(isinstance(v, float) for v in res.values)
            assert res.cost >= 0 and math.isfinite(res.cost)
            again = task.evaluate(config, fid, 7)
            assert again.values == res.values or all(
                math.isnan(a) and math.isnan(b) for a, b in zip(again.values, res.values, strict=True))
            if fid == fidelities[0]:  # at the highest fidelity every task gives a real number
                assert all(math.isfinite(v) for v in res.values), (task.id, config, res)


@pytest.mark.parametrize("family", FAMILIES)
def test_every_task_builds_and_agrees_with_its_metadata(family: str) -> None:
    fam = _family(family)
    ids = fam.ids()
    assert ids, f"family {family} lists no tasks"
    assert len(set(ids)) == len(ids), "duplicate task ids"
    for task_id in ids:
        check_static(fam.make(task_id), task_id, family)


@pytest.mark.parametrize("family", FAMILIES)
def test_task_sample_evaluates_deterministically_and_pickles(family: str) -> None:
    fam = _family(family)
    ids = fam.ids()
    rng = random.Random(family)
    for task_id in rng.sample(ids, min(SAMPLE, len(ids))):
        task = fam.make(task_id)
        check_evaluate(task, rng)
        clone = pickle.loads(pickle.dumps(task))
        config = dict(task.space.get_default_configuration())
        fid = task.fidelity.high if task.fidelity else None
        assert clone.evaluate(config, fid, 3).values == task.evaluate(config, fid, 3).values


@pytest.mark.parametrize("family", FAMILIES)
def test_unknown_id_in_family_is_a_clear_error(family: str) -> None:
    fam = _family(family)
    with pytest.raises(ValueError, match="nope"):
        fam.make(f"{family}/nope")
