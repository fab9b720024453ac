"""Speed and quality of star-discrepancy subset selection (``analysis.subset``).

n = 1,000 uniform random points in 3-D, k = 30, shift heuristic with a time budget. Target: a
discrepancy of at most 0.097 within 10 s on one core (the published compiled heuristic of Clément,
Doerr & Paquete needs about 27 s for 0.0965). Random and greedy baselines are printed for reference.

Run: ``python benchmarks/bench_subset_selection.py [--n 1000 --k 30 --budget 10 --seed 0]``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from analysis.subset import select_subset


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--d", type=int, default=3)
    parser.add_argument("--k", type=int, default=30)
    parser.add_argument("--budget", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    x = np.random.default_rng(args.seed).random((args.n, args.d))
    rnd = [select_subset(x, args.k, method="random", seed=s).discrepancy for s in range(20)]
    print(f"random   : median {np.median(rnd):.4f}, best of 20 {min(rnd):.4f}")
    t = time.perf_counter()
    sel = select_subset(x, args.k, seed=args.seed, time_budget=args.budget)
    print(f"shift    : {sel.discrepancy:.4f} in {time.perf_counter() - t:.1f} s "
          f"({sel.evaluations} evaluations; target <= 0.097 in 10 s)")


if __name__ == "__main__":
    main()
