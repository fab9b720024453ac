"""Does a subset *selector* beat random subsets? Leave-optimizers-out cross-validation.

:func:`analysis.subsets.validation.validate` judges ONE subset on one group of held-out optimizers;
one subset is one draw. This module judges the *method* that picks subsets: a selector is run
many times, each time blind to some optimizers, and each pick is judged on the optimizers it did not
see, against random subsets of the same size.

The protocol (:func:`evaluate_selector`), for a complete score table ``scores`` (tasks x all ``m``
optimizers, lower is better, no NaN), a selector, a subset size ``k`` and one ``seed``:

1. **Folds.** In each of ``repeats`` repetitions the optimizers (sorted by name, then shuffled) are
   cut into ``min(n_folds, m // 2)`` contiguous groups of near-equal size (``np.array_split``). A
   group of fewer than 2 optimizers would have no ranking to reproduce, so asking for more folds
   than ``m // 2`` merges groups until each has at least 2 (``m >= 4`` and ``n_folds >= 2`` make
   every group leave at least 2 optimizers to the selector). :func:`fold_plan` gives the folds.
2. **Selection.** For each group ``G`` (held out) and each of ``seeds`` selection seeds, the
   selector gets a :class:`SelectionInput` with ``scores[others]`` only (and ``noise[others]``,
   ``families``, ``k`` and its own generator) and returns ``k`` distinct task ids. It never sees a
   score of an optimizer of ``G``. One (repetition, fold, seed) is a *cell*.
3. **Measures**, on the held-out optimizers ``G`` only, subset against all tasks:

   * ``tau``: Kendall tau-b (:func:`~analysis.subsets.validation.kendall_tau_b`) between the mean
     ranks on the subset and on all tasks; ranks are per task among ``G`` (1 = lowest score, ties
     averaged, :func:`analysis.leaderboard.stats.ranks`);
   * ``rank_error``: the mean absolute difference between those two mean-rank vectors;
   * ``score_corr``: the Pearson correlation between the mean *normalized* scores on the subset and
     on all tasks. Each task's scores are min-max normalized across ``G`` (best 0, worst 1; 0.5 for
     all when they tie) so that every task weighs the same whatever its score scale. Unlike ranks it
     sees how far apart the optimizers are on a task. With ``|G| = 2`` it is only the sign (+-1);
   * ``pairs_kept``: of the ``G`` pairs the full set's Nemenyi test separates (alpha 0.05, as in
     :func:`~analysis.subsets.validation.validate`), the share the subset orders the same way
     (strictly). NaN when the full set separates no pair of ``G``.

   A subset whose mean ranks (or normalized means) all tie has no ranking: its ``tau`` (or
   ``score_corr``) counts as 0, for the selected and the random subsets alike. When ``G`` itself
   ties on all tasks the measure is NaN for the cell.
4. **Percentiles.** Each measure of the cell becomes a percentile among ``n_random`` uniformly
   random ``k``-subsets of all tasks, drawn for that cell and judged on the same ``G``: the share of
   random subsets that do *worse* (a lower ``tau``, ``score_corr``, ``pairs_kept``; a *larger*
   ``rank_error``), equal values counting half. 50 is chance; a selector that picks uniformly at
   random has an expected percentile of exactly 50 on every measure (its subset is exchangeable
   with the random ones).
5. **Aggregate.** Per measure: the mean percentile over the cells where it is defined, with a
   ``ci`` (default 90%) percentile-bootstrap interval from ``n_boot`` two-level resamples: the
   held-out groups (one per repetition and fold) are drawn with replacement, then, inside each drawn
   group, its selection seeds are drawn with replacement. Cells of a group move together, so the
   interval carries both the variation between held-out groups and between selection seeds. (The
   groups of one repetition partition the same optimizers, so they are not independent: the
   interval is a guide, not an exact level.) The raw mean of each measure, for the selected subsets
   and for the random ones, is reported next to it.

Determinism: everything derives from ``seed`` through :class:`numpy.random.SeedSequence` spawn keys
(``(0, r)`` the shuffle of repetition ``r``, ``(1, r, f, s)`` the selector's generator, ``(2, r, f,
s)`` the random subsets of a cell, ``(3,)`` the bootstrap), the same keys as nested ``spawn``. The
same seed therefore gives every selector and every ``k`` the same folds, selector generators and
random draws: :func:`compare` is a paired comparison.

How well could ANY subset do? A subset can reproduce the full ranking only as far as the per-task
ranking is reproducible between seeds: :func:`split_half_ceiling` (per-seed runs, not score tables)
says so, and a selector near 50 on a group whose split-half reliability is near 0 is at the ceiling.

Example:
    >>> rng = np.random.default_rng(0)
    >>> s = pd.DataFrame(rng.random((60, 6)), index=[f"t{i}" for i in range(60)],
    ...                  columns=[f"o{j}" for j in range(6)])
    >>> def pick(inp: SelectionInput) -> list[str]:  # uniformly random subset
    ...     return list(inp.rng.choice(inp.scores.index, inp.k, replace=False))
    >>> res = evaluate_selector(s, pick, 10, n_folds=3, repeats=1, seeds=2, n_random=50, n_boot=50)
    >>> res.n_cells, res.n_folds, [len(g) for g in res.folds[0]]
    (6, 3, [2, 2, 2])
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from analysis.leaderboard.stats import ranks
from analysis.subsets.selectors import SelectionInput
from analysis.subsets.validation import (
    TIE_TOL,
    _pairs_kept,
    _separated_pairs,
    kendall_tau_b,
    seed_reliability,
)

#: The measures, in table order; each is "higher is better" except ``rank_error``.
MEASURES = ("tau", "rank_error", "score_corr", "pairs_kept")
#: Column headings of :func:`markdown_table`.
MEASURE_LABELS = {
    "tau": "τ",
    "rank_error": "mean-rank error",
    "score_corr": "score r",
    "pairs_kept": "pairs kept",
}
_LOWER_IS_BETTER = frozenset({"rank_error"})
# SeedSequence spawn-key roots of the four random streams (see the module docstring)
_FOLDS, _SELECT, _RANDOM, _BOOT = 0, 1, 2, 3


#: A selector: k distinct task ids (index labels of ``SelectionInput.scores``); the selectors of
#: :mod:`analysis.subsets.selectors` are such callables.
Selector = Callable[[SelectionInput], Sequence[str]]


@dataclass(frozen=True)
class MeasureSummary:
    """One measure aggregated over the cells.

    Attributes:
        percentile: mean percentile among random subsets (50 = chance, higher is better).
        lo: lower end of the bootstrap interval of ``percentile``.
        hi: upper end.
        value: mean of the measure on the selected subsets.
        random: mean of the measure on the random subsets.
        n_cells: cells where the measure is defined.
    """

    percentile: float
    lo: float
    hi: float
    value: float
    random: float
    n_cells: int


@dataclass(frozen=True, eq=False)
class ProtocolResult:
    """A selector judged by leave-optimizers-out cross-validation (see the module docstring).

    Attributes:
        selector: the selector's name.
        k: subset size.
        n_tasks: tasks of the score table.
        n_optimizers: optimizers of the score table.
        n_folds: held-out groups per repetition actually used (``n_folds`` asked, merged to ``m // 2``).
        repeats: repetitions (random re-partitions of the optimizers).
        seeds: selection seeds per held-out group.
        n_random: random subsets per cell.
        n_boot: bootstrap resamples.
        ci: level of the bootstrap interval.
        seed: the seed everything derives from.
        folds: per repetition, the held-out groups (each a tuple of optimizer names).
        cells: one row per cell: ``repetition``, ``fold``, ``seed``, ``held_out`` (comma-joined) and,
            per measure, its value (``tau``), the mean over the random subsets (``tau_random``) and
            the percentile (``tau_pct``).
        measures: per measure (:data:`MEASURES`), the aggregate.
        selector_seconds: time spent inside the selector.
        protocol_seconds: the rest (folds, measures, random subsets, bootstrap).
    """

    selector: str
    k: int
    n_tasks: int
    n_optimizers: int
    n_folds: int
    repeats: int
    seeds: int
    n_random: int
    n_boot: int
    ci: float
    seed: int
    folds: tuple[tuple[tuple[str, ...], ...], ...]
    cells: pd.DataFrame
    measures: Mapping[str, MeasureSummary]
    selector_seconds: float
    protocol_seconds: float

    @property
    def n_cells(self) -> int:
        """Cells judged: repetitions x held-out groups x selection seeds."""
        return len(self.cells)

    def summary(self) -> str:
        """A few lines for the terminal.

        Example:
            >>> s = pd.DataFrame(np.arange(80.0).reshape(20, 4) % 7, index=[f"t{i}" for i in range(20)],
            ...                  columns=list("abcd"))
            >>> res = evaluate_selector(s, lambda inp: list(inp.scores.index[: inp.k]), 5, repeats=1,
            ...                         seeds=1, n_random=20, n_boot=20, name="first")
            >>> print(res.summary().splitlines()[0])
            selector 'first', k=5: 2 cells (1 x 2 x 1: repetitions x held-out groups x seeds)
        """
        pct = f"{100 * self.ci:.0f}%"
        lines = [
            f"selector {self.selector!r}, k={self.k}: {self.n_cells} cells "
            f"({self.repeats} x {self.n_folds} x {self.seeds}: repetitions x held-out groups x seeds)",
            f"{'measure':<16} {'selected':>9} {'random':>9}   percentile [{pct} interval]  cells",
        ]
        for m in MEASURES:
            s = self.measures[m]
            lines.append(
                f"{MEASURE_LABELS[m]:<16} {s.value:>9.3f} {s.random:>9.3f}   "
                f"{s.percentile:5.1f} [{s.lo:5.1f}, {s.hi:5.1f}]{'':>9}{s.n_cells}"
            )
        lines.append(
            f"percentile among {self.n_random} random subsets per cell: higher is better, 50 = chance; "
            f"time: protocol {self.protocol_seconds:.2f} s, "
            f"selector {self.selector_seconds:.2f} s"
        )
        return "\n".join(lines)

    def row(self) -> dict[str, Any]:
        """One row of :func:`compare`: ``selector``, ``k``, ``n_cells``, then per measure the mean
        percentile (``tau``), its interval (``tau_lo``, ``tau_hi``), the raw means (``tau_value``,
        ``tau_random``) and the cells where it is defined (``tau_cells``).

        Example:
            >>> s = pd.DataFrame(np.arange(80.0).reshape(20, 4) % 7, index=[f"t{i}" for i in range(20)],
            ...                  columns=list("abcd"))
            >>> res = evaluate_selector(s, lambda inp: list(inp.scores.index[: inp.k]), 5, repeats=1,
            ...                         seeds=1, n_random=20, n_boot=20, name="first")
            >>> list(res.row())[:6]
            ['selector', 'k', 'n_cells', 'tau', 'tau_lo', 'tau_hi']
        """
        out: dict[str, Any] = {"selector": self.selector, "k": self.k, "n_cells": self.n_cells}
        for m in MEASURES:
            s = self.measures[m]
            out |= {
                m: s.percentile,
                f"{m}_lo": s.lo,
                f"{m}_hi": s.hi,
                f"{m}_value": s.value,
                f"{m}_random": s.random,
                f"{m}_cells": s.n_cells,
            }
        return out


def fold_plan(
    optimizers: Sequence[str], n_folds: int, repeats: int, seed: int = 0
) -> tuple[tuple[tuple[str, ...], ...], ...]:
    """The held-out groups of each repetition: a partition of ``optimizers`` into
    ``min(n_folds, m // 2)`` groups of at least 2 (sizes differ by at most 1).

    The optimizers are sorted by name before the shuffle, so their column order does not matter.

    Example:
        >>> plan = fold_plan(list("abcdefg"), n_folds=5, repeats=2, seed=0)
        >>> [sorted(len(g) for g in rep) for rep in plan]  # 5 folds of 7 merge to 3
        [[2, 2, 3], [2, 2, 3]]
        >>> sorted(o for g in plan[0] for o in g)
        ['a', 'b', 'c', 'd', 'e', 'f', 'g']
    """
    opts = sorted(str(o) for o in optimizers)
    if len(set(opts)) != len(opts):
        raise ValueError(f"optimizers {opts} contain duplicates")
    if len(opts) < 4:
        raise ValueError(
            f"{len(opts)} optimizers {opts}: the protocol needs >= 4, so that a held-out group of 2 "
            "leaves >= 2 for the selector"
        )
    if n_folds < 2:
        raise ValueError(f"n_folds={n_folds} must be >= 2 (with one fold the selector would see nothing)")
    if repeats < 1:
        raise ValueError(f"repeats={repeats} must be >= 1")
    n_used = min(n_folds, len(opts) // 2)
    plan = []
    for r in range(repeats):
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(_FOLDS, r)))
        perm = rng.permutation(len(opts))
        plan.append(tuple(tuple(opts[i] for i in part) for part in np.array_split(perm, n_used)))
    return tuple(plan)


@dataclass(frozen=True)
class _Group:
    """What the measures need of one held-out group, computed once for all its cells."""

    held: list[str]
    rank: np.ndarray  # (n, g) per-task ranks among the group
    norm: np.ndarray  # (n, g) per-task min-max normalized scores among the group
    full_rank: np.ndarray  # (g,) mean ranks on all tasks
    full_norm: np.ndarray  # (g,) mean normalized scores on all tasks
    pairs: tuple[tuple[str, str], ...]  # (better, worse) pairs the full set's Nemenyi test separates


def _group(scores: pd.DataFrame, held: Sequence[str], alpha: float) -> _Group:
    sub = scores[list(held)]
    r = ranks(sub).to_numpy()
    x = sub.to_numpy(dtype=float)
    lo, span = x.min(axis=1, keepdims=True), np.ptp(x, axis=1, keepdims=True)
    tied = span <= TIE_TOL
    norm = np.where(tied, 0.5, (x - lo) / np.where(tied, 1.0, span))
    return _Group(list(held), r, norm, r.mean(axis=0), norm.mean(axis=0), _separated_pairs(sub, alpha))


def _pearson(x: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Pearson correlation of ``x`` (g,) with each row of ``ys`` (B, g); NaN where a side is constant."""
    xc = x - x.mean()
    yc = ys - ys.mean(axis=1, keepdims=True)
    denom = np.sqrt((xc * xc).sum() * (yc * yc).sum(axis=1))
    ok = denom > TIE_TOL
    return np.where(ok, (yc * xc).sum(axis=1) / np.where(ok, denom, 1.0), np.nan)


def _measures(grp: _Group, mean_rank: np.ndarray, mean_norm: np.ndarray) -> dict[str, np.ndarray]:
    """The four measures for each row of ``mean_rank`` / ``mean_norm`` (B, g) of subsets."""
    b = len(mean_rank)
    nan = np.full(b, np.nan)
    # full-set side tied -> nothing to reproduce (NaN); subset side tied -> no ranking (0)
    full_tied = bool(np.isnan(kendall_tau_b(grp.full_rank, grp.full_rank[None])[0]))
    tau = nan if full_tied else np.nan_to_num(kendall_tau_b(grp.full_rank, mean_rank), nan=0.0)
    flat = np.ptp(grp.full_norm) <= TIE_TOL
    corr = nan if flat else np.nan_to_num(_pearson(grp.full_norm, mean_norm), nan=0.0)
    kept = _pairs_kept(grp.pairs, grp.held, mean_rank) / len(grp.pairs) if grp.pairs else nan
    err = np.abs(mean_rank - grp.full_rank).mean(axis=1)
    return {"tau": tau, "rank_error": err, "score_corr": corr, "pairs_kept": kept}


def _percentile(value: float, rnd: np.ndarray, lower_is_better: bool) -> float:
    """Percent of ``rnd`` that does worse than ``value``, equal (within TIE_TOL) counting half."""
    if np.isnan(value):
        return float("nan")
    worse = rnd > value + TIE_TOL if lower_is_better else rnd < value - TIE_TOL
    equal = np.abs(rnd - value) <= TIE_TOL
    return 100.0 * (np.count_nonzero(worse) + 0.5 * np.count_nonzero(equal)) / len(rnd)


def _bootstrap(pct: np.ndarray, n_boot: int, ci: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Two-level percentile bootstrap of the mean of ``pct`` (measures, groups, seeds), NaN ignored.

    Groups are drawn with replacement, then seeds within each drawn group; the same draws serve
    every measure. Returns the (lo, hi) arrays, one entry per measure.
    """
    n_m, n_g, n_s = pct.shape
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(_BOOT,)))
    gi = rng.integers(n_g, size=(n_boot, n_g))
    si = rng.integers(n_s, size=(n_boot, n_g, n_s))
    draw = pct[:, gi[:, :, None], si]  # (measures, n_boot, groups, seeds)
    ok = ~np.isnan(draw)
    cnt = ok.sum(axis=(2, 3))
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(cnt > 0, np.where(ok, draw, 0.0).sum(axis=(2, 3)) / cnt, np.nan)
    tail = 100.0 * (1.0 - ci) / 2.0
    lo, hi = np.full(n_m, np.nan), np.full(n_m, np.nan)
    for i in range(n_m):
        finite = means[i][~np.isnan(means[i])]
        if len(finite):
            lo[i], hi[i] = np.percentile(finite, [tail, 100.0 - tail])
    return lo, hi


def _check_scores(scores: pd.DataFrame, k: int) -> None:
    if scores.index.has_duplicates:
        dup = scores.index[scores.index.duplicated()][0]
        raise ValueError(f"scores have duplicate task id {dup!r}; task ids must be unique")
    if scores.columns.has_duplicates:
        dup = scores.columns[scores.columns.duplicated()][0]
        raise ValueError(f"scores have duplicate optimizer {dup!r}; optimizers must be unique")
    values = scores.to_numpy(dtype=float)
    bad = ~np.isfinite(values)
    if bad.any():
        i, j = (int(a[0]) for a in np.nonzero(bad))
        raise ValueError(
            f"scores have {int(bad.sum())} NaN/inf value(s), e.g. task {scores.index[i]!r}, optimizer "
            f"{scores.columns[j]!r}; drop incomplete tasks first (analysis.leaderboard.stats.complete_blocks)"
        )
    if not 1 <= k <= len(scores):
        raise ValueError(f"k={k} must lie in [1, {len(scores)}] (the score table has {len(scores)} tasks)")


def _check_selection(picked: Sequence[str], index: pd.Index, k: int, name: str) -> np.ndarray:
    """Positions of the selector's task ids in ``index``; ValueError unless k distinct known ids."""
    ids = list(picked)
    if len(ids) != k:
        raise ValueError(f"selector {name!r} returned {len(ids)} task ids, expected k={k}")
    pos = index.get_indexer(ids)
    if (pos < 0).any():
        raise ValueError(f"selector {name!r} returned unknown task id {ids[int(np.argmax(pos < 0))]!r}")
    if len(np.unique(pos)) != k:
        raise ValueError(
            f"selector {name!r} returned duplicate task ids: {len(np.unique(pos))} distinct of {k}"
        )
    return pos


def evaluate_selector(
    scores: pd.DataFrame,
    selector: Selector,
    k: int,
    *,
    n_folds: int = 3,
    repeats: int = 2,
    seeds: int = 3,
    n_random: int = 500,
    families: pd.Series | None = None,
    noise: pd.DataFrame | None = None,
    seed: int = 0,
    n_boot: int = 1000,
    ci: float = 0.90,
    alpha: float = 0.05,
    name: str | None = None,
) -> ProtocolResult:
    """Judge ``selector`` by leave-optimizers-out cross-validation (the protocol of the module docstring).

    Args:
        scores: tasks x all optimizers, lower is better, complete (no NaN), at least 4 optimizers.
        selector: called once per cell with a :class:`SelectionInput`; returns ``k`` task ids.
        k: subset size, 1 <= k <= tasks.
        n_folds: held-out groups per repetition (merged down to ``m // 2`` groups of >= 2).
        repeats: random re-partitions of the optimizers into folds.
        seeds: selection seeds (how many times the selector runs per held-out group).
        n_random: random subsets per cell for the percentiles.
        families: task -> family, passed to the selector (aligned to ``scores``' tasks).
        noise: tasks x optimizers seed standard deviation; the selector gets the seen columns.
        seed: the one seed of folds, selector generators, random subsets and bootstrap.
        n_boot: bootstrap resamples of the interval.
        ci: level of the interval (0.90: the 5th and 95th bootstrap percentiles).
        alpha: level of the Nemenyi test that decides which pairs the full set separates.
        name: the selector's name in the result (default: its ``__name__``).

    Returns:
        A :class:`ProtocolResult`.

    Example:
        >>> s = pd.DataFrame(np.arange(80.0).reshape(20, 4) % 7, index=[f"t{i}" for i in range(20)],
        ...                  columns=list("abcd"))
        >>> res = evaluate_selector(s, lambda inp: list(inp.scores.index[: inp.k]), 20, repeats=1,
        ...                         seeds=1, n_random=20, n_boot=20)
        >>> res.measures["tau"].percentile  # all tasks: every random subset is the same -> 50
        50.0
    """
    t_start = time.perf_counter()
    label = name if name is not None else str(getattr(selector, "__name__", "selector"))
    _check_scores(scores, k)
    for arg, val, least in (("seeds", seeds, 1), ("n_random", n_random, 1), ("n_boot", n_boot, 1)):
        if val < least:
            raise ValueError(f"{arg}={val} must be >= {least}")
    if not 0 < ci < 1:
        raise ValueError(f"ci={ci!r} must lie in (0, 1)")
    plan = fold_plan(list(scores.columns), n_folds, repeats, seed)
    table = scores.set_axis([str(c) for c in scores.columns], axis=1)
    fam = None
    if families is not None:
        missing = scores.index.difference(families.index)
        if len(missing):
            raise ValueError(f"families lack {len(missing)} task(s) of scores, e.g. {missing[0]!r}")
        fam = families.reindex(scores.index)
    noise_t = None
    if noise is not None:
        noise_t = noise.set_axis([str(c) for c in noise.columns], axis=1)
        lacking = [c for c in table.columns if c not in noise_t.columns]
        if lacking:
            raise ValueError(f"noise lacks optimizer(s) {lacking} of scores")
        gone = scores.index.difference(noise_t.index)
        if len(gone):
            raise ValueError(f"noise lacks {len(gone)} task(s) of scores, e.g. {gone[0]!r}")
        noise_t = noise_t.loc[scores.index, list(table.columns)]
    n = len(table)
    rows: list[dict[str, Any]] = []
    select_s = 0.0
    for r, groups in enumerate(plan):
        for f, held in enumerate(groups):
            grp = _group(table, held, alpha)
            seen = [c for c in table.columns if c not in held]
            for s in range(seeds):
                inp = SelectionInput(
                    scores=table[seen],
                    k=k,
                    rng=np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(_SELECT, r, f, s))),
                    families=fam,
                    noise=None if noise_t is None else noise_t[seen],
                )
                t0 = time.perf_counter()
                picked = selector(inp)
                select_s += time.perf_counter() - t0
                pos = _check_selection(picked, table.index, k, label)
                # the hot loop: n_random uniform k-subsets at once (the k smallest of iid uniforms)
                rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(_RANDOM, r, f, s)))
                idx = np.argpartition(rng.random((n_random, n)), k - 1, axis=1)[:, :k]
                idx = np.vstack([pos[None], idx])  # row 0: the selected subset
                vals = _measures(grp, grp.rank[idx].mean(axis=1), grp.norm[idx].mean(axis=1))
                row: dict[str, Any] = {"repetition": r, "fold": f, "seed": s, "held_out": ",".join(held)}
                for m in MEASURES:
                    v, rnd = float(vals[m][0]), vals[m][1:]
                    row[m] = v
                    row[f"{m}_random"] = float(rnd.mean())
                    row[f"{m}_pct"] = _percentile(v, rnd, m in _LOWER_IS_BETTER)
                rows.append(row)
    cells = pd.DataFrame(rows)
    n_groups = sum(len(g) for g in plan)
    pct = np.stack([cells[f"{m}_pct"].to_numpy(dtype=float).reshape(n_groups, seeds) for m in MEASURES])
    lo, hi = _bootstrap(pct, n_boot, ci, seed)
    measures = {}
    for i, m in enumerate(MEASURES):
        ok = cells[f"{m}_pct"].notna()
        measures[m] = MeasureSummary(
            percentile=float(cells.loc[ok, f"{m}_pct"].mean()) if ok.any() else float("nan"),
            lo=float(lo[i]),
            hi=float(hi[i]),
            value=float(cells.loc[ok, m].mean()) if ok.any() else float("nan"),
            random=float(cells.loc[ok, f"{m}_random"].mean()) if ok.any() else float("nan"),
            n_cells=int(ok.sum()),
        )
    return ProtocolResult(
        selector=label,
        k=k,
        n_tasks=n,
        n_optimizers=table.shape[1],
        n_folds=len(plan[0]),
        repeats=repeats,
        seeds=seeds,
        n_random=n_random,
        n_boot=n_boot,
        ci=ci,
        seed=seed,
        folds=plan,
        cells=cells,
        measures=measures,
        selector_seconds=select_s,
        protocol_seconds=time.perf_counter() - t_start - select_s,
    )


