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
    assert len(list((tmp_path / "single" / "runs").glob("*.parquet"))) == 1
