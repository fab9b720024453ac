"""Does a task subset rank optimizers like the full task set? Validation on held-out optimizers.

A subset chosen from an embedding built with some optimizers is only useful if it also ranks
*other* optimizers (the held-out ones, not used in the embedding) as the full set does.
:func:`validate` compares the held-out optimizers' mean ranks on all tasks and on the subset:

* Kendall's tau-b between the two mean-rank vectors (ties handled as in ``scipy.stats.kendalltau``);
* its percentile among ``n_random`` uniformly random subsets of the same size (seeded): the share
  of random subsets with a lower tau, counting equal tau as half (a mid-rank percentile, so a
  subset no better than any random one scores 50, not 100);
* top-1 agreement: whether the best held-out optimizer on the subset is a best one on all tasks;
* the largest absolute change of an optimizer's position (1 = best, ties averaged);
* the mean-rank error: the mean absolute difference between an optimizer's subset and full-set mean
  rank, a finer measure than tau on a handful of optimizers, and its percentile among the random
  subsets (the share with a LARGER error, equal counting half: higher is better, 50 = chance);
* separated pairs: the held-out pairs that the full set's critical-difference test (Nemenyi, the test
  of the CD diagrams) tells apart, how many the subset orders the same way, and the share of random
  subsets that keep all of them. Near-ties that the full set cannot separate may swap on a subset.
* the subset's own conclusions: the pairs the Nemenyi test on the subset's tasks separates (mean
  ranks further apart than its critical difference, which grows as 1/sqrt(k)), and the
  *contradictions* among them, the pairs the full set orders the other way; and for random subsets
  the share with a contradiction and the mean number of pairs they separate. A subset reproduces
  the full ranking at its own resolution when it contradicts nothing: its ranking may leave
  differences smaller than its critical difference unresolved, but it claims none wrongly.

:func:`embedding_signal` says how much of the held-out per-task ranks an embedding explains at all:
a subset chosen from the embedding can only beat random subsets through that share.
:func:`seed_reliability` says how much of them is reproducible between seeds at all.

Ranks are per task and among the held-out optimizers only (1 = lowest score), averaged over the
tasks where every held-out optimizer has a score; mean ranks closer than ``1e-12`` count as tied.

Example:
    >>> s = pd.DataFrame({"a": [0.1, 0.2, 0.3, 0.1], "b": [0.2, 0.1, 0.4, 0.3],
    ...                   "c": [0.3, 0.3, 0.5, 0.2]}, index=["t1", "t2", "t3", "t4"])
    >>> v = validate(s, ["t1", "t3"], ["a", "b", "c"], n_random=100)
    >>> v.tau, v.top1_agree, v.max_rank_change
    (1.0, True, 0.0)
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.leaderboard.stats import complete_blocks, critical_difference, nemenyi, ranks

#: Mean ranks closer than this count as tied.
TIE_TOL = 1e-12


@dataclass(frozen=True)
class Validation:
    """How well a subset reproduces the full-set ranking of the held-out optimizers.

    Attributes:
        tau: Kendall tau-b between full-set and subset mean ranks (NaN when undefined).
        percentile: percent of random same-size subsets with a lower tau (equal counts half).
        random_tau_median: median tau of the random subsets.
        top1_full: best held-out optimizer(s) on all tasks.
        top1_subset: best held-out optimizer(s) on the subset.
        top1_agree: whether the two share an optimizer.
        max_rank_change: largest absolute change of an optimizer's position (1 = best).
        max_rank_change_optimizer: the optimizer with that change (first by name on ties).
        full_mean_ranks: held-out mean ranks on all complete tasks.
        subset_mean_ranks: held-out mean ranks on the subset's complete tasks.
        n_tasks: complete tasks in the full set.
        n_subset: complete tasks in the subset.
        n_random: random subsets drawn.
        rank_error: mean absolute difference between subset and full-set mean ranks.
        rank_error_percentile: percent of random subsets with a larger error (equal counts half).
        random_rank_error_median: median rank error of the random subsets.
        separated_pairs: (better, worse) held-out pairs the full set's Nemenyi test tells apart.
        pairs_kept: how many of them the subset orders the same way (strictly).
        random_pairs_kept_share: percent of random subsets that keep every separated pair.
        note: why something is undefined, or which tasks were dropped.
        subset_cd: the Nemenyi critical difference on the subset (held-out optimizers, subset tasks).
        subset_separated: (better, worse on the subset) pairs the subset's own Nemenyi test separates.
        contradictions: those of them the full set orders the other way.
        random_contradiction_share: percent of random subsets with at least one contradiction.
        random_separated_mean: mean number of pairs a random subset's Nemenyi test separates.
    """

    tau: float
    percentile: float
    random_tau_median: float
    top1_full: tuple[str, ...]
    top1_subset: tuple[str, ...]
    top1_agree: bool
    max_rank_change: float
    max_rank_change_optimizer: str
    full_mean_ranks: pd.Series
    subset_mean_ranks: pd.Series
    n_tasks: int
    n_subset: int
    n_random: int
    rank_error: float
    rank_error_percentile: float
    random_rank_error_median: float
    separated_pairs: tuple[tuple[str, str], ...]
    pairs_kept: int
    random_pairs_kept_share: float
    note: str = ""
    subset_cd: float = float("nan")
    subset_separated: tuple[tuple[str, str], ...] = ()
    contradictions: tuple[tuple[str, str], ...] = ()
    random_contradiction_share: float = float("nan")
    random_separated_mean: float = float("nan")

    def summary(self) -> str:
        """A few lines for the terminal.

        Example:
            >>> s = pd.DataFrame({"a": [0.1, 0.2], "b": [0.2, 0.1]}, index=["t1", "t2"])
            >>> print(validate(s, ["t1"], ["a"], n_random=0).summary().splitlines()[0])
            held-out optimizers: a
        """
        lines = [
            f"held-out optimizers: {', '.join(self.full_mean_ranks.index)}",
            f"Kendall tau (full vs subset mean ranks): {self.tau:.3f}",
            f"  percentile among {self.n_random} random {self.n_subset}-task subsets: "
            f"{self.percentile:.1f} (random median tau {self.random_tau_median:.3f})",
            f"top-1: full {'/'.join(self.top1_full)}, subset {'/'.join(self.top1_subset)} -> "
            f"{'agree' if self.top1_agree else 'DISAGREE'}",
            f"largest rank change: {self.max_rank_change:g} ({self.max_rank_change_optimizer})",
            f"mean-rank error: {self.rank_error:.3f} (percentile {self.rank_error_percentile:.1f}, higher is "
            f"better; random median {self.random_rank_error_median:.3f})",
            f"pairs the full set separates (Nemenyi): {len(self.separated_pairs)}, kept in order: "
            f"{self.pairs_kept} (random subsets keeping all: {self.random_pairs_kept_share:.1f}%)",
            f"pairs the subset's own Nemenyi test separates (CD {self.subset_cd:.2f}): "
            f"{len(self.subset_separated)}, contradicting the full ranking: {len(self.contradictions)} "
            f"(random subsets: {self.random_separated_mean:.1f} separated, "
            f"{self.random_contradiction_share:.1f}% with a contradiction)",
        ]
        if self.note:
            lines.append(f"note: {self.note}")
        return "\n".join(lines)


def kendall_tau_b(x: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Kendall tau-b between ``x`` (k,) and each row of ``ys`` (B, k); NaN where a side is all tied.

    Equal to ``scipy.stats.kendalltau`` (variant b), vectorized over the rows.

    Example:
        >>> kendall_tau_b(np.array([1.0, 2.0, 3.0]), np.array([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]]))
        array([ 1., -1.])
    """
    x = np.asarray(x, dtype=float)
    ys = np.atleast_2d(np.asarray(ys, dtype=float))
    i, j = np.triu_indices(len(x), k=1)

    def signs(a: np.ndarray) -> np.ndarray:
        d = a[..., i] - a[..., j]
        return np.where(np.abs(d) <= TIE_TOL, 0.0, np.sign(d))

    sx, sy = signs(x), signs(ys)
    denom = np.sqrt(np.count_nonzero(sx) * np.count_nonzero(sy, axis=1).astype(float))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denom > 0, (sy * sx).sum(axis=1) / np.where(denom > 0, denom, 1.0), np.nan)