def drop_twins(scores: pd.DataFrame, tol: float = 1e-12) -> tuple[pd.DataFrame, dict[str, str]]:
    """``scores`` without optimizers whose scores equal another's on every task, and who each twins.

    Two optimizers can make the same trials (at a budget below its first population, Optuna's
    NSGA-II samples what its random sampler does). A twin split between the seen optimizers and a
    held-out group tells the selector the held-out scores, and two twins in one group add a pair
    that always ties: either way the protocol would judge something it was not meant to. The first
    of each group of twins (by name) stays; the result maps each dropped name to the one kept.

    Example:
        >>> s = pd.DataFrame({"b": [1.0, 2.0], "a": [1.0, 2.0], "c": [0.0, 3.0]}, index=["t1", "t2"])
        >>> kept, dropped = drop_twins(s)
        >>> list(kept.columns), dropped
        (['a', 'c'], {'b': 'a'})
    """
    names = sorted(str(c) for c in scores.columns)
    values = scores[names].to_numpy(dtype=float)
    dropped: dict[str, str] = {}
    for j, name in enumerate(names):
        if name in dropped:
            continue
        for i in range(j + 1, len(names)):
            if names[i] not in dropped and np.nanmax(np.abs(values[:, i] - values[:, j])) <= tol:
                dropped[names[i]] = name
    return scores.drop(columns=list(dropped)), dropped


