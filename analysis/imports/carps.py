"""Import carps run logs as a results frame (docs/results-schema.md), so the report ranks carps' optimizers.

carps (CARP-S, "Comprehensive Automated Research Performance Studies", github.com/automl/CARP-S,
PyPI ``carps``) runs one optimizer on one task with one seed per Hydra job. Its ``FileLogger``
(``carps/loggers/file_logger.py``) writes into the job's folder, by default
``runs/<optimizer_id>/<benchmark_id>/<task_id>/<seed>/`` (``outdir`` of ``carps/configs/base.yaml``):

.. code-block:: text

    trial_logs.jsonl        one JSON object per call of the objective function, appended as it returns
    trajectory_logs.jsonl   one per change of the optimizer's incumbent (derived; not read here)
    .hydra/config.yaml      the job's composed Hydra config, interpolations unresolved

A line of ``trial_logs.jsonl`` (``convert_trials``; ``TrialInfo``/``TrialValue`` of
``carps/utils/trials.py`` as dicts) reads::

    {"n_trials": 1, "n_function_calls": 1,
     "trial_info": {"config": [-0.8297799529743, -4.076614052312], "instance": null, "seed": null,
                    "budget": null, "normalized_budget": null, "name": null, "checkpoint": null,
                    "additional_info": {}, "cutoff": null},
     "trial_value": {"cost": -91.96631523883296, "time": 1.2874603271484375e-05, "virtual_time": 0.0,
                     "status": 1, "starttime": 1796575197.5521078, "endtime": 1796575197.5521207,
                     "additional_info": {}}}

``n_trials`` counts the budget spent so far in full-fidelity trials (a call at ``budget`` adds
``normalized_budget = budget / max_fidelity``, otherwise 1), ``n_function_calls`` the calls;
``config`` holds the values of the configuration's active hyperparameters in ConfigSpace's order
(``list(dict(config).values())``); ``cost`` is minimized, one number or one per objective;
``status`` is ``StatusType``: 0 running, 1 success, 2 crashed, 3 timeout, 4 memory-out (a failed
call logs its cost too, often ``Infinity``). The config gives ``task_id`` (often ``${task.name}``),
``optimizer_id``, ``seed`` and the ``task`` node: ``input_space`` (``configuration_space`` as
ConfigSpace's serialized dict, ``fidelity_space`` with ``is_multifidelity`` and
``max_fidelity``), ``output_space`` (``n_objectives``, ``objectives``: names),
``optimization_resources`` (``n_trials``, ``time_budget``) and ``metadata`` (``domain``,
``objective_function_approximation``). carps' own gathering (``carps/analysis/gather_data.py``,
``gather_data_utils.py``) reads the same files: runs found by ``**/.hydra/config.yaml`` or
``**/trial_logs.jsonl``, one run per (``task_id``, ``optimizer_id``, ``seed``), a run complete
when its last ``n_trials`` reaches the config's ``n_trials``, else truncated. This description
rests on carps 1.1.0's source (its PyPI sdist) and on logs its ``python -m carps.run`` wrote.

How a run maps onto this project's schema:

* ``task`` is ``carps/<task_id>`` (e.g. ``carps/bbob/2/1/0``: carps' BBOB tasks are ioh's
  problems, ``bbob/<dim>/<function>/<instance>``, with instances 0 to 2, and COCO has no
  instance 0, so they are kept apart from this project's ``bbob/fFF/dDD/iII`` tasks);
  ``family`` is ``carps``; ``optimizer`` is carps' ``optimizer_id`` as it is (``RandomSearch``);
  ``seed`` the config's ``seed``; ``study`` the imported folder's name.
* One row per successful call, in log order: ``trial`` is ``n_function_calls - 1``, so the
  calls that failed (any status but success, or a non-finite cost) are dropped, counted, and
  leave a gap: the budget they spent still counts, there and in ``budget_used`` (carps'
  ``n_trials``) and ``sim_time``.
* ``value``/``values`` are carps' costs, all minimized (``minimize`` true; carps negates the
  objectives it maximizes, e.g. YAHPO's accuracies, before it logs them); ``objectives`` names
  them with the task's ``output_space.objectives`` and direction ``minimize``.
* ``task_type``: ``mf`` when the fidelity space is multi-fidelity, ``mo`` with several objectives;
  ``fidelity`` is the call's ``budget``. ``task_kind``: ``synthetic`` for the domain
  ``synthetic``, else the ``objective_function_approximation`` (``real``, ``surrogate``,
  ``tabular``), else ``unknown``.
* ``cost`` (seconds) is ``virtual_time`` when carps logged one (surrogate and table tasks), else
  ``time``; ``sim_time`` their running sum; ``eval_time`` is ``time``; ``wall_time`` is
  ``endtime`` minus the run's first ``starttime`` when carps logged the clock, else the running
  sum of ``time``.
* ``run_status`` is ``ok`` when the run reached its ``n_trials`` budget (or has a time budget:
  the log cannot tell), else ``died``: the log ends early without saying why (a killed job,
  an exception, a run still going).
* ``config`` is JSON: the hyperparameter names of an unconditional search space zipped with the
  values (ConfigSpace orders them by name), else the list of values (a conditional space logs
  only its active values, whose names the log does not say).
* ``optimum`` is unknown (NaN: carps does not log it, not even for BBOB) unless given in
  ``optima``.

Lost on the way: the failed calls (counted), each call's ``instance``, evaluation ``seed``,
``name``, ``checkpoint`` and ``additional_info``, the names of a conditional space's values, the
optimizer's settings (only its id is kept) and the incumbent trajectory (recomputed from the
trials). Results that carps' ``DatabaseLogger`` wrote to a database are not read.

Example:
    >>> import json, tempfile
    >>> run = Path(tempfile.mkdtemp()) / "runs" / "RandomSearch" / "BBOB" / "bbob" / "2" / "1" / "0" / "1"
    >>> (run / ".hydra").mkdir(parents=True)
    >>> _ = (run / ".hydra" / "config.yaml").write_text(
    ...     "seed: 1\\ntask_id: ${task.name}\\noptimizer_id: RandomSearch\\ntask:\\n  name: bbob/2/1/0\\n")
    >>> line = {"n_trials": 1, "n_function_calls": 1, "trial_info": {"config": [0.5, -1.5], "budget": None},
    ...         "trial_value": {"cost": -88.25, "time": 0.01, "virtual_time": 0.0, "status": 1}}
    >>> _ = (run / "trial_logs.jsonl").write_text(json.dumps(line) + "\\n")
    >>> df = import_carps(run.parents[6])
    >>> df[["task", "optimizer", "seed", "trial", "value", "config"]].values.tolist()
    [['carps/bbob/2/1/0', 'RandomSearch', 1, 0, -88.25, '[0.5, -1.5]']]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeGuard

import numpy as np
import pandas as pd
import yaml
from omegaconf import DictConfig, ListConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from analysis.cli_parser import OneLineParser
from bench.config_files import yaml_problem
from bench.results import CATEGORICAL_COLUMNS, encode_objectives
from tasks.base import Objective
from tasks.vocabulary import TASK_KINDS

#: The file carps' ``FileLogger`` appends one line to per call of the objective function.
TRIAL_LOG = "trial_logs.jsonl"
#: The Hydra config saved beside it.
HYDRA_CONFIG = Path(".hydra") / "config.yaml"
#: Prefix of an imported task id: carps' task ids are not this project's.
TASK_PREFIX = "carps/"
#: carps' ``StatusType`` (``carps/utils/trials.py``): its values, as logged, and names.
STATUS_NAMES: dict[int, str] = {0: "RUNNING", 1: "SUCCESS", 2: "CRASHED", 3: "TIMEOUT", 4: "MEMORYOUT"}
SUCCESS = 1
#: ``run_status`` of a run whose log ends before its ``n_trials`` budget.
TRUNCATED_STATUS = "died"
#: Relative slack when comparing the fractional ``n_trials`` of a multi-fidelity run with its budget.
_BUDGET_SLACK = 1e-9


@dataclass(frozen=True)
class CarpsImport:
    """An imported carps folder: the trials frame and what did not become a trial row.

    Attributes:
        trials: the long results frame (docs/results-schema.md), one row per successful call.
        folder: the imported folder.
        n_runs: runs with a trial log (those without a successful call included).
        dropped: carps status name (``CRASHED``, ..., ``NONFINITE`` for a success with a
            non-finite cost) -> calls dropped for it.
        runs_without_trials: ``(task, optimizer, seed)`` of runs that left no trial row.
        truncated_runs: runs whose log ends before their ``n_trials`` budget (``run_status``
            ``died``).
    """

    trials: pd.DataFrame
    folder: Path
    n_runs: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    runs_without_trials: list[tuple[str, str, int]] = field(default_factory=list)
    truncated_runs: int = 0

    def summary(self) -> str:
        """One line for the command line.

        Example:
            >>> frame = pd.DataFrame({"task": ["a", "b"], "optimizer": ["x", "x"]})
            >>> CarpsImport(frame, Path("logs"), 3, {"CRASHED": 2}, [("c", "x", 1)], 1).summary().split("; ")
            ... # doctest: +NORMALIZE_WHITESPACE
            ['imported 2 trials of 3 carps runs (2 tasks, 1 optimizer) from logs', 'dropped 2 CRASHED calls',
             '1 run without a successful call', '1 run truncated before its budget (run_status died)']
        """
        df = self.trials
        n_tasks, n_opt = df["task"].nunique(), df["optimizer"].nunique()
        line = (
            f"imported {len(df)} trial{'' if len(df) == 1 else 's'} of {self.n_runs} carps run"
            f"{'' if self.n_runs == 1 else 's'} ({n_tasks} task{'' if n_tasks == 1 else 's'}, {n_opt} "
            f"optimizer{'' if n_opt == 1 else 's'}) from {self.folder}"
        )
        if self.dropped:
            line += "; dropped " + ", ".join(
                f"{n} {s} call{'' if n == 1 else 's'}" for s, n in self.dropped.items()
            )
        if self.runs_without_trials:
            n = len(self.runs_without_trials)
            line += f"; {n} run{'' if n == 1 else 's'} without a successful call"
        if self.truncated_runs:
            n = self.truncated_runs
            line += f"; {n} run{'' if n == 1 else 's'} truncated before {'its' if n == 1 else 'their'} budget"
            line += f" (run_status {TRUNCATED_STATUS})"
        return line


@dataclass(frozen=True)
class _RunConfig:
    """What one run's Hydra config says."""

    task: str
    optimizer: str
    seed: int
    objective_names: list[str] | None
    n_objectives: int | None
    multi_fidelity: bool | None
    n_trials: float | None
    task_kind: str
    hyperparameters: list[str] | None


