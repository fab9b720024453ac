"""Typed, validated settings built from the composed Hydra config.

Hydra composes ``conf/config.yaml`` with the chosen ``study``, ``optimizer`` and
``backend``; :func:`settings_from_cfg` turns that into frozen dataclasses and
rejects bad values with one-line messages that name the value and what is valid.

Example:
    >>> from omegaconf import OmegaConf
    >>> cfg = OmegaConf.create({"study": {"optimizers": ["random_search"], "tasks": ["synthetic/branin"],
    ...     "seeds": 2, "n_trials": 10}, "n_jobs": 1, "output_dir": "results"})
    >>> s = settings_from_cfg(cfg, study_choice="demo")
    >>> s.study.name, s.study.seeds, s.study.budget.n_trials
    ('demo', (0, 1), 10.0)
"""

from __future__ import annotations

import difflib
import hashlib
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from omegaconf import DictConfig, ListConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from bench.config_schema import keys_of

if TYPE_CHECKING:
    from bench.sweep import Selection
    from optimizers.budget import Budget

MAX_SEED = 2**32 - 1
#: A seed count above this is a typo, not a study (``seeds: 1e6`` would build a million runs).
MAX_SEED_COUNT = 10_000
LIST_KINDS = ("tasks", "optimizers", "tasksets", "studies")
#: Keys of a study, an optimizer and a backend YAML: the fields of the typed schema
#: (bench/config_schema.py), so a key added there is accepted everywhere at once.
STUDY_KEYS = keys_of("study")
OPTIMIZER_KEYS = keys_of("optimizer")
BACKEND_KEYS = keys_of("backend")
#: A study name becomes a folder under output_dir: no separators, no hidden or parent folders
#: ('=' and ',' appear in the folders of swept settings, ``default--n_trials=20``).
_STUDY_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.,=+@-]*")
#: Config groups composed by Hydra: top-level keys besides those of conf/config.yaml.
GROUPS = ("study", "optimizer", "backend")
#: Folder (under output_dir) of the ad-hoc ``optimizer=X task=Y`` runs, one subfolder per pair.
SINGLE_DIR = "single"
#: A single-run folder name longer than this is cut and ends with a hash of the full name.
MAX_FOLDER_NAME = 80


class ConfigError(ValueError):
    """A bad setting; the message is one line naming the value and what is valid."""


@dataclass(frozen=True)
class OptimizerChoice:
    """An optimizer id with the class path and params to build it."""

    id: str
    target: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StudyConfig:
    """What to run: optimizers × tasks × seeds under one budget."""

    name: str
    optimizers: tuple[OptimizerChoice, ...]
    tasks: tuple[str, ...]
    seeds: tuple[int, ...]
    budget: Budget
    incompatible: Literal["error", "skip"] = "error"
    description: str = ""
    #: Wall-clock limits in seconds for one evaluation and for one whole run (``None``: none).
    trial_timeout: float | None = None
    run_timeout: float | None = None
    #: Simulated asynchronous workers per run (docs/simulated-workers.md); 1 = sequential.
    n_workers: int = 1


@dataclass(frozen=True)
class BackendConfig:
    """Where runs execute: ``loky`` (local processes) or ``dask`` (a cluster)."""

    name: Literal["loky", "threading", "dask"] = "loky"
    address: str | None = None
    n_workers: int | None = None
    #: Seconds to wait for the scheduler at ``address`` (``None``: the runner's default, 30 s).
    connect_timeout: float | None = None


@dataclass(frozen=True)
class Settings:
    """Everything ``python -m bench`` needs after validation.

    ``output_dir`` is the folder holding the study folder: the ``output_dir`` setting, or
    ``<output_dir>/single`` for ad-hoc ``optimizer=X task=Y`` runs, whose study folder is named
    after the pair (see :func:`single_run_name`). Results go to ``output_dir / study.name``.
    """

    study: StudyConfig
    output_dir: Path
    n_jobs: int = -1
    backend: BackendConfig = field(default_factory=BackendConfig)
    progress: bool = True
    #: Move a study's old runs that conflict with the plan into a dated folder, instead of refusing.
    move_old_runs: bool = False
    #: Seconds planning may take before a task that hangs while being built is reported.
    plan_timeout: float = 600.0
    #: The YAHPO data folder (``yahpo_data=``); it travels to the workers inside the run specs.
    yahpo_data: str | None = None
    #: ``optimizer=X task=Y`` without ``study=``: an ad-hoc run (seed 0 by default, own folder).
    single: bool = False


