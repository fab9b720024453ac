"""Export to COCO's bbob data format: the files, and a round trip through cocopp's own loader.

cocopp is imported in a child process only, never here: importing it creates its archive cache
in the user's cache folder and tries to reach the COCO data archive on the web. The child runs
with its home, cache and matplotlib folders under ``tmp_path``, sockets disabled and
``MPLBACKEND=Agg``, so it writes nothing outside ``tmp_path`` and opens no window.
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
from analysis.export import coco
from analysis.leaderboard.fixed_target import COCO_DELTAS, expected_running_time, pool_instances
from analysis.synthetic import results_from_values as runs_frame

HEADER = (
    "% function evaluation | noise-free fitness - Fopt ({:13.12e}) | best noise-free fitness - Fopt | "
    "measured fitness | best measured fitness | x1 | x2..."
)
#: bbob f_opt of these functions and instances (the same in every dimension).
F_OPT = {(1, 1): 79.48, (1, 2): 394.48, (2, 1): -209.88, (2, 2): -92.09}

#: Loads each algorithm folder with cocopp.pproc.DataSetList and writes every data set's detERT.
COCOPP_CHILD = r"""
import json, socket, sys, warnings

def offline(*args, **kwargs):
    raise OSError("network disabled in this test")

socket.create_connection = offline  # cocopp's archive module looks for the web archive on import
socket.getaddrinfo = offline
warnings.simplefilter("ignore")  # cocopp warns about fewer than 15 instances, missing archives
import cocopp
from cocopp import genericsettings, pproc

genericsettings.verbose = False
folders, targets, out = sys.argv[1:-2], json.loads(sys.argv[-2]), sys.argv[-1]
found = {}
for folder in folders:
    for ds in pproc.DataSetList(folder):
        found[f"{folder}|{ds.funcId}|{ds.dim}"] = {
            "ert": [float(v) for v in ds.detERT(targets)],
            "instances": [int(i) for i in ds.instancenumbers],
            "maxevals": [float(m) for m in ds.maxevals],
        }
with open(out, "w") as f:
    json.dump({"version": cocopp.__version__, "data_sets": found}, f)
