"""End-to-end report on a small mixed study, and the command line."""

from __future__ import annotations

import base64
from pathlib import Path

import pandas as pd
import pytest

from analysis.__main__ import main
from analysis.report import build_report, write_report
from analysis.synthetic import synthetic_results


@pytest.fixture(scope="module")
def study() -> pd.DataFrame:
    df = synthetic_results(
        n_tasks=8,
        n_optimizers=3,
        n_seeds=2,
        n_trials=12,
        task_types=("bb", "mf", "mo", "bb"),
        optimizer_names=["random_search", "b", "c"],
    )
    # One crashed run and one missing run must be reported, not dropped silently.
    crashed = df["run_id"].iloc[0]
    df.loc[df["run_id"] == crashed, "run_status"] = "crashed"
    return df[df["run_id"] != df["run_id"].iloc[-1]].reset_index(drop=True)


def test_report_contents(study: pd.DataFrame, tmp_path: Path) -> None:
    meta = pd.DataFrame(
        {
            "run_id": ["x"],
            "versions": [{"python": "3.11", "numpy": "2.4"}],
            "host": [{"name": "node1", "cpus": 2}],
        }
    )
    rep = build_report(study, runs_meta=meta, n_boot=50)
    lb = rep.tables["leaderboard"]
    assert lb.index[-1] == "random_search"
    assert "W/T/L vs random_search" in lb.columns
    assert lb["failed or missing runs"].sum() == 2
    assert {
        "cd_nemenyi",
        "regret_curves",
        "ranks_over_budget",
        "performance_profile",
        "bbob_ecdf",
        "task_heatmap",
        "cd_hv",
        "hv_regret_curves",
    } <= set(rep.figures)
    assert rep.tables["mo_leaderboard"].index[-1] == "random_search"
    html_path, md_path = write_report(rep, tmp_path)
    html = html_path.read_text()
    assert html.count("data:image/png;base64,") == len(rep.figures)
    first = html.split("data:image/png;base64,")[1].split('"')[0]
    assert base64.b64decode(first)[:8] == b"\x89PNG\r\n\x1a\n"
    assert "Run environment: numpy 2.4, python 3.11" in html and "2 failed" not in html
    md = md_path.read_text()
    assert "| optimizer | mean rank [95% CI]" in md
    assert "1 missing; 1 failed" in md
    assert all((tmp_path / "figures" / f"{n}.png").exists() for n in rep.figures)


def test_report_degrades_without_metadata_and_with_two_optimizers() -> None:
    df = synthetic_results(n_tasks=3, n_optimizers=2, n_seeds=1, n_trials=5)
    rep = build_report(df, baseline="not_there", n_boot=20, figures=False)
    assert rep.figures == {} and "![" not in rep.markdown()
    assert "Run metadata not available" in rep.markdown()
    assert rep.tables["leaderboard"].index.tolist() == ["opt1", "opt0"]


def test_cli_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    assert "report" in capsys.readouterr().out


def test_cli_report_on_run_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import pyarrow as pa

    from bench.results import TRIAL_SCHEMA, write_run

    df = synthetic_results(n_tasks=2, n_optimizers=2, n_seeds=1, n_trials=5)
    df["values"] = df["values"].map(list).astype(object)
    runs = tmp_path / "study" / "runs"
    for run_id, g in df.groupby("run_id"):
        table = pa.Table.from_pandas(g, schema=TRIAL_SCHEMA, preserve_index=False)
        first = g.iloc[0]
        meta = {
            "run_id": run_id,
            "study": "study",
            "status": "ok",
            "error": None,
            "n_trials": len(g),
            "spec": {"task": first["task"], "optimizer": first["optimizer"], "seed": int(first["seed"])},
            "versions": {"python": "3.11", "nxm-bench": "0.1.0"},
            "host": {"name": "n1", "cpus": 2},
        }
        write_run(runs / f"{run_id}.parquet", table, meta)
    out = tmp_path / "out"
    assert main(["report", str(tmp_path / "study"), "--out", str(out), "--n-boot", "20", "--no-figures"]) == 0
    assert "wrote" in capsys.readouterr().out
    html = (out / "report.html").read_text()
    assert "Run environment: nxm-bench 0.1.0, python 3.11" in html and "4 of 4 runs present" in html
