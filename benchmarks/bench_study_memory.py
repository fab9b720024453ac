"""Peak memory and wall time of a 10,000-run study, and of resuming it once complete.

Runs ``python -m bench study=memory_10k n_jobs=K`` in a fresh folder while sampling the resident
memory (RSS) of the main process and of every worker process every 50 ms, then runs the same
command again (every run is found complete and skipped) to time the resume check.

Run: ``python benchmarks/bench_study_memory.py [--workers 2] [--study memory_10k]``
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psutil


@dataclass
class Peak:
    wall: float
    main_mb: float
    worker_mb: float
    total_mb: float


def measure(cmd: list[str]) -> Peak:
    """Run ``cmd``, polling RSS of it and its descendants; return the peaks."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    main = psutil.Process(proc.pid)
    peak_main = peak_worker = peak_total = 0.0
    while proc.poll() is None:
        try:
            rss_main = main.memory_info().rss
            workers = [c.memory_info().rss for c in main.children(recursive=True)]
        except psutil.Error:  # a process ended between listing and reading it
            workers, rss_main = [], 0
        peak_main = max(peak_main, rss_main)
        peak_worker = max([peak_worker, *workers])
        peak_total = max(peak_total, rss_main + sum(workers))
        time.sleep(0.05)
    wall = time.perf_counter() - t0
    err = proc.stderr.read() if proc.stderr else ""
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err[-2000:]}")
    mb = 1 / 2**20
    return Peak(wall, peak_main * mb, peak_worker * mb, peak_total * mb)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--study", default="memory_10k")
    args = parser.parse_args()
    out = Path(tempfile.mkdtemp(prefix="nxm-memory-"))
    cmd = [
        sys.executable,
        "-m",
        "bench",
        f"study={args.study}",
        f"n_jobs={args.workers}",
        f"output_dir={out}",
    ]
    first = measure(cmd)
    n = len(list((out / args.study / "runs").glob("*.parquet")))
    size = sum(f.stat().st_size for f in (out / args.study / "runs").glob("*.parquet")) / 2**20
    print(
        f"study {args.study}: {n} runs with {args.workers} workers in {first.wall:.1f} s "
        f"({n / first.wall:.1f} runs/s); results {size:.0f} MB on disk"
    )
    print(
        f"peak RSS: main process {first.main_mb:.0f} MB, largest worker {first.worker_mb:.0f} MB, "
        f"all processes together {first.total_mb:.0f} MB"
    )
    again = measure(cmd)
    print(f"resume with all {n} runs complete: {again.wall:.1f} s, main process peak {again.main_mb:.0f} MB")


if __name__ == "__main__":
    main()
