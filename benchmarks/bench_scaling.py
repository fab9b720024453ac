"""Study throughput at 1, 2, 4, ... workers: wall time of ``python -m bench`` and speed-up.

Each point is a fresh ``python -m bench study=scaling_bbob n_jobs=K`` process writing into an empty
folder. Two times are reported: the process's wall time (interpreter start, imports, planning, the
sweep and the final summary: the time a user waits) and the sweep's own time as the runner prints
it (worker start-up included), whose speed-up is what a long study gets.
After the runs it checks that every worker count produced the same results (best value of every
run, bit for bit): parallelism must not change what is measured.

Run: ``python benchmarks/bench_scaling.py --workers 1 2 4 8 16 [--backend loky] [--study scaling_bbob]``
(target: >= 12x at 16 workers on a 16-core machine, docs/PERFORMANCE.md).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

SWEEP_LINE = re.compile(r"^runs: \d+ planned, .*; ([0-9.]+) s$", re.MULTILINE)


def run_study(study: str, workers: int, backend: str, out: Path, extra: list[str]) -> tuple[float, float]:
    """Wall seconds of one ``python -m bench`` process and of its sweep."""
    cmd = [
        sys.executable,
        "-m",
        "bench",
        f"study={study}",
        f"n_jobs={workers}",
        f"output_dir={out}",
        f"backend={backend}",
        *extra,
    ]
    if backend == "dask":
        cmd.append(f"backend.n_workers={workers}")
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "PYTHONWARNINGS": "ignore"})
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    found = SWEEP_LINE.search(proc.stdout)
    if found is None:
        raise SystemExit(f"no sweep time in the output of {' '.join(cmd)}:\n{proc.stdout[-2000:]}")
    return wall, float(found.group(1))


def bests(folder: Path) -> pd.Series:
    """Best first-objective value of every run, indexed by run id."""
    df = pd.read_parquet(folder / "runs", columns=["run_id", "value"])
    return df.groupby("run_id", observed=True)["value"].min().sort_index()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4, 8, 16])
    parser.add_argument("--backend", default="loky", choices=["loky", "dask"])
    parser.add_argument("--study", default="scaling_bbob")
    parser.add_argument("--out", default=None, help="also write the Markdown table here")
    parser.add_argument("extra", nargs="*", help="further overrides for python -m bench")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="nxm-scaling-"))
    rows, results = [], {}
    for k in args.workers:
        folder = root / f"w{k}"
        wall, sweep = run_study(args.study, k, args.backend, folder, args.extra)
        results[k] = bests(folder / args.study)
        n = len(results[k])
        rows.append({"workers": k, "wall": wall, "sweep": sweep, "runs": n})
        # relative to the first point, scaled by its worker count (exact when it is 1 worker)
        rows[-1]["speedup"] = rows[0]["wall"] * rows[0]["workers"] / wall
        rows[-1]["sweep_speedup"] = rows[0]["sweep"] * rows[0]["workers"] / sweep
        print(
            f"{args.backend} workers={k:3d}: {n} runs, wall {wall:7.1f} s (speed-up "
            f"{rows[-1]['speedup']:5.2f}x), sweep {sweep:7.1f} s = {n / sweep:6.2f} runs/s "
            f"(speed-up {rows[-1]['sweep_speedup']:5.2f}x)",
            flush=True,
        )
    first = results[args.workers[0]]
    same = all(
        r.index.equals(first.index) and (r.to_numpy() == first.to_numpy()).all() for r in results.values()
    )
    print(f"identical results across worker counts: {same}")
    table = [
        "| backend | workers | runs | process wall (s) | speed-up | sweep (s) | runs/s "
        "| sweep speed-up | efficiency |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    table += [
        f"| {args.backend} | {r['workers']} | {r['runs']} | {r['wall']:.1f} | {r['speedup']:.2f}x "
        f"| {r['sweep']:.1f} | {r['runs'] / r['sweep']:.2f} | {r['sweep_speedup']:.2f}x "
        f"| {r['sweep_speedup'] / r['workers']:.0%} |"
        for r in rows
    ]
    text = "\n".join(table) + f"\n\nidentical results across worker counts: {same}; cpus: {os.cpu_count()}\n"
    print(text)
    if args.out:
        Path(args.out).write_text(text)
    if not same:
        raise SystemExit("results differ between worker counts")


if __name__ == "__main__":
    main()
