"""The leave-optimizers-out protocol of ``analysis/subsets/protocol.py`` on synthetic score tables.

The selectors are defined here (a uniformly random one, an oracle that knows a planted subset, a
spy), so these tests do not depend on ``analysis/subsets/selectors.py``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from analysis.subsets.protocol import (
    MEASURES,
    SelectionInput,
    compare,
    evaluate_selector,
    fold_plan,
    markdown_table,
    split_half_ceiling,
)
from analysis.subsets.validation import seed_reliability


def _table(n: int = 300, m: int = 8, seed: int = 0) -> pd.DataFrame:
    """Skill differences well inside the per-task noise, as on the real catalogs."""
    rng = np.random.default_rng(seed)
    x = np.linspace(0.0, 1.0, m)[None, :] + rng.normal(0.0, 1.0, (n, m))
    return pd.DataFrame(x, index=[f"t{i:03d}" for i in range(n)], columns=[f"o{j}" for j in range(m)])


def _random_selector(inp: SelectionInput) -> list[str]:
    return [str(t) for t in inp.rng.choice(inp.scores.index.to_numpy(), inp.k, replace=False)]


def test_random_selector_is_at_chance() -> None:
    res = evaluate_selector(
        _table(), _random_selector, 20, n_folds=2, repeats=5, seeds=6, n_random=200, n_boot=200
    )
    assert res.n_cells == 60
    for m in MEASURES:
        pct = res.cells[f"{m}_pct"].dropna()
        se = pct.std() / np.sqrt(len(pct))
        # a random pick is exchangeable with the random subsets: expected percentile exactly 50
        assert abs(res.measures[m].percentile - 50.0) < 4 * se, (m, res.measures[m])
        assert res.measures[m].lo <= res.measures[m].percentile <= res.measures[m].hi


def _planted(k: int = 20, copies: int = 10, m: int = 12) -> tuple[pd.DataFrame, list[str]]:
    """k noisy tasks, then ``copies - 1`` shuffled copies of them: every task alone is noise, but the
    first k are a perfectly balanced sample and reproduce the full table's means exactly."""
    rng = np.random.default_rng(1)
    base = np.linspace(0.0, 1.0, m)[None, :] + rng.normal(0.0, 1.0, (k, m))
    x = np.vstack([base] + [base[rng.permutation(k)] for _ in range(copies - 1)])
    ids = [f"t{i:04d}" for i in range(len(x))]
    return pd.DataFrame(x, index=ids, columns=[f"o{j:02d}" for j in range(m)]), ids[:k]


def test_oracle_selector_scores_near_100() -> None:
    scores, planted = _planted()
    res = evaluate_selector(
        scores, lambda inp: planted, 20, n_folds=2, repeats=3, seeds=2, n_random=300, n_boot=200
    )
    tau, err, corr = (res.measures[m] for m in ("tau", "rank_error", "score_corr"))
    assert tau.value == pytest.approx(1.0) and err.value == pytest.approx(0.0, abs=1e-9)
    assert corr.value == pytest.approx(1.0)
    assert tau.percentile > 90 and err.percentile > 99 and corr.percentile > 99
    assert tau.random < 0.9  # the table is hard for random subsets, or this would prove nothing


def test_held_out_optimizers_are_never_passed_to_the_selector() -> None:
    scores = _table(n=60, m=7)
    noise = scores.abs() / 10
    families = pd.Series(["a", "b"] * 30, index=scores.index)
    plan = fold_plan(list(scores.columns), n_folds=3, repeats=2, seed=5)
    cells = [held for rep in plan for held in rep for _ in range(2)]  # the protocol's call order
    calls: list[int] = []

    def spy(inp: SelectionInput) -> list[str]:
        held = cells[len(calls)]
        calls.append(1)
        seen = list(inp.scores.columns)
        assert not set(seen) & set(held), (seen, held)
        assert sorted(seen + list(held)) == sorted(scores.columns)
        assert inp.noise is not None and list(inp.noise.columns) == seen
        assert inp.families is not None and inp.families.index.equals(scores.index)
        return list(inp.scores.index[: inp.k])

    res = evaluate_selector(
        scores, spy, 5, n_folds=3, repeats=2, seeds=2, n_random=20, n_boot=20, noise=noise, families=families,
        seed=5,
    )  # fmt: skip
    assert len(calls) == res.n_cells == len(cells)
    assert res.cells["held_out"].tolist() == [",".join(h) for h in cells]