def _positions(mean_ranks: np.ndarray) -> np.ndarray:
    """1 = best; ties (within TIE_TOL) get the average position."""
    r = np.round(mean_ranks / TIE_TOL) * TIE_TOL
    return pd.Series(r).rank(method="average").to_numpy()


def _best(mean_ranks: pd.Series) -> tuple[str, ...]:
    return tuple(str(o) for o in mean_ranks.index[mean_ranks <= mean_ranks.min() + TIE_TOL])


def validate(
    scores: pd.DataFrame,
    subset_tasks: Sequence[str],
    held_out_optimizers: Sequence[str],
    n_random: int = 1000,
    seed: int = 0,
    alpha: float = 0.05,
) -> Validation:
    """Compare the held-out optimizers' ranking on ``subset_tasks`` with the one on all tasks.

    Args:
        scores: tasks x optimizers, lower is better (e.g. ``analysis.normalize.score_table``).
        subset_tasks: task ids (index labels of ``scores``) of the subset.
        held_out_optimizers: optimizers not used to choose the subset (columns of ``scores``).
        n_random: random subsets of the same size for the percentile (0 skips it).
        seed: seed of the random subsets.
        alpha: level of the Nemenyi test that decides which pairs the full set separates.

    Returns:
        A :class:`Validation`. With fewer than 2 held-out optimizers, tau and the percentile are
        NaN and ``note`` says why.

    Example:
        >>> s = pd.DataFrame({"a": [0.0, 1.0, 0.0], "b": [1.0, 0.0, 1.0]}, index=["x", "y", "z"])
        >>> v = validate(s, ["y"], ["a", "b"], n_random=10)
        >>> v.tau, v.top1_full, v.top1_subset, v.max_rank_change, v.max_rank_change_optimizer
        (-1.0, ('a',), ('b',), 1.0, 'a')
    """
    held = [str(o) for o in held_out_optimizers]
    bad = [o for o in held if o not in scores.columns]
    if bad:
        valid = sorted(map(str, scores.columns))
        raise ValueError(f"unknown held-out optimizer(s) {bad}; valid choices: {valid}")
    if len(set(held)) != len(held):
        raise ValueError(f"held-out optimizers {held} contain duplicates")
    subset = [str(t) for t in subset_tasks]
    missing = [t for t in subset if t not in scores.index]
    if missing:
        raise ValueError(
            f"unknown subset task(s) {missing[:5]}; valid choices: the score table's tasks "
            f"(e.g. {list(map(str, scores.index[:3]))})"
        )
    if not subset:
        raise ValueError("subset_tasks is empty; give at least one task id")
    if n_random < 0:
        raise ValueError(f"n_random={n_random} must be >= 0")
    full, dropped = complete_blocks(scores[held])
    notes = []
    if dropped:
        notes.append(f"{len(dropped)} task(s) without a score for every held-out optimizer left out")
    in_sub = full.index.isin(subset)
    if not in_sub.any():
        raise ValueError("no subset task has a score for every held-out optimizer")
    r = ranks(full).to_numpy()
    full_mr = r.mean(axis=0)
    sub_mr = r[in_sub].mean(axis=0)
    m = int(in_sub.sum())
    full_s = pd.Series(full_mr, index=held, name="mean_rank")
    sub_s = pd.Series(sub_mr, index=held, name="mean_rank")
    change = np.abs(_positions(full_mr) - _positions(sub_mr))
    # first by name among the largest changes: deterministic on ties
    order = sorted(range(len(held)), key=lambda q: (-round(float(change[q]), 9), held[q]))
    j = order[0] if held else 0
    top_full, top_sub = _best(full_s), _best(sub_s)
    err = float(np.abs(sub_mr - full_mr).mean()) if held else float("nan")
    pairs = _separated_pairs(full, alpha)
    kept = _pairs_kept(pairs, held, sub_mr[None])
    cd = critical_difference(len(held), m, alpha) if len(held) >= 2 else float("nan")
    sep, wrong = _conclusions(full_mr, sub_mr[None], cd)
    sub_sep = tuple((held[i], held[j]) for i, j in zip(*np.nonzero(sep[0]), strict=True))
    contra = tuple((held[i], held[j]) for i, j in zip(*np.nonzero(wrong[0]), strict=True))
    err_pct = rnd_err = rnd_kept = rnd_contra = rnd_sep = float("nan")
    if n_random > 0:
        rng = np.random.default_rng(seed)
        # each row: the first m of a random permutation of the complete tasks
        idx = np.argsort(rng.random((n_random, len(r))), axis=1)[:, :m]
        rnd_mr = r[idx].mean(axis=1)
        errs = np.abs(rnd_mr - full_mr).mean(axis=1)
        err_pct = (
            100.0
            * (np.count_nonzero(errs > err + TIE_TOL) + 0.5 * np.count_nonzero(np.abs(errs - err) <= TIE_TOL))
            / n_random
        )
        rnd_err = float(np.median(errs))
        rnd_kept = 100.0 * float(np.mean(_pairs_kept(pairs, held, rnd_mr) == len(pairs)))
        if len(held) >= 2:
            rnd_sep_mask, rnd_wrong = _conclusions(full_mr, rnd_mr, cd)
            rnd_sep = float(rnd_sep_mask.sum(axis=(1, 2)).mean())
            rnd_contra = 100.0 * float(np.mean(rnd_wrong.any(axis=(1, 2))))
    tau = percentile = rnd_median = float("nan")
    if len(held) < 2:
        notes.append(f"Kendall tau needs at least 2 held-out optimizers, got {len(held)}")
    else:
        tau = float(kendall_tau_b(full_mr, sub_mr[None])[0])
        if np.isnan(tau):
            notes.append("tau undefined: all held-out optimizers tie on the full set or on the subset")
        elif n_random > 0:
            taus = kendall_tau_b(full_mr, rnd_mr)
            # a random subset with all ties carries no ranking information: tau 0
            taus = np.nan_to_num(taus, nan=0.0)
            lower = np.count_nonzero(taus < tau - TIE_TOL)
            equal = np.count_nonzero(np.abs(taus - tau) <= TIE_TOL)
            percentile = 100.0 * (lower + 0.5 * equal) / n_random
            rnd_median = float(np.median(taus))
    return Validation(
        tau=tau,
        percentile=percentile,
        random_tau_median=rnd_median,
        top1_full=top_full,
        top1_subset=top_sub,
        top1_agree=bool(set(top_full) & set(top_sub)),
        max_rank_change=float(change[j]) if held else 0.0,
        max_rank_change_optimizer=held[j] if held else "",
        full_mean_ranks=full_s,
        subset_mean_ranks=sub_s,
        n_tasks=len(full),
        n_subset=m,
        n_random=n_random,
        rank_error=err,
        rank_error_percentile=err_pct,
        random_rank_error_median=rnd_err,
        separated_pairs=pairs,
        pairs_kept=int(kept[0]),
        random_pairs_kept_share=rnd_kept,
        note="; ".join(notes),
        subset_cd=cd,
        subset_separated=sub_sep,
        contradictions=contra,
        random_contradiction_share=rnd_contra,
        random_separated_mean=rnd_sep,
    )


