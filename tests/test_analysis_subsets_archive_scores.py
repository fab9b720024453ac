"""Score tables from the baseline archive (``archive:<piece>``, ``archive:<type>``) for the subset protocol.

Checked against the archive's own runs: each score is the mean over seeds of what the leaderboards
rank (``run_scores`` of the archived trials), the type form joins dev and test with the optimizers
archived on both, and ``python -m analysis scores`` writes the same table.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.leaderboard.stats import run_scores
from analysis.subsets.archive_scores import archive_run_scores, archive_scores
from analysis.subsets.protocol import drop_twins
from bench.archive.pieces import expensive
from bench.archive.read import read_archive


def test_piece_scores_equal_the_seed_means_of_the_archived_runs() -> None:
    long = archive_scores("archive:dev_bb")
    trials, _ = read_archive(pieces=["dev_bb"])
    runs = run_scores(trials)
    want = runs.assign(task=runs["task"].astype(str), optimizer=runs["optimizer"].astype(str))
    want = want.groupby(["task", "optimizer"])["score"].agg(["mean", "count"])
    got = long.set_index(["task", "optimizer"]).sort_index()
    assert len(got) == len(want)
    np.testing.assert_allclose(got["score"], want.loc[got.index, "mean"], rtol=0, atol=0)
    assert (got["n_runs"] == want.loc[got.index, "count"]).all()
    # expensive optimizers archived on the dev piece are there, with their 3 seeds
    archived_expensive = set(long["optimizer"]) & set(expensive())
    assert archived_expensive
    assert (long[long["optimizer"].isin(archived_expensive)]["n_runs"] == 3).all()


def test_type_source_is_dev_plus_test_with_the_optimizers_on_both() -> None:
    long = archive_scores("archive:bb")
    dev, test = archive_scores("archive:dev_bb"), archive_scores("archive:test_bb")
    assert set(long["task"]) == set(dev["task"]) | set(test["task"])
    assert not set(dev["task"]) & set(test["task"])
    both = set(dev["optimizer"]) & set(test["optimizer"])
    assert set(long["optimizer"]) == {o for o in both if o not in expensive()}
    wide = long.pivot(index="task", columns="optimizer", values="score")
    assert not wide.isna().any().any()  # complete: a universe the protocol can use
    assert (long["n_runs"] == 10).all()
    # a piece is normalized over all its archived runs, whichever optimizers a source keeps
    part = dev[dev["optimizer"].isin(long["optimizer"])].set_index(["task", "optimizer"])["score"]
    mine = long.set_index(["task", "optimizer"]).loc[part.index, "score"]
    np.testing.assert_allclose(mine, part, atol=1e-12)


def test_run_scores_keep_every_seed() -> None:
    runs = archive_run_scores("archive:mo")
    assert list(runs.columns) == ["task", "task_type", "optimizer", "seed", "score"]
    assert sorted(runs["seed"].unique()) == list(range(10))
    assert (runs["task_type"] == "mo").all()
    assert not runs.duplicated(["task", "optimizer", "seed"]).any()


@pytest.mark.parametrize("bad", ["archive:dev_xx", "archive:", "archive:bbob"])
def test_unknown_archive_source_is_one_line(bad: str) -> None:
    with pytest.raises(ValueError, match=r"unknown archive source .*<piece>.*dev_bb.*archive:<task type>"):
        archive_scores(bad)


def test_twins_are_found_in_the_archive_universe() -> None:
    # At the dev studies' 50 trials Optuna's NSGA-II (population 50) samples exactly what its random
    # sampler does: the protocol must not hold one out while showing the other to the selector.
    wide = archive_scores("archive:bb").pivot(index="task", columns="optimizer", values="score")
    kept, dropped = drop_twins(wide)
    assert dropped.get("optuna_random") == "optuna_nsga2"
    assert "optuna_nsga2" in kept.columns and "optuna_random" not in kept.columns
    _, again = drop_twins(kept)
    assert again == {}


def test_drop_twins_keeps_near_but_different_optimizers() -> None:
    s = pd.DataFrame({"a": [0.1, 0.2], "b": [0.1, 0.2 + 1e-9], "c": [0.1, 0.2]}, index=["t1", "t2"])
    kept, dropped = drop_twins(s)
    assert dropped == {"c": "a"}
    assert list(kept.columns) == ["a", "b"]


def test_scores_command_writes_the_archive_table(tmp_path: Path) -> None:
    out = tmp_path / "archive_mf.parquet"
    proc = subprocess.run(
        [sys.executable, "-m", "analysis", "scores", "archive:mf", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "tasks per type {'mf': 60}" in proc.stdout
    written = pd.read_parquet(out).sort_values(["task", "optimizer"]).reset_index(drop=True)
    direct = archive_scores("archive:mf").sort_values(["task", "optimizer"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(written, direct, check_dtype=False)


def test_scores_command_refuses_a_bad_archive_source_in_one_line(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "analysis", "scores", "archive:nope", "--out", str(tmp_path / "x.parquet")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "archive:'nope'" in proc.stderr
