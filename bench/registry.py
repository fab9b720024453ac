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
import inspect
import os
import re
import threading
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from omegaconf import DictConfig, ListConfig, OmegaConf
from omegaconf.errors import GrammarParseError, OmegaConfBaseException

from bench.config import ConfigError, interpolation_problem
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
#: What a config group's YAML holds (for messages about a file that is not a mapping).
GROUP_KEYS = {"study": "name, optimizers, tasks or taskset, seeds, n_trials, …",
              "optimizer": "_target_, params, description", "taskset": "tasks",
              "backend": "name, address, n_workers"}
#: An optimizer, taskset or study id names a file and a results folder: no separators, no
#: hidden or parent folders (``../x`` would read a YAML from anywhere and write outside output_dir).
_ID = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")


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
    """The ``conf/`` folder shipped with the package (works for non-editable installs too).

    Located from this file, never by importing ``conf``: a user's own ``conf/`` folder in the
    working directory (the natural name for one) would otherwise shadow the shipped configs.

    Example:
        >>> (conf_dir() / "config.yaml").is_file()
        True
    """
    return Path(__file__).resolve().parent.parent / "conf"


def extra_conf_dirs() -> list[Path]:
    """User config folders from ``$NXMBENCH_CONFIG_PATH``, searched after the shipped ``conf/``."""
    raw = os.environ.get(CONFIG_PATH_ENV, "")
    return [Path(p) for p in raw.split(os.pathsep) if p]


def yaml_ids(group: str) -> list[str]:
    """Ids (file stems) of the YAMLs in a config group, shipped and user folders together."""
    dirs = [conf_dir(), *extra_conf_dirs()]
    return sorted({p.stem for d in dirs for p in (d / group).glob("*.yaml")})


def check_id(kind: str, name: Any) -> str:
    """``name`` if it is a valid id for ``kind`` (it names a file and a results folder), else
    :class:`ConfigError`.

    Example:
        >>> check_id("optimizer", "../../etc/evil")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        bench.config.ConfigError: optimizer id '../../etc/evil' is invalid: use letters, digits, '_', ...
    """
    if not isinstance(name, str) or not _ID.fullmatch(name):
        also = " and run ids" if kind == "optimizer" else ""
        raise ConfigError(f"{kind} id {name!r} is invalid: use letters, digits, '_', '-' and '.', "
                          f"not starting with '.' (it names a YAML file under {kind}/{also})")
    return name


def config_file(group: str, name: str) -> Path | None:
    """The YAML of ``name`` in ``group``: the shipped one first, then the user folders in order
    (the order Hydra searches), or ``None``."""
    for d in (conf_dir(), *extra_conf_dirs()):
        path = d / group / f"{name}.yaml"
        if path.is_file():
            return path
    return None


