"""Hypervolume of multi-objective runs (moocore), HV regret over budget.

Convention (docs/analysis.md): on each multi-objective task every objective is
oriented for minimization and min-max normalized over *all* evaluations of the
study on that task (full fidelity only on multi-fidelity tasks), so the union
of all points lies in ``[0, 1]^m``; the reference point is ``REF`` (1.1) in every
dimension. The HV regret of a run is ``(HV* - HV_run) / HV*`` where ``HV*`` is
the hypervolume of the union of all runs' points on the task (the study's
reference front). It lies in ``[0, 1]``, lower is better, and plugs into the
ranking machinery of :mod:`analysis.stats` unchanged.

Example:
    >>> from analysis.synthetic import synthetic_results
    >>> df = synthetic_results(n_tasks=2, n_optimizers=2, n_seeds=2, n_trials=10, task_types=("mo",))
    >>> runs = hv_runs(df)
    >>> bool(runs["final_hv_regret"].between(0, 1).all())
    True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import pairwise

import numpy as np
import pandas as pd

from analysis.anytime import Curves, resample
from analysis.normalize import SINGLE_OBJECTIVE_TYPES, Prepared, prepare

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


def objective_directions(runs_meta: pd.DataFrame | None) -> dict[str, tuple[bool, ...]]:
    """Per task, the ``minimize`` flag of every objective, from run metadata.

    Reads the ``objectives`` list (``[{name, minimize}, ...]``) that the runner
    stores in each run's metadata (the ``meta`` dicts of
    ``bench.results.load_runs``, or an ``objectives`` column). Tasks without it
    are absent: their objectives count as minimized (the first follows the
    ``minimize`` column of the trials).

    Example:
        >>> meta = pd.DataFrame({"meta": [{"spec": {"task": "yahpo/lcbench/3945"},
        ...     "objectives": [{"name": "val_accuracy", "minimize": False},
        ...                    {"name": "time", "minimize": True}]}]})
        >>> objective_directions(meta)
        {'yahpo/lcbench/3945': (False, True)}
    """
    out: dict[str, tuple[bool, ...]] = {}
    if runs_meta is None or len(runs_meta) == 0:
        return out
    n = len(runs_meta)
    metas = list(runs_meta["meta"]) if "meta" in runs_meta.columns else [None] * n
    objs = list(runs_meta["objectives"]) if "objectives" in runs_meta.columns else [None] * n
    tasks = list(runs_meta["task"]) if "task" in runs_meta.columns else [None] * n
    for meta, obj, task in zip(metas, objs, tasks, strict=True):
        m = meta if isinstance(meta, Mapping) else {}
        obj = obj if isinstance(obj, Sequence) and not isinstance(obj, str) else m.get("objectives")
        task = task if isinstance(task, str) else (m.get("spec") or {}).get("task")
        if not task or not obj or str(task) in out:
            continue
        try:
            out[str(task)] = tuple(bool(o.get("minimize", True)) for o in obj)
        except AttributeError as exc:
            raise ValueError(
                f"objectives of task {task!r} are {obj!r}; expected a list of {{name, minimize}} records"
            ) from exc
    return out


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


def _mo_rows(
    df: pd.DataFrame, prep: Prepared, directions: Mapping[str, Sequence[bool]] | None
) -> tuple[np.ndarray, np.ndarray]:
    """Sorted-row positions of multi-objective trials and their oriented objective matrix."""
    if "values" not in df.columns:
        raise ValueError("results frame lacks the 'values' column needed for hypervolume")
    tt = prep.trials["task_type"].cat
    is_mo = ~np.asarray(tt.categories.isin(SINGLE_OBJECTIVE_TYPES))
    rows = np.flatnonzero(is_mo[tt.codes.to_numpy()])
    if len(rows) == 0:
        return rows, np.empty((0, 0))
    vals = values_matrix(df["values"].iloc[prep.source_rows[rows]])
    minimize = df["minimize"].iloc[prep.source_rows[rows]].fillna(True).astype(bool).to_numpy()
    vals[:, 0] = np.where(minimize, vals[:, 0], -vals[:, 0])
    if directions:
        tasks = _labels(prep.trials["task"], rows)
        for task, dirs in directions.items():
            sel = tasks == task
            sign = np.where(np.asarray(dirs, dtype=bool), 1.0, -1.0)[: vals.shape[1]]
            # The `minimize` column already oriented the first objective.
            sign[0] = 1.0
            vals[sel, : len(sign)] *= sign
    # Low-fidelity points are not points of the final front (see analysis.normalize).
    valid = np.isfinite(prep.trials["regret"].to_numpy()[rows]) & np.isfinite(vals).all(axis=1)
    vals[~valid] = np.nan
    return rows, vals


def _hv_per_trial(
    df: pd.DataFrame, prep: Prepared, directions: Mapping[str, Sequence[bool]] | None, ref: float
) -> tuple[np.ndarray, pd.DataFrame]:
    """Running HV regret for every trial row (NaN outside MO tasks), and HV* per task."""
    rows, vals = _mo_rows(df, prep, directions)
    out = np.full(len(prep.trials), np.nan)
    if len(rows) == 0:
        return out, pd.DataFrame(columns=["hv_ref_front"])
    task = _labels(prep.trials["task"], rows)
    run = prep.trials["run"].to_numpy()[rows]
    ref_front: dict[str, float] = {}
    for t in np.unique(task):
        sel = task == t
        v = vals[sel]
        ok = np.isfinite(v).all(axis=1)
        lo = np.nanmin(v[ok], axis=0) if ok.any() else np.zeros(v.shape[1])
        hi = np.nanmax(v[ok], axis=0) if ok.any() else np.ones(v.shape[1])
        span = np.where(hi > lo, hi - lo, 1.0)
        vals[sel] = (v - lo) / span
        refp = np.full(v.shape[1], ref)
        ref_front[t] = _hypervolume(vals[sel][ok], refp)
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


def hv_per_trial(
    df: pd.DataFrame,
    prep: Prepared | None = None,
    directions: Mapping[str, Sequence[bool]] | None = None,
    ref: float = REF,
) -> np.ndarray:
    """Running HV regret of every trial row of ``prep.trials`` (NaN outside multi-objective tasks).

    Example:
        >>> from analysis.synthetic import synthetic_results
        >>> df = synthetic_results(n_tasks=1, n_optimizers=1, n_seeds=1, n_trials=4, task_types=("mo",))
        >>> bool(np.all(np.diff(hv_per_trial(df)) <= 0))
        True
    """
    prep = prep if prep is not None else prepare(df)
    return _hv_per_trial(df, prep, directions, ref)[0]


def hv_runs(
    df: pd.DataFrame,
    prep: Prepared | None = None,
    directions: Mapping[str, Sequence[bool]] | None = None,
    ref: float = REF,
    per_trial: np.ndarray | None = None,
) -> pd.DataFrame:
    """Final hypervolume regret of every multi-objective run.

    Args:
        df: the long results frame (needs ``values``).
        prep: its :func:`~analysis.normalize.prepare` result, if already computed.
        directions: per task, ``minimize`` flags of all objectives (from run
            metadata); default: the ``minimize`` column for the first objective,
            the others minimized.
        ref: reference point coordinate after normalization.
        per_trial: the result of :func:`hv_per_trial`, if already computed
            (it is the expensive part; curves and final values can share it).

    Returns:
        One row per MO run: task, family, task_type, optimizer, seed, run_status,
        n_trials, ``final_hv_regret``.
    """
    prep = prep if prep is not None else prepare(df)
    if per_trial is None:
        per_trial = hv_per_trial(df, prep, directions, ref)
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
    directions: Mapping[str, Sequence[bool]] | None = None,
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
        per_trial = hv_per_trial(df, prep, directions, ref)
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
