"""The typed config schema of ``python -m bench``, registered in Hydra's ConfigStore.

``conf/config.yaml`` starts its defaults list with ``nxm_bench_schema``: Hydra composes the
shipped and user YAMLs *into* these dataclasses, so every key has a type and a default that
``--cfg job`` shows, and a key the schema does not have is refused (also with ``+key=``).
The same dataclasses give the key lists that the command line checks with a did-you-mean
before Hydra composes anything (:func:`keys_of`), and validate taskset files
(:func:`check_taskset`). Only ``omegaconf``/``hydra`` are imported: the command-line front end
imports this module for ``--help`` and ``--cfg``, which must answer in a fraction of a second.

Example:
    >>> from omegaconf import OmegaConf
    >>> cfg = OmegaConf.structured(StudySchema)
    >>> cfg.seeds, cfg.incompatible, cfg.n_workers
    (1, 'error', 1)
    >>> "n_trials" in keys_of("study") and "seeds" in keys_of("study")
    True
"""

from __future__ import annotations

from dataclasses import MISSING as NO_DEFAULT
from dataclasses import dataclass, field, fields
from typing import Any

#: The ConfigStore name of the top-level schema (first entry of conf/config.yaml's defaults).
SCHEMA_NAME = "nxm_bench_schema"


@dataclass
class StudySchema:
    """A study: optimizers × tasks × seeds under one budget (``conf/study/<name>.yaml``)."""

    #: Results folder name under ``output_dir`` (default: the file's name).
    name: str | None = None
    description: str = ""
    #: Optimizer ids (YAMLs under ``optimizer/``).
    optimizers: list[str] = field(default_factory=list)
    #: Task ids or glob patterns (``bbob/f0*/d05/i01``).
    tasks: list[str] = field(default_factory=list)
    #: A taskset id (``taskset/<id>.yaml``) whose tasks join ``tasks``.
    taskset: str | None = None
    #: A count (``3`` = seeds 0, 1, 2) or a list of seeds.
    seeds: Any = 1
    #: Budget in full-fidelity trial equivalents.
    n_trials: float = 50.0
    #: Simulated seconds per run (tasks with recorded cost); ``null``: no time budget.
    time_budget: float | None = None
    #: ``error``: refuse the plan when an optimizer cannot run a task; ``skip``: list such pairs.
    incompatible: str = "error"
    #: Wall-clock limits in seconds for one evaluation and one whole run (``null``: none).
    trial_timeout: float | None = None
    run_timeout: float | None = None
    #: Simulated asynchronous workers per run (docs/simulated-workers.md); 1 = sequential.
    n_workers: int = 1


@dataclass
class OptimizerSchema:
    """An optimizer: class path and constructor parameters (``conf/optimizer/<id>.yaml``)."""

    _target_: str = ""
    description: str = ""
    #: The family it belongs to, for listings (``Optuna``, ``built-in``; a plugin's: its package).
    family: str = ""
    #: Why each trial costs more than about 0.3 s of the optimizer's own time (e.g. ``"0.73
    #: s/trial (GP)"``); set, it marks the optimizer expensive: the baseline archive runs it with
    #: fewer seeds, on the dev subsets and the default study only (docs/baselines.md).
    expensive: str = ""
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class BackendSchema:
    """Where runs execute (``conf/backend/<name>.yaml``)."""

    #: ``loky`` (local processes), ``threading`` or ``dask``.
    name: str = "loky"
    #: A dask scheduler (``tcp://scheduler:8786``); ``null``: a local cluster.
    address: str | None = None
    #: Dask workers of the local cluster (``null``: ``n_jobs`` or the core count).
    n_workers: int | None = None
    #: Seconds to wait for the scheduler at ``address`` (``null``: 30).
    connect_timeout: float | None = None