def _conclusions(full_mr: np.ndarray, sub_mr: np.ndarray, cd: float) -> tuple[np.ndarray, np.ndarray]:
    """Masks (B, k, k) over rows of ``sub_mr``: [b, i, j] when the subset's Nemenyi test puts i ahead
    of j (p < alpha exactly when the mean-rank gap exceeds the CD), and when the full set has i behind j."""
    sep = (sub_mr[:, :, None] - sub_mr[:, None, :]) < -cd
    full_worse = (full_mr[:, None] - full_mr[None, :]) > TIE_TOL
    return sep, sep & full_worse[None]


def _separated_pairs(full: pd.DataFrame, alpha: float) -> tuple[tuple[str, str], ...]:
    """(better, worse) pairs that the Nemenyi test on all tasks separates, better by full mean rank."""
    if full.shape[1] < 2:
        return ()
    res = nemenyi(full, alpha)
    sig = res.significant()
    order = [str(o) for o in res.mean_ranks.index]  # best first
    return tuple((a, b) for i, a in enumerate(order) for b in order[i + 1 :] if bool(sig.loc[a, b]))


def _pairs_kept(pairs: Sequence[tuple[str, str]], held: Sequence[str], mean_ranks: np.ndarray) -> np.ndarray:
    """For each row of ``mean_ranks`` (B, len(held)): how many ``pairs`` it orders the same way."""
    pos = {o: i for i, o in enumerate(held)}
    kept = np.zeros(len(mean_ranks), dtype=int)
    for a, b in pairs:
        kept += mean_ranks[:, pos[a]] < mean_ranks[:, pos[b]] - TIE_TOL
    return kept


