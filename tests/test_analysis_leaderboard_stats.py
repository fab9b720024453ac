"""Ranks and tests against scipy, Demšar's tables and hand examples."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as st

from analysis.leaderboard import stats
from analysis.leaderboard.plots import cd_diagram
from analysis.synthetic import synthetic_results

DEMSAR_Q05 = [1.960, 2.343, 2.569, 2.728, 2.850, 2.949, 3.031, 3.102, 3.164]
DEMSAR_Q10 = [1.645, 2.052, 2.291, 2.459, 2.589, 2.693, 2.780, 2.855, 2.920]


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("k", [3, 4, 7])
def test_friedman_matches_scipy_with_ties(seed: int, k: int) -> None:
    rng = np.random.default_rng(seed)
    # Coarse values produce ties within tasks, exercising the tie correction.
    scores = pd.DataFrame(rng.integers(0, 4, size=(12, k)).astype(float))
    ours = stats.friedman(scores)
    ref = st.friedmanchisquare(*scores.to_numpy().T)
    assert ours.statistic == pytest.approx(ref.statistic, rel=1e-10)
    assert ours.pvalue == pytest.approx(ref.pvalue, rel=1e-8)
    n, chi2 = 12, ref.statistic
    ff = (n - 1) * chi2 / (n * (k - 1) - chi2)
    assert ours.iman_davenport == pytest.approx(ff)
    assert ours.iman_davenport_pvalue == pytest.approx(st.f.sf(ff, k - 1, (k - 1) * (n - 1)))


@pytest.mark.parametrize(("k", "q05", "q10"), list(zip(range(2, 11), DEMSAR_Q05, DEMSAR_Q10, strict=True)))
def test_q_alpha_matches_demsar_table(k: int, q05: float, q10: float) -> None:
    assert stats.q_alpha(k, 0.05) == pytest.approx(q05, abs=1.5e-3)
    assert stats.q_alpha(k, 0.10) == pytest.approx(q10, abs=1.5e-3)


def test_critical_difference_demsar_example() -> None:
    # Demšar (2006), section 3.2.4: k=4 algorithms on N=14 data sets, CD = 1.25.
    assert stats.critical_difference(4, 14) == pytest.approx(1.25, abs=5e-3)
    with pytest.raises(ValueError, match="k >= 2"):
        stats.q_alpha(1)


def test_mean_ranks_hand_example() -> None:
    scores = pd.DataFrame(
        {"a": [0.1, 0.2, 0.3, 0.4], "b": [0.2, 0.1, 0.3, 0.5], "c": [0.3, 0.3, 0.1, 0.6]},
        index=["t1", "t2", "t3", "t4"],
    )
    # Ranks: t1 1,2,3; t2 2,1,3; t3 2.5,2.5,1; t4 1,2,3.
    r = stats.mean_ranks(scores, n_boot=200).table
    assert r["mean_rank"].to_dict() == {"a": 1.625, "b": 1.875, "c": 2.5}
    assert (r["ci_low"] <= r["mean_rank"]).all() and (r["mean_rank"] <= r["ci_high"]).all()


def test_two_optimizers_dominance_has_no_rank_inversion() -> None:
    good = np.linspace(0.0, 0.1, 12)
    scores = pd.DataFrame({"good": good, "bad": good + 0.5})
    mr = stats.mean_ranks(scores, n_boot=100).table
    assert mr.index.tolist() == ["good", "bad"]
    assert mr["mean_rank"].tolist() == [1.0, 2.0]
    fr = stats.friedman(scores)
    assert fr.mean_ranks["good"] == 1.0
    assert fr.pvalue < 0.01
    for res in (stats.nemenyi(scores), stats.conover_holm(scores), stats.wilcoxon_holm(scores)):
        assert res.mean_ranks.index[0] == "good", res.method
        assert bool(res.significant().loc["good", "bad"]), res.method
    # The diagram must place the better optimizer on the low-rank (left) side.
    fig = cd_diagram(mr["mean_rank"], stats.critical_difference(2, 12))
    xs = {t.get_text().split(" ")[0]: t.get_position()[0] for t in fig.axes[0].texts if "(" in t.get_text()}
    assert xs["good"] < xs["bad"]
    # End to end through the raw frame as well.
    df = synthetic_results(
        n_tasks=6, n_optimizers=2, n_seeds=2, n_trials=30, optimizer_names=["weak", "strong"]
    )
    fr2 = stats.final_ranks(df)
    assert fr2.index[0] == "strong" and fr2.loc["strong", "mean_rank"] < fr2.loc["weak", "mean_rank"]


def test_ties_get_average_ranks_and_float_noise_ties() -> None:
    scores = pd.DataFrame({"a": [0.0, 0.3], "b": [1e-16, 0.3], "c": [0.5, 0.1]})
    r = stats.ranks(scores)
    assert r.loc[0].tolist() == [1.5, 1.5, 3.0]
    assert r.loc[1].tolist() == [2.5, 2.5, 1.0]
    allties = pd.DataFrame({"a": [0.2] * 5, "b": [0.2] * 5})
    res = stats.friedman(allties)
    assert res.pvalue == 1.0 and "tie" in res.note
    assert stats.wilcoxon_holm(allties).pvalues.loc["a", "b"] == 1.0


def test_nan_tasks_are_dropped_and_reported() -> None:
    scores = pd.DataFrame({"a": [0.1, 0.2, np.nan, 0.3], "b": [0.2, 0.3, 0.1, 0.4]}, index=list("wxyz"))
    fr = stats.friedman(scores)
    assert fr.n == 3 and fr.dropped_tasks == ["y"]
    assert stats.nemenyi(scores).dropped_tasks == ["y"]
    assert stats.mean_ranks(scores, n_boot=10).table["n_tasks"].tolist() == [3, 3]
    # The partial-rank summary keeps the task for the optimizer that has it.
    assert stats.ranks(scores).loc["y", "b"] == 1.0


def test_too_few_optimizers_or_tasks_returns_note() -> None:
    one_opt = pd.DataFrame({"a": [0.1, 0.2, 0.3]})
    one_task = pd.DataFrame({"a": [0.1], "b": [0.2], "c": [0.3]})
    for scores in (one_opt, one_task):
        fr = stats.friedman(scores)
        assert np.isnan(fr.pvalue) and "needs" in fr.note
        for fn in (stats.nemenyi, stats.conover_holm, stats.wilcoxon_holm):
            res = fn(scores)
            assert "needs" in res.note and res.pvalues.isna().all().all()
    assert "too few" in stats.mean_ranks(one_task).note


def test_nemenyi_pvalue_consistent_with_cd() -> None:
    rng = np.random.default_rng(3)
    scores = pd.DataFrame(rng.random((20, 5)) + np.arange(5) * 0.15, columns=list("abcde"))
    res = stats.nemenyi(scores)
    mr = res.mean_ranks
    for i in mr.index:
        for j in mr.index:
            if i != j and abs(abs(mr[i] - mr[j]) - res.cd) > 1e-6:
                assert (abs(mr[i] - mr[j]) > res.cd) == bool(res.significant().loc[i, j])
    for group in res.cliques():
        assert mr[group].max() - mr[group].min() < res.cd


def test_conover_matches_formula() -> None:
    rng = np.random.default_rng(5)
    scores = pd.DataFrame(rng.random((10, 3)), columns=list("abc"))
    r = stats.ranks(scores).to_numpy()
    b, k = r.shape
    rs = r.sum(axis=0)
    var = 2 * (b * (r**2).sum() - (rs**2).sum()) / ((b - 1) * (k - 1))
    raw = [
        2 * st.t.sf(abs(rs[i] - rs[j]) / np.sqrt(var), (b - 1) * (k - 1)) for i, j in [(0, 1), (0, 2), (1, 2)]
    ]
    adj = stats.holm(np.array(raw))
    res = stats.conover_holm(scores).pvalues
    assert [res.loc["a", "b"], res.loc["a", "c"], res.loc["b", "c"]] == pytest.approx(adj.tolist())


def test_wilcoxon_two_optimizers_equals_scipy() -> None:
    rng = np.random.default_rng(7)
    x, y = rng.random(15), rng.random(15) + 0.2
    res = stats.wilcoxon_holm(pd.DataFrame({"x": x, "y": y}))
    assert res.pvalues.loc["x", "y"] == pytest.approx(st.wilcoxon(x, y).pvalue)


def test_holm_and_wins_ties_losses() -> None:
    assert stats.holm(np.array([0.01, np.nan, 0.02])).tolist()[::2] == pytest.approx([0.02, 0.02])
    s = pd.DataFrame({"random_search": [0.5, 0.2, 0.1], "x": [0.1, 0.2, 0.3]})
    assert stats.wins_ties_losses(s, "random_search").loc["x"].tolist() == [1, 1, 1]
    with pytest.raises(ValueError, match="unknown baseline 'nope'"):
        stats.wins_ties_losses(s, "nope")


def test_final_ranks_is_fast_on_a_small_study() -> None:
    import time

    df = synthetic_results(n_tasks=6, n_optimizers=4, n_seeds=3, n_trials=30, task_types=("bb", "mo"))
    stats.final_ranks(df)
    start = time.perf_counter()
    out = stats.final_ranks(df)
    assert time.perf_counter() - start < 2.0
    assert list(out.columns) == ["mean_rank", "n_tasks", "mean_regret"]
    assert out["n_tasks"].tolist() == [6, 6, 6, 6]


def test_largest_complete_block_drops_the_cheaper_side() -> None:
    from analysis.leaderboard.stats import largest_complete_block

    tasks = [f"t{i}" for i in range(12)]
    s = pd.DataFrame({"a": np.linspace(0, 1, 12), "b": np.linspace(1, 0, 12)}, index=tasks)
    # 'rare' ran on one task of twelve: dropping it keeps 24 cells, dropping tasks keeps 3.
    s["rare"] = [0.5] + [np.nan] * 11
    # 'gappy' lacks one task: dropping that task (33 cells) beats dropping 'gappy' (24).
    s["gappy"] = [np.nan] + [0.3] * 11
    b = largest_complete_block(s)
    assert b.dropped_optimizers == ["rare"]
    assert b.dropped_tasks == ["t0"]
    assert b.scores.shape == (11, 3) and not b.scores.isna().any().any()
    # A complete table comes back unchanged; two optimizers are never reduced to one.
    full = largest_complete_block(s[["a", "b"]])
    assert full.scores.equals(s[["a", "b"]]) and full.dropped_optimizers == full.dropped_tasks == []
    assert largest_complete_block(s[["a", "rare"]]).dropped_optimizers == []
