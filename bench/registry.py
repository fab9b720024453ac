"""Name → factory for tasks, optimizers, tasksets and studies, with "did you mean".

Tasks come from task families (``tasks.*`` modules exposing ``families()``, and those installed
plugins register, see :mod:`bench.plugins`); optimizers, tasksets and studies are the YAML files
under ``conf/`` (and the config folders added to it): the file name is the id; a plugin's
optimizer may have an entry point instead. Nothing here imports an optional optimizer library.

Example:
    >>> "random_search" in optimizer_ids()
    True
    >>> make_task("synthetic/branin").meta.dims
    2
"""

from __future__ import annotations

import fnmatch
import importlib
import inspect
import os
import threading
from collections.abc import Iterable
from functools import cache
from typing import Any

from bench import plugins
from bench.config import ConfigError

# Config files live in bench.config_files (light to import); re-exported for the registry's callers.
from bench.config_files import (  # noqa: F401
    CONFIG_PATH_ENV,
    GROUP_KEYS,
    LIST_NAMES,
    UnknownNameError,
    add_config_dir,
    check_config_file,
    check_id,
    conf_dir,
    config_file,
    extra_conf_dirs,
    optimizer_config,
    optimizer_ids,
    read_config,
    study_ids,
    suggest,
    taskset_config,
    taskset_ids,
    taskset_patterns,
    unknown,
    yaml_ids,
    yaml_problem,
)
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


