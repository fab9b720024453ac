"""The pre-commit config runs the house-style checks offline: ruff, ruff format (check only) and mypy
on the four packages, each a local hook of the project's own environment."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
CONFIG = REPO / ".pre-commit-config.yaml"
#: The packages mypy checks, as the style test of the suite runs it.
TYPED = ("bench", "tasks", "optimizers", "analysis")


def _hooks() -> dict[str, dict[str, Any]]:
    config = yaml.safe_load(CONFIG.read_text())
    return {hook["id"]: {**hook, "repo": repo["repo"]} for repo in config["repos"] for hook in repo["hooks"]}


def test_the_three_hooks_are_local_and_use_the_project_environment() -> None:
    hooks = _hooks()
    assert {"ruff", "ruff-format", "mypy"} <= set(hooks), sorted(hooks)
    for hook_id in ("ruff", "ruff-format", "mypy"):
        hook = hooks[hook_id]
        # A remote repo or a managed language would download an environment on first use.
        assert hook["repo"] == "local", hook
        assert hook["language"] == "system", hook


def test_each_hook_runs_what_it_says() -> None:
    hooks = _hooks()
    assert hooks["ruff"]["entry"].split()[:2] == ["ruff", "check"]
    assert hooks["ruff-format"]["entry"].split()[:3] == ["ruff", "format", "--check"]
    mypy = hooks["mypy"]["entry"].split()
    assert mypy[0] == "mypy" and tuple(mypy[1:]) == TYPED
    # mypy checks whole packages: staged file names would narrow it to the files an edit touched.
    assert hooks["mypy"]["pass_filenames"] is False


def test_pre_commit_accepts_the_config() -> None:
    pytest.importorskip("pre_commit", reason="pre-commit is not installed (it comes with the `test` extra)")
    proc = subprocess.run(
        [sys.executable, "-m", "pre_commit", "validate-config", str(CONFIG)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
