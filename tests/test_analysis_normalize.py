"""Normalized regret, orientation, fidelity masking and completeness accounting."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.normalize import completeness, prepare, score_table
from analysis.synthetic import results_from_values as runs_frame
from analysis.synthetic import synthetic_results


def test_known_optimum_regret_and_incumbent() -> None:
    df = runs_frame(
        [
            {"optimizer": "a", "values": [4.0, 2.0, 8.0], "optimum": 0.0},
            {"optimizer": "b", "values": [8.0, 6.0], "optimum": 0.0},
        ]
    )
    p = prepare(df)
    assert p.bounds.loc["fam/t", "reference"] == "optimum"
    assert p.trials["incumbent"].tolist() == [0.5, 0.25, 0.25, 1.0, 0.75]
    assert p.runs["final_regret"].tolist() == [0.25, 0.75]
    assert p.runs["final_gap"].tolist() == [2.0, 6.0]


def test_maximized_objective_is_negated() -> None:
    df = runs_frame([{"optimizer": "a", "values": [1.0, 3.0, 2.0], "minimize": False}])
    p = prepare(df)
    assert p.bounds.loc["fam/t", "reference"] == "study_best"
    assert p.trials["incumbent"].tolist() == [1.0, 0.0, 0.0]
    # Known optimum of a maximized objective: regret measured from it.
    df = runs_frame([{"optimizer": "a", "values": [5.0, 8.0], "minimize": False, "optimum": 10.0}])
    assert np.allclose(prepare(df).trials["incumbent"], [1.0, 0.4])


def test_log_regret_is_floored() -> None:
    df = runs_frame([{"optimizer": "a", "values": [1.0, 0.0], "optimum": 0.0}])
    assert prepare(df).runs["final_log_regret"].tolist() == [-10.0]


def test_unsorted_input_gives_same_result() -> None:
    df = synthetic_results(n_tasks=3, n_optimizers=2, n_seeds=2, n_trials=6)
    a = prepare(df).runs
    b = prepare(df.sample(frac=1.0, random_state=1)).runs
    pd.testing.assert_frame_equal(a, b)


def test_low_fidelity_trials_cannot_be_incumbent() -> None:
    df = runs_frame(
        [
            {"optimizer": "a", "values": [0.0, 5.0, 4.0], "fidelity": [1.0, 9.0, 9.0], "task_type": "mf"},
            {"optimizer": "b", "values": [3.0, 9.0], "fidelity": [9.0, 9.0], "task_type": "mf"},
        ]
    )
    p = prepare(df)
    # The fidelity-1 value 0.0 is ignored: bounds come from full-fidelity values 3..9.
    assert p.bounds.loc["fam/t", "lower"] == 3.0
    assert p.trials["incumbent"].tolist()[:3] == [1.0, pytest.approx(2 / 6), pytest.approx(1 / 6)]
    q = prepare(df, full_fidelity_only=False)
    assert q.runs["final_regret"].tolist()[0] == 0.0


def test_nan_values_never_become_incumbent() -> None:
    df = runs_frame([{"optimizer": "a", "values": [2.0, np.nan, 1.0]}, {"optimizer": "b", "values": [3.0]}])
    p = prepare(df)
    assert np.isnan(p.trials["regret"].iloc[1])
    assert p.trials["incumbent"].tolist()[:3] == [0.5, 0.5, 0.0]


def test_completeness_counts_missing_and_failed() -> None:
    df = synthetic_results(n_tasks=2, n_optimizers=2, n_seeds=2, n_trials=3)
    first = df["run_id"].iloc[0]
    crashed = df["run_id"].iloc[-1]
    df = df[df["run_id"] != first].copy()
    df.loc[df["run_id"] == crashed, "run_status"] = "crashed"
    c = completeness(df)
    assert (c.expected, c.present, len(c.missing), len(c.failed)) == (8, 7, 1, 1)
    assert c.by_optimizer["missing"].sum() == 1
    # Metadata knows a run that crashed before its first trial: it is failed, not missing.
    task, opt, seed = c.missing.iloc[0][["task", "optimizer", "seed"]]
    assert c.missing["task_type"].iloc[0] == "bb"
    meta = pd.DataFrame(
        {"spec": [{"task": task, "optimizer": opt, "seed": int(seed)}], "status": ["crashed"]}
    )
    c2 = completeness(df, meta)
    assert (len(c2.missing), len(c2.failed)) == (0, 2)
    assert "7 of 8 runs present" in c2.summary()


def _manifest(df: pd.DataFrame, refused: list[dict[str, str]]) -> dict[str, object]:
    keys = df[["task", "optimizer", "seed"]].drop_duplicates().astype({"seed": int})
    return {"study": "s", "runs": keys.to_dict("records"), "refused": refused}


def test_completeness_uses_manifest_and_separates_refused_pairs() -> None:
    # An "mf-only" optimizer is refused on the black-box tasks: that is not a missing run.
    bb = synthetic_results(n_tasks=2, n_optimizers=2, n_seeds=2, n_trials=3, optimizer_names=["rs", "tpe"])
    mf = synthetic_results(
        n_tasks=1, n_optimizers=2, n_seeds=2, n_trials=3, task_types=("mf",), optimizer_names=["rs", "hb"]
    )
    mf = mf.assign(task="mfam/t0", family="mfam", run_id="mf-" + mf["run_id"])
    df = pd.concat([bb, mf], ignore_index=True)
    refused = [{"task": t, "optimizer": "hb", "reason": "needs a fidelity"} for t in bb["task"].unique()]
    refused.append({"task": mf["task"].iloc[0], "optimizer": "tpe", "reason": "no multi-fidelity"})
    manifest = _manifest(df, refused)
    # One planned run never ran.
    gone = df["run_id"].iloc[0]
    c = completeness(df[df["run_id"] != gone], manifest=manifest)
    assert (c.expected, c.present, len(c.missing), len(c.failed)) == (12, 11, 1, 0)
    assert c.summary() == "11 of 12 runs present; 1 missing; 0 failed; refused: 3 pairs"
    assert c.by_optimizer.loc["hb"].to_dict() == {
        "expected": 2,
        "present": 2,
        "missing": 0,
        "failed": 0,
        "refused": 2,
    }
    groups = c.refused_groups()
    assert groups.set_index("optimizer")["tasks"].to_dict() == {"hb": 2, "tpe": 1}
    assert set(c.refused["task_type"]) == {"bb", "mf"}
    # Without the manifest the full cross product is expected: hb and tpe look incomplete.
    c_grid = completeness(df)
    assert (c_grid.expected, len(c_grid.missing)) == (18, 6)
    # Runs left over from an earlier plan are counted apart, not as expected.
    smaller = {**manifest, "runs": manifest["runs"][2:]}  # type: ignore[index]
    assert completeness(df, manifest=smaller).unplanned == 2


def test_completeness_rejects_a_malformed_manifest() -> None:
    df = synthetic_results(n_tasks=1, n_optimizers=1, n_seeds=1, n_trials=2)
    with pytest.raises(ValueError, match="manifest 'runs'"):
        completeness(df, manifest={"study": "s"})
    with pytest.raises(ValueError, match=r"needs keys \['task', 'optimizer', 'seed'\]"):
        completeness(df, manifest={"runs": [{"task": "t"}]})


def test_missing_column_message() -> None:
    with pytest.raises(ValueError, match=r"lacks columns \['optimum'\]"):
        prepare(synthetic_results(n_tasks=1, n_optimizers=1, n_seeds=1).drop(columns="optimum"))


def test_score_table_means_over_seeds_and_rejects_bad_column() -> None:
    df = runs_frame(
        [
            {"optimizer": "a", "values": [1.0], "seed": 0, "optimum": 0.0},
            {"optimizer": "a", "values": [3.0], "seed": 1, "optimum": 0.0},
            {"optimizer": "b", "values": [4.0], "seed": 0, "optimum": 0.0},
        ]
    )
    t = score_table(prepare(df).runs)
    assert t.loc["fam/t"].tolist() == [0.5, 1.0]
    with pytest.raises(ValueError, match="unknown score column 'nope'"):
        score_table(prepare(df).runs, value="nope")


def test_categorical_input_matches_string_input() -> None:
    a = synthetic_results(n_tasks=3, n_optimizers=2, n_seeds=2, n_trials=4)
    b = synthetic_results(n_tasks=3, n_optimizers=2, n_seeds=2, n_trials=4, categorical=True)
    assert np.allclose(prepare(a).runs["final_regret"], prepare(b).runs["final_regret"])
