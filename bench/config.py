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

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from omegaconf import DictConfig, ListConfig, OmegaConf

from optimizers.base import Budget

MAX_SEED = 2**32 - 1
#: A seed count above this is a typo, not a study (``seeds: 1e6`` would build a million runs).
MAX_SEED_COUNT = 10_000
LIST_KINDS = ("tasks", "optimizers", "tasksets", "studies")
#: Keys a study YAML may set; anything else is a typo that would otherwise be ignored silently.
STUDY_KEYS = ("name", "description", "optimizers", "tasks", "taskset", "seeds", "n_trials",
              "time_budget", "incompatible", "trial_timeout", "run_timeout", "n_workers")
#: A study name becomes a folder under output_dir: no separators, no hidden or parent folders.
_STUDY_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")


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


@dataclass(frozen=True)
class Settings:
    study: StudyConfig
    output_dir: Path
    n_jobs: int = -1
    backend: BackendConfig = field(default_factory=BackendConfig)
    progress: bool = True


def _seed(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_SEED:
        raise ConfigError(f"{what}={value!r} is not a valid seed: use an integer in [0, {MAX_SEED}]")
    return value


def parse_seeds(value: Any) -> tuple[int, ...]:
    """``3`` → ``(0, 1, 2)``; ``[4, 7]`` → ``(4, 7)``."""
    if isinstance(value, (list, tuple, ListConfig)):
        seeds = tuple(_seed(v, "seeds") for v in value)
        if not seeds:
            raise ConfigError("seeds=[] is empty: give a count (e.g. seeds=3) or a list of seeds")
        if len(set(seeds)) != len(seeds):
            raise ConfigError(f"seeds={list(seeds)} has duplicates")
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
    from bench.registry import optimizer_config

    node = cfg if cfg is not None else optimizer_config(name)
    target = node.get("_target_")
    if not target:
        raise ConfigError(f"optimizer {name!r} has no _target_ in conf/optimizer/{name}.yaml")
    params = node.get("params") or {}
    if isinstance(params, DictConfig):
        params = OmegaConf.to_container(params, resolve=True)
    if not isinstance(params, dict):
        raise ConfigError(f"optimizer {name!r}: params must be a mapping, got {params!r}")
    return OptimizerChoice(name, str(target), {str(k): v for k, v in params.items()})


def settings_from_cfg(cfg: DictConfig, study_choice: str = "default",
                      optimizer_choice: str | None = None) -> Settings:
    """Validate the composed config into :class:`Settings` (see module example)."""
    from bench.registry import taskset_patterns

    study = cfg.get("study") or {}
    if not isinstance(study, (dict, DictConfig)):
        raise ConfigError(f"study {study_choice!r} is {study!r}, not a mapping: give it the keys "
                          f"{', '.join(STUDY_KEYS)}")
    unknown_keys = [str(k) for k in study if k not in STUDY_KEYS]
    if unknown_keys:
        raise ConfigError(f"study.{unknown_keys[0]} is not a study setting: use {', '.join(STUDY_KEYS)}")
    name = cfg.get("name") or study.get("name") or study_choice
    task = cfg.get("task")
    if task is not None and not cfg.get("name"):
        name = "single"  # ad-hoc runs never mix into a named study's results
    if not isinstance(name, str) or not _STUDY_NAME.fullmatch(name):
        raise ConfigError(f"study name {name!r} is invalid: use letters, digits, '_', '-' and '.' "
                          "(it names the results folder)")
    description = study.get("description", "")
    if isinstance(description, (dict, list, DictConfig, ListConfig)):
        raise ConfigError(f"study.description={description!r} is invalid: use a string")

    optimizers: tuple[OptimizerChoice, ...]
    if optimizer_choice is not None:
        optimizers = (_optimizer(optimizer_choice, cfg.get("optimizer")),)
    else:
        ids = _str_list(study.get("optimizers"), "study.optimizers")
        if not ids:
            raise ConfigError(f"study {name!r} lists no optimizers: set study.optimizers or optimizer=<id>")
        optimizers = tuple(_optimizer(i) for i in ids)

    if task is not None:
        tasks = _str_list(task, "task")
    else:
        tasks = _str_list(study.get("tasks"), "study.tasks")
        taskset = study.get("taskset")
        if taskset:
            tasks = tasks + tuple(taskset_patterns(str(taskset)))
    if not tasks:
        raise ConfigError(f"study {name!r} lists no tasks: set study.tasks, study.taskset or task=<id>")

    seed = cfg.get("seed")
    seeds = (_seed(seed, "seed"),) if seed is not None else parse_seeds(study.get("seeds", 1))
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
    # A pair the user named explicitly must not be skipped quietly: refuse it.
    incompatible: Literal["error", "skip"] = "error"
    if task is None:
        value = study.get("incompatible", "error")
        if value not in ("error", "skip"):
            raise ConfigError(f"study.incompatible={value!r} is invalid: use 'error' or 'skip'")
        incompatible = value

    n_jobs = cfg.get("n_jobs", -1)
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs == 0:
        raise ConfigError(f"n_jobs={n_jobs!r} is invalid: use a positive worker count, or -1 for all cores "
                          "(-2 all but one, as in joblib)")
    backend = cfg.get("backend") or {}
    bname = backend.get("name", "loky")
    if bname not in ("loky", "threading", "dask"):
        raise ConfigError(f"backend={bname!r} is invalid: use loky, threading or dask")
    out = cfg.get("output_dir", "results")
    if not isinstance(out, str) or not out:
        raise ConfigError(f"output_dir={out!r} is invalid: use a directory path")

    return Settings(
        study=StudyConfig(name=str(name), optimizers=optimizers, tasks=tasks, seeds=seeds,
                          budget=budget, incompatible=incompatible,
                          description="" if task is not None else str(study.get("description", "")),
                          trial_timeout=trial_timeout, run_timeout=run_timeout, n_workers=n_workers),
        output_dir=Path(out),
        n_jobs=n_jobs,
        backend=BackendConfig(name=bname, address=backend.get("address"),
                              n_workers=backend.get("n_workers")),
        progress=bool(cfg.get("progress", True)),
    )
