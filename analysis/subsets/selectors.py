"""Competing task-subset selectors behind one interface, for comparing them on equal terms.

Every selector is a function ``SelectionInput -> list[str]``: it gets a tasks x optimizers score
table (lower is better, no NaN; only the optimizers it may look at), a subset size ``k`` and a
``numpy`` Generator (all its randomness), optionally each task's family and the seed noise of each
score, and returns ``k`` distinct task ids of ``scores.index`` in the order it chose them.
:data:`SELECTORS` maps names to selectors; :func:`select` validates the input once and calls one.

* ``"random"``: a uniformly random subset, the baseline.
* ``"discrepancy_uniform"``, ``"discrepancy_empirical"``: low star discrepancy of the min-max
  embedding (:mod:`analysis.subsets.selection`), w.r.t. the unit cube or to all tasks.
* ``"farthest_first"``: k-center greedy (Gonzalez 1985), spread over the embedding.
* ``"kmedoids"``: k-medoids (Park & Jun 2009), one typical task per cluster of the embedding.
* ``"d_optimal"``, ``"a_optimal"``: optimal experimental design for a linear model of the
  embedding (Fedorov 1972): greedy then exchange.
* ``"predictive"``: the subset whose per-optimizer mean best tracks the full-set mean
  (in the spirit of ARLBench's subset selection, Becktepe et al. 2024).
* ``"discriminative"``: the tasks where the optimizers differ most (relative to seed noise if known).
* ``"stratified"``: proportional allocation over task families, random within each.

:func:`embedding` gives the points the geometric selectors work on: ``"minmax"`` is
:func:`analysis.subsets.selection.embed_scores` (per-optimizer min-max to ``[0, 1]``), ``"rank"``
each optimizer's rank of the task among all tasks, scaled to ``[0, 1]``. The geometric selectors
(discrepancy, farthest-first, k-medoids, D/A-optimal) use ``"minmax"``.

Example:
    >>> s = pd.DataFrame({"a": [0.0, 0.2, 0.9, 1.0], "b": [1.0, 0.7, 0.1, 0.0]},
    ...                  index=["t1", "t2", "t3", "t4"])
    >>> inp = SelectionInput(s, 2, np.random.default_rng(0))
    >>> sorted(select("d_optimal", inp)), len(select("random", inp))
    (['t1', 't4'], 2)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.spatial.distance import cdist

from analysis.leaderboard.stats import ranks
from analysis.subsets.selection import embed_scores, select_subset
from analysis.subsets.validation import default_embed_optimizers

#: Evaluations of the discrepancy local search ("shift"): fixed, so a selection is reproducible for
#: its rng on any machine. Measured on the 2-core machine (3-D embedding): n = 783 tasks, k = 30:
#: 0.3 s (uniform), 3.3 s (empirical); k = 50: 1.8 s / 6.8 s; k = 10: 0.05 s / 2.5 s.
MAX_EVALUATIONS = 2000
#: Wall-clock safety stop of the discrepancy search, seconds. Reached only by large subsets (uniform,
#: n = 783, k = 100, 3-D hits it before the evaluations above are spent); a search stopped by it
#: depends on the machine's speed, one stopped by :data:`MAX_EVALUATIONS` does not.
DISCREPANCY_TIME_CAP = 60.0
#: At most this many embedding columns for the discrepancy selectors (its cost grows as n^(d+1)).
DISCREPANCY_MAX_COLUMNS = 3
#: Alternations (assignment, medoid update) of one k-medoids run.
KMEDOIDS_MAX_ITER = 100
#: Independent k-medoids runs (different seedings); the lowest total distance wins.
KMEDOIDS_RESTARTS = 3
#: Best-improvement swaps of the D/A-optimal exchange phase.
EXCHANGE_SWAPS = 100
#: Swaps of each exchange step evaluated exactly (the best by the update formulas).
EXACT_CHECKS = 16
#: Ridge added to the information matrix ``X_S^T X_S`` of the D/A-optimal designs.
RIDGE = 1e-6
#: Values closer than this (relative) count as tied; ties are broken with the rng.
TIE_TOL = 1e-12
#: Embeddings :func:`embedding` knows.
EMBEDDINGS: tuple[str, ...] = ("minmax", "rank")


@dataclass(frozen=True)
class SelectionInput:
    """What a selector may look at.

    Attributes:
        scores: tasks x optimizers final scores, lower is better, no NaN; index = task ids, columns
            = the optimizers the selector may look at (held-out ones are never passed).
        k: subset size, ``1 <= k <= len(scores)``.
        rng: the source of all randomness.
        families: task -> family name (e.g. ``"bbob"``, ``"yahpo"``), index = task ids; None when
            unknown.
        noise: tasks x optimizers seed standard deviation of each score (same shape as ``scores``);
            None when unknown.
    """

    scores: pd.DataFrame
    k: int
    rng: np.random.Generator
    families: pd.Series | None = None
    noise: pd.DataFrame | None = None


Selector = Callable[[SelectionInput], list[str]]


def task_families(tasks: pd.Index) -> pd.Series:
    """Each task id's family, its first path component (``bbob/f01/d02/i01`` -> ``bbob``): what
    :class:`SelectionInput` ``families`` holds when a score table has nothing better.

    Example:
        >>> task_families(pd.Index(["bbob/f01/d02/i01", "yahpo/lcbench/3945"])).tolist()
        ['bbob', 'yahpo']
    """
    return pd.Series([str(t).split("/", 1)[0] for t in tasks], index=tasks)


def embedding(scores: pd.DataFrame, kind: str = "minmax") -> np.ndarray:
    """Tasks x optimizers points in ``[0, 1]``, one coordinate per optimizer (column).

    ``"minmax"``: :func:`analysis.subsets.selection.embed_scores` (each column min-max scaled; a
    constant column maps to 0). ``"rank"``: each column's rank of the task among all tasks (1 =
    lowest score, ties averaged) mapped by ``(rank - 1) / (n - 1)``; a constant column maps to 0.5,
    a single task to 0.

    Example:
        >>> s = pd.DataFrame({"a": [0.1, 0.3, 0.2, 0.2], "b": [5.0, 1.0, 1.0, 9.0]})
        >>> embedding(s).round(2).tolist()
        [[0.0, 0.5], [1.0, 0.0], [0.5, 0.0], [0.5, 1.0]]
        >>> embedding(s, "rank").round(2).tolist()
        [[0.0, 0.67], [1.0, 0.17], [0.5, 0.17], [0.5, 1.0]]
    """
    if kind == "minmax":
        return embed_scores(scores).to_numpy(dtype=float)
    if kind == "rank":
        n = len(scores)
        r = scores.rank(axis=0, method="average").to_numpy(dtype=float)
        return (r - 1.0) / (n - 1) if n > 1 else np.zeros_like(r)
    raise ValueError(f"unknown embedding kind {kind!r}; valid choices: {list(EMBEDDINGS)}")


def _ids(inp: SelectionInput, idx: np.ndarray | list[int]) -> list[str]:
    """Row positions -> task ids."""
    return [str(t) for t in inp.scores.index[np.asarray(idx, dtype=int)]]


def _pick(values: np.ndarray, rng: np.random.Generator, largest: bool = True) -> int:
    """Position of the largest (or smallest) value; ties (within TIE_TOL, relative) broken by rng."""
    best = float(values.max() if largest else values.min())
    cand = np.flatnonzero(np.abs(values - best) <= TIE_TOL * max(1.0, abs(best)))
    if len(cand) == 0:  # non-finite best (inf): take the exact matches
        cand = np.flatnonzero(values == best)
    return int(cand[0]) if len(cand) == 1 else int(cand[rng.integers(len(cand))])


def _top(values: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Positions of the ``k`` largest values, largest first; ties (to 1e-12) in random order."""
    key = np.round(values / TIE_TOL) * TIE_TOL
    return np.lexsort((rng.random(len(values)), -key))[:k]


