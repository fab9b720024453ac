"""Exact star discrepancy against a box-by-box oracle, closed forms and known values."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.discrepancy import (
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


@pytest.mark.parametrize("d", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("ties", [False, True])
def test_uniform_matches_oracle(d: int, ties: bool) -> None:
    rng = np.random.default_rng(d + 10 * ties)
    for n in (1, 2, 4, 7):
        x = _random_set(rng, n, d, ties)
        expected = brute_force_discrepancy(x)
        for method in ("auto", "grid", "bnb"):
            assert star_discrepancy(x, method=method) == pytest.approx(expected, abs=1e-12)
        if d <= 3:
            assert star_discrepancy_batch(x[None])[0] == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("d", [1, 2, 3, 4])
@pytest.mark.parametrize("ties", [False, True])
def test_empirical_reference_matches_oracle(d: int, ties: bool) -> None:
    rng = np.random.default_rng(100 + d + 10 * ties)
    for n, m in ((1, 3), (3, 6), (5, 8)):
        q = _random_set(rng, m, d, ties)
        subset = q[rng.choice(m, n, replace=False)]  # the use case: a subset of its reference
        other = _random_set(rng, n, d, ties)
        for p in (subset, other):
            expected = brute_force_discrepancy(p, q)
            assert star_discrepancy(p, q) == pytest.approx(expected, abs=1e-12)
            assert star_discrepancy(p, q, method="bnb") == pytest.approx(expected, abs=1e-12)


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
    # a set is perfectly representative of itself, also with duplicates
    x = np.array([[0.2, 0.4], [0.2, 0.4], [0.9, 0.1]])
    assert star_discrepancy(x, reference=x) == pytest.approx(0.0, abs=1e-12)


def test_worst_box_attains_the_value() -> None:
    rng = np.random.default_rng(3)
    x = rng.random((25, 3))
    box = worst_box(x)
    share = box.contains(x).mean()
    assert abs(np.prod(box.corner) - share) == pytest.approx(box.value, abs=1e-12)
    assert box.closed == (share > np.prod(box.corner))
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
    y = rng.random((14, 4))
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
