"""The YAML files of the config groups (optimizer/, study/, taskset/, backend/): where they are
(shipped, ``--config-dir``, ``$NXMBENCH_CONFIG_PATH``, installed plugins), their ids, and reading
them strictly with one-line errors.

Kept apart from :mod:`bench.registry` because it imports neither tasks nor optimizers (nor
ConfigSpace, numpy or scipy): ``python -m bench --help``, ``--cfg`` and ``list=optimizers`` use it
and answer in a fraction of a second.

Example:
    >>> "random_search" in optimizer_ids()
    True
    >>> taskset_patterns("bbob_d05")
    ['bbob/f*/d05/i01']
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from omegaconf import DictConfig, ListConfig, OmegaConf
from omegaconf.errors import GrammarParseError, OmegaConfBaseException

from bench import plugins
from bench.config import ConfigError, interpolation_problem

#: Directories added with ``--config-dir`` (searched after the shipped conf/, before the env
#: variable's and the plugins').
_cli_dirs: list[Path] = []


def add_config_dir(path: Path) -> None:
    """Search ``path`` (holding study/, optimizer/, taskset/, backend/) after the shipped ``conf/``,
    as ``--config-dir PATH`` does."""
    if path not in _cli_dirs:
        _cli_dirs.append(path)


#: Extra config folders (``os.pathsep``-separated) holding optimizer/, study/, taskset/ YAMLs.
CONFIG_PATH_ENV = "NXMBENCH_CONFIG_PATH"


LIST_NAMES = {"optimizer": "optimizers", "taskset": "tasksets", "study": "studies"}
#: What a config group's YAML holds (for messages about a file that is not a mapping).
GROUP_KEYS = {
    "study": "name, optimizers, tasks or taskset, seeds, n_trials, …",
    "optimizer": "_target_, params, description, family, expensive",
    "taskset": "tasks",
    "backend": "name, address, n_workers",
}
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
    """Config folders searched after the shipped ``conf/``, in this order: those given with
    ``--config-dir``, those of ``$NXMBENCH_CONFIG_PATH``, then the installed plugins' (entry-point
    group ``nxm_bench.config``, see :mod:`bench.plugins`), so that a user's file wins over a
    plugin's of the same name."""
    raw = os.environ.get(CONFIG_PATH_ENV, "")
    return [*_cli_dirs, *(Path(p) for p in raw.split(os.pathsep) if p), *plugins.config_folders()]


def yaml_ids(group: str) -> list[str]:
    """Ids (file stems) of the YAMLs in a config group, shipped, user and plugin folders together;
    for ``optimizer``, also the ids plugins register by entry point (which need no YAML)."""
    dirs = [conf_dir(), *extra_conf_dirs()]
    ids = {p.stem for d in dirs for p in (d / group).glob("*.yaml")}
    if group == "optimizer":
        ids.update(plugins.optimizer_entries())
    return sorted(ids)


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
        raise ConfigError(
            f"{kind} id {name!r} is invalid: use letters, digits, '_', '-' and '.', "
            f"not starting with '.' (it names a YAML file under {kind}/{also})"
        )
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
        raise ConfigError(
            f"{what} is not UTF-8 text (byte {raw[exc.start]:#04x} on line {line}): save it as UTF-8"
        ) from None
    keys = GROUP_KEYS.get(group, "keys")
    try:
        data = yaml.safe_load(text)
        if data is None:
            raise ConfigError(f"{what} is empty: give it the keys {keys}")
        if not isinstance(data, dict):
            raise ConfigError(
                f"{what} holds {_kind_of(data)} at the top level, not a mapping: give it the keys {keys}"
            )
        cfg = OmegaConf.create(text)  # OmegaConf's own YAML rules, as Hydra reads the file
    except yaml.YAMLError as exc:
        raise ConfigError(yaml_problem(exc, what)) from None
    except GrammarParseError as exc:  # an unclosed or malformed ${...}
        key = getattr(exc, "full_key", None)
        raise ConfigError(
            f"{what}: {key + ': ' if key else ''}{str(exc).splitlines()[0]}: close the "
            "${...} interpolation, or escape a literal one as \\${...}"
        ) from None
    except OmegaConfBaseException as exc:  # e.g. a key that is not a string
        raise ConfigError(f"{what}: {str(exc).splitlines()[0]}") from None
    assert isinstance(cfg, DictConfig)
    return cfg