def import_module(module: str, what: str) -> Any:
    """Import ``module``; any failure is a one-line :class:`ConfigError` naming it and the cause
    (a module that raises on import would otherwise end the CLI with a traceback)."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name and (module == exc.name or module.startswith(exc.name + ".")):
            raise ConfigError(
                f"{what}: no module named {exc.name!r} (is it installed, or on PYTHONPATH?)"
            ) from None
        raise ConfigError(
            f"{what}: importing module {module!r} failed: {type(exc).__name__}: {exc}"
        ) from None
    except Exception as exc:
        cause = " ".join(str(exc).split())
        raise ConfigError(
            f"{what}: importing module {module!r} failed: {type(exc).__name__}: {cause}"
        ) from None


def import_object(path: str) -> Any:
    """Import ``package.module.Name`` (or ``package.module:Name``); failures are one-line
    :class:`ConfigError` messages naming the module or attribute.

    Example:
        >>> import_object("optimizers.random_search.RandomSearch").__name__
        'RandomSearch'
    """
    module, _, attr = path.replace(":", ".").rpartition(".")
    if not module or not attr:
        raise ConfigError(
            f"_target_ {path!r} is not a dotted path: use module.Class, "
            "e.g. optimizers.random_search.RandomSearch"
        )
    mod = import_module(module, f"_target_ {path!r}")
    if not hasattr(mod, attr):
        classes = [
            n
            for n, v in vars(mod).items()
            if inspect.isclass(v) and issubclass(v, Optimizer) and v is not Optimizer
        ]
        raise ConfigError(
            f"_target_ {path!r}: module {module!r} has no attribute {attr!r}: "
            f"{suggest(attr, classes) if classes else 'it defines no Optimizer subclass'}"
        )
    return getattr(mod, attr)


@cache
def optimizer_class(target: str) -> type[Optimizer]:
    """The optimizer class a ``_target_`` names; :class:`ConfigError` if it is not one.

    Example:
        >>> optimizer_class("optimizers.base.Budget")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        bench.config.ConfigError: _target_ 'optimizers.base.Budget' is not an Optimizer: it is the class ...
    """
    cls = import_object(target)
    if not (isinstance(cls, type) and issubclass(cls, Optimizer)):
        what = f"the class {cls.__name__}" if isinstance(cls, type) else f"{cls!r}, not a class"
        raise ConfigError(
            f"_target_ {target!r} is not an Optimizer: it is {what}; "
            "use a subclass of optimizers.base.Optimizer"
        )
    return cls


# ----------------------------------------------------------------------------- tasks


#: Task-family modules given to :func:`add_task_modules` (a run's settings), in order.
_added_modules: list[str] = []
_modules_lock = threading.Lock()


def env_task_modules() -> tuple[str, ...]:
    """The extra task-family modules named by ``$NXMBENCH_TASK_MODULES`` (comma-separated)."""
    return tuple(m.strip() for m in os.environ.get(TASK_MODULES_ENV, "").split(",") if m.strip())


def task_modules() -> tuple[str, ...]:
    """The extra task-family modules this process loads: ``$NXMBENCH_TASK_MODULES``'s, then those
    given to :func:`add_task_modules`.

    Example:
        >>> isinstance(task_modules(), tuple)
        True
    """
    return tuple(dict.fromkeys((*env_task_modules(), *_added_modules)))


def add_task_modules(modules: Iterable[str]) -> bool:
    """Load task families from ``modules`` too, in this process from now on; return whether any
    was new (then the cached families, id lists and tasks are dropped, see :func:`forget_tasks`).

    A run's settings carry its study's modules (``RunContext.task_modules``), so a worker that
    never saw ``$NXMBENCH_TASK_MODULES`` still finds the study's families. Each new module is
    imported here: one that cannot be, or that has no ``families()``, is a :class:`ConfigError`
    naming it and is not kept (a long-lived worker stays usable for other studies).

    Example:
        >>> add_task_modules(["tasks.synthetic"])  # shipped: already there, nothing to reload
        False
        >>> add_task_modules(["nxm_no_such_module"])  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        bench.config.ConfigError: task module 'nxm_no_such_module' (from the run's task_modules): ...
    """
    with _modules_lock:
        known = {*TASK_FAMILY_MODULES, *_added_modules}
        new = [m for m in dict.fromkeys(m.strip() for m in modules) if m and m not in known]
        for module in new:
            _family_function(module, f"task module {module!r} (from the run's task_modules)")
        if not new:
            return False
        _added_modules.extend(new)
    forget_tasks()
    return True


def forget_tasks() -> None:
    """Drop every cached family, id list and task: where they come from has changed (a task module
    was added, or the YAHPO data folder moved), and a stale list would hide or keep tasks.

    Example:
        >>> forget_tasks()
        >>> "synthetic/branin" in task_ids("synthetic")
        True
    """
    for cached in (_catalog, task_ids, _task_id_set, make_task):
        cached.cache_clear()
    plugins.forget()


def _family_function(module: str, origin: str) -> Any:
    """The ``families`` function of a task module; :class:`ConfigError` naming ``origin`` if the
    module cannot be imported or has none."""
    families = getattr(import_module(module, origin), "families", None)
    if not callable(families):
        raise ConfigError(f"{origin} has no families() function: define families() -> list[TaskFamily]")
    return families


def task_families() -> dict[str, TaskFamily]:
    """All task families by name (imports the family modules, not optional libraries): the
    shipped ones, those of the extra task modules, then the installed plugins' (entry-point group
    ``nxm_bench.task_families``, see :mod:`bench.plugins`)."""
    return _catalog()[0]


def family_origin(name: str) -> str:
    """Where the task family ``name`` comes from, for messages: its module or its plugin.

    Example:
        >>> family_origin("synthetic")
        "task module 'tasks.synthetic'"
    """
    return _catalog()[1][name]


@cache
def _catalog() -> tuple[dict[str, TaskFamily], dict[str, str]]:
    """Task families by name, and where each comes from."""
    out: dict[str, TaskFamily] = {}
    origins: dict[str, str] = {}
    extra = env_task_modules()
    modules = tuple(dict.fromkeys((*TASK_FAMILY_MODULES, *task_modules())))
    for module in modules:
        origin = f"task module {module!r}"
        if module in extra:
            origin += f" (from {TASK_MODULES_ENV})"
        elif module not in TASK_FAMILY_MODULES:
            origin += " (from the run's task_modules)"
        for fam in _family_function(module, origin)():
            out[fam.name] = fam
            origins[fam.name] = origin
    for entry in plugins.entries(plugins.TASK_FAMILIES_GROUP):
        if entry.module in modules:  # also named as a task module (a plugin under development)
            continue
        for fam in plugin_families(entry):
            if fam.name in out:
                raise ConfigError(
                    f"{entry.origin} defines task family {fam.name!r}, which "
                    f"{origins[fam.name]} defines already: rename one of them, or "
                    "uninstall the plugin"
                )
            out[fam.name] = fam
            origins[fam.name] = entry.origin
    return out, origins


class BrokenPlugin(TaskFamily):
    """Stands for a plugin's task families when its entry point cannot be loaded: listed as
    unavailable, with the reason, instead of stopping every command (the other families stay
    usable; its tasks, and ``python -m bench check task_family=NAME``, say what went wrong).

    Example:
        >>> fam = BrokenPlugin("toy", "importing module 'toy' failed: SyntaxError: ...")
        >>> fam.ids(), fam.unavailable_reason()
        ([], "importing module 'toy' failed: SyntaxError: ...")
    """

    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        self.description = f"unavailable: {reason}"
        self.reason = reason

    def ids(self) -> list[str]:
        return []

    def make(self, task_id: str) -> Task:
        raise ValueError(f"task family {self.name!r} is unavailable: {self.reason}")

    def unavailable_reason(self) -> str | None:
        return self.reason


def plugin_families(entry: plugins.Entry) -> list[TaskFamily]:
    """The task families one ``nxm_bench.task_families`` entry point gives: its value is a module
    with ``families()`` or a callable (a function, or a TaskFamily class) returning one family or
    a list of them. A plugin that fails to load, or gives something else, gives a
    :class:`BrokenPlugin` named after the entry point, which says what went wrong.

    Example:
        >>> from bench.plugins import TASK_FAMILIES_GROUP, Entry
        >>> [f.name for f in plugin_families(Entry(TASK_FAMILIES_GROUP, "s", "tasks.synthetic", "x 1"))]
        ['synthetic']
    """
    try:
        loaded = entry.load()
        maker = getattr(loaded, "families", None) if inspect.ismodule(loaded) else loaded
        if not callable(maker):
            return [
                BrokenPlugin(
                    entry.name,
                    f"{entry.origin}: {entry.value!r} is not callable: name a "
                    "module with families() or a function returning families",
                )
            ]
        made = maker()
    except Exception as exc:
        return [
            BrokenPlugin(
                entry.name, f"{entry.origin} failed: {type(exc).__name__}: {' '.join(str(exc).split())}"
            )
        ]
    made = [made] if isinstance(made, TaskFamily) else made
    if not isinstance(made, list | tuple) or not all(isinstance(f, TaskFamily) for f in made):
        return [
            BrokenPlugin(
                entry.name, f"{entry.origin} gave {made!r}, not a list of tasks.base.TaskFamily objects"
            )
        ]
    return list(made)


def _family_of(task_id: str) -> TaskFamily:
    fams = task_families()
    name = task_id.split("/", 1)[0]
    if name not in fams:
        raise unknown(
            "task", task_id, [f + "/…" for f in fams], hint="list them with: python -m bench list=tasks"
        )
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
    before: list[str] = []  # the patterns that selected the tasks so far, for messages
    for pat in patterns:
        if pat.startswith("!"):
            drop = set(fnmatch.filter(list(out), pat[1:]))
            if not drop:
                raise UnknownNameError(
                    f"exclusion {pat!r} matches none of the {len(out)} tasks listed before it"
                )
            if len(drop) == len(out):  # an empty selection has nothing to plan: say why here
                shown = ", ".join(repr(b) for b in before[:3]) + (", ..." if len(before) > 3 else "")
                raise UnknownNameError(
                    f"exclusion {pat!r} removes all {len(out)} tasks selected before it (by {shown}): "
                    "nothing is left to run; exclude fewer tasks or select more"
                )
            out = {t: None for t in out if t not in drop}
            continue
        before.append(pat)
        if not is_pattern(pat):
            _family_of(pat)  # raise for unknown families early
            if pat not in _task_id_set(pat.split("/", 1)[0]):
                raise unknown(
                    "task",
                    pat,
                    task_ids(pat.split("/", 1)[0]),
                    hint="list them with: python -m bench list=tasks",
                )
            out[pat] = None
            continue
        family = pat.split("/", 1)[0]
        if family in task_families() and not is_pattern(family):
            _family_of(pat)  # an unavailable family says why (and which extra to install)
        pool = task_ids(family) if family in task_families() and not is_pattern(family) else task_ids()
        hits = fnmatch.filter(pool, pat)
        if not hits:
            raise UnknownNameError(f"task pattern {pat!r} matches no task: {suggest(pat, pool)}")
        out.update(dict.fromkeys(hits))
    return list(out)