def split_half_ceiling(runs: pd.DataFrame, held_out: Sequence[str]) -> tuple[float, float]:
    """How well ANY subset could reproduce the held-out optimizers' ranking: the seed-reliability ceiling.

    A wrapper of :func:`analysis.subsets.validation.seed_reliability`: ``runs`` has one row per run
    (columns ``task``, ``optimizer``, ``seed``, ``score``, lower is better; score tables average the
    seeds away, so this is a separate call on per-seed runs). Returns ``(split_half, full)``: the
    correlation of the held-out per-task ranks between even and odd seeds, and its Spearman-Brown
    estimate for all seeds. A selector can only beat random subsets through the per-task ranking that
    is reproducible between seeds; near 0, which held-out optimizer wins a task is seed noise, and
    percentiles near 50 are the ceiling, not a failure of the selector. Report it next to
    :func:`evaluate_selector` for the same held-out groups.

    Example:
        >>> rows = [(f"t{t}", o, s, (t % 2) * (o == "b") + 0.01 * s) for t in range(20)
        ...         for o in ("a", "b") for s in range(4)]
        >>> split_half_ceiling(pd.DataFrame(rows, columns=["task", "optimizer", "seed", "score"]), ["a", "b"])
        (1.0, 1.0)
    """
    return seed_reliability(runs, held_out)


