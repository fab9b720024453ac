"""The worked example in docs/adding-a-task-family.md: its module passes the harness, its values
are the functions' real minima, and its shell and Python steps run as written."""

from __future__ import annotations

import doctest
import importlib
import itertools
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from bench.testing import check_task_family

DOC = Path(__file__).resolve().parents[1] / "docs" / "adding-a-task-family.md"


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", DOC.read_text(), flags=re.S)


@pytest.fixture
def example(tmp_path: Path) -> Path:
    (tmp_path / "my_tasks").mkdir()
    (tmp_path / "my_tasks" / "classic.py").write_text(_blocks("python")[0])
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_classic.py").write_text(_blocks("python")[1])
    return tmp_path


@pytest.fixture
def classic(example: Path, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.syspath_prepend(str(example / "my_tasks"))
    monkeypatch.delitem(sys.modules, "classic", raising=False)
    return importlib.import_module("classic")


def test_example_passes_the_harness_and_its_session_runs(classic: ModuleType) -> None:
    report = check_task_family(classic.ClassicFamily(), max_tasks=3)
    assert report.ok and len(report.checked) == 3, report.lines()
    session = doctest.DocTestParser().get_doctest(_blocks("pycon")[0], {}, "guide", str(DOC), 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    runner.run(session)
    assert runner.summarize(verbose=False).failed == 0


def test_declared_minima_are_the_functions_real_minima(classic: ModuleType) -> None:
    """No evaluation on a fine grid nor a local search started from its best point goes below the
    declared optimum, and the local search reaches it."""
    from scipy.optimize import minimize

    for name, (func, xb, yb, minimum, _) in classic.FUNCTIONS.items():
        task = classic.ClassicTask(name)
        grid = list(itertools.product(np.linspace(xb[0], xb[1], 241), np.linspace(yb[0], yb[1], 241)))
        values = [func(x, y) for x, y in grid]
        start = grid[int(np.argmin(values))]
        found = minimize(
            lambda v: func(v[0], v[1]),  # noqa: B023
            start,
            method="Nelder-Mead",
            options={"xatol": 1e-12, "fatol": 1e-14, "maxiter": 20_000},
        )
        assert min(values) >= minimum and found.fun >= minimum - 1e-12, name
        assert found.fun == pytest.approx(minimum, abs=1e-9), name
        assert task.meta.optimum == (minimum,)


def test_entry_point_snippet_names_the_task_family_group() -> None:
    group = tomllib.loads(_blocks("toml")[0])["project"]["entry-points"]["nxm_bench.task_families"]
    assert list(group) == ["classic"] and group["classic"].endswith(".classic")


def test_shell_steps_run_as_written(example: Path) -> None:
    pytest.importorskip("optuna")  # the study compares random search with Optuna's TPE
    env = {k: v for k, v in os.environ.items() if not k.startswith("NXMBENCH_")}
    env["PYTHONPATH"] = str(DOC.parents[1])  # where bench is, if it is not installed
    # The page's bash blocks in order, as one script: the export of step 3 holds for the others.
    script = "set -euo pipefail\n" + "\n".join(_blocks("bash")).replace(
        "export PYTHONPATH=my_tasks", f"export PYTHONPATH=my_tasks{os.pathsep}$PYTHONPATH"
    )
    proc = subprocess.run(
        ["bash", "-c", script], cwd=example, env=env, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for line in (
        "classic/six_hump_camel           bb    synthetic     2",
        "# 3 tasks: classic 3",
        *_blocks("text")[0].splitlines(),
        "1 passed",
    ):
        assert line in proc.stdout, line
    assert "optuna_tpe" in proc.stdout and "random_search" in proc.stdout  # the leaderboard

    analysis = subprocess.run(
        [sys.executable, "-c", _blocks("python")[2]],
        cwd=example,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert analysis.returncode == 0, analysis.stderr
    table = analysis.stdout.splitlines()
    assert "optuna_tpe" in table[0] and "random_search" in table[0]
    assert {line.split()[0] for line in table[2:]} == {
        "classic/goldstein_price",
        "classic/himmelblau",
        "classic/six_hump_camel",
    }

    from bench.results import load

    df = load(example / "results" / "classic")
    assert len(df) == 2 * 3 * 3 * 40
    assert set(df["family"]) == {"classic"} and set(df["task_type"]) == {"bb"}
    six = df[df["task"] == "classic/six_hump_camel"]
    assert set(six["optimum"]) == {-1.0316284534898774}
    assert (six["value"] >= -1.0316284534898774).all()
