"""Per-task normalized regret, incumbent trajectories and run bookkeeping.

Every analysis starts here: :func:`prepare` turns the long results DataFrame
(docs/results-schema.md, one row per trial) into a :class:`Prepared` bundle of
sorted, compact arrays that the other modules share, so a 10^7-row study is
scanned once.

Conventions (documented in docs/analysis.md):

* Costs are minimized. A maximized objective (``minimize`` False) is negated,
  and so is its known optimum, before anything is compared.
* Normalized regret of a cost ``c`` on a task is ``(c - lower) / (upper - lower)``
  where ``lower`` is the task's known optimum (``optimum`` column) when it has
  one and otherwise the best cost seen by any run of the study on that task,
  and ``upper`` is the worst cost seen by any run of the study on that task
  (min-max). Values are clipped at 0 below, so regret lies in ``[0, 1]``.
* The log-scale variant is ``log10(max(regret, LOG_FLOOR))``.
* On multi-fidelity tasks only evaluations at the task's highest fidelity can
  become the incumbent (``full_fidelity_only=True``), because a low-fidelity
  score is not a score of the final model.
* A run with no incumbent yet (or ever) counts as regret 1, the worst value
  seen on the task.

Example:
    >>> from analysis.synthetic import synthetic_results
    >>> prep = prepare(synthetic_results(n_tasks=3, n_optimizers=2, n_seeds=2, n_trials=5))
    >>> len(prep.runs), bool(prep.runs["final_regret"].between(0, 1).all())
    (12, True)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from tasks.vocabulary import MULTI_OBJECTIVE_TYPES, TASK_TYPES

#: Columns every analysis needs; the rest of the schema is optional here.
REQUIRED_COLUMNS: tuple[str, ...] = (
    "task",
    "optimizer",
    "seed",
    "trial",
    "value",
    "minimize",
    "optimum",
    "run_status",
)
#: Budget axes a trajectory can be resampled on.
BUDGET_AXES: tuple[str, ...] = ("trials", "budget_used", "sim_time", "wall_time")
#: Smallest regret shown on a log scale (below it, a run has effectively hit the optimum).
LOG_FLOOR = 1e-10
#: The task type of a run whose frame has no ``task_type`` (not a word of the catalog's: the
#: frame cannot say what the task asked of the optimizer).
UNTYPED = "unknown"
#: Task types whose first objective is the score (the rest are ranked on hypervolume); an untyped
#: run counts as single-objective.
SINGLE_OBJECTIVE_TYPES: tuple[str, ...] = (
    *(t for t in TASK_TYPES if t not in MULTI_OBJECTIVE_TYPES),
    UNTYPED,
)


def check_columns(df: pd.DataFrame, columns: tuple[str, ...] = REQUIRED_COLUMNS) -> None:
    """Raise ValueError naming the missing columns of a results frame.

    Example:
        >>> check_columns(pd.DataFrame({"task": []}), ("task", "value"))
        Traceback (most recent call last):
        ...
        ValueError: results frame lacks columns ['value']; required: ['task', 'value']
    """
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"results frame lacks columns {missing}; required: {list(columns)}")


def check_axis(x: str) -> str:
    """Validate a budget-axis name.

    Example:
        >>> check_axis("sim_time")
        'sim_time'
    """
    if x not in BUDGET_AXES:
        raise ValueError(f"unknown budget axis {x!r}; valid choices: {list(BUDGET_AXES)}")
    return x


#: What each budget axis measures, for messages about results that do not record it.
AXIS_MEANINGS: dict[str, str] = {
    "trials": "trial counts",
    "budget_used": "budget used (full-fidelity equivalents)",
    "sim_time": "simulated time",
    "wall_time": "wall-clock time",
}


def _unrecorded_tasks(df: pd.DataFrame, x: str) -> list[str]:
    """Tasks on which axis ``x`` has no finite value above 0: no budget to spread a curve over."""
    if x == "trials":  # counted by the loader, never missing
        return []
    tasks = df["task"].astype(str)
    if x not in df.columns:
        return sorted(tasks.unique())
    v = pd.to_numeric(df[x], errors="coerce").to_numpy(dtype=np.float64)
    recorded = pd.Series(np.isfinite(v) & (v > 0)).groupby(tasks.to_numpy()).any()
    return sorted(map(str, recorded.index[~recorded.to_numpy()]))


def check_axis_recorded(df: pd.DataFrame, x: str, option: str = "x") -> str:
    """Refuse a budget axis that is 0 or missing on every trial of some task of ``df``.

    bbob and synthetic tasks report no simulated cost, so their ``sim_time`` is 0 throughout:
    curves and profiles over it have no budget to stand on. The message names the axes these
    results do record; ``option`` is how the caller's user spelled the setting (``--x``).

    Example:
        >>> df = pd.DataFrame({"task": ["t", "t"], "sim_time": [0.0, 0.0], "wall_time": [0.1, 0.2]})
        >>> check_axis_recorded(df, "wall_time")
        'wall_time'
        >>> check_axis_recorded(df, "sim_time", "--x")
        Traceback (most recent call last):
        ...
        ValueError: --x sim_time: these results have no simulated time (sim_time is 0 or missing \
on every trial of every task); valid choices here: ['trials', 'wall_time']
    """
    check_axis(x)
    missing = _unrecorded_tasks(df, x)
    if not missing:
        return x
    n_tasks = df["task"].nunique()
    where = (
        "every task" if len(missing) == n_tasks else f"{len(missing)} of {n_tasks} tasks, e.g. {missing[0]!r}"
    )
    valid = [a for a in BUDGET_AXES if not _unrecorded_tasks(df, a)]
    raise ValueError(
        f"{option} {x}: these results have no {AXIS_MEANINGS[x]} ({x} is 0 or missing on every trial "
        f"of {where}); valid choices here: {valid}"
    )


@dataclass(frozen=True)
class Prepared:
    """A results frame, normalized once and shared by every analysis.

    Attributes:
        trials: one row per trial, sorted by run then trial. Columns: ``run``
            (dense int id), ``task``/``optimizer``/``family``/``task_type``
            (categorical), ``seed``, the budget axes, ``cost`` (oriented),
            ``regret`` (normalized, NaN where the trial cannot be an incumbent),
            ``incumbent`` (running best normalized regret, 1 before the first),
            ``gap`` (running best cost minus known optimum, NaN when unknown).
        runs: one row per run, indexed by ``run``: ``task``, ``family``,
            ``task_type``, ``optimizer``, ``seed``, ``run_status``, ``n_trials``,
            ``final_regret``, ``final_log_regret``, ``final_gap`` and the final
            value of each budget axis.
        bounds: per task (index): ``lower``, ``upper``, ``reference``
            (``"optimum"`` or ``"study_best"``), ``has_optimum``.
        starts: index of each run's first row in ``trials`` (length ``n_runs + 1``).
        source_rows: position in the input frame of each row of ``trials``.
    """

    trials: pd.DataFrame
    runs: pd.DataFrame
    bounds: pd.DataFrame
    starts: np.ndarray = field(repr=False)
    source_rows: np.ndarray = field(repr=False)

    @property
    def optimizers(self) -> list[str]:
        """Optimizer ids, sorted."""
        return sorted(self.runs["optimizer"].astype(str).unique())


def _codes(col: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Integer codes into sorted unique labels; cheap for categoricals (no string work per row)."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        cat = col.cat.remove_unused_categories()
        labels = cat.cat.categories.astype(str)
        order = np.argsort(np.asarray(labels), kind="stable")
        remap = np.empty(len(order), dtype=np.int64)
        remap[order] = np.arange(len(order))
        codes = cat.cat.codes.to_numpy()
        if (codes < 0).any():
            raise ValueError(f"column {col.name!r} has missing values; every trial row needs one")
        return remap[codes], pd.Index(np.asarray(labels)[order])
    codes, uniques = pd.factorize(col, sort=True)
    if (codes < 0).any():
        raise ValueError(f"column {col.name!r} has missing values; every trial row needs one")
    return codes.astype(np.int64), pd.Index(uniques)


def _as_bool(col: pd.Series) -> np.ndarray:
    return np.asarray(col.fillna(True).astype(bool), dtype=bool)


def prepare(df: pd.DataFrame, full_fidelity_only: bool = True) -> Prepared:
    """Normalize a results frame (see module docstring for the conventions).

    Args:
        df: the long results frame, one row per trial.
        full_fidelity_only: on tasks with a fidelity, only evaluations at the
            task's highest fidelity may become the incumbent.

    Returns:
        The :class:`Prepared` bundle.

    Example:
        >>> from analysis.synthetic import synthetic_results
        >>> p = prepare(synthetic_results(n_tasks=2, n_optimizers=2, n_seeds=1, n_trials=4))
        >>> list(p.bounds.columns)
        ['lower', 'upper', 'reference', 'has_optimum']
    """
    if isinstance(df, Prepared):
        return df
    check_columns(df)
    if len(df) == 0:
        raise ValueError("results frame has no trial rows; nothing to analyse")
    t_codes, tasks = _codes(df["task"])
    o_codes, optimizers = _codes(df["optimizer"])
    s_codes, seeds = _codes(df["seed"])
    trial = np.asarray(df["trial"], dtype=np.int64)
    key = (t_codes * len(optimizers) + o_codes) * len(seeds) + s_codes
    # The runner writes runs contiguously in trial order; only sort when it did not.
    if len(key) > 1 and not (
        np.all(key[1:] >= key[:-1]) and np.all((key[1:] != key[:-1]) | (trial[1:] > trial[:-1]))
    ):
        order = np.lexsort((trial, key))
    else:
        order = None

    def take(a: np.ndarray) -> np.ndarray:
        return a if order is None else a[order]

    key, t_codes, o_codes, s_codes, trial = map(take, (key, t_codes, o_codes, s_codes, trial))
    if order is not None:
        _check_one_run_per_key(key, trial, t_codes, o_codes, s_codes, tasks, optimizers, seeds)
    boundary = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    starts = np.r_[boundary, len(key)]
    n_runs = len(boundary)
    run = np.repeat(np.arange(n_runs), np.diff(starts))

    sign = np.where(take(_as_bool(df["minimize"])), 1.0, -1.0)
    cost = take(np.asarray(df["value"], dtype=np.float64)) * sign
    optimum = take(np.asarray(df["optimum"], dtype=np.float64)) * sign
    valid = np.isfinite(cost)
    if full_fidelity_only and "fidelity" in df.columns:
        fid = take(np.asarray(df["fidelity"], dtype=np.float64))
        if np.isfinite(fid).any():
            top = pd.Series(fid).groupby(t_codes).max().reindex(range(len(tasks))).to_numpy()
            top_row = top[t_codes]
            # NaN fidelity (no fidelity on this task) always counts.
            valid &= ~np.isfinite(fid) | (fid >= top_row * (1 - 1e-9))
    masked = np.where(valid, cost, np.nan)

    by_task = pd.DataFrame({"t": t_codes, "c": masked, "o": optimum}).groupby("t")
    lo_seen = by_task["c"].min().reindex(range(len(tasks))).to_numpy()
    hi_seen = by_task["c"].max().reindex(range(len(tasks))).to_numpy()
    opt_task = by_task["o"].first().reindex(range(len(tasks))).to_numpy()
    has_opt = np.isfinite(opt_task)
    lower = np.where(has_opt, opt_task, lo_seen)
    upper = np.fmax(hi_seen, lower)
    span = upper - lower
    span = np.where(np.isfinite(span) & (span > 0), span, 1.0)
    bounds = pd.DataFrame(
        {
            "lower": lower,
            "upper": upper,
            "reference": np.where(has_opt, "optimum", "study_best"),
            "has_optimum": has_opt,
        },
        index=pd.Index(tasks.astype(str), name="task"),
    )

    regret = np.clip((masked - lower[t_codes]) / span[t_codes], 0.0, None)
    best_cost = pd.Series(np.where(valid, cost, np.inf)).groupby(run, sort=False).cummin().to_numpy()
    incumbent = np.clip((best_cost - lower[t_codes]) / span[t_codes], 0.0, None)
    incumbent = np.where(np.isfinite(incumbent), np.minimum(incumbent, 1.0), 1.0)
    gap = np.where(has_opt[t_codes] & np.isfinite(best_cost), best_cost - opt_task[t_codes], np.nan)

    task_cat = pd.Categorical.from_codes(t_codes, categories=tasks.astype(str))
    opt_cat = pd.Categorical.from_codes(o_codes, categories=optimizers.astype(str))
    family = _category(df, "family", take, fallback=task_cat.map(lambda t: str(t).split("/")[0]))
    task_type = _category(df, "task_type", take, fallback=None)
    trials_cols: dict[str, Any] = {
        "run": run,
        "task": task_cat,
        "optimizer": opt_cat,
        "family": family,
        "task_type": task_type,
        "seed": np.asarray(seeds)[s_codes],
        "trials": (trial + 1).astype(np.float64),
    }
    for axis in BUDGET_AXES[1:]:
        trials_cols[axis] = (
            take(np.asarray(df[axis], dtype=np.float64)) if axis in df.columns else np.full(len(key), np.nan)
        )
    trials_cols.update(cost=cost, regret=regret, incumbent=incumbent, gap=gap)
    trials = pd.DataFrame(trials_cols)

    first, last = starts[:-1], starts[1:] - 1
    source = np.arange(len(key)) if order is None else order
    status = np.asarray(df["run_status"].iloc[source[first]].astype(str))
    runs = pd.DataFrame(
        {
            "task": task_cat[first],
            "family": family[first],
            "task_type": task_type[first],
            "optimizer": opt_cat[first],
            "seed": trials_cols["seed"][first],
            "run_status": status,
            "n_trials": np.diff(starts),
            "final_regret": incumbent[last],
            "final_log_regret": np.log10(np.maximum(incumbent[last], LOG_FLOOR)),
            "final_gap": gap[last],
            **{f"final_{a}": trials_cols[a][last] for a in BUDGET_AXES},
        },
        index=pd.RangeIndex(n_runs, name="run"),
    )
    return Prepared(trials=trials, runs=runs, bounds=bounds, starts=starts, source_rows=source)


def _check_one_run_per_key(
    key: np.ndarray,
    trial: np.ndarray,
    t_codes: np.ndarray,
    o_codes: np.ndarray,
    s_codes: np.ndarray,
    tasks: pd.Index,
    optimizers: pd.Index,
    seeds: pd.Index,
) -> None:
    """Refuse rows of two runs under one (task, optimizer, seed): they would be merged into one run.

    ``key`` and ``trial`` are sorted, so a repeated trial number within a key is a second run (of
    another study, budget or ``n_workers``); a run's own trial numbers never repeat.
    """
    dup = np.flatnonzero((key[1:] == key[:-1]) & (trial[1:] == trial[:-1]))
    if len(dup) == 0:
        return
    n_keys = len(np.unique(key[dup]))
    i = dup[0]
    raise ValueError(
        f"{n_keys} (task, optimizer, seed) run(s) occur more than once in the results (e.g. task "
        f"{tasks[t_codes[i]]!r}, optimizer {optimizers[o_codes[i]]!r}, seed {seeds[s_codes[i]]}), "
        "as when one frame holds several studies or n_workers settings: their trials would be merged "
        "into one run; analyse one study folder (one setting) at a time"
    )


def _category(df: pd.DataFrame, name: str, take: Any, fallback: Any) -> pd.Categorical:
    if name in df.columns:
        col = df[name]
        if col.isna().any():
            col = col.astype("object").fillna(UNTYPED)
        codes, uniques = _codes(col)
        return pd.Categorical.from_codes(take(codes), categories=uniques.astype(str))
    if fallback is not None:
        return pd.Categorical(fallback)
    codes = np.zeros(len(df), dtype=np.int64)
    return pd.Categorical.from_codes(codes, categories=[UNTYPED])


def as_prepared(data: pd.DataFrame | Prepared) -> Prepared:
    """Accept either a raw results frame or an already prepared bundle.

    Example:
        >>> from analysis.synthetic import synthetic_results
        >>> p = as_prepared(synthetic_results(n_tasks=1, n_optimizers=2, n_seeds=1, n_trials=3))
        >>> as_prepared(p) is p
        True
    """
    return data if isinstance(data, Prepared) else prepare(data)


def score_table(
    runs: pd.DataFrame, value: str = "final_regret", task_types: tuple[str, ...] | None = None
) -> pd.DataFrame:
    """Tasks x optimizers table of ``value`` averaged over seeds (NaN where no run).

    Args:
        runs: a per-run frame with ``task``, ``optimizer``, ``task_type`` and ``value``.
        value: the column to average.
        task_types: keep only these task types (None keeps all).

    Example:
        >>> runs = pd.DataFrame({"task": ["a", "a", "a"], "optimizer": ["x", "x", "y"],
        ...                      "task_type": "bb", "final_regret": [0.2, 0.4, 0.1]})
        >>> score_table(runs).round(2).to_dict()
        {'x': {'a': 0.3}, 'y': {'a': 0.1}}
    """
    if value not in runs.columns:
        raise ValueError(f"unknown score column {value!r}; valid choices: {list(runs.columns)}")
    sel = runs
    if task_types is not None:
        sel = runs[runs["task_type"].astype(str).isin(task_types)]
    table = (
        sel.assign(task=sel["task"].astype(str), optimizer=sel["optimizer"].astype(str))
        .pivot_table(index="task", columns="optimizer", values=value, aggfunc="mean", observed=True)
        .sort_index(axis=0)
        .sort_index(axis=1)
    )
    table.columns.name = "optimizer"
    return table


#: Columns of :attr:`Completeness.refused`.
REFUSED_COLUMNS: tuple[str, ...] = ("task", "optimizer", "reason", "task_type")


#: Columns of :attr:`Completeness.outcomes` (``refused`` only with a manifest).
OUTCOME_COLUMNS: tuple[str, ...] = (
    "expected",
    "complete",
    "failed_partial",
    "failed_no_trial",
    "missing",
    "refused",
)


@dataclass(frozen=True)
class Completeness:
    """Which runs of the expected grid are complete, failed or missing, and which pairs were refused.

    A run is *present* when it has trial rows, *complete* when it is present and its status is
    ``ok``. A *failed* run has a status other than ``ok`` (``crashed``, ``timeout``, ``died``) or
    no trial row at all: one that failed part-way keeps the trials it recorded (they are analysed,
    its incumbent frozen at the failure); one that failed before its first trial has no result
    and is not a run of its optimizer on that task for any statistic.

    Attributes:
        expected: size of the expected grid: the study manifest's planned runs
            when a manifest is given, otherwise every task x optimizer x seed seen.
        present: runs of that grid with at least one trial row (complete or failed part-way).
        missing: rows (task, optimizer, seed, task_type) of expected runs with no
            trial rows and no metadata.
        failed: rows (task, optimizer, seed, run_status, n_trials, task_type) of runs whose
            status is not ``ok`` or that have metadata but no trial row; ``n_trials`` is the
            number of trial rows the run left (0: failed before its first trial).
        by_optimizer: per optimizer: ``expected``, ``present``, ``missing``,
            ``failed`` and ``refused`` (task pairs the runner refused).
        refused: rows (task, optimizer, reason, task_type) of pairs the runner
            refused as incompatible; they were never meant to run, so they are not missing.
        unplanned: runs in the data that the manifest does not list (left over
            from an earlier plan of the study); they are still analysed.
        source: ``"manifest"`` or ``"grid"``, where ``expected`` comes from.
        complete: runs of the grid with trial rows and status ``ok``.
        outcomes: per optimizer, the columns of :data:`OUTCOME_COLUMNS`: ``expected``,
            ``complete``, ``failed_partial`` (failed after some trials), ``failed_no_trial``,
            ``missing`` and, with a manifest, ``refused``.
    """

    expected: int
    present: int
    missing: pd.DataFrame
    failed: pd.DataFrame
    by_optimizer: pd.DataFrame
    refused: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(REFUSED_COLUMNS)))
    unplanned: int = 0
    source: str = "grid"
    complete: int = 0
    outcomes: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(OUTCOME_COLUMNS[:-1])))

    @property
    def failed_no_trial(self) -> pd.DataFrame:
        """The failed runs that left no trial row (crashed, timed out or died before their first trial)."""
        if "n_trials" not in self.failed.columns:
            return self.failed
        return self.failed[self.failed["n_trials"] == 0]

    def summary(self) -> str:
        """One line for logs and reports.

        Example:
            >>> from analysis.synthetic import synthetic_results
            >>> completeness(synthetic_results(n_tasks=1, n_optimizers=2, n_seeds=1)).summary()
            '2 of 2 runs present; 0 missing; 0 failed'
        """
        line = f"{self.present} of {self.expected} runs present"
        if self.complete != self.present and len(self.failed):
            line += f", {self.complete} of them complete"
        line += f"; {len(self.missing)} missing; {len(self.failed)} failed"
        if len(self.failed):
            none = len(self.failed_no_trial)
            partial = len(self.failed) - none
            kinds = [f"{partial} part-way (trials kept)"] if partial else []
            kinds += [f"{none} before the first trial"] if none else []
            line += ": " + ", ".join(kinds)
        if self.source == "manifest":
            line += f"; refused: {len(self.refused)} pairs"
            if self.unplanned:
                line += f"; {self.unplanned} runs not in the study manifest"
        return line

    def refused_groups(self, max_tasks: int = 3) -> pd.DataFrame:
        """Refused pairs grouped by optimizer and reason: ``tasks`` (count) and ``examples``.

        Example:
            >>> c = Completeness(0, 0, pd.DataFrame(), pd.DataFrame(), pd.DataFrame(),
            ...     pd.DataFrame({"task": ["a", "b"], "optimizer": "hb", "reason": "no fidelity",
            ...                   "task_type": "bb"}), source="manifest")
            >>> c.refused_groups().to_dict("records")
            [{'optimizer': 'hb', 'reason': 'no fidelity', 'tasks': 2, 'examples': 'a, b'}]
        """
        cols = ["optimizer", "reason", "tasks", "examples"]
        if len(self.refused) == 0:
            return pd.DataFrame(columns=cols)
        rows = []
        for (opt, reason), g in self.refused.groupby(["optimizer", "reason"], sort=True):
            tasks = sorted(map(str, g["task"].unique()))
            more = f", ... ({len(tasks)} tasks)" if len(tasks) > max_tasks else ""
            rows.append([opt, reason, len(tasks), ", ".join(tasks[:max_tasks]) + more])
        return pd.DataFrame(rows, columns=cols)


_KEYS = ["task", "optimizer", "seed"]


def completeness(
    data: pd.DataFrame | Prepared,
    runs_meta: pd.DataFrame | None = None,
    manifest: Mapping[str, Any] | None = None,
) -> Completeness:
    """Count complete, failed and missing runs against the expected grid; list refused pairs.

    With a study ``manifest`` (``study.json``, see ``bench.results.read_manifest``)
    the expected grid is the runs it planned, and the task/optimizer pairs it
    refused as incompatible are reported apart: they are not missing runs.
    Without one, the grid is every task, optimizer and seed seen in the trial
    rows and in ``runs_meta`` (the per-run metadata of ``bench.results.load_runs``,
    which also lists runs that crashed, timed out or died before their first trial:
    those are failed runs, never present ones).

    Example:
        >>> from analysis.synthetic import synthetic_results
        >>> df = synthetic_results(n_tasks=2, n_optimizers=2, n_seeds=2)
        >>> c = completeness(df[df["run_id"] != df["run_id"].iloc[0]])
        >>> c.expected, len(c.missing)
        (8, 1)
    """
    prep = as_prepared(data)
    with_rows = prep.runs[[*_KEYS, "run_status", "n_trials"]].astype(
        {"task": str, "optimizer": str, "run_status": str, "seed": np.int64, "n_trials": np.int64}
    )
    types = task_types(prep, runs_meta)
    meta = _meta_runs(runs_meta)
    runs = with_rows[[*_KEYS, "run_status"]]
    if meta is not None:
        # Metadata is the authority on status; it also knows zero-trial runs.
        runs = pd.concat([meta, runs], ignore_index=True).drop_duplicates(_KEYS, keep="first")
        runs = runs.reset_index(drop=True)
    have = pd.MultiIndex.from_frame(runs[_KEYS])
    rows_idx = pd.MultiIndex.from_frame(with_rows[_KEYS])
    n_rows = pd.Series(with_rows["n_trials"].to_numpy(), index=rows_idx)
    runs = runs.assign(n_trials=n_rows.reindex(have).fillna(0).astype(np.int64).to_numpy())
    refused = pd.DataFrame(columns=list(REFUSED_COLUMNS))
    unplanned = 0
    if manifest is not None:
        grid = _manifest_grid(manifest)
        refused = _manifest_refused(manifest, types)
        unplanned = len(have.difference(grid))
        source = "manifest"
    else:
        grid = pd.MultiIndex.from_product([sorted(runs[k].unique()) for k in _KEYS], names=_KEYS)
        source = "grid"
    missing = grid.difference(have).to_frame(index=False)
    if len(missing) == 0:
        missing = pd.DataFrame(columns=_KEYS)
    # A run in the metadata with no trial rows is failed even if it says ok.
    no_rows = (runs["n_trials"] == 0).to_numpy()
    ok = (runs["run_status"] == "ok").to_numpy()
    failed = runs[~ok | no_rows].reset_index(drop=True)
    for frame in (missing, failed):
        frame["task_type"] = [types.get(str(t), UNTYPED) for t in frame["task"]]
    present_idx = rows_idx.intersection(grid)
    complete_idx = have[ok & ~no_rows].intersection(grid)
    opts = sorted(
        set(grid.get_level_values("optimizer")) | set(runs["optimizer"]) | set(refused["optimizer"])
    )
    by_opt = pd.DataFrame(index=pd.Index(opts, name="optimizer"))

    def per_opt(values: Any) -> np.ndarray:
        counts = pd.Series(np.asarray(values, dtype=object)).value_counts().reindex(opts, fill_value=0)
        return counts.to_numpy()

    by_opt["expected"] = per_opt(grid.get_level_values("optimizer"))
    by_opt["present"] = per_opt(present_idx.get_level_values("optimizer"))
    by_opt["missing"] = per_opt(missing["optimizer"])
    by_opt["failed"] = per_opt(failed["optimizer"])
    outcomes = by_opt[["expected"]].copy()
    outcomes["complete"] = per_opt(complete_idx.get_level_values("optimizer"))
    outcomes["failed_partial"] = per_opt(failed.loc[failed["n_trials"] > 0, "optimizer"])
    outcomes["failed_no_trial"] = per_opt(failed.loc[failed["n_trials"] == 0, "optimizer"])
    outcomes["missing"] = by_opt["missing"]
    if manifest is not None:
        by_opt["refused"] = per_opt(refused["optimizer"])
        outcomes["refused"] = by_opt["refused"]
    return Completeness(
        expected=len(grid),
        present=len(present_idx),
        missing=missing,
        failed=failed,
        by_optimizer=by_opt.astype(int),
        refused=refused,
        unplanned=unplanned,
        source=source,
        complete=len(complete_idx),
        outcomes=outcomes.astype(int),
    )


def _manifest_grid(manifest: Mapping[str, Any]) -> pd.MultiIndex:
    planned = manifest.get("runs")
    if not isinstance(planned, list):
        raise ValueError(
            f"study manifest 'runs' is {planned!r}; expected a list of {{task, optimizer, seed}} records"
        )
    try:
        keys = [(str(r["task"]), str(r["optimizer"]), int(r["seed"])) for r in planned]
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(
            f"study manifest run record lacks a valid task/optimizer/seed ({exc!r}); "
            "each record needs keys ['task', 'optimizer', 'seed']"
        ) from exc
    if not keys:
        return pd.MultiIndex.from_arrays([[], [], []], names=_KEYS)
    return pd.MultiIndex.from_tuples(sorted(set(keys)), names=_KEYS)


def _manifest_refused(manifest: Mapping[str, Any], types: Mapping[str, str]) -> pd.DataFrame:
    rows = [
        (str(r.get("task")), str(r.get("optimizer")), str(r.get("reason", "")))
        for r in manifest.get("refused") or []
        if isinstance(r, Mapping)
    ]
    out = pd.DataFrame(rows, columns=list(REFUSED_COLUMNS[:3]))
    out["task_type"] = [types.get(t, UNTYPED) for t in out["task"]]
    return out


def task_types(prep: Prepared, runs_meta: pd.DataFrame | None = None) -> dict[str, str]:
    """Task id -> task type, from the trial rows, else from run metadata (``task_meta``).

    Example:
        >>> from analysis.synthetic import synthetic_results
        >>> task_types(prepare(synthetic_results(n_tasks=2, n_optimizers=1, n_seeds=1,
        ...                                      task_types=("bb", "mo"))))
        {'bbob/f01/d02/i01': 'bb', 'synthetic/mo0001': 'mo'}
    """
    out: dict[str, str] = {}
    if runs_meta is not None and len(runs_meta) and "meta" in runs_meta.columns:
        for m in runs_meta["meta"]:
            if not isinstance(m, Mapping):
                continue
            task = (m.get("spec") or {}).get("task")
            ttype = (m.get("task_meta") or {}).get("type")
            if task and ttype:
                out[str(task)] = str(ttype)
    first = prep.runs.drop_duplicates("task")
    out.update(zip(first["task"].astype(str), first["task_type"].astype(str), strict=True))
    return dict(sorted(out.items()))


def _meta_runs(runs_meta: pd.DataFrame | None) -> pd.DataFrame | None:
    """Task/optimizer/seed/status rows from run metadata, or None if unusable."""
    if runs_meta is None or len(runs_meta) == 0:
        return None
    m = runs_meta.copy()
    if "spec" in m.columns:
        for key in ("task", "optimizer", "seed"):
            if key not in m.columns:
                m[key] = [s.get(key) if isinstance(s, dict) else None for s in m["spec"]]
    if "run_status" not in m.columns and "status" in m.columns:
        m["run_status"] = m["status"]
    if not {"task", "optimizer", "seed", "run_status"} <= set(m.columns):
        return None
    m = m[["task", "optimizer", "seed", "run_status"]].dropna(subset=["task", "optimizer", "seed"])
    return m.astype({"task": str, "optimizer": str, "run_status": str, "seed": np.int64})
