"""End-to-end report on small mixed studies (per-type sections, manifest, directions) and the CLI."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from analysis.__main__ import main
from analysis.report.build import build_report, write_report
from analysis.synthetic import synthetic_results


@pytest.fixture(scope="module")
def study() -> pd.DataFrame:
    df = synthetic_results(
        n_tasks=24,  # 12 bb, 6 mf, 6 mo: enough complete tasks for the tests of every type
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
    # One leaderboard per task type, each with the worst optimizer last.
    for t in ("bb", "mf", "mo"):
        lb = rep.tables[f"leaderboard_{t}"]
        assert lb.index[-1] == "random_search", t
        assert "W/T/L vs random_search" in lb.columns and "anytime AUC ↓" in lb.columns
    # The crashed and the missing run are both on black-box tasks (types cycle bb, mf, mo, bb).
    assert rep.tables["leaderboard_bb"]["failed or missing runs"].sum() == 2
    assert rep.tables["leaderboard_mo"]["failed or missing runs"].sum() == 0
    assert {
        "cd_nemenyi_bb",
        "regret_curves_bb",
        "ranks_over_budget_mf",
        "performance_profile_bb",
        "bbob_ecdf_bb",
        "task_heatmap_bb",
        "cd_nemenyi_mo",
        "hv_regret_curves_mo",
        "family_ranks",
    } <= set(rep.figures)
    assert "performance_profile_mo" not in rep.figures
    # rliable-style aggregates per type: IQM etc. with intervals, improvement over the baseline
    agg = rep.tables["aggregates_bb"]
    assert set(agg["metric"]) == {"iqm", "mean", "median", "optimality_gap"}
    assert (agg["lower"] <= agg["estimate"]).all() and (agg["estimate"] <= agg["upper"]).all()
    poi = rep.tables["improvement_mo"]
    assert len(poi) == 3 * 2 and poi["p"].between(0, 1).all()
    assert {"aggregates_bb", "improvement_bb", "score_distribution_mf"} <= set(rep.figures)
    # multi-objective views: IGD+ beside HV regret, attainment surfaces and fronts of a few tasks
    assert "mean IGD+ ↓" in rep.tables["leaderboard_mo"].columns
    assert rep.tables["igd_plus_mo"]["igd_plus"].ge(0).all()
    assert {"attainment_mo_0", "pareto_front_mo_0"} <= set(rep.figures)
    assert not any(f.startswith("attainment_bb") for f in rep.figures)
    # Bayesian signed-rank tests against the baseline, every other optimizer once
    bay = rep.tables["bayesian_mo"]
    assert sorted(bay["a"].tolist() + bay["b"].tolist()).count("random_search") == len(bay) == 2
    total = bay[["p_a_better", "p_equivalent", "p_b_better"]].sum(axis=1)
    assert np.allclose(total, 1.0) and "bayesian_bb" in rep.figures
    # fixed targets (COCO's aRT) on the single-objective types only
    ert = rep.tables["ert_bb"]
    assert {"ert", "n_success", "n_runs"} <= set(ert.columns) and (ert["n_success"] <= ert["n_runs"]).all()
    assert "runtime_ecdf_mf" in rep.figures and "ert_mo" not in rep.tables
    titles = [s.title for s in rep.sections if s.level == 2]
    assert titles == [
        "Leaderboard",
        "Missing, failed and refused runs",
        "Black-box tasks (bb)",
        "Multi-fidelity tasks (mf)",
        "Multi-objective tasks (mo)",
        "Per-family breakdown",
        "Provenance",
    ]
    # leaderboard first: one table per type, in the catalog's order; provenance folded at the end
    assert [c.split(":")[0] for c, _ in rep.sections[0].tables] == [
        "Black-box tasks (bb)",
        "Multi-fidelity tasks (mf)",
        "Multi-objective tasks (mo)",
    ]
    assert rep.sections[-1].folded and not rep.sections[0].folded
    fam = rep.tables["family_ranks"]
    assert set(fam["task type"]) == {"bb", "mf", "mo"}
    html_path, md_path = write_report(rep, tmp_path)
    html = html_path.read_text()
    # every figure is there: as an interactive plot where it has a spec and plotly is installed,
    # else as an embedded PNG
    drawn = set(rep.interactive) if "Plotly.newPlot" in html else set()
    assert html.count('<img alt="') == len(set(rep.figures) - drawn)
    assert all(f'id="{n}"' in html for n in drawn)
    first = html.split('<img alt="')[1].split("data:image/png;base64,")[1].split('"')[0]
    assert base64.b64decode(first)[:8] == b"\x89PNG\r\n\x1a\n"
    assert "Run environment (1 run): numpy 2.4, python 3.11" in html and "2 failed" not in html
    assert html.count("Run environment") == 1
    assert '<table class="dataframe sortable">' in html and "function sortTable" in html
    assert "<details><summary><h2>Provenance</h2></summary>" in html
    # offline: nothing is fetched, plotly.js (when installed) is embedded once
    assert "<script src=" not in html and "<link " not in html
    if rep.interactive and "Plotly.newPlot" in html:
        assert html.count("<script>/**") <= 1 and 'id="task_curves_bb-sel"' in html
    # LaTeX (booktabs) of every named table
    tex = (tmp_path / "tables" / "leaderboard_bb.tex").read_text()
    assert "\\toprule" in tex and "mean rank $\\downarrow$" in tex and "random\\_search" in tex
    assert "<h3>Anytime performance</h3>" in html
    md = md_path.read_text()
    assert "| optimizer | mean rank ↓ [95% CI]" in md and "### Statistical tests" in md
    assert "1 missing; 1 failed" in md
    assert all((tmp_path / "figures" / f"{n}.png").exists() for n in rep.figures)


def test_report_degrades_without_metadata_and_with_two_optimizers() -> None:
    df = synthetic_results(n_tasks=3, n_optimizers=2, n_seeds=1, n_trials=5)
    rep = build_report(df, baseline="not_there", n_boot=20, figures=False)
    assert rep.figures == {} and "![" not in rep.markdown()
    assert "Run metadata not available" in rep.markdown()
    assert rep.tables["leaderboard_bb"].index.tolist() == ["opt1", "opt0"]
    with pytest.raises(ValueError, match="unknown budget axis 'evals'"):
        build_report(df, x="evals")


def test_a_type_with_too_few_tasks_gets_its_leaderboard_without_tests() -> None:
    from analysis.report.build import MIN_TEST_TASKS

    df = synthetic_results(n_tasks=MIN_TEST_TASKS - 1, n_optimizers=3, n_seeds=2, n_trials=8)
    rep = build_report(df, n_boot=20, figures=False)
    assert len(rep.tables["leaderboard_bb"]) == 3
    assert not any(name.startswith("pvalues_") for name in rep.tables)
    assert "Statistical tests" not in [s.title for s in rep.sections]
    assert f"fewer than the {MIN_TEST_TASKS} they need" in rep.markdown()
    enough = synthetic_results(n_tasks=MIN_TEST_TASKS, n_optimizers=3, n_seeds=2, n_trials=8)
    more = build_report(enough, n_boot=20, figures=False)
    assert "pvalues_wilcoxon_holm_bb" in more.tables


def test_run_environment_is_one_line_with_what_differs_between_runs() -> None:
    df = synthetic_results(n_tasks=3, n_optimizers=2, n_seeds=1, n_trials=5)
    meta = pd.DataFrame(
        {
            "run_id": ["a", "b", "c"],
            "versions": [
                {"python": "3.11", "optuna": "4.5"},
                {"python": "3.11", "optuna": "4.6"},
                {"python": "3.11"},
            ],
        }
    )
    md = build_report(df, runs_meta=meta, n_boot=10, figures=False).markdown()
    lines = [ln for ln in md.splitlines() if "Run environment" in ln]
    assert lines == [
        "Run environment (3 runs): python 3.11; differs between runs: "
        "optuna 4.5 (1 run), 4.6 (1 run), not recorded (1 run)"
    ]


def _mixed_study() -> tuple[pd.DataFrame, dict[str, Any]]:
    """bb tasks with rs/tpe (hb refused) and mf tasks with rs/hb (tpe refused), as the runner plans it."""
    bb = synthetic_results(
        n_tasks=4, n_optimizers=2, n_seeds=2, n_trials=10, optimizer_names=["random_search", "tpe"]
    )
    mf = synthetic_results(
        n_tasks=3,
        n_optimizers=2,
        n_seeds=2,
        n_trials=10,
        task_types=("mf",),
        optimizer_names=["random_search", "hb"],
        seed=1,
    )
    mf = mf.assign(
        task="mfam/" + mf["task"].str.replace("/", "_"), family="mfam", run_id="mf-" + mf["run_id"]
    )
    df = pd.concat([bb, mf], ignore_index=True)
    runs = df[["run_id", "task", "optimizer", "seed"]].drop_duplicates().astype({"seed": int})
    refused = [{"task": t, "optimizer": "hb", "reason": "needs a fidelity"} for t in bb["task"].unique()]
    refused += [
        {"task": t, "optimizer": "tpe", "reason": "no multi-fidelity support"} for t in mf["task"].unique()
    ]
    return df, {
        "study": "mixed",
        "description": "a test",
        "runs": runs.to_dict("records"),
        "refused": refused,
        "budget": {"n_trials": 10, "time": None},
    }


def test_refused_pairs_are_not_missing_and_types_are_ranked_apart() -> None:
    df, manifest = _mixed_study()
    rep = build_report(df, manifest=manifest, n_boot=20, figures=False)
    md = rep.markdown()
    assert "28 of 28 runs present; 0 missing; 0 failed; refused: 7 pairs" in md
    groups = rep.tables["refused"].set_index("optimizer")
    assert groups.loc["hb", "tasks"] == 4 and groups.loc["tpe", "reason"] == "no multi-fidelity support"
    # Every task of each type is ranked: nothing is dropped for lack of the other type's optimizer.
    bb, mf = rep.tables["leaderboard_bb"], rep.tables["leaderboard_mf"]
    assert sorted(bb.index) == ["random_search", "tpe"] and set(bb["tasks"]) == {4}
    assert sorted(mf.index) == ["hb", "random_search"] and set(mf["tasks"]) == {3}
    assert "Not compared on this type (the runner refused every pair): hb: needs a fidelity" in md
    assert "left out of ranks" not in md
    assert "Description: a test" in md
    # Without the manifest, the cross product is expected: the refused pairs look missing.
    assert "14 missing" in build_report(df, n_boot=20, figures=False).markdown()


def test_optimizer_covering_few_tasks_is_left_out_not_the_tasks() -> None:
    df = synthetic_results(n_tasks=6, n_optimizers=3, n_seeds=1, n_trials=6)
    rare = df["task"].unique()[0]
    df = df[(df["optimizer"] != "opt2") | (df["task"] == rare)]
    rep = build_report(df, n_boot=20, figures=False)
    lb = rep.tables["leaderboard_bb"]
    assert sorted(lb.index) == ["opt0", "opt1"] and set(lb["tasks"]) == {6}
    assert "Not ranked (they cover too few of this type's tasks" in rep.markdown()
    assert "opt2 (1 of 6 tasks)" in rep.markdown()


def _biobjective(second_maximized: bool) -> pd.DataFrame:
    """Two optimizers on one bi-objective task: 'hi' finds large second objectives, 'lo' small ones."""
    from bench.results import encode_objectives
    from tasks.base import Objective

    objectives = encode_objectives([Objective("f1"), Objective("acc", minimize=not second_maximized)])
    rng = np.random.default_rng(0)
    rows = []
    for task in ("mo/a", "mo/b", "mo/c"):
        for opt, shift in (("hi", 1.0), ("lo", 0.0)):
            for seed in range(2):
                for i in range(8):
                    f1 = float(rng.random())
                    # 'hi' trades f1 for a larger f2 on the same front shape.
                    f2 = float((1 - f1) + shift + 0.01 * rng.random())
                    rows.append(
                        {
                            "study": "s",
                            "task": task,
                            "family": "mo",
                            "task_type": "mo",
                            "optimizer": opt,
                            "seed": seed,
                            "trial": i,
                            "value": f1,
                            "values": [f1, f2],
                            "optimum": np.nan,
                            "minimize": True,
                            "objectives": objectives,
                            "run_status": "ok",
                        }
                    )
    return pd.DataFrame(rows)


def test_maximized_second_objective_comes_from_the_results() -> None:
    # The directions are the results' own (their `objectives` column), as the run metadata says.
    meta = pd.DataFrame(
        {
            "meta": [
                {
                    "spec": {"task": t, "optimizer": "hi", "seed": 0},
                    "status": "ok",
                    "objectives": [{"name": "f1", "minimize": True}, {"name": "acc", "minimize": False}],
                }
                for t in ("mo/a", "mo/b", "mo/c")
            ]
        }
    )
    # Maximizing the second objective, 'hi' dominates; minimizing it, 'lo' does.
    maxi = build_report(_biobjective(True), runs_meta=meta, n_boot=20, figures=False).tables["leaderboard_mo"]
    mini = build_report(_biobjective(False), n_boot=20, figures=False).tables["leaderboard_mo"]
    assert maxi.index.tolist() == ["hi", "lo"]
    assert mini.index.tolist() == ["lo", "hi"]
    explicit = build_report(_biobjective(True), n_boot=20, figures=False).tables["leaderboard_mo"]
    assert explicit.index.tolist() == ["hi", "lo"]


def test_cli_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    assert "report" in capsys.readouterr().out


def test_cli_report_on_run_files_with_manifest(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import pyarrow as pa

    from bench.results import TRIAL_SCHEMA, write_manifest, write_run

    df, manifest = _mixed_study()
    df = df[df["seed"] == 0]
    manifest["runs"] = [r for r in manifest["runs"] if r["seed"] == 0]
    df["values"] = df["values"].map(list).astype(object)
    df["task_kind"] = "synthetic"
    runs = tmp_path / "study" / "runs"
    for run_id, g in df.groupby("run_id"):
        table = pa.Table.from_pandas(g[TRIAL_SCHEMA.names], schema=TRIAL_SCHEMA, preserve_index=False)
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
            "task_meta": {"type": first["task_type"]},
        }
        write_run(runs / f"{run_id}.parquet", table, meta)
    write_manifest(tmp_path / "study", manifest)
    out = tmp_path / "out"
    assert main(["report", str(tmp_path / "study"), "--out", str(out), "--n-boot", "20", "--no-figures"]) == 0
    assert "wrote" in capsys.readouterr().out
    html = (out / "report.html").read_text()
    assert "Run environment (14 runs): nxm-bench 0.1.0, python 3.11" in html
    assert "14 of 14 runs present; 0 missing; 0 failed; refused: 7 pairs" in html
    assert main(["report", str(tmp_path / "nowhere")]) == 2
    assert "no results at" in capsys.readouterr().err


def test_two_studies_in_one_frame_are_refused_or_reported_under_a_warning() -> None:
    from analysis.load import MixedResultsError

    a = synthetic_results(n_tasks=3, n_optimizers=2, n_seeds=2, n_trials=5)
    b = synthetic_results(
        n_tasks=2, n_optimizers=2, n_seeds=1, n_trials=5, optimizer_names=["x", "y"], seed=3
    )
    df = pd.concat([a, b.assign(study="other")], ignore_index=True)
    with pytest.raises(
        MixedResultsError,
        match=r"^the results mix 2 studies: 'synthetic' \(12 runs\), "
        r"'other' \(4 runs\); .*allow_mixed=True",
    ):
        build_report(df, n_boot=10, figures=False)
    rep = build_report(df, n_boot=10, figures=False, allow_mixed=True)
    assert rep.sections[0].title == "Warning: mixed results"
    assert rep.tables["mixed"].to_dict("records") == [
        {"setting": "study", "of": "", "value": "'synthetic'", "runs": 12},
        {"setting": "study", "of": "", "value": "'other'", "runs": 4},
    ]
    # The same runs twice (two studies that ran one plan) are refused even then: they would merge.
    twice = pd.concat([a, a.assign(study="copy")], ignore_index=True)
    with pytest.raises(ValueError, match=r"12 \(task, optimizer, seed\) run\(s\) occur more than once"):
        build_report(twice, n_boot=10, figures=False, allow_mixed=True)


@pytest.mark.parametrize(
    ("command", "words"),
    [("export-coco", "COCO's data format"), ("export-ioh", "IOHprofiler"), ("import-carps", "carps")],
)
def test_exports_and_imports_are_commands_of_the_analysis_cli(
    command: str, words: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([command, "no/such/study"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1, err
    with pytest.raises(SystemExit) as exc:
        main([command, "--help"])
    assert exc.value.code == 0 and words in capsys.readouterr().out
    main([])
    assert command in capsys.readouterr().out


def test_unwritable_out_is_refused_before_the_results_are_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``report``, ``baselines`` and the exports name an --out that cannot be written, in one line,
    before any work (a long report or export is not lost to a typo in the output folder)."""
    import analysis.__main__ as cli
    from analysis.export import command, ioh

    blocker = tmp_path / "a_file"
    blocker.write_text("")
    out = str(blocker / "report")  # a folder inside a file: never writable
    (tmp_path / "study" / "runs").mkdir(parents=True)
    read: list[object] = []
    monkeypatch.setattr(cli, "_load", lambda *a, **k: read.append(a))
    monkeypatch.setattr(command, "load_one_study", lambda *a, **k: read.append(a))
    for argv in (
        ["report", str(tmp_path / "study"), "--out", out],
        ["baselines", "--out", out],
        ["export-coco", str(tmp_path / "study"), "--out", out],
    ):
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert f"--out {out!r} is not writable" in err and "choose a writable folder" in err, (argv, err)
        assert err.count("\n") == 1
    assert ioh.main_export_ioh([str(tmp_path / "study"), "--out", out]) == 2
    assert f"--out {out!r} is not writable" in capsys.readouterr().err
    assert read == []
