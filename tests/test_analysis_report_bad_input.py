"""``python -m analysis report`` on bad input: one ``error:`` line naming the value, exit 2, nothing written.

The study is a real one (``python -m bench`` on two bbob tasks), so the refusals are those a user
meets: bbob tasks report no simulated cost (every ``sim_time`` is 0), a hand-edited ``study.json``,
a taskset file with a YAML syntax error, options out of range.
"""

from __future__ import annotations

import importlib.util
import math
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from analysis import load

REPO = Path(__file__).resolve().parents[1]
Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """2 optimizers x bbob f01, f02 (d02, i01) x 2 seeds x 10 trials, run by ``python -m bench``."""
    if importlib.util.find_spec("cocoex") is None:
        pytest.skip("module 'cocoex' is not installed: the bbob tasks need coco-experiment")
    cwd = tmp_path_factory.mktemp("study")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    }
    env.pop("NXMBENCH_CONFIG_PATH", None)
    args = ["optimizer=random_search,ng_oneplusone", "task=bbob/f01/d02/i01,bbob/f02/d02/i01", "seed=0,1"]
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "-m",
            *args,
            "n_trials=10",
            "name=bb",
            "output_dir=OUT",
            "progress=false",
        ],
        cwd=cwd,
        env=env,
        text=True,
        capture_output=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return cwd / "OUT" / "bb"


def _refused(proc: subprocess.CompletedProcess[str], out: Path) -> str:
    """The one ``error:`` line of a refused report; no traceback, no report written."""
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert not out.exists(), "a refused report wrote files"
    return lines[0]


def _report(bench: Run, cwd: Path, results: Path | str, *args: str) -> subprocess.CompletedProcess[str]:
    return bench(cwd, "report", str(results), "--out", str(cwd / "report"), *args, module="analysis")


def test_a_taskset_file_that_does_not_parse_is_one_line(study: Path, bench: Run, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("tasks: [unclosed\n")
    line = _refused(
        _report(bench, tmp_path, study, "--no-figures", "--taskset", str(bad)), tmp_path / "report"
    )
    assert f"cannot parse taskset file {bad} line 2 column 1" in line and "fix the YAML syntax" in line
    bad.write_bytes(b"tasks: [\xff]\n")
    line = _refused(
        _report(bench, tmp_path, study, "--no-figures", "--taskset", str(bad)), tmp_path / "report"
    )
    assert f"taskset file {bad} is not UTF-8 text" in line


def test_a_budget_axis_the_results_do_not_record_is_named(study: Path, bench: Run, tmp_path: Path) -> None:
    # bbob tasks have no simulated cost: every sim_time is 0, and the curves have no axis to stand on.
    line = _refused(_report(bench, tmp_path, study, "--x", "sim_time"), tmp_path / "report")
    assert "--x sim_time: these results have no simulated time" in line, line
    assert "valid choices here: ['trials', 'budget_used', 'wall_time']" in line, line
    # The other axes, each made degenerate in a results file of the same trials.
    df = load(study)
    df["wall_time"] = 0.0
    df["budget_used"] = math.nan
    flat = tmp_path / "flat.parquet"
    df.to_parquet(flat, index=False)
    for axis, meaning in (("wall_time", "wall-clock time"), ("budget_used", "budget used")):
        line = _refused(_report(bench, tmp_path, flat, "--no-figures", "--x", axis), tmp_path / "report")
        assert f"--x {axis}: these results have no {meaning}" in line, line
        assert "valid choices here: ['trials']" in line, line
    for axis in ("trials", "budget_used", "wall_time"):  # recorded: the report is written
        proc = _report(bench, tmp_path, study, "--no-figures", "--x", axis)
        assert proc.returncode == 0 and not proc.stderr, proc.stderr
        shutil.rmtree(tmp_path / "report")


def test_an_unknown_baseline_is_refused_naming_the_optimizers(
    study: Path, bench: Run, tmp_path: Path
) -> None:
    line = _refused(_report(bench, tmp_path, study, "--no-figures", "--baseline", "foo"), tmp_path / "report")
    assert "--baseline 'foo' is not an optimizer of these results" in line, line
    assert "valid choices: ['ng_oneplusone', 'random_search']" in line, line
    # A study without random_search still gets its report: the default baseline is optional.
    proc = _report(bench, tmp_path, study, "--no-figures", "--baseline", "ng_oneplusone")
    assert proc.returncode == 0, proc.stderr
    assert "W/T/L vs ng_oneplusone" in (tmp_path / "report" / "report.md").read_text()


@pytest.mark.parametrize(
    ("args", "expect"),
    [
        (["--alpha", "2"], "--alpha 2.0 must lie strictly between 0 and 1"),
        (["--alpha", "nan"], "--alpha nan must lie strictly between 0 and 1"),
        (["--alpha", "0"], "--alpha 0.0 must lie strictly between 0 and 1"),
        (["--n-boot", "-1"], "--n-boot -1 must be >= 0"),
        (["--baselines", ""], "--baselines '' names no archive: use 'archive'"),
        (["--baseline", ""], "--baseline '' names no optimizer"),
        (["--held-out", " , "], "--held-out ' , ' names no optimizer"),
    ],
)
def test_options_are_checked_before_the_data(
    study: Path, bench: Run, tmp_path: Path, args: list[str], expect: str
) -> None:
    # 2 tasks: too few for the statistical tests, which used to be the only check of --alpha.
    line = _refused(_report(bench, tmp_path, study, "--no-figures", *args), tmp_path / "report")
    assert expect in line, line
    # Independent of the data: the same line where there are no results at all.
    line = _refused(_report(bench, tmp_path, tmp_path / "missing", *args), tmp_path / "report")
    assert expect in line, line


def test_a_malformed_study_json_is_refused_naming_it(study: Path, bench: Run, tmp_path: Path) -> None:
    copy = tmp_path / "bb"
    shutil.copytree(study, copy)
    for text in ("{oops\n", "[1, 2]\n"):
        (copy / "study.json").write_text(text)
        line = _refused(_report(bench, tmp_path, copy, "--no-figures"), tmp_path / "report")
        assert f"{copy / 'study.json'}" in line and "fix or move the file" in line, line
    # What python -m bench says of the same file, so both commands read it alike.
    proc = bench(
        tmp_path,
        "-m",
        "optimizer=random_search",
        "task=bbob/f01/d02/i01",
        "seed=0",
        "n_trials=10",
        "name=bb",
        f"output_dir={tmp_path}",
    )
    assert proc.returncode == 2 and line in proc.stderr, proc.stderr


def test_a_file_that_is_not_results_says_what_was_expected(bench: Run, tmp_path: Path) -> None:
    text = tmp_path / "hostname"
    text.write_text("node1\n")
    line = _refused(_report(bench, tmp_path, text), tmp_path / "report")
    assert f"{text} is not a results folder or a result file" in line, line
    assert "corrupt" not in line and "re-run" not in line, line
    assert "give a study folder, its runs/ folder or one run file (.parquet)" in line, line


def test_a_baselines_folder_whose_manifest_is_not_an_object_is_named(
    study: Path, bench: Run, tmp_path: Path
) -> None:
    archive = tmp_path / "archive"
    archive.mkdir()
    for text in ("[]\n", "{oops\n"):
        (archive / "manifest.json").write_text(text)
        proc = _report(bench, tmp_path, study, "--no-figures", "--baselines", str(archive))
        line = _refused(proc, tmp_path / "report")
        assert f"the archive manifest {archive / 'manifest.json'}" in line, line