def _row_normalized(scores: pd.DataFrame) -> np.ndarray:
    """Each task's scores min-max scaled across its optimizers to ``[0, 1]`` (a tied task -> 0)."""
    v = scores.to_numpy(dtype=float)
    lo, span = v.min(axis=1, keepdims=True), np.ptp(v, axis=1, keepdims=True)
    return np.where(span > 0, (v - lo) / np.where(span > 0, span, 1.0), 0.0)


def random_subset(inp: SelectionInput) -> list[str]:
    """Uniformly random ``k`` tasks (``rng.choice`` without replacement), in the order drawn.

    The baseline of every comparison: a selector is only worth its cost if it beats this.

    Example:
        >>> s = pd.DataFrame({"a": [0.1, 0.2, 0.3]}, index=["t1", "t2", "t3"])
        >>> len(set(random_subset(SelectionInput(s, 2, np.random.default_rng(0)))))
        2
    """
    return _ids(inp, inp.rng.choice(len(inp.scores), inp.k, replace=False))


def select_by_discrepancy(
    inp: SelectionInput,
    reference: str,
    *,
    method: str = "shift",
    time_budget: float | None = None,
    max_evaluations: int | None = None,
) -> list[str]:
    """The star-discrepancy selection of :func:`analysis.subsets.selection.select_subset` as a
    selector's step: on the embedding of at most :data:`DISCREPANCY_MAX_COLUMNS` of the seen
    optimizers (those :func:`analysis.subsets.validation.default_embed_optimizers` picks), seeded
    from ``inp.rng``. ``python -m analysis subset --protocol`` judges its own method through it.
    ``time_budget`` and ``max_evaluations`` default to :data:`DISCREPANCY_TIME_CAP` and
    :data:`MAX_EVALUATIONS` as they are when it is called.

    Example:
        >>> s = pd.DataFrame({"a": [0.1, 0.5, 0.9, 0.3]}, index=["t1", "t2", "t3", "t4"])
        >>> len(select_by_discrepancy(SelectionInput(s, 2, np.random.default_rng(0)), "uniform"))
        2
    """
    scores = inp.scores
    if scores.shape[1] > DISCREPANCY_MAX_COLUMNS:
        scores = scores[default_embed_optimizers(scores)]
    n = len(scores)
    if inp.k == n:
        return _ids(inp, np.arange(n))
    seed = int(inp.rng.integers(2**32))
    # None: the module's constants as they are at the call (not frozen when the module loaded)
    sel = select_subset(
        embedding(scores),
        inp.k,
        method=method,
        reference=reference,
        seed=seed,
        time_budget=DISCREPANCY_TIME_CAP if time_budget is None else time_budget,
        max_evaluations=MAX_EVALUATIONS if max_evaluations is None else max_evaluations,
    )
    return _ids(inp, sel.indices)


