"""``python -m analysis``: an unknown option, a bad choice or a missing argument is one line, exit 2.

argparse prints its usage block (up to a dozen lines) before the message; the suite's rule for bad
input is one line naming the bad value and what would be valid, for every command of the analysis
CLI, also those with their own parsers (export-coco, export-ioh, import-carps).
"""

from __future__ import annotations

from pathlib import Path

import pytest

CASES = [
    (["--bogus"], "unrecognized arguments: --bogus"),
    (["nonsense"], "invalid choice: 'nonsense'"),
    (["report"], "the following arguments are required: results"),
    (["report", "results/x", "--bogus"], "unrecognized arguments: --bogus"),
    (["report", "results/x", "--x", "epochs"], "invalid choice: 'epochs'"),
    (["report", "results/x", "--alpha", "high"], "invalid float value: 'high'"),
    (["baselines", "extra"], "unrecognized arguments: extra"),
    (["subset", "--k"], "expected one argument"),
    (["scores", "results/x"], "the following arguments are required: --out"),
    (["export-coco"], "the following arguments are required: results"),
    (["export-coco", "results/x", "--bogus"], "unrecognized arguments: --bogus"),
    (["export-ioh", "results/x", "--bogus"], "unrecognized arguments: --bogus"),
    (["import-carps"], "the following arguments are required: logs"),
    (["import-carps", "logs/x", "--bogus"], "unrecognized arguments: --bogus"),
]


@pytest.mark.parametrize(("args", "expect"), CASES, ids=[" ".join(a) for a, _ in CASES])
def test_bad_option_is_one_line(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    args: list[str],
    expect: str,
) -> None:
    from analysis.__main__ import main

    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exc:
        main(args)
    assert exc.value.code == 2
    out, err = capsys.readouterr()
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and not out, (out, err)
    assert expect in lines[0], lines[0]
    assert "--help" in lines[0], lines[0]  # where the valid options are listed
    assert not any(tmp_path.iterdir()), "a refused command wrote files"


def test_bad_option_through_the_command_line(bench, one_line_error, tmp_path: Path) -> None:
    line = one_line_error(
        bench(tmp_path, "report", "results/x", "--x", "epochs", module="analysis"), tmp_path
    )
    assert "invalid choice: 'epochs'" in line and "python -m analysis report --help" in line


def test_help_still_prints_the_usage(bench, tmp_path: Path) -> None:
    proc = bench(tmp_path, "report", "--help", module="analysis")
    assert proc.returncode == 0 and "usage: python -m analysis report" in proc.stdout


VALUES = [
    (["subset", "results/x", "--n-random", "0"], "--n-random 0 must be >= 1"),
    (["subset", "results/x", "--time-budget", "nan"], "--time-budget nan must be > 0 seconds"),
    (["subset", "results/x", "--seed", "-1"], "--seed -1 must be >= 0"),
    (["report", "results/x", "--alpha", "2"], "--alpha 2.0 must lie strictly between 0 and 1"),
    (["report", "results/x", "--baselines", ""], "--baselines '' names no archive"),
]


@pytest.mark.parametrize(("args", "expect"), VALUES, ids=[" ".join(a) for a, _ in VALUES])
def test_bad_option_value_is_refused_before_the_data(
    bench, one_line_error, tmp_path: Path, args: list[str], expect: str
) -> None:
    # No results at results/x: the option's own line comes first, whatever the data would be.
    line = one_line_error(bench(tmp_path, *args, module="analysis"), tmp_path)
    assert expect in line and "no results" not in line, line
    assert not any(tmp_path.iterdir()), "a refused command wrote files"