def compare(
    scores: pd.DataFrame, selectors: Mapping[str, Selector], ks: Sequence[int], **protocol_kwargs: Any
) -> pd.DataFrame:
    """One :meth:`ProtocolResult.row` per (selector, k), selectors in the given order, then k.

    ``protocol_kwargs`` go to :func:`evaluate_selector` (``n_folds``, ``seed``, ...). With one seed
    every selector meets the same folds and random subsets, so rows are paired comparisons.

    Example:
        >>> s = pd.DataFrame(np.arange(80.0).reshape(20, 4) % 7, index=[f"t{i}" for i in range(20)],
        ...                  columns=list("abcd"))
        >>> first = lambda inp: list(inp.scores.index[: inp.k])
        >>> df = compare(s, {"first": first}, [3, 5], repeats=1, seeds=1, n_random=20, n_boot=20)
        >>> df[["selector", "k", "n_cells"]].values.tolist()
        [['first', 3, 2], ['first', 5, 2]]
    """
    if "name" in protocol_kwargs:
        raise ValueError("compare names each selector by its key in `selectors`; do not pass name=")
    rows = [
        evaluate_selector(scores, sel, k, name=label, **protocol_kwargs).row()
        for label, sel in selectors.items()
        for k in ks
    ]
    return pd.DataFrame(rows)


