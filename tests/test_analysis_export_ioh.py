"""Export to the IOHprofiler format: the files, the skipped tasks, and round trips through iohinspector
(the reader IOHanalyzer's Python successor uses) and through ``ioh``'s own logger.

The round trips need ``iohinspector`` and ``ioh`` (``pip install iohinspector ioh``) and skip
without them; the real study needs ``coco-experiment`` for its bbob tasks.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import load
from analysis.export import ioh
from analysis.synthetic import results_from_values

REPO = Path(__file__).resolve().parents[1]


def need(module: str, why: str) -> None:
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"module {module!r} is not installed: {why}")


def read_dat(path: Path) -> list[list[tuple[int, float, float]]]:
    """The runs of a ``.dat`` file: a header line starts each; lines are (evaluations, raw_y,
    transformed_y), the last NaN in ioh's own two-column files."""
    runs: list[list[tuple[int, float, float]]] = []
    for line in path.read_text().splitlines():
        if line.startswith("evaluations raw_y"):
            runs.append([])
        else:
            e, r, *t = line.split(" ")
            runs[-1].append((int(e), float(r), float(t[0]) if t else float("nan")))
    return runs


@pytest.fixture(scope="module")
def bbob_study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small real study: 2 optimizers x bbob f01, f02 (d02, instances 1, 2) x 3 seeds x 60 trials."""
    need("cocoex", "the bbob tasks need coco-experiment")
    cwd = tmp_path_factory.mktemp("study")
    tasks = ",".join(f"bbob/f{f:02d}/d02/i{i:02d}" for f in (1, 2) for i in (1, 2))
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    }
    env.pop("NXMBENCH_CONFIG_PATH", None)
    args = ["-m", "optimizer=random_search,ng_oneplusone", f"task={tasks}", "seed=range(0,3)", "n_trials=60"]
    proc = subprocess.run(
        [sys.executable, "-m", "bench", *args, "name=ioh_rt", "output_dir=OUT"],
        cwd=cwd,
        env=env,
        text=True,
        capture_output=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    (study,) = {p.parent for p in (cwd / "OUT").rglob("study.json")}
    return study


def best_so_far(df: pd.DataFrame) -> dict[tuple[str, str, int], np.ndarray]:
    """(optimizer, task, seed) -> best f - f_opt after each evaluation, from the results frame."""
    out = {}
    for (opt, task, seed), g in df.groupby(["optimizer", "task", "seed"], observed=True):
        g = g.sort_values("trial")
        out[str(opt), str(task), int(seed)] = (
            np.minimum.accumulate(g["value"].to_numpy()) - g["optimum"].iloc[0]
        )
    return out


@pytest.mark.slow
def test_iohinspector_reads_back_every_best_so_far_value(bbob_study: Path, tmp_path: Path) -> None:
    need("iohinspector", "the round trip reads the export with iohinspector (pip install iohinspector)")
    from iohinspector import DataManager

    df = load(bbob_study)
    # Through the command-line entry, as `python -m analysis export-ioh` will run it.
    assert ioh.main_export_ioh([str(bbob_study), "--out", str(tmp_path / "ioh")]) == 0
    manager = DataManager()
    manager.add_folder(str(tmp_path / "ioh"))
    meta = manager.overview.to_pandas()
    assert len(meta) == df["run_id"].nunique() == 24
    assert sorted(meta["algorithm_name"].unique()) == ["ng_oneplusone", "random_search"]
    assert set(meta["suite"]) == {"BBOB"} and set(meta["dimension"]) == {2}
    assert set(zip(meta["function_id"], meta["function_name"], strict=True)) == {
        (1, "Sphere"),
        (2, "Ellipsoid"),
    }

    # The runs of a (function, dimension) file are in (instance, seed) order: map them back.
    ours = best_so_far(df)
    keys = {}
    for (alg, fid, inst), g in meta.groupby(["algorithm_name", "function_id", "instance"]):
        for seed, data_id in zip(range(3), g.sort_values("run_id")["data_id"], strict=True):
            keys[int(data_id)] = (alg, f"bbob/f{fid:02d}/d02/i{inst:02d}", seed)
    evaluations = list(range(1, 61))
    aligned = manager.load(monotonic=True, x_values=evaluations).to_pandas()
    compared = 0
    for data_id, g in aligned.groupby("data_id"):
        mine = ours[keys[int(data_id)]]
        g = g.sort_values("evaluations")
        assert g["evaluations"].tolist() == evaluations
        np.testing.assert_array_equal(g["raw_y"].to_numpy(), mine)  # exactly: the floats round-trip
        compared += 1
    assert compared == 24
    # The run summaries: evaluations, best value (f - f_opt) and where it was first reached.
    for _, row in meta.iterrows():
        mine = ours[keys[int(row["data_id"])]]
        assert row["evals"] == 60 and row["best_y"] == mine[-1]
    # Unaligned, the logged lines: first, each improvement, last (as ioh's Analyzer logs them).
    raw = manager.load(monotonic=False).to_pandas()
    for data_id, g in raw.groupby("data_id"):
        mine = ours[keys[int(data_id)]]
        improved = np.flatnonzero(np.r_[True, mine[1:] < mine[:-1]]) + 1
        assert g["evaluations"].tolist() == sorted({*improved.tolist(), 60})


@pytest.mark.slow
def test_export_matches_what_ioh_logs_for_the_same_points(bbob_study: Path, tmp_path: Path) -> None:
    """ioh's Analyzer, fed the very points of each run on its own BBOB problem, logs the same lines."""
    need("ioh", "the comparison runs ioh's own logger (pip install ioh)")
    import ioh as iohx  # the package, not the module under test

    df = load(bbob_study)
    out = ioh.export_ioh(df[df["optimizer"] == "random_search"], tmp_path / "ours")
    alg = out.algorithms["random_search"]
    for (task, seed), g in df[df["optimizer"] == "random_search"].groupby(["task", "seed"], observed=True):
        p = out.problems[str(task)]
        problem = iohx.get_problem(p.function_id, p.instance, p.dimension, iohx.ProblemClass.BBOB)
        assert problem.meta_data.name == p.function_name and problem.optimum.y == p.optimum
        logger = iohx.logger.Analyzer(
            root=str(tmp_path), folder_name=f"ref_{p.instance}_{seed}_{p.function_id}"
        )
        problem.attach_logger(logger)
        for config in g.sort_values("trial")["config"]:
            x = json.loads(config)
            problem([x["x0"], x["x1"]])
        problem.reset()
        logger.close()
        ref_dir = Path(logger.output_directory)
        (ref_json,) = ref_dir.glob("*.json")
        ref = json.loads(ref_json.read_text())
        ours = json.loads((alg / ref_json.name).read_text())  # the same file names
        assert {k: ref[k] for k in ("function_id", "function_name", "maximization", "attributes")} == {
            "function_id": ours["function_id"],
            "function_name": ours["function_name"],
            "maximization": ours["maximization"],
            "attributes": ours["attributes"][:2],
        }
        (ref_run,) = ref["scenarios"][0]["runs"]
        (scenario,) = ours["scenarios"]
        assert scenario["path"] == ref["scenarios"][0]["path"]
        position = [
            i for i, r in enumerate(scenario["runs"]) if (r["instance"], r["seed"]) == (p.instance, seed)
        ]
        mine = scenario["runs"][position[0]]
        assert (mine["evals"], mine["best"]["evals"], mine["best"]["x"]) == (
            ref_run["evals"],
            ref_run["best"]["evals"],
            ref_run["best"]["x"],
        )
        assert mine["best"]["y"] == pytest.approx(ref_run["best"]["y"], rel=1e-12, abs=1e-12)
        (ref_lines,) = read_dat(ref_dir / scenario["path"])
        ours_lines = read_dat(alg / scenario["path"])[position[0]]
        assert [e for e, _, _ in ours_lines] == [e for e, _, _ in ref_lines]
        # ioh writes 10 decimals; ours are exact, and the measured f is raw_y + f_opt.
        np.testing.assert_allclose(
            [r for _, r, _ in ours_lines], [r for _, r, _ in ref_lines], rtol=1e-12, atol=1e-10
        )
        for _, r, t in ours_lines:
            assert t - p.optimum == pytest.approx(r, abs=1e-9)


