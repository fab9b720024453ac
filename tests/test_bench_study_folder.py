"""A study folder keeps one meaning: a plan that would replace or mix with its runs is refused.

Most tests go through ``python -m bench`` in a subprocess, as a user would: a tiny study runs, then
a second command changes one setting. The second is refused with one line (exit 2) and every old
file stays byte-identical, or, with ``move_old_runs=true``, exactly the conflicting runs move into
``superseded/<UTC time>/runs/`` and nothing is deleted. Extending or narrowing the grid with the
same settings resumes, and ``study.json`` keeps the history of plans.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow.parquet as pq
import pytest

from bench.results import read_run_meta, write_run

if TYPE_CHECKING:
    from bench.config import StudyConfig
    from bench.plan import Plan

REPO = Path(__file__).resolve().parents[1]
PLUGINS = Path(__file__).resolve().parent / "plugins"

Cli = Callable[..., subprocess.CompletedProcess[str]]

#: 2 optimizers × 2 multi-fidelity tasks with simulated cost × 2 seeds = 8 runs of 3 trials.
#: ``my_asha`` is ASHA from a user's optimizer YAML (:func:`_my_asha`), which a test edits.
MINI = """
    name: mini
    optimizers: [random_search, my_asha]
    tasks: [synthetic/mfh3, synthetic/mfh6]
    seeds: 2
    n_trials: 3
"""
FAST = ("progress=false", "n_jobs=1")
PAIR = ("optimizer=random_search", "task=bbob/f01/d02/i01", "seed=0", *FAST)


def _snapshot(folder: Path) -> dict[str, str]:
    """SHA-256 of every run file and study.json under ``folder`` (hidden caches aside)."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.name.startswith(".")
    }


def _plans(study_dir: Path) -> list[dict]:
    return json.loads((study_dir / "study.json").read_text())["plans"]


