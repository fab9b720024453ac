"""Scale benchmark of the analysis report: 10 optimizers x 1,000 tasks x 10 seeds x 100 trials.

Generates a synthetic results frame of 10^7 trial rows in the documented schema
(string columns categorical), then times ``build_report`` + ``write_report``
and reports the process's peak resident memory. Target: <= 60 s, <= 8 GB.

    python benchmarks/bench_analysis_scale.py [--tasks 1000] [--seeds 10] [--trials 100] [--optimizers 10]
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

# Run from a checkout without installing the package.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _rss_gb() -> float:
    # ru_maxrss is in KiB on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tasks", type=int, default=1000)
    p.add_argument("--seeds", type=int, default=10)
    p.add_argument("--trials", type=int, default=100)
    p.add_argument("--optimizers", type=int, default=10)
    p.add_argument("--n-boot", type=int, default=1000)
    args = p.parse_args(argv)

    from analysis.report.build import build_report, write_report
    from analysis.synthetic import synthetic_results

    t0 = time.perf_counter()
    df = synthetic_results(
        n_tasks=args.tasks,
        n_optimizers=args.optimizers,
        n_seeds=args.seeds,
        n_trials=args.trials,
        task_types=("bb", "bb", "bb", "mf"),
        optimizer_names=["random_search", *(f"opt{i}" for i in range(1, args.optimizers))],
        categorical=True,
    )
    t_gen = time.perf_counter() - t0
    mem_frame = df.memory_usage(deep=True).sum() / 2**30
    rss_gen = _rss_gb()
    print(
        f"rows: {len(df):,}; generated in {t_gen:.1f} s; frame {mem_frame:.2f} GB; peak RSS {rss_gen:.2f} GB"
    )

    t1 = time.perf_counter()
    rep = build_report(df, n_boot=args.n_boot)
    t_build = time.perf_counter() - t1
    with tempfile.TemporaryDirectory() as d:
        t2 = time.perf_counter()
        write_report(rep, d)
        t_write = time.perf_counter() - t2
    total = t_build + t_write
    peak = _rss_gb()
    print(
        f"build_report {t_build:.1f} s; write_report {t_write:.1f} s; total {total:.1f} s; "
        f"peak RSS {peak:.2f} GB"
    )
    ok = total <= 60 and peak <= 8
    print("within target (<= 60 s, <= 8 GB)" if ok else "OVER TARGET (60 s, 8 GB)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
