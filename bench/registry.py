"""Name → factory for tasks, optimizers, tasksets and studies, with "did you mean".

Tasks come from task families (``tasks.*`` modules exposing ``families()``);
optimizers, tasksets and studies are the YAML files under ``conf/``: the file
name is the id. Nothing here imports an optional optimizer library.

Example:
    >>> "random_search" in optimizer_ids()
    True
    >>> make_task("synthetic/branin").meta.dims
    2
"""

from __future__ import annotations

import difflib
import fnmatch
import importlib
import os
from collections.abc import Iterable
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from optimizers.base import Optimizer
from tasks.base import Task, TaskFamily

#: Modules that provide task families. Each exposes ``families() -> list[TaskFamily]``.
TASK_FAMILY_MODULES: tuple[str, ...] = (
    "tasks.synthetic",
    "tasks.bbob",
    "tasks.collections.yahpo",
    "tasks.collections.simple_hpo",
    "tasks.collections.lcdb",
    "tasks.collections.sklearn_built",
    "tasks.surrogate",
    "tasks.sklearn_live",
)


#: Extra task-family modules (comma-separated), e.g. a user's own ``mylab.tasks``.
TASK_MODULES_ENV = "NXMBENCH_TASK_MODULES"
#: Extra config folders (``os.pathsep``-separated) holding optimizer/, study/, taskset/ YAMLs.
CONFIG_PATH_ENV = "NXMBENCH_CONFIG_PATH"


LIST_NAMES = {"optimizer": "optimizers", "taskset": "tasksets", "study": "studies"}


class UnknownNameError(ValueError):
    """An id that is not registered; the message names the closest valid ones."""


def suggest(name: str, valid: Iterable[str], n: int = 3) -> str:
    """A did-you-mean phrase for ``name`` among ``valid``.

    Example:
        >>> suggest("randm_search", ["random_search", "hyperband"])
        "did you mean 'random_search'?"
    """
    valid = list(valid)
    close = difflib.get_close_matches(name, valid, n=n, cutoff=0.5)
    if not close:
        # Long hierarchical ids: compare the prefix the user typed with same-depth prefixes.
        depth = name.count("/") + 1
        prefixes = sorted({"/".join(v.split("/")[:depth]) for v in valid})
        close = difflib.get_close_matches(name, prefixes, n=n, cutoff=0.4)
    if close:
        return "did you mean " + " or ".join(repr(c) for c in close) + "?"
    shown = ", ".join(sorted(valid)[:8])
    more = f", … ({len(valid)} in all)" if len(valid) > 8 else ""
    return f"valid: {shown}{more}"


def unknown(kind: str, name: str, valid: Iterable[str], hint: str = "") -> UnknownNameError:
    msg = f"unknown {kind} {name!r}: {suggest(name, valid)}"
    return UnknownNameError(msg + (f" ({hint})" if hint else ""))


# ----------------------------------------------------------------------------- config files


def conf_dir() -> Path:
    """The ``conf/`` folder shipped with the package (works for non-editable installs too)."""
    return Path(str(resources.files("conf")))


def extra_conf_dirs() -> list[Path]:
    """User config folders from ``$NXMBENCH_CONFIG_PATH``, searched after the shipped ``conf/``."""
    raw = os.environ.get(CONFIG_PATH_ENV, "")
    return [Path(p) for p in raw.split(os.pathsep) if p]


def yaml_ids(group: str) -> list[str]:
    """Ids (file stems) of the YAMLs in a config group, shipped and user folders together."""
    dirs = [conf_dir(), *extra_conf_dirs()]
    return sorted({p.stem for d in dirs for p in (d / group).glob("*.yaml")})


def _load_yaml(group: str, name: str, kind: str) -> DictConfig:
    for d in (conf_dir(), *extra_conf_dirs()):
        path = d / group / f"{name}.yaml"
        if path.is_file():
            break
    else:
        hint = f"list them with: python -m bench list={LIST_NAMES.get(group, group)}"
        raise unknown(kind, name, yaml_ids(group), hint=hint)
    cfg = OmegaConf.load(path)
    assert isinstance(cfg, DictConfig)
    return cfg


def optimizer_ids() -> list[str]:
    """All registered optimizer ids (YAML names under ``conf/optimizer/``)."""
    return yaml_ids("optimizer")


def optimizer_config(name: str) -> DictConfig:
    """The optimizer's YAML: ``_target_`` (class path), ``params``, ``description``."""
    return _load_yaml("optimizer", name, "optimizer")


