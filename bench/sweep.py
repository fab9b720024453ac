"""Hydra's override and sweep syntax, turned into one study instead of one job per combination.

``python -m bench -m optimizer=random_search,optuna_tpe 'task=glob(bbob/f0*/d02/i01)' 'seed=range(0,10)'``
is parsed with Hydra's own override parser (comma lists, ``choice()``, ``range()``, ``glob()``,
quoting) and split in two:

- a :class:`Selection`: what runs *inside* one study folder, the optimizers (``optimizer=``),
  their parameter variants (``optimizer.params.NAME=``), the tasks (``task=``) and the seeds
  (``seed=``). All of it is planned as one study and run by one worker pool;
- study folders: values of settings that change what a run means (``study=``, ``n_trials=``,
  ``time_budget=``, ``n_workers=``, ``trial_timeout=``, ``run_timeout=``). A study folder keeps
  one meaning, so each combination of these gets its own folder (``default--n_trials=20``), and
  all folders still run in one pool with one progress bar.

Every other override goes to Hydra's composition unchanged.

Example:
    >>> cl = parse_command_line(["optimizer=random_search,optuna_tpe", "seed=range(0,3)",
    ...                          "n_trials=10,20"], multirun=True)
    >>> cl.selection.optimizers, cl.selection.seeds
    (('random_search', 'optuna_tpe'), (0, 1, 2))
    >>> [f.overrides for f in cl.folders]
    [['n_trials=10'], ['n_trials=20']]
    >>> [f.suffix for f in cl.folders]
    ['--n_trials=10', '--n_trials=20']
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bench.config import OPTIMIZER_KEYS, ConfigError, nested_key_problem

#: Settings whose values get a study folder each (study.X and X are the same setting).
FOLDER_KEYS = ("study", "n_trials", "time_budget", "n_workers", "trial_timeout", "run_timeout")
#: What a sweep may vary, for messages.
SWEEPABLE = (
    "optimizer",
    "task",
    "seed",
    "optimizer.params.NAME",
    "study",
    "n_trials",
    "time_budget",
    "n_workers",
    "trial_timeout",
    "run_timeout",
)
#: Hydra settings with a meaning here; every other ``hydra.*`` key is refused with what to use.
HYDRA_KEYS_USED = ("hydra.searchpath",)
#: Settings that take a list, so ``key=a,b`` without ``-m`` may mean ``key=[a,b]``.
LIST_KEYS = ("task", "seed", "study.optimizers", "study.tasks", "study.seeds", "hydra.searchpath")
#: Characters kept as they are in an optimizer variant id (it names run files).
_SAFE_VALUE = re.compile(r"[A-Za-z0-9_.+-]+")
#: A parameter override that deletes the parameter (``~optimizer.params.NAME``).
DELETE = object()


@dataclass(frozen=True)
class Selection:
    """What the command line picks inside a study; ``None`` keeps what the study says.

    ``params`` holds the optimizer-parameter variants: one tuple of ``(name, value)`` pairs per
    variant (the cartesian product of the swept values), ``()`` when none were given.
    """

    optimizers: tuple[str, ...] | None = None
    params: tuple[tuple[tuple[str, Any], ...], ...] = ()
    tasks: tuple[str, ...] | None = None
    exclude_tasks: tuple[str, ...] = ()
    seeds: tuple[Any, ...] | None = None
    #: ``study.seeds=`` was set: a single run then takes those seeds instead of seed 0.
    study_seeds_set: bool = False
    #: ``study.incompatible=`` was set: pairs named with ``optimizer=`` then follow it instead of
    #: being refused (the default study's ``skip`` is not the user's word for them).
    study_incompatible_set: bool = False


@dataclass(frozen=True)
class Folder:
    """One study folder of the sweep: the overrides Hydra composes it with, the suffix its name
    gets when a setting was swept, and the study file it selects (``None``: the default)."""

    overrides: list[str]
    suffix: str = ""
    study: str | None = None


@dataclass(frozen=True)
class CommandLine:
    selection: Selection
    folders: list[Folder] = field(default_factory=list)
    #: ``study=NAME`` was given (``optimizer=X task=Y`` without it is a single run).
    study_given: bool = False


def _key(ov: Any) -> str:
    key: str = ov.key_or_group
    return key[len("study.") :] if key.startswith("study.") and key[6:] in FOLDER_KEYS else key


def _values(ov: Any, arg: str) -> list[Any]:
    """The values of an override: one for a plain value, each value of a sweep."""
    from hydra.core.override_parser.types import ChoiceSweep, Glob, IntervalSweep, Override, RangeSweep

    value = ov.value()
    if not ov.is_sweep_override():
        return [value]
    if isinstance(value, IntervalSweep):
        raise ConfigError(
            f"{arg!r}: interval() is for optimizer sweepers; a sweep here lists values: "
            "use a,b,c, choice(...) or range(start,stop[,step])"
        )
    if isinstance(value, Glob):
        return [value]
    if isinstance(value, ChoiceSweep) and any(
        isinstance(v, (RangeSweep, ChoiceSweep, Glob)) for v in value.list
    ):
        raise ConfigError(
            f"{arg!r} nests a sweep inside a list: write the values out "
            "(seed=0,1,2,7) or use one range(start,stop[,step])"
        )
    return [Override._convert_value(v) for v in ov.sweep_iterator()]


def _text(value: Any) -> str:
    """A value as an override writes it (``10``, ``0.5``, ``true``, ``[1,2]``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (list, dict)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def variant_id(base: str, params: Sequence[tuple[str, Any]]) -> str:
    """The id of ``base`` with ``params`` overridden: stable, readable and safe as a file name.

    Example:
        >>> variant_id("optuna_tpe", [("n_startup_trials", 5)])
        'optuna_tpe@n_startup_trials=5'
        >>> variant_id("optuna_tpe", [("n_startup_trials", 5), ("multivariate", True)])
        'optuna_tpe@n_startup_trials=5,multivariate=true'
        >>> variant_id("smac_bb", [("model", "gp/rbf kernel")])
        'smac_bb@model=gp_rbf_kernel-fa3b08ca'
    """
    if not params:
        return base
    parts, changed = [], False
    for name, value in params:
        text = "deleted" if value is DELETE else _text(value)
        safe = text if _SAFE_VALUE.fullmatch(text) else re.sub(r"[^A-Za-z0-9_.+-]", "_", text)[:24]
        changed |= safe != text
        parts.append(f"{name}={safe}")
    vid = f"{base}@{','.join(parts)}"
    if changed:  # two values that read the same once made safe must not share an id
        full = json.dumps([[n, "deleted" if v is DELETE else v] for n, v in params], default=str)
        vid += "-" + hashlib.sha256(full.encode()).hexdigest()[:8]
    return vid


def _refuse_hydra(arg: str, key: str) -> None:
    if key in ("hydra/launcher", "hydra/sweeper"):
        raise ConfigError(
            f"{arg!r}: Hydra launcher and sweeper plugins are not used: a sweep (-m) is one "
            "study run by joblib or dask; use n_jobs=N, or backend=dask "
            "backend.address=tcp://HOST:PORT for a cluster (docs/scaling-out.md)"
        )
    if key.startswith("hydra/"):
        raise ConfigError(
            f"{arg!r}: Hydra's own config groups are not used by python -m bench "
            "(it runs no Hydra job and writes no Hydra logs or .hydra folders)"
        )
    if key in ("hydra.run.dir", "hydra.sweep.dir", "hydra.sweep.subdir") or key.startswith("hydra.job"):
        raise ConfigError(
            f"{arg!r} is not used: results go to OUTPUT_DIR/NAME/runs/; set output_dir=DIR "
            "(and name=NAME for the folder's name)"
        )
    if key.startswith("hydra.") and key not in HYDRA_KEYS_USED:
        raise ConfigError(
            f"{arg!r} is not used by python -m bench: of Hydra's settings only "
            "hydra.searchpath applies (or --config-dir DIR); logging is not Hydra's here"
        )


def parse_command_line(args: Sequence[str], multirun: bool) -> CommandLine:
    """Split overrides into the in-study :class:`Selection` and the study :class:`Folder` list
    (see the module example). Sweep syntax without ``multirun`` is refused with one line."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    parser = OverridesParser.create()
    plain: list[str] = []
    folder_dims: dict[str, list[str]] = {}
    optimizers: list[str] | None = None
    tasks: list[str] | None = None
    excludes: list[str] = []
    seeds: list[Any] | None = None
    param_dims: list[tuple[str, list[Any]]] = []
    study_given = study_seeds_set = study_incompatible_set = False
    for arg in args:
        try:
            ov = parser.parse_override(arg)
        except (HydraException, OmegaConfBaseException) as exc:
            hint = quote_hint([arg])  # the override as it works; else the general rule
            how = hint or ": write key=value (quote values with spaces or brackets: \"key='a b'\")"
            cause = " ".join(str(exc).split())
            raise ConfigError(f"cannot parse the override {arg!r}: {cause}{how}") from None
        key = _key(ov)
        if ov.package is not None:  # group@package=option moves a config node: nothing here needs that
            raise ConfigError(
                f"{arg!r}: package overrides (GROUP@PACKAGE=...) are not used here; write "
                f"{ov.key_or_group}={arg.partition('=')[2]}"
            )
        study_seeds_set |= key == "study.seeds"
        study_incompatible_set |= key == "study.incompatible"
        if key in ("optimizer", "task", "seed") or key.startswith("optimizer.params."):
            text = arg.partition("=")[2]
            if "${" in text:  # these are read before Hydra composes, so nothing would resolve them
                raise ConfigError(
                    f"{arg!r} on the command line: {key} takes values, not ${{...}} "
                    "interpolations; write the value itself"
                )
        if key == "hydra" or key.startswith(("hydra.", "hydra/")):
            _refuse_hydra(arg, key)
        if ov.is_sweep_override() and not multirun:
            raise ConfigError(_needs_multirun(arg, key, ov))
        if ov.is_delete() and key in ("optimizer", "task", "seed", *FOLDER_KEYS):
            raise ConfigError(f"{arg!r}: {key} cannot be deleted; set it to another value")
        if key == "optimizer":
            values = _values(ov, arg)
            if any(isinstance(v, list) for v in values):
                raise ConfigError(f"{arg!r}: optimizer takes ids: optimizer=a,b with -m, not a list")
            # An id listed twice would be planned once: refused, as in study.optimizers.
            _refuse_twice(arg, values, "list each optimizer once")
            optimizers = []
            for v in values:
                if _is_glob(v):  # glob() over the optimizer ids, as Hydra globs a config group
                    from bench.config_files import yaml_ids

                    matched = v.filter(yaml_ids("optimizer"))
                    if not matched:
                        raise ConfigError(
                            f"{arg!r} matches no optimizer: list them with python -m bench list=optimizers"
                        )
                    optimizers.extend(matched)
                else:
                    optimizers.append(str(v))
        elif key.startswith("optimizer.params."):
            name = key[len("optimizer.params.") :]
            if not name or "." in name:
                raise ConfigError(f"{arg!r}: set one parameter per override, optimizer.params.NAME=VALUE")
            values = [DELETE] if ov.is_delete() else _values(ov, arg)
            _refuse_twice(arg, values, "give each value once")  # one variant id for both
            param_dims.append((name, values))
        elif key.startswith("optimizer."):
            sub = key.split(".")[1]
            problem = nested_key_problem("optimizer", sub, OPTIMIZER_KEYS)
            raise ConfigError(
                problem
                or f"{arg!r}: only optimizer=ID and optimizer.params.NAME=VALUE are "
                "set on the command line; write a YAML under optimizer/ for another _target_"
            )
        elif key == "task":
            values = _values(ov, arg)
            tasks, excludes = _tasks(values, arg)
        elif key == "seed":
            seeds = []
            for v in _values(ov, arg):
                seeds.extend(v if isinstance(v, list) else [v])
        elif key in FOLDER_KEYS:
            values = _values(ov, arg)
            if any(_is_glob(v) for v in values):
                if key != "study":
                    raise ConfigError(f"{arg!r}: glob() selects ids; give {key} values as a,b,c or range()")
                from bench.config_files import yaml_ids

                values = values[0].filter(yaml_ids("study"))
                if not values:
                    raise ConfigError(
                        f"{arg!r} matches no study: list them with python -m bench list=studies"
                    )
            # Two equal values (3 and 3.0 are one budget) would run one meaning in two folders.
            _refuse_twice(arg, values, "give each value once")
            prefix = "" if ov.type.name != "ADD" else "+"
            folder_dims[key] = [f"{prefix}{ov.key_or_group}={_text(v)}" for v in values]
            study_given |= key == "study"
        elif ov.is_sweep_override():
            raise ConfigError(
                f"{arg!r}: {key} cannot be swept: a sweep varies {', '.join(SWEEPABLE)}; "
                "set other settings to one value"
            )
        else:
            plain.append(arg)

    params: tuple[tuple[tuple[str, Any], ...], ...] = ()
    if param_dims:
        names = [n for n, _ in param_dims]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ConfigError(f"optimizer.params.{twice[0]} is given twice: give it once (a,b,c for a sweep)")
        params = tuple(
            tuple(zip(names, combo, strict=True)) for combo in itertools.product(*(v for _, v in param_dims))
        )
    selection = Selection(
        optimizers=tuple(dict.fromkeys(optimizers)) if optimizers is not None else None,
        params=params,
        tasks=tuple(dict.fromkeys(tasks)) if tasks is not None else None,
        exclude_tasks=tuple(excludes),
        seeds=tuple(seeds) if seeds is not None else None,
        study_seeds_set=study_seeds_set,
        study_incompatible_set=study_incompatible_set,
    )
    return CommandLine(selection, _folders(plain, folder_dims), study_given)


def quote_hint(args: Sequence[str]) -> str:
    """A hint for the first override whose value has an unquoted ``[``: a glob like ``f0[1-5]``
    reads as a Hydra list unless quoted (``""`` when there is none). The hint is the override as
    it works: a plain pattern quoted whole, and in ``glob(...)`` or ``choice(...)`` each argument
    (quoting the whole call would make it one literal pattern).

    Example:
        >>> print(quote_hint(["n_jobs=2", "task=bbob/f0[1-3]/d02/i01"]))
         — quote glob patterns for Hydra: "task='bbob/f0[1-3]/d02/i01'"
        >>> print(quote_hint(["task=glob(bbob/f0[12]/d02/*,exclude=bbob/f02/*)"]))
         — quote glob patterns for Hydra: "task=glob('bbob/f0[12]/d02/*',exclude='bbob/f02/*')"
    """
    for arg in args:
        key, sep, value = arg.partition("=")
        if sep and "[" in value and not value.startswith(("'", '"', "[")):
            return f' — quote glob patterns for Hydra: "{key}={_quoted(value)}"'
    return ""


def _quoted(value: str) -> str:
    """``value`` with each pattern in single quotes, as Hydra's grammar needs it.

    Example:
        >>> _quoted("f0[12]"), _quoted("glob(f0[12],exclude=[f01,'f02'])")
        ("'f0[12]'", "glob('f0[12]',exclude=['f01','f02'])")
    """
    call = re.fullmatch(r"(glob|choice)\((.*)\)", value.strip())
    if not call:
        return value if value[:1] in "'\"" else f"'{value}'"
    args = []
    for part in _split_top_level(call.group(2)):
        name = re.match(r"\s*([A-Za-z_]\w*)\s*=(?!=)", part)  # a keyword argument: exclude=...
        head, rest = (part[: name.end()].strip(), part[name.end() :]) if name else ("", part)
        rest = rest.strip()
        if rest.startswith("[") and rest.endswith("]"):
            rest = "[" + ",".join(_quoted(p.strip()) for p in _split_top_level(rest[1:-1])) + "]"
        else:
            rest = _quoted(rest)
        args.append(head + rest)
    return f"{call.group(1)}({','.join(args)})"


def _split_top_level(text: str) -> list[str]:
    """``text`` split at the commas outside brackets and quotes (``f0[1,2],x`` is two parts)."""
    parts, depth, quote, start = [], 0, "", 0
    for i, ch in enumerate(text):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "[(":
            depth += 1
        elif ch in "])":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


def _needs_multirun(arg: str, key: str, ov: Any) -> str:
    """Why a sweep without ``-m`` is refused, suggesting only forms that work for ``key``: ``-m``
    where the key can be swept, the list ``key=[a,b]`` where the key takes a list and the sweep is
    a plain comma list (``[range(0,3)]`` is no list of seeds).

    Example:
        >>> from hydra.core.override_parser.overrides_parser import OverridesParser
        >>> ov = OverridesParser.create().parse_override("seed=0,1")
        >>> print(_needs_multirun("seed=0,1", "seed", ov).replace(", or", ",\\nor"))
        'seed=0,1' is a sweep: add -m (--multirun) to run every value as one study,
        or write the list "seed=[0,1]"
    """
    from hydra.core.override_parser.types import ChoiceSweep

    written, _, text = arg.partition("=")
    value = ov.value()
    takes_list = key in LIST_KEYS or key.startswith("optimizer.params.")
    as_list = (
        f'"{written}=[{text}]"' if takes_list and isinstance(value, ChoiceSweep) and value.simple_form else ""
    )
    if key in ("optimizer", "task", "seed", *FOLDER_KEYS) or key.startswith("optimizer.params."):
        where = " (one study folder per value)" if key in FOLDER_KEYS else ""
        hint = f"add -m (--multirun) to run every value as one study{where}"
        if as_list:
            meant = " where the parameter takes a list" if key.startswith("optimizer.") else ""
            hint += f", or write the list {as_list}{meant}"
        return f"{arg!r} is a sweep: {hint}"
    if as_list:
        return f"{arg!r} is a sweep, and {key} cannot be swept: write the list {as_list}"
    return (
        f"{arg!r} is a sweep, but {key} takes one value: give one (a sweep with -m varies "
        f"{', '.join(SWEEPABLE)})"
    )


def _refuse_twice(arg: str, values: Sequence[Any], fix: str) -> None:
    """Refuse ``values`` holding one value twice (``3`` and ``3.0`` are one number).

    Example:
        >>> _refuse_twice("n_trials=3,3.0", [3, 3.0], "give each value once")
        Traceback (most recent call last):
        ...
        bench.config.ConfigError: 'n_trials=3,3.0' lists 3 and 3.0, the same value twice: give each value once
    """
    seen: dict[Any, Any] = {}
    for value in values:
        same = (
            ("number", float(value))
            if isinstance(value, (int, float)) and not isinstance(value, bool)
            else ("other", "deleted" if value is DELETE else _text(value))
        )
        if same in seen:
            first, again = _text(seen[same]), _text(value)
            what = f"{again!r} twice" if isinstance(value, str) else f"{again} twice"
            if first != again:
                what = f"{first} and {again}, the same value twice"
            raise ConfigError(f"{arg!r} lists {what}: {fix}")
        seen[same] = value


def _is_glob(value: Any) -> bool:
    from hydra.core.override_parser.types import Glob

    return isinstance(value, Glob)


def _tasks(values: list[Any], arg: str) -> tuple[list[str], list[str]]:
    """Task ids/patterns and exclusion patterns from ``task=`` values (``glob(include, exclude=)``
    globs over the task catalog, as patterns in a study's ``tasks`` do)."""
    tasks: list[str] = []
    excludes: list[str] = []
    for v in values:
        if _is_glob(v):
            tasks.extend(v.include)
            excludes.extend(v.exclude)
        elif isinstance(v, list):
            tasks.extend(str(t) for t in v)
        elif isinstance(v, str):
            tasks.append(v)
        else:
            raise ConfigError(
                f"{arg!r}: task={v!r} is invalid: use task ids or glob patterns (python -m bench list=tasks)"
            )
    return tasks, excludes


def _folders(plain: list[str], dims: dict[str, list[str]]) -> list[Folder]:
    """One folder per combination of the swept folder settings, in the order given."""
    keys = list(dims)
    out = []
    for combo in itertools.product(*(dims[k] for k in keys)) if keys else [()]:
        chosen = dict(zip(keys, combo, strict=True))
        suffix = "".join(
            f"--{k}={chosen[k].partition('=')[2]}" for k in keys if k != "study" and len(dims[k]) > 1
        )
        study = chosen["study"].partition("=")[2] if "study" in chosen else None
        out.append(Folder([*plain, *combo], suffix, study))
    return out
