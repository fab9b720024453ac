"""Ranks, omnibus and post-hoc tests, bootstrap confidence intervals.

Everything here takes a *score table*: tasks (rows, the blocks) x optimizers
(columns), lower is better, typically the mean over seeds of the final
normalized regret (:func:`analysis.normalize.score_table`). Rank 1 is the best
optimizer on a task; ties get the average rank. Tests use the complete blocks
(tasks where every optimizer has a score); how many tasks were dropped is
reported in each result. A test that cannot run (fewer than two optimizers or
tasks) returns a result with NaN statistics and a ``note`` saying why.

References: Demšar (2006), JMLR 7:1-30; Conover (1999), *Practical
Nonparametric Statistics*, 3rd ed., p. 371; Holm (1979).

Example:
    >>> scores = pd.DataFrame({"a": [0.1, 0.2, 0.3], "b": [0.2, 0.3, 0.1]}, index=["t1", "t2", "t3"])
    >>> ranks(scores)["a"].tolist()
    [1.0, 1.0, 2.0]
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from functools import lru_cache
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from analysis.normalize import Prepared

#: Scores closer than this (absolute, on normalized regret) count as ties.
TIE_DECIMALS = 12


def _stats() -> ModuleType:
    """scipy.stats, imported when a test needs it: the leaderboard that ``python -m bench`` prints
    after a sweep (:func:`final_ranks`) does not, and the import costs about 0.4 s."""
    from scipy import stats

    return stats


def _rounded(scores: pd.DataFrame) -> pd.DataFrame:
    # Float noise must not break a tie between two optimizers that both hit the optimum.
    return scores.astype(np.float64).round(TIE_DECIMALS)


def ranks(scores: pd.DataFrame) -> pd.DataFrame:
    """Per-task ranks, 1 = lowest score = best; ties averaged; NaN stays NaN.

    A task where some optimizers lack a score ranks the others among themselves.

    Example:
        >>> ranks(pd.DataFrame({"a": [0.0, 1.0], "b": [0.0, 0.5], "c": [2.0, None]})).to_dict("list")
        {'a': [1.5, 2.0], 'b': [1.5, 1.0], 'c': [3.0, nan]}
    """
    return _rounded(scores).rank(axis=1, method="average", ascending=True)


def complete_blocks(scores: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Split off the tasks where some optimizer has no score.

    Returns:
        The complete rows and the list of dropped task ids.

    Example:
        >>> complete_blocks(pd.DataFrame({"a": [1.0, None], "b": [2.0, 3.0]}, index=["t1", "t2"]))[1]
        ['t2']
    """
    ok = scores.notna().all(axis=1)
    return scores[ok], [str(t) for t in scores.index[~ok]]


@dataclass(frozen=True)
class Block:
    """A complete score table (no NaN) cut out of an incomplete one, and what was cut.

    Attributes:
        scores: tasks x optimizers, every cell present.
        dropped_tasks: tasks left out because a kept optimizer had no score on them.
        dropped_optimizers: optimizers left out because keeping them would have cost
            more cells (tasks x optimizers) than it added.
    """

    scores: pd.DataFrame
    dropped_tasks: list[str]
    dropped_optimizers: list[str]


