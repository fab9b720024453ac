"""The task-type and task-kind vocabulary is written once (tasks/vocabulary.py) and cannot drift:
the tuples are the ``Literal`` types' values, every type has its long name, and the groupings
agree with the type a task's objectives and fidelity imply."""

from __future__ import annotations

import itertools
from typing import get_args

from tasks import base
from tasks.base import Fidelity, task_type
from tasks.vocabulary import (
    MULTI_FIDELITY_TYPES,
    MULTI_OBJECTIVE_TYPES,
    TASK_KINDS,
    TASK_TYPES,
    TYPE_NAMES,
    TaskKind,
    TaskType,
)


def test_tuples_are_the_literal_types() -> None:
    assert get_args(TaskType) == TASK_TYPES == ("bb", "mf", "mo", "mfmo")
    assert get_args(TaskKind) == TASK_KINDS == ("synthetic", "tabular", "surrogate", "real")


def test_the_contract_uses_the_same_types() -> None:
    # tasks.base re-exports them (TaskMeta's fields are typed with them), it does not redefine them.
    assert base.TaskType is TaskType
    assert base.TaskKind is TaskKind


def test_every_type_has_one_long_name() -> None:
    assert tuple(TYPE_NAMES) == TASK_TYPES
    assert len(set(TYPE_NAMES.values())) == len(TASK_TYPES)
    assert TYPE_NAMES["mfmo"] == f"{TYPE_NAMES['mf']} {TYPE_NAMES['mo']}"


def test_groupings_match_the_derived_type() -> None:
    fidelity = Fidelity("epochs", 1, 10)
    for n_objectives, fid in itertools.product((1, 2, 3), (None, fidelity)):
        kind = task_type(n_objectives, fid)
        assert kind in TASK_TYPES
        assert (kind in MULTI_OBJECTIVE_TYPES) == (n_objectives > 1)
        assert (kind in MULTI_FIDELITY_TYPES) == (fid is not None)


def test_the_analysis_reads_the_same_words() -> None:
    # The report's sections and the single/multi-objective split follow the catalog, not a copy of it.
    from analysis.normalize import SINGLE_OBJECTIVE_TYPES, UNTYPED
    from analysis.report.build import TYPE_ORDER, TYPE_TITLES

    assert TYPE_ORDER == TASK_TYPES
    assert set(SINGLE_OBJECTIVE_TYPES) == (set(TASK_TYPES) - set(MULTI_OBJECTIVE_TYPES)) | {UNTYPED}
    assert {t: title.lower() for t, title in TYPE_TITLES.items() if t != UNTYPED} == dict(TYPE_NAMES)
