"""Harness overhead per trial: random search on bbob f1 2-D, 10,000 trials.

Overhead = (time of a full ``run_one`` — optimizer ask/tell, budget accounting,
logging, parquet write — minus the time of the bare ``task.evaluate`` calls on
the same configurations) / number of trials. Target: ≤ 30 µs per trial.

Against a minimal loop doing the same job (target: ``run_one`` ≤ 1.5× it), measured in the
same rounds: uniform configurations sampled in one numpy call, COCO's function called on each
point directly, one ``(config, value)`` tuple recorded per trial, then the configurations
encoded as JSON and the trials written to a zstd parquet file (what the results file holds,
without the run's bookkeeping: checks, budget, timings, metadata, checksums, fsync).

    python benchmarks/bench_harness_overhead.py [--trials 10000] [--repeats 7] [--task bbob/f01/d40/i01]

``--per-run`` measures the fixed cost of a run instead (target ≤ 1 ms): rounds of 200 one-trial
``run_one`` calls, with the time spent inside ``write_run`` (parquet, checksum, fsync, rename)
taken apart from the rest.

    python benchmarks/bench_harness_overhead.py --per-run [--repeats 7]

``--encode`` times the JSON encoding of a run's configurations alone (10,000 uniform configurations
in 2, 5, 10 and 40 dimensions): ``encode_configs`` as the run writer calls it against one template
per configuration (``_encode_each``, what it did before chunks of one key order were encoded at once).

    python benchmarks/bench_harness_overhead.py --encode [--repeats 7]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

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


def minimal_loop(n_trials: int, out: Path, task_id: str = TASK) -> float:
    """Seconds for the same random search written as plainly as possible (see the module docstring)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from tasks.bbob import BBOBTask

    task = make_task(task_id)
    assert isinstance(task, BBOBTask), f"the minimal loop calls COCO directly: {task_id} is not a bbob task"
    f = task._call  # COCO's function itself
    names = list(task.space.keys())
    hps = [task.space[k] for k in names]
    low = np.array([hp.lower for hp in hps])  # type: ignore[attr-defined]  # bbob spaces are all Float
    high = np.array([hp.upper for hp in hps])  # type: ignore[attr-defined]
    t0 = time.perf_counter()
    xs = np.random.default_rng(0).uniform(low, high, (n_trials, len(names)))
    rows = []
    for x in xs:
        config = dict(zip(names, x.tolist(), strict=True))
        rows.append((config, float(f(x))))
    encode = json.JSONEncoder().encode
    table = pa.table(
        {
            "trial": pa.array(np.arange(n_trials)),
            "config": pa.array([encode(c) for c, _ in rows], pa.string()),
            "value": pa.array(np.array([v for _, v in rows])),
        }
    )
    pq.write_table(table, out / "minimal.parquet", compression="zstd")
    return time.perf_counter() - t0


def per_run(out: Path, repeats: int, n_runs: int = 200) -> None:
    """The fixed cost of one run, and how much of it is the durable write (see the docstring)."""
    import bench.loop as loop

    def spec(seed: int) -> RunSpec:
        return RunSpec(
            study="per_run",
            task=TASK,
            optimizer="random_search",
            optimizer_target="optimizers.random_search.RandomSearch",
            optimizer_params={},
            seed=seed,
            budget=Budget(1),
        )

    for seed in range(10**6, 10**6 + 50):  # warm-up: imports, task cache, first writes
        run_one(spec(seed), out)
    real_write = loop.write_run
    in_write = [0.0]

    def timed_write(*args: Any, **kwargs: Any) -> Path:
        t0 = time.perf_counter()
        try:
            return real_write(*args, **kwargs)
        finally:
            in_write[0] += time.perf_counter() - t0

    loop.write_run = timed_write
    rows = []
    try:
        for r in range(repeats):
            in_write[0] = 0.0
            t0 = time.perf_counter()
            for i in range(n_runs):
                run_one(spec(r * n_runs + i), out)
            total = (time.perf_counter() - t0) / n_runs * 1e3
            rows.append((total, in_write[0] / n_runs * 1e3))
    finally:
        loop.write_run = real_write
    for name, vals in (
        ("run_one ms", [t for t, _ in rows]),
        ("write_run ms", [w for _, w in rows]),
        ("the rest ms", [t - w for t, w in rows]),
    ):
        print(f"{name:12s} median {statistics.median(vals):7.3f}  min {min(vals):7.3f}  max {max(vals):7.3f}")


def encode(repeats: int, n_configs: int = 10_000) -> None:
    """µs per configuration of ``encode_configs`` and of ``_encode_each`` (see the docstring)."""
    import random
    import timeit
    from functools import partial

    from bench.results import _encode_each, encode_configs

    print("| dims | one template per configuration, µs (min) | encode_configs, µs (min) | saved |")
    print("|---:|---:|---:|---:|")
    for dims in (2, 5, 10, 40):
        rnd = random.Random(0)
        configs = [{f"x{i}": rnd.uniform(-5.0, 5.0) for i in range(dims)} for _ in range(n_configs)]
        assert encode_configs(configs) == _encode_each(configs, {})
        each = min(timeit.repeat(partial(_encode_each, configs, {}), number=3, repeat=repeats))
        chunks = min(timeit.repeat(partial(encode_configs, configs), number=3, repeat=repeats))
        each, chunks = (t / 3 / n_configs * 1e6 for t in (each, chunks))
        print(f"| {dims} | {each:.2f} | {chunks:.2f} | {each - chunks:.2f} |")


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
    ap.add_argument("--per-run", action="store_true", help="the fixed cost of a run instead")
    ap.add_argument("--encode", action="store_true", help="the configurations' JSON encoding alone")
    args = ap.parse_args()
    if args.encode:
        encode(args.repeats)
        return
    if args.per_run:
        with tempfile.TemporaryDirectory() as tmp:
            per_run(Path(tmp), args.repeats)
        return
    with tempfile.TemporaryDirectory() as tmp:
        measure(1_000, Path(tmp), args.task)  # warm-up: imports, task cache, first parquet write
        minimal_loop(1_000, Path(tmp), args.task)
        rows = []
        for _ in range(args.repeats):  # alternating, so that load hits both alike
            row = measure(args.trials, Path(tmp), args.task)
            row["minimal_us"] = minimal_loop(args.trials, Path(tmp), args.task) / args.trials * 1e6
            row["ratio"] = row["total_us"] / row["minimal_us"]
            rows.append(row)
    for key in ("total_us", "eval_us", "overhead_us", "minimal_us", "ratio"):
        vals = [r[key] for r in rows]
        print(f"{key:12s} median {statistics.median(vals):7.2f}  min {min(vals):7.2f}  max {max(vals):7.2f}")


if __name__ == "__main__":
    main()
