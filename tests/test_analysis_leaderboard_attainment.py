"""Final fronts, empirical attainment surfaces and IGD+ against values derived by hand."""

from __future__ import annotations

import io
import math
from collections.abc import Sequence

import moocore
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from analysis.leaderboard.attainment import (
    attainment_plot,
    attainment_surfaces,
    final_fronts,
    igd_plus_runs,
    pareto_front_plot,
    reference_front,
)
from analysis.leaderboard.hypervolume import REF, hv_runs
from analysis.normalize import score_table
from analysis.synthetic import synthetic_results
from bench.results import encode_objectives
from tasks.base import Objective

Point = tuple[float, ...]
Runs = dict[tuple[str, int], list[Point]]


def mo_frame(
    runs: Runs,
    task: str = "toy/t",
    maximize_second: bool = False,
    fidelity: dict[tuple[str, int], list[float]] | None = None,
    raw: bool = True,
) -> pd.DataFrame:
    """A results frame whose points, once normalized, are exactly the given ones.

    With ``raw``, 2-objective points are recorded on other scales (loss = 10 x, time = 100 + 100 y,
    or accuracy = 0.9 - 0.4 y when maximized), so the tests also exercise the min-max
    normalization and the negation of a maximized objective: the union of the given points spans
    [0, 1] in every objective, so normalizing gives them back.
    """
    m = len(next(iter(runs.values()))[0])
    names = [Objective("loss"), Objective("accuracy" if maximize_second else "time", not maximize_second)]
    objectives = encode_objectives(names if m == 2 else [Objective(f"f{i}") for i in range(m)])
    rows = []
    for (opt, seed), pts in runs.items():
        for i, p in enumerate(pts):
            values = list(p)
            if raw and m == 2:
                values = [10.0 * p[0], 0.9 - 0.4 * p[1] if maximize_second else 100.0 + 100.0 * p[1]]
            rows.append(
                {
                    "task": task,
                    "task_type": "mfmo" if fidelity else "mo",
                    "optimizer": opt,
                    "seed": seed,
                    "trial": i,
                    "value": values[0],
                    "values": values,
                    "fidelity": fidelity[(opt, seed)][i] if fidelity else np.nan,
                    "budget_used": i + 1.0,
                    "optimum": np.nan,
                    "minimize": True,
                    "objectives": objectives,
                    "run_status": "ok",
                }
            )
    return pd.DataFrame(rows)


def d_plus(z: Point, a: Point) -> float:
    """Ishibuchi et al. (2015): the distance from reference point z to a, counting only where a is worse."""
    return math.sqrt(sum(max(ai - zi, 0.0) ** 2 for ai, zi in zip(a, z, strict=True)))


def igd_plus_by_hand(front: Sequence[Point], ref: Sequence[Point]) -> float:
    return sum(min(d_plus(z, a) for a in front) for z in ref) / len(ref)


# Two optimizers, two runs each, in the normalized space. (0.7, 0.8) is dominated within its run.
RUNS: Runs = {
    ("a", 0): [(0.0, 1.0), (1.0, 0.0), (0.6, 0.7), (0.7, 0.8)],
    ("a", 1): [(0.2, 0.6), (0.6, 0.2)],
    ("b", 0): [(0.5, 0.5)],
    ("b", 1): [(0.4, 0.8), (0.8, 0.4)],
}
FRONTS: Runs = {
    ("a", 0): [(0.0, 1.0), (0.6, 0.7), (1.0, 0.0)],
    ("a", 1): [(0.2, 0.6), (0.6, 0.2)],
    ("b", 0): [(0.5, 0.5)],
    ("b", 1): [(0.4, 0.8), (0.8, 0.4)],
}
# Union of the final points, less (0.6, 0.7) (dominated by (0.5, 0.5)), (0.4, 0.8) (by (0.2, 0.6))
# and (0.8, 0.4) (by (0.6, 0.2)).
REF_FRONT: list[Point] = [(0.0, 1.0), (0.2, 0.6), (0.5, 0.5), (0.6, 0.2), (1.0, 0.0)]
# IGD+ per run, the distance d+ to the nearest run point of each of the 5 reference points:
#   a/0: 0, 0.4 (to (0,1)), sqrt(0.1^2 + 0.2^2) (to (0.6,0.7)), 0.4 (to (1,0)), 0
#   a/1: 0.2, 0, 0.1, 0, 0.2
#   b/0: 0.5, 0.3, 0, 0.3, 0.5
#   b/1: 0.4, sqrt(0.2^2 + 0.2^2) (to (0.4,0.8)), 0.3, sqrt(0.2^2 + 0.2^2) (to (0.8,0.4)), 0.4
IGD = {
    ("a", 0): (0.4 + math.sqrt(0.05) + 0.4) / 5,
    ("a", 1): (0.2 + 0.1 + 0.2) / 5,
    ("b", 0): (0.5 + 0.3 + 0.3 + 0.5) / 5,
    ("b", 1): (0.4 + 2 * math.sqrt(0.08) + 0.3 + 0.4) / 5,
}


