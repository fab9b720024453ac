"""Exact star discrepancy against a box-by-box oracle, closed forms and known values."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.subsets.discrepancy import (
    brute_force_discrepancy,
    star_discrepancy,
    star_discrepancy_batch,
    swap_discrepancies,
    worst_box,
)


def _random_set(rng: np.random.Generator, n: int, d: int, ties: bool) -> np.ndarray:
    x = rng.random((n, d))
    # coarse rounding forces shared coordinates, duplicate points and coordinates 0 and 1
    return np.round(x * 3) / 3 if ties else x


@pytest.mark.parametrize("d", [1, 2, 3, 4, 5, 6])
@pytest.mark.parametrize("ties", [False, True])
def test_uniform_matches_oracle(d: int, ties: bool) -> None:
    rng = np.random.default_rng(d + 10 * ties)
    for n in (1, 2, 4, 7, 9) if d <= 4 else (1, 2, 4, 6):  # the oracle visits (n + 1)^d corners
        x = _random_set(rng, n, d, ties)
        expected = brute_force_discrepancy(x)
        for method in ("auto", "grid", "bnb"):
            assert star_discrepancy(x, method=method) == pytest.approx(expected, abs=1e-12)
        if d <= 3:
            assert star_discrepancy_batch(x[None])[0] == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("d", [1, 2, 3, 4, 5, 6])
@pytest.mark.parametrize("ties", [False, True])
def test_empirical_reference_matches_oracle(d: int, ties: bool) -> None:
    rng = np.random.default_rng(100 + d + 10 * ties)
    # the oracle's grid has (n + m + 1)^d corners: keep the sets small in high dimension
    sizes = ((1, 3), (3, 6), (5, 8)) if d <= 4 else ((1, 3), (2, 4), (3, 3))
    for n, m in sizes:
        q = _random_set(rng, m, d, ties)
        subset = q[rng.choice(m, n, replace=False)]  # the use case: a subset of its reference
        other = _random_set(rng, n, d, ties)
        duplicated = np.vstack([subset, subset[:1]])  # a repeated point weighs twice
        for p in (subset, other, duplicated):
            expected = brute_force_discrepancy(p, q)
            for method in ("auto", "grid", "bnb"):
                assert star_discrepancy(p, q, method=method) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("d", [2, 4, 6])
def test_bnb_matches_dense_grid_on_larger_sets(d: int) -> None:
    # the dense kernel shares no code with the branch and bound: an independent check at sizes
    # where the bounds prune most of the grid
    rng = np.random.default_rng(300 + d)
    n = {2: 150, 4: 14, 6: 6}[d]
    for ties in (False, True):
        x = _random_set(rng, n, d, ties)
        assert star_discrepancy(x) == pytest.approx(star_discrepancy(x, method="grid"), abs=1e-12)
        q = _random_set(rng, 5 * n, d, ties)
        assert star_discrepancy(x, q) == pytest.approx(star_discrepancy(x, q, method="grid"), abs=1e-12)


def test_one_dimensional_closed_form() -> None:
    rng = np.random.default_rng(7)
    for n in (1, 5, 40, 300):
        x = np.sort(rng.random(n))
        closed_form = 1 / (2 * n) + np.max(np.abs(x - (2 * np.arange(1, n + 1) - 1) / (2 * n)))
        assert star_discrepancy(x[:, None]) == pytest.approx(closed_form, abs=1e-12)


def test_known_values() -> None:
    # the centred 1-D grid is optimal with D* = 1/(2n)
    assert star_discrepancy((np.arange(10)[:, None] + 0.5) / 10) == pytest.approx(0.05)
    # the origin alone: the closed box [0, 0] holds all points and has no volume
    assert star_discrepancy(np.zeros((3, 2))) == pytest.approx(1.0)
    # every coordinate at the top: the grid has a single corner
    assert star_discrepancy(np.ones((2, 3))) == pytest.approx(1.0)
    assert star_discrepancy(np.ones((2, 3)), reference=np.ones((1, 3))) == pytest.approx(0.0)
    # a set is perfectly representative of itself, also with duplicates
    x = np.array([[0.2, 0.4], [0.2, 0.4], [0.9, 0.1]])
    assert star_discrepancy(x, reference=x) == pytest.approx(0.0, abs=1e-12)


def test_worst_box_attains_the_value() -> None:
    rng = np.random.default_rng(3)
    x = rng.random((25, 3))
    for method in ("bnb", "grid"):
        box = worst_box(x, method=method)
        share = box.contains(x).mean()
        assert abs(np.prod(box.corner) - share) == pytest.approx(box.value, abs=1e-12)
        assert box.closed == (share > np.prod(box.corner))
    y = rng.random((40, 5))
    p = y[:8]
    ref_box = worst_box(p, reference=y)
    gap = ref_box.contains(y).mean() - ref_box.contains(p).mean()
    assert abs(gap) == pytest.approx(ref_box.value, abs=1e-12)
    assert ref_box.closed == (gap < 0)
    batch_value, batch_boxes = star_discrepancy_batch(x[None], return_box=True)
    assert batch_value[0] == pytest.approx(box.value, abs=1e-12)
    assert abs(np.prod(batch_boxes[0].corner) - batch_boxes[0].contains(x).mean()) == pytest.approx(box.value)


@pytest.mark.parametrize("d", [1, 2, 3])
@pytest.mark.parametrize("ties", [False, True])
def test_swap_discrepancies_match_full_evaluation(d: int, ties: bool) -> None:
    rng = np.random.default_rng(200 + d + 10 * ties)
    for k in (1, 3, 8):
        s = _random_set(rng, k, d, ties)
        adds = _random_set(rng, 5, d, ties)
        got = swap_discrepancies(s, adds)
        for b in range(len(adds)):
            for r in range(k):
                t = s.copy()
                t[r] = adds[b]
                assert got[b, r] == pytest.approx(brute_force_discrepancy(t), abs=1e-12)


def test_moderate_sizes_agree_across_methods() -> None:
    rng = np.random.default_rng(11)
    x = rng.random((60, 2))
    assert star_discrepancy(x, method="grid") == pytest.approx(star_discrepancy_batch(x[None])[0], abs=1e-12)
    y = rng.random((40, 3))
    assert star_discrepancy(y, method="bnb") == pytest.approx(star_discrepancy(y, method="grid"), abs=1e-12)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"points": [[0.5, 1.5]]}, "must lie in"),
        ({"points": np.zeros((0, 2))}, "non-empty"),
        ({"points": [[0.5]], "reference": "normal"}, "unknown reference 'normal'"),
        ({"points": [[0.5]], "method": "dem"}, "unknown method 'dem'"),
        ({"points": [[0.5]], "reference": [[0.1, 0.2]]}, "dimensions"),
    ],
)
def test_bad_input(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        star_discrepancy(**kwargs)
