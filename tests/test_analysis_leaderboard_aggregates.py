"""rliable-style aggregates: hand-worked examples, ragged designs, the bootstrap, rliable's own values."""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from analysis.leaderboard import aggregates as ag
from analysis.leaderboard.stats import run_scores
from analysis.synthetic import synthetic_results

# Two tasks x four runs, small enough to work out by hand (see the tests for the arithmetic).
HAND = {
    ("a", "t1"): [0.0, 0.1, 0.2, 0.9],
    ("a", "t2"): [0.3, 0.4, 0.5, 0.6],
    ("b", "t1"): [0.1, 0.1, 0.5, 0.5],
    ("b", "t2"): [0.2, 0.3, 0.7, 0.8],
}


def frame(cells: dict[tuple[str, str], list[float]]) -> pd.DataFrame:
    """A per-run frame from {(optimizer, task): regrets}."""
    rows = [
        {"task": task, "optimizer": opt, "seed": i, "score": v}
        for (opt, task), values in cells.items()
        for i, v in enumerate(values)
    ]
    return pd.DataFrame(rows)


def balanced(rng: np.random.Generator, n_opt: int, n_tasks: int, n_runs: int, coarse: bool) -> pd.DataFrame:
    """A complete design; ``coarse`` puts regrets on a grid of eighths so that runs tie."""
    shape = (n_opt, n_tasks, n_runs)
    values = rng.integers(0, 9, size=shape) / 8 if coarse else rng.beta(2, 4, size=shape)
    o, t, s = np.indices(shape).reshape(3, -1)
    return pd.DataFrame(
        {"task": [f"t{i}" for i in t], "optimizer": [f"o{i}" for i in o], "seed": s, "score": values.ravel()}
    )


def synthetic_runs() -> pd.DataFrame:
    return run_scores(synthetic_results(n_tasks=6, n_optimizers=3, n_seeds=5, n_trials=10))


def lookup(poi: pd.DataFrame, a: str, b: str) -> pd.Series:
    return poi[(poi["a"] == a) & (poi["b"] == b)].iloc[0]


# --- Hand-worked values -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("opt", "expected"),
    [
        # a pooled, sorted: 0.0 0.1 | 0.2 0.3 0.4 0.5 | 0.6 0.9 -> IQM (0.2+0.3+0.4+0.5)/4 = 0.35.
        # Task means 0.3 and 0.45: mean = median = 0.375 = optimality gap at gamma = 1 (s = 1 - regret).
        ("a", {"iqm": 0.35, "mean": 0.375, "median": 0.375, "optimality_gap": 0.375}),
        # b pooled, sorted: 0.1 0.1 | 0.2 0.3 0.5 0.5 | 0.7 0.8 -> IQM 1.5/4; task means 0.3 and 0.5.
        ("b", {"iqm": 0.375, "mean": 0.4, "median": 0.4, "optimality_gap": 0.4}),
    ],
)
def test_point_estimates_by_hand(opt: str, expected: dict[str, float]) -> None:
    est = ag.point_estimates(frame(HAND))
    assert est.loc[opt].to_dict() == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(
    ("opt", "gap"),
    [
        # s = 1 - regret, clipped at 0.8. a: t1 0.8 0.8 0.8 0.1 -> 0.625, t2 0.7 0.6 0.5 0.4 -> 0.55;
        # gap = 0.8 - (0.625 + 0.55) / 2 = 0.2125.
        ("a", 0.2125),
        # b: t1 0.8 0.8 0.5 0.5 -> 0.65, t2 0.8 0.7 0.3 0.2 -> 0.5; gap = 0.8 - 0.575 = 0.225.
        ("b", 0.225),
    ],
)
def test_optimality_gap_clips_scores_above_gamma(opt: str, gap: float) -> None:
    est = ag.point_estimates(frame(HAND), metrics=["optimality_gap"], gamma=0.8)
    assert est.loc[opt, "optimality_gap"] == pytest.approx(gap, abs=1e-12)
    pooled = [v for (o, _), vals in HAND.items() if o == opt for v in vals]
    assert ag.optimality_gap(pooled, gamma=0.8) == pytest.approx(gap, abs=1e-12)