def assert_points(got: np.ndarray, expected: Sequence[Point]) -> None:
    """The rows of ``got`` are the points ``expected``, in order (up to rounding)."""
    want = np.asarray(expected, dtype=np.float64).reshape(len(expected), got.shape[1])
    assert got.shape == want.shape, (got, want)
    np.testing.assert_allclose(got, want, atol=1e-12)


def run_points(fronts: pd.DataFrame, opt: str, seed: int) -> np.ndarray:
    sel = (fronts["optimizer"].astype(str) == opt) & (fronts["seed"] == seed)
    return fronts.loc[sel, ["obj0", "obj1"]].to_numpy(dtype=np.float64)


def surface(s: pd.DataFrame, opt: str, level: float) -> np.ndarray:
    sel = (s["optimizer"] == opt) & (s["level"] == level)
    return s.loc[sel, ["obj0", "obj1"]].to_numpy(dtype=np.float64)


def igd_by_run(runs: pd.DataFrame) -> dict[tuple[str, int], float]:
    return {(str(o), int(s)): float(v) for o, s, v in runs[["optimizer", "seed", "igd_plus"]].to_numpy()}


def test_final_fronts_hand_example() -> None:
    fronts = final_fronts(mo_frame(RUNS))
    assert list(fronts.columns) == ["task", "family", "task_type", "optimizer", "seed", "run", "obj0", "obj1"]
    for (opt, seed), expected in FRONTS.items():
        assert_points(run_points(fronts, opt, seed), expected)
    assert_points(reference_front(fronts, "toy/t"), REF_FRONT)
    assert fronts.attrs["objectives"] == {"toy/t": (Objective("loss"), Objective("time"))}


def test_igd_plus_hand_example() -> None:
    runs = igd_plus_runs(mo_frame(RUNS))
    got = igd_by_run(runs)
    for key, value in IGD.items():
        # The definition, evaluated on the hand-listed sets, and the literal sums above agree ...
        assert igd_plus_by_hand(FRONTS[key], REF_FRONT) == pytest.approx(value)
        # ... and so does the module (moocore) on the raw, unnormalized frame.
        assert got[key] == pytest.approx(value)
    assert IGD[("a", 0)] == pytest.approx(0.2047213595) and IGD[("b", 1)] == pytest.approx(0.3331370850)
    assert runs.set_index(["optimizer", "seed"])["n_front"].to_dict() == {
        ("a", 0): 3,
        ("a", 1): 2,
        ("b", 0): 1,
        ("b", 1): 2,
    }
    table = score_table(runs, value="igd_plus")
    assert table.loc["toy/t", "a"] == pytest.approx((IGD[("a", 0)] + IGD[("a", 1)]) / 2)
    assert table.loc["toy/t", "b"] == pytest.approx((IGD[("b", 0)] + IGD[("b", 1)]) / 2)
    # moocore's own IGD+ on the hand sets, as a cross-check (not the reference of this test).
    ref = np.array(REF_FRONT)
    assert moocore.igd_plus(np.array(FRONTS[("b", 1)]), ref=ref) == pytest.approx(IGD[("b", 1)])