def embedding_signal(
    points: np.ndarray, scores: pd.DataFrame, held_out_optimizers: Sequence[str], neighbours: int = 15
) -> float:
    """Share of the held-out per-task ranks that the embedding explains (leave-one-out k-NN R^2).

    Each task's held-out rank vector is predicted by the mean of its ``neighbours`` nearest tasks in
    the embedding (Euclidean, the task itself left out); the result is ``1 - SSE / SST`` over all
    held-out optimizers. Near 0 means the embedding carries no information about how the held-out
    optimizers order on a task: then no subset chosen from it can reproduce their ranking better than
    a random subset of the same size, however low its discrepancy (each task's ranks enter the mean
    as noise the embedding cannot stratify). Negative values are possible (worse than the mean).

    Args:
        points: (n, d) embedding, one row per row of ``scores`` (same order).
        scores: tasks x optimizers, lower is better; rows with a missing held-out score are refused.
        held_out_optimizers: the optimizers whose ranks are predicted (at least 2).
        neighbours: k of the k-NN predictor.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> x = rng.random((200, 1))
        >>> s = pd.DataFrame({"a": x[:, 0], "b": 1 - x[:, 0], "c": rng.random(200)})
        >>> noise = rng.random((200, 1))
        >>> embedding_signal(x, s, ["a", "b"]) > 0.9, abs(embedding_signal(noise, s, ["a", "b"])) < 0.2
        (True, True)
    """
    held = [str(o) for o in held_out_optimizers]
    x = np.asarray(points, dtype=float)
    if x.ndim != 2 or len(x) != len(scores):
        raise ValueError(f"points must be (n, d) with n = {len(scores)} tasks, got shape {x.shape}")
    if len(held) < 2:
        raise ValueError(f"embedding_signal needs at least 2 held-out optimizers, got {held}")
    if scores[held].isna().to_numpy().any():
        raise ValueError(
            "scores have missing held-out values; pass complete rows "
            "(analysis.leaderboard.stats.complete_blocks)"
        )
    if not 1 <= neighbours < len(x):
        raise ValueError(f"neighbours={neighbours} must be in [1, {len(x) - 1}] for {len(x)} tasks")
    y = ranks(scores[held]).to_numpy()
    pred = np.empty_like(y)
    sq = (x**2).sum(axis=1)
    for lo in range(0, len(x), 512):  # chunks of rows bound the distance matrix's memory
        d = sq[lo : lo + 512, None] - 2.0 * x[lo : lo + 512] @ x.T + sq[None, :]
        d[np.arange(len(d)), np.arange(lo, lo + len(d))] = np.inf
        near = np.argpartition(d, neighbours - 1, axis=1)[:, :neighbours]
        pred[lo : lo + 512] = y[near].mean(axis=1)
    sst = float(((y - y.mean(axis=0)) ** 2).sum())
    return 1.0 - float(((y - pred) ** 2).sum()) / sst if sst > 0 else float("nan")


