"""Aggregate scores over tasks with stratified bootstrap intervals, as in rliable.

Agarwal, Schwarzer, Castro, Courville & Bellemare (2021), "Deep Reinforcement Learning at the
Edge of the Statistical Precipice", NeurIPS 34. Their library (rliable) is archived; this module
reimplements its estimators with numpy and scipy:

* point estimates over all runs of an optimizer across tasks: interquartile mean (IQM), mean,
  median and optimality gap (:func:`point_estimates`), with stratified bootstrap confidence
  intervals (:func:`interval_estimates`);
* the probability of improvement of every optimizer over every other one
  (:func:`probability_of_improvement`);
* performance profiles in rliable's sense, i.e. score distributions: the fraction of runs that
  reach a threshold (:func:`score_distributions`; not the Dolan-Moré profiles of
  :mod:`analysis.leaderboard.profiles`);
* their figures (:func:`interval_plot`, :func:`improvement_plot`, :func:`score_distribution_plot`).

Input: a per-run frame as :func:`analysis.leaderboard.stats.run_scores` returns it, one row per
run with ``task``, ``optimizer`` and a score column (``value``, default ``score``: final
normalized regret in [0, 1]).

Conventions:

* **Direction.** Our score is regret, *lower is better*; rliable's is a normalized score,
  higher is better. The two are tied by ``s = 1 - regret``. IQM, mean and median are reported on
  regret (so each is ``1 -`` rliable's value on ``s``); the optimality gap at threshold
  ``gamma`` is rliable's own ``gamma - mean(min(s, gamma))`` (lower is better in both); the
  probability of improvement of X over Y is P(regret of X < regret of Y), rliable's
  P(s_X > s_Y).
* **Weights.** The mean and the median are rliable's: the mean and the median over tasks of the
  per-task mean, so each task weighs the same; the optimality gap weighs tasks the same way.
  The IQM is ``scipy.stats.trim_mean(..., 0.25)`` of all runs pooled, exactly rliable's
  ``aggregate_iqm`` on its runs x tasks matrix. On a balanced design (every task has the same
  number of runs) all four equal rliable's values; on a ragged one the IQM weighs a task by
  its number of runs.
* **Ragged designs.** An optimizer that has no run on a task is left out of that task: its
  estimates and score distribution use the tasks it has, and a probability of improvement
  averages over the tasks both optimizers have (``n_tasks`` columns say how many).
* **Stratified bootstrap.** Tasks are the strata: each replicate resamples, with replacement,
  the runs of each task (keeping their number), independently per optimizer. Intervals are
  percentile intervals of the replicates.
* **Ties.** Regrets are compared after rounding to
  :data:`analysis.leaderboard.stats.TIE_DECIMALS` decimals, as the ranks of
  :mod:`~analysis.leaderboard.stats` are.

Example:
    >>> runs = pd.DataFrame({"task": ["t1"] * 4 + ["t2"] * 4, "optimizer": "a",
    ...                      "score": [0.0, 0.1, 0.2, 0.9, 0.3, 0.4, 0.5, 0.6]})
    >>> point_estimates(runs).round(4).to_dict("records")
    [{'iqm': 0.35, 'mean': 0.375, 'median': 0.375, 'optimality_gap': 0.375}]
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from scipy import stats as st

from analysis.leaderboard.plots import Color, add_legend, line_styles, palette
from analysis.leaderboard.stats import TIE_DECIMALS

#: The aggregate metrics, in the order they are reported; lower is better for each.
METRICS: tuple[str, ...] = ("iqm", "mean", "median", "optimality_gap")
#: How the figures name each metric (the gap is measured on ``s = 1 - regret``, not on regret).
METRIC_LABELS: dict[str, str] = {
    "iqm": "IQM of regret",
    "mean": "Mean of regret",
    "median": "Median of regret",
    "optimality_gap": "Optimality gap",
}
#: Bytes one chunk of bootstrap replicates may take; larger studies loop over more chunks.
CHUNK_BYTES = 64 * 2**20

ESTIMATE_COLUMNS = ["optimizer", "metric", "estimate", "lower", "upper", "n_tasks", "n_runs"]
IMPROVEMENT_COLUMNS = ["a", "b", "p", "lower", "upper", "n_tasks"]
PROFILE_COLUMNS = ["optimizer", "tau", "fraction", "lower", "upper"]


# --- The runs of one optimizer --------------------------------------------------------------


@dataclass(frozen=True)
class _Runs:
    """One optimizer's scores grouped by task; task codes index the frame's sorted task ids."""

    values: np.ndarray  # (n_runs,), grouped by task in code order
    task: np.ndarray  # (n_runs,), task code of each run
    counts: np.ndarray  # (all tasks,), runs per task; 0 where the optimizer has none

    @property
    def n_runs(self) -> int:
        return len(self.values)

    @property
    def present(self) -> np.ndarray:
        return self.counts > 0

    @property
    def n_tasks(self) -> int:
        return int(self.present.sum())

    @property
    def starts(self) -> np.ndarray:
        """Offset of each present task's first run."""
        return np.r_[0, np.cumsum(self.counts[self.present])[:-1]]

    @property
    def run_n(self) -> np.ndarray:
        """Number of runs of each run's task."""
        return self.counts[self.task]

    @property
    def run_start(self) -> np.ndarray:
        """Offset of each run's task block."""
        return np.repeat(self.starts, self.counts[self.present])


