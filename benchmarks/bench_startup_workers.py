"""Start-up and workers: one run as typed, tiny sweeps at every ``n_jobs``, a worker's own start-up.

Every figure is a ratio against a reference measured in the same rounds (commands alternate, so
a busy machine slows all of them alike):

* **one run as typed** (``python -m bench optimizer=random_search task=bbob/f01/d02/i01
  n_trials=10``, in a fresh folder each time) against ``python -c pass``; wall time and the
  process's peak RSS (targets: ≤ 1.0 s and ≤ 160 MB on a quiet machine);
* **a tiny sweep** (8 bbob tasks × 2 seeds × 10 random-search trials: 16 runs of a few ms) at
  ``n_jobs=-1`` and ``n_jobs=2`` against ``n_jobs=1`` (target: ``-1`` never slower than ``1``);
* **a worker's start-up**: a fresh interpreter importing what a worker imports before its first
  run (``bench.worker`` and the plan's optimizer libraries, :func:`bench.worker.warm_up`),
  against ``python -c pass``: the cost each additional worker adds, and the main input of the
  scaling model in docs/PERFORMANCE.md.

Min and median over ``--repeats`` rounds are printed as Markdown tables.

    python benchmarks/bench_startup_workers.py [--repeats 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

SINGLE = ["-m", "bench", "optimizer=random_search", "task=bbob/f01/d02/i01", "n_trials=10", "progress=false"]
TINY = [
    "-m",
    "bench",
    "-m",
    "optimizer=random_search",
    "task=bbob/f01/d02/i01,bbob/f02/d02/i01,bbob/f03/d02/i01,bbob/f04/d02/i01,"
    "bbob/f05/d02/i01,bbob/f06/d02/i01,bbob/f07/d02/i01,bbob/f08/d02/i01",
    "seed=0,1",
    "n_trials=10",
    "progress=false",
]
WORKER = [
    "-c",
    "from bench.worker import warm_up; "
    "warm_up(('optimizers.random_search.RandomSearch', 'optimizers.optuna.OptunaTPE'))",
]


def timed(args: list[str], cwd: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of ``python ARGS`` run in ``cwd``."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, *args], cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        err = proc.stderr.read().decode() if proc.stderr else ""
        raise RuntimeError(f"python {' '.join(args)} failed ({proc.returncode}): {err[-2000:]}")
    return wall, usage.ru_maxrss / 1024.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()
    cases = {
        "`python -c pass`": ["-c", "pass"],
        "one run as typed": SINGLE,
        "a worker's start-up (imports, warm_up)": WORKER,
        "tiny sweep, n_jobs=1": [*TINY, "n_jobs=1"],
        "tiny sweep, n_jobs=-1": [*TINY, "n_jobs=-1"],
        "tiny sweep, n_jobs=2": [*TINY, "n_jobs=2"],
    }
    walls: dict[str, list[float]] = {k: [] for k in cases}
    rss: dict[str, list[float]] = {k: [] for k in cases}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.repeats + 1):  # round 0 warms the bytecode caches and is not counted
            order = list(cases) if r % 2 else list(reversed(cases))
            for name in order:
                cwd = Path(tmp) / f"r{r}-{len(walls[name])}-{abs(hash(name))}"
                cwd.mkdir()
                wall, mb = timed(cases[name], cwd)
                if r:
                    walls[name].append(wall)
                    rss[name].append(mb)
    ref = statistics.median(walls["`python -c pass`"])
    serial = statistics.median(walls["tiny sweep, n_jobs=1"])
    load = os.getloadavg()[0]
    print(f"{os.cpu_count()} cores, load average {load:.2f} at the end, {args.repeats} rounds\n")
    print(
        "| command | min (s) | median (s) | median / `python -c pass` | median / n_jobs=1 | peak RSS (MB) |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for name in cases:
        w = walls[name]
        med = statistics.median(w)
        vs_serial = f"{med / serial:.2f}×" if name.startswith("tiny") else ""
        print(
            f"| {name} | {min(w):.3f} | {med:.3f} | {med / ref:.1f}× | {vs_serial} | "
            f"{statistics.median(rss[name]):.0f} |"
        )


if __name__ == "__main__":
    main()