def read_markdown_tables(text: str) -> pd.DataFrame:
    """The rows of :func:`markdown_table` (``raw=True``) printed under ``### <table>:`` headings, back
    as :func:`compare` rows with a ``table`` column, so saved comparison outputs can be summarized
    without re-running them (:func:`summarize`).

    Example:
        >>> text = chr(10).join(["### a: 5 tasks", "| x | 5 | 2 | 60.0 [55.0, 65.0]; 0.900 vs 0.800 |"])
        >>> read_markdown_tables(text)[["table", "selector", "k", "tau", "tau_lo"]].values.tolist()
        [['a', 'x', 5, 60.0, 55.0]]
    """
    import re

    num = r"([-\d.naN]+)"
    cell = re.compile(rf"^\s*{num} \[{num}, {num}\](?:; {num} vs {num})?\s*$")
    rows: list[dict[str, Any]] = []
    table = ""
    for line in text.splitlines():
        if line.startswith("### "):  # "### archive:bb: 60 tasks x ...": the name ends at ": "
            table = line[4:].split(": ", 1)[0].strip()
            continue
        parts = [p.strip() for p in line.strip().strip("|").split("|")]
        if len(parts) < 3 or not parts[1].isdigit():
            continue
        rec: dict[str, Any] = {"table": table, "selector": parts[0], "k": int(parts[1])}
        rec["n_cells"] = int(parts[2])
        for m, text_cell in zip(MEASURES, parts[3:], strict=False):
            got = cell.match(text_cell)
            if got is None:
                raise ValueError(f"not a protocol table cell: {text_cell!r} (line {line!r})")
            pct, lo, hi, value, rnd = (float(g) if g is not None else float("nan") for g in got.groups())
            rec |= {m: pct, f"{m}_lo": lo, f"{m}_hi": hi, f"{m}_value": value, f"{m}_random": rnd}
        rows.append(rec)
    return pd.DataFrame(rows)


