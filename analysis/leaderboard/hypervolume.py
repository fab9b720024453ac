"""Hypervolume of multi-objective runs (moocore), HV regret over budget.

Convention (docs/analysis.md): on each multi-objective task every objective is
oriented for minimization and min-max normalized over *all* evaluations of the
study on that task (full fidelity only on multi-fidelity tasks), so the union
of all points lies in ``[0, 1]^m``; the reference point is ``REF`` (1.1) in every
dimension. The HV regret of a run is ``(HV* - HV_run) / HV*`` where ``HV*`` is
the hypervolume of the union of all runs' points on the task (the study's
reference front). It lies in ``[0, 1]``, lower is better, and plugs into the
ranking machinery of :mod:`analysis.leaderboard.stats` unchanged.

Example:
    >>> from analysis.synthetic import synthetic_results
    >>> df = synthetic_results(n_tasks=2, n_optimizers=2, n_seeds=2, n_trials=10, task_types=("mo",))
    >>> runs = hv_runs(df)
    >>> bool(runs["final_hv_regret"].between(0, 1).all())
    True
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from itertools import pairwise
from typing import Any

import numpy as np
import pandas as pd

from analysis.leaderboard.anytime import Curves, resample
from analysis.normalize import SINGLE_OBJECTIVE_TYPES, Prepared, prepare
from bench.results import decode_objectives
from tasks.base import Objective

#: Reference point coordinate after min-max normalization.
REF = 1.1


def _hypervolume(points: np.ndarray, ref: np.ndarray) -> float:
    import moocore

    inside = points[np.all(points < ref, axis=1)]
    if len(inside) == 0:
        return 0.0
    return float(moocore.hypervolume(inside, ref=ref))


def _labels(col: pd.Series, rows: np.ndarray) -> np.ndarray:
    """String labels of a categorical column at ``rows`` (no per-row work elsewhere)."""
    return np.asarray(col.cat.categories.astype(str))[col.cat.codes.to_numpy()[rows]]


def objective_directions(frame: pd.DataFrame | None) -> dict[str, tuple[bool, ...]]:
    """Per task, the ``minimize`` flag of every objective, as the results record them.

    Reads the ``objectives`` column of the long results frame (``bench.results.load``: one
    JSON list of ``{name, minimize}`` per run), or, for a frame of run metadata
    (``bench.results.load_runs``), the ``objectives`` list of each run's ``meta`` (or an
    ``objectives`` column of such lists). Runs that record none add nothing; two runs of one
    task that disagree raise ``ValueError``.

    Example:
        >>> meta = pd.DataFrame({"meta": [{"spec": {"task": "yahpo/lcbench/3945"},
        ...     "objectives": [{"name": "val_accuracy", "minimize": False},
        ...                    {"name": "time", "minimize": True}]}]})
        >>> objective_directions(meta)
        {'yahpo/lcbench/3945': (False, True)}
    """
    out: dict[str, tuple[bool, ...]] = {}
    if frame is None or len(frame) == 0:
        return out
    if {"task", "objectives"} <= set(frame.columns) and "meta" not in frame.columns:
        # A trials frame repeats one value per run on every row: read each distinct pair once.
        with contextlib.suppress(TypeError):  # lists of records (run metadata) are not hashable
            frame = frame[["task", "objectives"]].drop_duplicates()
    n = len(frame)
    metas = list(frame["meta"]) if "meta" in frame.columns else [None] * n
    objs = list(frame["objectives"]) if "objectives" in frame.columns else [None] * n
    tasks = list(frame["task"]) if "task" in frame.columns else [None] * n
    for meta, obj, task in zip(metas, objs, tasks, strict=True):
        m = meta if isinstance(meta, Mapping) else {}
        obj = m.get("objectives") if obj is None or isinstance(obj, float) else obj  # NaN: none
        task = task if isinstance(task, str) else (m.get("spec") or {}).get("task")
        if not task or not obj:
            continue
        dirs = tuple(o.minimize for o in _decode(obj, task))
        if out.setdefault(str(task), dirs) != dirs:
            raise ValueError(
                f"runs of task {task!r} disagree on the directions of its objectives: "
                f"minimize {out[str(task)]} and {dirs}"
            )
    return out


def _decode(value: Any, task: object) -> tuple[Objective, ...]:
    try:
        return decode_objectives(value)
    except (ValueError, TypeError) as exc:
        raise ValueError(
            f"objectives of task {task!r} are {value!r}; expected a list of {{name, minimize}} records"
        ) from exc


def objective_signs(df: pd.DataFrame, rows: np.ndarray, width: int) -> np.ndarray:
    """``+1`` (minimized) or ``-1`` (maximized) for each objective of the rows ``rows`` of ``df``
    (positions), as its ``objectives`` column says; shape ``(len(rows), width)``, ``+1`` past a
    row's last objective. Multiplying ``values`` by it orients every objective for minimization.

    Raises ``ValueError`` when the frame or a row does not say: a direction is never guessed.

    Example:
        >>> df = pd.DataFrame({"objectives": ['[{"name": "loss", "minimize": true}, '
        ...                                   '{"name": "acc", "minimize": false}]']})
        >>> objective_signs(df, np.array([0]), 2).tolist()
        [[1.0, -1.0]]
    """
    return _objective_table(df, rows, width)[0]


def _objective_table(df: pd.DataFrame, rows: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`objective_signs` and the number of objectives each row declares (one decoding pass)."""
    if "objectives" not in df.columns:
        raise ValueError(
            "results frame lacks the 'objectives' column (each objective's name and "
            "direction, docs/results-schema.md) that multi-objective tasks need; "
            "bench.results.load adds it, a frame built by hand must carry it"
        )
    codes, labels = pd.factorize(df["objectives"].iloc[rows])
    if (codes < 0).any():
        task = df["task"].iloc[rows[np.flatnonzero(codes < 0)[0]]] if "task" in df.columns else "?"
        raise ValueError(f"rows of task {str(task)!r} have no 'objectives': their directions are unknown")
    table = np.ones((len(labels), width))
    n_obj = np.zeros(len(labels), dtype=np.int64)
    for i, label in enumerate(labels):
        objectives = _decode(label, "?")
        n_obj[i] = len(objectives)
        objectives = objectives[:width]
        table[i, : len(objectives)] = [1.0 if o.minimize else -1.0 for o in objectives]
    return table[codes], n_obj[codes]