def test_maximized_objective_is_negated_like_hypervolume() -> None:
    minimized, maximized = mo_frame(RUNS), mo_frame(RUNS, maximize_second=True)
    fronts = final_fronts(maximized)
    # Accuracy 0.9 (the best) is recorded for y = 0: negated and normalized it is 0 again.
    for key, expected in FRONTS.items():
        assert_points(run_points(fronts, *key), expected)
    assert igd_by_run(igd_plus_runs(maximized)) == pytest.approx(IGD)
    # Same orientation as hypervolume.py: the HV regrets of both frames agree too.
    hv_min = hv_runs(minimized)["final_hv_regret"].to_numpy()
    assert hv_runs(maximized)["final_hv_regret"].to_numpy() == pytest.approx(hv_min)
    ax = attainment_plot(fronts, "toy/t").axes[0]
    assert ax.get_ylabel() == "accuracy ↑ maximized (negated), normalized"
    assert ax.get_xlabel() == "loss ↓ minimized, normalized"


def test_igd_plus_and_its_ranking_do_not_depend_on_the_order_of_runs() -> None:
    df = mo_frame(RUNS)
    reordered = mo_frame(dict(reversed(list(RUNS.items()))))
    shuffled = df.sample(frac=1.0, random_state=3)
    expected = igd_by_run(igd_plus_runs(df))
    assert expected == pytest.approx(IGD)
    for other in (reordered, shuffled):
        assert igd_by_run(igd_plus_runs(other)) == pytest.approx(expected)
        means = score_table(igd_plus_runs(other), value="igd_plus").loc["toy/t"]
        assert means.sort_values().index.tolist() == ["a", "b"]


def test_mfmo_only_top_fidelity_points_count() -> None:
    runs = {k: list(v) for k, v in RUNS.items()}
    # A fidelity-1 point (-1, -1) would dominate everything and stretch the normalization.
    runs[("a", 0)].append((-1.0, -1.0))
    # A run that only ever evaluated at low fidelity has an empty final front.
    runs[("b", 2)] = [(0.0, 0.0), (0.3, 0.3)]
    fid = {k: [9.0] * len(v) for k, v in runs.items()}
    fid[("a", 0)][-1] = 1.0
    fid[("b", 2)] = [1.0, 3.0]
    df = mo_frame(runs, fidelity=fid)
    fronts = final_fronts(df)
    for key, expected in FRONTS.items():
        assert_points(run_points(fronts, *key), expected)
    assert_points(reference_front(fronts, "toy/t"), REF_FRONT)
    # The empty run keeps one row of NaN objectives, so that the EAF still counts it.
    empty = fronts[(fronts["optimizer"] == "b") & (fronts["seed"] == 2)]
    assert len(empty) == 1 and bool(empty[["obj0", "obj1"]].isna().all(axis=None))
    got = igd_by_run(igd_plus_runs(df))
    for key, value in IGD.items():
        assert got[key] == pytest.approx(value)
    # It is scored as the reference point (1.1, 1.1) alone, worse than any real front.
    empty_igd = igd_plus_by_hand([(REF, REF)], REF_FRONT)
    assert empty_igd == pytest.approx(
        (2 * math.hypot(1.1, 0.1) + 2 * math.hypot(0.9, 0.5) + 0.6 * math.sqrt(2)) / 5
    )
    assert got[("b", 2)] == pytest.approx(empty_igd)
    # EAF of b over 3 runs: best = union front of b/0 and b/1; median (k = 2) = the joins
    # (0.5,0.5) v (0.4,0.8) = (0.5,0.8) and (0.5,0.5) v (0.8,0.4) = (0.8,0.5); worst (k = 3) is
    # empty because b/2 attains nothing.
    s = attainment_surfaces(fronts, "toy/t")
    assert_points(surface(s, "b", 0.0), [(0.4, 0.8), (0.5, 0.5), (0.8, 0.4)])
    assert_points(surface(s, "b", 0.5), [(0.5, 0.8), (0.8, 0.5)])
    assert_points(surface(s, "b", 1.0), [])
    assert s.loc[s["optimizer"] == "b", "n_runs"].unique().tolist() == [3]