def largest_complete_block(scores: pd.DataFrame, min_optimizers: int = 2) -> Block:
    """The complete tasks x optimizers block with the most cells, found greedily.

    Dropping the tasks that some optimizer lacks (:func:`complete_blocks`) can
    leave almost nothing when one optimizer ran on a few tasks only; then that
    optimizer is dropped instead. Starting from all optimizers, the one whose
    removal completes the most tasks is removed in turn (never below
    ``min_optimizers``), and the block with the most cells wins; ties keep
    more optimizers.

    Example:
        >>> s = pd.DataFrame({"a": [0.1, 0.2, 0.3], "b": [0.2, 0.1, 0.3], "c": [0.5, None, None]},
        ...                  index=["t1", "t2", "t3"])
        >>> b = largest_complete_block(s)
        >>> b.scores.shape, b.dropped_optimizers, b.dropped_tasks
        ((3, 2), ['c'], [])
    """
    avail = scores.notna().to_numpy()
    cols = list(scores.columns)
    keep = list(range(len(cols)))

    def n_complete(idx: list[int]) -> int:
        return int(avail[:, idx].all(axis=1).sum()) if idx else 0

    best, best_cells = list(keep), n_complete(keep) * len(keep)
    if best_cells < avail.size:
        while len(keep) > max(min_optimizers, 1):
            # Remove the optimizer whose absence completes most tasks; on a tie, the one with fewest scores.
            n, _, j = max((n_complete([i for i in keep if i != j]), -int(avail[:, j].sum()), j) for j in keep)
            keep = [i for i in keep if i != j]
            if n * len(keep) > best_cells:
                best, best_cells = list(keep), n * len(keep)
    sub = scores.iloc[:, best]
    full, dropped = complete_blocks(sub)
    return Block(full, dropped, [str(cols[i]) for i in range(len(cols)) if i not in best])


def run_scores(df: pd.DataFrame, prep: Prepared | None = None) -> pd.DataFrame:
    """One row per run with the ``score`` leaderboards rank it by (lower is better).

    Single-objective task types: final normalized regret of the first objective; multi-objective
    types: final hypervolume regret, each objective in the direction the frame's ``objectives``
    column gives it.

    Example:
        >>> from analysis.synthetic import synthetic_results
        >>> len(run_scores(synthetic_results(n_tasks=2, n_optimizers=2, n_seeds=3)))
        12
    """
    from analysis.normalize import SINGLE_OBJECTIVE_TYPES, prepare

    prep = prep if prep is not None else prepare(df)
    runs = prep.runs.assign(task_type=prep.runs["task_type"].astype(str))
    single = runs["task_type"].isin(SINGLE_OBJECTIVE_TYPES)
    parts = [runs[single].assign(score=runs.loc[single, "final_regret"])]
    if not single.all():
        from analysis.leaderboard.hypervolume import hv_runs

        mo = hv_runs(df, prep=prep)
        parts.append(mo.assign(task_type=mo["task_type"].astype(str), score=mo["final_hv_regret"]))
    return pd.concat(parts, ignore_index=True)


def seed_means(runs: pd.DataFrame) -> pd.DataFrame:
    """The long score table of per-run scores: ``task, task_type, optimizer, score, n_runs``, the mean
    ``score`` of each (task, optimizer) over its runs and how many there were.

    Example:
        >>> runs = pd.DataFrame({"task": ["t", "t"], "task_type": ["bb", "bb"], "optimizer": ["a", "a"],
        ...                      "score": [0.2, 0.4]})
        >>> seed_means(runs).values.tolist()
        [['t', 'bb', 'a', 0.30000000000000004, 2]]
    """
    grouped = runs.groupby(["task", "task_type", "optimizer"], observed=True)["score"]
    out = grouped.agg(["mean", "count"]).reset_index()
    return out.rename(columns={"mean": "score", "count": "n_runs"})[
        ["task", "task_type", "optimizer", "score", "n_runs"]
    ]


def final_ranks(df: pd.DataFrame) -> pd.DataFrame:
    """Cheap leaderboard for the end of a sweep: mean per-task rank of each optimizer.

    Single-objective tasks are scored by final normalized regret, multi-objective
    tasks by final hypervolume regret, both averaged over seeds. Each task ranks
    the optimizers that have a run on it, so ``n_tasks`` can differ between
    optimizers when the grid is incomplete.

    Args:
        df: the long results frame; on multi-objective tasks its ``objectives`` column says in
            which direction each objective goes (``bench.results.load`` gives it to every run).

    Returns:
        Indexed by optimizer, sorted best first: ``mean_rank``, ``n_tasks``, ``mean_regret``.

    Example:
        >>> from analysis.synthetic import synthetic_results
        >>> final_ranks(synthetic_results(n_tasks=4, n_optimizers=3, n_seeds=2)).index.tolist()
        ['opt2', 'opt1', 'opt0']
    """
    from analysis.normalize import score_table

    table = score_table(run_scores(df), value="score")
    r = ranks(table)
    out = pd.DataFrame(
        {"mean_rank": r.mean(), "n_tasks": r.notna().sum().astype(int), "mean_regret": table.mean()}
    )
    out.index.name = "optimizer"
    return out.sort_values(["mean_rank", "mean_regret"])