def _error_line(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    return lines[0]


def _my_asha(conf: Path, eta: int) -> None:
    """Write (or edit) the user's ``optimizer/my_asha.yaml``: ASHA with ``eta``."""
    (conf / "optimizer").mkdir(parents=True, exist_ok=True)
    text = f"_target_: optimizers.asha.ASHA\nparams:\n  eta: {eta}\n"
    (conf / "optimizer" / "my_asha.yaml").write_text(text)


def _mini(run_cli: Cli, study_conf: Callable[[str, str], Path], *args: str) -> Path:
    conf = study_conf("mini", MINI)
    _my_asha(conf, 3)
    proc = run_cli("study=mini", *args, *FAST, extra_conf=conf)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return conf


def test_issue_scenario_forgotten_task_is_refused_and_nothing_changes(
    run_cli: Cli, study_conf: Callable[[str, str], Path], tmp_path: Path
) -> None:
    # The issue: `python -m bench optimizer=optuna_tpe n_trials=10` (task= forgotten) ran into the
    # study's folder, replaced its finished runs and rewrote study.json with one optimizer.
    conf = _mini(run_cli, study_conf)
    study_dir = tmp_path / "results" / "mini"
    before = _snapshot(study_dir)
    proc = run_cli("study=mini", "optimizer=asha", "n_trials=2", *FAST, extra_conf=conf)
    line = _error_line(proc)
    assert f"study folder {Path('results') / 'mini'} " in line
    assert "n_trials 3 → 2 (8 runs)" in line
    assert "name=NEW_NAME" in line and "output_dir=" in line and "move_old_runs=true" in line
    assert _snapshot(study_dir) == before  # every run file and study.json byte-identical
    plans = _plans(study_dir)
    assert len(plans) == 1 and plans[0]["budget"]["n_trials"] == 3
    assert [o["id"] for o in plans[0]["optimizers"]] == ["random_search", "my_asha"]
    assert not (study_dir / "superseded").exists()


@pytest.mark.parametrize(
    ("first", "second", "phrase"),
    [
        (("time_budget=100",), ("time_budget=50",), "time_budget 100 → 50 (8 runs)"),
        (("n_workers=2",), ("n_workers=3",), "n_workers 2 → 3 (8 runs)"),
        (("trial_timeout=30",), ("trial_timeout=60",), "trial_timeout 30 → 60 (8 runs)"),
        ((), ("run_timeout=600",), "run_timeout none → 600 (8 runs)"),
    ],
)
def test_each_setting_that_changes_what_a_run_means_is_refused(
    run_cli: Cli,
    study_conf: Callable[[str, str], Path],
    tmp_path: Path,
    first: tuple[str, ...],
    second: tuple[str, ...],
    phrase: str,
) -> None:
    conf = _mini(run_cli, study_conf, *first)
    study_dir = tmp_path / "results" / "mini"
    before = _snapshot(study_dir)
    line = _error_line(run_cli("study=mini", *second, *FAST, extra_conf=conf))
    assert phrase in line, line
    assert _snapshot(study_dir) == before


def test_an_edited_optimizer_yaml_is_refused(
    run_cli: Cli, study_conf: Callable[[str, str], Path], tmp_path: Path
) -> None:
    conf = _mini(run_cli, study_conf)
    study_dir = tmp_path / "results" / "mini"
    before = _snapshot(study_dir)
    _my_asha(conf, 2)  # the same id now means other params
    line = _error_line(run_cli("study=mini", *FAST, extra_conf=conf))
    assert "optimizer my_asha params {eta: 3} → {eta: 2} (4 runs)" in line, line
    assert _snapshot(study_dir) == before


def test_params_from_the_command_line_are_a_variant_of_their_own(
    run_cli: Cli, study_conf: Callable[[str, str], Path], tmp_path: Path
) -> None:
    # optimizer.params.* on the command line makes an optimizer of its own (my_asha@eta=2): its runs
    # join the study beside my_asha's instead of conflicting with them
    conf = _mini(run_cli, study_conf)
    study_dir = tmp_path / "results" / "mini"
    before = _snapshot(study_dir)
    proc = run_cli("study=mini", "optimizer=my_asha", "optimizer.params.eta=2", *FAST, extra_conf=conf)
    assert proc.returncode == 0, proc.stderr
    after = _snapshot(study_dir)
    assert all(after[name] == digest for name, digest in before.items() if name.endswith(".parquet"))
    assert len([n for n in after if "--my_asha@eta=2--" in n]) == 4


def _with_revision(tmp_path: Path, conf: Path, revision: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join([str(REPO), str(PLUGINS)]),
        NXMBENCH_TASK_MODULES="revision_plugin",
        NXMBENCH_CONFIG_PATH=str(conf),
        NXMBENCH_TEST_TASK_REVISION=revision,
    )
    return subprocess.run(
        [sys.executable, "-m", "bench", "study=rev", *args, *FAST],
        cwd=tmp_path,
        text=True,
        capture_output=True,
        env=env,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )


def test_a_revised_task_is_refused_then_moved_aside(
    study_conf: Callable[[str, str], Path], tmp_path: Path
) -> None:
    conf = study_conf(
        "rev",
        """
        name: rev
        optimizers: [random_search]
        tasks: [revised/a, revised/b]
        seeds: 2
        n_trials: 3
    """,
    )
    first = _with_revision(tmp_path, conf, "")
    assert first.returncode == 0, first.stderr
    study_dir = tmp_path / "results" / "rev"
    before = _snapshot(study_dir)
    line = _error_line(_with_revision(tmp_path, conf, "splits=2"))
    assert "tasks revised/a, revised/b revision '' → 'splits=2' (4 runs)" in line, line
    assert _snapshot(study_dir) == before

    moved = _with_revision(tmp_path, conf, "splits=2", "move_old_runs=true")
    assert moved.returncode == 0, moved.stderr
    assert "moved 4 conflicting runs (task revised/a, task revised/b) to " in moved.stdout
    assert {read_run_meta(f)["spec"]["task_revision"] for f in (study_dir / "runs").glob("*.parquet")} == {
        "splits=2"
    }
    assert _plans(study_dir)[-1]["tasks"]["revisions"] == {"revised/a": "splits=2", "revised/b": "splits=2"}


def test_a_planned_run_whose_file_holds_another_spec_is_refused(run_cli: Cli, tmp_path: Path) -> None:
    # The catch-all: settings the other checks do not know about (here a spec key of another
    # version) still change the fingerprint, and resume would re-run the run over the file.
    assert run_cli(*PAIR, "n_trials=3").returncode == 0
    study_dir = tmp_path / "results" / "single" / "random_search--bbob__f01__d02__i01"
    path = study_dir / "runs" / "bbob__f01__d02__i01--random_search--s0.parquet"
    meta = read_run_meta(path)
    meta["spec"] = {**meta["spec"], "sampler": "v0"}
    meta["fingerprint"] = "0123456789abcdef"
    write_run(path, pq.read_table(path), meta)
    before = _snapshot(study_dir)
    line = _error_line(run_cli(*PAIR, "n_trials=3"))
    assert "1 run with another spec (sampler differs): bbob__f01__d02__i01--random_search--s0" in line, line
    assert _snapshot(study_dir) == before


def test_move_old_runs_moves_exactly_the_conflicting_runs(
    run_cli: Cli, study_conf: Callable[[str, str], Path], tmp_path: Path
) -> None:
    from analysis import comparability_groups, load, load_runs

    conf = _mini(run_cli, study_conf)
    study_dir = tmp_path / "results" / "mini"
    before = _snapshot(study_dir)
    old_manifest = (study_dir / "study.json").read_bytes()
    _my_asha(conf, 2)  # the same id now means other params
    proc = run_cli("study=mini", "move_old_runs=true", *FAST, extra_conf=conf)
    assert proc.returncode == 0, proc.stderr
    moved_lines = [ln for ln in proc.stdout.splitlines() if "moved" in ln]
    assert len(moved_lines) == 1 and "moved 4 conflicting runs (optimizer my_asha) to " in moved_lines[0]
    (stamp,) = (study_dir / "superseded").iterdir()
    assert moved_lines[0].endswith(str(Path("results") / "mini" / "superseded" / stamp.name / "runs"))
    assert len(stamp.name) == len("20261206T012345Z") and stamp.name.endswith("Z")
    # The asha runs moved byte for byte, with the then study.json; random_search's did not move.
    after = _snapshot(study_dir)
    for name, digest in before.items():
        if name == "study.json":
            continue
        if "--my_asha--" in name:
            assert after[f"superseded/{stamp.name}/{name}"] == digest
        else:
            assert after[name] == digest
    assert (stamp / "study.json").read_bytes() == old_manifest
    assert len(list(study_dir.rglob("*.parquet"))) == 12  # 8 old (4 of them moved) + 4 new: none deleted

    runs = load_runs(study_dir)
    assert len(runs) == 8 and len(load(study_dir).groupby("run_id")) == 8
    specs = [m["spec"] for m in runs["meta"]]
    assert {s["optimizer_params"].get("eta") for s in specs if s["optimizer"] == "my_asha"} == {2}
    assert comparability_groups(runs) == []
    plans = _plans(study_dir)
    assert len(plans) == 2 and plans[1]["moved"]["runs"] == 4
    assert plans[1]["moved"]["to"] == f"superseded/{stamp.name}"
    assert "optimizer my_asha params {eta: 3} → {eta: 2} (4 runs)" in plans[1]["moved"]["because"]

    # The move set the first plan aside: the same command again just resumes.
    again = run_cli("study=mini", *FAST, extra_conf=conf)
    assert again.returncode == 0, again.stderr
    assert "study 'mini': resuming; 8 runs already done" in again.stdout


def test_single_pair_folder_is_checked_and_moved_whole_on_a_study_wide_change(
    run_cli: Cli, tmp_path: Path
) -> None:
    from analysis import load_runs

    pair = ("optimizer=random_search", "task=bbob/f01/d02/i01", *FAST)
    assert run_cli(*pair, "n_trials=5").returncode == 0
    study_dir = tmp_path / "results" / "single" / "random_search--bbob__f01__d02__i01"
    before = _snapshot(study_dir)
    line = _error_line(run_cli(*pair, "n_trials=6"))
    assert f"study folder {Path('results') / 'single' / study_dir.name} " in line
    assert "n_trials 5 → 6 (1 run)" in line
    assert _snapshot(study_dir) == before

    moved = run_cli(*pair, "n_trials=6", "move_old_runs=true")
    assert moved.returncode == 0, moved.stderr
    assert "moved 1 conflicting run (n_trials) to " in moved.stdout
    assert {m["spec"]["budget"]["n_trials"] for m in load_runs(study_dir)["meta"]} == {6.0}
    assert len(list((study_dir / "superseded").glob("*/runs/*.parquet"))) == 1
    again = run_cli(*pair, "n_trials=6", "move_old_runs=true")  # nothing conflicts now: nothing moves
    assert again.returncode == 0 and "moved" not in again.stdout, again.stdout + again.stderr
    assert len(list((study_dir / "superseded").iterdir())) == 1


def test_extending_seeds_reuses_finished_runs_and_narrowing_keeps_the_grid(
    run_cli: Cli, study_conf: Callable[[str, str], Path], tmp_path: Path
) -> None:
    from analysis.normalize import completeness, prepare
    from bench.results import load, load_runs, read_manifest

    conf = _mini(run_cli, study_conf)
    study_dir = tmp_path / "results" / "mini"
    before = _snapshot(study_dir)
    wider = run_cli("study=mini", "study.seeds=3", *FAST, extra_conf=conf)
    assert wider.returncode == 0, wider.stderr
    assert "study 'mini': resuming; 8 runs already done, 4 new runs (seed 2)" in wider.stdout
    assert "8 already done" in wider.stdout
    after = _snapshot(study_dir)
    assert all(after[name] == digest for name, digest in before.items() if name.endswith(".parquet"))

    narrower = run_cli("study=mini", "optimizer=random_search", *FAST, extra_conf=conf)
    assert narrower.returncode == 0, narrower.stderr
    assert (
        "study 'mini': resuming; 4 runs already done, 0 still to run; 8 runs of earlier plans outside "
        "this plan stay in the study"
    ) in narrower.stdout
    manifest = read_manifest(study_dir)
    assert manifest is not None and len(manifest["runs"]) == 12 and len(manifest["plans"]) == 3
    assert manifest["optimizers"] == ["random_search"]  # top-level keys describe the latest plan
    comp = completeness(prepare(load(study_dir)), load_runs(study_dir), manifest)
    assert (comp.expected, comp.complete, comp.unplanned, len(comp.missing)) == (12, 12, 0, 0)


def test_two_sweeps_started_at_once_both_record_their_plan(
    study_conf: Callable[[str, str], Path], tmp_path: Path
) -> None:
    from bench.study_folder import study_lock

    conf = study_conf("mini", MINI)
    _my_asha(conf, 3)
    env = dict(os.environ, PYTHONPATH=str(REPO), NXMBENCH_CONFIG_PATH=str(conf))
    study_dir = tmp_path / "results" / "mini"

    def start(*args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "bench", "study=mini", *args, *FAST],
            cwd=tmp_path,
            env=env,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
        )

    # While another start holds the study's lock, a sweep waits and writes nothing.
    with study_lock(study_dir):
        waiting = start()
        time.sleep(4)  # time to compose and plan; it then blocks on the lock
        assert waiting.poll() is None
        assert not (study_dir / "study.json").exists() and not list(study_dir.glob("runs/*.parquet"))
    assert waiting.wait(timeout=300) == 0, waiting.communicate()[1]

    both = [start(), start("study.seeds=3")]
    for proc in both:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, out + err
    plans = _plans(study_dir)
    assert len(plans) == 3 and sorted(len(p["seeds"]) for p in plans[1:]) == [2, 3]
    assert len(json.loads((study_dir / "study.json").read_text())["runs"]) == 12
    # the two sweeps raced over the same runs: one verified file per run, nothing else left
    from bench.integrity import verify_run_file

    names = sorted(p.name for p in (study_dir / "runs").iterdir())
    assert len(names) == 12 and all(n.endswith(".parquet") and not n.startswith(".") for n in names), names
    assert all(verify_run_file(study_dir / "runs" / n)["status"] == "ok" for n in names)