def summarize(
    rows: pd.DataFrame, measures: Sequence[str] = ("rank_error", "score_corr", "tau")
) -> pd.DataFrame:
    """Per selector, over every (table, k) cell of :func:`compare` rows: the mean percentile of each
    measure, and how many cells beat random subsets: with the interval above 50 (``above``), and at
    the 90th percentile (``at_90``), counted over the measures given. Sorted by the mean over those
    measures, best first: what docs/subsets.md chooses the default selector by.

    Example:
        >>> rows = pd.DataFrame({"table": ["t", "t"], "selector": ["a", "b"], "k": [5, 5],
        ...                      "tau": [60.0, 40.0], "tau_lo": [55.0, 30.0]})
        >>> summarize(rows, ["tau"]).reset_index()[["selector", "mean", "above", "at_90"]].values.tolist()
        [['a', 60.0, 1, 0], ['b', 40.0, 0, 0]]
    """
    out = pd.DataFrame(index=pd.Index(sorted(rows["selector"].unique()), name="selector"))
    for m in measures:
        out[m] = rows.groupby("selector")[m].mean()
    out["mean"] = out[list(measures)].mean(axis=1)
    above = (rows.assign(_x=rows[f"{m}_lo"] > 50).groupby("selector")["_x"].sum() for m in measures)
    out["above"] = sum(above)
    out["at_90"] = sum(rows.assign(_x=rows[m] >= 90).groupby("selector")["_x"].sum() for m in measures)
    out["cells"] = rows.groupby("selector").size() * len(measures)
    return out.sort_values("mean", ascending=False)