def _select(cfg: DictConfig, key: str, where: Path) -> Any:
    """A config value, interpolations resolved (``task_id: ${task.name}``); ``None`` when absent."""
    # Only the keys read here are resolved: others may need Hydra's resolvers (``${now:...}``).
    try:
        value = OmegaConf.select(cfg, key, throw_on_resolution_failure=True)
        if isinstance(value, DictConfig | ListConfig):
            return OmegaConf.to_container(value, resolve=True)
    except OmegaConfBaseException as exc:
        raise ValueError(f"{where}: cannot resolve {key!r}: {' '.join(str(exc).split())}") from exc
    return value


def _hyperparameters(space: Any) -> list[str] | None:
    """Names in the order carps logs the values of an unconditional space; ``None`` for a conditional one."""
    if not isinstance(space, Mapping):
        return None
    d = space.get("d", space)  # the serialized dict, under the `d` argument of from_serialized_dict
    if not isinstance(d, Mapping) or not isinstance(d.get("hyperparameters"), list):
        return None
    if d.get("conditions"):
        return None
    names = [h.get("name") for h in d["hyperparameters"] if isinstance(h, Mapping)]
    if not all(isinstance(n, str) for n in names):
        return None
    strings = [str(n) for n in names]
    # ConfigSpace (1.x, which carps requires) orders an unconditional space by name, whatever order
    # the YAML lists it in, and `dict(config)` iterates in that order.
    return sorted(strings)