"""


def need_cocopp() -> None:
    for module in ("cocopp", "six"):
        if importlib.util.find_spec(module) is None:
            pytest.skip(
                f"module {module!r} is not installed: the round trip needs cocopp (pip install cocopp)"
            )


def cocopp_erts(tmp_path: Path, folders: list[Path], targets: np.ndarray) -> dict[str, object]:
    """cocopp's view of the exported folders, loaded in an isolated child process."""
    home = tmp_path / "home"
    env = {
        **os.environ,
        "HOME": str(home),
        "XDG_CACHE_HOME": str(home / "cache"),
        "XDG_CONFIG_HOME": str(home / "config"),
        "MPLCONFIGDIR": str(home / "matplotlib"),
        "MPLBACKEND": "Agg",
        "PYTHONDONTWRITEBYTECODE": "1",  # not even byte code next to an installed cocopp
    }
    script, out = tmp_path / "cocopp_child.py", tmp_path / "cocopp_erts.json"
    script.write_text(COCOPP_CHILD)
    proc = subprocess.run(
        [sys.executable, str(script), *map(str, folders), json.dumps(targets.tolist()), str(out)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result: dict[str, object] = json.loads(out.read_text())
    return result


def compare_with_cocopp(df: pd.DataFrame, tmp_path: Path, folders: dict[str, Path]) -> pd.DataFrame:
    """Our pooled ERTs next to cocopp's detERT for COCO's 51 targets; asserts they agree."""
    ours = pool_instances(expected_running_time(df))
    ours = ours[ours["target_kind"] == "delta_f"]
    got = cocopp_erts(tmp_path, list(folders.values()), COCO_DELTAS)
    assert isinstance(got["version"], str)
    data_sets = got["data_sets"]
    assert isinstance(data_sets, dict)
    rows = []
    by_folder = {str(p): name for name, p in folders.items()}
    for key, ds in data_sets.items():
        folder, f, d = key.rsplit("|", 2)
        optimizer, problem = by_folder[folder], f"bbob/f{int(f):02d}/d{int(d):02d}"
        mine = ours[(ours["optimizer"] == optimizer) & (ours["task"] == problem)].set_index("target")
        rows.append(
            pd.DataFrame(
                {
                    "optimizer": optimizer,
                    "problem": problem,
                    "target": COCO_DELTAS,
                    "ours": mine.loc[COCO_DELTAS, "ert"].to_numpy(),
                    "cocopp": ds["ert"],
                    "n_success": mine.loc[COCO_DELTAS, "n_success"].to_numpy(),
                    "n_runs": mine.loc[COCO_DELTAS, "n_runs"].to_numpy(),
                }
            )
        )
    table = pd.concat(rows, ignore_index=True)
    pairs = ours[["optimizer", "task"]].drop_duplicates()
    assert len(rows) == len(pairs), "cocopp found another set of (algorithm, function, dimension) data sets"
    a, b = table["ours"].to_numpy(), table["cocopp"].to_numpy()
    finite = np.isfinite(a) & np.isfinite(b)
    assert np.array_equal(np.isinf(a), np.isinf(b)), table[np.isinf(a) != np.isinf(b)]
    close = np.isclose(a[finite], b[finite], rtol=1e-9, atol=0)
    assert close.all(), table[finite][~close]
    return table


def descent(rng: np.random.Generator, n: int, speed: float) -> np.ndarray:
    """Δf of ``n`` evaluations: a noisy descent in log scale from about 10^2.5."""
    return 10.0 ** (2.5 - speed * np.arange(n) + rng.normal(0.0, 1.0, n))


def synthetic_bbob() -> pd.DataFrame:
    """Two optimizers on bbob f01 (d02, d05) and a maximized f02 (d02), 2 instances x 3 seeds each."""
    rng = np.random.default_rng(7)
    runs = []
    for optimizer, speed in (("slow", 0.08), ("fast", 0.25)):
        for f, d in ((1, 2), (1, 5), (2, 2)):
            for inst in (1, 2):
                for seed in range(3):
                    # One run per (optimizer, problem) stopped early: it is unsuccessful with its budget.
                    n = 25 if seed == 2 and inst == 2 else 40
                    fopt = F_OPT[(f, inst)]
                    values = fopt + descent(rng, n, speed)
                    sign = -1.0 if f == 2 else 1.0  # f02 comes as a maximized objective: -f
                    runs.append(
                        {
                            "optimizer": optimizer,
                            "task": f"bbob/f{f:02d}/d{d:02d}/i{inst:02d}",
                            "seed": seed,
                            "values": sign * values,
                            "optimum": sign * fopt,
                            "minimize": sign > 0,
                            "status": "crashed" if n == 25 else "ok",
                        }
                    )
    return runs_frame(runs)


def test_evaluation_triggers_follow_coco() -> None:
    assert coco.evaluation_triggers(1, 5).tolist() == [1]
    t = coco.evaluation_triggers(1000, 10)
    assert {1, 2, 10, 20, 50, 100, 200, 500, 1000} <= set(t.tolist())
    assert t[-1] == 1000 and np.all(np.diff(t) > 0)
    assert coco.evaluation_triggers(37, 3)[-1] == 37  # the last evaluation is always written
    assert len(coco.evaluation_triggers(0, 2)) == 0


def test_export_files_headers_and_skipped_tasks(tmp_path: Path) -> None:
    runs: list[tuple[str, list[float], float, dict[str, object]]] = [
        ("bbob/f01/d02/i01", [84.0, 81.0, 82.0, 79.5], 79.48, {"seed": 0}),
        ("bbob/f01/d02/i01", [90.0, 80.0], 79.48, {"seed": 1}),
        ("bbob/f01/d03/i02", [400.0, 395.0], 394.48, {}),
        ("bbob/f02/d02/i01", [209.0, 209.5, 209.8], 209.88, {"minimize": False}),  # a maximized objective
        ("synthetic/branin", [3.0], np.nan, {}),
        ("bbob-biobj/f01/d02/i01", [3.0], np.nan, {"task_type": "mo"}),
    ]
    df = runs_frame([{"optimizer": "rs", "task": t, "values": v, "optimum": o, **kw} for t, v, o, kw in runs])
    df["config"] = [json.dumps({"x0": 0.5 * i, "x1": -1.0}) for i in range(len(df))]
    out = coco.export_coco(df, tmp_path / "coco", comment="hand example\nsecond line")
    assert (out.n_runs, out.n_tasks, out.skipped_tasks, out.skipped_runs) == (4, 3, 2, 2)
    alg = tmp_path / "coco" / "rs"
    assert out.algorithms == {"rs": alg}
    assert "skipped 2 tasks (2 runs)" in out.summary()

    info = (alg / "bbobexp_f1.info").read_text().splitlines()
    assert info == [
        "suite = 'bbob', funcId = 1, DIM = 2, Precision = 1.000e-08, algId = 'rs', logger = 'nxm-bench'",
        "% hand example second line",
        "data_f1/bbobexp_f1_DIM2.dat, 1:4|2.0e-02, 1:2|5.2e-01",
        "suite = 'bbob', funcId = 1, DIM = 3, Precision = 1.000e-08, algId = 'rs', logger = 'nxm-bench'",
        "% hand example second line",
        "data_f1/bbobexp_f1_DIM3.dat, 2:2|5.2e-01",
    ]
    dat = (alg / "data_f1" / "bbobexp_f1_DIM2.dat").read_text().splitlines()
    assert dat[0] == HEADER.format(79.48) and dat[1] == "% instance = 1, seed = 0"
    rows = [[float(v) for v in line.split()] for line in dat if not line.startswith("%")]
    # Seed 0 improves at evaluations 1, 2 and 4; seed 1 at 1 and 2. Columns: evaluations, f - f_opt,
    # best f - f_opt, f, best f, x1, x2.
    assert [r[0] for r in rows] == [1, 2, 4, 1, 2]
    assert rows[2][1:5] == pytest.approx([79.5 - 79.48, 79.5 - 79.48, 79.5, 79.5])
    assert rows[2][5:] == [1.5, -1.0]
    tdat = (alg / "data_f1" / "bbobexp_f1_DIM2.tdat").read_text().splitlines()
    t_rows = [[float(v) for v in line.split()] for line in tdat if not line.startswith("%")]
    assert [r[0] for r in t_rows] == [1, 2, 3, 4, 1, 2]
    assert t_rows[2][1:3] == pytest.approx([82.0 - 79.48, 81.0 - 79.48])  # f - f_opt and the best so far
    # The maximized objective is written as a cost: -value, with -optimum as f_opt.
    f2 = (alg / "data_f2" / "bbobexp_f2_DIM2.dat").read_text().splitlines()
    assert f2[0] == HEADER.format(-209.88)
    f2_rows = [[float(v) for v in line.split()] for line in f2 if not line.startswith("%")]
    assert [r[0] for r in f2_rows] == [1, 2, 3]
    assert [r[2] for r in f2_rows] == pytest.approx([0.88, 0.38, 0.08])
    assert (alg / "bbobexp_f2.info").read_text().splitlines()[2] == "data_f2/bbobexp_f2_DIM2.dat, 1:3|8.0e-02"


def test_export_refuses_optimizer_ids_that_share_a_folder_name(tmp_path: Path) -> None:
    df = runs_frame(
        [
            {"optimizer": "a b", "task": "bbob/f01/d02/i01", "values": [80.0], "optimum": 79.48},
            {"optimizer": "a/b", "task": "bbob/f01/d02/i01", "values": [80.0], "optimum": 79.48},
        ]
    )
    with pytest.raises(ValueError, match="give one COCO folder name 'a_b'"):
        coco.export_coco(df, tmp_path)


def test_cocopp_round_trip_synthetic(tmp_path: Path) -> None:
    need_cocopp()
    df = synthetic_bbob()
    out = coco.export_coco(df, tmp_path / "coco")
    table = compare_with_cocopp(df, tmp_path, out.algorithms)
    assert len(table) == 2 * 3 * 51
    # Not a trivial agreement: targets every run reaches, some runs reach and none reaches.
    partial = (table["n_success"] > 0) & (table["n_success"] < table["n_runs"])
    every = table["n_success"] == table["n_runs"]
    assert partial.sum() > 20 and np.isinf(table["ours"]).sum() > 20 and every.sum() > 20
    # cocopp's archive cache went to the child's home under tmp_path, not the user's.
    assert (tmp_path / "home" / "cache" / "cocopp").is_dir()


@pytest.mark.slow
def test_cocopp_round_trip_real_bbob_runs(
    tmp_path: Path, bench: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    need_cocopp()
    if importlib.util.find_spec("cocoex") is None:
        pytest.skip("module 'cocoex' is not installed: the bbob tasks need coco-experiment")
    tasks = ",".join(f"bbob/f{f:02d}/d02/i{i:02d}" for f in (1, 2) for i in (1, 2))
    proc = bench(
        tmp_path,
        "-m",
        "optimizer=random_search,ng_oneplusone",
        f"task={tasks}",
        "seed=range(0,3)",
        "n_trials=60",
        "name=coco_rt",
        "output_dir=OUT",
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    (study,) = {p.parent for p in (tmp_path / "OUT").rglob("study.json")}
    df = load(study)
    assert df["run_id"].nunique() == 2 * 4 * 3
    # Through the command-line entry, as `python -m analysis export-coco` will run it.
    assert coco.main_export([str(study), "--out", str(tmp_path / "coco")]) == 0
    folders = {o: tmp_path / "coco" / o for o in ("ng_oneplusone", "random_search")}
    table = compare_with_cocopp(df, tmp_path, folders)
    assert np.isfinite(table["ours"]).sum() > 30 and np.isinf(table["ours"]).sum() > 30
    f01 = table[(table["problem"] == "bbob/f01/d02") & (table["target"].isin([10.0, 1.0, 0.1, 1e-3]))]
    assert len(f01) == 8


def test_main_export_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert coco.main_export([str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ")


def test_a_study_without_bbob_runs_is_refused_in_one_line(
    tmp_path: Path, bench: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    args = ("-m", "optimizer=random_search", "task=synthetic/branin", "seed=0,1", "n_trials=5", "name=branin")
    proc = bench(tmp_path, *args, "output_dir=OUT", "progress=false")
    assert proc.returncode == 0, proc.stderr[-3000:]
    proc = bench(tmp_path, "export-coco", "OUT/branin", "--out", "coco", module="analysis")
    assert proc.returncode == 2 and not proc.stdout, (proc.stdout, proc.stderr)
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: no bbob runs to export: "), lines
    assert "1 task (2 runs) is not a bbob task with a known optimum, e.g. 'synthetic/branin'" in lines[0]
    assert not (tmp_path / "coco").exists()