@dataclass(frozen=True)
class MeanRanks:
    """Mean rank per optimizer with a bootstrap confidence interval over tasks."""

    table: pd.DataFrame  # index optimizer; mean_rank, ci_low, ci_high, n_tasks
    dropped_tasks: list[str]
    note: str = ""


def mean_ranks(scores: pd.DataFrame, n_boot: int = 1000, ci: float = 0.95, seed: int = 0) -> MeanRanks:
    """Mean rank over complete tasks, with a percentile bootstrap CI resampling tasks.

    Example:
        >>> s = pd.DataFrame({"a": [0.1, 0.1, 0.3, 0.0], "b": [0.2, 0.3, 0.1, 0.5]})
        >>> mean_ranks(s, n_boot=200).table["mean_rank"].to_dict()
        {'a': 1.25, 'b': 1.75}
    """
    if not 0 < ci < 1:
        raise ValueError(f"ci must lie in (0, 1), got {ci!r}")
    full, dropped = complete_blocks(scores)
    r = ranks(full)
    table = pd.DataFrame({"mean_rank": r.mean(), "ci_low": np.nan, "ci_high": np.nan, "n_tasks": len(r)})
    table.index.name = "optimizer"
    note = ""
    if len(r) < 2:
        note = f"{len(r)} complete task(s): too few for a confidence interval"
    elif n_boot > 0:
        rng = np.random.default_rng(seed)
        values = r.to_numpy()
        means = np.empty((n_boot, values.shape[1]))
        # Chunks bound memory at ~ 8 * chunk * N * k bytes for 10^3+ tasks.
        chunk = max(1, 2_000_000 // max(values.size, 1))
        for lo in range(0, n_boot, chunk):
            idx = rng.integers(0, len(values), size=(min(chunk, n_boot - lo), len(values)))
            means[lo : lo + len(idx)] = values[idx].mean(axis=1)
        a = (1 - ci) / 2
        table["ci_low"] = np.quantile(means, a, axis=0)
        table["ci_high"] = np.quantile(means, 1 - a, axis=0)
    return MeanRanks(table.sort_values("mean_rank"), dropped, note)


@dataclass(frozen=True)
class FriedmanResult:
    """Friedman test (tie-corrected, as scipy) and the Iman-Davenport F variant."""

    statistic: float
    pvalue: float
    iman_davenport: float
    iman_davenport_pvalue: float
    k: int
    n: int
    mean_ranks: pd.Series
    dropped_tasks: list[str] = field(default_factory=list)
    note: str = ""


def friedman(scores: pd.DataFrame) -> FriedmanResult:
    """Friedman's chi-square over complete tasks, and Iman-Davenport's F.

    Valid for any k >= 2 optimizers and N >= 2 tasks (for k = 2 it is a
    two-sided sign test); the chi-square approximation is rough for small N.

    Example:
        >>> s = pd.DataFrame({"a": [1, 1, 1, 2.0], "b": [2, 2, 2, 1.0], "c": [3, 3, 3, 3.0]})
        >>> round(friedman(s).statistic, 3)
        6.5
    """
    full, dropped = complete_blocks(scores)
    r = ranks(full)
    n, k = r.shape
    mr = r.mean()
    nan = float("nan")
    if k < 2 or n < 2:
        note = f"Friedman needs >= 2 optimizers and >= 2 complete tasks; got k={k}, N={n}"
        return FriedmanResult(nan, nan, nan, nan, k, n, mr, dropped, note)
    values = r.to_numpy()
    rank_sums = values.sum(axis=0)
    ssbn = float((rank_sums**2).sum())
    chi2 = 12.0 / (k * n * (k + 1)) * ssbn - 3.0 * n * (k + 1)
    # Tie correction identical to scipy.stats.friedmanchisquare.
    ties = 0.0
    for row in _rounded(full).to_numpy():
        _, counts = np.unique(row, return_counts=True)
        ties += float((counts**3 - counts).sum())
    c = 1.0 - ties / (k * (k * k - 1) * n)
    note = ""
    if c <= 0:
        return FriedmanResult(0.0, 1.0, 0.0, 1.0, k, n, mr, dropped, "all optimizers tie on every task")
    chi2 /= c
    p = float(_stats().chi2.sf(chi2, k - 1))
    denom = n * (k - 1) - chi2
    ff = (n - 1) * chi2 / denom if denom > 0 else float("inf")
    pf = float(_stats().f.sf(ff, k - 1, (k - 1) * (n - 1))) if np.isfinite(ff) else 0.0
    if n < 10 or k < 5:
        note = f"k={k}, N={n}: chi-square approximation is rough; prefer the Iman-Davenport p-value"
    return FriedmanResult(float(chi2), p, float(ff), pf, k, n, mr, dropped, note)


@lru_cache(maxsize=256)
def q_alpha(k: int, alpha: float = 0.05) -> float:
    """Studentized-range quantile divided by sqrt(2): Demšar's q_alpha for Nemenyi.

    Example:
        >>> round(q_alpha(10), 3)
        3.164
    """
    if k < 2:
        raise ValueError(f"q_alpha needs k >= 2 optimizers, got k={k}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha!r}")
    return float(_stats().studentized_range.ppf(1 - alpha, k, np.inf) / np.sqrt(2))


def critical_difference(k: int, n: int, alpha: float = 0.05) -> float:
    """Nemenyi critical difference of mean ranks: q_alpha * sqrt(k (k + 1) / (6 N)).

    Example:
        >>> round(critical_difference(4, 14), 3)
        1.254
    """
    if n < 1:
        raise ValueError(f"critical_difference needs N >= 1 tasks, got N={n}")
    return q_alpha(k, alpha) * float(np.sqrt(k * (k + 1) / (6.0 * n)))


def holm(pvalues: np.ndarray) -> np.ndarray:
    """Holm step-down adjustment of a 1-D array of p-values (NaN kept).

    Example:
        >>> holm(np.array([0.01, 0.04, 0.03])).round(2).tolist()
        [0.03, 0.06, 0.06]
    """
    p = np.asarray(pvalues, dtype=np.float64)
    out = np.full_like(p, np.nan)
    ok = np.flatnonzero(np.isfinite(p))
    m = len(ok)
    if m == 0:
        return out
    order = ok[np.argsort(p[ok], kind="stable")]
    adj = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    out[order] = adj
    return out


@dataclass(frozen=True)
class PosthocResult:
    """Pairwise post-hoc comparison.

    Attributes:
        method: ``nemenyi``, ``conover_holm`` or ``wilcoxon_holm``.
        pvalues: symmetric optimizers x optimizers matrix (diagonal 1).
        mean_ranks: mean rank per optimizer over the complete tasks, sorted.
        n: complete tasks used.
        alpha: significance level.
        cd: Nemenyi critical difference (NaN for other methods).
        dropped_tasks: tasks left out because some optimizer had no score.
        note: why the test could not run, or a caveat.
    """

    method: str
    pvalues: pd.DataFrame
    mean_ranks: pd.Series
    n: int
    alpha: float
    cd: float = float("nan")
    dropped_tasks: list[str] = field(default_factory=list)
    note: str = ""

    def significant(self) -> pd.DataFrame:
        """Boolean matrix: pair differs at level ``alpha``."""
        return self.pvalues < self.alpha

    def cliques(self) -> list[list[str]]:
        """Groups of optimizers, contiguous in rank order, not significantly different.

        With a critical difference (Nemenyi) a group spans ranks closer than CD;
        otherwise every pair inside a group has an adjusted p-value >= alpha.
        Only maximal groups with at least two members are returned.
        """
        order = list(self.mean_ranks.sort_values().index)
        r = self.mean_ranks
        groups: list[list[str]] = []
        for i in range(len(order)):
            j = i
            while j + 1 < len(order):
                cand = order[i : j + 2]
                if np.isfinite(self.cd):
                    same = r[cand[-1]] - r[cand[0]] < self.cd
                else:
                    same = bool((self.pvalues.loc[cand, cand].to_numpy() >= self.alpha).all())
                if not same:
                    break
                j += 1
            group = order[i : j + 1]
            if len(group) > 1 and not any(set(group) <= set(g) for g in groups):
                groups.append(group)
        return groups


def _posthoc_setup(
    scores: pd.DataFrame, method: str, alpha: float, min_n: int = 2
) -> tuple[pd.DataFrame, pd.DataFrame, list[str], PosthocResult | None]:
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha!r}")
    full, dropped = complete_blocks(scores)
    r = ranks(full)
    n, k = r.shape
    if k < 2 or n < min_n:
        names = list(scores.columns)
        nanm = pd.DataFrame(np.nan, index=names, columns=names)
        note = f"{method} needs >= 2 optimizers and >= {min_n} complete tasks; got k={k}, N={n}"
        return (
            full,
            r,
            dropped,
            PosthocResult(method, nanm, r.mean().sort_values(), n, alpha, dropped_tasks=dropped, note=note),
        )
    return full, r, dropped, None