def test_probability_of_improvement_by_hand() -> None:
    # t1: a = 0.0 beats all 4 of b; 0.1 ties two 0.1s (2 x 1/2) and beats both 0.5s -> 3;
    #     0.2 beats the two 0.5s -> 2; 0.9 beats none. 9 of 16 pairs: 0.5625.
    # t2: a = 0.3 ties 0.3 (1/2) and beats 0.7, 0.8 -> 2.5; 0.4, 0.5, 0.6 beat 0.7, 0.8 -> 2 each.
    #     8.5 of 16 pairs: 0.53125. Mean over the two tasks: 0.546875.
    poi = ag.probability_of_improvement(frame(HAND), n_boot=0)
    ab, ba = lookup(poi, "a", "b"), lookup(poi, "b", "a")
    assert ab["p"] == pytest.approx(0.546875, abs=1e-12)
    assert ba["p"] == pytest.approx(0.453125, abs=1e-12)
    assert (ab["n_tasks"], ba["n_tasks"]) == (2, 2)
    assert np.isnan([ab["lower"], ab["upper"]]).all()


def test_score_distributions_by_hand() -> None:
    # a, regret <= tau: t1 (0.0 0.1 0.2 0.9) 1/4, 3/4, 3/4, 1; t2 (0.3 0.4 0.5 0.6) 0, 0, 3/4, 1.
    prof = ag.score_distributions(frame(HAND), taus=[0.0, 0.2, 0.5, 1.0], n_boot=0)
    a = prof[prof["optimizer"] == "a"]
    assert a["fraction"].tolist() == pytest.approx([0.125, 0.375, 0.75, 1.0], abs=1e-12)
    assert a["tau"].tolist() == [0.0, 0.2, 0.5, 1.0]


def test_score_distributions_count_float_noise_as_meeting_the_threshold() -> None:
    # 0.1 + 0.2 is 0.30000000000000004, above the threshold 0.3 by one ulp.
    runs = pd.DataFrame({"task": "t", "optimizer": "a", "score": [0.1 + 0.2, 0.9]})
    prof = ag.score_distributions(runs, n_boot=0)
    assert prof.loc[np.isclose(prof["tau"], 0.3), "fraction"].item() == pytest.approx(0.5)


def test_probability_of_improvement_ties_float_noise() -> None:
    # Both optimizers reached the optimum up to rounding noise: a tie, not a win.
    runs = pd.DataFrame({"task": "t", "optimizer": ["a", "b"], "score": [1e-17, 0.0]})
    assert lookup(ag.probability_of_improvement(runs, n_boot=0), "a", "b")["p"] == 0.5


# --- Ragged designs ---------------------------------------------------------------------------


def ragged_cells() -> dict[tuple[str, str], list[float]]:
    return {
        **HAND,
        # c ran on t1 only.
        ("c", "t1"): [0.05, 0.2, 0.4],
        # d: 3 runs at 0 on t1, 7 runs at 1 on t2, and 2 runs at 0.9 on t3.
        ("d", "t1"): [0.0] * 3,
        ("d", "t2"): [1.0] * 7,
        ("d", "t3"): [0.9] * 2,
    }


def test_ragged_point_estimates_use_each_optimizers_own_tasks() -> None:
    est = ag.interval_estimates(frame(ragged_cells()), n_boot=0).set_index(["optimizer", "metric"])
    assert est.loc[("c", "mean"), ["estimate", "n_tasks", "n_runs"]].tolist() == pytest.approx(
        [0.65 / 3, 1, 3]
    )
    # d: task means 0, 1, 0.9 weigh the same -> mean 1.9/3, median 0.9, gap (gamma = 1) 1.9/3.
    # IQM pools the 12 runs: 0 0 0 0.9 0.9 1 1 1 1 1 1 1, cut 3 at each end -> (0.9*2 + 1*4) / 6.
    d = est.loc["d"]
    assert d.loc["mean", "estimate"] == pytest.approx(1.9 / 3, abs=1e-12)
    assert d.loc["median", "estimate"] == pytest.approx(0.9, abs=1e-12)
    assert d.loc["optimality_gap", "estimate"] == pytest.approx(1.9 / 3, abs=1e-12)
    assert d.loc["iqm", "estimate"] == pytest.approx(5.8 / 6, abs=1e-12)
    assert (d["n_tasks"].tolist(), d["n_runs"].tolist()) == ([3] * 4, [12] * 4)