def _kind_of(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    kinds = {bool: "a boolean", int: "a number", float: "a number", str: "a string"}
    kind = kinds.get(type(value), "a value")
    return f"{kind} ({value!r})"


def yaml_problem(exc: yaml.YAMLError, what: str) -> str:
    """One line for a YAML syntax error in ``what``: where, and what the parser wanted."""
    mark = getattr(exc, "problem_mark", None)
    where = f" line {mark.line + 1} column {mark.column + 1}" if mark else ""
    problem = " ".join(filter(None, (getattr(exc, "context", None), getattr(exc, "problem", None))))
    return f"cannot parse {what}{where}: {problem or ' '.join(str(exc).split())}: fix the YAML syntax"


def read_config(path: Path, group: str) -> DictConfig:
    """Read a config YAML strictly: UTF-8 text, valid YAML, a mapping at the top level.

    Every problem is a :class:`ConfigError` whose one-line message names the file (Hydra and
    OmegaConf would raise a ``UnicodeDecodeError``, an ``AssertionError`` or a list where a
    mapping belongs, far from the file). Interpolations are left unresolved.

    Example:
        >>> read_config(conf_dir() / "optimizer" / "hyperband.yaml", "optimizer")["params"]["eta"]
        3
    """
    what = f"{group} file {path}"
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read {what}: {exc.strerror or exc}") from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise ConfigError(f"{what} is not UTF-8 text (byte {raw[exc.start]:#04x} on line {line}): "
                          "save it as UTF-8") from None
    keys = GROUP_KEYS.get(group, "keys")
    try:
        data = yaml.safe_load(text)
        if data is None:
            raise ConfigError(f"{what} is empty: give it the keys {keys}")
        if not isinstance(data, dict):
            raise ConfigError(f"{what} holds {_kind_of(data)} at the top level, not a mapping: "
                              f"give it the keys {keys}")
        cfg = OmegaConf.create(text)  # OmegaConf's own YAML rules, as Hydra reads the file
    except yaml.YAMLError as exc:
        raise ConfigError(yaml_problem(exc, what)) from None
    except GrammarParseError as exc:  # an unclosed or malformed ${...}
        key = getattr(exc, "full_key", None)
        raise ConfigError(f"{what}: {key + ': ' if key else ''}{str(exc).splitlines()[0]}: close the "
                          "${...} interpolation, or escape a literal one as \\${...}") from None
    except OmegaConfBaseException as exc:  # e.g. a key that is not a string
        raise ConfigError(f"{what}: {str(exc).splitlines()[0]}") from None
    assert isinstance(cfg, DictConfig)
    return cfg


def check_config_file(group: str, name: str) -> None:
    """Read the YAML Hydra will compose for ``group=name`` strictly (see :func:`read_config`)."""
    path = config_file(group, name)
    if path is not None:
        read_config(path, group)


def _load_yaml(group: str, name: str, kind: str) -> DictConfig:
    check_id(kind, name)
    path = config_file(group, name)
    if path is None:
        hint = f"list them with: python -m bench list={LIST_NAMES.get(group, group)}"
        raise unknown(kind, name, yaml_ids(group), hint=hint)
    cfg = read_config(path, group)
    try:  # read on its own, outside Hydra's composition: its ${...} must resolve within the file
        OmegaConf.to_container(cfg, resolve=True)
    except OmegaConfBaseException as exc:
        raise ConfigError(interpolation_problem(exc, f"{group} file {path}")) from None
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
    """The task ids/patterns of a named taskset.

    Example:
        >>> taskset_patterns("bbob_d05")
        ['bbob/f*/d05/i01']
    """
    tasks = taskset_config(name).get("tasks")
    if not isinstance(tasks, list | tuple | ListConfig) or not all(isinstance(t, str) for t in tasks):
        raise ConfigError(f"taskset {name!r} ({config_file('taskset', name)}): tasks={tasks!r} is invalid: "
                          "use a list of task ids or patterns, e.g. tasks: ['bbob/f*/d05/i01']")
    return list(tasks)


def taskset_config(name: str) -> DictConfig:
    """A named taskset's YAML: ``tasks`` and, for selected subsets, ``embedding`` (the optimizers
    the subset was chosen with, which ``python -m analysis report --taskset`` leaves out)."""
    return _load_yaml("taskset", name, "taskset")


def study_ids() -> list[str]:
    return yaml_ids("study")


def import_module(module: str, what: str) -> Any:
    """Import ``module``; any failure is a one-line :class:`ConfigError` naming it and the cause
    (a module that raises on import would otherwise end the CLI with a traceback)."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name and (module == exc.name or module.startswith(exc.name + ".")):
            raise ConfigError(f"{what}: no module named {exc.name!r} (is it installed, or on "
                              "PYTHONPATH?)") from None
        raise ConfigError(f"{what}: importing module {module!r} failed: "
                          f"{type(exc).__name__}: {exc}") from None
    except Exception as exc:
        cause = " ".join(str(exc).split())
        raise ConfigError(f"{what}: importing module {module!r} failed: {type(exc).__name__}: "
                          f"{cause}") from None


def import_object(path: str) -> Any:
    """Import ``package.module.Name`` (or ``package.module:Name``); failures are one-line
    :class:`ConfigError` messages naming the module or attribute.

    Example:
        >>> import_object("optimizers.random_search.RandomSearch").__name__
        'RandomSearch'
    """
    module, _, attr = path.replace(":", ".").rpartition(".")
    if not module or not attr:
        raise ConfigError(f"_target_ {path!r} is not a dotted path: use module.Class, "
                          "e.g. optimizers.random_search.RandomSearch")
    mod = import_module(module, f"_target_ {path!r}")
    if not hasattr(mod, attr):
        classes = [n for n, v in vars(mod).items()
                   if inspect.isclass(v) and issubclass(v, Optimizer) and v is not Optimizer]
        raise ConfigError(f"_target_ {path!r}: module {module!r} has no attribute {attr!r}: "
                          f"{suggest(attr, classes) if classes else 'it defines no Optimizer subclass'}")
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
        raise ConfigError(f"_target_ {target!r} is not an Optimizer: it is {what}; "
                          "use a subclass of optimizers.base.Optimizer")
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
    for cached in (task_families, task_ids, _task_id_set, make_task):
        cached.cache_clear()


def _family_function(module: str, origin: str) -> Any:
    """The ``families`` function of a task module; :class:`ConfigError` naming ``origin`` if the
    module cannot be imported or has none."""
    families = getattr(import_module(module, origin), "families", None)
    if not callable(families):
        raise ConfigError(f"{origin} has no families() function: define families() -> list[TaskFamily]")
    return families


@cache
def task_families() -> dict[str, TaskFamily]:
    """All task families by name (imports the family modules, not optional libraries)."""
    out: dict[str, TaskFamily] = {}
    extra = env_task_modules()
    for module in dict.fromkeys((*TASK_FAMILY_MODULES, *task_modules())):
        origin = f"task module {module!r}"
        if module in extra:
            origin += f" (from {TASK_MODULES_ENV})"
        elif module not in TASK_FAMILY_MODULES:
            origin += " (from the run's task_modules)"
        for fam in _family_function(module, origin)():
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
        if family in task_families() and not is_pattern(family):
            _family_of(pat)  # an unavailable family says why (and which extra to install)
        pool = task_ids(family) if family in task_families() and not is_pattern(family) else task_ids()
        hits = fnmatch.filter(pool, pat)
        if not hits:
            raise UnknownNameError(
                f"task pattern {pat!r} matches no task: {suggest(pat, pool)}"
            )
        out.update(dict.fromkeys(hits))
    return list(out)