def nemenyi(scores: pd.DataFrame, alpha: float = 0.05) -> PosthocResult:
    """Nemenyi all-pairs test with its critical difference (Demšar 2006).

    Example:
        >>> s = pd.DataFrame({"a": [0.0] * 8, "b": [0.5] * 8, "c": [1.0] * 8})
        >>> res = nemenyi(s)
        >>> bool(res.significant().loc["a", "c"]), round(res.cd, 3)
        (True, 1.172)
    """
    _, r, dropped, early = _posthoc_setup(scores, "nemenyi", alpha)
    if early is not None:
        return early
    n, k = r.shape
    mr = r.mean()
    se = np.sqrt(k * (k + 1) / (6.0 * n))
    diff = np.abs(mr.to_numpy()[:, None] - mr.to_numpy()[None, :])
    p = _stats().studentized_range.sf(diff * np.sqrt(2) / se, k, np.inf)
    p = np.where(diff == 0, 1.0, np.clip(p, 0.0, 1.0))
    pv = pd.DataFrame(p, index=r.columns, columns=r.columns)
    cd = critical_difference(k, n, alpha)
    return PosthocResult("nemenyi", pv, mr.sort_values(), n, alpha, cd, dropped)


def conover_holm(scores: pd.DataFrame, alpha: float = 0.05) -> PosthocResult:
    """Conover's post-hoc test for Friedman (t on rank sums), Holm-adjusted.

    Example:
        >>> s = pd.DataFrame({"a": [0.0, 0.1, 0.0, 0.2, 0.1], "b": [0.5, 0.4, 0.6, 0.5, 0.1],
        ...                   "c": [1.0, 0.9, 0.8, 0.9, 0.7]})
        >>> bool(conover_holm(s).significant().loc["a", "c"])
        True
    """
    _, r, dropped, early = _posthoc_setup(scores, "conover_holm", alpha)
    if early is not None:
        return early
    b, k = r.shape
    values = r.to_numpy()
    a2 = float((values**2).sum())
    rs = values.sum(axis=0)
    var = 2.0 * (b * a2 - float((rs**2).sum())) / ((b - 1) * (k - 1))
    diff = np.abs(rs[:, None] - rs[None, :])
    with np.errstate(divide="ignore", invalid="ignore"):
        t = diff / np.sqrt(var) if var > 0 else np.where(diff > 0, np.inf, 0.0)
    p = 2.0 * _stats().t.sf(t, (b - 1) * (k - 1))
    iu = np.triu_indices(k, 1)
    adj = np.ones((k, k))
    adj[iu] = holm(p[iu])
    adj.T[iu] = adj[iu]
    pv = pd.DataFrame(adj, index=r.columns, columns=r.columns)
    return PosthocResult("conover_holm", pv, r.mean().sort_values(), b, alpha, dropped_tasks=dropped)


