"""The end-of-sweep summary: one leaderboard per task type, and no crash without optional packages.

The summary of a single run (no leaderboard) is tested in test_bench_single_run.py.
"""

from __future__ import annotations

import contextlib
import io
import sys
from pathlib import Path

import pandas as pd
import pytest

from analysis.leaderboard.sweep_summary import summarize
from bench.__main__ import main
from bench.config import BackendConfig
from bench.parallel import run_all
from bench.plan import Plan
from bench.spec import RunSpec
from optimizers.base import Budget


def _run(tmp_path: Path) -> tuple[int, str]:
    """Two optimizers on zdt1, in threads: a leaderboard needs more than one optimizer or task
    (one pair with several seeds lists each seed's best instead). The second is random search
    under another id and seed: a real second method would need an optional library."""
    specs = [
        RunSpec(
            study="mo",
            task="synthetic/zdt1",
            optimizer=optimizer,
            optimizer_target="optimizers.random_search.RandomSearch",
            optimizer_params={},
            seed=seed,
            budget=Budget(6),
        )
        for optimizer, seed in (("random_search", 0), ("rs_b", 1))
    ]
    sweep = run_all(specs, tmp_path, n_jobs=1, backend=BackendConfig(name="threading"), progress=False)
    plan = Plan(specs, tasks=["synthetic/zdt1"])
    return len(sweep.failed), summarize(tmp_path / "mo", sweep, plan)


def test_multi_objective_leaderboard(tmp_path: Path) -> None:
    failed, text = _run(tmp_path)
    assert failed == 0 and "leaderboard, multi-objective tasks (1 task," in text


def test_multi_objective_leaderboard_says_it_ranks_by_hypervolume_regret(tmp_path: Path) -> None:
    # final_ranks calls its score column mean_regret for every task type; on these tasks it is
    # the hypervolume regret, not the normalized regret of one objective
    _, text = _run(tmp_path)
    header = text.split("leaderboard, multi-objective tasks", 1)[1].splitlines()[1]
    assert header.split() == ["mean_rank", "n_tasks", "mean_hv_regret"]


def test_missing_hypervolume_package_is_reported_not_raised(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # None in sys.modules makes "import moocore" raise ImportError, as when it is not installed.
    monkeypatch.setitem(sys.modules, "moocore", None)
    failed, text = _run(tmp_path)
    assert failed == 0
    assert "leaderboard, multi-objective tasks: not computed, moocore is not installed" in text
    assert len(list((tmp_path / "mo" / "runs").glob("*.parquet"))) == 2


def test_leaderboard_uses_the_objective_directions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The summary must rank multi-objective runs with each task's own directions (as the report
    # does): the frame it ranks carries them, as every loaded results frame does.
    import analysis.leaderboard.stats
    from analysis.leaderboard.hypervolume import objective_directions

    seen: list[object] = []
    real = analysis.leaderboard.stats.final_ranks

    def spy(df: pd.DataFrame) -> pd.DataFrame:
        seen.append(objective_directions(df))
        return real(df)

    monkeypatch.setattr(analysis.leaderboard.stats, "final_ranks", spy)
    failed, _ = _run(tmp_path)
    assert failed == 0 and seen == [{"synthetic/zdt1": (True, True)}]


def test_leaderboard_matches_the_report_on_a_maximized_objective(tmp_path: Path) -> None:
    import os

    from analysis.leaderboard.hypervolume import objective_directions
    from analysis.leaderboard.stats import final_ranks
    from bench import results

    data = os.environ.get("NXMBENCH_YAHPO_DATA", "")
    if not data or not Path(data, "lcbench").is_dir():
        pytest.skip("no YAHPO data folder with lcbench (NXMBENCH_YAHPO_DATA)")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        rc = main(
            [
                "study=default",
                "study.tasks=[yahpo/lcbench/3945/mo]",
                "study.seeds=2",
                "study.optimizers=[random_search,optuna_motpe,optuna_nsga2]",
                "n_trials=8",
                f"output_dir={tmp_path}",
                "n_jobs=1",
            ]
        )
    assert rc == 0
    study = tmp_path / "default"
    df = results.load(study / "runs")
    directions = objective_directions(results.load_runs(study / "runs"))
    assert directions["yahpo/lcbench/3945/mo"][0] is False  # val_accuracy is maximized
    assert objective_directions(df) == directions  # the trials carry what the run metadata says
    # the summary names the multi-objective regret for what it is: hypervolume regret
    expected = final_ranks(df).rename(columns={"mean_regret": "mean_hv_regret"})
    expected = expected.to_string(float_format=lambda v: f"{v:.2f}")
    assert expected in out.getvalue()