def interpolation_problem(exc: OmegaConfBaseException, origin: str) -> str:
    """One line for a ``${...}`` that does not resolve (or another OmegaConf error) in ``origin``.

    Example:
        >>> cfg = OmegaConf.create({"study": {"n_trials": "${nope}"}})
        >>> try:
        ...     OmegaConf.to_container(cfg, resolve=True)
        ... except OmegaConfBaseException as exc:
        ...     print(interpolation_problem(exc, "study file s.yaml"))  # doctest: +ELLIPSIS
        study file s.yaml: study.n_trials: Interpolation key 'nope' not found: refer to an existing key ...
    """
    key = getattr(exc, "full_key", None)
    cause = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return (f"{origin}: {key + ': ' if key else ''}{cause}: refer to an existing key "
            "(python -m bench --cfg shows the composed config) or give a value")


def setting_keys() -> tuple[str, ...]:
    """The top-level keys ``python -m bench`` accepts: those of conf/config.yaml and the groups.

    Example:
        >>> {"n_trials", "study", "move_old_runs"} <= set(setting_keys())
        True
    """
    return keys_of("")


def _unknown_setting(key: str, full: str, valid: Sequence[str]) -> ConfigError:
    """An unknown top-level key, with a did-you-mean (never Hydra's "use +key", which would run
    with the typo'd key ignored)."""
    if key in STUDY_KEYS:
        return ConfigError(f"{key} is a study setting, not a top-level one: use study.{full}")
    close = difflib.get_close_matches(key, valid, n=2, cutoff=0.6)
    close += [f"study.{k}" for k in difflib.get_close_matches(key, STUDY_KEYS, n=1, cutoff=0.75)
              if k not in valid]
    hint = "did you mean " + " or ".join(repr(c) for c in close) + "? " if close else ""
    return ConfigError(f"{key} is not a setting: {hint}valid are {', '.join(valid)} (study keys go "
                       "under study., e.g. study.seeds=3; see python -m bench --help)")


def _nested_problem(section: str, key: str, valid: Sequence[str]) -> str | None:
    if key in valid:
        return None
    close = difflib.get_close_matches(key, valid, n=2, cutoff=0.6)
    hint = "did you mean " + " or ".join(repr(f"{section}.{c}") for c in close) + "? " if close else ""
    return f"{section}.{key} is not a {section} setting: {hint}valid are {', '.join(valid)}"


def check_overrides(overrides: Sequence[str]) -> list[str]:
    """Refuse command-line keys that are not settings, and return the overrides to compose.

    Hydra refuses ``n_trial=10`` with "use +n_trial=10", which then runs with the typo ignored;
    here both forms get a did-you-mean. Keys a study, a backend or an optimizer may hold but
    whose YAML does not (``study.trial_timeout=30``, ``optimizer.params.n_ei_candidates=30``)
    need no ``+``: they are added or overridden, and validated later with the rest.

    Example:
        >>> check_overrides(["n_jobs=2", "optimizer.params.n_ei_candidates=30"])
        ['n_jobs=2', '++optimizer.params.n_ei_candidates=30']
        >>> check_overrides(["+n_trial=10"])
        Traceback (most recent call last):
        ...
        bench.config.ConfigError: n_trial is not a setting: did you mean 'n_trials'? valid are ...
    """
    from bench.config_schema import bool_keys

    valid = setting_keys()
    flags = bool_keys()
    out = []
    for ov in overrides:
        if "=" not in ov and not ov.startswith("~"):
            out.append(ov)  # a flag such as --multirun: Hydra's business
            continue
        key, sep, value = ov.lstrip("+~").partition("=")
        if sep and key in flags and value.strip().lower() not in ("true", "false"):
            # OmegaConf would read 1, yes or on as true: a flag is true or false, nothing else
            raise ConfigError(f"{key}={value!r} is invalid: use true or false")
        parts = key.split(".")
        if parts[0] == "hydra":
            out.append(ov)
            continue
        if parts[0] not in valid:
            raise _unknown_setting(parts[0], key, valid)
        nested = {"study": STUDY_KEYS, "backend": BACKEND_KEYS, "optimizer": OPTIMIZER_KEYS}.get(parts[0])
        if nested and len(parts) > 1:
            problem = _nested_problem(parts[0], parts[1], nested)
            if problem:
                raise ConfigError(problem)
        open_ended = ((parts[0] in ("study", "backend") and len(parts) == 2)
                      or parts[:2] == ["optimizer", "params"])
        if open_ended and len(parts) > 1 and sep and not ov.startswith(("~", "++")):
            ov = f"++{key}={value}"
        out.append(ov)
    return out