def wilcoxon_holm(scores: pd.DataFrame, alpha: float = 0.05) -> PosthocResult:
    """Pairwise Wilcoxon signed-rank tests on per-task scores, Holm-adjusted.

    Example:
        >>> s = pd.DataFrame({"a": np.linspace(0, 0.1, 10), "b": np.linspace(0.5, 1, 10)})
        >>> wilcoxon_holm(s).pvalues.loc["a", "b"] < 0.01
        np.True_
    """
    full, r, dropped, early = _posthoc_setup(scores, "wilcoxon_holm", alpha)
    if early is not None:
        return early
    values = _rounded(full).to_numpy()
    k = values.shape[1]
    iu = np.triu_indices(k, 1)
    raw = np.empty(len(iu[0]))
    for m, (i, j) in enumerate(zip(*iu, strict=True)):
        d = values[:, i] - values[:, j]
        if not np.any(d != 0):
            raw[m] = 1.0
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            raw[m] = float(_stats().wilcoxon(values[:, i], values[:, j], zero_method="wilcox").pvalue)
    adj = np.ones((k, k))
    adj[iu] = holm(raw)
    adj.T[iu] = adj[iu]
    pv = pd.DataFrame(adj, index=full.columns, columns=full.columns)
    n = len(full)
    note = f"N={n} tasks: Wilcoxon cannot reach p < 0.05 with fewer than 6" if n < 6 else ""
    return PosthocResult(
        "wilcoxon_holm", pv, r.mean().sort_values(), n, alpha, dropped_tasks=dropped, note=note
    )