def discrepancy_uniform(inp: SelectionInput) -> list[str]:
    """Low star discrepancy w.r.t. the unit cube: the subset fills the embedding's cube evenly.

    :func:`analysis.subsets.selection.select_subset` (``method="shift"``, the local search after
    Clément, Doerr & Paquete's shift heuristic, ``reference="uniform"``) on ``embedding(scores)``,
    seeded by one draw from the rng and stopped after :data:`MAX_EVALUATIONS` evaluations, so the
    result is reproducible (:data:`DISCREPANCY_TIME_CAP` is only a safety stop). With more than 3
    optimizer columns the embedding uses only the (at most 3) columns that
    :func:`analysis.subsets.validation.default_embed_optimizers` picks (``random_search`` if
    present, the best optimizer, the one least correlated with those; it keeps 2 columns out of
    4, 3 out of 5 or more), because the exact discrepancy costs ``O(n^(d+1))``. Tasks come in index
    order (the search has no order of choice); ``k = n`` returns all tasks without a search.

    Example:
        >>> s = pd.DataFrame({"a": np.linspace(0, 1, 9)}, index=[f"t{i}" for i in range(9)])
        >>> discrepancy_uniform(SelectionInput(s, 2, np.random.default_rng(0)))
        ['t2', 't6']
    """
    return select_by_discrepancy(inp, "uniform")


def discrepancy_empirical(inp: SelectionInput) -> list[str]:
    """Low star discrepancy w.r.t. all tasks: the subset is distributed like the full task set.

    As :func:`discrepancy_uniform` with ``reference="empirical"`` (the reference measure is the
    empirical distribution of all tasks' points): regions of the embedding without tasks need no
    subset task.

    Example:
        >>> s = pd.DataFrame({"a": [0.0, 0.1, 0.2, 0.9, 1.0]}, index=["t1", "t2", "t3", "t4", "t5"])
        >>> len(discrepancy_empirical(SelectionInput(s, 2, np.random.default_rng(0))))
        2
    """
    return select_by_discrepancy(inp, "empirical")


def farthest_first(inp: SelectionInput) -> list[str]:
    """k-center greedy (Gonzalez 1985): each new task is the one farthest from those chosen.

    On ``embedding(scores)`` (min-max), Euclidean. The first task is the one nearest the
    embedding's mean (deterministic; the best single centre), then repeatedly the task whose
    distance to its nearest chosen task is largest. Ties are broken by the rng; duplicate points
    (distance 0) therefore come in random order once every distinct point is chosen. A
    2-approximation of the k-center objective (the largest distance of a task to the subset).

    Example:
        >>> s = pd.DataFrame({"a": np.linspace(0, 1, 11)}, index=[f"t{i:02d}" for i in range(11)])
        >>> out = farthest_first(SelectionInput(s, 3, np.random.default_rng(0)))
        >>> out[0], sorted(out[1:])
        ('t05', ['t00', 't10'])
    """
    x = embedding(inp.scores)
    chosen = [_pick(-np.linalg.norm(x - x.mean(axis=0), axis=1), inp.rng)]
    near = np.linalg.norm(x - x[chosen[0]], axis=1)
    free = np.ones(len(x), dtype=bool)
    free[chosen[0]] = False
    while len(chosen) < inp.k:
        cand = np.flatnonzero(free)
        j = int(cand[_pick(near[cand], inp.rng)])
        chosen.append(j)
        free[j] = False
        near = np.minimum(near, np.linalg.norm(x - x[j], axis=1))
    return _ids(inp, chosen)