def _read_config(path: Path) -> _RunConfig:
    try:
        cfg = OmegaConf.load(path)
    except yaml.YAMLError as exc:  # not a ValueError: it escaped as a traceback
        raise ValueError(yaml_problem(exc, str(path))) from exc
    except (OSError, ValueError, OmegaConfBaseException) as exc:
        raise ValueError(f"{path}: not a readable Hydra config: {' '.join(str(exc).split())}") from exc
    if not isinstance(cfg, DictConfig):
        raise ValueError(f"{path}: not a carps run config (a YAML mapping with task_id, optimizer_id, seed)")
    # carps < 1.0 called the task a problem (its own gathering renames problem_id to task_id).
    task = _select(cfg, "task_id", path) or _select(cfg, "problem_id", path)
    optimizer = _select(cfg, "optimizer_id", path)
    seed = _select(cfg, "seed", path)
    missing = [k for k, v in (("task_id", task), ("optimizer_id", optimizer), ("seed", seed)) if v is None]
    if missing:
        raise ValueError(f"{path}: not a carps run config: no {', '.join(missing)}")
    try:
        seed_int = int(seed)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{path}: seed {seed!r} is not an integer") from exc
    names = _select(cfg, "task.output_space.objectives", path)
    n_obj = _select(cfg, "task.output_space.n_objectives", path)
    domain = _select(cfg, "task.metadata.domain", path)
    approximation = _select(cfg, "task.metadata.objective_function_approximation", path)
    kind = (
        "synthetic"
        if domain == "synthetic"
        else str(approximation)
        if approximation in TASK_KINDS
        else "unknown"
    )
    n_trials = _select(cfg, "task.optimization_resources.n_trials", path)
    mf = _select(cfg, "task.input_space.fidelity_space.is_multifidelity", path)
    return _RunConfig(
        task=TASK_PREFIX + str(task),
        optimizer=str(optimizer),
        seed=seed_int,
        objective_names=[str(n) for n in names] if isinstance(names, list) else None,
        n_objectives=int(n_obj) if n_obj is not None else None,
        multi_fidelity=bool(mf) if mf is not None else None,
        n_trials=float(n_trials) if n_trials is not None else None,
        task_kind=kind,
        hyperparameters=_hyperparameters(_select(cfg, "task.input_space.configuration_space", path)),
    )


