"""Every shipped study plans as the docs say to run it: ``python -m bench study=NAME``.

Planning a catalog study builds thousands of tasks, so each study is planned on a sample: the first
and the last task of each group of its task ids (ids with their numbers taken out, up to three
levels: ``bbob/f/d``, ``fcnet/naval_propulsion``, ``surrogate/knn/fcnet``). A task kind some
optimizer of the study cannot run is then in the sample, and a study that does not say
``incompatible: skip`` fails here as it would fail for a user, in its planning.
"""

from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path

import pytest

from bench.registry import expand_tasks

STUDIES = sorted(p.stem for p in (Path(__file__).resolve().parents[1] / "conf" / "study").glob("*.yaml"))


def sample_of(task_ids: list[str]) -> tuple[str, ...]:
    """The first and the last task id of each group (see the module docstring), in catalog order.

    Example:
        >>> sample_of(["bbob/f01/d02/i01", "bbob/f24/d40/i05", "bbob/f03/d05/i01", "fcnet/a", "fcnet/b"])
        ('bbob/f01/d02/i01', 'bbob/f03/d05/i01', 'fcnet/a', 'fcnet/b')
    """
    groups: dict[str, list[str]] = {}
    for tid in task_ids:
        groups.setdefault(re.sub(r"\d+", "", "/".join(tid.split("/")[:3])), []).append(tid)
    chosen = {ids[0] for ids in groups.values()} | {ids[-1] for ids in groups.values()}
    return tuple(t for t in task_ids if t in chosen)


def test_there_are_studies_to_check() -> None:
    assert {"default", "dev_bb", "catalog_bb", "catalog_bb_wide_rest"} <= set(STUDIES)


@pytest.mark.parametrize("name", STUDIES)
def test_shipped_study_plans(name: str) -> None:
    from bench.compose import compose_config
    from bench.plan import make_plan
    from bench.settings import settings_from_cfg

    study = settings_from_cfg(compose_config([f"study={name}"]), name).study
    if not os.environ.get("NXMBENCH_YAHPO_DATA") and any("yahpo" in p for p in study.tasks):
        pytest.skip("the study has YAHPO tasks and there is no YAHPO data folder (NXMBENCH_YAHPO_DATA)")
    sample = sample_of(expand_tasks(study.tasks))
    assert sample, f"study {name} selects no task"
    plan = make_plan(dataclasses.replace(study, tasks=sample))  # raises as the user's command would
    assert plan.specs
    planned = {(s.task, s.optimizer) for s in plan.specs} | {(r.task, r.optimizer) for r in plan.refused}
    assert planned == {(t, o.id) for t in sample for o in study.optimizers}