def _kmedoids_run(d: np.ndarray, w: np.ndarray, k: int, rng: np.random.Generator) -> list[int]:
    """One k-means++-seeded alternating k-medoids run over distinct points ``d`` (distances) with
    multiplicities ``w``; at most ``k`` medoids (fewer when there are fewer points)."""
    n = len(d)
    med = [int(rng.choice(n, p=w / w.sum()))]
    near = d[med[0]].copy()
    while len(med) < min(k, n):
        p = w * near**2
        med.append(int(rng.choice(n, p=p / p.sum())))
        near = np.minimum(near, d[med[-1]])
    for _ in range(KMEDOIDS_MAX_ITER):
        # distinct points: a medoid is at distance 0 from itself only, so no cluster is empty
        assign = np.argmin(d[:, med], axis=1)  # ties -> the earlier medoid
        new = []
        for c, m in enumerate(med):
            members = np.flatnonzero(assign == c)
            cost = d[np.ix_(members, members)] @ w[members]
            own = float(cost[members == m][0])
            # keep the current medoid unless a member is strictly better (no cycling on ties)
            better = own > cost.min() + TIE_TOL * max(1.0, own)
            new.append(int(members[np.argmin(cost)]) if better else m)
        if new == med:
            break
        med = new
    return med


def kmedoids(inp: SelectionInput) -> list[str]:
    """k-medoids on the embedding: ``k`` typical tasks, one per cluster (Park & Jun 2009).

    On ``embedding(scores)`` (min-max), Euclidean distances (``scipy.spatial.distance.cdist``),
    over the distinct points, each weighted by how many tasks share it. Seeding: k-means++ (the
    first medoid drawn with probability proportional to the weight, i.e. a uniformly random task;
    each next one proportional to weight x squared distance to the nearest medoid). Then
    alternate, at most :data:`KMEDOIDS_MAX_ITER` times: assign every point to its nearest medoid
    (ties to the earlier medoid), and move each medoid to the member with the least weighted total
    distance to its cluster (the current medoid stays on ties), until nothing moves.
    :data:`KMEDOIDS_RESTARTS` seedings are run and the one with the least total distance of tasks
    to their medoid is kept (the first on ties). A medoid shared by several tasks (duplicate
    points) becomes one of them, drawn by the rng; duplicate points never give two medoids. With
    fewer distinct points than ``k`` the medoids are completed by random remaining tasks. Medoids
    come in seeding order, then the fill. Memory: ``O(u^2)`` for ``u`` distinct points.

    Example:
        >>> s = pd.DataFrame({"a": [0.0, 0.01, 0.02, 1.0, 1.01, 1.02]}, index=list("abcdef"))
        >>> sorted(kmedoids(SelectionInput(s, 2, np.random.default_rng(0))))
        ['b', 'e']
    """
    points, inverse, counts = np.unique(
        embedding(inp.scores), axis=0, return_inverse=True, return_counts=True
    )
    inverse = inverse.reshape(-1)
    w = counts.astype(float)
    d = cdist(points, points)
    best: list[int] = []
    best_cost = np.inf
    for _ in range(KMEDOIDS_RESTARTS):
        med = _kmedoids_run(d, w, inp.k, inp.rng)
        cost = float(w @ d[:, med].min(axis=1))
        if not best or cost < best_cost - TIE_TOL * max(1.0, best_cost):
            best, best_cost = med, cost
    chosen = [int(inp.rng.choice(np.flatnonzero(inverse == m))) for m in best]
    if len(chosen) < inp.k:
        rest = np.setdiff1d(np.arange(len(inverse)), chosen)
        chosen += [int(i) for i in inp.rng.choice(rest, inp.k - len(chosen), replace=False)]
    return _ids(inp, chosen)


def _design_matrix(scores: pd.DataFrame) -> np.ndarray:
    """``[1, embedding(scores)]``: the linear model's regressors, intercept first."""
    x = embedding(scores)
    return np.column_stack([np.ones(len(x)), x])


def _info(x: np.ndarray, idx: list[int]) -> np.ndarray:
    return x[idx].T @ x[idx] + RIDGE * np.eye(x.shape[1])


def _log_det(x: np.ndarray, idx: list[int]) -> float:
    return float(np.linalg.slogdet(_info(x, idx))[1])


def _trace_inv(x: np.ndarray, idx: list[int]) -> float:
    return float(np.trace(np.linalg.inv(_info(x, idx))))