def test_an_unreadable_study_json_is_refused_and_kept(
    run_cli: Cli, study_conf: Callable[[str, str], Path], tmp_path: Path
) -> None:
    conf = _mini(run_cli, study_conf)
    manifest = tmp_path / "results" / "mini" / "study.json"
    manifest.write_text('{"plans": [')
    line = _error_line(run_cli("study=mini", *FAST, extra_conf=conf))
    assert str(Path("results") / "mini" / "study.json") in line and "plan history" in line
    assert manifest.read_text() == '{"plans": ['


# ----------------------------------------------------------------------------- in process


def _study(
    tmp_path: Path, n_trials: float = 3, seeds: tuple[int, ...] = (0,)
) -> tuple[Path, Plan, StudyConfig]:
    from bench.config import OptimizerChoice, StudyConfig
    from bench.plan import make_plan
    from optimizers.base import Budget

    rs = OptimizerChoice("random_search", "optimizers.random_search.RandomSearch")
    study = StudyConfig("s", (rs,), ("bbob/f01/d02/i01",), seeds, Budget(n_trials))
    return tmp_path / "s", make_plan(study), study


def test_a_study_json_without_history_becomes_its_first_entry(tmp_path: Path) -> None:
    from bench.results import write_manifest
    from bench.study_folder import StudyFolderConflict, prepare_study_folder

    study_dir, plan, study = _study(tmp_path)
    legacy = {**plan.manifest(study), "n_workers": 1}  # as written before study.json kept plans
    write_manifest(study_dir, legacy)
    assert prepare_study_folder(study_dir, plan, study) == [
        "study 's': resuming; 0 runs already done, 1 still to run"
    ]
    plans = _plans(study_dir)
    assert len(plans) == 2 and plans[0]["recorded"] == "before study.json kept a plan history"
    assert plans[0]["budget"] == {"n_trials": 3.0, "time": None}
    _, other_plan, other = _study(tmp_path, n_trials=4)
    with pytest.raises(StudyFolderConflict, match="n_trials 3 \\(planned; no run in the folder\\) → 4"):
        prepare_study_folder(study_dir, other_plan, other)