def _split(runs: pd.DataFrame, value: str) -> dict[str, _Runs]:
    """Per optimizer (sorted), its runs grouped by task."""
    missing = [c for c in ("task", "optimizer", value) if c not in runs.columns]
    if missing:
        raise ValueError(f"runs frame lacks columns {missing}; required: ['task', 'optimizer', {value!r}]")
    values = runs[value].to_numpy(dtype=np.float64)
    if np.isnan(values).any():
        raise ValueError(f"{int(np.isnan(values).sum())} run(s) have no {value!r}; drop or score them first")
    task, tasks = pd.factorize(runs["task"].astype(str), sort=True)
    opt, optimizers = pd.factorize(runs["optimizer"].astype(str), sort=True)
    order = np.lexsort((task, opt))
    task, opt, values = task[order], opt[order], values[order]
    bounds = np.searchsorted(opt, np.arange(len(optimizers) + 1))
    out = {}
    for i, name in enumerate(optimizers):
        sl = slice(bounds[i], bounds[i + 1])
        out[str(name)] = _Runs(values[sl], task[sl], np.bincount(task[sl], minlength=len(tasks)))
    return out


def _check_bootstrap(n_boot: int, ci: float) -> None:
    if not 0 < ci < 1:
        raise ValueError(f"ci must lie in (0, 1), got {ci!r}")
    if n_boot < 0:
        raise ValueError(f"n_boot must be >= 0, got {n_boot!r}")