def _optimal_design(inp: SelectionInput, criterion: str) -> list[str]:
    """Greedy forward selection, then best-improvement exchange, for ``"D"`` or ``"A"``."""
    x = _design_matrix(inp.scores)
    n, p = x.shape
    chosen: list[int] = []
    free = np.ones(n, dtype=bool)
    minv = np.eye(p) / RIDGE
    for _ in range(inp.k):
        cand = np.flatnonzero(free)
        xc = x[cand]
        lev = np.einsum("ij,jk,ik->i", xc, minv, xc)  # x^T M^-1 x
        if criterion == "D":  # log det(M + x x^T) = log det M + log(1 + lev)
            gain = lev
        else:  # tr((M + x x^T)^-1) = tr(M^-1) - x^T M^-2 x / (1 + lev)
            gain = np.einsum("ij,jk,ik->i", xc, minv @ minv, xc) / (1.0 + lev)
        j = int(cand[_pick(gain, inp.rng)])
        chosen.append(j)
        free[j] = False
        minv = np.linalg.inv(_info(x, chosen))
    value = _log_det(x, chosen) if criterion == "D" else -_trace_inv(x, chosen)  # larger is better
    for _ in range(EXCHANGE_SWAPS):
        rest = np.flatnonzero(free)
        if len(rest) == 0:
            break
        minv = np.linalg.inv(_info(x, chosen))
        xs, xr = x[chosen], x[rest]
        ds = np.einsum("ij,jk,ik->i", xs, minv, xs)
        dr = np.einsum("ij,jk,ik->i", xr, minv, xr)
        a = xs @ minv @ xr.T  # (k, r): x_i^T M^-1 x_j
        # determinant ratio of the swap "drop i, add j" (Fedorov's delta + 1)
        ratio = (1.0 - ds)[:, None] * (1.0 + dr)[None, :] + a**2
        if criterion == "D":
            score = ratio
        else:  # the trace's reduction by the rank-2 Woodbury update; det of the 2x2 core = -ratio
            m2 = minv @ minv
            hs = np.einsum("ij,jk,ik->i", xs, m2, xs)
            hr = np.einsum("ij,jk,ik->i", xr, m2, xr)
            hx = xs @ m2 @ xr.T
            num = (ds - 1.0)[:, None] * hr[None, :] - 2.0 * a * hx + (1.0 + dr)[None, :] * hs[:, None]
            with np.errstate(divide="ignore", invalid="ignore"):
                score = np.where(ratio > TIE_TOL, num / -ratio, -np.inf)
        # the formulas rank the swaps (they lose digits when k < p, where the ridge dominates M);
        # exact evaluations of the best few decide
        flat = np.where(np.isfinite(score.ravel()), score.ravel(), -np.inf)
        tried = _top(flat, EXACT_CHECKS, inp.rng)
        trials = []
        for t in tried:
            i, r = divmod(int(t), len(rest))
            trial = chosen.copy()
            trial[i] = int(rest[r])
            trials.append((_log_det(x, trial) if criterion == "D" else -_trace_inv(x, trial), i, trial))
        new, i, trial = max(trials, key=lambda z: z[0])  # the first of the best on ties
        if not new > value + 1e-9 * max(1.0, abs(value)):
            break
        free[chosen[i]], free[trial[i]] = True, False
        chosen, value = trial, new
    return _ids(inp, chosen)


def d_optimal(inp: SelectionInput) -> list[str]:
    """D-optimal design: maximise ``log det(X_S^T X_S + 1e-6 I)`` with ``X = [1, embedding(scores)]``.

    The subset that best determines a linear model of the (min-max) embedding with an intercept
    (Kiefer & Wolfowitz 1959; exchange after Fedorov 1972): it favours extreme, well spread points.
    Greedy forward: add the task with the largest leverage ``x^T M^-1 x`` (the largest gain of log
    det), ties broken by the rng. Then up to :data:`EXCHANGE_SWAPS` exchange steps (Fedorov): all
    swaps (drop a chosen task i, add another j) are scored by the determinant ratio
    ``(1 - d_i)(1 + d_j) + d_ij^2`` (``d_ij = x_i^T M^-1 x_j``); the :data:`EXACT_CHECKS` best
    (ties in rng order) are evaluated exactly and the best of them is taken if it raises log det by
    more than ``1e-9`` (relative), else the search stops (the update formulas lose digits when
    ``k`` is below the number of columns of ``X`` and the ridge dominates). A swap replaces the
    task at its position in the order of choice.

    Example:
        >>> g = np.linspace(0, 1, 3)
        >>> s = pd.DataFrame({"a": np.repeat(g, 3), "b": np.tile(g, 3)}, index=[f"t{i}" for i in range(9)])
        >>> sorted(d_optimal(SelectionInput(s, 4, np.random.default_rng(0))))  # the four corners
        ['t0', 't2', 't6', 't8']
    """
    return _optimal_design(inp, "D")


