"""The report on real run folders: mixed studies and settings are refused, failed runs never count
as complete, and damaged files give one line, never a traceback."""

from __future__ import annotations

import importlib
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from analysis.__main__ import main
from analysis.load import MixedResultsError, comparability_groups, load, load_runs
from analysis.normalize import completeness, prepare
from analysis.report.build import build_report
from bench.loop import run_one, run_path
from bench.results import TrialRecorder, read_manifest, run_files, write_manifest, write_run
from bench.spec import RunSpec
from optimizers.base import Budget

PLUGINS = Path(__file__).resolve().parent / "plugins"
TARGETS = {
    "random_search": "optimizers.random_search.RandomSearch",
    "never_asks": "faulty_plugin.NeverAsks",  # raises in its constructor: 0 trials
    "crash_on_odd_seed": "faulty_plugin.CrashOnOddSeed",  # raises in its 3rd ask on some seeds: 2 trials
}
TASKS = ("synthetic/branin", "bbob/f01/d02/i01")
ARGS = ["--no-figures", "--n-boot", "20"]


def _spec(
    study: str, task: str, optimizer: str, seed: int, n_trials: float, target: str | None = None, **kw: Any
) -> RunSpec:
    return RunSpec(
        study=study,
        task=task,
        optimizer=optimizer,
        optimizer_target=target or TARGETS[optimizer],
        optimizer_params={},
        seed=seed,
        budget=Budget(n_trials),
        **kw,
    )


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A results root: study 'alpha' (6 trials, with failing optimizers) and study 'beta' (4 trials)."""
    out = tmp_path_factory.mktemp("results")
    with pytest.MonkeyPatch.context() as mp:
        mp.syspath_prepend(str(PLUGINS))  # the faulty optimizers are imported by their target
        for task in TASKS:
            for opt in TARGETS:
                for seed in (0, 1):
                    run_one(_spec("alpha", task, opt, seed, 6), out)
        for seed in (0, 1):
            run_one(_spec("beta", "synthetic/branin", "random_search", seed, 4), out)
    yield out


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def _err_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith("error: ")
    return err.strip()


# -- mixed studies and settings ---------------------------------------------------------------


def test_results_root_of_two_studies_is_refused_naming_them(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", str(root), "--out", str(root.parent / "r"), *ARGS]) == 2
    err = _err_line(capsys)
    assert err == (
        f"error: {root} mixes 2 studies: 'alpha' (12 runs), 'beta' (2 runs); runs with budget "
        "n_trials=6 (12 runs) and n_trials=4 (2 runs); report one study folder at a time (e.g. python -m "
        f"analysis report {root / 'alpha'}), or pass --allow-mixed to report them together under a "
        "warning that names these groups"
    )
    for cmd in (
        ["scores", str(root), "--out", str(root.parent / "s.csv")],
        ["subset", str(root), "--k", "1"],
    ):
        assert main(cmd) == 2
        assert "mixes 2 studies: 'alpha' (12 runs), 'beta' (2 runs)" in _err_line(capsys)
    # The library refuses too: a notebook that loads a results root gets the same groups.
    with pytest.raises(MixedResultsError, match=r"the results mix 2 studies") as exc:
        build_report(load(root), load_runs(root), n_boot=10, figures=False)
    assert [g.setting for g in exc.value.groups] == ["study", "budget n_trials"]


def test_allow_mixed_never_merges_two_runs_under_one_key(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Both studies ran random_search on Branin with seeds 0 and 1: those runs must not become one."""
    assert main(["report", str(root), "--out", str(root.parent / "r"), "--allow-mixed", *ARGS]) == 2
    err = _err_line(capsys)
    assert "2 (task, optimizer, seed) run(s) occur more than once" in err
    assert "analyse one study folder (one setting) at a time" in err
    with pytest.raises(ValueError, match="occur more than once"):
        prepare(load(root))


