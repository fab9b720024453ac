"""Task-subset selectors: the common contract for every registered selector, and each one's defining
property on a hand-made table."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest

from analysis.subsets import selectors
from analysis.subsets.selection import embed_scores, select_subset
from analysis.subsets.selectors import SELECTORS, SelectionInput, embedding, select
from analysis.subsets.validation import default_embed_optimizers

NAMES = sorted(SELECTORS)


def _table(n: int, columns: int, seed: int = 0, distinct: int | None = None) -> pd.DataFrame:
    """n tasks x ``columns`` optimizers (the first is random_search); ``distinct`` rows repeated if given."""
    rng = np.random.default_rng(seed)
    x = rng.random((n, columns))
    if distinct is not None:
        x = x[np.arange(n) % distinct]
    cols = ["random_search", *(f"o{j}" for j in range(1, columns))]
    return pd.DataFrame(x, index=[f"t{i:02d}" for i in range(n)], columns=cols)


def _inp(scores: pd.DataFrame, k: int, seed: int = 0, extras: bool = True) -> SelectionInput:
    """With families (two, 2:1) and noise unless ``extras`` is False."""
    if not extras:
        return SelectionInput(scores, k, np.random.default_rng(seed))
    fam = pd.Series(["bbob" if i % 3 else "yahpo" for i in range(len(scores))], index=scores.index)
    noise = pd.DataFrame(0.05, index=scores.index, columns=scores.columns)
    return SelectionInput(scores, k, np.random.default_rng(seed), families=fam, noise=noise)


@pytest.fixture
def fast_discrepancy(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # fewer local-search evaluations: the contract does not depend on their number
    monkeypatch.setattr(selectors, "MAX_EVALUATIONS", 100)
    yield


def _grid() -> pd.DataFrame:
    """A 3 x 3 grid on the unit square, row-major: t0 = (0, 0), t4 = centre, t8 = (1, 1)."""
    g = np.linspace(0.0, 1.0, 3)
    return pd.DataFrame({"a": np.repeat(g, 3), "b": np.tile(g, 3)}, index=[f"t{i}" for i in range(9)])


# ---------------------------------------------------------------- the contract, for every selector


@pytest.mark.usefixtures("fast_discrepancy")
@pytest.mark.parametrize("distinct", [None, 3], ids=["distinct_rows", "duplicate_rows"])
@pytest.mark.parametrize("columns", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("name", NAMES)
def test_contract(name: str, columns: int, distinct: int | None) -> None:
    s = _table(9, columns, seed=columns, distinct=distinct)
    before = s.copy()
    for k in (1, 4, len(s)):
        for extras in (True, False):
            out = select(name, _inp(s, k, seed=7, extras=extras))
            assert len(out) == k and len(set(out)) == k, (k, out)
            assert set(out) <= set(s.index)
            assert all(isinstance(t, str) for t in out)
            assert out == select(name, _inp(s, k, seed=7, extras=extras)), "not deterministic"
    pd.testing.assert_frame_equal(s, before)  # the input is not modified


def test_registry_and_unknown_name() -> None:
    assert set(NAMES) == {
        "random",
        "discrepancy_uniform",
        "discrepancy_empirical",
        "farthest_first",
        "kmedoids",
        "d_optimal",
        "a_optimal",
        "predictive",
        "discriminative",
        "stratified",
    }
    with pytest.raises(ValueError, match=r"unknown selector 'nope'; valid choices: \['a_optimal'") as err:
        select("nope", _inp(_table(5, 2), 2))
    assert "\n" not in str(err.value) and "stratified" in str(err.value)


def test_selector_breaking_the_contract_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(SELECTORS, "broken", lambda inp: [str(inp.scores.index[0])] * inp.k)
    with pytest.raises(RuntimeError, match="'broken' returned 1 distinct"):
        select("broken", _inp(_table(5, 2), 3))


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda s, f, n: (s, 0, f, n), r"k=0 must be an integer in \[1, 6\]"),
        (lambda s, f, n: (s, 7, f, n), r"k=7 must be an integer in \[1, 6\]"),
        (lambda s, f, n: (s, 2.0, f, n), r"k=2.0 must be an integer"),
        (
            lambda s, f, n: (s.assign(o1=s["o1"].where(s.index != "t03")), 2, f, n),
            r"NaN or infinite values for tasks \['t03'\]",
        ),
        (
            lambda s, f, n: (s.set_axis(["t0"] * 2 + list(s.index[2:])), 2, None, None),
            r"duplicate task ids \['t0'\]",
        ),
        (lambda s, f, n: (s, 2, f.drop("t04"), n), r"no family for tasks \['t04'\]"),
        (lambda s, f, n: (s, 2, f.where(f.index != "t01"), n), r"no family for tasks \['t01'\]"),
        (lambda s, f, n: (s, 2, f, n.drop(columns="o1")), r"noise lacks .* optimizers \['o1'\]"),
        (lambda s, f, n: (s, 2, f, -n), r"noise must be finite and >= 0"),
        (lambda s, f, n: (s.iloc[:, :0], 2, f, n), r"at least one task and one optimizer"),
    ],
    ids=[
        "k0",
        "k_too_big",
        "k_float",
        "nan",
        "dup_ids",
        "family_missing",
        "family_nan",
        "noise_cols",
        "noise_neg",
        "no_columns",
    ],
)
def test_bad_input_is_a_one_line_value_error(change: object, match: str) -> None:
    base = _inp(_table(6, 3), 2)
    assert callable(change) and base.families is not None and base.noise is not None
    s, k, f, n = change(base.scores, base.families, base.noise)
    with pytest.raises(ValueError, match=match) as err:
        select("random", SelectionInput(s, k, np.random.default_rng(0), families=f, noise=n))
    assert "\n" not in str(err.value)


def test_embedding() -> None:
    s = pd.DataFrame({"a": [0.3, 0.1, 0.2, 0.1], "b": [2.0, 2.0, 2.0, 2.0]}, index=list("wxyz"))
    np.testing.assert_array_equal(embedding(s), embed_scores(s).to_numpy())
    # ranks 4, 1.5, 3, 1.5 -> (r - 1) / 3; a constant column sits in the middle
    np.testing.assert_allclose(embedding(s, "rank")[:, 0], [1.0, 1 / 6, 2 / 3, 1 / 6])
    np.testing.assert_allclose(embedding(s, "rank")[:, 1], 0.5)
    np.testing.assert_array_equal(embedding(s.iloc[:1], "rank"), [[0.0, 0.0]])
    with pytest.raises(
        ValueError, match=r"unknown embedding kind 'pca'; valid choices: \['minmax', 'rank'\]"
    ):
        embedding(s, "pca")


# ---------------------------------------------------------------- each selector's defining property


def test_random_is_uniform_draw_from_rng() -> None:
    s = _table(20, 2)
    out = select("random", _inp(s, 5, seed=3))
    assert out == [f"t{i:02d}" for i in np.random.default_rng(3).choice(20, 5, replace=False)]
    counts = pd.Series([t for seed in range(400) for t in select("random", _inp(s, 5, seed))]).value_counts()
    assert len(counts) == 20 and counts.min() > 60 and counts.max() < 140  # expected 100 each


def test_discrepancy_wraps_select_subset() -> None:
    s = pd.DataFrame({"a": np.linspace(0, 1, 9)}, index=[f"t{i}" for i in range(9)])
    for name, ref in (("discrepancy_uniform", "uniform"), ("discrepancy_empirical", "empirical")):
        seed = int(np.random.default_rng(4).integers(2**32))
        want = select_subset(
            embedding(s),
            3,
            reference=ref,
            seed=seed,
            time_budget=60,
            max_evaluations=selectors.MAX_EVALUATIONS,
        )
        assert select(name, _inp(s, 3, seed=4)) == [f"t{i}" for i in want.indices]
    # the classic: 2 of 9 evenly spaced points in [0, 1] -> the 1/4 and 3/4 points (discrepancy 1/4)
    assert select("discrepancy_uniform", _inp(s, 2)) == ["t2", "t6"]


def test_discrepancy_selectors_read_the_evaluation_cap_when_called(monkeypatch: pytest.MonkeyPatch) -> None:
    # The cap used to be a default argument, frozen at import: patching the module's constant (as
    # the fast_discrepancy fixture does) changed nothing, and every contract case ran 2,000
    # evaluations instead of 100.
    seen: list[tuple[float, int]] = []
    real = selectors.select_subset

    def spy(*args: Any, **kwargs: Any) -> Any:
        seen.append((kwargs["time_budget"], kwargs["max_evaluations"]))
        return real(*args, **kwargs)

    monkeypatch.setattr(selectors, "select_subset", spy)
    monkeypatch.setattr(selectors, "MAX_EVALUATIONS", 100)
    monkeypatch.setattr(selectors, "DISCREPANCY_TIME_CAP", 30.0)
    s = _table(9, 2, seed=1)
    for name in ("discrepancy_uniform", "discrepancy_empirical"):
        select(name, _inp(s, 3))
    assert seen == [(30.0, 100), (30.0, 100)]


def test_discrepancy_embeds_at_most_three_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(selectors, "MAX_EVALUATIONS", 100)
    s = _table(15, 5, seed=2)
    cols = default_embed_optimizers(s)
    assert len(cols) == 3
    for name in ("discrepancy_uniform", "discrepancy_empirical"):
        assert select(name, _inp(s, 4, seed=1)) == select(name, _inp(s[cols], 4, seed=1))


def test_farthest_first_goes_centre_then_extremes() -> None:
    line = pd.DataFrame({"a": np.linspace(0, 1, 11)}, index=[f"t{i:02d}" for i in range(11)])
    for seed in range(5):
        out = select("farthest_first", _inp(line, 3, seed))
        assert out[0] == "t05" and sorted(out[1:]) == ["t00", "t10"]
    # on the square grid: the centre, then the four corners
    out = select("farthest_first", _inp(_grid(), 5, seed=1))
    assert out[0] == "t4" and sorted(out[1:]) == ["t0", "t2", "t6", "t8"]


def test_kmedoids_one_central_task_per_cluster() -> None:
    rng = np.random.default_rng(0)
    centres = np.array([[0.0, 0.0], [1.0, 0.2], [0.3, 1.0]])
    offsets = np.array([[0, 0], [0.02, 0], [-0.02, 0], [0, 0.02], [0, -0.02]])
    pts = np.vstack([c + offsets for c in centres])  # cluster c: tasks 5c..5c+4, 5c the centre
    order = rng.permutation(len(pts))  # shuffle the rows so positions say nothing
    s = pd.DataFrame(pts[order], index=[f"c{i // 5}m{i % 5}" for i in order], columns=["a", "b"])
    for seed in range(5):
        out = select("kmedoids", _inp(s, 3, seed))
        assert sorted(out) == ["c0m0", "c1m0", "c2m0"]


def test_kmedoids_with_fewer_distinct_points_than_k() -> None:
    s = pd.DataFrame({"a": [0.0, 0.0, 0.0, 1.0, 1.0, 1.0]}, index=list("abcdef"))
    for seed in range(5):
        out = select("kmedoids", _inp(s, 4, seed))
        assert len(set(out)) == 4 and set(out) & set("abc") and set(out) & set("def")
        # the two medoids come first and are the two distinct points
        assert {s.loc[out[0], "a"], s.loc[out[1], "a"]} == {0.0, 1.0}


@pytest.mark.parametrize("name", ["d_optimal", "a_optimal"])
def test_optimal_designs_take_the_corners(name: str) -> None:
    # the grid plus copies of its centre: the corners determine the plane best
    s = pd.concat([_grid(), pd.DataFrame({"a": [0.5] * 3, "b": [0.5] * 3}, index=["c1", "c2", "c3"])])
    for seed in range(3):
        assert sorted(select(name, _inp(s, 4, seed))) == ["t0", "t2", "t6", "t8"]
    line = pd.DataFrame({"a": [0.5, 0.4, 0.0, 0.6, 1.0, 0.5]}, index=list("abcdef"))
    assert sorted(select(name, _inp(line, 2))) == ["c", "e"]


def test_d_optimal_exchange_reaches_a_swap_local_optimum() -> None:
    s = _table(30, 2, seed=5)
    x = np.column_stack([np.ones(30), embedding(s)])

    def logdet(idx: list[int]) -> float:
        return float(np.linalg.slogdet(x[idx].T @ x[idx] + 1e-6 * np.eye(3))[1])

    idx = [int(t[1:]) for t in select("d_optimal", _inp(s, 6))]
    value = logdet(idx)
    for i in range(6):
        for j in set(range(30)) - set(idx):
            assert logdet([*idx[:i], j, *idx[i + 1 :]]) <= value + 1e-9


def test_predictive_reproduces_the_full_ranking() -> None:
    # 4 optimizers; each task's scores are a permutation of 0, 1/3, 2/3, 1: all 24 permutations
    # (they tie the optimizers) and 6 tasks ordering them a < b < c < d. The full mean ranking is
    # a < b < c < d, which most random 3-task subsets miss.
    levels = np.array([0.0, 1 / 3, 2 / 3, 1.0])
    rows = [list(p) for p in itertools.permutations(levels)] + [list(levels)] * 6
    s = pd.DataFrame(rows, index=[f"t{i:02d}" for i in range(30)], columns=list("abcd"))
    full = list(s.mean().sort_values().index)
    assert full == list("abcd") and s.mean().diff().iloc[1:].min() > 0.02

    def ranking(tasks: list[str]) -> list[str]:
        m = s.loc[tasks].mean()
        return list(m.sort_values().index) if m.nunique() == 4 else []

    for seed in range(5):
        assert ranking(select("predictive", _inp(s, 3, seed))) == full
    misses = np.mean([ranking(select("random", _inp(s, 3, seed))) != full for seed in range(200)])
    assert misses > 0.5


def test_discriminative_takes_the_largest_spread() -> None:
    # spreads (std across optimizers) grow with the task number; t5 has zero spread
    spread = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.0])
    s = pd.DataFrame({"a": 0.5 - spread / 2, "b": 0.5 + spread / 2}, index=[f"t{i}" for i in range(6)])
    assert select("discriminative", _inp(s, 3, extras=False)) == ["t4", "t3", "t2"]
    # with noise: t4 and t3 differ by less than 2 pooled standard deviations, t0..t2 by more
    noise = pd.DataFrame({"a": [0.01, 0.01, 0.01, 0.5, 0.5, 0.0], "b": 0.01}, index=s.index)
    noisy = SelectionInput(s, 3, np.random.default_rng(0), noise=noise)
    assert select("discriminative", noisy) == ["t2", "t1", "t0"]
    # equal statistics come in random (rng) order
    flat = pd.DataFrame({"a": [0.0] * 6, "b": [1.0] * 6}, index=s.index)
    outs = {tuple(select("discriminative", _inp(flat, 2, seed, extras=False))) for seed in range(20)}
    assert len(outs) > 5


def test_stratified_allocates_proportionally() -> None:
    s = _table(100, 2)
    fam = pd.Series(["bbob"] * 50 + ["yahpo"] * 30 + ["lcdb"] * 20, index=s.index)
    for seed in range(3):
        out = select("stratified", SelectionInput(s, 10, np.random.default_rng(seed), families=fam))
        assert fam[out].value_counts().to_dict() == {"bbob": 5, "yahpo": 3, "lcdb": 2}
    # quotas 2, 1.2, 0.8 -> floors 2, 1, 0; the one seat left goes to the largest remainder (0.8)
    small = s.iloc[:10]
    fam10 = pd.Series(["x"] * 5 + ["y"] * 3 + ["z"] * 2, index=small.index)
    out = select("stratified", SelectionInput(small, 4, np.random.default_rng(0), families=fam10))
    assert fam10[out].value_counts().to_dict() == {"x": 2, "y": 1, "z": 1}
    # equal remainders: one seat each to 2 of 3 equal families, which 2 decided by the rng
    fam9 = pd.Series(["x", "y", "z"] * 3, index=s.index[:9])
    picks = {
        tuple(
            sorted(
                fam9[
                    select(
                        "stratified", SelectionInput(s.iloc[:9], 2, np.random.default_rng(q), families=fam9)
                    )
                ]
            )
        )
        for q in range(20)
    }
    assert picks == {("x", "y"), ("x", "z"), ("y", "z")}
    # without families: the random selector
    assert select("stratified", _inp(s, 7, 5, extras=False)) == select("random", _inp(s, 7, 5, extras=False))