def a_optimal(inp: SelectionInput) -> list[str]:
    """A-optimal design: minimise ``trace((X_S^T X_S + 1e-6 I)^-1)``, ``X = [1, embedding(scores)]``.

    The subset minimising the average variance of a linear model's coefficient estimates (Kiefer
    1959). As :func:`d_optimal`, with the greedy gain ``x^T M^-2 x / (1 + x^T M^-1 x)`` (the
    Sherman-Morrison reduction of the trace) and exchange swaps scored by the rank-2 Woodbury
    update of the trace; of the :data:`EXACT_CHECKS` best, the best exact one is taken if the
    trace drops by more than ``1e-9`` (relative).

    Example:
        >>> g = np.linspace(0, 1, 3)
        >>> s = pd.DataFrame({"a": np.repeat(g, 3), "b": np.tile(g, 3)}, index=[f"t{i}" for i in range(9)])
        >>> sorted(a_optimal(SelectionInput(s, 4, np.random.default_rng(0))))
        ['t0', 't2', 't6', 't8']
    """
    return _optimal_design(inp, "A")


def predictive(inp: SelectionInput) -> list[str]:
    """The subset whose per-optimizer mean score tracks the full set's (after ARLBench, Becktepe et al. 2024).

    Scores are first min-max normalized per task across the given optimizers (a tied task becomes
    all 0), so no task dominates by its scale; ``full`` is each optimizer's mean over all tasks,
    and ``full_ranks`` its mean per-task rank (1 = best, ties averaged, as in
    :mod:`analysis.subsets.validation`). Greedy forward selection: each step adds the task that
    makes the subset's per-optimizer means have the largest Pearson correlation with ``full``
    across the given optimizers (undefined, when either side is constant, counts as -2, below any
    defined value); ties (to 1e-12) go to the smallest mean-rank error, the mean over optimizers of
    ``|subset mean rank - full mean rank|``, then to the rng. No exchange phase. With one optimizer
    every candidate ties and the choice is random; with two, the correlation is only +-1 and the
    mean-rank error decides among the candidates that order them right.

    Example:
        >>> s = pd.DataFrame({"a": [0.0, 1.0, 0.0, 0.2], "b": [0.5, 0.0, 0.6, 0.5],
        ...                   "c": [1.0, 0.5, 1.0, 0.9]}, index=["t1", "t2", "t3", "t4"])
        >>> predictive(SelectionInput(s, 1, np.random.default_rng(0)))  # full order a < b < c
        ['t4']
    """
    z = _row_normalized(inp.scores)
    r = ranks(inp.scores).to_numpy(dtype=float)
    full, full_r = z.mean(axis=0), r.mean(axis=0)
    fc = full - full.mean()
    fn = float(np.linalg.norm(fc))
    chosen: list[int] = []
    free = np.ones(len(z), dtype=bool)
    zs, rs = np.zeros(z.shape[1]), np.zeros(z.shape[1])
    for step in range(1, inp.k + 1):
        cand = np.flatnonzero(free)
        means = (zs + z[cand]) / step
        mc = means - means.mean(axis=1, keepdims=True)
        mn = np.linalg.norm(mc, axis=1)
        defined = (mn > TIE_TOL) & (fn > TIE_TOL)
        corr = np.where(defined, mc @ fc / np.where(defined, mn * fn, 1.0), -2.0)
        err = np.abs((rs + r[cand]) / step - full_r).mean(axis=1)
        key_corr = np.round(corr / TIE_TOL) * TIE_TOL
        key_err = np.round(err / TIE_TOL) * TIE_TOL
        j = int(cand[np.lexsort((inp.rng.random(len(cand)), key_err, -key_corr))[0]])
        chosen.append(j)
        free[j] = False
        zs, rs = zs + z[j], rs + r[j]
    return _ids(inp, chosen)


