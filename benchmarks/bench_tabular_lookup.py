"""Lookup speed of the tabular core (``tasks.tabular``).

Builds an FCNet-sized table (9 grid parameters, 62,208 configurations, 4 seeds,
3 metrics) in memory and times:

* ``Table.lookup`` of one configuration given as a dict (target: at most 3 µs);
* ``Table.lookup_batch`` of configurations given as columns (target: at most 0.3 µs each);
* ``Table.lookup_batch`` of a list of dicts, and ``TabularTask.evaluate`` (with its
  ``Result``), for reference.

Run: ``python benchmarks/bench_tabular_lookup.py [--batch 100000]``.
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable

import numpy as np

from tasks.collections.simple_hpo import SOURCES
from tasks.tabular import Table, TabularTask

# FCNet's real grid (62,208 configurations), the largest table shape the suite ships loaders for.
GRID = SOURCES["fcnet"].grid


def best_per_call(fn: Callable[[], object], calls: int, repeats: int = 5) -> float:
    """Best mean seconds per call over ``repeats`` rounds of ``calls`` calls."""
    best = math.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(calls):
            fn()
        best = min(best, (time.perf_counter() - t0) / calls)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=100_000, help="configurations per batched lookup")
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    n_configs = math.prod(len(v) for v in GRID.values())
    table = Table(
        "bench",
        GRID,
        rng.random((n_configs, 4, 1, 3)),
        ("val_loss", "train_time", "model_size"),
        cost_metric="train_time",
    )
    task = TabularTask(table, "bench/fcnet-like")
    configs = [dict(c) for c in task.space.sample_configuration(1000)]
    one = configs[0]

    single = best_per_call(lambda: table.lookup(one, None, 3), calls=100_000)
    plain = {k: (v.item() if isinstance(v, np.generic) else v) for k, v in one.items()}
    single_plain = best_per_call(lambda: table.lookup(plain, None, 3), calls=100_000)
    evaluate = best_per_call(lambda: task.evaluate(one, None, 3), calls=20_000)

    idx = rng.integers(n_configs, size=args.batch)
    columns = {
        p: np.asarray(v)[(idx // s) % len(v)] for (p, v), s in zip(GRID.items(), table._strides, strict=True)
    }
    batch_cols = best_per_call(lambda: table.lookup_batch(columns, seed=1), calls=3) / args.batch
    dicts = [table.config_at(int(i)) for i in idx[:20_000]]
    batch_dicts = best_per_call(lambda: table.lookup_batch(dicts, seed=1), calls=3) / len(dicts)
    assert np.array_equal(table.lookup_batch(columns, seed=1)[:5], table.data[idx[:5], 1, 0])

    keys, lut = list(range(9)), {i: i for i in range(9)}

    def nine_lookups() -> None:
        for k in keys:
            lut[k]

    calib = best_per_call(nine_lookups, calls=100_000)
    print(f"calibration: 9 Python dict look-ups: {calib * 1e6:.3f} us (about 0.2-0.3 us on an idle machine)")
    print(f"table: {n_configs} configs x {table.n_seeds} seeds x {len(table.metrics)} metrics")
    print(f"Table.lookup (ConfigSpace dict)  : {single * 1e6:7.3f} us   (target <= 3 us; numpy scalars)")
    print(f"Table.lookup (plain Python dict) : {single_plain * 1e6:7.3f} us   (target <= 3 us)")
    print(f"Table.lookup_batch (columns)     : {batch_cols * 1e6:7.3f} us/config (target <= 0.3 us)")
    print(f"Table.lookup_batch (list of dict): {batch_dicts * 1e6:7.3f} us/config")
    print(f"TabularTask.evaluate (Result)    : {evaluate * 1e6:7.3f} us")


if __name__ == "__main__":
    main()
