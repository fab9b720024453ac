"""Select k of n tasks whose embedding has low star discrepancy (a representative subset).

* :func:`embed_scores`: a tasks x optimizers score table -> points in ``[0, 1]^d`` (one coordinate
  per optimizer; optional log, then min-max PER COLUMN, never per row). Tied or duplicate points are
  allowed: the discrepancy handles equal coordinates exactly.
* :func:`select_subset`: ``"shift"`` local search in the spirit of Clément, Doerr & Paquete (star
  discrepancy subset selection): take the worst box of the current subset; if it holds too few
  points, swap a selected point outside it for an unselected one inside it, else a selected point
  inside it for an unselected one outside; candidate swaps near the box's border are preferred,
  evaluated in vectorized batches, the best improving one is taken; restarts until the time budget
  is spent; the best subset is kept. For the uniform reference in ``d <= 3`` a cheap lower bound on
  every swap instead picks the few swaps worth an exact evaluation and certifies local optima, and
  restarts kick the best subset. ``"greedy"`` and ``"random"`` are baselines.
* :func:`dev_test_split`: disjoint dev and test subsets (test chosen among the tasks not in dev).

Example:
    >>> x = np.random.default_rng(0).random((40, 2))
    >>> sel = select_subset(x, 8, seed=0, time_budget=0.5)
    >>> len(sel.indices), sel.discrepancy < select_subset(x, 8, method="random", seed=0).discrepancy
    (8, True)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from analysis.subsets.discrepancy import (
    WorstBox,
    check_points,
    star_discrepancy,
    star_discrepancy_batch,
    swap_discrepancies,
    swap_lower_bounds,
    worst_box,
)

METHODS: tuple[str, ...] = ("shift", "greedy", "random")
REFERENCES: tuple[str, ...] = ("uniform", "empirical")
#: Candidate swaps evaluated per step of the local search.
BATCH = 48
#: Adds per exact evaluation in the bounded descent of the fast path (each against every drop): the
#: first few by bound usually hold an improving swap, and smaller batches return to the bound sooner.
FAST_ADDS = 4


@dataclass(frozen=True)
class Selection:
    """A selected subset.

    Attributes:
        indices: sorted row indices into the point set.
        discrepancy: its star discrepancy w.r.t. the chosen reference.
        method: how it was selected.
        evaluations: discrepancy evaluations spent.
        seconds: wall time spent.
    """

    indices: np.ndarray
    discrepancy: float
    method: str
    evaluations: int
    seconds: float


def embed_scores(table: pd.DataFrame, log: bool = False, floor: float = 1e-10) -> pd.DataFrame:
    """Tasks x optimizers scores (lower is better) -> coordinates in ``[0, 1]``, scaled per column.

    Each optimizer's column is min-max scaled on its own, so a coordinate says where a task sits
    among all tasks for that optimizer; a constant column maps to 0. Rows are never rescaled (that
    would erase how hard a task is). Missing scores are refused.

    Args:
        table: e.g. ``analysis.normalize.score_table`` output (final normalized regret, mean over seeds).
        log: take ``log10(max(score, floor))`` first (regrets spanning decades).
        floor: smallest score before the log.

    Example:
        >>> t = pd.DataFrame({"a": [0.1, 0.3, 0.2], "b": [1.0, 1.0, 1.0]}, index=["t1", "t2", "t3"])
        >>> embed_scores(t).round(2).to_dict("list")
        {'a': [0.0, 1.0, 0.5], 'b': [0.0, 0.0, 0.0]}
    """
    values = table.to_numpy(dtype=float)
    if np.isnan(values).any():
        bad = list(table.index[np.isnan(values).any(axis=1)][:5])
        raise ValueError(f"score table has missing values for tasks {bad}; drop them or complete the runs")
    if log:
        values = np.log10(np.maximum(values, floor))
    lo, span = values.min(axis=0), np.ptp(values, axis=0)
    scaled = np.where(span > 0, (values - lo) / np.where(span > 0, span, 1.0), 0.0)
    return pd.DataFrame(np.clip(scaled, 0.0, 1.0), index=table.index, columns=table.columns)


def tied_tasks(table: pd.DataFrame, tol: float = 1e-12) -> pd.Index:
    """Tasks on which every optimizer of ``table`` has the same score (within ``tol``).

    Such a task cannot tell the embedding optimizers apart (typically all of them reach regret 0,
    as on small LCDB or tabular spaces), but other optimizers can still differ on it: on the
    multi-fidelity catalog, successive halving ranks first among the held-out methods on the other
    tasks and last but one on these. ``python -m analysis subset`` therefore selects among all tasks
    (a representative subset takes a proportional share of the tied ones); ``--drop-ties`` leaves
    them out, trading that representativeness for subsets that spend every task on ranking.

    Example:
        >>> t = pd.DataFrame({"a": [0.0, 0.3, 0.2], "b": [0.0, 0.1, 0.2]}, index=["t1", "t2", "t3"])
        >>> list(tied_tasks(t))
        ['t1', 't3']
    """
    values = table.to_numpy(dtype=float)
    return table.index[np.ptp(values, axis=1) <= tol]


def _evaluator(x: np.ndarray, reference: str) -> Callable[[np.ndarray], np.ndarray]:
    """A function: (B, k) index batch -> (B,) discrepancies."""
    if reference == "uniform" and x.shape[1] <= 3:
        return lambda idx: star_discrepancy_batch(x[idx])
    ref = "uniform" if reference == "uniform" else x
    return lambda idx: np.array([star_discrepancy(x[i], ref) for i in idx])


def _candidate_swaps(
    x: np.ndarray,
    cur: np.ndarray,
    box: WorstBox,
    banned: np.ndarray,
    rng: np.random.Generator,
    evaluate: Callable[[np.ndarray], np.ndarray],
) -> tuple[np.ndarray, np.ndarray]:
    """One step's candidate subsets (swaps that may fix the worst ``box``) and their discrepancies.

    Too few points in the box -> bring one in and take one out elsewhere; too many -> the reverse.
    The point swapped on the box's side is drawn near its upper faces (moving those shifts the box
    border, the "shift" move). ``BATCH`` sampled pairs are scored (the uniform reference in
    ``d <= 3`` uses :func:`_descend_fast` instead). Returns empty arrays when the box cannot be
    fixed by a swap.
    """
    n, k = len(x), len(cur)
    inside = box.contains(x)
    selected = np.zeros(n, dtype=bool)
    selected[cur] = True
    adds = np.flatnonzero(~selected & ~banned & (~inside if box.closed else inside))
    outs = np.flatnonzero(selected & (inside if box.closed else ~inside))
    if len(adds) == 0 or len(outs) == 0:
        return np.empty((0, k), dtype=int), np.empty(0)
    corner = np.minimum(box.corner, 1.0)
    side, other = (outs, adds) if box.closed else (adds, outs)
    near = np.abs(x[side] - corner).min(axis=1)
    w = np.exp(-near / (near.std() + 1e-12))
    # All weights underflow to 0 when every candidate is equally near (std 0, e.g. duplicate
    # points): then they are equally likely, which is what p=None draws.
    p = w / w.sum() if w.sum() > 0 else None
    pick = rng.choice(side, BATCH, p=p)
    rest = rng.choice(other, BATCH)
    a, o = (rest, pick) if box.closed else (pick, rest)
    cand = np.tile(cur, (BATCH, 1))
    cand[np.arange(BATCH), np.argsort(cur)[np.searchsorted(np.sort(cur), o)]] = a
    return cand, evaluate(cand)


def _descend_fast(
    x: np.ndarray,
    cur: np.ndarray,
    free: np.ndarray,
    rng: np.random.Generator,
    out_of_budget: Callable[[int], bool],
) -> tuple[np.ndarray, float, int]:
    """Swap local search for the uniform reference, ``d <= 3``, to a local optimum (or the budget).

    Only swaps whose :func:`analysis.subsets.discrepancy.swap_lower_bounds` bound is below the current
    value can improve it; their adds are evaluated exactly (against every drop), ``FAST_ADDS`` at a
    time in order of their best bound (ties in random order), and the best strict improvement of a
    batch is taken. When no candidate is left the subset is a certified local optimum of the swap
    neighbourhood, so the search returns at once instead of waiting out a patience. ``free`` (the
    unselected, allowed rows) is updated in place; ``out_of_budget`` is told the evaluations spent
    so far (the bound counts as one). Returns the subset, its exact value and those evaluations.
    """
    cur = cur.copy()
    evals = 0
    while True:
        value, bound = swap_lower_bounds(x, cur, free)
        evals += 1
        if out_of_budget(evals):
            return cur, value, evals
        best_bound = bound.min(axis=1)
        promising = np.flatnonzero(best_bound < value - 1e-12)
        promising = promising[rng.permutation(len(promising))]
        promising = promising[np.argsort(best_bound[promising], kind="stable")]
        for lo in range(0, len(promising), FAST_ADDS):
            tried = promising[lo : lo + FAST_ADDS]
            vals = swap_discrepancies(x[cur], x[free[tried]])
            evals += vals.size
            i, r = np.unravel_index(int(np.argmin(vals)), vals.shape)
            if vals[i, r] < value - 1e-12:
                cur[r], free[tried[i]] = free[tried[i]], cur[r]
                break
            if out_of_budget(evals):
                return cur, value, evals
        else:
            return cur, value, evals


def select_subset(
    points: npt.ArrayLike,
    k: int,
    method: str = "shift",
    reference: str = "uniform",
    exclude: npt.ArrayLike | None = None,
    seed: int | np.random.Generator = 0,
    time_budget: float = 10.0,
    patience: int = 15,
    perturb: float | None = None,
    kick: int = 3,
    max_evaluations: int | None = None,
) -> Selection:
    """Choose ``k`` rows of ``points`` minimizing star discrepancy.

    Args:
        points: (n, d) array in ``[0, 1]^d``.
        k: subset size, ``1 <= k <= n - len(exclude)``.
        method: ``"shift"`` (local search with restarts), ``"greedy"`` (add the best point, one at a
            time) or ``"random"``.
        reference: ``"uniform"`` (the classical discrepancy) or ``"empirical"`` (w.r.t. all ``points``:
            how representative the subset is of the full set).
        exclude: row indices that may not be selected (e.g. the dev subset).
        seed: seed or numpy Generator.
        time_budget: seconds for ``"shift"`` (it stops after the step that crosses it).
        patience: steps without strict improvement before a ``"shift"`` restart (except on the fast
            path, uniform reference and ``d <= 3``, whose descents stop at a certified local optimum).
        perturb: chance that a restart kicks the best subset (``kick`` random swaps) rather than
            drawing a fresh random one; by default 0.8, and 1 on the fast path, where a descent from
            a random subset costs a second or more against a fraction of that after a kick.
        kick: swaps of a kick.
        max_evaluations: also stop ``"shift"`` after the step that reaches this many evaluations;
            with a generous ``time_budget`` the result is then deterministic for a given seed.

    Example:
        >>> sel = select_subset(np.linspace(0, 1, 9)[:, None], 2, time_budget=0.2)
        >>> sel.indices.tolist(), round(sel.discrepancy, 3)
        ([2, 6], 0.25)
    """
    x = check_points(points)
    n = len(x)
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; valid choices: {list(METHODS)}")
    if reference not in REFERENCES:
        raise ValueError(f"unknown reference {reference!r}; valid choices: {list(REFERENCES)}")
    banned = np.zeros(n, dtype=bool)
    if exclude is not None:
        banned[np.asarray(exclude, dtype=int)] = True
    pool = np.flatnonzero(~banned)
    if not 1 <= k <= len(pool):
        raise ValueError(f"k={k} must be in [1, {len(pool)}] (points available after exclusions)")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    evaluate = _evaluator(x, reference)
    start = time.perf_counter()
    evals = 0
    if method == "random":
        best = np.sort(rng.choice(pool, k, replace=False))
        value = float(evaluate(best[None])[0])
        return Selection(best, value, method, 1, time.perf_counter() - start)
    if method == "greedy":
        chosen: list[int] = []
        value = np.inf
        for _ in range(k):
            rest = np.setdiff1d(pool, chosen)
            vals = evaluate(np.column_stack([np.tile(chosen, (len(rest), 1)), rest]).astype(int))
            evals += len(rest)
            j = int(np.argmin(vals))  # first minimum: deterministic ties
            chosen.append(int(rest[j]))
            value = float(vals[j])
        return Selection(np.sort(chosen), value, method, evals, time.perf_counter() - start)
    ref = "uniform" if reference == "uniform" else x
    fast = reference == "uniform" and x.shape[1] <= 3
    if perturb is None:
        perturb = 1.0 if fast else 0.8

    best, value = np.array([], dtype=int), np.inf
    eval_cap = np.inf if max_evaluations is None else max_evaluations

    def out_of_budget(spent: int = 0) -> bool:  # spent: evaluations not yet added to evals
        return evals + spent >= eval_cap or time.perf_counter() - start >= time_budget

    while True:
        if len(best) and rng.random() < perturb:
            # iterated local search: kick the best subset by a few random swaps
            cur = best.copy()
            free = np.setdiff1d(pool, cur)
            swaps = min(kick, k, len(free))
            cur[rng.choice(k, swaps, replace=False)] = rng.choice(free, swaps, replace=False)
        else:
            cur = rng.choice(pool, k, replace=False)
        if fast:
            cur, cur_val, spent = _descend_fast(x, cur, np.setdiff1d(pool, cur), rng, out_of_budget)
            evals += spent
        else:
            cur_val = float(evaluate(cur[None])[0])
            evals += 1
            fails = 0
            while fails < patience and not out_of_budget():
                box = worst_box(x[cur], ref)
                cand, vals = _candidate_swaps(x, cur, box, banned, rng, evaluate)
                if len(cand) == 0:
                    break
                evals += len(cand)
                j = int(np.argmin(vals))
                # plateau moves are taken too (they move the worst box); only strict gains reset
                # patience
                fails = 0 if vals[j] < cur_val - 1e-12 else fails + 1
                if vals[j] <= cur_val + 1e-12:
                    cur, cur_val = cand[j], float(vals[j])
        if cur_val < value:
            best, value = np.sort(cur), cur_val
        if out_of_budget():
            return Selection(best, value, method, evals, time.perf_counter() - start)


def dev_test_split(
    points: npt.ArrayLike,
    k_dev: int,
    k_test: int,
    method: str = "shift",
    reference: str = "uniform",
    seed: int = 0,
    time_budget: float = 10.0,
    max_evaluations: int | None = None,
) -> tuple[Selection, Selection]:
    """Disjoint dev and test subsets: dev first, then test among the remaining rows.

    Example:
        >>> dev, test = dev_test_split(np.random.default_rng(1).random((30, 2)), 5, 5, method="greedy")
        >>> len(set(dev.indices) & set(test.indices))
        0
    """
    rng = np.random.default_rng(seed)
    dev = select_subset(
        points, k_dev, method, reference, seed=rng, time_budget=time_budget, max_evaluations=max_evaluations
    )
    test = select_subset(
        points,
        k_test,
        method,
        reference,
        exclude=dev.indices,
        seed=rng,
        time_budget=time_budget,
        max_evaluations=max_evaluations,
    )
    return dev, test