def bootstrap_mean(table: pd.DataFrame, n_boot: int = 1000, ci: float = 0.95, seed: int = 0) -> pd.DataFrame:
    """Column means over rows (tasks) with a percentile bootstrap CI; NaN rows of a column skipped.

    Example:
        >>> bootstrap_mean(pd.DataFrame({"a": [0.0, 1.0, 0.5]}), n_boot=100).loc["a", "mean"]
        np.float64(0.5)
    """
    if not 0 < ci < 1:
        raise ValueError(f"ci must lie in (0, 1), got {ci!r}")
    rng = np.random.default_rng(seed)
    a = (1 - ci) / 2
    rows = {}
    for col in table.columns:
        v = table[col].dropna().to_numpy(dtype=np.float64)
        lo = hi = float("nan")
        if len(v) > 1 and n_boot > 0:
            boots = v[rng.integers(0, len(v), size=(n_boot, len(v)))].mean(axis=1)
            lo, hi = float(np.quantile(boots, a)), float(np.quantile(boots, 1 - a))
        rows[col] = [float(v.mean()) if len(v) else float("nan"), lo, hi, len(v)]
    out = pd.DataFrame.from_dict(rows, orient="index", columns=["mean", "ci_low", "ci_high", "n_tasks"])
    out.index.name = table.columns.name
    return out


def wins_ties_losses(scores: pd.DataFrame, baseline: str) -> pd.DataFrame:
    """Per optimizer: tasks where it beats, ties or loses to ``baseline`` (lower score wins).

    Example:
        >>> s = pd.DataFrame({"rs": [0.5, 0.5, 0.1], "x": [0.1, 0.5, 0.2]})
        >>> wins_ties_losses(s, "rs").loc["x"].tolist()
        [1, 1, 1]
    """
    if baseline not in scores.columns:
        raise ValueError(f"unknown baseline {baseline!r}; valid choices: {sorted(scores.columns)}")
    s = _rounded(scores)
    base = s[baseline]
    rows = {}
    for opt in s.columns:
        both = s[opt].notna() & base.notna()
        d = (s.loc[both, opt] - base[both]).to_numpy()
        rows[opt] = [int((d < 0).sum()), int((d == 0).sum()), int((d > 0).sum())]
    out = pd.DataFrame.from_dict(rows, orient="index", columns=["wins", "ties", "losses"])
    out.index.name = "optimizer"
    return out