def test_budgets_mixed_in_one_study_folder(
    root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    study = _copy(root / "alpha", tmp_path / "alpha")
    for seed in (0, 1):  # an earlier, shorter plan of the same study on another task
        run_one(_spec("alpha", "bbob/f02/d02/i01", "random_search", seed, 3), tmp_path)
    assert main(["report", str(study), "--out", str(tmp_path / "r"), *ARGS]) == 2
    err = _err_line(capsys)
    assert err.startswith(
        f"error: {study} mixes runs with budget n_trials=6 (12 runs) and n_trials=3 "
        "(2 runs); move the runs of all but one group out of"
    )
    assert err.endswith(
        "or pass --allow-mixed to report them together under a warning that names these groups"
    )
    assert main(["report", str(study), "--out", str(tmp_path / "r"), "--allow-mixed", *ARGS]) == 0
    md = (tmp_path / "r" / "report.md").read_text()
    first = md.split("\n## ")[1]
    assert first.startswith("Warning: mixed results")
    assert "runs with budget n_trials=6 (12 runs) and n_trials=3 (2 runs)" in first
    assert "| budget n_trials |  | 3 | 2 |" in first


def test_one_optimizer_id_with_two_targets_or_task_revisions(root: Path, tmp_path: Path) -> None:
    study = _copy(root / "alpha", tmp_path / "alpha")
    with pytest.MonkeyPatch.context() as mp:
        mp.syspath_prepend(str(PLUGINS))
        other_target = TARGETS["crash_on_odd_seed"]
        run_one(_spec("alpha", "bbob/f02/d02/i01", "random_search", 0, 6, target=other_target), tmp_path)
        run_one(_spec("alpha", "bbob/f02/d02/i01", "never_asks", 0, 6, task_revision="2"), tmp_path)
    groups = comparability_groups(load_runs(study))
    assert [(g.setting, g.subject) for g in groups] == [
        ("optimizer_target/params", "random_search"),
        ("task_revision", "bbob/f02/d02/i01"),
    ]
    assert groups[0].describe() == (
        "runs of optimizer 'random_search' with target and parameters "
        "optimizers.random_search.RandomSearch() (4 runs) and faulty_plugin.CrashOnOddSeed() (1 run)"
    )
    assert (
        groups[1].describe() == "runs of task 'bbob/f02/d02/i01' with task_revision='' (1 run) and "
        "task_revision='2' (1 run)"
    )
    with pytest.raises(MixedResultsError, match="runs of optimizer 'random_search' with target"):
        build_report(load(study), load_runs(study), n_boot=10, figures=False)


def test_keys_that_older_runs_lack_are_defaults_not_differences() -> None:
    def meta(spec: dict[str, Any], study: str = "s") -> dict[str, Any]:
        return {
            "study": study,
            "spec": {
                "task": "t",
                "optimizer": "o",
                "optimizer_target": "m.O",
                "optimizer_params": {},
                "seed": 0,
                **spec,
            },
        }

    old = meta({"budget": {"n_trials": 10}})  # before time budgets, workers, limits, revisions
    new = meta(
        {
            "budget": {"n_trials": 10.0, "time": None},
            "n_workers": 1,
            "trial_timeout": None,
            "run_timeout": None,
            "task_revision": "",
        }
    )
    bare: dict[str, Any] = {"status": "ok"}  # no study, no spec: nothing to compare
    assert comparability_groups(pd.DataFrame({"meta": [old, new, bare]})) == []
    changed = {
        "n_workers": 4,
        "trial_timeout": 5.0,
        "run_timeout": 60,
        "budget": {"n_trials": 10, "time": 30},
        "optimizer_params": {"k": 2},
        "task_revision": "2",
    }
    for key, value in changed.items():
        other = meta({"budget": {"n_trials": 10}, key: value} if key != "budget" else {key: value})
        groups = comparability_groups(pd.DataFrame({"meta": [old, other]}))
        assert len(groups) == 1, (key, groups)
    described = [
        g.describe()
        for g in comparability_groups(
            pd.DataFrame(
                {"meta": [old, meta({"budget": {"n_trials": 10}, "n_workers": 4, "trial_timeout": 2.5})]}
            )
        )
    ]
    assert described == [
        "runs with n_workers=1 (1 run) and n_workers=4 (1 run)",
        "runs with trial_timeout=2.5 (1 run) and trial_timeout=none (1 run)",
    ]
    # Without metadata, the trial rows still tell studies apart.
    trials = pd.DataFrame({"study": ["a", "a", "b"], "run_id": ["r1", "r2", "r1"]})
    described = [g.describe() for g in comparability_groups(None, trials)]
    assert described == ["2 studies: 'a' (2 runs), 'b' (1 run)"]


def test_superseded_runs_beside_runs_are_not_mixed_in(
    root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    study = _copy(root / "alpha", tmp_path / "alpha")
    old = tmp_path / "old"
    run_one(_spec("alpha", "synthetic/branin", "random_search", 0, 3), old)  # same key, older budget
    aside = study / "superseded" / "20240101T000000Z" / "runs"
    aside.mkdir(parents=True)
    shutil.copy(next((old / "alpha" / "runs").glob("*.parquet")), aside / "x.parquet")
    if any("superseded" in f.parts for f in run_files(study)):
        pytest.xfail("bench.results.run_files does not exclude superseded/ folders yet")
    assert main(["report", str(study), "--out", str(tmp_path / "r"), *ARGS]) == 0, capsys.readouterr().err
    md = (tmp_path / "r" / "report.md").read_text()
    assert "8 of 12 runs present, 6 of them complete; 0 missing; 6 failed" in md
    assert "mixed" not in md.lower()


# -- failed runs ------------------------------------------------------------------------------


def test_failed_runs_are_never_complete_and_zero_trial_runs_never_ranked(
    root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    study = root / "alpha"
    runs = load_runs(study)
    partial = runs[(runs["optimizer"] == "crash_on_odd_seed") & (runs["status"] == "crashed")]
    assert len(partial) == 2 and set(partial["n_trials"]) == {2}  # the fixture is what the test needs
    assert set(runs.loc[runs["optimizer"] == "never_asks", "n_trials"]) == {0}

    assert main(["report", str(study), "--out", str(tmp_path / "r"), *ARGS]) == 0
    md = (tmp_path / "r" / "report.md").read_text()
    # 4 random search + 2 crash_on_odd_seed runs complete; never_asks' 4 runs are failed, not present.
    assert (
        "8 of 12 runs present, 6 of them complete; 0 missing; 6 failed: 2 part-way (trials kept), "
        "4 before the first trial."
    ) in md
    assert "| never_asks | 4 | 0 | 0 | 4 | 0 |" in md
    assert "| crash_on_odd_seed | 4 | 2 | 2 | 0 | 0 |" in md
    assert (
        "| synthetic/branin | never_asks | 0 | crashed | 0 | bb | ValueError: simulated constructor failure |"
    ) in md
    assert (
        "Not ranked (no run produced a trial on this type): "
        "never_asks (4 runs failed before the first trial)."
    ) in md

    rep = build_report(load(study), runs, n_boot=10, figures=False)
    assert "never_asks" not in rep.tables["scores_bb"].columns
    assert rep.tables["leaderboard_bb"].loc["crash_on_odd_seed", "failed or missing runs"] == 2
    # A run that failed part-way is analysed: its trials are in the scores.
    assert rep.tables["scores_bb"]["crash_on_odd_seed"].notna().all()


def _died(out: Path, spec: RunSpec) -> None:
    """What the runner records for a run whose worker process died before its first trial."""
    table = TrialRecorder().table(
        study=spec.study,
        run_id=spec.run_id,
        task=spec.task,
        family="bbob",
        task_type="bb",
        task_kind="synthetic",
        optimizer=spec.optimizer,
        seed=spec.seed,
        optimum=None,
        objectives=(),
        run_status="died",
    )
    meta = {
        "run_id": spec.run_id,
        "study": spec.study,
        "spec": spec.to_dict(),
        "status": "died",
        "error": "the worker process died (SIGKILL)",
        "n_trials": 0,
        "task_meta": {"type": "bb"},
    }
    write_run(run_path(out, spec), table, meta)


def test_an_optimizer_whose_runs_on_a_task_all_died_is_not_credited_with_it(tmp_path: Path) -> None:
    specs = [
        _spec("delta", t, o, s, 5, target=TARGETS["random_search"])
        for t in TASKS
        for o in ("random_search", "other")
        for s in (0, 1)
    ]
    for spec in specs:
        if spec.optimizer == "other" and spec.task == "bbob/f01/d02/i01":
            _died(tmp_path, spec)
        else:
            run_one(spec, tmp_path)
    study = tmp_path / "delta"
    planned = [{"task": s.task, "optimizer": s.optimizer, "seed": s.seed} for s in specs]
    write_manifest(
        study, {"study": "delta", "budget": {"n_trials": 5, "time": None}, "refused": [], "runs": planned}
    )
    df, runs, manifest = load(study), load_runs(study), read_manifest(study)
    comp = completeness(prepare(df), runs, manifest)
    assert (comp.expected, comp.present, comp.complete, len(comp.missing)) == (8, 6, 6, 0)
    assert comp.failed_no_trial[["task", "optimizer", "run_status"]].drop_duplicates().values.tolist() == [
        ["bbob/f01/d02/i01", "other", "died"]
    ]
    assert comp.outcomes.loc["other"].to_dict() == {
        "expected": 4,
        "complete": 2,
        "failed_partial": 0,
        "failed_no_trial": 2,
        "missing": 0,
        "refused": 0,
    }
    rep = build_report(df, runs, manifest=manifest, n_boot=10, figures=False)
    scores = rep.tables["scores_bb"]
    assert np.isnan(scores.loc["bbob/f01/d02/i01", "other"])
    assert np.isfinite(scores.loc["synthetic/branin", "other"])
    # Ranks and tests use the complete block only: the task 'other' never ran on is left out of them.
    assert set(rep.tables["leaderboard_bb"]["tasks"]) == {1}
    md = rep.markdown()
    assert (
        "1 task(s) lack a run of some ranked optimizer and are left out of ranks and tests: bbob/f01/d02/i01"
    ) in md
    assert "6 of 8 runs present; 0 missing; 2 failed: 2 before the first trial; refused: 0 pairs" in md


# -- damaged files ----------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["report", "scores", "subset"])
def test_truncated_run_file_gives_one_line_and_exit_2(
    root: Path, tmp_path: Path, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    study = _copy(root / "alpha", tmp_path / "alpha")
    victim = sorted((study / "runs").glob("*.parquet"))[0]
    victim.write_bytes(victim.read_bytes()[: victim.stat().st_size // 2])
    extra = {
        "report": ["--out", str(tmp_path / "r"), *ARGS],
        "scores": ["--out", str(tmp_path / "s.csv")],
        "subset": ["--k", "1", "--out", str(tmp_path / "ts")],
    }[command]
    assert main([command, str(study), *extra]) == 2
    assert str(study) in _err_line(capsys)


def test_a_folder_named_like_a_run_file_gives_one_line(
    root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    study = _copy(root / "alpha", tmp_path / "alpha")
    (study / "runs" / "zz.parquet").mkdir()
    assert main(["report", str(study), "--out", str(tmp_path / "r"), *ARGS]) == 2
    assert "zz.parquet" in _err_line(capsys)


@pytest.mark.parametrize("exc", [OSError(5, "Input/output error"), ValueError("bad footer\nsecond line")])
def test_any_load_error_is_one_line(
    root: Path, exc: Exception, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    loader = importlib.import_module("analysis.load")  # the module: the package exports its load()

    def broken(path: Any, columns: Any = None) -> pd.DataFrame:
        raise exc

    monkeypatch.setattr(loader, "load", broken)
    for cmd in (["report", str(root / "alpha")], ["scores", str(root / "alpha"), "--out", "x.csv"]):
        assert main(cmd) == 2
        line = _err_line(capsys)
        assert line.startswith(f"error: cannot load results from {str(root / 'alpha')!r}: ")
        assert json.dumps(line)  # one plain line


def test_unwritable_report_folder_gives_one_line(
    root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert main(["report", str(root / "alpha"), "--out", str(blocker / "r"), *ARGS]) == 2
    assert str(blocker) in _err_line(capsys)