def check_composed(cfg: DictConfig, overrides: Sequence[str], choices: Mapping[str, str]) -> None:
    """Refuse top-level keys outside the schema and ``${...}`` that do not resolve, naming where
    the bad key or reference was written (a YAML file or the command line)."""
    from bench.config_files import conf_dir, config_file

    valid = setting_keys()
    for key in cfg:
        if str(key) not in valid and str(key) != "hydra":  # hydra: composed for --cfg hydra|all
            raise _unknown_setting(str(key), str(key), valid)
    try:
        for key in cfg:  # hydra's own node (--cfg hydra|all) has values only a running job fills
            if key != "hydra":
                node = cfg[key]
                if OmegaConf.is_config(node):
                    OmegaConf.to_container(node, resolve=True)
    except OmegaConfBaseException as exc:
        key = str(getattr(exc, "full_key", None) or "")
        # study=NAME selects a file; a value set on the command line has a deeper or equal key.
        set_on_line = [ov for ov in overrides
                       if (k := ov.lstrip("+~").partition("=")[0]) not in GROUPS
                       and (key == k or key.startswith(k + "."))]
        group = key.split(".")[0].split("[")[0]
        defaults = {"study": "default", "backend": "loky"}
        path = config_file(group, choices.get(group, defaults.get(group, ""))) if group in GROUPS else None
        origin = ("the command line" if set_on_line else f"{group} file {path}" if path
                  else f"config file {conf_dir() / 'config.yaml'}")
        raise ConfigError(interpolation_problem(exc, origin)) from None


def single_run_name(optimizers: Sequence[str], tasks: Sequence[str]) -> str:
    """The study folder of an ad-hoc run (under ``output_dir/single``): one per optimizer and task.

    Task separators become ``__`` as in run ids; a pattern, a list or an over-long name is made
    safe and bounded, and then ends with a hash of the full name so that names stay distinct.

    Example:
        >>> single_run_name(["optuna_tpe"], ["bbob/f03/d05/i01"])
        'optuna_tpe--bbob__f03__d05__i01'
        >>> single_run_name(["random_search"], ["bbob/f0[1-5]/*"])
        'random_search--bbob__f0_1-5____-942e1e05'
    """
    full = "+".join(optimizers) + "--" + "+".join(tasks)
    readable = full.replace("/", "__")
    name = re.sub(r"[^A-Za-z0-9_.,=+@-]", "_", readable)
    if name != readable or len(name) > MAX_FOLDER_NAME:
        digest = hashlib.sha256(full.encode()).hexdigest()[:8]
        name = f"{name[:MAX_FOLDER_NAME - len(digest) - 1]}-{digest}"
    return name