def seed_reliability(runs: pd.DataFrame, held_out_optimizers: Sequence[str]) -> tuple[float, float]:
    """How reproducible the held-out optimizers' per-task ranking is between seeds.

    ``runs`` has one row per run with columns ``task``, ``optimizer``, ``seed`` and ``score`` (lower
    is better; e.g. :func:`analysis.leaderboard.stats.run_scores`). The seeds are split into two
    halves (even and odd seeds); on each half the held-out optimizers are ranked per task by their
    mean score, and the two rank tables are correlated (Pearson, each optimizer's column centred,
    pooled over optimizers).
    Returns ``(split_half, full)``: that correlation and the Spearman-Brown estimate for the mean over
    all seeds, ``2 r / (1 + r)``. A value near 0 says that which held-out optimizer wins on a task is
    mostly seed noise: the full-set ranking then rests on small average effects, and no task subset
    can reproduce it better than a random subset of the same size.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> rows = [(f"t{t}", o, s, skill + rng.normal(0, noise))  # b wins on odd tasks only
        ...         for noise in (0.1, 10.0) for t in range(50)
        ...         for o, skill in (("a", 0.0), ("b", (t % 2) - 0.5)) for s in range(4)]
        >>> cols = ["task", "optimizer", "seed", "score"]
        >>> clear = seed_reliability(pd.DataFrame(rows[:400], columns=cols), ["a", "b"])
        >>> noisy = seed_reliability(pd.DataFrame(rows[400:], columns=cols), ["a", "b"])
        >>> clear, abs(noisy[0]) < 0.5
        ((1.0, 1.0), True)
    """
    held = [str(o) for o in held_out_optimizers]
    need = {"task", "optimizer", "seed", "score"}
    if not need <= set(runs.columns):
        raise ValueError(f"runs need columns {sorted(need)}; got {sorted(map(str, runs.columns))}")
    seeds = sorted(pd.unique(runs["seed"]))
    if len(seeds) < 2 or len(held) < 2:
        raise ValueError(
            f"seed_reliability needs >= 2 seeds and >= 2 held-out optimizers; "
            f"got seeds {seeds}, optimizers {held}"
        )
    rows = runs.assign(optimizer=runs["optimizer"].astype(str), task=runs["task"].astype(str))
    rows = rows[rows["optimizer"].isin(held)]
    half = rows["seed"].map({s: i % 2 for i, s in enumerate(seeds)})
    tables = []
    for h in (0, 1):
        wide = rows[half == h].pivot_table(index="task", columns="optimizer", values="score", aggfunc="mean")
        tables.append(complete_blocks(wide.reindex(columns=held))[0])
    common = tables[0].index.intersection(tables[1].index)
    if len(common) < 2:
        raise ValueError("fewer than 2 tasks have a score for every held-out optimizer in both seed halves")
    a, b = (ranks(t.loc[common]).to_numpy() for t in tables)
    a, b = a - a.mean(axis=0), b - b.mean(axis=0)
    denom = float(np.sqrt((a * a).sum() * (b * b).sum()))
    r = float((a * b).sum()) / denom if denom > 0 else float("nan")
    return r, 2 * r / (1 + r) if r > -1 else float("nan")


