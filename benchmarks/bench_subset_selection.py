"""Speed and quality of star-discrepancy subset selection (``analysis.subsets.selection``).

n = 1,000 uniform random points in 3-D, k = 30, shift heuristic with a time budget. Target: a
discrepancy of at most 0.097 within 10 s on one core (the published compiled heuristic of Clément,
Doerr & Paquete needs about 27 s for 0.0965). One line per seed (the seed draws the point set and
seeds the search) and budget; the median of random subsets is printed for reference, and the
load average, since the budget is wall time on a possibly shared machine.

Run: ``taskset -c 0 python benchmarks/bench_subset_selection.py --seeds 0 1 2 --budgets 10 20``.
``--exact`` instead times the exact discrepancy (``analysis.subsets.discrepancy.star_discrepancy``) on
random sets: (n=100, d=5), (n=200, d=6), (n=500, d=4) and a 30-point subset against its
1,000-point empirical reference in d = 6.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from analysis.subsets.discrepancy import star_discrepancy
from analysis.subsets.selection import select_subset


def exact_timings(method: str) -> None:
    """Time the exact discrepancy on the sizes of docs/PERFORMANCE.md (seed 0 point sets)."""
    for n, d in ((100, 5), (200, 6), (500, 4), (30, 6)):
        rng = np.random.default_rng(0)
        reference: np.ndarray | str
        if n == 30:  # a subset checked against its empirical reference
            ref = rng.random((1000, d))
            points, reference, label = ref[rng.choice(1000, n, replace=False)], ref, "k=30 vs m=1000"
        else:
            points, reference, label = rng.random((n, d)), "uniform", f"n={n}"
        t = time.perf_counter()
        value = star_discrepancy(points, reference, method=method)
        print(f"{label:>15}  d={d}  D*={value:.4f}  {time.perf_counter() - t:.2f} s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--d", type=int, default=3)
    parser.add_argument("--k", type=int, default=30)
    parser.add_argument("--budgets", type=float, nargs="+", default=[10.0], help="seconds per run")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument(
        "--max-evaluations",
        type=int,
        default=None,
        help="also stop after this many evaluations (deterministic runs)",
    )
    parser.add_argument("--exact", action="store_true", help="time the exact discrepancy instead")
    parser.add_argument("--method", default="auto", help="exact method for --exact")
    args = parser.parse_args()
    if args.exact:
        exact_timings(args.method)
        return
    print(f"n={args.n} d={args.d} k={args.k}; load average {os.getloadavg()[0]:.1f}")
    print("seed  budget  shift   evaluations  seconds  random median")
    for seed in args.seeds:
        x = np.random.default_rng(seed).random((args.n, args.d))
        rnd = np.median([select_subset(x, args.k, method="random", seed=s).discrepancy for s in range(20)])
        for budget in args.budgets:
            t = time.perf_counter()
            sel = select_subset(
                x, args.k, seed=seed, time_budget=budget, max_evaluations=args.max_evaluations
            )
            print(
                f"{seed:>4}  {budget:>6.0f}  {sel.discrepancy:.4f}  {sel.evaluations:>11}  "
                f"{time.perf_counter() - t:>7.1f}  {rnd:.3f}",
                flush=True,
            )
    print(f"load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
