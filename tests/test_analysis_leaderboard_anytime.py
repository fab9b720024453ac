"""Trajectory resampling, ranks over budget, anytime scores, profiles and ECDFs on hand examples."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.leaderboard import anytime, profiles
from analysis.normalize import prepare
from analysis.synthetic import results_from_values as runs_frame
from analysis.synthetic import synthetic_results


@pytest.fixture
def two_runs() -> pd.DataFrame:
    # Incumbent regret: a = [0.5, 0.25, 0.25] at trials 1..3; b = [1, 0.75] and then it crashed.
    return runs_frame(
        [
            {"optimizer": "a", "values": [4.0, 2.0, 8.0], "optimum": 0.0},
            {"optimizer": "b", "values": [8.0, 6.0], "optimum": 0.0, "status": "crashed"},
        ]
    )


def test_resample_hand_example(two_runs: pd.DataFrame) -> None:
    c = anytime.resample(two_runs, grid=np.array([0.2, 0.5, 0.7, 1.0]))
    assert c.values.tolist() == [[1.0, 0.5, 0.25, 0.25], [1.0, 1.0, 0.75, 0.75]]
    assert c.runs["optimizer"].astype(str).tolist() == ["a", "b"]
    logc = anytime.resample(two_runs, value="log_regret", grid=np.array([1.0]))
    assert logc.values[:, 0] == pytest.approx(np.log10([0.25, 0.75]))


def test_budget_axes_and_errors(two_runs: pd.DataFrame) -> None:
    c = anytime.resample(two_runs, x="budget_used", grid=np.array([1.0]))
    assert c.values[:, 0].tolist() == [0.25, 0.75]
    with pytest.raises(ValueError, match="unknown budget axis 'epochs'"):
        anytime.resample(two_runs, x="epochs")
    with pytest.raises(ValueError, match="'sim_time' is not recorded"):
        anytime.resample(two_runs, x="sim_time")
    with pytest.raises(ValueError, match="unknown value 'median'"):
        anytime.resample(two_runs, value="median")


def test_ranks_over_budget_and_anytime_score(two_runs: pd.DataFrame) -> None:
    c = anytime.resample(two_runs, grid=np.array([0.2, 0.5, 1.0]), log_grid=False)
    r = anytime.ranks_over_budget(c)
    assert r["a"].tolist() == [1.5, 1.0, 1.0] and r["b"].tolist() == [1.5, 2.0, 2.0]
    score = anytime.anytime_score(c)
    expected_a = np.trapezoid([1.0, 0.5, 0.25], [0.2, 0.5, 1.0]) / 0.8
    assert score.iloc[0] == pytest.approx(expected_a)


def test_aggregate_bands_contain_mean() -> None:
    c = anytime.resample(synthetic_results(n_tasks=5, n_optimizers=2, n_seeds=2), n_points=10)
    agg = anytime.aggregate(c, n_boot=100)
    assert len(agg) == 2 * 10
    assert ((agg["ci_low"] <= agg["mean"] + 1e-12) & (agg["mean"] <= agg["ci_high"] + 1e-12)).all()
    assert (agg["n_tasks"] == 5).all()


def test_budget_to_solve_and_performance_profile(two_runs: pd.DataFrame) -> None:
    t = profiles.budget_to_solve(two_runs, tau=0.3)
    assert t.tolist() == [2.0, np.inf]
    pp = profiles.performance_profile(two_runs, tau=0.3, alphas=np.array([1.0, 10.0]))
    assert pp["a"].tolist() == [1.0, 1.0] and pp["b"].tolist() == [0.0, 0.0]
    dp = profiles.data_profile(two_runs, tau=0.3, kappas=np.array([1.0, 2.0]))
    assert dp["a"].tolist() == [0.0, 1.0]


def test_bbob_ecdf_hand_example() -> None:
    df = runs_frame(
        [{"task": "bbob/f01/d02/i01", "optimizer": "a", "values": [150.0, 50.0, 0.5, 1e-9], "optimum": 0.0}]
    )
    e = profiles.bbob_ecdf(df, budgets=np.array([0.5, 1.0, 1.5, 2.0]))
    # Targets >= gap reached: none, 2 (1e2, 1e1.8), 12 (1e2..1e-0.2), all 51; budget = trials / dim.
    assert e["a"].tolist() == pytest.approx([0.0, 2 / 51, 12 / 51, 1.0])
    assert profiles.bbob_ecdf(runs_frame([{"optimizer": "a", "values": [1.0]}])).empty


def test_prepared_bundle_is_reused() -> None:
    prep = prepare(synthetic_results(n_tasks=2, n_optimizers=2, n_seeds=1))
    assert anytime.resample(prep).values.shape[0] == len(prep.runs)