@pytest.mark.parametrize(("m", "n_folds"), [(4, 2), (7, 3), (9, 3), (9, 5), (12, 20)])
def test_folds_partition_the_optimizers(m: int, n_folds: int) -> None:
    opts = [f"o{j}" for j in range(m)]
    plan = fold_plan(opts, n_folds, repeats=4, seed=3)
    assert len(plan) == 4
    for rep in plan:
        flat = [o for g in rep for o in g]
        assert sorted(flat) == sorted(opts) and len(flat) == m  # disjoint and complete
        assert len(rep) == min(n_folds, m // 2)
        assert all(len(g) >= 2 and m - len(g) >= 2 for g in rep)
    assert len({tuple(sorted(rep[0])) for rep in plan}) > 1 or m == 4  # re-partitioned
    res = evaluate_selector(_table(n=40, m=m), _random_selector, 5, n_folds=n_folds, repeats=4, seeds=1,
                            n_random=10, n_boot=10, seed=3)  # fmt: skip
    assert res.folds == plan


def test_results_are_deterministic_for_a_seed() -> None:
    scores = _table(n=80, m=6)
    kw: dict[str, Any] = {"n_folds": 3, "repeats": 2, "seeds": 2, "n_random": 50, "n_boot": 50}
    a = evaluate_selector(scores, _random_selector, 10, seed=7, **kw)
    b = evaluate_selector(scores, _random_selector, 10, seed=7, **kw)
    pd.testing.assert_frame_equal(a.cells, b.cells)
    assert a.measures == b.measures
    # the column order does not matter: the optimizers are sorted before the shuffle
    c = evaluate_selector(scores[scores.columns[::-1]], _random_selector, 10, seed=7, **kw)
    pd.testing.assert_frame_equal(a.cells, c.cells)
    d = evaluate_selector(scores, _random_selector, 10, seed=8, **kw)
    assert not a.cells.equals(d.cells)


def test_compare_is_paired_and_tabulates() -> None:
    scores = _table(n=80, m=6)
    first = lambda inp: list(inp.scores.index[: inp.k])  # noqa: E731
    df = compare(scores, {"random": _random_selector, "first": first}, [5, 10], repeats=1, seeds=2,
                 n_random=40, n_boot=40)  # fmt: skip
    pairs = [["random", 5], ["random", 10], ["first", 5], ["first", 10]]
    assert df[["selector", "k"]].values.tolist() == pairs
    assert (df["n_cells"] == 6).all()
    # same seed: both selectors meet the same random subsets, so the random means agree
    for m in ("tau", "rank_error"):
        assert df.loc[df["k"] == 5, f"{m}_random"].nunique() == 1
    text = markdown_table(df)
    assert len(text.splitlines()) == 2 + len(df) and "| first | 10 | 6 |" in text


def _bad_input_error(case: str) -> str:
    scores, k = _table(n=30, m=5), 5
    if case == "k":
        k = 31
    elif case == "optimizers":
        scores = scores.iloc[:, :3]
    elif case == "nan":
        scores.iloc[4, 2] = np.nan
    with pytest.raises(ValueError) as err:
        evaluate_selector(scores, _random_selector, k, n_random=10, n_boot=10)
    return str(err.value)


@pytest.mark.parametrize(
    ("case", "names"),
    [("k", "k=31"), ("optimizers", "3 optimizers"), ("nan", "'t004'")],
)
def test_bad_input_is_one_line_naming_the_value(case: str, names: str) -> None:
    msg = _bad_input_error(case)
    assert names in msg and "\n" not in msg


def test_selector_returning_a_wrong_subset_is_refused() -> None:
    scores = _table(n=30, m=4)
    for bad, says in ((lambda inp: ["t000"], "1 task ids"), (lambda inp: ["nope"] * 5, "'nope'")):
        with pytest.raises(ValueError, match=says):
            evaluate_selector(scores, bad, 5, n_random=10, n_boot=10, name="bad")


def test_split_half_ceiling_is_seed_reliability() -> None:
    rng = np.random.default_rng(0)
    runs = pd.DataFrame(
        [(f"t{t}", o, s, (t % 3) * (o == "b") + rng.normal(0, 0.5)) for t in range(30) for o in "abc"
         for s in range(4)],
        columns=["task", "optimizer", "seed", "score"],
    )  # fmt: skip
    assert split_half_ceiling(runs, ["a", "b", "c"]) == seed_reliability(runs, ["a", "b", "c"])


def test_saved_tables_read_back_and_summarize() -> None:
    """A comparison printed by markdown_table (raw) reads back to the same rows, to the printed digits,
    and summarize ranks the selectors by their mean percentile over tables and k."""
    from analysis.subsets.protocol import markdown_table, read_markdown_tables, summarize

    rng = np.random.default_rng(4)
    s = pd.DataFrame(rng.random((30, 6)), index=[f"bbob/t{i}" for i in range(30)], columns=list("abcdef"))
    first = lambda inp: list(inp.scores.index[: inp.k])  # noqa: E731
    last = lambda inp: list(inp.scores.index[-inp.k :])  # noqa: E731
    df = compare(s, {"first": first, "last": last}, [5, 10], repeats=1, seeds=1, n_random=50, n_boot=50)
    text = "\n".join(
        [
            "### x.parquet: 30 tasks",
            markdown_table(df, raw=True),
            "### archive:bb: 60 tasks",
            markdown_table(df, raw=True),
        ]
    )
    back = read_markdown_tables(text)
    assert back["table"].tolist() == ["x.parquet"] * 4 + ["archive:bb"] * 4
    for m in MEASURES:
        np.testing.assert_allclose(back[m].to_numpy()[:4], df[m].to_numpy(), atol=0.051)
        np.testing.assert_allclose(
            back[f"{m}_value"].to_numpy()[:4], df[f"{m}_value"].to_numpy(), atol=5.1e-4
        )
    summary = summarize(back)
    means = back.groupby("selector")[["rank_error", "score_corr", "tau"]].mean().mean(axis=1)
    assert summary.index.tolist() == means.sort_values(ascending=False).index.tolist()
    assert (summary["cells"] == 4 * 3).all()
    lo_above = sum(
        (back[f"{m}_lo"] > 50).groupby(back["selector"]).sum() for m in ("rank_error", "score_corr", "tau")
    )
    assert summary["above"].to_dict() == lo_above.to_dict()
    with pytest.raises(ValueError, match="not a protocol table cell"):
        read_markdown_tables("| first | 5 | 2 | sixty |")
