"""Final Pareto fronts, empirical attainment surfaces and IGD+ of multi-objective runs.

Everything lives in the space that :mod:`analysis.leaderboard.hypervolume` ranks on: each
objective oriented for minimization (a maximized one negated) and min-max normalized over all
valid evaluations of the study on the task (top fidelity only on ``mfmo`` tasks), so points lie
in ``[0, 1]^m`` and the hypervolume reference point is ``REF`` (1.1).

* :func:`final_fronts`: the nondominated set of every run's valid points (its final front).
* :func:`attainment_surfaces`: the empirical attainment function (EAF; Grunert da Fonseca,
  Fonseca & Hall 2001) of an optimizer's runs on a task, as its ``k``-th attainment surfaces:
  the boundary of the region of objective space that at least ``k`` of its ``n`` runs attain
  (weakly dominate). Level ``k = 1`` is the best surface, ``k = n`` the worst, ``ceil(n / 2)``
  the median. Computed with ``moocore.eaf``; plotted as in López-Ibáñez, Paquete & Stützle
  (2010), "Exploratory analysis of stochastic local search algorithms in biobjective
  optimization".
* :func:`igd_plus_runs`: IGD+ (Ishibuchi, Masuda, Tanigaki & Nojima 2015, "Modified distance
  calculation in generational distance and inverted generational distance") of each run's final
  front against the task's reference front, the nondominated union of all runs' final points:
  ``IGD+(A) = mean over z in Z of min over a in A of sqrt(sum_i max(a_i - z_i, 0)^2)``. Lower is
  better, 0 when the run found the whole reference front; unlike IGD it is weakly Pareto
  compliant. It complements HV regret: it does not depend on a reference point, and it weighs
  every part of the reference front equally.
* :func:`attainment_plot` and :func:`pareto_front_plot`: the figures of one 2-objective task.

Example:
    >>> from analysis.synthetic import synthetic_results
    >>> df = synthetic_results(n_tasks=1, n_optimizers=2, n_seeds=3, n_trials=10, task_types=("mo",))
    >>> runs = igd_plus_runs(df)
    >>> len(runs), bool((runs["igd_plus"] >= 0).all())
    (6, True)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from itertools import pairwise

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from analysis.leaderboard.hypervolume import REF, normalized_values
from analysis.leaderboard.plots import Color, add_legend, line_styles, palette
from analysis.normalize import Prepared, prepare
from bench.results import decode_objectives
from tasks.base import Objective

#: Prefix of the objective columns of :func:`final_fronts` (``obj0``, ``obj1``, ...).
OBJ_PREFIX = "obj"
#: Default attainment levels: best (attained by at least one run), median, worst (by every run).
LEVELS: tuple[float, ...] = (0.0, 0.5, 1.0)
#: Run columns of :func:`final_fronts`, before the objective columns.
FRONT_KEYS: tuple[str, ...] = ("task", "family", "task_type", "optimizer", "seed", "run")


def final_fronts(df: pd.DataFrame, prep: Prepared | None = None) -> pd.DataFrame:
    """The final nondominated set of every multi-objective run, in the normalized minimization space.

    Args:
        df: the long results frame (needs ``values`` and ``objectives``).
        prep: its :func:`~analysis.normalize.prepare` result, if already computed.

    Returns:
        One row per point of a run's final front: ``task``, ``family``, ``task_type``,
        ``optimizer``, ``seed``, ``run`` (the run id of ``prep.runs``), then ``obj0`` ...
        ``obj{m-1}`` for the widest task (NaN past a task's own objectives). Rows are sorted by
        run, then by the objectives, so a 2-objective front reads left to right. Duplicate points
        are kept once. A run with no valid point (all failed, or only low-fidelity evaluations)
        has a single row of NaN objectives: it attains nothing, but still counts as a run in the
        EAF. ``attrs["objectives"]`` maps each task to its :class:`~tasks.base.Objective` records.

    Example:
        >>> from analysis.synthetic import synthetic_results
        >>> df = synthetic_results(n_tasks=1, n_optimizers=1, n_seeds=1, n_trials=8, task_types=("mo",))
        >>> fronts = final_fronts(df)
        >>> list(fronts.columns)
        ['task', 'family', 'task_type', 'optimizer', 'seed', 'run', 'obj0', 'obj1']
        >>> bool(fronts["obj0"].is_monotonic_increasing and fronts["obj1"].is_monotonic_decreasing)
        True
    """
    import moocore

    prep = prep if prep is not None else prepare(df)
    rows, vals = normalized_values(df, prep)
    if len(rows) == 0:
        out = pd.DataFrame({k: pd.Series(dtype=object) for k in FRONT_KEYS})
        out.attrs["objectives"] = {}
        return out
    run = prep.trials["run"].to_numpy()[rows]
    bounds = np.flatnonzero(np.r_[True, run[1:] != run[:-1], True])  # rows are sorted by run
    run_ids = run[bounds[:-1]]
    run_task = prep.runs["task"].astype(str).to_numpy()[run_ids]
    # Directions and names are per run; one run per task tells them (objective_directions checks
    # that runs agree).
    _, first = np.unique(run_task, return_index=True)
    col = df["objectives"]
    objectives = {
        str(run_task[i]): decode_objectives(col.iat[int(prep.source_rows[rows[bounds[i]]])]) for i in first
    }
    n_obj = np.zeros(len(prep.runs), dtype=np.int64)
    n_obj[run_ids] = [len(objectives[t]) for t in run_task]
    width = vals.shape[1]
    ok = np.isfinite(vals).all(axis=1)
    keep = np.zeros(len(rows), dtype=bool)
    empty: list[int] = []
    for r, (a, b) in zip(run_ids, pairwise(bounds), strict=True):
        idx = a + np.flatnonzero(ok[a:b])
        if len(idx) == 0:
            empty.append(int(r))
            continue
        # Dominance on the task's own objectives (the zero padding past them would only tie).
        keep[idx[moocore.is_nondominated(vals[idx, : n_obj[r]])]] = True
    point_run = np.r_[run[keep], np.asarray(empty, dtype=np.int64)]
    points = np.vstack([vals[keep], np.full((len(empty), width), np.nan)])
    order = np.lexsort((*points.T[::-1], point_run))
    point_run, points = point_run[order], points[order]
    meta = prep.runs.iloc[point_run]
    out = pd.DataFrame({k: meta[k].to_numpy() for k in FRONT_KEYS if k != "run"})
    out.insert(len(out.columns), "run", point_run)
    points[np.arange(width)[None, :] >= n_obj[point_run][:, None]] = np.nan  # not an objective of the task
    for j in range(width):
        out[f"{OBJ_PREFIX}{j}"] = points[:, j]
    out.attrs["objectives"] = objectives
    return out


def _obj_columns(fronts: pd.DataFrame, task: str) -> list[str]:
    """The objective columns of ``task``: its declared objectives, else the non-empty columns."""
    cols = [c for c in fronts.columns if c.startswith(OBJ_PREFIX) and c[len(OBJ_PREFIX) :].isdigit()]
    declared = fronts.attrs.get("objectives", {}).get(task)
    if declared is not None:
        return cols[: len(declared)]
    sub = fronts.loc[fronts["task"].astype(str) == task, cols]
    return [c for c in cols if sub[c].notna().any()]


def n_objectives(fronts: pd.DataFrame, task: str) -> int:
    """How many objectives ``task`` has in :func:`final_fronts` output.

    Example:
        >>> f = pd.DataFrame({"task": ["t"], "obj0": [0.1], "obj1": [0.2], "obj2": [float("nan")]})
        >>> n_objectives(f, "t")
        2
    """
    return len(_obj_columns(fronts, task))


def _task_rows(fronts: pd.DataFrame, task: str) -> pd.DataFrame:
    sub = fronts[fronts["task"].astype(str) == task]
    if sub.empty:
        known = sorted(fronts["task"].astype(str).unique())
        raise ValueError(f"no final fronts of task {task!r}; tasks with fronts: {known}")
    return sub


def reference_front(fronts: pd.DataFrame, task: str) -> np.ndarray:
    """The task's reference front: the nondominated union of all runs' final points, sorted.

    Example:
        >>> fronts = pd.DataFrame({"task": "t", "run": [0, 0, 1],
        ...                        "obj0": [0.0, 1.0, 0.5], "obj1": [1.0, 0.0, 1.0]})
        >>> reference_front(fronts, "t").tolist()
        [[0.0, 1.0], [1.0, 0.0]]
    """
    import moocore

    sub = _task_rows(fronts, task)
    pts = sub[_obj_columns(fronts, task)].to_numpy(dtype=np.float64)
    pts = pts[np.isfinite(pts).all(axis=1)]
    if len(pts) == 0:
        return pts
    front = moocore.filter_dominated(pts)
    return np.asarray(front[np.lexsort(front.T[::-1])])


def _igd_plus(front: np.ndarray, ref_front: np.ndarray, m: int) -> float:
    import moocore

    if len(ref_front) == 0:
        return math.nan
    # An empty front is scored as the hypervolume reference point alone: like HV (which gives it
    # 0), that is worse than any real point, all of which lie in [0, 1]^m and dominate it.
    pts = front if len(front) else np.full((1, m), REF)
    return float(moocore.igd_plus(pts, ref=ref_front))


def _igd_of_fronts(fronts: pd.DataFrame) -> pd.DataFrame:
    """IGD+ and front size of every run in ``fronts``, indexed by run id."""
    out: list[tuple[int, float, int]] = []
    for task, sub in fronts.groupby(fronts["task"].astype(str), sort=True):
        cols = _obj_columns(fronts, str(task))
        ref_front = reference_front(fronts, str(task))
        sub = sub.sort_values("run", kind="stable")  # a run's points must be contiguous
        pts = sub[cols].to_numpy(dtype=np.float64)
        run = sub["run"].to_numpy()
        bounds = np.flatnonzero(np.r_[True, run[1:] != run[:-1], True])
        for a, b in pairwise(bounds):
            front = pts[a:b][np.isfinite(pts[a:b]).all(axis=1)]
            out.append((int(run[a]), _igd_plus(front, ref_front, len(cols)), len(front)))
    res = pd.DataFrame(out, columns=["run", "igd_plus", "n_front"]).set_index("run")
    return res


def igd_plus_runs(
    df: pd.DataFrame, prep: Prepared | None = None, fronts: pd.DataFrame | None = None
) -> pd.DataFrame:
    """IGD+ of every multi-objective run's final front against its task's reference front.

    The reference front of a task is the nondominated union of all runs' final points
    (normalized), the same set whose hypervolume is HV* in HV regret. A run without any valid
    point is scored as if its front were the reference point ``REF`` alone (see module
    docstring); a task without any valid point gives NaN.

    Args:
        df: the long results frame (needs ``values`` and ``objectives``).
        prep: its :func:`~analysis.normalize.prepare` result, if already computed.
        fronts: the result of :func:`final_fronts`, if already computed.

    Returns:
        One row per MO run, indexed by run id like :func:`~analysis.leaderboard.hypervolume.hv_runs`:
        task, family, task_type, optimizer, seed, run_status, n_trials, ``n_front`` (points of
        its final front), ``igd_plus`` (lower is better). ``analysis.normalize.score_table(runs,
        value="igd_plus")`` turns it into a tasks x optimizers table.

    Example:
        >>> from analysis.synthetic import synthetic_results
        >>> from analysis.normalize import score_table
        >>> df = synthetic_results(n_tasks=2, n_optimizers=2, n_seeds=2, n_trials=10, task_types=("mo",))
        >>> score_table(igd_plus_runs(df), value="igd_plus").shape
        (2, 2)
    """
    prep = prep if prep is not None else prepare(df)
    fronts = fronts if fronts is not None else final_fronts(df, prep)
    cols = [
        "task",
        "family",
        "task_type",
        "optimizer",
        "seed",
        "run_status",
        "n_trials",
        "n_front",
        "igd_plus",
    ]
    if fronts.empty:
        return prep.runs.iloc[:0].assign(n_front=pd.Series(dtype=np.int64), igd_plus=np.nan)[cols]
    scores = _igd_of_fronts(fronts)
    runs = prep.runs.loc[scores.index.sort_values()].copy()
    runs["n_front"] = scores["n_front"]
    runs["igd_plus"] = scores["igd_plus"]
    return runs[cols]


def _level_k(level: float, n: int) -> int:
    if not 0.0 <= level <= 1.0:
        raise ValueError(f"attainment level {level!r} is not a fraction of runs in [0, 1]")
    # The tolerance keeps 0.5 * 10 at 5 despite rounding; every level at or below 1/n is the best.
    return max(1, math.ceil(level * n - 1e-9))


def attainment_surfaces(fronts: pd.DataFrame, task: str, levels: Sequence[float] = LEVELS) -> pd.DataFrame:
    """Each optimizer's empirical attainment surfaces on one 2-objective task.

    Level ``l`` (a fraction of runs, as ``moocore``'s percentiles / 100) is the ``k``-th
    attainment surface with ``k = max(1, ceil(l * n))`` of the optimizer's ``n`` runs: the
    minimal points that at least ``k`` runs weakly dominate. So ``0`` (or anything up to ``1/n``)
    is the best surface, ``0.5`` the median, ``1`` the worst. A run without a valid point
    attains nothing: it counts in ``n``, and a level that more runs would have to attain than
    have points gives an empty surface (no rows).

    Only 2 objectives are supported: ``moocore.eaf`` also handles 3, but its 3-D surfaces
    cannot be drawn as here; with any other count this raises ``ValueError``, and
    :func:`final_fronts` and :func:`igd_plus_runs`, which work in any dimension, remain.

    Args:
        fronts: the result of :func:`final_fronts`.
        task: the task id.
        levels: attainment levels, fractions in ``[0, 1]``.

    Returns:
        Tidy frame: ``task``, ``optimizer``, ``level`` (as asked), ``k``, ``n_runs``, ``point``
        (position along the surface) and ``obj0``, ``obj1``, sorted by optimizer, level and
        ``obj0``.

    Example:
        >>> fronts = pd.DataFrame({"task": "t", "optimizer": "a", "run": [0, 0, 1],
        ...                        "obj0": [0.0, 1.0, 0.5], "obj1": [1.0, 0.0, 0.5]})
        >>> s = attainment_surfaces(fronts, "t", levels=(0.0, 1.0))
        >>> for k, g in s.groupby("k"):
        ...     print(k, g[["obj0", "obj1"]].values.tolist())
        1 [[0.0, 1.0], [0.5, 0.5], [1.0, 0.0]]
        2 [[0.5, 1.0], [1.0, 0.5]]
    """
    import moocore

    sub = _task_rows(fronts, task)
    cols = _obj_columns(fronts, task)
    if len(cols) != 2:
        raise ValueError(
            f"attainment surfaces are computed for 2 objectives; task {task!r} has {len(cols)}: "
            "use final_fronts or igd_plus_runs, which work in any dimension"
        )
    levels = [float(v) for v in levels]
    parts: list[pd.DataFrame] = []
    for opt, g in sub.groupby(sub["optimizer"].astype(str), sort=True):
        n = int(g["run"].nunique())
        pts = g[cols].to_numpy(dtype=np.float64)
        ok = np.isfinite(pts).all(axis=1)
        # moocore.eaf takes the rows of each set contiguous and in increasing set id (it only
        # counts rows per sorted id), so renumber runs 1..n' and sort the rows stably by them.
        sets = pd.factorize(g["run"].to_numpy()[ok], sort=True)[0] + 1
        order = np.argsort(sets, kind="stable")
        n_sets = int(sets.max()) if len(sets) else 0
        eaf = moocore.eaf(pts[ok][order], sets[order]) if n_sets else np.empty((0, 3))
        # Its last column is 100 k / n' for the k-th surface of the n' runs with points.
        k_of = np.rint(eaf[:, -1] * n_sets / 100.0).astype(np.int64)
        for level in levels:
            k = _level_k(level, n)
            s = eaf[k_of == k, :2]
            s = s[np.lexsort(s.T[::-1])]
            parts.append(
                pd.DataFrame(
                    {
                        "task": task,
                        "optimizer": str(opt),
                        "level": level,
                        "k": k,
                        "n_runs": n,
                        "point": np.arange(len(s)),
                        cols[0]: s[:, 0],
                        cols[1]: s[:, 1],
                    }
                )
            )
    out = pd.concat(parts, ignore_index=True)
    return out.sort_values(["optimizer", "level", cols[0]], kind="stable").reset_index(drop=True)


def objective_label(objective: Objective) -> str:
    """Axis label of a normalized objective: its name and direction.

    Example:
        >>> objective_label(Objective("accuracy", minimize=False))
        'accuracy ↑ maximized (negated), normalized'
    """
    way = "↓ minimized" if objective.minimize else "↑ maximized (negated)"
    return f"{objective.name} {way}, normalized"


def _labels(fronts: pd.DataFrame, task: str, objectives: Sequence[Objective] | None, m: int) -> list[str]:
    objs = objectives if objectives is not None else fronts.attrs.get("objectives", {}).get(task)
    if objs is None:
        return [f"objective {j + 1} (oriented for minimization), normalized" for j in range(m)]
    return [objective_label(o) for o in objs]


def _staircase(points: np.ndarray, upper: float) -> tuple[np.ndarray, np.ndarray]:
    """Vertices of the boundary of the region a 2-D front (sorted by x) dominates, up to ``upper``."""
    if len(points) == 0:
        return np.array([upper]), np.array([upper])
    x, y = points[:, 0], points[:, 1]
    return np.r_[np.repeat(x, 2), upper], np.r_[upper, np.repeat(y, 2)]


def _setup_axes(ax: Axes, labels: Sequence[str], title: str) -> None:
    ax.set_xlim(-0.05, REF)
    ax.set_ylim(-0.05, REF)
    ax.set_xlabel(labels[0])
    ax.set_ylabel(labels[1])
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)


def attainment_plot(
    fronts: pd.DataFrame,
    task: str,
    pal: Mapping[str, Color] | None = None,
    show_points: bool = True,
    objectives: Sequence[Objective] | None = None,
) -> Figure:
    """Each optimizer's median attainment surface, with the band from its best to its worst surface.

    Surfaces are drawn up to the hypervolume reference point (``REF``); ``show_points`` adds
    every run's final points, lightly. Axis labels come from ``objectives``, else from
    ``fronts.attrs["objectives"]`` (set by :func:`final_fronts`).

    Example:
        >>> fronts = pd.DataFrame({"task": "t", "optimizer": "a", "run": [0, 0, 1],
        ...                        "obj0": [0.0, 1.0, 0.5], "obj1": [1.0, 0.0, 0.5]})
        >>> ax = attainment_plot(fronts, "t", objectives=[Objective("loss"), Objective("acc", False)]).axes[0]
        >>> ax.get_xlabel(), ax.get_ylabel()
        ('loss ↓ minimized, normalized', 'acc ↑ maximized (negated), normalized')
    """
    surfaces = attainment_surfaces(fronts, task, levels=LEVELS)
    cols = _obj_columns(fronts, task)
    sub = _task_rows(fronts, task)
    names = sorted(surfaces["optimizer"].unique())
    colors = pal if pal is not None else palette(names)
    dashes = line_styles(names, pal)
    fig = Figure(figsize=(6.4, 5.2), layout="constrained")
    ax = fig.subplots()
    for name in names:
        c = colors.get(name)
        s = surfaces[surfaces["optimizer"] == name]
        best, median, worst = (s.loc[s["level"] == lv, cols].to_numpy() for lv in LEVELS)
        bx, by = _staircase(best, REF)
        wx, wy = _staircase(worst, REF)
        ax.fill(np.r_[bx, wx[::-1]], np.r_[by, wy[::-1]], color=c, alpha=0.15, lw=0)
        mx, my = _staircase(median, REF)
        n = int(s["n_runs"].iat[0])
        ax.plot(mx, my, color=c, ls=dashes[name], lw=1.8, label=f"{name} (median of {n} runs)")
        if show_points:
            pts = sub.loc[sub["optimizer"].astype(str) == name, cols].to_numpy(dtype=np.float64)
            ax.scatter(pts[:, 0], pts[:, 1], color=c, s=6, alpha=0.3, lw=0)
    labels = _labels(fronts, task, objectives, len(cols))
    _setup_axes(ax, labels, f"{task}: median attainment surface, band from best to worst")
    add_legend(fig, ax, loc="upper right", inside_columns=1)
    return fig


def pareto_front_plot(
    fronts: pd.DataFrame,
    task: str,
    pal: Mapping[str, Color] | None = None,
    objectives: Sequence[Objective] | None = None,
) -> Figure:
    """The task's reference front and, per optimizer, the front of its best run (lowest IGD+).

    Ties in IGD+ go to the lowest seed. Only 2-objective tasks can be drawn (``ValueError``
    otherwise).

    Example:
        >>> fronts = pd.DataFrame({"task": "t", "optimizer": ["a", "a", "b"], "seed": [0, 0, 0],
        ...                        "run": [0, 0, 1], "obj0": [0.0, 1.0, 0.5], "obj1": [1.0, 0.0, 0.5]})
        >>> fig = pareto_front_plot(fronts, "t", objectives=[Objective("f1"), Objective("f2")])
        >>> [t.get_text() for t in fig.axes[0].get_legend().get_texts()][0]
        'reference front (3 points)'
    """
    sub = _task_rows(fronts, task)
    cols = _obj_columns(fronts, task)
    if len(cols) != 2:
        raise ValueError(f"Pareto-front plots show 2 objectives; task {task!r} has {len(cols)}")
    scores = _igd_of_fronts(sub)
    ref_front = reference_front(sub, task)
    fig = Figure(figsize=(6.4, 5.2), layout="constrained")
    ax = fig.subplots()
    rx, ry = _staircase(ref_front, REF)
    ax.plot(rx, ry, color="k", lw=1.0, ls="--", label=f"reference front ({len(ref_front)} points)")
    ax.scatter(ref_front[:, 0], ref_front[:, 1], color="k", s=14, zorder=3)
    names = sorted(sub["optimizer"].astype(str).unique())
    colors = pal if pal is not None else palette(names)
    dashes = line_styles(names, pal)
    for name in names:
        g = sub[sub["optimizer"].astype(str) == name]
        per_run = g.drop_duplicates("run").set_index("run")
        cand = scores.loc[per_run.index].assign(seed=per_run["seed"])
        best = cand.sort_values(["igd_plus", "seed"], kind="stable").index[0]
        pts = g.loc[g["run"] == best, cols].to_numpy(dtype=np.float64)
        pts = pts[np.isfinite(pts).all(axis=1)]
        c = colors.get(name)
        sx, sy = _staircase(pts, REF)
        seed = cand.at[best, "seed"]
        ax.plot(
            sx,
            sy,
            color=c,
            ls=dashes[name],
            lw=1.5,
            label=f"{name}, best run (seed {seed}, IGD+ {cand.at[best, 'igd_plus']:.3f})",
        )
        ax.scatter(pts[:, 0], pts[:, 1], color=c, s=18, zorder=4)
    labels = _labels(fronts, task, objectives, len(cols))
    _setup_axes(ax, labels, f"{task}: reference front and each optimizer's best run")
    add_legend(fig, ax, loc="upper right", inside_columns=1)
    return fig
