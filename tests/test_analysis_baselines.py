"""Your optimizer ranked against the archived baselines, and the refusals when they do not compare.

End to end, as a researcher does it: a user-written optimizer (one file and one YAML in their own
config folder) runs on the shipped dev subset with ``python -m bench``; ``python -m analysis report
--baselines archive`` ranks it with every archived optimizer. Runs at another budget, with seeds
the archive lacks, another task revision or other objectives are refused in one line.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pandas as pd
import pytest

import analysis
from analysis.baselines import BaselineMismatch, add_baselines
from bench.archive.read import read_archive
from bench.results import load, load_runs, read_manifest

MY_OPT = '''
"""A user's optimizer: random search that re-samples around the best point half of the time."""
from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from ConfigSpace import Configuration

from optimizers.base import Optimizer, Problem, Trial
from tasks.base import Result


class HalfLocal(Optimizer):
    supports: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, problem: Problem, seed: int, **params: Any) -> None:
        super().__init__(problem, seed, **params)
        self.rng = np.random.default_rng(seed)
        self.space = problem.space
        self.space.seed(seed)
        self.best: tuple[float, Configuration] | None = None
        self.sign = 1.0 if problem.objectives[0].minimize else -1.0

    def ask(self) -> Trial:
        if self.best is None or self.rng.random() < 0.5:
            return Trial(dict(self.space.sample_configuration()))
        x = self.best[1].get_array()
        x = np.clip(x + self.rng.normal(0, 0.05, size=x.shape), 0, 1)
        return Trial(dict(Configuration(self.space, vector=x)))

    def tell(self, trial: Trial, result: Result) -> None:
        y = self.sign * result.values[0]
        if self.best is None or y < self.best[0]:
            self.best = (y, Configuration(self.space, values=trial.config))
'''


def _user_setup(tmp_path: Path) -> Path:
    (tmp_path / "half_local.py").write_text(MY_OPT)  # in the folder the user works in
    conf = tmp_path / "my_conf" / "optimizer"
    conf.mkdir(parents=True)
    (conf / "half_local.yaml").write_text(
        textwrap.dedent(
            """\
            _target_: half_local.HalfLocal
            description: random search, half the time a step around the best point
            params: {}
            """
        )
    )
    return tmp_path / "my_conf"


def _bbob_tasks(n: int) -> list[str]:
    trials, _ = read_archive(pieces=["dev_bb"], optimizers=["random_search"])
    return sorted(t for t in trials["task"].astype(str).unique() if t.startswith("bbob/"))[:n]


def _run(bench, tmp_path: Path, *extra: str) -> None:
    conf = _user_setup(tmp_path)
    tasks = _bbob_tasks(2)
    proc = bench(
        tmp_path,
        "-m",
        "study=dev_bb",
        "optimizer=half_local",
        f"task={','.join(tasks)}",
        "seed=0,1",
        "progress=false",
        *extra,
        conf=conf,
    )
    assert proc.returncode == 0, proc.stderr


@pytest.mark.slow
def test_a_user_optimizer_is_ranked_against_every_archived_baseline(bench, tmp_path: Path) -> None:
    _run(bench, tmp_path)
    out = bench(
        tmp_path, "report", "results/dev_bb", "--baselines", "archive", "--no-figures", module="analysis"
    )
    assert out.returncode == 0, out.stderr
    md = (tmp_path / "results" / "dev_bb" / "report" / "report.md").read_text()
    archived = sorted(set(read_archive(pieces=["dev_bb"])[0]["optimizer"].astype(str)))
    assert len(archived) >= 10
    assert "## Baselines from the archive" in md
    board = md.split("**Black-box tasks (bb): ", 1)[1].split("\n\n")[1]
    rows = {ln.split("|")[1].strip(): ln.split("|")[2].strip() for ln in board.splitlines()[2:]}
    assert rows.pop("half_local") == "these runs"
    assert sorted(rows) == archived and set(rows.values()) == {"archive"}
    assert f"{len(archived) + 1} optimizers with runs on them" in md


@pytest.mark.slow
def _one_line(proc) -> str:
    assert proc.returncode == 2, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    return str(lines[0])


def test_runs_at_another_budget_or_seed_are_refused_in_one_line(bench, tmp_path: Path) -> None:
    _run(bench, tmp_path, "n_trials=20")
    out = bench(tmp_path, "report", "results/dev_bb", "--baselines", "archive", module="analysis")
    line = _one_line(out)
    assert "n_trials=50 (archive) vs 20 (your runs)" in line
    assert not (tmp_path / "results" / "dev_bb" / "report").exists()
    other = tmp_path / "other"
    other.mkdir()
    _run(bench, other, "seed=10")
    out = bench(other, "report", "results/dev_bb", "--baselines", "archive", module="analysis")
    line = _one_line(out)
    assert "seeds: archived 0-9, your runs 10" in line


def _user_frames(tmp_path: Path, bench) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    _run(bench, tmp_path)
    folder = tmp_path / "results" / "dev_bb"
    return load(folder), load_runs(folder), read_manifest(folder) or {}


@pytest.mark.slow
def test_another_task_revision_or_objective_is_refused(bench, tmp_path: Path) -> None:
    df, runs, manifest = _user_frames(tmp_path, bench)
    base = add_baselines(df, runs, manifest)
    assert "half_local" not in base.archived and "random_search" in base.archived
    assert set(base.trials["source"].astype(str)) == {"runs", "archive"}
    assert base.manifest is not None and base.runs_meta is not None
    assert len(base.manifest["runs"]) == len(base.runs_meta)  # the expected grid counts them
    task = str(df["task"].iloc[0])
    revised = runs.copy()
    revised["meta"] = [
        {**m, "spec": {**m["spec"], "task_revision": "fixed-2027"}} if m["spec"]["task"] == task else m
        for m in revised["meta"]
    ]
    with pytest.raises(
        BaselineMismatch, match=f"task revision of '{task}': archived 'none', your runs 'fixed-2027'"
    ):
        add_baselines(df, revised, manifest)
    flipped = runs.copy()
    flipped["meta"] = [{**m, "objectives": [{"name": "f", "minimize": False}]} for m in flipped["meta"]]
    with pytest.raises(BaselineMismatch, match=r"objectives of .*: archived f min, your runs f max"):
        add_baselines(df, flipped, manifest)


@pytest.mark.slow
def test_analysis_load_adds_the_baselines_in_one_call(bench, tmp_path: Path) -> None:
    _run(bench, tmp_path)
    df = analysis.load(tmp_path / "results" / "dev_bb", baselines="archive")
    by_source = df.groupby("source", observed=True)["optimizer"].nunique()
    assert by_source["runs"] == 1 and by_source["archive"] >= 10
    assert set(df["seed"]) == {0, 1} and df["task"].nunique() == 2
    with pytest.raises(ValueError, match="baselines='nowhere' is invalid"):
        analysis.load(tmp_path / "results" / "dev_bb", baselines="nowhere")


@pytest.mark.slow
def test_the_published_leaderboard_is_what_the_shipped_archive_gives(tmp_path: Path) -> None:
    from analysis.report.archive_leaderboard import write_leaderboard
    from bench.archive.store import read_manifest

    published = Path(__file__).resolve().parents[1] / "docs" / "baselines" / "leaderboard.md"
    _, md = write_leaderboard(tmp_path)
    assert md.read_text() == published.read_text(), "regenerate it: python -m analysis baselines"
    manifest = read_manifest()
    assert f"Baseline archive v{manifest['archive_version']} " in published.read_text()