def discriminative(inp: SelectionInput) -> list[str]:
    """The ``k`` tasks on which the optimizers differ most (relative to seed noise when known).

    Without ``noise``: the statistic is the standard deviation (ddof 0) across the optimizers of
    the task's scores as given. They are taken to be on a common per-task scale, as the project's
    scores are (``analysis.normalize``: regret min-max normalized per task to ``[0, 1]``); a table
    on raw scales should be normalized first. (Min-max scaling each row here would give every
    non-tied task the same range and discard how much the optimizers differ.)
    With ``noise`` (the seed standard deviation of each score): the statistic is the number of
    optimizer pairs ``(i, j)`` with ``|s_i - s_j| > 2 * sqrt((sigma_i^2 + sigma_j^2) / 2)``
    (2 pooled standard deviations; with zero noise any difference counts), ties between tasks
    broken by the standard deviation above. The top ``k`` come largest first; remaining ties (to
    1e-12) in random order (rng).

    Example:
        >>> s = pd.DataFrame({"a": [0.0, 0.0, 0.4], "b": [0.1, 0.9, 0.6]}, index=["t1", "t2", "t3"])
        >>> discriminative(SelectionInput(s, 2, np.random.default_rng(0)))
        ['t2', 't3']
        >>> noise = pd.DataFrame({"a": [0.0, 0.5, 0.0], "b": [0.0, 0.5, 0.0]}, index=s.index)
        >>> discriminative(SelectionInput(s, 2, np.random.default_rng(0), noise=noise))
        ['t3', 't1']
    """
    v = inp.scores.to_numpy(dtype=float)
    spread = v.std(axis=1)
    if inp.noise is None:
        return _ids(inp, _top(spread, inp.k, inp.rng))
    sd = inp.noise.reindex(index=inp.scores.index, columns=inp.scores.columns).to_numpy(dtype=float)
    i, j = np.triu_indices(v.shape[1], k=1)
    pooled = np.sqrt((sd[:, i] ** 2 + sd[:, j] ** 2) / 2.0)
    separated = (np.abs(v[:, i] - v[:, j]) > 2.0 * pooled).sum(axis=1).astype(float)
    key_spread = np.round(spread / TIE_TOL) * TIE_TOL
    order = np.lexsort((inp.rng.random(len(v)), -key_spread, -separated))
    return _ids(inp, order[: inp.k])