def test_bbob_values_files_and_maximized_objectives(tmp_path: Path) -> None:
    df = results_from_values(
        [
            {
                "optimizer": "opt a",
                "task": "bbob/f03/d05/i02",
                "values": [5.0, 7.0, 4.0, 4.0, 1.5],
                "optimum": 1.0,
            },
            {
                "optimizer": "opt a",
                "task": "bbob/f03/d05/i01",
                "values": [9.0, 8.0],
                "optimum": 1.0,
                "seed": 4,
            },
            # A maximized objective is negated, with its optimum: raw_y = -v - (-10) = 10 - v.
            {
                "optimizer": "opt a",
                "task": "fam/score",
                "values": [2.0, 9.0, 3.0],
                "optimum": 10.0,
                "minimize": False,
            },
        ]
    )
    df["config"] = [json.dumps({f"x{i}": float(t + i) for i in range(5)}) for t in df["trial"]]
    out = ioh.export_ioh(df, tmp_path)
    alg = out.algorithms["opt a"]
    assert alg == tmp_path / "opt_a" and out.n_runs == 3 and out.skipped_tasks == {}
    meta = json.loads((alg / "IOHprofiler_f3_Rastrigin.json").read_text())
    assert meta["suite"] == "BBOB" and meta["maximization"] is False and meta["version"] == ioh.FORMAT_VERSION
    (scenario,) = meta["scenarios"]
    assert scenario["dimension"] == 5 and [r["instance"] for r in scenario["runs"]] == [1, 2]
    assert scenario["runs"][1] == {
        "instance": 2,
        "evals": 5,
        "best": {"evals": 5, "y": 0.5, "x": [4.0, 5.0, 6.0, 7.0, 8.0]},
        "seed": 0,
    }
    runs = read_dat(alg / scenario["path"])
    assert runs == [[(1, 8.0, 9.0), (2, 7.0, 8.0)], [(1, 4.0, 5.0), (3, 3.0, 4.0), (5, 0.5, 1.5)]]
    # The other task: a function id of its own, its id as the name, its dimension from the configs.
    p = out.problems["fam/score"]
    assert (p.suite, p.function_id, p.function_name, p.dimension, p.instance) == (
        "fam",
        1001,
        "fam_score",
        5,
        1,
    )
    meta = json.loads((alg / "IOHprofiler_f1001_fam_score.json").read_text())
    assert meta["maximization"] is False and meta["scenarios"][0]["runs"][0]["best"]["y"] == 1.0
    assert read_dat(alg / meta["scenarios"][0]["path"]) == [[(1, 8.0, -2.0), (2, 1.0, -9.0), (3, 7.0, -3.0)]]
    # Every evaluation on request.
    every = ioh.export_ioh(df, tmp_path / "every", every_evaluation=True)
    dat = every.algorithms["opt a"] / "data_f3_Rastrigin" / "IOHprofiler_f3_DIM5.dat"
    assert [len(r) for r in read_dat(dat)] == [2, 5]