def markdown_table(df: pd.DataFrame, raw: bool = False) -> str:
    """A markdown table of :func:`compare`'s rows: per measure "mean percentile [lo, hi]".

    With ``raw`` each cell also gives the measure's mean on the selected and on random subsets.

    Example:
        >>> row = {"selector": "x", "k": 5, "n_cells": 2}
        >>> for m in MEASURES:
        ...     row |= {m: 50.0, f"{m}_lo": 40.0, f"{m}_hi": 60.0, f"{m}_value": 0.5, f"{m}_random": 0.5}
        >>> print(markdown_table(pd.DataFrame([row])).splitlines()[2])
        | x | 5 | 2 | 50.0 [40.0, 60.0] | 50.0 [40.0, 60.0] | 50.0 [40.0, 60.0] | 50.0 [40.0, 60.0] |
    """
    head = ["selector", "k", "cells", *(f"{MEASURE_LABELS[m]} percentile" for m in MEASURES)]
    lines = ["| " + " | ".join(head) + " |", "|---|---:|---:|" + "---:|" * len(MEASURES)]
    for rec in df.to_dict("records"):
        cells = [str(rec["selector"]), str(rec["k"]), str(rec["n_cells"])]
        for m in MEASURES:
            text = f"{rec[m]:.1f} [{rec[f'{m}_lo']:.1f}, {rec[f'{m}_hi']:.1f}]"
            if raw:
                text += f"; {rec[f'{m}_value']:.3f} vs {rec[f'{m}_random']:.3f}"
            cells.append(text)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
