"""Command-line listings of tasks, optimizers, tasksets and studies."""

from __future__ import annotations

import fnmatch
from collections import Counter
from collections.abc import Mapping
from typing import Any

# Listing optimizers, tasksets and studies reads YAML files only; tasks need the registry (and
# with it numpy, ConfigSpace and the task families), imported when tasks are listed.
from bench.config_files import (
    UnknownNameError,
    optimizer_config,
    optimizer_ids,
    study_ids,
    taskset_ids,
    taskset_patterns,
)
from tasks.vocabulary import TASK_KINDS, TASK_TYPES

#: Above this many matches, tasks are listed by id only (building each task costs time).
DETAIL_LIMIT = 300


def print_listing(
    kind: str, pattern: str | None = None, task_type: str | None = None, task_kind: str | None = None
) -> None:
    """Print the catalog of ``kind`` (tasks, optimizers, tasksets, studies), filtered by a glob
    and, for tasks, by type and kind."""
    from bench.config import ConfigError

    if pattern is not None and not isinstance(pattern, str):
        # Hydra reads filter=[a,b] or filter=5 as a list or a number, not a glob.
        raise ConfigError(
            f"filter={pattern!r} is invalid: use one glob pattern, quoted for Hydra "
            "when it has brackets: \"filter='bbob/f0[1-5]/*'\""
        )
    if kind == "optimizers":
        families: set[str] = set()
        shown = _filter(optimizer_ids(), pattern)
        for oid in shown:
            try:
                config = optimizer_config(oid)
            except (ConfigError, UnknownNameError) as exc:  # one broken user file hides no other entry
                print(f"{oid:28s} {'?':16s} (unusable: {exc})")
                continue
            family = optimizer_family(config)
            families.add(family)
            print(f"{oid:28s} {family:16s} {config.get('description', '')}")
        if shown:
            print(f"# {len(shown)} optimizer{'s' * (len(shown) != 1)} in {len(families)} families")
    elif kind == "tasksets":
        for tid in _filter(taskset_ids(), pattern):
            try:
                n = len(taskset_patterns(tid))
                print(f"{tid:28s} {n} {'entry' if n == 1 else 'entries'}")
            except (ConfigError, UnknownNameError) as exc:
                print(f"{tid:28s} (unusable: {exc})")
    elif kind == "studies":
        for sid in _filter(study_ids(), pattern):
            print(sid)
    else:
        _print_tasks(pattern, task_type, task_kind)


def optimizer_family(config: Mapping[str, Any]) -> str:
    """The family an optimizer belongs to: its YAML's ``family``, else the top-level package of
    its ``_target_`` (a plugin's optimizers list under their package); nothing is imported.

    Example:
        >>> optimizer_family({"_target_": "optimizers.optuna.OptunaTPE", "family": "Optuna"})
        'Optuna'
        >>> optimizer_family({"_target_": "my_plugin.opt.Coord"})
        'my_plugin'
    """
    family = str(config.get("family") or "")
    return family or str(config.get("_target_", "")).partition(".")[0] or "?"


def _filter(ids: list[str] | tuple[str, ...], pattern: str | None) -> list[str]:
    return list(ids) if not pattern else fnmatch.filter(ids, pattern)


def _print_tasks(pattern: str | None, task_type: str | None, task_kind: str | None) -> None:
    from bench.config import ConfigError
    from bench.registry import make_task, task_families, task_ids

    if task_type is not None and task_type not in TASK_TYPES:
        raise ConfigError(f"task_type={task_type!r} is invalid: use one of {', '.join(TASK_TYPES)}")
    if task_kind is not None and task_kind not in TASK_KINDS:
        raise ConfigError(f"task_kind={task_kind!r} is invalid: use one of {', '.join(TASK_KINDS)}")
    for name, fam in task_families().items():
        reason = fam.unavailable_reason()
        if reason:
            print(f"# family {name}: unavailable ({reason})")
    ids = _filter(task_ids(), pattern)
    if task_type or task_kind:  # metadata filters need the task objects: build the glob's matches
        ids = [
            t
            for t in ids
            if (task_type is None or make_task(t).meta.type == task_type)
            and (task_kind is None or make_task(t).meta.kind == task_kind)
        ]
    if not ids:  # a header over nothing would read as a broken listing
        asked = ", ".join(
            f"{k}={v!r}"
            for k, v in (("filter", pattern), ("task_type", task_type), ("task_kind", task_kind))
            if v
        )
        print(
            f"# 0 tasks match {asked or 'the catalog'}: task ids look like bbob/f01/d05/i01 or "
            "fcnet/naval_propulsion (python -m bench list=tasks lists them all)"
        )
        return
    if len(ids) <= DETAIL_LIMIT:
        print(f"{'id':32s} {'type':5s} {'kind':10s} {'dims':>4s}  fidelity / objectives")
        for tid in ids:
            t = make_task(tid)
            fid = f"{t.fidelity.name}∈[{t.fidelity.low:g},{t.fidelity.high:g}]" if t.fidelity else "-"
            objs = ",".join(o.name for o in t.objectives)
            print(f"{tid:32s} {t.meta.type:5s} {t.meta.kind:10s} {t.meta.dims:4d}  {fid} / {objs}")
    else:
        for tid in ids:
            print(tid)
    counts = Counter(t.split("/", 1)[0] for t in ids)
    print(f"# {len(ids)} tasks: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
