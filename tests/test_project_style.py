"""House style is a test: ruff (lint and format) and mypy are clean on the whole project."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


needs_ruff = pytest.mark.skipif(
    shutil.which("ruff") is None and not (Path(sys.prefix) / "bin" / "ruff").exists(),
    reason="ruff is not installed (it comes with the `test` extra)",
)


@needs_ruff
def test_ruff_clean() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "."], cwd=REPO, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


@needs_ruff
def test_ruff_format_clean() -> None:
    # Checked, never applied here: a failure lists the files, and `ruff format .` fixes them.
    proc = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--check", "."], cwd=REPO, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.slow
def test_mypy_clean() -> None:
    pytest.importorskip("mypy", reason="mypy is not installed (it comes with the `test` extra)")
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "bench", "tasks", "optimizers", "analysis"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