@dataclass
class TasksetSchema:
    """A named list of task ids or patterns (``conf/taskset/<id>.yaml``)."""

    tasks: list[str] = field(default_factory=list)
    description: str = ""
    #: For selected subsets: the optimizers the subset was chosen with (and how).
    embedding: Any = None
    selection: Any = None
    #: For selected subsets: the selector that chose it (``analysis.subsets.selectors.SELECTORS``);
    #: ``python -m analysis report --taskset`` judges it by the leave-optimizers-out protocol.
    selector: str | None = None


@dataclass
class MainSchema:
    """Every top-level setting of ``python -m bench`` (``conf/config.yaml``)."""

    study: StudySchema = field(default_factory=StudySchema)
    optimizer: OptimizerSchema | None = None
    backend: BackendSchema = field(default_factory=BackendSchema)
    #: A task id or pattern (or a list): with ``optimizer=<id>`` and no ``study=``, one run.
    task: Any = None
    #: One seed (single runs; default 0), or a list; a study's ``seeds`` otherwise.
    seed: Any = None
    #: Overrides of the study's budget (full-fidelity equivalents) and simulated time budget.
    n_trials: float | None = None
    time_budget: float | None = None
    #: Wall-clock limits in seconds (docs/fault-tolerance.md); override the study's.
    trial_timeout: float | None = None
    run_timeout: float | None = None
    #: Seconds planning may take (building every task) before a hang is reported.
    plan_timeout: float = 600.0
    #: Simulated parallel workers per run; overrides the study's.
    n_workers: int | None = None
    #: Worker processes (joblib's reading: -1 all cores, -2 all but one).
    n_jobs: int = -1
    output_dir: str = "results"
    #: Results folder name under ``output_dir`` (default: the study's name; single runs go to
    #: ``output_dir/single/<optimizer>--<task>``).
    name: str | None = None
    #: Move a study's old runs that conflict with the plan into ``superseded/<UTC time>/``.
    move_old_runs: bool = False
    progress: bool = True
    #: Folder with YAHPO Gym surrogate data (one subfolder per scenario).
    yahpo_data: str | None = None
    #: ``tasks|optimizers|tasksets|studies``: print the catalog instead of running.
    list: str | None = None
    #: Glob over listed ids; ``task_type=bb|mf|mo|mfmo``, ``task_kind=synthetic|tabular|surrogate|real``.
    filter: Any = None
    task_type: str | None = None
    task_kind: str | None = None


#: Schema of each section a key may start with.
SECTIONS: dict[str, type] = {
    "": MainSchema,
    "study": StudySchema,
    "optimizer": OptimizerSchema,
    "backend": BackendSchema,
    "taskset": TasksetSchema,
}


def keys_of(section: str) -> tuple[str, ...]:
    """The keys a section accepts (``""`` for the top level), in schema order.

    Example:
        >>> keys_of("backend")
        ('name', 'address', 'n_workers', 'connect_timeout')
    """
    return tuple(f.name for f in fields(SECTIONS[section]))


def field_help(section: str) -> list[tuple[str, str, str]]:
    """``(key, type, default)`` for each key of a section, for ``--help``.

    Example:
        >>> field_help("backend")[0]
        ('name', 'str', "'loky'")
    """
    out = []
    for f in fields(SECTIONS[section]):
        default: Any = f.default
        if f.default_factory is not NO_DEFAULT:
            default = f.default_factory()
        kind = str(f.type).replace("typing.", "")
        out.append((f.name, kind, repr(default) if not isinstance(default, (dict, list)) else str(default)))
    return out


_registered = [False]


def register() -> None:
    """Store the schema in Hydra's ConfigStore (idempotent); ``conf/config.yaml`` names it first in
    its defaults list."""
    if _registered[0]:
        return
    from hydra.core.config_store import ConfigStore

    ConfigStore.instance().store(name=SCHEMA_NAME, node=MainSchema)
    _registered[0] = True


def bool_keys() -> frozenset[str]:
    """Dotted keys typed ``bool`` in the schema (``progress``, ``move_old_runs``, ...).

    Example:
        >>> sorted(bool_keys())
        ['move_old_runs', 'progress']
    """
    out = set()
    for section, schema in SECTIONS.items():
        for f in fields(schema):
            if str(f.type) == "bool":
                out.add(f"{section}.{f.name}" if section else f.name)
    return frozenset(out)