# Three runs of one optimizer, already normalized (each objective spans [0, 1]).
EAF_RUNS: Runs = {
    ("x", 0): [(0.0, 1.0), (0.25, 0.5)],
    ("x", 1): [(0.5, 0.5), (1.0, 0.0)],
    ("x", 2): [(0.75, 0.25)],
}
# Best (attained by >= 1 run): the nondominated union; (0.5, 0.5) is dominated by (0.25, 0.5).
EAF_BEST = [(0.0, 1.0), (0.25, 0.5), (0.75, 0.25), (1.0, 0.0)]
# Median (>= 2 of 3 runs): minimal componentwise maxima over pairs of runs. Runs 0 and 1 meet at
# (0.25,0.5) v (0.5,0.5) = (0.5,0.5); runs 0 and 2 at (0.25,0.5) v (0.75,0.25) = (0.75,0.5); runs
# 1 and 2 at (0.75,0.5) and (1,0) v (0.75,0.25) = (1,0.25). Nondominated: (0.5,0.5), (1,0.25).
EAF_MEDIAN = [(0.5, 0.5), (1.0, 0.25)]
# Worst (all 3 runs): runs 0 and 1 share only the region above (0.5,0.5); with run 2: (0.75,0.5).
EAF_WORST = [(0.75, 0.5)]


def test_attainment_surfaces_hand_example() -> None:
    fronts = final_fronts(mo_frame(EAF_RUNS, raw=False))
    s = attainment_surfaces(fronts, "toy/t", levels=(0.0, 0.5, 1.0))
    assert_points(surface(s, "x", 0.0), EAF_BEST)
    assert_points(surface(s, "x", 0.5), EAF_MEDIAN)
    assert_points(surface(s, "x", 1.0), EAF_WORST)
    assert s.groupby("level")["k"].first().to_dict() == {0.0: 1, 0.5: 2, 1.0: 3}
    # k = max(1, ceil(level * n)): up to 1/3 is the best surface, above it the second.
    levels = attainment_surfaces(fronts, "toy/t", levels=(1 / 3, 0.34, 2 / 3, 0.67))
    assert levels.groupby("level")["k"].first().tolist() == [1, 2, 2, 3]
    assert list(s.columns) == ["task", "optimizer", "level", "k", "n_runs", "point", "obj0", "obj1"]


def test_attainment_surfaces_of_two_runs_and_any_row_order() -> None:
    fronts = final_fronts(mo_frame(RUNS))
    # a: best = union front of a/0 and a/1 ((0.6,0.7) is dominated by (0.2,0.6)); worst = the
    # minimal joins (0,1) v (0.2,0.6) = (0.2,1), (0.6,0.7) v either point = (0.6,0.7) and
    # (1,0) v (0.6,0.2) = (1,0.2). With n = 2 the median (k = ceil(1)) is the best surface.
    best = [(0.0, 1.0), (0.2, 0.6), (0.6, 0.2), (1.0, 0.0)]
    worst = [(0.2, 1.0), (0.6, 0.7), (1.0, 0.2)]
    s = attainment_surfaces(fronts, "toy/t")
    assert_points(surface(s, "a", 0.0), best)
    assert_points(surface(s, "a", 0.5), best)
    assert_points(surface(s, "a", 1.0), worst)
    # moocore.eaf needs the rows of each set together and in increasing set id; shuffled rows
    # and run ids must give the same surfaces.
    eaf_fronts = final_fronts(mo_frame(EAF_RUNS, raw=False))
    shuffled = eaf_fronts.sample(frac=1.0, random_state=1).assign(run=lambda f: 10 - f["run"])
    s2 = attainment_surfaces(shuffled, "toy/t")
    assert_points(surface(s2, "x", 0.5), EAF_MEDIAN)
    assert_points(surface(s2, "x", 1.0), EAF_WORST)