def _number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _status(value: Any) -> str:
    """A logged status as carps' name: an int, or a name (``SUCCESS``, ``StatusType.SUCCESS``)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return STATUS_NAMES.get(value, str(value))
    if isinstance(value, str):
        return value.rsplit(".", 1)[-1].upper()
    raise ValueError(f"status {value!r} is neither a StatusType number nor a name")


@dataclass
class _Run:
    """The parsed lines of one trial log (all calls, failed ones included)."""

    calls: list[int] = field(default_factory=list)
    n_trials: list[float] = field(default_factory=list)
    costs: list[list[float]] = field(default_factory=list)
    ok: list[bool] = field(default_factory=list)
    status: list[str] = field(default_factory=list)
    budget: list[float] = field(default_factory=list)
    time: list[float] = field(default_factory=list)
    virtual_time: list[float] = field(default_factory=list)
    start: list[float] = field(default_factory=list)
    end: list[float] = field(default_factory=list)
    config: list[Any] = field(default_factory=list)


def _parse_line(text: str, where: str, run: _Run) -> None:
    try:
        rec = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"{where}: not JSON: {exc}") from exc
    if not (
        isinstance(rec, dict)
        and isinstance(rec.get("trial_info"), dict)
        and isinstance(rec.get("trial_value"), dict)
    ):
        raise ValueError(
            f"{where}: not a carps trial log line (an object with n_trials, trial_info, trial_value)"
        )
    info, value = rec["trial_info"], rec["trial_value"]
    n_trials, calls = rec.get("n_trials"), rec.get("n_function_calls", len(run.calls) + 1)
    if not _number(n_trials) or not isinstance(calls, int) or isinstance(calls, bool):
        raise ValueError(f"{where}: n_trials {n_trials!r} or n_function_calls {calls!r} is not a number")
    if run.calls and calls <= run.calls[-1]:
        raise ValueError(
            f"{where}: n_function_calls {calls} does not follow {run.calls[-1]} (two runs in one log?)"
        )
    cost = value.get("cost")
    costs = cost if isinstance(cost, list) else [cost]
    if not costs or not all(_number(c) for c in costs):
        raise ValueError(f"{where}: cost {cost!r} is neither a number nor a list of numbers")
    try:
        status = _status(value.get("status", SUCCESS))
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from exc
    budget = info.get("budget")
    if budget is not None and not _number(budget):
        raise ValueError(f"{where}: budget {budget!r} is not a number")
    seconds = [value.get(k, 0.0) for k in ("time", "virtual_time", "starttime", "endtime")]
    if not all(_number(s) for s in seconds):
        raise ValueError(f"{where}: time, virtual_time, starttime or endtime is not a number")
    config = info.get("config")
    if not isinstance(config, list | dict):
        raise ValueError(f"{where}: config {config!r} is neither a list of values nor a mapping")
    floats = [float(c) for c in costs]
    run.calls.append(calls)
    run.n_trials.append(float(n_trials))
    run.costs.append(floats)
    run.ok.append(status == STATUS_NAMES[SUCCESS] and all(math.isfinite(c) for c in floats))
    run.status.append(status if status != STATUS_NAMES[SUCCESS] else "NONFINITE")
    run.budget.append(float(budget) if budget is not None else math.nan)
    run.time.append(float(seconds[0]))
    run.virtual_time.append(float(seconds[1]))
    run.start.append(float(seconds[2]))
    run.end.append(float(seconds[3]))
    run.config.append(config)


def _read_log(path: Path) -> _Run:
    run = _Run()
    try:
        with path.open(encoding="utf-8") as f:
            for lineno, text in enumerate(f, 1):
                if text.strip():
                    _parse_line(text, f"{path}:{lineno}", run)
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: cannot read: {' '.join(str(exc).split())}") from exc
    return run


def _config_json(config: Any, names: list[str] | None) -> str:
    if isinstance(config, list) and names is not None and len(names) == len(config):
        config = dict(zip(names, config, strict=True))
    return json.dumps(config, default=str)


def _frame(run: _Run, cfg: _RunConfig, study: str, log: Path, optima: Mapping[str, float]) -> pd.DataFrame:
    """The trial rows of one run (successful calls only)."""
    keep = np.asarray(run.ok, dtype=bool)
    widths = {len(c) for c, k in zip(run.costs, run.ok, strict=True) if k}
    if len(widths) > 1 or (cfg.n_objectives is not None and widths and widths != {cfg.n_objectives}):
        expected = cfg.n_objectives if cfg.n_objectives is not None else min(widths)
        line = 1 + next(i for i, c in enumerate(run.costs) if len(c) != expected and run.ok[i])
        raise ValueError(
            f"{log}:{line}: {len(run.costs[line - 1])} cost values where the task has {expected} objectives"
        )
    n_obj = cfg.n_objectives or (widths.pop() if widths else 1)
    names = cfg.objective_names if cfg.objective_names and len(cfg.objective_names) == n_obj else None
    if names is None:
        names = ["cost"] if n_obj == 1 else [f"cost_{i}" for i in range(n_obj)]
    budgets = np.asarray(run.budget)
    multi_fidelity = (
        cfg.multi_fidelity if cfg.multi_fidelity is not None else bool(np.isfinite(budgets).any())
    )
    task_type = ("mfmo" if n_obj > 1 else "mf") if multi_fidelity else ("mo" if n_obj > 1 else "bb")
    seconds = np.where(np.asarray(run.virtual_time) > 0, run.virtual_time, run.time)
    start, end = np.asarray(run.start), np.asarray(run.end)
    clocked = start[start > 0]
    # carps logs the clock where the objective function set it (starttime 0 where it did not).
    wall = end - clocked.min() if len(clocked) and (end[keep] > 0).all() else np.cumsum(run.time)
    done = run.n_trials[-1] if run.n_trials else 0.0
    finished = cfg.n_trials is None or done >= cfg.n_trials * (1 - _BUDGET_SLACK)
    rows = np.flatnonzero(keep)
    values = [run.costs[i] for i in rows]
    return pd.DataFrame(
        {
            "study": study,
            "run_id": f"{cfg.task.replace('/', '__')}--{cfg.optimizer}--s{cfg.seed}",
            "task": cfg.task,
            "family": cfg.task.split("/")[0],
            "task_type": task_type,
            "task_kind": cfg.task_kind,
            "optimizer": cfg.optimizer,
            "seed": np.full(len(rows), cfg.seed, dtype=np.int64),
            "trial": np.asarray(run.calls, dtype=np.int64)[rows] - 1,
            "config": [_config_json(run.config[i], cfg.hyperparameters) for i in rows],
            "fidelity": budgets[rows],
            "value": np.asarray([v[0] for v in values], dtype=np.float64),
            "values": values,
            "cost": seconds[rows],
            "budget_used": np.asarray(run.n_trials)[rows],
            "sim_time": np.cumsum(seconds)[rows],
            "wall_time": np.asarray(wall, dtype=np.float64)[rows],
            "eval_time": np.asarray(run.time)[rows],
            "optimum": float(optima.get(cfg.task, math.nan)),
            "minimize": True,
            "objectives": encode_objectives([Objective(n) for n in names]),
            "run_status": "ok" if finished else TRUNCATED_STATUS,
        }
    )


def trial_logs(path: str | Path) -> list[Path]:
    """The carps trial logs under ``path`` (a folder of runs, one run folder, or one log), sorted.

    Example:
        >>> trial_logs("no/such/folder")
        Traceback (most recent call last):
        ...
        ValueError: no/such/folder: no such file or folder
    """
    root = Path(path)
    if root.is_file():
        if root.name != TRIAL_LOG:
            raise ValueError(f"{root}: not a carps trial log (carps' FileLogger writes {TRIAL_LOG})")
        return [root]
    if not root.is_dir():
        raise ValueError(f"{root}: no such file or folder")
    logs = sorted(root.rglob(TRIAL_LOG))
    if not logs:
        raise ValueError(
            f"{root}: not a carps folder: no {TRIAL_LOG} under it (carps' FileLogger writes one per run, "
            f"beside the run's {HYDRA_CONFIG})"
        )
    return logs


def read_carps(path: str | Path, optima: Mapping[str, float] | None = None) -> CarpsImport:
    """Read a folder of carps run logs: the trials frame and the counts of what was left out.

    Args:
        path: a folder holding carps run folders at any depth (each with ``trial_logs.jsonl``
            and ``.hydra/config.yaml``), one run folder, or one ``trial_logs.jsonl``.
        optima: known optimum (minimized cost) per imported task id (``carps/<task_id>``), for
            the ``optimum`` column; carps does not log it.

    Returns:
        A :class:`CarpsImport`. Bad input raises ``ValueError`` with one line naming the file
        (and the line of a bad log line).

    Example:
        >>> read_carps("no/such/folder")
        Traceback (most recent call last):
        ...
        ValueError: no/such/folder: no such file or folder
    """
    logs = trial_logs(path)
    root = Path(path)
    study = (root if root.is_dir() else root.parent).resolve().name or "carps"
    frames: list[pd.DataFrame] = []
    seen: dict[tuple[str, str, int], Path] = {}
    dropped: Counter[str] = Counter()
    empty: list[tuple[str, str, int]] = []
    truncated = 0
    for log in logs:
        config = log.parent / HYDRA_CONFIG
        if not config.is_file():
            raise ValueError(
                f"{log}: no {HYDRA_CONFIG} beside it; carps' run folders hold the run's Hydra config"
            )
        cfg = _read_config(config)
        key = (cfg.task, cfg.optimizer, cfg.seed)
        if key in seen:
            raise ValueError(
                f"{log}: a second run of task {cfg.task!r}, optimizer {cfg.optimizer!r}, seed {cfg.seed} "
                f"(the first is {seen[key]}); import one run per task, optimizer and seed"
            )
        seen[key] = log
        run = _read_log(log)
        dropped.update(s for s, ok in zip(run.status, run.ok, strict=True) if not ok)
        frame = _frame(run, cfg, study, log, optima or {})
        if len(frame) == 0:
            empty.append(key)
            continue
        truncated += int(frame["run_status"].iloc[0] != "ok")
        frames.append(frame)
    trials = (
        pd.concat(frames, ignore_index=True) if frames else _frame(_Run(), _empty_config(), study, Path(), {})
    )
    trials = trials.sort_values(["task", "optimizer", "seed", "trial"], kind="stable", ignore_index=True)
    for column in CATEGORICAL_COLUMNS:
        trials[column] = trials[column].astype("category")
    return CarpsImport(
        trials=trials,
        folder=root,
        n_runs=len(logs),
        dropped=dict(sorted(dropped.items())),
        runs_without_trials=empty,
        truncated_runs=truncated,
    )


def _empty_config() -> _RunConfig:
    return _RunConfig("carps/none", "none", 0, None, 1, False, None, "unknown", None)


def import_carps(path: str | Path, optima: Mapping[str, float] | None = None) -> pd.DataFrame:
    """A folder of carps run logs as the long results frame, one row per successful call (module docstring).

    Args:
        path: a folder of carps run folders (at any depth), one run folder, or one ``trial_logs.jsonl``.
        optima: known optimum per imported task id (``carps/<task_id>``); NaN for the others.

    Returns:
        The trials frame, with every column of docs/results-schema.md; ``analysis.report`` takes it.

    Example:
        >>> import_carps("no/such/folder")
        Traceback (most recent call last):
        ...
        ValueError: no/such/folder: no such file or folder
    """
    return read_carps(path, optima).trials


def _parser() -> argparse.ArgumentParser:
    p = OneLineParser(
        prog="python -m analysis import-carps",
        description="Read carps run logs (trial_logs.jsonl and .hydra/config.yaml per run) as a results "
        "frame and write it to a parquet file, which 'python -m analysis report FILE' reports on.",
    )
    p.add_argument("logs", help="a folder of carps run folders, one run folder, or one trial_logs.jsonl")
    p.add_argument(
        "--out",
        default=None,
        metavar="FILE.parquet",
        help="write the trials here (default: check and count only)",
    )
    p.add_argument(
        "--optima",
        default=None,
        metavar="JSON",
        help='a JSON file {"carps/<task_id>": optimum, ...} of known optima (carps does not log them)',
    )
    return p


#: What ``--optima`` must hold, for its messages.
_OPTIMA_FORMAT = 'a JSON object {"carps/<task_id>": optimum, ...}'


def _read_optima(given: str) -> dict[str, float]:
    """The ``--optima`` file's task id -> optimum; every problem is one line naming the file.

    Example:
        >>> _read_optima("no/such.json")
        Traceback (most recent call last):
        ...
        ValueError: --optima no/such.json cannot be read: No such file or directory; give \