def test_ragged_bootstrap_resamples_within_tasks() -> None:
    # Every run of d on a task has the same regret: a resample that stays inside its task gives
    # back the same runs, so every replicate equals the estimate. Pooled resampling would not.
    est = ag.interval_estimates(frame(ragged_cells()), n_boot=300, seed=1)
    d = est[est["optimizer"] == "d"]
    assert d["lower"].to_numpy() == pytest.approx(d["estimate"].to_numpy(), abs=1e-12)
    assert d["upper"].to_numpy() == pytest.approx(d["estimate"].to_numpy(), abs=1e-12)
    prof = ag.score_distributions(frame(ragged_cells()), taus=[0.5], n_boot=300, seed=1)
    # Tasks weigh the same: (1 + 0 + 0) / 3 although t2 has 7 of d's 12 runs.
    assert prof[prof["optimizer"] == "d"][["fraction", "lower", "upper"]].to_numpy() == pytest.approx(1 / 3)


def test_ragged_probability_of_improvement_uses_common_tasks() -> None:
    # a vs c on t1 only: a = 0.0 beats 0.05, 0.2, 0.4 -> 3; 0.1 beats 0.2, 0.4 -> 2;
    # 0.2 ties 0.2 and beats 0.4 -> 1.5; 0.9 -> 0. 6.5 of 12 pairs.
    poi = ag.probability_of_improvement(frame(ragged_cells()), n_boot=200, seed=0)
    ac = lookup(poi, "a", "c")
    assert ac["p"] == pytest.approx(6.5 / 12, abs=1e-12)
    assert ac["n_tasks"] == 1
    assert lookup(poi, "a", "d")["n_tasks"] == 2
    assert len(poi) == 4 * 3


def test_pair_without_common_task_is_nan() -> None:
    runs = frame({("a", "t1"): [0.1, 0.2], ("b", "t2"): [0.3]})
    poi = ag.probability_of_improvement(runs, n_boot=50)
    assert poi["n_tasks"].tolist() == [0, 0]
    assert poi[["p", "lower", "upper"]].isna().all().all()


@pytest.mark.parametrize("seed", range(3))
def test_ragged_point_estimates_match_their_definition(seed: int) -> None:
    rng = np.random.default_rng(seed)
    runs = balanced(rng, 3, 5, 6, coarse=False)
    runs = runs[rng.random(len(runs)) < 0.6]
    est = ag.point_estimates(runs)
    for opt, g in runs.groupby("optimizer"):
        task_means = g.groupby("task")["score"].mean()
        assert est.loc[opt, "iqm"] == pytest.approx(ag.iqm(g["score"].to_numpy()), abs=1e-12)
        assert est.loc[opt, "mean"] == pytest.approx(task_means.mean(), abs=1e-12)
        assert est.loc[opt, "median"] == pytest.approx(task_means.median(), abs=1e-12)
        assert est.loc[opt, "optimality_gap"] == pytest.approx(task_means.mean(), abs=1e-12)


# --- The bootstrap ----------------------------------------------------------------------------

Aggregate = Callable[..., pd.DataFrame]
BOOTSTRAPPED: list[tuple[Aggregate, str]] = [
    (ag.interval_estimates, "estimate"),
    (ag.probability_of_improvement, "p"),
    (ag.score_distributions, "fraction"),
]


@pytest.mark.parametrize(("func", "col"), BOOTSTRAPPED)
def test_seeded_bootstrap_is_deterministic(func: Aggregate, col: str) -> None:
    runs = synthetic_runs()
    first = func(runs, n_boot=200, seed=3)
    pd.testing.assert_frame_equal(first, func(runs, n_boot=200, seed=3))
    other = func(runs, n_boot=200, seed=4)
    pd.testing.assert_series_equal(first[col], other[col])
    assert not np.allclose(first[["lower", "upper"]], other[["lower", "upper"]])


@pytest.mark.parametrize(("func", "col"), BOOTSTRAPPED)
def test_intervals_contain_the_estimate(func: Aggregate, col: str) -> None:
    out = func(synthetic_runs(), n_boot=500, seed=0)
    assert out[["lower", "upper"]].notna().all().all()
    assert ((out["lower"] <= out[col] + 1e-12) & (out[col] <= out["upper"] + 1e-12)).all()
    assert (out["upper"] - out["lower"]).max() > 0


