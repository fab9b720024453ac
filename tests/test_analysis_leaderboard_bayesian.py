"""Bayesian signed-rank test: draw for draw against baycomp, closed-form cases, the pairs table, plots."""

from __future__ import annotations

import io
from types import ModuleType

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle

from analysis.leaderboard import bayesian as bay
from analysis.leaderboard.bayesian import SignedRank, bayesian_pairs, signed_rank

RNG = np.random.default_rng(20170)
_BASE = RNG.uniform(0.0, 0.8, 30)
# Scores are lower-is-better; each case is (x, y) on the same tasks.
CASES: dict[str, tuple[np.ndarray, np.ndarray]] = {
    # x wins every task by far more than the ROPE.
    "x_clearly_better": (_BASE[:15], _BASE[:15] + RNG.uniform(0.05, 0.2, 15)),
    # y wins most tasks by a few ROPEs.
    "y_better": (_BASE[:20] + RNG.normal(0.03, 0.02, 20), _BASE[:20]),
    # Differences well inside the ROPE of 0.01.
    "equivalent": (_BASE[:25], _BASE[:25] + RNG.uniform(-0.004, 0.004, 25)),
    # Differences of the ROPE's size in both directions: all three outcomes get mass.
    "mixed": (_BASE, _BASE + RNG.normal(0.002, 0.015, 30)),
    # Exact zeros (both optimizers hit the optimum), exact ties, and differences on the ROPE edge:
    # dyadic values make z_i + z_j == 2 * rope exactly, where H = 1/2.
    "ties_zeros_edge": (
        np.array([0, 0, 0, 2, 4, 6, 8, 10, 10, 3, 5, 7, 0, 1, 9, 12]) / 64,
        np.array([0, 0, 1, 1, 4, 7, 6, 12, 9, 3, 9, 7, 2, 0, 9, 11]) / 64,
    ),
    "two_tasks": (np.array([0.1, 0.4]), np.array([0.2, 0.35])),
}
ROPE_EDGE = 1 / 64  # the ROPE for which "ties_zeros_edge" has differences exactly on the edge


@pytest.fixture(scope="module")
def baycomp() -> ModuleType:
    return pytest.importorskip("baycomp", reason="baycomp (the reference implementation) is not installed")


@pytest.mark.parametrize("prior", [0.5, 2.0])
@pytest.mark.parametrize("rope", [0.01, ROPE_EDGE, 0.0])
@pytest.mark.parametrize("case", list(CASES))
def test_matches_baycomp_draw_for_draw(baycomp: ModuleType, case: str, rope: float, prior: float) -> None:
    x, y = CASES[case]
    kw = {"prior": prior, "nsamples": 4000, "random_state": 7}
    ours, draws = signed_rank(x, y, rope, prior, 4000, seed=7, return_samples=True)
    # baycomp is higher-is-better with diff = y - x: its p_left of (y, x) is "x lower by more than rope".
    post = baycomp.SignedRankTest(y, x, rope, **kw)
    np.testing.assert_allclose(draws, post.sample, rtol=0, atol=1e-12)
    swapped = baycomp.SignedRankTest.probs(x, y, rope, **kw)
    if rope > 0:
        assert ours == pytest.approx(post.probs(), abs=1e-12)
        assert ours == pytest.approx(swapped[::-1], abs=1e-12)
    else:
        # Without a ROPE baycomp returns (p_left, p_right) only.
        assert ours.p_equivalent == 0.0
        assert (ours.p_x_better, ours.p_y_better) == pytest.approx(post.probs(False), abs=1e-12)
        assert (ours.p_x_better, ours.p_y_better) == pytest.approx(swapped[::-1], abs=1e-12)