def _chunks(n_boot: int, bytes_per_rep: int) -> list[int]:
    """Replicate counts per chunk, so that one chunk's arrays stay under :data:`CHUNK_BYTES`."""
    size = max(1, CHUNK_BYTES // max(bytes_per_rep, 1))
    return [min(size, n_boot - lo) for lo in range(0, n_boot, size)]


def _draws(rng: np.random.Generator, r: _Runs, size: int) -> np.ndarray:
    """(size, n_runs) positions within each run's task, uniform over that task's runs.

    Scaling ``rng.random()`` is 2-4x faster than ``rng.integers`` with one bound per run, and
    exact enough: ``(1 - 2**-53) * n`` rounds to a float below ``n``, so the position stays in
    the task.
    """
    return (rng.random((size, r.n_runs)) * r.run_n).astype(np.int64)


def _resample(rng: np.random.Generator, r: _Runs, size: int) -> np.ndarray:
    """(size, n_runs) indices into ``r.values``: each task's runs drawn from that task only."""
    return r.run_start + _draws(rng, r, size)


def _percentiles(reps: np.ndarray, ci: float) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval of bootstrap replicates along axis 0 (NaN without replicates)."""
    if len(reps) == 0:
        nan = np.full(reps.shape[1:], np.nan)
        return nan, nan
    a = (1 - ci) / 2
    lo, hi = np.quantile(reps, [a, 1 - a], axis=0)
    return lo, hi


# --- Point estimates ------------------------------------------------------------------------


def iqm(regret: np.ndarray | Sequence[float]) -> float:
    """Interquartile mean of all values pooled: ``scipy.stats.trim_mean(values, 0.25)``.

    Like rliable's ``aggregate_iqm`` it cuts ``floor(n / 4)`` values at each end. On regret
    it is ``1 -`` rliable's IQM of ``s = 1 - regret``.

    Example:
        >>> iqm([0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.9])
        0.35
    """
    return float(st.trim_mean(np.ravel(np.asarray(regret, dtype=np.float64)), 0.25, axis=None))


def optimality_gap(regret: np.ndarray | Sequence[float], gamma: float = 1.0) -> float:
    """rliable's optimality gap of all values pooled: ``gamma - mean(min(1 - regret, gamma))``.

    It is computed on the normalized score ``s = 1 - regret`` (higher better) and says how far
    the runs fall short of ``gamma`` (lower is better); scores above ``gamma`` count as
    ``gamma``. With ``gamma = 1`` and regret in [0, 1] it is the mean regret.

    Example:
        >>> round(optimality_gap([0.0, 0.1, 0.2, 0.9], gamma=0.8), 4)
        0.175
    """
    s = 1.0 - np.asarray(regret, dtype=np.float64)
    return float(gamma - np.mean(np.minimum(s, gamma)))


def _task_means(vals: np.ndarray, r: _Runs) -> np.ndarray:
    """(reps, tasks) per-task means of (reps, runs) values laid out as ``r.values``."""
    return np.add.reduceat(vals, r.starts, axis=1) / r.counts[r.present]


def _iqm_rows(vals: np.ndarray, r: _Runs, gamma: float) -> np.ndarray:
    return np.asarray(st.trim_mean(vals, 0.25, axis=1), dtype=np.float64)


def _mean_rows(vals: np.ndarray, r: _Runs, gamma: float) -> np.ndarray:
    return _task_means(vals, r).mean(axis=1)


def _median_rows(vals: np.ndarray, r: _Runs, gamma: float) -> np.ndarray:
    return np.median(_task_means(vals, r), axis=1)


def _gap_rows(vals: np.ndarray, r: _Runs, gamma: float) -> np.ndarray:
    return gamma - _task_means(np.minimum(1.0 - vals, gamma), r).mean(axis=1)


_METRIC_ROWS: dict[str, Callable[[np.ndarray, _Runs, float], np.ndarray]] = {
    "iqm": _iqm_rows,
    "mean": _mean_rows,
    "median": _median_rows,
    "optimality_gap": _gap_rows,
}


def _check_metrics(metrics: Sequence[str]) -> list[str]:
    bad = [m for m in metrics if m not in _METRIC_ROWS]
    if bad:
        raise ValueError(f"unknown metrics {bad}; valid choices: {list(METRICS)}")
    return list(metrics)


def point_estimates(
    runs: pd.DataFrame, value: str = "score", metrics: Sequence[str] = METRICS, gamma: float = 1.0
) -> pd.DataFrame:
    """IQM, mean, median and optimality gap of each optimizer's runs, without intervals.

    The conventions (regret vs rliable's score, task weights, ragged designs) are those of the
    module docstring; :func:`interval_estimates` adds the confidence intervals.

    Returns:
        Indexed by optimizer (sorted), one column per metric.

    Example:
        >>> runs = pd.DataFrame({"task": ["t1", "t1", "t2", "t2"], "optimizer": "a",
        ...                      "score": [0.2, 0.4, 0.0, 1.0]})
        >>> point_estimates(runs, metrics=["mean", "median"]).to_dict("records")
        [{'mean': 0.4, 'median': 0.4}]
    """
    names = _check_metrics(metrics)
    groups = _split(runs, value)
    rows = {
        opt: [float(_METRIC_ROWS[m](r.values[None, :], r, gamma)[0]) for m in names]
        for opt, r in groups.items()
    }
    out = pd.DataFrame.from_dict(rows, orient="index", columns=names)
    out.index.name = "optimizer"
    return out


def _metric_replicates(
    r: _Runs, names: list[str], gamma: float, n_boot: int, rng: np.random.Generator
) -> np.ndarray:
    """(n_boot, metrics) stratified bootstrap replicates of one optimizer's metrics."""
    reps = np.empty((n_boot, len(names)))
    lo = 0
    for size in _chunks(n_boot, 3 * 8 * r.n_runs):
        vals = r.values[_resample(rng, r, size)]
        for j, m in enumerate(names):
            reps[lo : lo + size, j] = _METRIC_ROWS[m](vals, r, gamma)
        lo += size
    return reps


def interval_estimates(
    runs: pd.DataFrame,
    value: str = "score",
    metrics: Sequence[str] = METRICS,
    n_boot: int = 2000,
    ci: float = 0.95,
    seed: int = 0,
    gamma: float = 1.0,
) -> pd.DataFrame:
    """Point estimates of each optimizer with stratified bootstrap percentile intervals.

    Each of the ``n_boot`` replicates resamples, per optimizer and per task, that task's runs
    with replacement (tasks are the strata); the interval is the central ``ci`` percentile range
    of the replicates. ``n_boot=0`` gives NaN bounds. Metric definitions and conventions: see
    the module docstring (all on regret, lower is better).

    Args:
        runs: one row per run, with ``task``, ``optimizer`` and ``value``.
        value: the score column (lower is better).
        metrics: a subset of :data:`METRICS`.
        n_boot: bootstrap replicates.
        ci: coverage of the intervals.
        seed: seed of the ``numpy.random.Generator`` that draws the replicates.
        gamma: threshold of the optimality gap, on ``s = 1 - regret``.

    Returns:
        Tidy: ``optimizer``, ``metric``, ``estimate``, ``lower``, ``upper``, ``n_tasks``,
        ``n_runs``; optimizers sorted, metrics in the order asked.

    Example:
        >>> from analysis.leaderboard.stats import run_scores
        >>> from analysis.synthetic import synthetic_results
        >>> runs = run_scores(synthetic_results(n_tasks=4, n_optimizers=2, n_seeds=3))
        >>> est = interval_estimates(runs, metrics=["iqm"], n_boot=200)
        >>> est[["optimizer", "metric", "n_tasks", "n_runs"]].to_dict("records")[0]
        {'optimizer': 'opt0', 'metric': 'iqm', 'n_tasks': 4, 'n_runs': 12}
        >>> bool((est["lower"] <= est["estimate"]).all() and (est["estimate"] <= est["upper"]).all())
        True
    """
    names = _check_metrics(metrics)
    _check_bootstrap(n_boot, ci)
    groups = _split(runs, value)
    est = point_estimates(runs, value, names, gamma)
    rng = np.random.default_rng(seed)
    parts = []
    for opt, r in groups.items():
        lo, hi = _percentiles(_metric_replicates(r, names, gamma, n_boot, rng), ci)
        parts.append(
            pd.DataFrame(
                {
                    "optimizer": opt,
                    "metric": names,
                    "estimate": est.loc[opt, names].to_numpy(dtype=np.float64),
                    "lower": lo,
                    "upper": hi,
                    "n_tasks": r.n_tasks,
                    "n_runs": r.n_runs,
                }
            )
        )
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=ESTIMATE_COLUMNS)


# --- Probability of improvement -------------------------------------------------------------


def _padded(r: _Runs, width: int) -> np.ndarray:
    """(all tasks, width) rounded scores, NaN where a task has fewer runs (NaN never compares)."""
    out = np.full((len(r.counts), width), np.nan)
    pos = np.arange(r.n_runs) - r.run_start
    out[r.task, pos] = np.round(r.values, TIE_DECIMALS)
    return out


def _wins(xa: np.ndarray, xb: np.ndarray) -> np.ndarray:
    """(tasks, width, width): 1 where a's run beats b's run (lower regret), 1/2 on a tie."""
    lt = xa[:, :, None] < xb[:, None, :]
    eq = xa[:, :, None] == xb[:, None, :]
    return lt + 0.5 * eq


def _resample_counts(rng: np.random.Generator, r: _Runs, size: int, width: int) -> np.ndarray:
    """(all tasks, size, width): how often each run is drawn in each replicate, per task."""
    draws = _draws(rng, r, size)
    cell = r.task[None, :] * size + np.arange(size)[:, None]
    flat = (cell * width + draws).ravel()
    n_cells = len(r.counts) * size * width
    return np.bincount(flat, minlength=n_cells).reshape(len(r.counts), size, width).astype(np.float64)


@dataclass(frozen=True)
class _Pair:
    """What P(a < b) needs, computed once for every replicate."""

    a: str
    b: str
    wins: np.ndarray  # (all tasks, width, width), from _wins
    n_pairs: np.ndarray  # (all tasks,), n_a * n_b
    common: np.ndarray  # (all tasks,), both optimizers have runs

    @property
    def n_tasks(self) -> int:
        return int(self.common.sum())

    def improvement(self, ca: np.ndarray, cb: np.ndarray) -> np.ndarray:
        """Per replicate, P(a < b) averaged over the common tasks, from run multiplicities.

        ``ca`` and ``cb`` are (all tasks, replicates, width) multiplicities of the original runs.
        A replicate's Mann-Whitney count on a task is ``sum_ij ca_i wins_ij cb_j``, so the
        resampled runs are never materialized; a resample keeps each task's number of runs,
        so ``n_pairs`` is the same in every replicate.
        """
        if not self.common.any():
            return np.full(ca.shape[1], np.nan)
        u = np.einsum("tbn,tbn->tb", ca @ self.wins, cb)
        return (u[self.common] / self.n_pairs[self.common, None]).mean(axis=0)


def _pairs(groups: dict[str, _Runs], width: int) -> list[_Pair]:
    """Each unordered pair of optimizers once, in sorted order; P(b < a) is 1 - P(a < b)."""
    padded = {o: _padded(r, width) for o, r in groups.items()}
    names = list(groups)
    return [
        _Pair(
            a,
            b,
            _wins(padded[a], padded[b]),
            (groups[a].counts * groups[b].counts).astype(np.float64),
            groups[a].present & groups[b].present,
        )
        for i, a in enumerate(names)
        for b in names[i + 1 :]
    ]


def _improvement_replicates(
    groups: dict[str, _Runs], pairs: list[_Pair], width: int, n_boot: int, rng: np.random.Generator
) -> list[np.ndarray]:
    """(n_boot,) replicates of P(a < b) per pair.

    One resample per optimizer serves all its pairs: each pair still sees two independent
    stratified resamples, and the draws cost O(optimizers), not O(pairs).
    """
    n_tasks = len(next(iter(groups.values())).counts)
    chunks: list[list[np.ndarray]] = [[] for _ in pairs]
    for size in _chunks(n_boot, 8 * n_tasks * width * (len(groups) + 2)):
        counts = {o: _resample_counts(rng, r, size, width) for o, r in groups.items()}
        for pair, out in zip(pairs, chunks, strict=True):
            out.append(pair.improvement(counts[pair.a], counts[pair.b]))
    return [np.concatenate(c) if c else np.empty(0) for c in chunks]


def probability_of_improvement(
    runs: pd.DataFrame, value: str = "score", n_boot: int = 2000, ci: float = 0.95, seed: int = 0
) -> pd.DataFrame:
    """P(X < Y) for every ordered pair of optimizers, with stratified bootstrap intervals.

    On a task, P(X < Y) is the probability that a run of X has a lower regret than a run of Y,
    a tie counting 1/2: the Mann-Whitney U statistic divided by ``n_x n_y``. It is averaged over
    the tasks both optimizers have (rliable's ``probability_of_improvement``, which compares
    ``s = 1 - regret`` with ``>``). P(X < Y) + P(Y < X) = 1. The bootstrap resamples the runs of
    each task independently for X and for Y; a pair with no common task gets NaN.

    Returns:
        Tidy: ``a``, ``b``, ``p`` = P(a < b), ``lower``, ``upper``, ``n_tasks`` (common tasks);
        pairs in sorted order of ``a`` then ``b``.

    Example:
        >>> runs = pd.DataFrame({"task": "t", "optimizer": ["x", "x", "y", "y"],
        ...                      "score": [0.1, 0.3, 0.2, 0.3]})
        >>> probability_of_improvement(runs, n_boot=0)[["a", "b", "p"]].to_dict("records")
        [{'a': 'x', 'b': 'y', 'p': 0.625}, {'a': 'y', 'b': 'x', 'p': 0.375}]
    """
    _check_bootstrap(n_boot, ci)
    groups = _split(runs, value)
    if len(groups) < 2:
        return pd.DataFrame(columns=IMPROVEMENT_COLUMNS)
    width = max(int(r.counts.max()) for r in groups.values())
    pairs = _pairs(groups, width)
    ones = {o: (~np.isnan(_padded(r, width)))[:, None, :].astype(np.float64) for o, r in groups.items()}
    reps = _improvement_replicates(groups, pairs, width, n_boot, np.random.default_rng(seed))
    rows = []
    for pair, rep in zip(pairs, reps, strict=True):
        p = float(pair.improvement(ones[pair.a], ones[pair.b])[0])
        for x, y, est, r in ((pair.a, pair.b, p, rep), (pair.b, pair.a, 1.0 - p, 1.0 - rep)):
            lo, hi = _percentiles(r[:, None], ci)
            rows.append((x, y, est, float(lo[0]), float(hi[0]), pair.n_tasks))
    return pd.DataFrame(rows, columns=IMPROVEMENT_COLUMNS).sort_values(["a", "b"], ignore_index=True)


# --- Score distributions (rliable's performance profiles) -----------------------------------


def _check_taus(taus: np.ndarray | Sequence[float] | None) -> np.ndarray:
    t = np.linspace(0.0, 1.0, 101) if taus is None else np.asarray(taus, dtype=np.float64)
    if t.ndim != 1 or len(t) == 0 or not np.isfinite(t).all() or (np.diff(t) <= 0).any():
        raise ValueError("taus must be a non-empty, strictly increasing 1-D array of finite thresholds")
    return t


def _fractions(r: _Runs, idx: np.ndarray, first: np.ndarray, n_taus: int) -> np.ndarray:
    """(reps, taus) task-averaged fraction of runs with regret <= tau, for resampled indices.

    ``first[i]`` is the first threshold run ``i`` meets; a run counts for that threshold and
    every larger one, so a weighted histogram over ``first`` and a cumulative sum give all
    thresholds at once.
    """
    weight = 1.0 / (r.run_n * r.n_tasks)
    cell = np.arange(len(idx))[:, None] * (n_taus + 1) + first[idx]
    hist = np.bincount(
        cell.ravel(), weights=np.broadcast_to(weight, idx.shape).ravel(), minlength=len(idx) * (n_taus + 1)
    )
    return np.cumsum(hist.reshape(len(idx), n_taus + 1), axis=1)[:, :n_taus]


def score_distributions(
    runs: pd.DataFrame,
    value: str = "score",
    taus: np.ndarray | Sequence[float] | None = None,
    n_boot: int = 2000,
    ci: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """rliable's performance profiles: fraction of runs with regret <= tau, with bootstrap bands.

    For each threshold ``tau`` the fraction is computed per task and averaged over the tasks
    the optimizer has, so each task weighs the same (rliable pools runs x tasks, which is the
    same on a balanced design; it counts ``s > tau`` on ``s = 1 - regret``). Bands are
    stratified bootstrap percentile intervals, pointwise in ``tau``.

    Args:
        runs: one row per run, with ``task``, ``optimizer`` and ``value``.
        value: the score column (lower is better).
        taus: strictly increasing thresholds; default 101 points evenly spaced in [0, 1].
        n_boot, ci, seed: as in :func:`interval_estimates`.

    Returns:
        Tidy: ``optimizer``, ``tau``, ``fraction``, ``lower``, ``upper``.

    Example:
        >>> runs = pd.DataFrame({"task": ["t1", "t1", "t2"], "optimizer": "a", "score": [0.0, 0.5, 1.0]})
        >>> score_distributions(runs, taus=[0.0, 0.5, 1.0], n_boot=0)["fraction"].tolist()
        [0.25, 0.5, 1.0]
    """
    _check_bootstrap(n_boot, ci)
    t = _check_taus(taus)
    groups = _split(runs, value)
    rng = np.random.default_rng(seed)
    # Rounded on both sides, so that a regret of 0.3 meets the threshold 0.30000000000000004.
    rounded_taus = np.round(t, TIE_DECIMALS)
    parts = []
    for opt, r in groups.items():
        first = np.searchsorted(rounded_taus, np.round(r.values, TIE_DECIMALS), side="left")
        est = _fractions(r, np.arange(r.n_runs)[None, :], first, len(t))[0]
        reps = [
            _fractions(r, _resample(rng, r, size), first, len(t)) for size in _chunks(n_boot, 24 * r.n_runs)
        ]
        lo, hi = _percentiles(np.concatenate(reps) if reps else np.empty((0, len(t))), ci)
        parts.append(pd.DataFrame({"optimizer": opt, "tau": t, "fraction": est, "lower": lo, "upper": hi}))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=PROFILE_COLUMNS)


# --- Figures --------------------------------------------------------------------------------


def _interval_bars(ax: Axes, y: np.ndarray, est: pd.DataFrame, est_col: str, colors: Sequence[Color]) -> None:
    """Horizontal interval bars (where bounds exist) and a tick at each estimate."""
    lo = est["lower"].to_numpy(dtype=np.float64)
    hi = est["upper"].to_numpy(dtype=np.float64)
    ok = np.isfinite(lo) & np.isfinite(hi)
    bar_colors = [c for c, k in zip(colors, ok, strict=True) if k]
    ax.barh(y[ok], (hi - lo)[ok], left=lo[ok], height=0.6, color=bar_colors, alpha=0.75)
    ax.scatter(est[est_col], y, marker="|", s=250, color="black", zorder=3)
    ax.grid(axis="x", alpha=0.3)
    # Bars pin the axis to their base (sticky edges), which put the lowest interval and its tick
    # on the spine; the usual margins keep every bar and tick in view.
    ax.use_sticky_edges = False


def interval_plot(
    estimates: pd.DataFrame, metrics: Sequence[str] | None = None, pal: Mapping[str, Color] | None = None
) -> Figure:
    """One panel per metric, a horizontal interval bar per optimizer (from :func:`interval_estimates`).

    Optimizers are ordered by the estimate of the first panel's metric, best (lowest) on top.

    Example:
        >>> est = pd.DataFrame({"optimizer": ["a", "b"], "metric": "iqm", "estimate": [0.2, 0.4],
        ...                     "lower": [0.1, 0.3], "upper": [0.3, 0.5], "n_tasks": 2, "n_runs": 4})
        >>> interval_plot(est).axes[0].get_xlabel()
        'IQM of regret (lower is better)'
    """
    present = list(dict.fromkeys(estimates["metric"]))
    names = [m for m in (metrics if metrics is not None else METRICS) if m in present]
    first = estimates[estimates["metric"] == names[0]] if names else estimates
    order = list(first.sort_values("estimate", ascending=False)["optimizer"].astype(str))
    colors = pal if pal is not None else palette(order)
    fig = Figure(figsize=(3.2 * max(len(names), 1), 0.4 * len(order) + 1.4), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, max(len(names), 1), sharey=True))
    y = np.arange(len(order), dtype=np.float64)
    for ax, metric in zip(axes, names, strict=False):
        rows = estimates[estimates["metric"] == metric]
        est = rows.set_index(rows["optimizer"].astype(str)).reindex(order)
        _interval_bars(ax, y, est, "estimate", [colors[o] for o in order])
        ax.set_xlabel(f"{METRIC_LABELS.get(metric, metric)} (lower is better)")
    axes[0].set_yticks(y, order)
    return fig