def _seed(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_SEED:
        raise ConfigError(f"{what}={value!r} is not a valid seed: use an integer in [0, {MAX_SEED}]")
    return value


def parse_seeds(value: Any, what: str = "seeds") -> tuple[int, ...]:
    """``3`` → ``(0, 1, 2)``; ``[4, 7]`` → ``(4, 7)``."""
    if isinstance(value, (list, tuple, ListConfig)):
        seeds = tuple(_seed(v, what) for v in value)
        if not seeds:
            raise ConfigError(f"{what}=[] is empty: give a count (e.g. seeds=3) or a list of seeds")
        if len(set(seeds)) != len(seeds):
            raise ConfigError(f"{what}={list(seeds)} has duplicates: give each seed once")
        return seeds
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_SEED_COUNT:
        raise ConfigError(f"seeds={value!r} is invalid: use a count from 1 to {MAX_SEED_COUNT} (seeds=3) "
                          "or a list ([0,1,2])")
    return tuple(range(value))


def _positive(value: Any, what: str, allow_none: bool = False) -> float | None:
    if value is None and allow_none:
        return None
    if (isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0
            or not math.isfinite(value)):  # inf would make a run that never ends
        valid = "a positive finite number" + (" or null" if allow_none else "")
        raise ConfigError(f"{what}={value!r} is invalid: use {valid}")
    return float(value)


def _str_list(value: Any, what: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, (list, tuple, ListConfig)):
        return tuple(str(v) for v in value)
    raise ConfigError(f"{what}={value!r} is invalid: use a name or a list of names")


def _optimizer(name: str, cfg: Any = None) -> OptimizerChoice:
    from bench.config_files import check_id, config_file, optimizer_config

    check_id("optimizer", name)
    node = cfg if cfg is not None else optimizer_config(name)
    where = f"optimizer {name!r} ({config_file('optimizer', name) or 'optimizer=' + name})"
    if not isinstance(node, DictConfig):
        raise ConfigError(f"{where} is {node!r}, not a mapping: give it the keys {', '.join(OPTIMIZER_KEYS)}")
    for key in node:
        problem = _nested_problem("optimizer", str(key), OPTIMIZER_KEYS)
        if problem:
            raise ConfigError(f"{where}: {problem}")
    target = node.get("_target_")
    if not target:
        raise ConfigError(f"{where} has no _target_: set it to the class path, "
                          "e.g. _target_: optimizers.random_search.RandomSearch")
    if not isinstance(target, str):
        raise ConfigError(f"{where}: _target_={target!r} is invalid: use a class path such as "
                          "optimizers.random_search.RandomSearch")
    params = node.get("params")
    if params is None:
        params = {}
    if isinstance(params, DictConfig):
        params = OmegaConf.to_container(params, resolve=True)
    if not isinstance(params, dict):
        raise ConfigError(f"{where}: params={params!r} is invalid: use a mapping of parameter names "
                          "to values (or leave it out)")
    return OptimizerChoice(name, target, {str(k): v for k, v in params.items()})


def _bool(value: Any, what: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{what}={value!r} is invalid: use true or false")
    return value


def _optimizers(ids: Sequence[str], selection: Selection | None) -> tuple[OptimizerChoice, ...]:
    """Each optimizer's YAML, once per parameter variant of the command line (``optimizer.params.*``).

    A variant whose overrides equal the YAML's values keeps the plain id: it *is* that optimizer,
    and shares its runs.
    """
    from bench.sweep import DELETE, variant_id

    twice = sorted({i for i in ids if list(ids).count(i) > 1})
    if twice:  # one run id per (task, optimizer, seed): a repeat would be planned twice
        raise ConfigError(f"study.optimizers={list(ids)} lists {', '.join(repr(i) for i in twice)} "
                          "more than once: list each optimizer once")
    variants = (selection.params if selection else ()) or ((),)
    out: dict[str, OptimizerChoice] = {}
    for oid in ids:
        base = _optimizer(oid)
        for variant in variants:
            params = dict(base.params)
            changed = []
            for pname, value in variant:
                if value is DELETE:
                    if pname in params:
                        del params[pname]
                        changed.append((pname, value))
                elif pname not in params or params[pname] != value:
                    params[pname] = value
                    changed.append((pname, value))
            vid = variant_id(oid, changed)
            out.setdefault(vid, OptimizerChoice(vid, base.target, params))
    return tuple(out.values())


def settings_from_cfg(cfg: DictConfig, study_choice: str = "default", selection: Selection | None = None,
                      study_given: bool = True, suffix: str = "") -> Settings:
    """Validate the composed config into :class:`Settings` (see module example).

    ``selection`` is what the command line picks inside the study (optimizers and their parameter
    variants, tasks, seeds; see :mod:`bench.sweep`). Tasks picked without ``study_given`` make an
    ad-hoc run: seed 0 unless seeds are picked, results under ``output_dir/single/``. ``suffix``
    ends the study's folder name (a swept setting: ``--n_trials=20``).
    """
    from bench.config_files import taskset_patterns
    from optimizers.budget import Budget

    study = cfg.get("study") or {}
    if not isinstance(study, (dict, DictConfig)):
        raise ConfigError(f"study {study_choice!r} is {study!r}, not a mapping: give it the keys "
                          f"{', '.join(STUDY_KEYS)}")
    for key in study:
        problem = _nested_problem("study", str(key), STUDY_KEYS)
        if problem:
            raise ConfigError(problem)
    name = cfg.get("name") or study.get("name") or study_choice
    picked_tasks = selection.tasks if selection and selection.tasks is not None else None
    if picked_tasks is None and cfg.get("task") is not None:
        picked_tasks = _str_list(cfg.get("task"), "task")
    single = picked_tasks is not None and not study_given
    description = study.get("description", "")
    if isinstance(description, (dict, list, DictConfig, ListConfig)):
        raise ConfigError(f"study.description={description!r} is invalid: use a string")

    if selection and selection.optimizers is not None:
        ids: tuple[str, ...] = selection.optimizers
    else:
        ids = _str_list(study.get("optimizers"), "study.optimizers")
        if not ids:
            raise ConfigError(f"study {name!r} lists no optimizers: set study.optimizers or optimizer=<id>")
    optimizers = _optimizers(ids, selection)

    if picked_tasks is not None:
        tasks = picked_tasks
    else:
        tasks = _str_list(study.get("tasks"), "study.tasks")
        taskset = study.get("taskset")
        if taskset is not None and not isinstance(taskset, str):
            raise ConfigError(f"study.taskset={taskset!r} is invalid: use one taskset id "
                              "(list them with: python -m bench list=tasksets)")
        if taskset:
            tasks = tasks + tuple(taskset_patterns(taskset))
    if not tasks:
        raise ConfigError(f"study {name!r} lists no tasks: set study.tasks, study.taskset or task=<id>")
    # glob(..., exclude=...) on the command line: '!pattern' entries drop tasks listed before them.
    tasks = tasks + tuple(f"!{p}" for p in (selection.exclude_tasks if selection else ()))

    out = cfg.get("output_dir", "results")
    if not isinstance(out, str) or not out:
        raise ConfigError(f"output_dir={out!r} is invalid: use a directory path")
    output_dir = Path(out)
    if single and not cfg.get("name"):
        # Ad-hoc runs never mix into a named study's results, nor into each other's.
        output_dir = output_dir / SINGLE_DIR
        name = single_run_name([o.id for o in optimizers], tasks)
    name = f"{name}{suffix}" if isinstance(name, str) else name
    if not isinstance(name, str) or not _STUDY_NAME.fullmatch(name):
        raise ConfigError(f"study name {name!r} is invalid: use letters, digits, '_', '-' and '.' "
                          "(it names the results folder)")

    seed = cfg.get("seed")
    if selection and selection.seeds is not None:
        seeds = parse_seeds(list(selection.seeds), "seed")
    elif seed is not None:
        listed = isinstance(seed, (list, ListConfig))
        seeds = parse_seeds(list(seed), "seed") if listed else (_seed(seed, "seed"),)
    elif single and not (selection and selection.study_seeds_set):
        seeds = (0,)  # a single run is one run; seed=0,1,2 -m (or study.seeds=3) for more
    else:
        seeds = parse_seeds(study.get("seeds", 1))
    n_trials = cfg.get("n_trials") if cfg.get("n_trials") is not None else study.get("n_trials", 50)
    time_budget = cfg.get("time_budget") if cfg.get("time_budget") is not None else study.get("time_budget")
    budget = Budget(n_trials=_positive(n_trials, "n_trials") or 0.0,
                    time=_positive(time_budget, "time_budget", allow_none=True))
    # Top-level keys override the study's, as n_trials and time_budget do.
    trial_timeout, run_timeout = (
        _positive(cfg.get(k) if cfg.get(k) is not None else study.get(k), k, allow_none=True)
        for k in ("trial_timeout", "run_timeout"))
    n_workers = cfg.get("n_workers") if cfg.get("n_workers") is not None else study.get("n_workers", 1)
    if isinstance(n_workers, bool) or not isinstance(n_workers, int) or n_workers < 1:
        raise ConfigError(f"n_workers={n_workers!r} is invalid: use an integer >= 1 "
                          "(simulated parallel workers; 1 runs trials one after another)")
    # A pair the user named explicitly must not be skipped quietly: refuse it. (A task picked without
    # optimizer= runs the study's optimizers, which follow the study's rule.)
    incompatible: Literal["error", "skip"] = "error"
    if not (single and selection is not None and selection.optimizers is not None):
        value = study.get("incompatible", "error")
        if value not in ("error", "skip"):
            raise ConfigError(f"study.incompatible={value!r} is invalid: use 'error' or 'skip'")
        incompatible = value

    n_jobs = cfg.get("n_jobs", -1)
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs == 0:
        raise ConfigError(f"n_jobs={n_jobs!r} is invalid: use a positive worker count, or -1 for all cores "
                          "(-2 all but one, as in joblib)")
    backend = _backend(cfg.get("backend"))
    yahpo_data = cfg.get("yahpo_data")
    if yahpo_data is not None and (not isinstance(yahpo_data, str) or not yahpo_data):
        raise ConfigError(f"yahpo_data={yahpo_data!r} is invalid: use the path of the YAHPO data folder")

    return Settings(
        study=StudyConfig(name=str(name), optimizers=optimizers, tasks=tasks, seeds=seeds,
                          budget=budget, incompatible=incompatible,
                          description="" if single else str(study.get("description", "")),
                          trial_timeout=trial_timeout, run_timeout=run_timeout, n_workers=n_workers),
        output_dir=output_dir,
        n_jobs=n_jobs,
        backend=backend,
        progress=_bool(cfg.get("progress", True), "progress"),
        move_old_runs=_bool(cfg.get("move_old_runs", False), "move_old_runs"),
        plan_timeout=_positive(cfg.get("plan_timeout", 600), "plan_timeout") or 600.0,
        yahpo_data=yahpo_data,
        single=single,
    )


def _backend(node: Any) -> BackendConfig:
    node = node if node is not None else {}
    if not isinstance(node, (dict, DictConfig)):
        raise ConfigError(f"backend={node!r} is invalid: use backend=loky, threading or dask")
    for key in node:
        problem = _nested_problem("backend", str(key), BACKEND_KEYS)
        if problem:
            raise ConfigError(problem)
    name = node.get("name", "loky")
    if name not in ("loky", "threading", "dask"):
        raise ConfigError(f"backend={name!r} is invalid: use loky, threading or dask")
    address = node.get("address")
    if address is not None and not isinstance(address, str):
        raise ConfigError(f"backend.address={address!r} is invalid: use a scheduler address such as "
                          "tcp://scheduler:8786, or null")
    workers = node.get("n_workers")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise ConfigError(f"backend.n_workers={workers!r} is invalid: use an integer >= 1, or null")
    connect_timeout = node.get("connect_timeout")
    if connect_timeout is not None:
        connect_timeout = _positive(connect_timeout, "backend.connect_timeout")
    return BackendConfig(name=name, address=address, n_workers=workers, connect_timeout=connect_timeout)
