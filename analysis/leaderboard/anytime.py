"""Incumbent trajectories on a common budget grid, ranks over budget, anytime scores.

Budgets differ in scale between tasks (100 trials here, 3 simulated hours
there), so every run's budget axis is expressed as a *fraction of the largest
budget any run reached on that task*, and trajectories are resampled on one
grid of such fractions in ``(0, 1]``. The value at grid point ``g`` is the
incumbent after the last trial with budget fraction ``<= g``; before a run's
first trial it is 1 (the worst value seen on the task). A run that ended early
(crashed) keeps its last incumbent.

Example:
    >>> from analysis.synthetic import synthetic_results
    >>> from analysis.normalize import prepare
    >>> curves = resample(prepare(synthetic_results(n_tasks=2, n_optimizers=2, n_seeds=2, n_trials=8)))
    >>> curves.values.shape
    (8, 40)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from analysis.normalize import LOG_FLOOR, Prepared, as_prepared, check_axis

VALUE_KINDS = ("regret", "log_regret")
_RUN_KEYS = ["task", "family", "task_type", "optimizer", "seed"]


@dataclass(frozen=True)
class Curves:
    """Per-run trajectories on a shared grid of budget fractions.

    Attributes:
        grid: budget fractions, increasing, in ``(0, 1]``.
        values: ``(n_runs, len(grid))`` array, lower is better.
        runs: one row per run (aligned with ``values``): task, family, task_type, optimizer, seed.
        x: the budget axis (``trials``, ``budget_used``, ``sim_time``, ``wall_time``).
        value: what is measured (``regret``, ``log_regret``, ``hv_regret``).
        log_grid: whether the grid is log-spaced (areas are then taken in log budget).
    """

    grid: np.ndarray
    values: np.ndarray
    runs: pd.DataFrame
    x: str
    value: str
    log_grid: bool = True

    def task_means(self) -> tuple[pd.MultiIndex, np.ndarray]:
        """Mean over seeds per (task, optimizer): index and ``(n_pairs, len(grid))`` array."""
        keys = [self.runs["task"].astype(str).to_numpy(), self.runs["optimizer"].astype(str).to_numpy()]
        g = pd.DataFrame(self.values).groupby(keys, sort=True).mean()
        idx = g.index
        assert isinstance(idx, pd.MultiIndex)
        return idx.set_names(["task", "optimizer"]), g.to_numpy()


def default_grid(first_fraction: float, n_points: int = 40, log: bool = True) -> np.ndarray:
    """A grid from ``first_fraction`` to 1, log- or linearly spaced.

    Example:
        >>> default_grid(0.01, 3).tolist()
        [0.01, 0.1, 1.0]
    """
    lo = float(np.clip(first_fraction, 1e-6, 1.0))
    if n_points < 2 or lo >= 1.0:
        return np.array([1.0])
    return np.geomspace(lo, 1.0, n_points) if log else np.linspace(lo, 1.0, n_points)


def budget_fractions(prep: Prepared, x: str) -> np.ndarray:
    """Each trial's budget on axis ``x`` divided by the largest on its task."""
    check_axis(x)
    xv = prep.trials[x].to_numpy(dtype=np.float64)
    if not np.isfinite(xv).any():
        raise ValueError(f"budget axis {x!r} is not recorded in these results; valid choices: 'trials'")
    codes = prep.trials["task"].cat.codes.to_numpy()
    top = pd.Series(xv).groupby(codes).max().reindex(range(codes.max() + 1)).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = xv / top[codes]
    return np.where(np.isfinite(frac), frac, 1.0)


def resample(
    data: pd.DataFrame | Prepared,
    x: str = "trials",
    value: str = "regret",
    grid: np.ndarray | None = None,
    n_points: int = 40,
    log_grid: bool = True,
    per_trial: np.ndarray | None = None,
    value_name: str | None = None,
) -> Curves:
    """Resample every run's incumbent on a common grid of budget fractions.

    Args:
        data: results frame or :class:`~analysis.normalize.Prepared`.
        x: budget axis.
        value: ``regret`` or ``log_regret`` (``log10`` of regret floored at ``LOG_FLOOR``).
        grid: budget fractions; default log-spaced from the typical first trial to 1.
        n_points: size of the default grid.
        log_grid: log-spaced default grid.
        per_trial: alternative running-best value per trial row (e.g. hypervolume
            regret); rows before a run's first defined value count as 1.
        value_name: name recorded in :attr:`Curves.value` for ``per_trial``.

    Example:
        >>> from analysis.synthetic import synthetic_results
        >>> c = resample(synthetic_results(n_tasks=1, n_optimizers=1, n_seeds=1, n_trials=4),
        ...              grid=np.array([0.25, 1.0]))
        >>> bool(c.values[0, 0] >= c.values[0, 1])
        True
    """
    if value not in VALUE_KINDS and per_trial is None:
        raise ValueError(f"unknown value {value!r}; valid choices: {list(VALUE_KINDS)}")
    prep = as_prepared(data)
    frac = budget_fractions(prep, x)
    starts = prep.starts
    n_runs = len(starts) - 1
    if grid is None:
        grid = default_grid(float(np.median(frac[starts[:-1]])), n_points, log_grid)
    grid = np.asarray(grid, dtype=np.float64)
    if grid.ndim != 1 or len(grid) == 0 or np.any(np.diff(grid) <= 0):
        raise ValueError(f"grid must be a non-empty increasing 1-D array, got {grid!r}")
    run = prep.trials["run"].to_numpy()
    # One global sorted key (run, fraction) turns n_runs x n_grid lookups into one searchsorted.
    span = 4.0
    keys = run * span + np.clip(frac, 0.0, 2.0)
    if np.any(keys[1:] < keys[:-1]):
        raise ValueError(f"budget axis {x!r} decreases within a run; it must be cumulative")
    queries = (np.arange(n_runs)[:, None] * span + np.clip(grid, 0.0, 2.0)[None, :]).ravel()
    idx = np.searchsorted(keys, queries, side="right") - 1
    before_first = idx < np.repeat(starts[:-1], len(grid))
    src = per_trial if per_trial is not None else prep.trials["incumbent"].to_numpy()
    vals = np.where(before_first, 1.0, src[np.maximum(idx, 0)])
    vals = np.where(np.isfinite(vals), vals, 1.0).reshape(n_runs, len(grid))
    name = value_name or value
    if per_trial is None and value == "log_regret":
        vals = np.log10(np.maximum(vals, LOG_FLOOR))
    return Curves(grid, vals, prep.runs[_RUN_KEYS].reset_index(drop=True), x, name, log_grid)


