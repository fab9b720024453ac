"""The end-of-sweep summary: one leaderboard per task type, and no crash without optional packages."""

from __future__ import annotations

import contextlib
import io
import sys
from pathlib import Path

import pytest

from bench.__main__ import main


def _run(tmp_path: Path) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        rc = main(["task=synthetic/zdt1", "optimizer=random_search", "n_trials=6", "seed=0",
                   f"output_dir={tmp_path}", "n_jobs=1"])
    return rc, out.getvalue()


def test_multi_objective_leaderboard(tmp_path: Path) -> None:
    rc, text = _run(tmp_path)
    assert rc == 0 and "leaderboard, multi-objective tasks (1 tasks" in text


def test_missing_hypervolume_package_is_reported_not_raised(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    # None in sys.modules makes "import moocore" raise ImportError, as when it is not installed.
    monkeypatch.setitem(sys.modules, "moocore", None)
    rc, text = _run(tmp_path)
    assert rc == 0
    assert "leaderboard, multi-objective tasks: not computed, moocore is not installed" in text
    assert len(list((tmp_path / "single").glob("*/runs/*.parquet"))) == 1


def test_leaderboard_uses_the_objective_directions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The summary must rank multi-objective runs with each task's own directions (as the report
    # does); before, it passed none, so a maximized objective counted as minimized.
    import analysis.stats

    seen: list[object] = []
    real = analysis.stats.final_ranks

    def spy(df: object, directions: object = None) -> object:
        seen.append(directions)
        return real(df, directions=directions)  # type: ignore[arg-type]

    monkeypatch.setattr(analysis.stats, "final_ranks", spy)
    rc, _ = _run(tmp_path)
    assert rc == 0 and seen == [{"synthetic/zdt1": (True, True)}]


def test_leaderboard_matches_the_report_on_a_maximized_objective(tmp_path: Path) -> None:
    import os

    from analysis.hypervolume import objective_directions
    from analysis.stats import final_ranks
    from bench import results

    data = os.environ.get("NXM_YAHPO_DATA", "")
    if not data or not Path(data, "lcbench").is_dir():
        pytest.skip("no YAHPO data folder with lcbench (NXM_YAHPO_DATA)")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        rc = main(["study=default", "study.tasks=[yahpo/lcbench/3945/mo]", "study.seeds=2",
                   "study.optimizers=[random_search,optuna_motpe,optuna_nsga2]", "n_trials=8",
                   f"output_dir={tmp_path}", "n_jobs=1"])
    assert rc == 0
    study = tmp_path / "default"
    df = results.load(study / "runs")
    directions = objective_directions(results.load_runs(study / "runs"))
    assert directions["yahpo/lcbench/3945/mo"][0] is False  # val_accuracy is maximized
    expected = final_ranks(df, directions=directions).to_string(float_format=lambda v: f"{v:.2f}")
    assert expected in out.getvalue()