def test_skipped_tasks_and_runs_are_counted(tmp_path: Path) -> None:
    df = pd.concat(
        [
            results_from_values(
                [{"optimizer": "a", "task": "bbob/f01/d02/i01", "values": [3.0, 2.0], "optimum": 1.0}]
            ),
            results_from_values(
                [{"optimizer": "a", "task": "bbob/f01/d02/i02", "values": [3.0, 2.0]}]
            ),  # no optimum
            results_from_values(
                [{"optimizer": "a", "task": "lcbench/x", "values": [1, 2], "fidelity": [1, 2]}]
            ).assign(task_type="mf"),
            results_from_values([{"optimizer": a, "task": "zdt/1", "values": [1.0]} for a in "ab"]).assign(
                task_type="mo"
            ),
            # A run whose first evaluation is not a row (as an import that drops failed trials leaves it).
            results_from_values(
                [{"optimizer": "a", "task": "bbob/f01/d02/i01", "seed": 1, "values": [5.0, 4.0]}]
            )
            .assign(optimum=1.0)
            .assign(trial=[1, 2]),
            results_from_values([{"optimizer": "a", "task": "fam/noconfig", "values": [1.0]}]),
        ],
        ignore_index=True,
    )
    out = ioh.export_ioh(df, tmp_path)
    assert out.n_runs == 1 and list(out.problems) == ["bbob/f01/d02/i01"]
    assert out.skipped_tasks == {
        ioh.SKIP_BBOB_NO_OPTIMUM: 1,
        ioh.SKIP_MULTI_FIDELITY: 1,
        ioh.SKIP_MULTI_OBJECTIVE: 1,
        ioh.SKIP_NO_DIMENSION: 1,
    }
    assert (
        out.skipped_runs[ioh.SKIP_MULTI_OBJECTIVE] == 2
        and out.skipped_runs[ioh.SKIP_NO_FIRST_EVALUATION] == 1
    )
    line = out.summary()
    assert "skipped 1 task (2 runs): multi-objective" in line and "skipped 1 run: first evaluation" in line
    assert list(out.algorithms) == ["a"]


def test_optimizer_ids_that_share_a_folder_name_are_refused(tmp_path: Path) -> None:
    df = results_from_values(
        [
            {"optimizer": o, "task": "bbob/f01/d02/i01", "values": [2.0], "optimum": 1.0}
            for o in ("a/b", "a_b")
        ]
    )
    with pytest.raises(ValueError, match="give one folder name 'a_b'"):
        ioh.export_ioh(df, tmp_path)


def test_main_export_ioh_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert ioh.main_export_ioh([str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ")


def test_results_with_nothing_to_export_are_refused_in_one_line(
    tmp_path: Path, bench: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    """A study of multi-objective tasks only has no run IOHprofiler can hold: an export "of 0 runs"
    with exit 0 would look like success to a script reading it (as export-coco's did)."""
    task = "task=bbob-biobj/f01/d02/i01"
    args = ("-m", "optimizer=random_search", task, "seed=0,1", "n_trials=5", "name=mo")
    proc = bench(tmp_path, *args, "output_dir=OUT", "progress=false")
    assert proc.returncode == 0, proc.stderr[-3000:]
    proc = bench(tmp_path, "export-ioh", "OUT/mo", "--out", "ioh", module="analysis")
    assert proc.returncode == 2 and not proc.stdout, (proc.stdout, proc.stderr)
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: no runs to export in the IOHprofiler format: "), lines
    assert "1 task (2 runs): multi-objective" in lines[0] and "'bbob-biobj/f01/d02/i01'" in lines[0], lines
    assert not (tmp_path / "ioh").exists()
