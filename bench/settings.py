"""Validated :class:`~bench.config.Settings` from the composed Hydra config.

Hydra composes ``conf/config.yaml`` with the chosen ``study``, ``optimizer`` and
``backend``; :func:`check_composed` refuses keys outside the schema and references that do not
resolve, and :func:`settings_from_cfg` turns the config into the frozen dataclasses of
:mod:`bench.config`, rejecting bad values with one-line messages that name the value and what
is valid. Building needs the config files (:mod:`bench.config_files`) and the command line's
selection (:mod:`bench.sweep`), both of which import :mod:`bench.config`: so this sits above them.

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
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from omegaconf import DictConfig, ListConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from bench.config import (
    BACKEND_KEYS,
    GROUPS,
    OPTIMIZER_KEYS,
    SINGLE_DIR,
    STUDY_KEYS,
    STUDY_NAME,
    BackendConfig,
    ConfigError,
    OptimizerChoice,
    Settings,
    StudyConfig,
    check_seed,
    interpolation_problem,
    nested_key_problem,
    parse_seeds,
    setting_keys,
    single_run_name,
    unknown_setting,
)
from bench.config_files import check_id, conf_dir, config_file, optimizer_config, taskset_patterns
from bench.sweep import DELETE, Selection, variant_id
from optimizers.budget import Budget


def check_composed(cfg: DictConfig, overrides: Sequence[str], choices: Mapping[str, str]) -> None:
    """Refuse top-level keys outside the schema and ``${...}`` that do not resolve, naming where
    the bad key or reference was written (a YAML file or the command line)."""
    valid = setting_keys()
    for key in cfg:
        if str(key) not in valid and str(key) != "hydra":  # hydra: composed for --cfg hydra|all
            raise unknown_setting(str(key), str(key), valid)
    try:
        for key in cfg:  # hydra's own node (--cfg hydra|all) has values only a running job fills
            if key != "hydra":
                node = cfg[key]
                if OmegaConf.is_config(node):
                    OmegaConf.to_container(node, resolve=True)
    except OmegaConfBaseException as exc:
        key = str(getattr(exc, "full_key", None) or "")
        # study=NAME selects a file; a value set on the command line has a deeper or equal key.
        set_on_line = [
            ov
            for ov in overrides
            if (k := ov.lstrip("+~").partition("=")[0]) not in GROUPS
            and (key == k or key.startswith(k + "."))
        ]
        group = key.split(".")[0].split("[")[0]
        defaults = {"study": "default", "backend": "loky"}
        path = config_file(group, choices.get(group, defaults.get(group, ""))) if group in GROUPS else None
        origin = (
            "the command line"
            if set_on_line
            else f"{group} file {path}"
            if path
            else f"config file {conf_dir() / 'config.yaml'}"
        )
        raise ConfigError(interpolation_problem(exc, origin)) from None


def _positive(value: Any, what: str, allow_none: bool = False) -> float | None:
    if value is None and allow_none:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not value > 0
        or not math.isfinite(value)
    ):  # inf would make a run that never ends
        valid = "a positive finite number" + (" or null" if allow_none else "")
        raise ConfigError(f"{what}={_as_typed(value)} is invalid: use {valid}")
    return float(value)


def _as_typed(value: Any) -> str:
    """A bad number as the user most likely typed it: the schema types budgets and timeouts as
    floats, so ``n_trials=-3`` arrives as ``-3.0``; echo ``-3``, not a value nobody wrote.

    Example:
        >>> _as_typed(-3.0), _as_typed(0.5), _as_typed("abc"), _as_typed(float("inf"))
        ('-3', '0.5', "'abc'", 'inf')
    """
    if type(value) is float and value.is_integer() and abs(value) < 2.0**53:
        return str(int(value))
    return repr(value)


def _str_list(value: Any, what: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, (list, tuple, ListConfig)):
        return tuple(str(v) for v in value)
    raise ConfigError(f"{what}={value!r} is invalid: use a name or a list of names")


def _optimizer(name: str, cfg: Any = None) -> OptimizerChoice:
    check_id("optimizer", name)
    node = cfg if cfg is not None else optimizer_config(name)
    where = f"optimizer {name!r} ({config_file('optimizer', name) or 'optimizer=' + name})"
    if not isinstance(node, DictConfig):
        raise ConfigError(f"{where} is {node!r}, not a mapping: give it the keys {', '.join(OPTIMIZER_KEYS)}")
    for key in node:
        problem = nested_key_problem("optimizer", str(key), OPTIMIZER_KEYS)
        if problem:
            raise ConfigError(f"{where}: {problem}")
    target = node.get("_target_")
    if not target:
        raise ConfigError(
            f"{where} has no _target_: set it to the class path, "
            "e.g. _target_: optimizers.random_search.RandomSearch"
        )
    if not isinstance(target, str):
        raise ConfigError(
            f"{where}: _target_={target!r} is invalid: use a class path such as "
            "optimizers.random_search.RandomSearch"
        )
    for key in ("family", "expensive"):  # shown in listings and read by the baseline archive
        text = node.get(key)
        if text is not None and not isinstance(text, str):
            raise ConfigError(f"{where}: {key}={text!r} is invalid: use a string (or leave it out)")
    params = node.get("params")
    if params is None:
        params = {}
    if isinstance(params, DictConfig):
        params = OmegaConf.to_container(params, resolve=True)
    if not isinstance(params, dict):
        raise ConfigError(
            f"{where}: params={params!r} is invalid: use a mapping of parameter names "
            "to values (or leave it out)"
        )
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
    twice = sorted({i for i in ids if list(ids).count(i) > 1})
    if twice:  # one run id per (task, optimizer, seed): a repeat would be planned twice
        raise ConfigError(
            f"study.optimizers={list(ids)} lists {', '.join(repr(i) for i in twice)} "
            "more than once: list each optimizer once"
        )
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


def settings_from_cfg(
    cfg: DictConfig,
    study_choice: str = "default",
    selection: Selection | None = None,
    study_given: bool = True,
    suffix: str = "",
) -> Settings:
    """Validate the composed config into :class:`Settings` (see module example).

    ``selection`` is what the command line picks inside the study (optimizers and their parameter
    variants, tasks, seeds; see :mod:`bench.sweep`). Tasks picked without ``study_given`` make an
    ad-hoc run: seed 0 unless seeds are picked, results under ``output_dir/single/``. ``suffix``
    ends the study's folder name (a swept setting: ``--n_trials=20``).
    """
    study = cfg.get("study") or {}
    if not isinstance(study, (dict, DictConfig)):
        raise ConfigError(
            f"study {study_choice!r} is {study!r}, not a mapping: give it the keys {', '.join(STUDY_KEYS)}"
        )
    for key in study:
        problem = nested_key_problem("study", str(key), STUDY_KEYS)
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
            raise ConfigError(
                f"study.taskset={taskset!r} is invalid: use one taskset id "
                "(list them with: python -m bench list=tasksets)"
            )
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
    if not isinstance(name, str) or not STUDY_NAME.fullmatch(name):
        raise ConfigError(
            f"study name {name!r} is invalid: use letters, digits, '_', '-' and '.' "
            "(it names the results folder)"
        )

    seed = cfg.get("seed")
    if selection and selection.seeds is not None:
        seeds = parse_seeds(list(selection.seeds), "seed")
    elif seed is not None:
        listed = isinstance(seed, (list, ListConfig))
        seeds = parse_seeds(list(seed), "seed") if listed else (check_seed(seed, "seed"),)
    elif single and not (selection and selection.study_seeds_set):
        seeds = (0,)  # a single run is one run; seed=0,1,2 -m (or study.seeds=3) for more
    else:
        seeds = parse_seeds(study.get("seeds", 1))
    n_trials = cfg.get("n_trials") if cfg.get("n_trials") is not None else study.get("n_trials", 50)
    time_budget = cfg.get("time_budget") if cfg.get("time_budget") is not None else study.get("time_budget")
    budget = Budget(
        n_trials=_positive(n_trials, "n_trials") or 0.0,
        time=_positive(time_budget, "time_budget", allow_none=True),
    )
    # Top-level keys override the study's, as n_trials and time_budget do.
    trial_timeout, run_timeout = (
        _positive(cfg.get(k) if cfg.get(k) is not None else study.get(k), k, allow_none=True)
        for k in ("trial_timeout", "run_timeout")
    )
    n_workers = cfg.get("n_workers") if cfg.get("n_workers") is not None else study.get("n_workers", 1)
    if isinstance(n_workers, bool) or not isinstance(n_workers, int) or n_workers < 1:
        raise ConfigError(
            f"n_workers={n_workers!r} is invalid: use an integer >= 1 "
            "(simulated parallel workers; 1 runs trials one after another)"
        )
    value = study.get("incompatible", "error")
    if value not in ("error", "skip"):  # checked whatever applies: a typo must not pass unnoticed
        raise ConfigError(f"study.incompatible={value!r} is invalid: use 'error' or 'skip'")
    incompatible: Literal["error", "skip"] = value
    # A pair the user named explicitly must not be skipped quietly by the default study's rule:
    # refuse it, unless the command line itself says study.incompatible= (the refusal suggests
    # it). A task picked without optimizer= runs the study's optimizers, under the study's rule.
    named_pairs = single and selection is not None and selection.optimizers is not None
    if named_pairs and not (selection is not None and selection.study_incompatible_set):
        incompatible = "error"

    n_jobs = cfg.get("n_jobs", -1)
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs == 0:
        raise ConfigError(
            f"n_jobs={n_jobs!r} is invalid: use a positive worker count, or -1 for all cores "
            "(-2 all but one, as in joblib)"
        )
    backend = _backend(cfg.get("backend"))
    yahpo_data = cfg.get("yahpo_data")
    if yahpo_data is not None and (not isinstance(yahpo_data, str) or not yahpo_data):
        raise ConfigError(f"yahpo_data={yahpo_data!r} is invalid: use the path of the YAHPO data folder")

    return Settings(
        study=StudyConfig(
            name=str(name),
            optimizers=optimizers,
            tasks=tasks,
            seeds=seeds,
            budget=budget,
            incompatible=incompatible,
            description="" if single else str(study.get("description", "")),
            trial_timeout=trial_timeout,
            run_timeout=run_timeout,
            n_workers=n_workers,
        ),
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
        problem = nested_key_problem("backend", str(key), BACKEND_KEYS)
        if problem:
            raise ConfigError(problem)
    name = node.get("name", "loky")
    if name not in ("loky", "threading", "dask"):
        raise ConfigError(f"backend={name!r} is invalid: use loky, threading or dask")
    address = node.get("address")
    if address is not None and not isinstance(address, str):
        raise ConfigError(
            f"backend.address={address!r} is invalid: use a scheduler address such as "
            "tcp://scheduler:8786, or null"
        )
    workers = node.get("n_workers")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise ConfigError(f"backend.n_workers={workers!r} is invalid: use an integer >= 1, or null")
    connect_timeout = node.get("connect_timeout")
    if connect_timeout is not None:
        connect_timeout = _positive(connect_timeout, "backend.connect_timeout")
    return BackendConfig(name=name, address=address, n_workers=workers, connect_timeout=connect_timeout)