def default_embed_optimizers(scores: pd.DataFrame, baseline: str = "random_search") -> list[str]:
    """Up to 3 dissimilar optimizers to embed tasks with, leaving at least 2 held out.

    The rule: ``baseline`` if present (else the worst by mean rank), then the best by mean rank,
    then the remaining optimizer whose per-task scores are least Spearman-correlated with those
    already chosen (smallest maximum correlation; first by name on ties). Only
    ``max(1, min(3, n - 2))`` are taken for ``n`` optimizers so that at least 2 stay held out
    when ``n >= 3``.

    Example:
        >>> s = pd.DataFrame({"random_search": [3, 2, 1, 4], "good": [1, 1, 0, 1],
        ...                   "twin": [1.1, 1.0, 0.1, 1.2], "odd": [0, 3, 3, 0], "x": [2, 2, 2, 2.5]})
        >>> default_embed_optimizers(s)
        ['random_search', 'good', 'odd']
    """
    full, _ = complete_blocks(scores)
    cols = [str(c) for c in full.columns]
    if not cols:
        raise ValueError("the score table has no optimizers")
    mean_rank = ranks(full).mean().set_axis(cols)
    n_take = max(1, min(3, len(cols) - 2))
    chosen = [baseline if baseline in cols else str(mean_rank.idxmax())]
    best = str(mean_rank.drop(chosen).idxmin()) if len(cols) > 1 else chosen[0]
    if len(chosen) < n_take and best not in chosen:
        chosen.append(best)
    corr = full.set_axis(cols, axis=1).rank().corr().fillna(0.0)
    while len(chosen) < n_take:
        rest = sorted(c for c in cols if c not in chosen)
        chosen.append(min(rest, key=lambda c: (round(float(corr.loc[c, chosen].max()), 12), c)))
    return chosen


def taskset_yaml(
    tasks: Sequence[str], header: Sequence[str], embedding: Sequence[str] = (), selector: str | None = None
) -> str:
    """The text of a taskset file: ``# header`` comment lines, ``embedding: [...]`` (the optimizers
    the subset was chosen with, if given; ``python -m analysis report --taskset`` holds out the
    others), ``selector: NAME`` (the :data:`analysis.subsets.selectors.SELECTORS` entry that chose it,
    if given; the report judges it by the leave-optimizers-out protocol), then ``tasks: [ids...]``.

    Example:
        >>> print(taskset_yaml(["bbob/f01/d05/i01"], ["dev subset"], ["random_search"], "d_optimal"), end="")
        # dev subset
        embedding: ["random_search"]
        selector: d_optimal
        tasks: ["bbob/f01/d05/i01"]
    """
    lines = [f"# {h}".rstrip() for text in header for h in str(text).splitlines()]
    if embedding:
        lines.append(f"embedding: [{', '.join(json.dumps(str(o)) for o in embedding)}]")
    if selector:
        lines.append(f"selector: {selector}")
    ids = ", ".join(json.dumps(str(t)) for t in tasks)
    return "\n".join([*lines, f"tasks: [{ids}]"]) + "\n"