def check_config_file(group: str, name: str) -> None:
    """Read the YAML Hydra will compose for ``group=name`` strictly (see :func:`read_config`)."""
    path = config_file(group, name)
    if path is not None:
        _check_schema(read_config(path, group), group, path)


def _check_schema(cfg: DictConfig, group: str, path: Path) -> None:
    """Keys the typed schema (bench/config_schema.py) does not have are refused with a
    did-you-mean before Hydra merges the file (whose message would not name it)."""
    from bench.config import check_keys
    from bench.config_schema import SECTIONS

    if group in SECTIONS:
        check_keys(group, list(cfg.keys()), f"{group} file {path}")


def _load_yaml(group: str, name: str, kind: str) -> DictConfig:
    check_id(kind, name)
    path = config_file(group, name)
    if path is None:
        hint = f"list them with: python -m bench list={LIST_NAMES.get(group, group)}"
        raise unknown(kind, name, yaml_ids(group), hint=hint)
    cfg = read_config(path, group)
    _check_schema(cfg, group, path)
    try:  # read on its own, outside Hydra's composition: its ${...} must resolve within the file
        OmegaConf.to_container(cfg, resolve=True)
    except OmegaConfBaseException as exc:
        raise ConfigError(interpolation_problem(exc, f"{group} file {path}")) from None
    return cfg


def optimizer_ids() -> list[str]:
    """All registered optimizer ids (YAML names under ``conf/optimizer/``)."""
    return yaml_ids("optimizer")


def optimizer_config(name: str) -> DictConfig:
    """The optimizer's YAML: ``_target_`` (class path), ``params``, ``description``.

    An id a plugin registers by entry point (:mod:`bench.plugins`) and no folder has a YAML for
    reads as ``_target_`` = the entry point's class, ``params: {}``.
    """
    check_id("optimizer", name)
    registered = plugins.optimizer_entries().get(name)
    if registered and config_file("optimizer", name) is None:
        return _entry_point_optimizer(name, registered)
    return _load_yaml("optimizer", name, "optimizer")


def _entry_point_optimizer(name: str, registered: list[plugins.Entry]) -> DictConfig:
    if len(registered) > 1:
        raise ConfigError(
            f"optimizer id {name!r} is registered by {len(registered)} plugins: "
            + " and ".join(e.origin for e in registered)
            + ": uninstall one, or give the id a YAML under optimizer/ in a --config-dir"
        )
    entry = registered[0]
    if ":" not in entry.value:
        raise ConfigError(
            f"{entry.origin}: the value names no class: use 'module:Class', e.g. 'my_plugin.es:MyES'"
        )
    # Light: the class is imported when the optimizer is planned, not to list or describe it.
    return OmegaConf.create(
        {
            "_target_": entry.target,
            "params": {},
            "description": f"{entry.target.rpartition('.')[2]} from plugin {entry.distribution}",
        }
    )


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
        raise ConfigError(
            f"taskset {name!r} ({config_file('taskset', name)}): tasks={tasks!r} is invalid: "
            "use a list of task ids or patterns, e.g. tasks: ['bbob/f*/d05/i01']"
        )
    return list(tasks)


def taskset_config(name: str) -> DictConfig:
    """A named taskset's YAML: ``tasks`` and, for selected subsets, ``embedding`` (the optimizers
    the subset was chosen with, which ``python -m analysis report --taskset`` leaves out)."""
    return _load_yaml("taskset", name, "taskset")


def study_ids() -> list[str]:
    return yaml_ids("study")
