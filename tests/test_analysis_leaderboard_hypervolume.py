"""Hypervolume regret against hand-computed 2-D hypervolumes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.leaderboard.hypervolume import hv_curves, hv_per_trial, hv_runs, objective_directions
from analysis.leaderboard.stats import final_ranks
from bench.results import encode_objectives
from tasks.base import Objective


def mo_frame(
    points: dict[str, list[tuple[float, float]]],
    fidelity: dict[str, list[float]] | None = None,
    sign2: float = 1.0,
    second_maximized: bool = False,
) -> pd.DataFrame:
    objectives = encode_objectives([Objective("loss"), Objective("accuracy", minimize=not second_maximized)])
    rows = []
    for opt, pts in points.items():
        for i, (f1, f2) in enumerate(pts):
            rows.append(
                {
                    "task": "zdt/t",
                    "task_type": "mfmo" if fidelity else "mo",
                    "optimizer": opt,
                    "seed": 0,
                    "trial": i,
                    "value": f1,
                    "values": [f1, sign2 * f2],
                    "fidelity": fidelity[opt][i] if fidelity else np.nan,
                    "budget_used": i + 1.0,
                    "optimum": np.nan,
                    "minimize": True,
                    "objectives": objectives,
                    "run_status": "ok",
                }
            )
    return pd.DataFrame(rows)


POINTS = {"a": [(0.0, 1.0), (1.0, 0.0)], "b": [(0.5, 0.5)]}
# Union front {(0,1), (.5,.5), (1,0)} with reference 1.1: HV = 0.05 + 0.3 + 0.11 = 0.46.
HV_A, HV_B, HV_STAR = 0.21, 0.36, 0.46


def test_final_hv_regret_hand_example() -> None:
    r = hv_runs(mo_frame(POINTS)).set_index("optimizer")["final_hv_regret"]
    assert r["a"] == pytest.approx((HV_STAR - HV_A) / HV_STAR)
    assert r["b"] == pytest.approx((HV_STAR - HV_B) / HV_STAR)
    assert final_ranks(mo_frame(POINTS)).index.tolist() == ["b", "a"]


def test_maximized_objective_via_the_objectives_column() -> None:
    flipped = mo_frame(POINTS, sign2=-1.0, second_maximized=True)
    r = hv_runs(flipped).set_index("optimizer")["final_hv_regret"]
    assert r["a"] == pytest.approx((HV_STAR - HV_A) / HV_STAR)


def test_directions_from_run_metadata_hand_example() -> None:
    # As bench.results.load_runs returns it: one row per run, the metadata dict in `meta`.
    meta = pd.DataFrame(
        {
            "task": ["zdt/t"],
            "meta": [
                {
                    "spec": {"task": "zdt/t"},
                    "objectives": [
                        {"name": "loss", "minimize": True},
                        {"name": "accuracy", "minimize": False},
                    ],
                }
            ],
        }
    )
    dirs = objective_directions(meta)
    assert dirs == {"zdt/t": (True, False)}
    # The results frame carries the same directions in its `objectives` column.
    flipped = mo_frame(POINTS, sign2=-1.0, second_maximized=True)
    assert objective_directions(flipped) == dirs
    r = hv_runs(flipped).set_index("optimizer")["final_hv_regret"]
    assert r["b"] == pytest.approx((HV_STAR - HV_B) / HV_STAR)
    assert final_ranks(flipped).index.tolist() == ["b", "a"]
    # Read as minimized, the flipped second objective gives a different front: 'a' alone spans it.
    as_minimized = mo_frame(POINTS, sign2=-1.0)
    assert hv_runs(as_minimized).set_index("optimizer")["final_hv_regret"]["a"] == pytest.approx(0.0)
    assert objective_directions(None) == {} and objective_directions(pd.DataFrame({"x": [1]})) == {}
    with pytest.raises(ValueError, match="expected a list of"):
        objective_directions(pd.DataFrame({"task": ["t"], "objectives": [["loss"]]}))


def test_a_multi_objective_frame_without_directions_is_refused_not_guessed() -> None:
    with pytest.raises(ValueError, match="lacks the 'objectives' column"):
        hv_runs(mo_frame(POINTS).drop(columns="objectives"))
    unknown = mo_frame(POINTS).assign(objectives=None)
    with pytest.raises(ValueError, match="rows of task 'zdt/t' have no 'objectives'"):
        final_ranks(unknown)


def test_runs_of_one_task_that_disagree_on_directions_are_reported() -> None:
    df = pd.concat([mo_frame({"a": POINTS["a"]}), mo_frame({"b": POINTS["b"]}, second_maximized=True)])
    with pytest.raises(ValueError, match="disagree on the directions"):
        objective_directions(df)


def test_shared_per_trial_gives_the_same_runs() -> None:
    df = mo_frame(POINTS)
    pt = hv_per_trial(df)
    assert hv_runs(df, per_trial=pt).equals(hv_runs(df))


def test_hv_regret_over_budget_and_mf_mask() -> None:
    pts = {"a": [(0.0, 0.0), (0.0, 1.0), (1.0, 0.0)], "b": [(0.5, 0.5)]}
    df = mo_frame(pts, fidelity={"a": [1.0, 9.0, 9.0], "b": [9.0]})
    # The fidelity-1 point (0, 0) would dominate everything; it is not a final-front point.
    c = hv_curves(df, grid=np.array([0.34, 0.67, 1.0]))
    assert c is not None
    a = c.values[c.runs["optimizer"].astype(str) == "a"][0]
    assert a.tolist() == pytest.approx([1.0, (HV_STAR - 0.11) / HV_STAR, (HV_STAR - HV_A) / HV_STAR])


def test_no_mo_tasks_gives_none() -> None:
    df = mo_frame(POINTS).assign(task_type="bb")
    assert hv_curves(df) is None and hv_runs(df).empty