def values_matrix(col: pd.Series) -> np.ndarray:
    """The ``values`` list column as a float matrix (ragged rows padded with NaN).

    Example:
        >>> values_matrix(pd.Series([[1.0, 2.0], [3.0]])).tolist()
        [[1.0, 2.0], [3.0, nan]]
    """
    rows = [np.asarray(v, dtype=np.float64).ravel() for v in col.tolist()]
    width = max((len(r) for r in rows), default=0)
    out = np.full((len(rows), width), np.nan)
    for i, r in enumerate(rows):
        out[i, : len(r)] = r
    return out


def _mo_rows(df: pd.DataFrame, prep: Prepared) -> tuple[np.ndarray, np.ndarray]:
    """Sorted-row positions of multi-objective trials and their oriented objective matrix."""
    if "values" not in df.columns:
        raise ValueError("results frame lacks the 'values' column needed for hypervolume")
    tt = prep.trials["task_type"].cat
    is_mo = ~np.asarray(tt.categories.isin(SINGLE_OBJECTIVE_TYPES))
    rows = np.flatnonzero(is_mo[tt.codes.to_numpy()])
    if len(rows) == 0:
        return rows, np.empty((0, 0))
    vals = values_matrix(df["values"].iloc[prep.source_rows[rows]])
    signs, n_obj = _objective_table(df, prep.source_rows[rows], vals.shape[1])
    vals *= signs
    # Tasks with fewer objectives than the widest one are NaN-padded; a constant 0 there keeps
    # their points valid and changes neither the normalization, HV regret nor IGD+.
    vals[np.arange(vals.shape[1])[None, :] >= n_obj[:, None]] = 0.0
    # Low-fidelity points are not points of the final front (see analysis.normalize).
    valid = np.isfinite(prep.trials["regret"].to_numpy()[rows]) & np.isfinite(vals).all(axis=1)
    vals[~valid] = np.nan
    return rows, vals


