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


def test_unreadable_files_outside_the_plan_do_not_stop_the_summary(bench, tmp_path: Path) -> None:
    # A resumed sweep of part of a study used to load every file under runs/ for its summary and
    # die on a damaged one it did not plan (CorruptResultError traceback, exit 1, every run ok).
    study = ("task=glob('bbob/f0[12]/d02/i01')", "seed=0,1", "n_trials=4", "name=mini", "n_jobs=1")
    quiet = ("progress=false",)
    first = bench(tmp_path, "-m", "optimizer=random_search,optuna_random", *study, *quiet)
    assert first.returncode == 0, first.stderr
    runs = tmp_path / "results" / "mini" / "runs"
    damaged = runs / "bbob__f01__d02__i01--optuna_random--s0.parquet"
    with damaged.open("r+b") as f:
        f.truncate(300)
    (runs / "junk.parquet").write_bytes(b"not a parquet file")
    (runs / "adir.parquet").mkdir()
    before = {p.name: p.read_bytes() for p in runs.iterdir() if p.is_file()}

    proc = bench(tmp_path, "-m", "optimizer=random_search", *study, *quiet)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    assert "leaderboard, black-box tasks (2 tasks" in proc.stdout
    assert "random_search" in proc.stdout.split("leaderboard", 1)[1]
    # nothing outside the plan was touched, damaged or not
    assert {p.name: p.read_bytes() for p in runs.iterdir() if p.is_file()} == before
    assert (runs / "adir.parquet").is_dir()


def test_a_planned_file_damaged_before_the_summary_is_named_not_raised(tmp_path: Path) -> None:
    # Between the sweep and its summary a planned run's file is damaged (a disk error, another
    # process): the summary ranks what it can read and says in one line which file it left out.
    specs = [
        RunSpec(
            study="two",
            task=task,
            optimizer="random_search",
            optimizer_target="optimizers.random_search.RandomSearch",
            optimizer_params={},
            seed=0,
            budget=Budget(4),
        )
        for task in ("synthetic/branin", "synthetic/hartmann3")
    ]
    sweep = run_all(specs, tmp_path, n_jobs=1, backend=BackendConfig(name="threading"), progress=False)
    damaged = tmp_path / "two" / "runs" / f"{specs[0].run_id}.parquet"
    with damaged.open("r+b") as f:
        f.truncate(300)
    data = damaged.read_bytes()
    text = summarize(tmp_path / "two", sweep, Plan(specs, tasks=[s.task for s in specs]))
    skipped = [ln for ln in text.splitlines() if str(damaged) in ln]
    assert len(skipped) == 1 and "re-run" in skipped[0], text
    assert "leaderboard, black-box tasks (1 task" in text
    assert damaged.read_bytes() == data