a JSON object {"carps/<task_id>": optimum, ...}
    """
    try:
        raw = json.loads(Path(given).read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"--optima {given} is not JSON (line {exc.lineno} column {exc.colno}: {exc.msg}); "
            f"give {_OPTIMA_FORMAT}"
        ) from exc
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not UTF-8 text"
        raise ValueError(f"--optima {given} cannot be read: {why}; give {_OPTIMA_FORMAT}") from exc
    if not isinstance(raw, dict) or not all(_number(v) for v in raw.values()):
        raise ValueError(f"--optima {given}: not {_OPTIMA_FORMAT} of numbers")
    return {str(k): float(v) for k, v in raw.items()}


def main_import_carps(argv: Sequence[str] | None = None) -> int:
    """The command ``python -m analysis import-carps LOGS [--out FILE.parquet] [--optima JSON]``; its status.

    Example:
        >>> main_import_carps(["no/such/folder"])  # one "error:" line on stderr
        2
    """
    args = _parser().parse_args(sys.argv[1:] if argv is None else list(argv))
    try:
        if args.out and Path(args.out).suffix != ".parquet":
            raise ValueError(f"--out {args.out}: name a .parquet file (the report reads it)")
        optima: dict[str, float] = {}
        if args.optima:
            optima = _read_optima(args.optima)
        result = read_carps(args.logs, optima)
        if len(result.trials) == 0:
            raise ValueError(f"{args.logs}: the carps runs left no successful call to import")
        if args.out:
            result.trials.to_parquet(args.out, index=False)
    except (OSError, ValueError) as exc:
        print(f"error: {' '.join(str(exc).split()) or type(exc).__name__}", file=sys.stderr)
        return 2
    print(result.summary())
    print(f"report with: python -m analysis report {args.out}" if args.out else "nothing written (no --out)")
    return 0