def test_interval_coverage_of_the_true_mean() -> None:
    # 200 optimizers are 200 independent replications: the bootstrap is independent per optimizer.
    rng = np.random.default_rng(0)
    n_rep, mu = 200, np.array([0.2, 0.4, 0.5, 0.7])
    regret = rng.normal(mu[None, :, None], 0.15, size=(n_rep, len(mu), 25))
    o, t, _ = np.indices(regret.shape).reshape(3, -1)
    runs = pd.DataFrame({"task": t, "optimizer": [f"o{i:03d}" for i in o], "score": regret.ravel()})
    est = ag.interval_estimates(runs, metrics=["mean"], n_boot=1000, seed=0)
    covered = ((est["lower"] <= mu.mean()) & (mu.mean() <= est["upper"])).mean()
    assert 0.88 <= covered <= 0.99


def test_probability_of_improvement_is_complementary() -> None:
    poi = ag.probability_of_improvement(synthetic_runs(), n_boot=300, seed=0)
    # The row of (b, a) next to the row of (a, b).
    pairs = list(zip(poi["a"], poi["b"], strict=True))
    rev = poi.rename(columns={"a": "b", "b": "a"}).set_index(["a", "b"]).loc[pairs]
    assert poi["p"].to_numpy() + rev["p"].to_numpy() == pytest.approx(1.0, abs=1e-12)
    assert poi["lower"].to_numpy() == pytest.approx(1.0 - rev["upper"].to_numpy(), abs=1e-12)


def test_score_distributions_default_grid_is_monotone() -> None:
    prof = ag.score_distributions(synthetic_runs(), n_boot=200)
    for _, g in prof.groupby("optimizer"):
        assert len(g) == 101
        assert g["tau"].iloc[[0, -1]].tolist() == [0.0, 1.0]
        assert (np.diff(g["fraction"]) >= -1e-12).all()
        assert g["fraction"].iloc[-1] == pytest.approx(1.0)


def test_zero_replicates_give_nan_bounds() -> None:
    est = ag.interval_estimates(frame(HAND), n_boot=0)
    assert est[["lower", "upper"]].isna().all().all()
    assert est["estimate"].notna().all()


