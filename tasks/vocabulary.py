"""The catalog's words for a task: its type (bb, mf, mo, mfmo) and its kind (synthetic, …).

Every layer names these words (listing filters, the harness, the simulated-workers check, the
summaries and the report); this module is the one place they are written. The tuples are read off
the ``Literal`` types, so a word added to a type is a word every check and listing accepts, and mypy
checks each literal written elsewhere against the type.

It imports nothing but :mod:`typing` (unlike :mod:`tasks.base`, which needs ConfigSpace): the
command line's instant answers import :mod:`bench.catalog`, and with it this module, and must stay
light (tests/test_bench_cli_instant_answers.py).

Example:
    >>> TASK_TYPES
    ('bb', 'mf', 'mo', 'mfmo')
    >>> TYPE_NAMES["mfmo"]
    'multi-fidelity multi-objective'
    >>> "real" in TASK_KINDS
    True
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Literal, get_args

#: What a task asks of an optimizer: black-box, multi-fidelity, multi-objective or both.
TaskType = Literal["bb", "mf", "mo", "mfmo"]
#: Where a task's values come from: a formula, a table lookup, a fitted model or real training.
TaskKind = Literal["synthetic", "tabular", "surrogate", "real"]

#: Every task type, in catalog order (the order listings and reports use).
TASK_TYPES: tuple[TaskType, ...] = get_args(TaskType)
#: Every task kind.
TASK_KINDS: tuple[TaskKind, ...] = get_args(TaskKind)

#: The long name of each task type, lower case, for sentences ("3 black-box tasks"). Keyed by
#: ``str``: it is looked up with the ``task_type`` column of a results frame, any string there.
TYPE_NAMES: Mapping[str, str] = MappingProxyType(
    {
        "bb": "black-box",
        "mf": "multi-fidelity",
        "mo": "multi-objective",
        "mfmo": "multi-fidelity multi-objective",
    }
)
#: The types with more than one objective (ranked on hypervolume, not on the first objective).
MULTI_OBJECTIVE_TYPES: tuple[TaskType, ...] = ("mo", "mfmo")
#: The types with a fidelity axis (budgets count full-fidelity equivalents).
MULTI_FIDELITY_TYPES: tuple[TaskType, ...] = ("mf", "mfmo")