def validation_problem(exc: Exception) -> str:
    """One line for a Hydra/OmegaConf composition error: the key, the bad value, what is valid.

    Example:
        >>> from omegaconf import OmegaConf
        >>> from omegaconf.errors import ValidationError
        >>> try:
        ...     OmegaConf.structured(StudySchema).n_trials = "abc"
        ... except ValidationError as exc:
        ...     print(validation_problem(exc))
        study.n_trials='abc' is invalid: use a positive finite number
    """
    from omegaconf.errors import ValidationError

    cause = exc.__cause__ if exc.__cause__ is not None and not isinstance(exc, ValidationError) else exc
    if isinstance(cause, ValidationError):
        key = str(getattr(cause, "full_key", "") or "")
        section = "" if "." not in key else key.rsplit(".", 1)[0]
        if section == "" and getattr(cause, "object_type", None) is StudySchema:
            key = f"study.{key}"
        value = getattr(cause, "value", None)
        wanted = _wanted_type(key)
        if wanted:
            return f"{key}={value!r} is invalid: use {wanted}"
    return " ".join(str(exc).split())


#: What some keys accept, in words more precise than their type.
_WANTED = {
    "n_workers": "an integer >= 1",
    "n_jobs": "a positive worker count, or -1 for all cores",
    "n_trials": "a positive finite number",
    "plan_timeout": "a positive finite number",
}


def _wanted_type(key: str) -> str | None:
    """What a key's schema type accepts, in words (``None`` for keys typed ``Any``)."""
    parts = key.split(".")
    if parts[-1] in _WANTED:
        return _WANTED[parts[-1]] + (" or null" if parts[-1] == "n_workers" and len(parts) == 1 else "")
    section, name = (parts[0], parts[1]) if len(parts) == 2 and parts[0] in SECTIONS else ("", parts[0])
    for f in fields(SECTIONS[section]):
        if f.name == name:
            kind = str(f.type)  # as written under postponed annotations: "list[str]", "float | None"
            optional = " or null" if "Optional" in kind or "None" in kind else ""
            for token, words in (  # the container first: "list[str]" holds "str" too
                ("list", "a list"),
                ("float", "a number"),
                ("int", "an integer"),
                ("bool", "true or false"),
                ("str", "a string"),
            ):
                if token in kind.lower():
                    return words + optional
    return None


def job_view(cfg: Any, settings: Any, selection: Any) -> Any:
    """The config ``--cfg job`` prints: the composed one, with the study as it will run — its
    optimizer ids (parameter variants included), the picked tasks and seeds — and an
    ``optimizers`` node with each optimizer's class and parameters."""
    from omegaconf import OmegaConf

    data = OmegaConf.to_container(cfg, resolve=False)
    assert isinstance(data, dict)
    data.pop("hydra", None)
    study = settings.study
    raw_description = data.get("study", {}).get("description", "")
    data["study"] = {
        **data.get("study", {}),
        "name": study.name,
        "description": "" if settings.single else raw_description,
        "optimizers": [o.id for o in study.optimizers],
        "seeds": list(study.seeds),
        "incompatible": study.incompatible,
        # the study's values after the top-level overrides (n_trials=, ...)
        "n_trials": study.budget.n_trials,
        "time_budget": study.budget.time,
        "trial_timeout": study.trial_timeout,
        "run_timeout": study.run_timeout,
        "n_workers": study.n_workers,
    }
    if selection is not None and selection.tasks is not None:
        data["study"]["tasks"] = list(study.tasks)
        data["study"]["taskset"] = None
    data["optimizer"] = None
    data["optimizers"] = {o.id: {"_target_": o.target, "params": dict(o.params)} for o in study.optimizers}
    data["output_dir"] = str(settings.output_dir)
    return OmegaConf.create(data)