def _oriented_pairs(poi: pd.DataFrame, against: str | None) -> pd.DataFrame:
    """The rows to show: X vs ``against`` for every X, or each unordered pair once with p >= 1/2."""
    if against is not None:
        rows = poi[poi["b"].astype(str) == against]
        if rows.empty:
            raise ValueError(f"no probability of improvement against {against!r}")
    else:
        a, b = poi["a"].astype(str), poi["b"].astype(str)
        rows = poi[(poi["p"] > 0.5) | ((poi["p"] == 0.5) & (a < b))]
    return rows.sort_values("p")


def improvement_plot(
    poi: pd.DataFrame, against: str | None = None, pal: Mapping[str, Color] | None = None
) -> Figure:
    """Probability of improvement with its interval, per pair (from :func:`probability_of_improvement`).

    With ``against``, one bar per other optimizer X: P(X < against). Without, each unordered
    pair once, oriented so that P(first has lower regret) >= 1/2.

    Example:
        >>> poi = pd.DataFrame({"a": ["x", "y"], "b": ["y", "x"], "p": [0.7, 0.3],
        ...                     "lower": [0.6, 0.2], "upper": [0.8, 0.4], "n_tasks": 3})
        >>> [t.get_text() for t in improvement_plot(poi).axes[0].get_yticklabels()]
        ['x vs y']
    """
    rows = _oriented_pairs(poi, against)
    colors = pal if pal is not None else palette(list(poi["a"].astype(str)) + list(poi["b"].astype(str)))
    fig = Figure(figsize=(6, 0.4 * len(rows) + 1.4), layout="constrained")
    ax = fig.subplots()
    y = np.arange(len(rows), dtype=np.float64)
    _interval_bars(ax, y, rows, "p", [colors[str(a)] for a in rows["a"]])
    ax.axvline(0.5, color="gray", ls="--", lw=1)
    ax.set_yticks(y, [f"{a} vs {b}" for a, b in zip(rows["a"], rows["b"], strict=True)])
    ax.set_xlim(0, 1)
    ax.set_xlabel("P(X < Y): probability that X has lower regret than Y")
    return fig


