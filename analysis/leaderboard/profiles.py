"""Performance profiles, data profiles and COCO-style runtime ECDFs.

* Convergence test (Moré & Wild 2009, on normalized regret): a run has solved
  its problem at tolerance ``tau`` once its incumbent normalized regret is
  ``<= tau``. A problem is a (task, seed) pair; a missing run counts as unsolved.
* Performance profile (Dolan & Moré 2002): for each optimizer, the fraction of
  problems it solves within ``alpha`` times the budget of the fastest optimizer.
* Data profile (Moré & Wild 2009): the fraction of problems solved within a
  budget of ``kappa`` full-fidelity evaluations (divided by ``dim + 1`` when the
  task id carries its dimension, e.g. ``bbob/f03/d05/i01``).
* Runtime ECDF (COCO, Hansen et al. 2021): on ``bbob`` tasks with a known
  optimum, the fraction of (run, target) pairs with ``f - f_opt <= target``
  reached within a budget (evaluations / dimension), targets ``10^[2..-8]``.

Example:
    >>> from analysis.synthetic import synthetic_results
    >>> df = synthetic_results(n_tasks=4, n_optimizers=2, n_seeds=2)
    >>> prof = performance_profile(df, tau=0.05)
    >>> bool((prof.diff().fillna(0) >= 0).all().all())
    True
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from analysis.normalize import Prepared, as_prepared, check_axis

#: COCO's 51 standard targets on f - f_opt: 10^2 down to 10^-8 in steps of 10^0.2.
COCO_TARGETS: np.ndarray = 10.0 ** np.round(np.arange(2.0, -8.0001, -0.2), 1)
_DIM = re.compile(r"(?:^|/)d(\d+)(?:/|$)")


def task_dimension(task: str) -> int | None:
    """Dimension encoded in a task id (``.../d05/...``), or None.

    Example:
        >>> task_dimension("bbob/f03/d05/i01"), task_dimension("fcnet/protein")
        (5, None)
    """
    m = _DIM.search(task)
    return int(m.group(1)) if m else None


def _run_dims(prep: Prepared) -> np.ndarray:
    # Parse once per task, not once per run.
    cat = prep.runs["task"].cat
    per_task = np.array([task_dimension(str(t)) or 0 for t in cat.categories], dtype=np.float64)
    return per_task[cat.codes.to_numpy()]


def budget_to_solve(data: pd.DataFrame | Prepared, tau: float = 1e-3, x: str = "trials") -> pd.Series:
    """Per run: budget on axis ``x`` at which incumbent normalized regret first is ``<= tau`` (inf if never).

    Example:
        >>> from analysis.synthetic import synthetic_results
        >>> b = budget_to_solve(synthetic_results(n_tasks=1, n_optimizers=1, n_seeds=1, n_trials=5), tau=1.0)
        >>> b.tolist()
        [1.0]
    """
    if not tau > 0:
        raise ValueError(f"tau must be > 0, got {tau!r}")
    check_axis(x)
    prep = as_prepared(data)
    inc = prep.trials["incumbent"].to_numpy()
    xv = prep.trials[x].to_numpy(dtype=np.float64)
    run = prep.trials["run"].to_numpy()
    hit = np.flatnonzero(inc <= tau)
    # Rows are sorted by run, so the first hit of each run is its first index in `hit`.
    runs_hit, first = np.unique(run[hit], return_index=True)
    out = np.full(len(prep.runs), np.inf)
    out[runs_hit] = xv[hit[first]]
    return pd.Series(out, index=prep.runs.index, name="budget_to_solve")


def _problem_matrix(prep: Prepared, t: pd.Series) -> pd.DataFrame:
    runs = prep.runs.assign(
        t=t.to_numpy(), task=prep.runs["task"].astype(str), optimizer=prep.runs["optimizer"].astype(str)
    )
    m = runs.pivot_table(
        index=["task", "seed"], columns="optimizer", values="t", aggfunc="min", observed=True
    )
    return m.reindex(columns=prep.optimizers).fillna(np.inf)


def performance_profile(
    data: pd.DataFrame | Prepared, tau: float = 1e-3, x: str = "trials", alphas: np.ndarray | None = None
) -> pd.DataFrame:
    """Dolan-Moré performance profile: index ``alpha`` (budget ratio to the best), columns optimizers.

    Example:
        >>> from analysis.synthetic import synthetic_results
        >>> p = performance_profile(synthetic_results(n_tasks=3, n_optimizers=3, n_seeds=2), tau=0.1)
        >>> p.index[0]
        np.float64(1.0)
    """
    prep = as_prepared(data)
    m = _problem_matrix(prep, budget_to_solve(prep, tau, x))
    vals = m.to_numpy()
    best = vals.min(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(
            np.isfinite(vals) & (best > 0), vals / best, np.where(np.isfinite(vals), 1.0, np.inf)
        )
    if alphas is None:
        finite = ratio[np.isfinite(ratio)]
        top = max(float(finite.max()) if len(finite) else 1.0, 1.0)
        alphas = np.unique(np.r_[1.0, np.geomspace(1.0, top * 1.05 if top > 1 else 2.0, 60)])
    frac = (ratio[:, :, None] <= np.asarray(alphas)[None, None, :]).mean(axis=0).T
    return pd.DataFrame(frac, index=pd.Index(alphas, name="alpha"), columns=m.columns)


def data_profile(
    data: pd.DataFrame | Prepared,
    tau: float = 1e-3,
    x: str = "trials",
    kappas: np.ndarray | None = None,
    per_dimension: bool = True,
) -> pd.DataFrame:
    """Moré-Wild data profile: index budget ``kappa``, columns optimizers.

    ``kappa`` is the budget on axis ``x`` divided by ``dim + 1`` when
    ``per_dimension`` and the task id carries a dimension.

    Example:
        >>> from analysis.synthetic import synthetic_results
        >>> d = data_profile(synthetic_results(n_tasks=3, n_optimizers=2, n_seeds=2), tau=0.5)
        >>> float(d.iloc[-1].max()) <= 1.0
        True
    """
    prep = as_prepared(data)
    t = budget_to_solve(prep, tau, x)
    if per_dimension:
        t = t / (_run_dims(prep) + 1.0)
    m = _problem_matrix(prep, t)
    vals = m.to_numpy()
    if kappas is None:
        finite = vals[np.isfinite(vals)]
        lo = float(finite.min()) if len(finite) else 1.0
        hi = float(finite.max()) if len(finite) else 2.0
        # At least a decade, so a profile with few solved problems still reads as a curve.
        kappas = np.geomspace(max(min(lo, hi / 10), 1e-9), max(hi * 1.05, lo * 1.01), 60)
    frac = (vals[:, :, None] <= np.asarray(kappas)[None, None, :]).mean(axis=0).T
    return pd.DataFrame(frac, index=pd.Index(kappas, name="kappa"), columns=m.columns)


def bbob_ecdf(
    data: pd.DataFrame | Prepared,
    x: str = "trials",
    targets: np.ndarray = COCO_TARGETS,
    budgets: np.ndarray | None = None,
    per_dimension: bool = True,
) -> pd.DataFrame:
    """COCO runtime ECDF over (run, target) pairs on bbob tasks with a known optimum.

    Returns:
        Index budget (evaluations / dimension when ``per_dimension``), columns
        optimizers; empty when the study has no such task.

    Example:
        >>> from analysis.synthetic import synthetic_results
        >>> e = bbob_ecdf(synthetic_results(n_tasks=4, n_optimizers=2, n_seeds=2, n_trials=30))
        >>> bool(e["opt1"].iloc[-1] >= e["opt0"].iloc[-1])
        True
    """
    check_axis(x)
    prep = as_prepared(data)
    tr = prep.trials
    bbob_tasks = prep.bounds.index[prep.bounds["has_optimum"] & prep.bounds.index.str.startswith("bbob/")]
    task_col = tr["task"].cat
    sel = np.asarray(task_col.categories.isin(bbob_tasks))[task_col.codes.to_numpy()]
    if not sel.any():
        return pd.DataFrame(index=pd.Index([], name="budget"), columns=prep.optimizers, dtype=float)
    asc = np.sort(np.asarray(targets, dtype=np.float64))
    n_t = len(asc)
    gap = tr["gap"].to_numpy()[sel]
    run = tr["run"].to_numpy()[sel]
    xv = tr[x].to_numpy(dtype=np.float64)[sel]
    if per_dimension:
        dims = _run_dims(prep)[run]
        xv = xv / np.where(dims > 0, dims, 1.0)
    level = np.where(np.isfinite(gap), n_t - np.searchsorted(asc, gap, side="left"), 0)
    first_row = np.r_[True, run[1:] != run[:-1]]
    prev = np.where(first_row, 0, np.r_[0, level[:-1]])
    gain = level - prev
    ev = gain > 0
    opt = prep.runs["optimizer"].astype(str).to_numpy()
    ev_opt, ev_x, ev_w = opt[run[ev]], xv[ev], gain[ev]
    if budgets is None:
        pos = xv[np.isfinite(xv) & (xv > 0)]
        lo = float(pos.min()) if len(pos) else 1.0
        budgets = np.geomspace(lo, max(float(pos.max()) if len(pos) else 1.0, lo * 1.01), 60)
    budgets = np.asarray(budgets, dtype=np.float64)
    n_runs = pd.Series(opt[np.unique(run)]).value_counts()
    out = {}
    for o in prep.optimizers:
        m = ev_opt == o
        order = np.argsort(ev_x[m], kind="stable")
        xs, cum = ev_x[m][order], np.cumsum(ev_w[m][order])
        k = np.searchsorted(xs, budgets, side="right")
        reached = np.where(k > 0, cum[np.maximum(k - 1, 0)] if len(cum) else 0, 0)
        out[o] = reached / max(int(n_runs.get(o, 0)) * n_t, 1)
    return pd.DataFrame(out, index=pd.Index(budgets, name="budget"))
