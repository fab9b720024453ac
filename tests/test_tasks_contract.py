"""The shared task contract: every registered task family passes the harness of bench.testing.

Each id must build a task whose id, metadata, space, objectives and fidelity agree; a sample of
each family (all of a small family) is evaluated at random configs and at the fidelity bounds,
deterministically, and survives pickling; an unknown id is a ValueError naming it. The checks
themselves live in :mod:`bench.testing`, where a plugin's author can import them.
"""

from __future__ import annotations

import pytest

from bench.registry import task_families
from bench.testing import check_task_family

FAMILIES = sorted(task_families())
#: Tasks evaluated per family (all when the family is smaller).
SAMPLE = 25


@pytest.mark.parametrize("family", FAMILIES)
def test_family_passes_the_task_contract(family: str) -> None:
    report = check_task_family(family, max_tasks=SAMPLE, all_ids=True)
    if report.unavailable:
        pytest.skip(f"family {family} unavailable here: {report.unavailable}")
    assert report.checked, f"family {family} lists no tasks"
    assert report.ok, "\n".join(report.lines())