def test_three_objectives_mixed_with_two() -> None:
    # Two runs on a 3-objective task: Z = {(0,0,1), (1,1,0)}; IGD+ of x = (0 + 1) / 2 and of y
    # = (sqrt(1 + 1) + 0) / 2.
    three = mo_frame({("x", 0): [(0.0, 0.0, 1.0)], ("y", 0): [(1.0, 1.0, 0.0)]}, task="tri/t")
    df = pd.concat([mo_frame(RUNS), three], ignore_index=True)
    runs = igd_plus_runs(df)
    got = {
        (str(t), str(o), int(s)): v
        for t, o, s, v in runs[["task", "optimizer", "seed", "igd_plus"]].to_numpy()
    }
    assert got[("tri/t", "x", 0)] == pytest.approx(0.5)
    assert got[("tri/t", "y", 0)] == pytest.approx(math.sqrt(2) / 2)
    # The 2-objective task is unaffected by the wider one (its padding column is no objective).
    for (opt, seed), value in IGD.items():
        assert got[("toy/t", opt, seed)] == pytest.approx(value)
    two_alone = hv_runs(mo_frame(RUNS))["final_hv_regret"].to_numpy()
    mixed = hv_runs(df)
    assert mixed.loc[mixed["task"] == "toy/t", "final_hv_regret"].to_numpy() == pytest.approx(two_alone)
    fronts = final_fronts(df)
    assert fronts.loc[fronts["task"] == "toy/t", "obj2"].isna().all()
    with pytest.raises(ValueError, match="computed for 2 objectives; task 'tri/t' has 3"):
        attainment_surfaces(fronts, "tri/t")
    with pytest.raises(ValueError, match="show 2 objectives"):
        pareto_front_plot(fronts, "tri/t")
    with pytest.raises(ValueError, match="no final fronts of task 'nope'"):
        attainment_surfaces(fronts, "nope")
    with pytest.raises(ValueError, match="fraction of runs"):
        attainment_surfaces(fronts, "toy/t", levels=(1.5,))


def test_plots_render() -> None:
    fronts = final_fronts(mo_frame(RUNS))
    fig = attainment_plot(fronts, "toy/t")
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    legend = ax.get_legend()
    assert legend is not None
    assert [t.get_text() for t in legend.get_texts()] == ["a (median of 2 runs)", "b (median of 2 runs)"]
    # a's median (= its best surface, n = 2) as a staircase from (0, REF) through its 4 points to
    # (REF, 0): every point gives a corner below and one to the right.
    x, y = (np.asarray(v, dtype=np.float64) for v in ax.lines[0].get_data())
    staircase = [(0.0, REF), (0.0, 1.0), (0.2, 1.0), (0.2, 0.6), (0.6, 0.6), (0.6, 0.2), (1.0, 0.2)]
    assert_points(np.c_[x, y], [*staircase, (1.0, 0.0), (REF, 0.0)])
    # One band per optimizer: best staircase out, worst staircase back ((0.2,1), (0.6,0.7), (1,0.2)).
    assert len(ax.patches) == 2
    band = np.asarray(ax.patches[0].get_path().vertices)
    assert_points(band[:9], [*staircase, (1.0, 0.0), (REF, 0.0)])
    assert_points(
        band[9:16], [(REF, 0.2), (1.0, 0.2), (1.0, 0.7), (0.6, 0.7), (0.6, 1.0), (0.2, 1.0), (0.2, REF)]
    )
    pf = pareto_front_plot(fronts, "toy/t")
    pf_legend = pf.axes[0].get_legend()
    assert pf_legend is not None
    # Best runs by IGD+: a/1 (0.100 < 0.205) and b/0 (0.320 < 0.333).
    assert [t.get_text() for t in pf_legend.get_texts()] == [
        "reference front (5 points)",
        "a, best run (seed 1, IGD+ 0.100)",
        "b, best run (seed 0, IGD+ 0.320)",
    ]
    for f in (fig, pf, attainment_plot(fronts, "toy/t", show_points=False)):
        buf = io.BytesIO()
        f.savefig(buf, format="png")
        assert buf.getvalue()[:8] == b"\x89PNG\r\n\x1a\n"


def test_synthetic_study_ranks_as_designed_and_without_mo_tasks_is_empty() -> None:
    df = synthetic_results(n_tasks=2, n_optimizers=3, n_seeds=3, n_trials=30, task_types=("mo",))
    runs = igd_plus_runs(df)
    assert len(runs) == 18 and bool((runs["igd_plus"] >= 0).all())
    # opt2 converges fastest by construction, opt0 is random search.
    means = score_table(runs, value="igd_plus").mean()
    assert means.sort_values().index.tolist() == ["opt2", "opt1", "opt0"]
    bb = synthetic_results(n_tasks=1, n_optimizers=1, n_seeds=1, n_trials=3)
    assert final_fronts(bb).empty and igd_plus_runs(bb).empty