def taskset_ids() -> list[str]:
    return yaml_ids("taskset")


def taskset_patterns(name: str) -> list[str]:
    """The task ids/patterns of a named taskset."""
    return [str(t) for t in taskset_config(name).get("tasks", [])]


def taskset_config(name: str) -> DictConfig:
    """A named taskset's YAML: ``tasks`` and, for selected subsets, ``embedding`` (the optimizers
    the subset was chosen with, which ``python -m analysis report --taskset`` leaves out)."""
    return _load_yaml("taskset", name, "taskset")


def study_ids() -> list[str]:
    return yaml_ids("study")


def import_object(path: str) -> Any:
    """Import ``package.module.Name`` (or ``package.module:Name``)."""
    module, _, attr = path.replace(":", ".").rpartition(".")
    try:
        return getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as exc:
        raise ImportError(f"cannot import {path!r}: {exc}") from exc


@cache
def optimizer_class(target: str) -> type[Optimizer]:
    cls = import_object(target)
    if not (isinstance(cls, type) and issubclass(cls, Optimizer)):
        raise TypeError(f"{target!r} is not an optimizers.base.Optimizer subclass")
    return cls


# ----------------------------------------------------------------------------- tasks


@cache
def task_families() -> dict[str, TaskFamily]:
    """All task families by name (imports the family modules, not optional libraries)."""
    out: dict[str, TaskFamily] = {}
    extra = [m.strip() for m in os.environ.get(TASK_MODULES_ENV, "").split(",") if m.strip()]
    for module in (*TASK_FAMILY_MODULES, *extra):
        for fam in importlib.import_module(module).families():
            out[fam.name] = fam
    return out


def _family_of(task_id: str) -> TaskFamily:
    fams = task_families()
    name = task_id.split("/", 1)[0]
    if name not in fams:
        raise unknown("task", task_id, [f + "/…" for f in fams],
                      hint="list them with: python -m bench list=tasks")
    fam = fams[name]
    reason = fam.unavailable_reason()
    if reason:
        raise UnknownNameError(f"task family {name!r} is unavailable: {reason}")
    return fam


@cache
def task_ids(family: str | None = None) -> tuple[str, ...]:
    """Every task id in the catalog (of one family, if given)."""
    fams = task_families()
    chosen = [fams[family]] if family else list(fams.values())
    return tuple(i for f in chosen if f.unavailable_reason() is None for i in f.ids())


@cache
def _task_id_set(family: str) -> frozenset[str]:
    return frozenset(task_ids(family))


@cache
def make_task(task_id: str) -> Task:
    """Build (and cache, per process) the task with this id."""
    return _family_of(task_id).make(task_id)


def is_pattern(text: str) -> bool:
    return any(c in text for c in "*?[")


def expand_tasks(patterns: Iterable[str]) -> list[str]:
    """Expand ids and glob patterns (``bbob/f0[1-5]/d02/i01``) into task ids, order kept, no duplicates.

    A pattern starting with ``!`` removes the ids it matches from those expanded so far (``*``
    matches ``/`` too, so ``["fcnet/*", "!*/mo*"]`` keeps FCNet's single-objective tasks).

    Example:
        >>> expand_tasks(["synthetic/hartmann*", "!*6"])
        ['synthetic/hartmann3']
    """
    out: dict[str, None] = {}
    for pat in patterns:
        if pat.startswith("!"):
            drop = set(fnmatch.filter(list(out), pat[1:]))
            if not drop:
                raise UnknownNameError(
                    f"exclusion {pat!r} matches none of the {len(out)} tasks listed before it")
            out = {t: None for t in out if t not in drop}
            continue
        if not is_pattern(pat):
            _family_of(pat)  # raise for unknown families early
            if pat not in _task_id_set(pat.split("/", 1)[0]):
                raise unknown("task", pat, task_ids(pat.split("/", 1)[0]),
                              hint="list them with: python -m bench list=tasks")
            out[pat] = None
            continue
        family = pat.split("/", 1)[0]
        pool = task_ids(family) if family in task_families() and not is_pattern(family) else task_ids()
        hits = fnmatch.filter(pool, pat)
        if not hits:
            raise UnknownNameError(
                f"task pattern {pat!r} matches no task: {suggest(pat, pool)}"
            )
        out.update(dict.fromkeys(hits))
    return list(out)