def _largest_remainders(sizes: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Hamilton apportionment of ``k`` seats over groups of integer ``sizes``; equal remainders: rng.

    Exact in integers: group ``f`` gets ``(k n_f) // n`` seats, the rest go to the largest ``(k n_f) % n``.
    """
    sizes = np.asarray(sizes, dtype=np.int64)
    seats, rem = np.divmod(k * sizes, int(sizes.sum()))
    extra = k - int(seats.sum())
    seats[np.lexsort((rng.random(len(sizes)), -rem))[:extra]] += 1
    return seats


def stratified(inp: SelectionInput) -> list[str]:
    """Proportional allocation of ``k`` over task families, uniformly random within each family.

    Family ``f`` with ``n_f`` of the ``n`` tasks gets ``floor(k n_f / n)`` tasks, and the ``k`` minus
    their sum left over go one each to the families with the largest remainders ``k n_f / n -
    floor(.)`` (Hamilton's method; equal remainders in random order, rng). No family gets more
    tasks than it has. Within a family the tasks are drawn uniformly without replacement; the result
    lists the families in sorted order of their names. Without ``families`` this is
    :func:`random_subset` (one stratum).

    Example:
        >>> s = pd.DataFrame({"a": np.arange(10.0)}, index=[f"t{i}" for i in range(10)])
        >>> fam = pd.Series(["bbob"] * 6 + ["yahpo"] * 4, index=s.index)
        >>> out = stratified(SelectionInput(s, 5, np.random.default_rng(0), families=fam))
        >>> fam[out].value_counts().to_dict()
        {'bbob': 3, 'yahpo': 2}
    """
    if inp.families is None:
        return random_subset(inp)
    fam = inp.families.reindex(inp.scores.index).astype(str).to_numpy()
    names, inverse = np.unique(fam, return_inverse=True)
    seats = _largest_remainders(np.bincount(inverse, minlength=len(names)), inp.k, inp.rng)
    chosen: list[int] = []
    for f, m in enumerate(seats):
        if m > 0:
            chosen.extend(int(i) for i in inp.rng.choice(np.flatnonzero(inverse == f), m, replace=False))
    return _ids(inp, chosen)


#: The registry: name -> selector.
SELECTORS: dict[str, Selector] = {
    "random": random_subset,
    "discrepancy_uniform": discrepancy_uniform,
    "discrepancy_empirical": discrepancy_empirical,
    "farthest_first": farthest_first,
    "kmedoids": kmedoids,
    "d_optimal": d_optimal,
    "a_optimal": a_optimal,
    "predictive": predictive,
    "discriminative": discriminative,
    "stratified": stratified,
}


def check_input(inp: SelectionInput) -> None:
    """Refuse a bad :class:`SelectionInput` with a one-line ``ValueError`` naming what is wrong.

    Checked: ``scores`` is a non-empty numeric DataFrame with at least one optimizer, unique task
    ids and optimizer names, and no NaN or infinite value; ``k`` is an integer in ``[1, n]``;
    ``rng`` is a ``numpy.random.Generator``; ``families`` (if given) names a family for every task
    exactly once; ``noise`` (if given) covers every task and optimizer with a finite value >= 0.

    Example:
        >>> s = pd.DataFrame({"a": [0.1, 0.2]}, index=["t1", "t2"])
        >>> check_input(SelectionInput(s, 3, np.random.default_rng(0)))
        Traceback (most recent call last):
        ...
        ValueError: k=3 must be an integer in [1, 2] (the number of tasks)
    """
    s = inp.scores
    if not isinstance(s, pd.DataFrame):
        raise ValueError(f"scores must be a pandas DataFrame (tasks x optimizers), got {type(s).__name__}")
    if s.shape[1] == 0 or len(s) == 0:
        raise ValueError(f"scores must have at least one task and one optimizer, got shape {s.shape}")
    dup = s.index[s.index.duplicated()].unique()
    if len(dup):
        raise ValueError(f"duplicate task ids {list(map(str, dup[:5]))}; each task must appear once")
    dup = s.columns[s.columns.duplicated()].unique()
    if len(dup):
        raise ValueError(f"duplicate optimizer columns {list(map(str, dup[:5]))}; each must appear once")
    try:
        values = s.to_numpy(dtype=float)
    except (TypeError, ValueError) as err:
        raise ValueError(f"scores must be numeric: {str(err).splitlines()[0]}") from None
    bad = ~np.isfinite(values)
    if bad.any():
        rows = list(map(str, s.index[bad.any(axis=1)][:5]))
        raise ValueError(
            f"scores have NaN or infinite values for tasks {rows}; drop them or complete the runs"
        )
    n = len(s)
    if isinstance(inp.k, bool) or not isinstance(inp.k, int | np.integer) or not 1 <= inp.k <= n:
        raise ValueError(f"k={inp.k!r} must be an integer in [1, {n}] (the number of tasks)")
    if not isinstance(inp.rng, np.random.Generator):
        raise ValueError(f"rng must be a numpy.random.Generator, got {type(inp.rng).__name__}")
    if inp.families is not None:
        fam = inp.families
        if not isinstance(fam, pd.Series):
            raise ValueError(f"families must be a pandas Series (task -> family), got {type(fam).__name__}")
        if fam.index.duplicated().any():
            dup = fam.index[fam.index.duplicated()].unique()
            raise ValueError(f"families has duplicate task ids {list(map(str, dup[:5]))}")
        missing = s.index[fam.reindex(s.index).isna().to_numpy()]
        if len(missing):
            raise ValueError(
                f"families has no family for tasks {list(map(str, missing[:5]))} "
                f"({len(missing)} of {n}); give one for every task of scores, or families=None"
            )
    if inp.noise is not None:
        noise = inp.noise
        if not isinstance(noise, pd.DataFrame):
            raise ValueError(f"noise must be a pandas DataFrame like scores, got {type(noise).__name__}")
        lack_t = s.index.difference(noise.index)
        lack_o = s.columns.difference(noise.columns)
        if len(lack_t) or len(lack_o):
            raise ValueError(
                f"noise lacks tasks {list(map(str, lack_t[:5]))} and optimizers {list(map(str, lack_o[:5]))}"
                f"; it must cover scores' tasks and optimizers, or be None"
            )
        sd = noise.reindex(index=s.index, columns=s.columns).to_numpy(dtype=float)
        if not (np.isfinite(sd) & (sd >= 0)).all():
            rows = list(map(str, s.index[~(np.isfinite(sd) & (sd >= 0)).all(axis=1)][:5]))
            raise ValueError(f"noise must be finite and >= 0; bad values for tasks {rows}")


def select(name: str, inp: SelectionInput) -> list[str]:
    """Validate ``inp`` (:func:`check_input`) and run the selector registered as ``name``.

    Raises:
        ValueError: an unknown name (the message lists the valid ones) or a bad input.

    Example:
        >>> s = pd.DataFrame({"a": [0.1, 0.2, 0.3]}, index=["t1", "t2", "t3"])
        >>> try:
        ...     select("nope", SelectionInput(s, 1, np.random.default_rng(0)))
        ... except ValueError as err:
        ...     print(str(err).split(";")[0])
        unknown selector 'nope'
    """
    if name not in SELECTORS:
        raise ValueError(f"unknown selector {name!r}; valid choices: {sorted(SELECTORS)}")
    check_input(inp)
    out = SELECTORS[name](inp)
    if len(out) != inp.k or len(set(out)) != inp.k:
        raise RuntimeError(f"selector {name!r} returned {len(set(out))} distinct tasks, expected k={inp.k}")
    return out
