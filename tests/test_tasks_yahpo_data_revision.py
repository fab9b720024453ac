"""Other YAHPO surrogate files are another task: they never mix with runs of the reference files.

A YAHPO task id names an instance of a scenario; its values come from the files of the data folder
the user points at. Surrogates retrained or edited under the same file names give other values for
the same id, so the task records what it was computed from: with the files of YAHPO data 1.0.2 that
this project's baseline archive and reference values were made with, its revision stays empty (the
task's plain form, as before); with any other files it is ``yahpo-data=sha256:<digest>``. The
revision enters every run's fingerprint, so a study folder refuses to mix runs of two data folders
and the report refuses archived baselines made with other files, each in one line.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tasks.collections.yahpo import SCENARIOS, YahpoFamily, load_surrogate

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("NXMBENCH_YAHPO_DATA") or REPO.parent / "shared" / "data" / "yahpo")

pytestmark = pytest.mark.skipif(not DATA.is_dir(), reason=f"YAHPO data folder {DATA} is absent")

TASK = "yahpo/iaml_glmnet/40981"


def _copy(root: Path, edit: Callable[[Path], object] | None = None) -> Path:
    """A data folder with a writable copy of the small iaml_glmnet scenario, edited by ``edit``."""
    shutil.copytree(DATA / "iaml_glmnet", root / "iaml_glmnet", copy_function=shutil.copyfile)
    if edit is not None:
        edit(root / "iaml_glmnet")
    return root


def _reindent_space(folder: Path) -> None:
    """The same search space, written with other whitespace: other bytes, a still valid scenario."""
    path = folder / "config_space.json"
    path.write_text(json.dumps(json.loads(path.read_text()), indent=1))


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_the_reference_files_keep_the_plain_task_form(scenario: str) -> None:
    fam = YahpoFamily(data_dir=DATA)
    instance = load_surrogate(str(DATA.resolve()), scenario).instances[0]
    for suffix in ("", "/mo"):
        task = fam.make(f"yahpo/{scenario}/{instance}{suffix}")
        assert task.meta.revision == "", task.meta.revision


def test_a_copy_of_the_reference_files_elsewhere_is_the_same_task(tmp_path: Path) -> None:
    root = _copy(tmp_path / "elsewhere")
    assert YahpoFamily(data_dir=root).make(TASK).meta.revision == ""


def test_other_files_under_the_same_names_are_another_task_revision(tmp_path: Path) -> None:
    root = _copy(tmp_path / "other", _reindent_space)
    revision = YahpoFamily(data_dir=root).make(TASK).meta.revision
    assert revision.startswith("yahpo-data=sha256:") and len(revision) == len("yahpo-data=sha256:") + 16
    assert YahpoFamily(data_dir=root).make(TASK + "/mo").meta.revision == revision
    # the digest is of the files' bytes, not of where they are
    again = _copy(tmp_path / "other-again", _reindent_space)
    assert YahpoFamily(data_dir=again).make(TASK).meta.revision == revision


def test_a_study_folder_refuses_to_mix_runs_of_two_data_folders(
    run_cli: Callable[..., Any], tmp_path: Path
) -> None:
    other = _copy(tmp_path / "other", _reindent_space)
    out = tmp_path / "out"
    args = ("optimizer=random_search", f"task={TASK}", "n_trials=3", f"output_dir={out}", "progress=false")
    first = run_cli(*args, f"yahpo_data={DATA}")
    assert first.returncode == 0, first.stderr
    files = {p: p.read_bytes() for p in out.rglob("*.parquet")}
    assert len(files) == 1

    mixed = run_cli(*args, f"yahpo_data={other}")
    assert mixed.returncode == 2, (mixed.stdout, mixed.stderr)
    lines = [ln for ln in mixed.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in mixed.stderr, lines
    assert "revision" in lines[0] and "yahpo-data=sha256:" in lines[0], lines[0]
    assert {p: p.read_bytes() for p in out.rglob("*.parquet")} == files  # nothing lost or replaced

    again = run_cli(*args, f"yahpo_data={DATA}")  # the reference files again: the run is resumed as done
    assert again.returncode == 0, again.stderr
    assert {p: p.read_bytes() for p in out.rglob("*.parquet")} == files


@pytest.mark.slow
def test_the_report_refuses_archived_baselines_made_with_other_files(bench, tmp_path: Path) -> None:
    """The archive's YAHPO runs were made with the reference files: a user's runs on other files
    are not ranked against them (one line naming the task and both revisions)."""
    other = tmp_path / "other"
    shutil.copytree(DATA / "rbv2_rpart", other / "rbv2_rpart", copy_function=shutil.copyfile)
    _reindent_space(other / "rbv2_rpart")
    task = "yahpo/rbv2_rpart/14"  # in the shipped dev_mf subset
    proc = bench(
        tmp_path, "-m", "study=dev_mf", "optimizer=random_search", f"task={task}", "seed=0,1",
        "progress=false", f"yahpo_data={other}",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    out = bench(tmp_path, "report", "results/dev_mf", "--baselines", "archive", module="analysis")
    lines = [ln for ln in out.stderr.splitlines() if ln.strip()]
    assert out.returncode == 2 and len(lines) == 1 and lines[0].startswith("error: "), out.stderr
    assert f"task revision of '{task}': archived 'none', your runs 'yahpo-data=sha256:" in lines[0], lines[0]


def test_a_worker_whose_data_differs_from_the_plan_records_its_run_as_crashed(tmp_path: Path) -> None:
    """A cluster worker reads the study's data folder by its path; where that path holds other
    files than the planning machine's, the task there is another revision than the planned one.
    The run must not compute values under the planned revision: it is recorded crashed, naming
    both revisions, with no trials."""
    from bench import registry, results
    from bench.config import OptimizerChoice, StudyConfig
    from bench.loop import run_one
    from bench.plan import make_plan
    from bench.run_context import RunContext
    from optimizers.base import Budget

    folder = _copy(tmp_path / "data")
    study = StudyConfig(
        "w",
        (OptimizerChoice("random_search", "optimizers.random_search.RandomSearch"),),
        (TASK,),
        (0,),
        Budget(3),
    )
    (spec,) = make_plan(study, RunContext(yahpo_data=str(folder))).specs
    assert spec.task_revision == "" and spec.context.yahpo_data == str(folder)
    _reindent_space(folder / "iaml_glmnet")  # what the worker finds at that path: other files
    registry.forget_tasks()  # a fresh worker process: nothing cached from the planning
    load_surrogate.cache_clear()
    try:
        outcome = run_one(spec, tmp_path / "out")
    finally:
        registry.forget_tasks()
        load_surrogate.cache_clear()
    assert outcome.status == "crashed" and outcome.n_trials == 0, outcome
    assert outcome.error is not None, outcome
    assert f"task {TASK!r} is revision 'yahpo-data=sha256:" in outcome.error, outcome.error
    assert "the run was planned for revision ''" in outcome.error, outcome.error
    runs = results.load_runs(tmp_path / "out" / "w")
    assert list(runs["status"]) == ["crashed"] and list(runs["n_trials"]) == [0]


def test_a_file_that_vanishes_before_its_digest_is_one_line_naming_the_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The scenario's files are checked, then hashed: one removed in between (another process
    cleaning the folder) is a :class:`YahpoDataError` naming the folder, never an ``OSError``
    traceback from inside the digest."""
    import tasks.collections.yahpo as yahpo

    root = _copy(tmp_path / "vanishing")
    real_digest = yahpo.scenario_digest

    def digest_after_removal(folder: Path) -> str:
        (folder / "model.onnx").unlink()  # the real race: the file is gone when the digest reads it
        return real_digest(folder)

    monkeypatch.setattr(yahpo, "scenario_digest", digest_after_removal)
    with pytest.raises(yahpo.YahpoDataError) as info:
        yahpo.YahpoSurrogate(root, "iaml_glmnet")
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("YAHPO scenario 'iaml_glmnet': cannot read ")
    assert str(root / "iaml_glmnet") in message and "model.onnx" in message
    assert "restore the scenario folder" in message
