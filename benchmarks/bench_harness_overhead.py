"""Harness overhead per trial: random search on bbob f1 2-D, 10,000 trials.

Overhead = (time of a full ``run_one`` — optimizer ask/tell, budget accounting,
logging, parquet write — minus the time of the bare ``task.evaluate`` calls on
the same configurations) / number of trials. Target: ≤ 30 µs per trial.

    python benchmarks/bench_harness_overhead.py [--trials 10000] [--repeats 7] [--task bbob/f01/d40/i01]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from bench.loop import run_one
from bench.registry import make_task
from bench.results import load
from bench.spec import RunSpec
from optimizers.base import Budget

TASK = "bbob/f01/d02/i01"


def measure(n_trials: int, out: Path, task_id: str = TASK) -> dict[str, float]:
    spec = RunSpec(
        study="overhead",
        task=task_id,
        optimizer="random_search",
        optimizer_target="optimizers.random_search.RandomSearch",
        optimizer_params={},
        seed=0,
        budget=Budget(n_trials),
    )
    path = out / "overhead" / "runs" / f"{spec.run_id}.parquet"
    path.unlink(missing_ok=True)
    t0 = time.perf_counter()
    outcome = run_one(spec, out)
    total = time.perf_counter() - t0
    assert outcome.status == "ok" and outcome.n_trials == n_trials, outcome
    configs = [json.loads(c) for c in load(path, columns=["config"])["config"]]
    task = make_task(task_id)
    evaluate = task.evaluate
    t0 = time.perf_counter()
    for i, c in enumerate(configs):
        evaluate(c, None, i)
    bare = time.perf_counter() - t0
    return {
        "total_us": total / n_trials * 1e6,
        "eval_us": bare / n_trials * 1e6,
        "overhead_us": (total - bare) / n_trials * 1e6,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--trials", type=int, default=10_000)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument(
        "--task",
        default=TASK,
        help="task id (default: %(default)s; bbob/f01/d40/i01 shows "
        "how the per-trial config check grows with dimension)",
    )
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        measure(1_000, Path(tmp), args.task)  # warm-up: imports, task cache, first parquet write
        rows = [measure(args.trials, Path(tmp), args.task) for _ in range(args.repeats)]
    for key in ("total_us", "eval_us", "overhead_us"):
        vals = [r[key] for r in rows]
        print(f"{key:12s} median {statistics.median(vals):7.2f}  min {min(vals):7.2f}  max {max(vals):7.2f}")


if __name__ == "__main__":
    main()
