"""Bad input: one-line errors naming the bad value and valid choices; nothing written is lost."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from bench.__main__ import main


def _one_line_error(proc) -> str:
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in proc.stderr
    return lines[0]


@pytest.fixture
def bench_main(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    """Call the CLI entry point in-process (same code path as ``python -m bench``, less start-up)."""
    monkeypatch.chdir(tmp_path)

    def run(*args: str) -> SimpleNamespace:
        rc = main(list(args))
        out = capsys.readouterr()
        return SimpleNamespace(returncode=rc, stdout=out.out, stderr=out.err)

    return run


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["optimizer=random_serch", "task=bbob/f01/d02/i01"], ["'random_serch'", "'random_search'"]),
        (["study=defualt"], ["'defualt'", "'default'"]),
        (["optimizer=random_search", "task=bbob/f01/d02/i99"], ["'bbob/f01/d02/i99'"]),
        (["optimizer=random_search", "task=bobb/f01/d02/i01"], ["'bobb/f01/d02/i01'", "bbob"]),
        (["optimizer=random_search", "task=bbob/f9*"], ["matches no task"]),
        (["study.taskset=nope"], ["taskset 'nope'"]),
        (["list=taks"], ["list='taks'", "tasks"]),
        (
            ["list=tasks", "filter=bbob/f0[1-5]/d05/i01"],
            ["quote glob patterns", "filter='bbob/f0[1-5]/d05/i01'"],
        ),
        (["optimizer=random_search", "task=bbob/f01/d02/i01", "n_trials=0"], ["n_trials=0 is invalid"]),
        (["optimizer=random_search", "task=bbob/f01/d02/i01", "n_trials=-3"], ["n_trials=-3 is invalid"]),
        (["optimizer=random_search", "task=bbob/f01/d02/i01", "seed=-1"], ["seed=-1", "[0, 4294967295]"]),
        (["optimizer=random_search", "task=bbob/f01/d02/i01", "seed=abc"], ["seed='abc'"]),
        (["optimizer=random_search", "task=bbob/f01/d02/i01", "n_jobs=0"], ["n_jobs=0 is invalid"]),
        (["optimizer=random_search", "task=bbob/f01/d02/i01", "time_budget=0"], ["time_budget=0 is invalid"]),
        (["optimizer=hyperband", "task=bbob/f01/d02/i01"], ["'hyperband'", "no fidelity"]),
        (["optimizer=random_search", "task=bbob/f01/d02/i01", "nonsense_key=1"], ["nonsense_key"]),
    ],
)
def test_bad_input_gives_one_line_error(bench_main, args: list[str], expected: list[str]) -> None:
    line = _one_line_error(bench_main(*args))
    for text in expected:
        assert text in line, line


def test_single_objective_optimizer_refused_on_multi_objective_task(bench_main) -> None:
    line = _one_line_error(bench_main("optimizer=optuna_tpe", "task=synthetic/zdt1"))
    assert "'optuna_tpe' cannot run task 'synthetic/zdt1'" in line and "objectives" in line


def test_unwritable_output_dir(bench_main, tmp_path: Path) -> None:
    blocker = tmp_path / "a_file"
    blocker.write_text("not a directory")
    line = _one_line_error(
        bench_main("optimizer=random_search", "task=bbob/f01/d02/i01", f"output_dir={blocker}/sub")
    )
    assert "output_dir=" in line and "not writable" in line


def test_bad_rerun_loses_nothing(run_cli, tmp_path: Path) -> None:
    ok = run_cli("optimizer=random_search", "task=bbob/f01/d02/i01", "n_trials=5")
    assert ok.returncode == 0, ok.stderr
    files = {p: p.read_bytes() for p in (tmp_path / "results").rglob("*.parquet")}
    assert files
    _one_line_error(run_cli("optimizer=random_search", "task=bbob/f01/d02/i01", "n_trials=0"))
    _one_line_error(run_cli("optimizer=random_serch", "task=bbob/f01/d02/i01"))
    assert {p: p.read_bytes() for p in (tmp_path / "results").rglob("*.parquet")} == files


@pytest.mark.parametrize("kind", ["tasks", "optimizers", "tasksets", "studies"])
def test_listings(bench_main, kind: str) -> None:
    proc = bench_main(f"list={kind}")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip()


def test_task_listing_filters_by_type_and_kind(bench_main) -> None:
    proc = bench_main("list=tasks", "filter=synthetic/*", "task_type=mf")
    assert proc.returncode == 0, proc.stderr
    assert "synthetic/mfh3 " in proc.stdout and "synthetic/branin" not in proc.stdout
    line = _one_line_error(bench_main("list=tasks", "task_kind=tabluar"))
    assert "task_kind='tabluar'" in line and "tabular" in line


def test_task_listing_filter(bench_main) -> None:
    proc = bench_main("list=tasks", "filter='bbob/f01/d0[25]/i01'")
    assert proc.returncode == 0, proc.stderr
    assert "bbob/f01/d02/i01" in proc.stdout and "bbob/f01/d05/i01" in proc.stdout
    assert "# 2 tasks" in proc.stdout


def test_task_listing_that_matches_nothing_says_so(bench_main) -> None:
    """A filter that matches no task gets a line naming it and what ids look like, not an empty table."""
    proc = bench_main("list=tasks", "filter='bbob/f99/*'", "task_type=mf")
    assert proc.returncode == 0, proc.stderr
    lines = [ln for ln in proc.stdout.splitlines() if not ln.startswith("# family ")]
    assert lines == [
        "# 0 tasks match filter='bbob/f99/*', task_type='mf': task ids look like bbob/f01/d05/i01 or "
        "fcnet/naval_propulsion (python -m bench list=tasks lists them all)"
    ], proc.stdout