def score_distribution_plot(profiles: pd.DataFrame, pal: Mapping[str, Color] | None = None) -> Figure:
    """Score distribution per optimizer with its bootstrap band (from :func:`score_distributions`).

    Example:
        >>> prof = pd.DataFrame({"optimizer": "a", "tau": [0.0, 1.0], "fraction": [0.2, 1.0],
        ...                      "lower": [0.1, 1.0], "upper": [0.3, 1.0]})
        >>> len(score_distribution_plot(prof).axes[0].lines)
        1
    """
    names = sorted(profiles["optimizer"].astype(str).unique())
    colors = pal if pal is not None else palette(names)
    dashes = line_styles(names, pal)
    fig = Figure(figsize=(7, 4.2), layout="constrained")
    ax = fig.subplots()
    for name in names:
        g = profiles[profiles["optimizer"].astype(str) == name]
        ax.plot(g["tau"], g["fraction"], label=name, color=colors[name], ls=dashes[name], lw=1.8)
        if g["lower"].notna().any():
            ax.fill_between(g["tau"], g["lower"], g["upper"], color=colors[name], alpha=0.2, lw=0)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("regret threshold τ")
    ax.set_ylabel("fraction of runs with regret ≤ τ (higher is better)")
    ax.grid(alpha=0.3)
    add_legend(fig, ax)
    return fig
