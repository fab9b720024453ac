"""Subset selection: baselines, the shift local search, dev/test split and the score embedding."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.subsets.discrepancy import WorstBox, star_discrepancy, swap_discrepancies, swap_lower_bounds
from analysis.subsets.selection import (
    BATCH,
    _candidate_swaps,
    _descend_fast,
    dev_test_split,
    embed_scores,
    select_subset,
)


def test_selections_report_their_exact_discrepancy() -> None:
    x = np.random.default_rng(0).random((80, 3))
    for method in ("random", "greedy", "shift"):
        sel = select_subset(x, 10, method=method, seed=1, time_budget=0.5)
        assert len(np.unique(sel.indices)) == 10
        assert sel.discrepancy == pytest.approx(star_discrepancy(x[sel.indices]), abs=1e-12)


def test_shift_beats_random_and_greedy_in_3d() -> None:
    x = np.random.default_rng(1).random((300, 3))
    rnd = np.median([select_subset(x, 20, method="random", seed=s).discrepancy for s in range(10)])
    greedy = select_subset(x, 20, method="greedy").discrepancy
    shift = select_subset(x, 20, seed=0, time_budget=1.5).discrepancy
    assert shift < greedy < rnd
    assert shift < 0.16  # a uniform random 20-subset sits near 0.25


def test_seeding() -> None:
    x = np.random.default_rng(2).random((50, 2))
    a = select_subset(x, 6, method="random", seed=5)
    b = select_subset(x, 6, method="random", seed=np.random.default_rng(5))
    assert a.indices.tolist() == b.indices.tolist()
    # the shift search stops on a wall-clock budget, so only its quality is seed-independent
    assert select_subset(x, 6, seed=5, time_budget=0.3).discrepancy <= a.discrepancy
    # ... unless an evaluation cap stops it first: then it is reproducible
    runs = [select_subset(x, 6, seed=5, time_budget=60.0, max_evaluations=1500) for _ in range(2)]
    assert runs[0].indices.tolist() == runs[1].indices.tolist()
    assert runs[0].discrepancy == runs[1].discrepancy
    assert 1500 <= runs[0].evaluations < 1500 + 16 * 6 + 1  # stops after the step that reaches it


def test_empirical_reference_and_high_dimension() -> None:
    x = np.random.default_rng(3).random((30, 4))
    sel = select_subset(x, 6, reference="empirical", seed=0, time_budget=0.5)
    rnd = select_subset(x, 6, method="random", reference="empirical", seed=0)
    assert sel.discrepancy == pytest.approx(star_discrepancy(x[sel.indices], reference=x), abs=1e-12)
    assert sel.discrepancy <= rnd.discrepancy


def test_dev_and_test_are_disjoint() -> None:
    x = np.random.default_rng(4).random((60, 2))
    dev, test = dev_test_split(x, 8, 8, seed=0, time_budget=0.3)
    assert not set(dev.indices) & set(test.indices)
    assert len(dev.indices) == len(test.indices) == 8
    excluded = select_subset(x, 50, method="random", exclude=np.arange(10), seed=0)
    assert excluded.indices.min() >= 10


def test_embedding_scales_per_optimizer_not_per_task() -> None:
    table = pd.DataFrame(
        {"opt_a": [1e-6, 1e-3, 1.0, 1e-3], "opt_b": [0.5, 0.5, 0.5, 0.5], "opt_c": [2.0, 4.0, 3.0, 4.0]},
        index=pd.Index(["t1", "t2", "t3", "t4"], name="task"),
    )
    emb = embed_scores(table)
    assert emb["opt_c"].tolist() == [0.0, 1.0, 0.5, 1.0]  # ties stay ties
    assert (emb["opt_b"] == 0.0).all()  # a constant column carries no information
    logged = embed_scores(table, log=True)
    assert logged["opt_a"].round(6).tolist() == [0.0, 0.5, 1.0, 0.5]
    assert list(emb.index) == list(table.index) and list(emb.columns) == list(table.columns)
    # duplicate points (t2, t4) are fine for the selection
    assert len(select_subset(emb.to_numpy(), 2, method="greedy").indices) == 2


def test_swaps_when_every_candidate_is_equally_near_the_box() -> None:
    # Regression: the nearness weights all underflowed to 0 (0 / 0 = NaN probabilities) when the
    # candidates on the box's side were all at the same distance from its corner, as duplicate
    # tasks are (a score table with many ties stopped the search with "Probabilities contain NaN").
    x = np.array([[0.1], [0.1], [0.1], [0.9], [0.9]])
    box = WorstBox(0.5, np.array([0.5]), closed=False)
    cur = np.array([3, 4])
    cand, _ = _candidate_swaps(
        x, cur, box, np.zeros(5, dtype=bool), np.random.default_rng(0), lambda idx: np.zeros(len(idx))
    )
    assert len(cand) == BATCH and set(cand.ravel()) <= {0, 1, 2, 3, 4} and np.isin(cand, [0, 1, 2]).any()
    for fast in (False, True):  # the whole search, both paths, on a set with many duplicates
        dup = np.repeat(np.random.default_rng(1).random((6, 2)), 10, axis=0)
        sel = select_subset(
            dup, 5, reference="uniform" if fast else "empirical", seed=0, max_evaluations=2000, time_budget=30
        )
        assert len(sel.indices) == 5 and np.isfinite(sel.discrepancy)


@pytest.mark.parametrize("d", [1, 2, 3])
@pytest.mark.parametrize("grid", [False, True])
def test_swap_bounds_never_exceed_the_exact_swap_discrepancy(d: int, grid: bool) -> None:
    # The uniform fast path evaluates a swap exactly only if its bound is below the current value,
    # so a bound above the true value would hide an improving swap (and "certify" a false optimum).
    checked = 0
    for seed in range(4):
        rng = np.random.default_rng(10 * d + seed)
        x = rng.random((60, d))
        if grid:  # ties, duplicates and coordinates equal to 1
            x = np.round(x * 5) / 5
        cur = rng.choice(60, (5, 11)[seed % 2], replace=False)
        free = np.setdiff1d(np.arange(60), cur)
        value, bound = swap_lower_bounds(x, cur, free)
        exact = swap_discrepancies(x[cur], x[free])
        assert value == pytest.approx(star_discrepancy(x[cur]), abs=1e-12)
        finite = np.isfinite(bound)
        assert (bound[finite] <= exact[finite] + 1e-12).all()
        assert (exact[~finite] >= value - 1e-12).all()  # screened-out drops cannot improve
        checked += int(finite.sum())
    assert checked > 0  # not every swap screened out: the bound itself was compared


def test_fast_descent_ends_in_a_true_local_optimum() -> None:
    # Brute force over every single swap: none improves the subset the bounded descent stops at.
    rng = np.random.default_rng(4)
    x = np.round(rng.random((30, 2)) * 8) / 8
    allowed = np.arange(2, 30)  # rows 0 and 1 excluded, as a dev subset is for the test subset
    for start in range(3):
        cur = rng.choice(allowed, 5, replace=False)
        cur, value, _ = _descend_fast(x, cur, np.setdiff1d(allowed, cur), rng, lambda spent: False)
        assert value == pytest.approx(star_discrepancy(x[cur]), abs=1e-12) and not {0, 1} & set(cur)
        for r in range(5):
            for a in np.setdiff1d(allowed, cur):
                swapped = cur.copy()
                swapped[r] = a
                assert star_discrepancy(x[swapped]) >= value - 1e-12, (start, r, a)


def test_bad_input() -> None:
    x = np.random.default_rng(5).random((10, 2))
    with pytest.raises(ValueError, match="unknown method 'best'"):
        select_subset(x, 3, method="best")
    with pytest.raises(ValueError, match="unknown reference 'gaussian'"):
        select_subset(x, 3, reference="gaussian")
    with pytest.raises(ValueError, match="k=11"):
        select_subset(x, 11)
    with pytest.raises(ValueError, match="missing values for tasks \\['b'\\]"):
        embed_scores(pd.DataFrame({"o": [0.1, np.nan]}, index=["a", "b"]))
