"""The worked example in docs/adding-an-optimizer.md passes the contract suite and runs."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bench.contract import check_optimizer

DOC = Path(__file__).resolve().parents[1] / "docs" / "adding-an-optimizer.md"


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", DOC.read_text(), flags=re.S)


@pytest.fixture
def example(tmp_path: Path) -> Path:
    (tmp_path / "my_optimizers").mkdir()
    (tmp_path / "my_optimizers" / "local_es.py").write_text(_blocks("python")[0])
    (tmp_path / "my_conf" / "optimizer").mkdir(parents=True)
    (tmp_path / "my_conf" / "optimizer" / "local_es.yaml").write_text(_blocks("yaml")[0])
    return tmp_path


def test_example_passes_the_contract_suite(example: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(example / "my_optimizers"))
    monkeypatch.setenv("NXMBENCH_CONFIG_PATH", str(example / "my_conf"))
    report = check_optimizer("local_es")
    assert "contract/mixed" in report.checked
    assert any("conditional" in why for _, why in report.not_applicable)


def test_example_runs_through_the_cli(example: Path) -> None:
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join([str(example / "my_optimizers"), str(DOC.parents[1])]),
        NXMBENCH_CONFIG_PATH=str(example / "my_conf"),
    )
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "optimizer=local_es",
            "task=bbob/f01/d05/i01",
            "seed=0",
            "n_trials=100",
            "n_jobs=1",
        ],
        cwd=example,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "local_es" in proc.stdout
    from bench.results import load

    df = load(example / "results" / "single")
    assert len(df) == 100
    # the ES must make progress on the sphere: the best of the last half beats the first 10 trials
    assert df["value"].iloc[50:].min() < df["value"].iloc[:10].min()
