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
    study_given = study_seeds_set = False
    for arg in args:
        try:
            ov = parser.parse_override(arg)
        except (HydraException, OmegaConfBaseException) as exc:
            cause = " ".join(str(exc).split()) + quote_hint([arg])
            raise ConfigError(
                f"cannot parse the override {arg!r}: {cause}: write key=value "
                "(quote values with spaces or brackets: \"key='a b'\")"
            ) from None
        key = _key(ov)
        if ov.package is not None:  # group@package=option moves a config node: nothing here needs that
            raise ConfigError(
                f"{arg!r}: package overrides (GROUP@PACKAGE=...) are not used here; write "
                f"{ov.key_or_group}={arg.partition('=')[2]}"
            )
        study_seeds_set |= key == "study.seeds"
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
            raise ConfigError(
                f"{arg!r} is a sweep: add -m (--multirun) to run every value as one study, "
                f"or write a list as {ov.key_or_group}=[a,b] where a list is meant"
            )
        if ov.is_delete() and key in ("optimizer", "task", "seed", *FOLDER_KEYS):
            raise ConfigError(f"{arg!r}: {key} cannot be deleted; set it to another value")
        if key == "optimizer":
            values = _values(ov, arg)
            if any(isinstance(v, list) for v in values):
                raise ConfigError(f"{arg!r}: optimizer takes ids: optimizer=a,b with -m, not a list")
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
            param_dims.append((name, [DELETE] if ov.is_delete() else _values(ov, arg)))
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
    )
    return CommandLine(selection, _folders(plain, folder_dims), study_given)


def quote_hint(args: Sequence[str]) -> str:
    """A hint for the first override whose value has an unquoted ``[``: a glob like ``f0[1-5]``
    reads as a Hydra list unless quoted (``""`` when there is none).

    Example:
        >>> print(quote_hint(["n_jobs=2", "task=bbob/f0[1-3]/d02/i01"]))
         — quote glob patterns for Hydra: "task='bbob/f0[1-3]/d02/i01'"
    """
    for arg in args:
        key, sep, value = arg.partition("=")
        if sep and "[" in value and not value.startswith(("'", '"', "[")):
            return f" — quote glob patterns for Hydra: \"{key}='{value}'\""
    return ""


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