def test_value_names_the_score_column() -> None:
    runs = frame(HAND).rename(columns={"score": "final_hv_regret"})
    est = ag.point_estimates(runs, value="final_hv_regret")
    assert est.loc["a", "iqm"] == pytest.approx(0.35)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: ag.interval_estimates(frame(HAND).drop(columns="task")), "lacks columns"),
        (lambda: ag.interval_estimates(frame(HAND).assign(score=np.nan)), "have no 'score'"),
        (lambda: ag.interval_estimates(frame(HAND), ci=1.0), "ci must lie"),
        (lambda: ag.probability_of_improvement(frame(HAND), n_boot=-1), "n_boot must"),
        (lambda: ag.point_estimates(frame(HAND), metrics=["iqr"]), "unknown metrics"),
        (lambda: ag.score_distributions(frame(HAND), taus=[0.5, 0.1]), "strictly increasing"),
    ],
)
def test_bad_input_is_refused(call: Callable[[], object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()


# --- rliable's own estimators -----------------------------------------------------------------


@pytest.mark.parametrize("coarse", [False, True])
@pytest.mark.parametrize("seed", range(3))
def test_point_estimates_match_rliable(seed: int, coarse: bool) -> None:
    metrics = pytest.importorskip(
        "rliable.metrics", reason="rliable is not installed; its estimators are the reference"
    )
    runs = balanced(np.random.default_rng(seed), 3, 5, 7, coarse)
    # rliable's layout: runs x tasks, normalized score s = 1 - regret (higher is better).
    s = {
        opt: 1.0 - g.pivot(index="seed", columns="task", values="score").to_numpy()
        for opt, g in runs.groupby("optimizer")
    }
    est = ag.point_estimates(runs)
    gap08 = ag.point_estimates(runs, metrics=["optimality_gap"], gamma=0.8)
    for opt, m in s.items():
        assert est.loc[opt, "iqm"] == pytest.approx(1.0 - metrics.aggregate_iqm(m), abs=1e-12)
        assert est.loc[opt, "mean"] == pytest.approx(1.0 - metrics.aggregate_mean(m), abs=1e-12)
        assert est.loc[opt, "median"] == pytest.approx(1.0 - metrics.aggregate_median(m), abs=1e-12)
        ref_gap = metrics.aggregate_optimality_gap(m, 1.0)
        assert est.loc[opt, "optimality_gap"] == pytest.approx(ref_gap, abs=1e-12)
        ref_gap08 = metrics.aggregate_optimality_gap(m, 0.8)
        assert gap08.loc[opt, "optimality_gap"] == pytest.approx(ref_gap08, abs=1e-12)
        assert ag.iqm(1.0 - m) == pytest.approx(1.0 - metrics.aggregate_iqm(m), abs=1e-12)
    poi = ag.probability_of_improvement(runs, n_boot=0)
    for row in poi.itertuples():
        ref = metrics.probability_of_improvement(s[str(row.a)], s[str(row.b)])
        assert row.p == pytest.approx(ref, abs=1e-12)


# --- Figures ----------------------------------------------------------------------------------


def rendered(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def test_interval_plot_one_panel_per_metric_best_on_top() -> None:
    est = ag.interval_estimates(frame(HAND), n_boot=100)
    fig = ag.interval_plot(est)
    assert len(fig.axes) == len(ag.METRICS)
    assert all("lower is better" in ax.get_xlabel() for ax in fig.axes)
    # y grows upwards: the last label is the top row, the lowest IQM (a: 0.35 < b: 0.375).
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["b", "a"]
    assert len(fig.axes[0].patches) == 2
    assert rendered(fig)[:4] == b"\x89PNG"


def test_interval_plot_leaves_a_margin_around_every_interval_and_estimate() -> None:
    # Bars pin the axis to their base (matplotlib's sticky edges): the best optimizer's tick sat
    # on the left spine, its narrow interval invisible (a deterministic optimizer, e.g. ng_ngopt).
    est = pd.DataFrame(
        {
            "optimizer": ["steady", "a", "b"],
            "metric": "iqm",
            "estimate": [0.00685, 0.02, 0.04],
            "lower": [0.0068, 0.01, 0.03],
            "upper": [0.0069, 0.03, 0.05],
            "n_tasks": 30,
            "n_runs": 60,
        }
    )
    fig = ag.interval_plot(est)
    rendered(fig)
    left, right = fig.axes[0].get_xlim()
    span = 0.05 - 0.0068
    assert left < 0.0068 - 0.02 * span and right > 0.05 + 0.02 * span


def test_interval_plot_without_intervals_draws_estimates_only() -> None:
    fig = ag.interval_plot(ag.interval_estimates(frame(HAND), n_boot=0), metrics=["iqm", "mean"])
    assert len(fig.axes) == 2
    assert len(fig.axes[0].patches) == 0
    assert rendered(fig)


@pytest.mark.parametrize(("against", "n_rows"), [(None, 3), ("o0", 2)])
def test_improvement_plot_rows(against: str | None, n_rows: int) -> None:
    poi = ag.probability_of_improvement(balanced(np.random.default_rng(0), 3, 4, 5, False), n_boot=100)
    fig = ag.improvement_plot(poi, against=against)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert len(labels) == n_rows
    if against is not None:
        assert all(label.endswith(" vs o0") for label in labels)
    else:
        shown = [lookup(poi, *label.split(" vs "))["p"] for label in labels]
        assert min(shown) >= 0.5
    assert rendered(fig)


def test_improvement_plot_refuses_an_unknown_optimizer() -> None:
    with pytest.raises(ValueError, match="against 'zz'"):
        ag.improvement_plot(ag.probability_of_improvement(frame(HAND), n_boot=0), against="zz")


def test_score_distribution_plot_line_and_band_per_optimizer() -> None:
    fig = ag.score_distribution_plot(ag.score_distributions(frame(HAND), n_boot=100))
    ax = fig.axes[0]
    assert len(ax.lines) == 2
    assert len(ax.collections) == 2
    assert "higher is better" in ax.get_ylabel()
    assert rendered(fig)