def aggregate(
    curves: Curves, n_boot: int = 200, ci: float = 0.95, seed: int = 0, by: str = "optimizer"
) -> pd.DataFrame:
    """Mean curve per group over tasks (seeds averaged first), with a bootstrap CI over tasks.

    Returns:
        Long frame: ``by``, ``budget`` (fraction), ``mean``, ``ci_low``, ``ci_high``, ``n_tasks``.

    Example:
        >>> from analysis.synthetic import synthetic_results
        >>> agg = aggregate(resample(synthetic_results(n_tasks=3, n_optimizers=2, n_seeds=2)))
        >>> sorted(agg["optimizer"].unique())
        ['opt0', 'opt1']
    """
    if by not in ("optimizer", "family", "task_type"):
        raise ValueError(f"unknown grouping {by!r}; valid choices: ['optimizer', 'family', 'task_type']")
    keys = [curves.runs["task"].astype(str).to_numpy(), curves.runs[by].astype(str).to_numpy()]
    if by != "optimizer":
        keys.append(curves.runs["optimizer"].astype(str).to_numpy())
    g = pd.DataFrame(curves.values).groupby(keys, sort=True).mean()
    rng = np.random.default_rng(seed)
    a = (1 - ci) / 2
    frames = []
    level = 1
    for name, block in g.groupby(level=level, sort=True):
        v = block.to_numpy()
        mean = v.mean(axis=0)
        lo = hi = np.full_like(mean, np.nan)
        if len(v) > 1 and n_boot > 0:
            idx = rng.integers(0, len(v), size=(n_boot, len(v)))
            boots = v[idx].mean(axis=1)
            lo, hi = np.quantile(boots, a, axis=0), np.quantile(boots, 1 - a, axis=0)
        frames.append(
            pd.DataFrame(
                {
                    by: name,
                    "budget": curves.grid,
                    "mean": mean,
                    "ci_low": lo,
                    "ci_high": hi,
                    "n_tasks": len(v),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def ranks_over_budget(curves: Curves) -> pd.DataFrame:
    """Mean rank (1 = best) over tasks at every grid point; complete tasks only.

    Returns:
        Frame indexed by budget fraction, one column per optimizer.

    Example:
        >>> from analysis.synthetic import synthetic_results
        >>> r = ranks_over_budget(resample(synthetic_results(n_tasks=4, n_optimizers=3, n_seeds=2)))
        >>> r.iloc[-1].idxmin()
        'opt2'
    """
    idx, means = curves.task_means()
    tasks = idx.get_level_values("task").unique()
    opts = sorted(idx.get_level_values("optimizer").unique())
    cube = np.full((len(tasks), len(opts), len(curves.grid)), np.nan)
    ti = tasks.get_indexer(idx.get_level_values("task"))
    oi = pd.Index(opts).get_indexer(idx.get_level_values("optimizer"))
    cube[ti, oi] = means
    cube = cube[~np.isnan(cube).any(axis=(1, 2))]
    if len(cube) == 0:
        return pd.DataFrame(np.nan, index=pd.Index(curves.grid, name="budget"), columns=opts)
    r = rankdata(np.round(cube, 12), axis=1, method="average")
    return pd.DataFrame(r.mean(axis=0).T, index=pd.Index(curves.grid, name="budget"), columns=opts)


def anytime_score(curves: Curves) -> pd.Series:
    """Area under each run's curve, divided by the axis length (log budget for a log grid).

    For normalized regret the score lies in ``[0, 1]``: 0 means the optimum was
    found immediately. Lower is better.

    Example:
        >>> c = Curves(np.array([0.1, 1.0]), np.array([[1.0, 0.0]]), pd.DataFrame({"task": ["t"]}),
        ...            "trials", "regret")
        >>> anytime_score(c).tolist()
        [0.5]
    """
    if len(curves.grid) < 2:
        return pd.Series(curves.values[:, -1], name="anytime")
    xs = np.log(curves.grid) if curves.log_grid else curves.grid
    area = np.trapezoid(curves.values, x=xs, axis=1) / (xs[-1] - xs[0])
    return pd.Series(area, name="anytime")