def test_scan_reads_a_rewritten_file_again_and_skips_a_damaged_one(run_cli: Cli, tmp_path: Path) -> None:
    from bench.study_folder import INDEX_FILE, scan_runs

    assert (
        run_cli(
            "optimizer=random_search", "task=bbob/f01/d02/i01", "n_trials=3", "seed=0,1,2", "-m", *FAST
        ).returncode
        == 0
    )
    study_dir = tmp_path / "results" / "single" / "random_search--bbob__f01__d02__i01"
    first = scan_runs(study_dir)
    assert [r.run_id for r in first] == [f"bbob__f01__d02__i01--random_search--s{i}" for i in (0, 1, 2)]
    assert (study_dir / INDEX_FILE).is_file()
    path = study_dir / "runs" / f"{first[0].name}"
    meta = read_run_meta(path)
    write_run(path, pq.read_table(path), {**meta, "fingerprint": "feedfeedfeedfeed"})
    (study_dir / "runs" / first[1].name).write_bytes(b"not parquet")
    again = scan_runs(study_dir)
    assert [(r.run_id, r.fingerprint) for r in again] == [
        (first[0].run_id, "feedfeedfeedfeed"),
        (first[2].run_id, first[2].fingerprint),
    ]


def test_a_second_move_in_the_same_second_gets_its_own_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bench import study_folder
    from bench.results import run_files

    monkeypatch.setattr(study_folder, "_stamp", lambda: "20261206T012345Z")
    runs = tmp_path / "runs"
    runs.mkdir()
    for name in ("a.parquet", "b.parquet"):
        (runs / name).write_bytes(name.encode())
    first = study_folder.move_runs_aside(tmp_path, ["a.parquet"])
    second = study_folder.move_runs_aside(tmp_path, ["b.parquet"])
    assert (first.name, second.name) == ("20261206T012345Z", "20261206T012345Z-2")
    assert (first / "runs" / "a.parquet").read_bytes() == b"a.parquet"
    assert (second / "runs" / "b.parquet").read_bytes() == b"b.parquet"
    assert run_files(tmp_path) == []  # superseded runs are never part of the study