def normalized_values(df: pd.DataFrame, prep: Prepared | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The objective vectors of multi-objective trials, oriented and normalized as for hypervolume.

    Returns ``(rows, vals)``: ``rows`` are positions in ``prep.trials`` of the trials of
    multi-objective tasks, ``vals[i]`` the objective vector of trial ``rows[i]``, every objective
    oriented for minimization and min-max normalized over the task's valid points (so they lie in
    ``[0, 1]^m``). Rows that are not final-front candidates (a missing value, a low fidelity on a
    multi-fidelity task) are NaN. A task with fewer objectives than the widest task has 0 in the
    extra columns.

    Example:
        >>> from analysis.synthetic import synthetic_results
        >>> df = synthetic_results(n_tasks=1, n_optimizers=1, n_seeds=1, n_trials=5, task_types=("mo",))
        >>> rows, vals = normalized_values(df)
        >>> vals.shape, float(vals.min()), float(vals.max())
        ((5, 2), 0.0, 1.0)
    """
    prep = prep if prep is not None else prepare(df)
    rows, vals = _mo_rows(df, prep)
    if len(rows) == 0:
        return rows, vals
    task = _labels(prep.trials["task"], rows)
    for t in np.unique(task):
        sel = task == t
        v = vals[sel]
        ok = np.isfinite(v).all(axis=1)
        lo = np.nanmin(v[ok], axis=0) if ok.any() else np.zeros(v.shape[1])
        hi = np.nanmax(v[ok], axis=0) if ok.any() else np.ones(v.shape[1])
        span = np.where(hi > lo, hi - lo, 1.0)
        vals[sel] = (v - lo) / span
    return rows, vals


def _hv_per_trial(df: pd.DataFrame, prep: Prepared, ref: float) -> tuple[np.ndarray, pd.DataFrame]:
    """Running HV regret for every trial row (NaN outside MO tasks), and HV* per task."""
    rows, vals = normalized_values(df, prep)
    out = np.full(len(prep.trials), np.nan)
    if len(rows) == 0:
        return out, pd.DataFrame(columns=["hv_ref_front"])
    task = _labels(prep.trials["task"], rows)
    run = prep.trials["run"].to_numpy()[rows]
    ref_front: dict[str, float] = {}
    for t in np.unique(task):
        v = vals[task == t]
        ref_front[t] = _hypervolume(v[np.isfinite(v).all(axis=1)], np.full(v.shape[1], ref))
    # Running HV per run: recompute only when a new non-dominated point arrives.
    bounds = np.flatnonzero(np.r_[True, run[1:] != run[:-1], True])
    for a, b in pairwise(bounds):
        t = task[a]
        refp = np.full(vals.shape[1], ref)
        hv_star = ref_front[t]
        front = np.empty((0, vals.shape[1]))
        hv = 0.0
        for i in range(a, b):
            p = vals[i]
            if np.isfinite(p).all() and not np.any(np.all(front <= p, axis=1)):
                front = np.vstack([front[~np.all(p <= front, axis=1)], p])
                hv = _hypervolume(front, refp)
            out[rows[i]] = (hv_star - hv) / hv_star if hv_star > 0 else 0.0
    return out, pd.DataFrame({"hv_ref_front": pd.Series(ref_front)})


def hv_per_trial(df: pd.DataFrame, prep: Prepared | None = None, ref: float = REF) -> np.ndarray:
    """Running HV regret of every trial row of ``prep.trials`` (NaN outside multi-objective tasks).

    Example:
        >>> from analysis.synthetic import synthetic_results
        >>> df = synthetic_results(n_tasks=1, n_optimizers=1, n_seeds=1, n_trials=4, task_types=("mo",))
        >>> bool(np.all(np.diff(hv_per_trial(df)) <= 0))
        True
    """
    prep = prep if prep is not None else prepare(df)
    return _hv_per_trial(df, prep, ref)[0]


def hv_runs(
    df: pd.DataFrame,
    prep: Prepared | None = None,
    ref: float = REF,
    per_trial: np.ndarray | None = None,
) -> pd.DataFrame:
    """Final hypervolume regret of every multi-objective run.

    Args:
        df: the long results frame (needs ``values`` and ``objectives``, which says in which
            direction each objective goes).
        prep: its :func:`~analysis.normalize.prepare` result, if already computed.
        ref: reference point coordinate after normalization.
        per_trial: the result of :func:`hv_per_trial`, if already computed
            (it is the expensive part; curves and final values can share it).

    Returns:
        One row per MO run: task, family, task_type, optimizer, seed, run_status,
        n_trials, ``final_hv_regret``.
    """
    prep = prep if prep is not None else prepare(df)
    if per_trial is None:
        per_trial = hv_per_trial(df, prep, ref)
    last = prep.starts[1:] - 1
    runs = prep.runs.copy()
    runs["final_hv_regret"] = per_trial[last]
    runs = runs[np.isfinite(runs["final_hv_regret"].to_numpy())]
    cols = ["task", "family", "task_type", "optimizer", "seed", "run_status", "n_trials", "final_hv_regret"]
    return runs[cols]


def hv_curves(
    df: pd.DataFrame,
    prep: Prepared | None = None,
    x: str = "trials",
    grid: np.ndarray | None = None,
    ref: float = REF,
    per_trial: np.ndarray | None = None,
) -> Curves | None:
    """HV regret of every multi-objective run on a common budget grid (None without MO runs).

    Example:
        >>> from analysis.synthetic import synthetic_results
        >>> df = synthetic_results(n_tasks=1, n_optimizers=2, n_seeds=1, n_trials=6, task_types=("mfmo",))
        >>> hv_curves(df, x="budget_used").values.shape[0]
        2
    """
    prep = prep if prep is not None else prepare(df)
    if per_trial is None:
        per_trial = hv_per_trial(df, prep, ref)
    mo_runs = np.isfinite(per_trial[prep.starts[1:] - 1])
    if not mo_runs.any():
        return None
    curves = resample(prep, x=x, grid=grid, per_trial=per_trial, value_name="hv_regret")
    return Curves(
        curves.grid,
        curves.values[mo_runs],
        curves.runs[mo_runs].reset_index(drop=True),
        x,
        "hv_regret",
        curves.log_grid,
    )