def test_matches_baycomp_across_draw_chunks(baycomp: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    # Small chunks (1024, 1024, 452 draws): the chunked RandomState stream must be the one baycomp
    # draws in one call, and the scratch arrays reused across chunks must not leak between them.
    monkeypatch.setattr(bay, "_CHUNK_CELLS", 1000)
    x, y = CASES["mixed"]
    ours, draws = signed_rank(x, y, 0.01, n_samples=2500, seed=3, return_samples=True)
    ref = baycomp.SignedRankTest(y, x, 0.01, prior=0.5, nsamples=2500, random_state=3)
    np.testing.assert_allclose(draws, ref.sample, rtol=0, atol=1e-12)
    assert ours == pytest.approx(ref.probs(), abs=1e-12)


def test_reference_probabilities_are_informative() -> None:
    # The cases above span the outcomes (else agreeing with baycomp would prove little).
    def p(case: str) -> SignedRank:
        return signed_rank(*CASES[case], rope=0.01, n_samples=4000, seed=7)

    assert p("x_clearly_better").p_x_better > 0.99
    assert p("y_better").p_y_better > 0.95
    assert p("equivalent").p_equivalent == 1.0
    mixed = p("mixed")
    assert 0.05 < mixed.p_x_better < 0.5 < mixed.p_equivalent < 0.95
    assert min(p("ties_zeros_edge")) > 0.01
    assert min(p("two_tasks")) > 0.05


@pytest.mark.parametrize("prior", [0.5, 1.0, 2.0])
def test_one_task_far_better_closed_form(prior: float) -> None:
    # z = (0, -1): theta_rope = w0^2 (the prior's pair with itself), theta_x = 1 - w0^2, w0 ~ Beta(s, 1).
    # x is the most probable iff w0 < 1/sqrt(2), with probability (1/sqrt(2))^s.
    p = signed_rank([0.0], [1.0], rope=0.01, prior_strength=prior, n_samples=200_000)
    assert p.p_x_better == pytest.approx(2 ** (-prior / 2), abs=0.005)
    assert p.p_y_better == 0.0
    assert p.p_equivalent == pytest.approx(1 - 2 ** (-prior / 2), abs=0.005)


@pytest.mark.parametrize("prior", [0.5, 1.0])
def test_one_task_just_outside_rope_closed_form(prior: float) -> None:
    # z = (0, 0.015), rope 0.01: the Walsh average with the pseudo-observation (0.0075) is inside the
    # ROPE, only z_1 with itself is outside: theta_y = w1^2 with w1 ~ Beta(1, s), and
    # P(w1 > 1/sqrt(2)) = (1 - 1/sqrt(2))^s.
    p = signed_rank([0.515], [0.5], rope=0.01, prior_strength=prior, n_samples=200_000)
    assert p.p_y_better == pytest.approx((1 - 2**-0.5) ** prior, abs=0.005)
    assert p.p_x_better == 0.0


def test_far_beyond_rope_and_inside_rope() -> None:
    x = np.linspace(0.0, 0.5, 10)
    far = signed_rank(x, x + 0.3, rope=0.01)
    # Only the pseudo-observation's pair with itself lies in the ROPE; x loses only if w0 > 0.707.
    assert far.p_x_better > 0.999
    assert far.p_y_better == 0.0
    inside = signed_rank(x, x + np.linspace(-0.004, 0.004, 10), rope=0.01)
    # Every Walsh average is within 0.004 of 0: every draw has theta_rope = 1.
    assert inside == SignedRank(0.0, 1.0, 0.0)


def test_symmetry_swaps_outer_probabilities() -> None:
    for x, y in CASES.values():
        p, d = signed_rank(x, y, 0.01, n_samples=5000, seed=1, return_samples=True)
        q, e = signed_rank(y, x, 0.01, n_samples=5000, seed=1, return_samples=True)
        assert (q.p_y_better, q.p_equivalent, q.p_x_better) == pytest.approx(tuple(p), abs=1e-12)
        np.testing.assert_allclose(e[:, ::-1], d, rtol=0, atol=1e-12)


def test_deterministic_under_seed_and_sums_to_one() -> None:
    x, y = CASES["mixed"]
    a = signed_rank(x, y, 0.01, n_samples=3000, seed=11)
    assert a == signed_rank(x, y, 0.01, n_samples=3000, seed=11)
    b = signed_rank(x, y, 0.01, n_samples=3000, seed=12)
    assert a != b
    assert np.abs(np.subtract(a, b)).max() < 0.06  # two Monte Carlo estimates of the same numbers
    fresh = signed_rank(x, y, 0.01, n_samples=3000, seed=None)
    for p in (a, b, fresh, signed_rank(x, y, 0.0, n_samples=3000)):
        assert sum(p) == pytest.approx(1.0, abs=1e-12)
        assert all(0.0 <= v <= 1.0 for v in p)


def test_exact_tie_of_outcomes_is_shared() -> None:
    # No ROPE and every difference 0: theta_x = theta_y = 1/2 in every draw (baycomp's argmax would
    # give each draw to whichever side float noise favours).
    assert signed_rank([0.2] * 5, [0.2] * 5, rope=0.0, n_samples=1000) == SignedRank(0.5, 0.0, 0.5)
    p = bay.probabilities(np.array([[0.4, 0.4, 0.2], [0.1, 0.1, 0.8], [0.3, 0.3, 0.4], [0.6, 0.3, 0.1]]))
    assert p == SignedRank(0.375, 0.125, 0.5)


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (([0.1, 0.2], [0.1]), "same length"),
        (([], []), "empty"),
        (([0.1, np.nan], [0.1, 0.2]), "finite"),
        (([0.1], [0.2], -0.01), "rope"),
        (([0.1], [0.2], 0.01, 0.0), "prior_strength"),
        (([0.1], [0.2], 0.01, 0.5, 0), "n_samples"),
    ],
)
def test_signed_rank_rejects_bad_input(args: tuple[object, ...], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        signed_rank(*args)  # type: ignore[call-overload]


def _table() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    base = rng.uniform(0, 0.6, 12)
    s = pd.DataFrame(
        {
            "good": base,
            "twin": base + rng.uniform(-0.003, 0.003, 12),
            "bad": base + rng.uniform(0.1, 0.3, 12),
            "noisy": base + rng.normal(0.0, 0.03, 12),
            "rare": np.nan,
        },
        index=[f"t{i}" for i in range(12)],
    )
    s.loc[["t0", "t3", "t7"], "noisy"] = np.nan  # fewer common tasks: another group of draws
    s.loc["t5", "rare"] = 0.2  # one task only: the test cannot run
    return s


def test_pairs_equal_signed_rank_on_common_tasks() -> None:
    s = _table()
    out = bayesian_pairs(s, rope=0.01, n_samples=3000, seed=4)
    assert list(out.columns) == list(bay.PAIR_COLUMNS)
    assert len(out) == 10
    for row in out.itertuples():
        both = s[[row.a, row.b]].dropna()
        assert row.n_tasks == len(both)
        if len(both) < 2:
            assert np.isnan([row.p_a_better, row.p_equivalent, row.p_b_better]).all()
            assert row.decision == "undecided"
            assert "1 common task" in row.note
            continue
        ref = signed_rank(both[row.a], both[row.b], 0.01, n_samples=3000, seed=4)
        assert (row.p_a_better, row.p_equivalent, row.p_b_better) == pytest.approx(tuple(ref), abs=1e-12)
        assert row.note == ""
    by = out.set_index(["a", "b"])
    assert by.loc[("good", "bad"), "decision"] == "a better"
    assert by.loc[("good", "twin"), "decision"] == "equivalent"
    assert by.loc[("bad", "noisy"), "decision"] == "b better"
    assert by.loc[("good", "noisy"), "n_tasks"] == 9
    assert out.attrs == {"rope": 0.01, "prior_strength": 0.5, "n_samples": 3000, "seed": 4, "threshold": 0.95}


def test_pairs_match_baycomp(baycomp: ModuleType) -> None:
    s = _table()
    row = bayesian_pairs(s, n_samples=3000, seed=2, against="noisy").set_index("b").loc["bad"]
    both = s[["noisy", "bad"]].dropna().to_numpy()
    ref = baycomp.SignedRankTest.probs(both[:, 1], both[:, 0], 0.01, prior=0.5, nsamples=3000, random_state=2)
    assert (row.p_a_better, row.p_equivalent, row.p_b_better) == pytest.approx(ref, abs=1e-12)


def test_pairs_against_one_optimizer_and_threshold() -> None:
    s = _table()
    out = bayesian_pairs(s, n_samples=2000, against="bad")
    assert out["a"].tolist() == ["bad"] * 4
    assert out["b"].tolist() == ["good", "twin", "noisy", "rare"]
    assert out["decision"].tolist()[:3] == ["b better"] * 3
    full = bayesian_pairs(s, n_samples=2000)
    turned = bay.oriented(full, "bad")
    pd.testing.assert_frame_equal(turned, out)
    # A threshold of 1 declares only certainties: "good" vs "twin" is (0, 1, 0) exactly.
    strict = bayesian_pairs(s, n_samples=2000, threshold=1.0).set_index(["a", "b"])["decision"]
    assert strict[("good", "twin")] == "equivalent"
    assert strict[("good", "noisy")] == "undecided"


def test_pairs_round_float_noise_to_ties() -> None:
    s = pd.DataFrame({"a": [0.1, 0.2, 0.3, 0.4], "b": [0.1 + 1e-15, 0.2 - 1e-15, 0.3, 0.4 + 2e-16]})
    # Without a ROPE, unrounded noise would decide the sign; rounded, every difference is 0.
    out = bayesian_pairs(s, rope=0.0, n_samples=1000)
    assert out.loc[0, ["p_a_better", "p_equivalent", "p_b_better"]].tolist() == [0.5, 0.0, 0.5]
    assert out.loc[0, "decision"] == "undecided"


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"threshold": 0.5}, "threshold"),
        ({"threshold": 1.2}, "threshold"),
        ({"against": "nope"}, "unknown optimizer"),
        ({"rope": float("nan")}, "rope"),
    ],
)
def test_pairs_reject_bad_arguments(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        bayesian_pairs(_table(), **kwargs)  # type: ignore[arg-type]


def test_pairs_of_a_tiny_table() -> None:
    one = bayesian_pairs(pd.DataFrame({"a": [0.1, 0.2]}))
    assert list(one.columns) == list(bay.PAIR_COLUMNS) and len(one) == 0
    assert bay.pairs_bar_plot(one).axes[0].get_yticklabels() == []
    out = bayesian_pairs(pd.DataFrame({"a": [0.1], "b": [0.2]}))
    assert out.loc[0, "n_tasks"] == 1 and np.isnan(out.loc[0, "p_a_better"])
    assert out.loc[0, "note"] == "1 common task(s): the test needs at least 2"


def test_simplex_plot() -> None:
    x, y = CASES["mixed"]
    p, draws = signed_rank(x, y, 0.01, n_samples=3000, return_samples=True)
    fig = bay.simplex_plot(draws, names=("tpe", "rs"), max_points=1000)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    texts = [t.get_text() for t in ax.texts]
    assert texts == [
        f"tpe better\np = {p.p_x_better:.3f}",
        f"ROPE\np = {p.p_equivalent:.3f}",
        f"rs better\np = {p.p_y_better:.3f}",
    ]
    # One scatter per region, 1000 points in all, each point inside the triangle.
    pts = np.concatenate([c.get_offsets() for c in ax.collections])
    assert len(ax.collections) == 3 and len(pts) == 1000
    assert (pts[:, 1] >= -1e-12).all()
    assert (pts[:, 1] <= np.sqrt(3) * np.minimum(pts[:, 0], 1 - pts[:, 0]) + 1e-9).all()
    fig.savefig(io.BytesIO(), format="png")


def _width(patch: Patch) -> float:
    assert isinstance(patch, Rectangle)
    return float(patch.get_width())


def test_pairs_bar_plot() -> None:
    s = _table()
    pairs = bayesian_pairs(s, n_samples=2000)
    fig = bay.pairs_bar_plot(pairs)
    ax = fig.axes[0]
    labels = [f"{a} vs {b}" for a, b in zip(pairs["a"], pairs["b"], strict=True)]
    assert [t.get_text() for t in ax.get_yticklabels()] == labels
    widths = np.array([_width(r) for r in ax.patches]).reshape(3, len(pairs))
    expected = pairs[["p_a_better", "p_equivalent", "p_b_better"]].fillna(0.0).to_numpy().T
    np.testing.assert_allclose(widths, expected)
    # "rare" shares one task with each of the others.
    assert [t.get_text() for t in ax.texts] == ["too few common tasks"] * 4
    fig.savefig(io.BytesIO(), format="png")
    against = bay.pairs_bar_plot(pairs, against="bad").axes[0]
    labels = [t.get_text() for t in against.get_yticklabels()]
    assert sorted(labels) == ["bad vs good", "bad vs noisy", "bad vs rare", "bad vs twin"]
    first = np.array([_width(r) for r in against.patches])[:4]
    assert (first[:-1] >= first[1:]).all()  # sorted by p_a_better, NaN last
    with pytest.raises(ValueError, match="unknown optimizer"):
        bay.pairs_bar_plot(pairs, against="nope")
