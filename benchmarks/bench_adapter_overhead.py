"""Adapter overhead: an optimizer driven through our adapter vs. the same library called directly.

For each case the same library optimizer, with the same settings and seed, runs the same
number of trials on the same cheap objective twice. The objective is what an HPO objective is,
a function of a configuration (a dict of named hyperparameters; here a shifted sphere on the
unit cube, ~3 µs):

* **direct**: the library's own ask/tell loop, as a user of the library would write it for such
  an objective: the library's vector named as a configuration (``dict(zip(names, x))``, the
  space being the unit cube), and pycma's documented ``while not es.stop()`` loop;
* **adapter**: our adapter's ``ask`` (a ``Trial`` with the decoded configuration) →
  objective → ``Result`` → ``tell``.

The ratio adapter / direct is what our layer costs on top of the library (target ≤ 1.05×).
Each figure is the minimum and median over ``--repeats`` alternating rounds, so machine noise
hits both sides alike.

    python benchmarks/bench_adapter_overhead.py [--trials 300] [--repeats 7] [--dims 5] [--case ng_oneplusone]
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from ConfigSpace import ConfigurationSpace, Float

from optimizers.base import Budget, Optimizer, Problem
from optimizers.space_conversion import library_seed
from tasks.base import Objective, Result

SHIFT = 0.3


def sphere(x: np.ndarray) -> float:
    return float(np.sum((x - SHIFT) ** 2))


def objective(config: dict[str, float], names: list[str]) -> float:
    """The benchmark's HPO objective: the sphere of the configuration's values."""
    return sphere(np.fromiter((config[k] for k in names), float, len(names)))


def names_of(dims: int) -> list[str]:
    return [f"x{i}" for i in range(dims)]


def unit_space(dims: int) -> ConfigurationSpace:
    space = ConfigurationSpace(seed=0)
    space.add([Float(f"x{i}", (0.0, 1.0)) for i in range(dims)])
    return space


def adapter_loop(make: Callable[[Problem, int], Optimizer], dims: int, n: int, seed: int) -> float:
    """Seconds for ``n`` trials through the adapter built by ``make``."""
    problem = Problem(unit_space(dims), (Objective("y"),), None, Budget(n))
    names = names_of(dims)
    t0 = time.perf_counter()
    opt = make(problem, seed)
    for _ in range(n):
        trial = opt.ask()
        opt.tell(trial, Result((objective(trial.config, names),)))
    return time.perf_counter() - t0


def nevergrad_direct(name: str) -> Callable[[int, int, int], float]:
    def loop(dims: int, n: int, seed: int) -> float:
        import nevergrad as ng

        names = names_of(dims)
        t0 = time.perf_counter()
        # the same parametrization the adapter builds for a purely continuous space
        arr = ng.p.Array(init=np.full(dims, 0.5), lower=0.0, upper=1.0).set_mutation(sigma=1.0 / 6.0)
        arr.random_state = np.random.RandomState(library_seed(seed))
        opt = ng.optimizers.registry[name](parametrization=arr, budget=n, num_workers=1)
        with warnings.catch_warnings():  # once for the whole loop, as a direct user would
            warnings.simplefilter("ignore")
            for _ in range(n):
                cand = opt.ask()
                opt.tell(cand, objective(dict(zip(names, cand.value.tolist(), strict=True)), names))
        return time.perf_counter() - t0

    return loop


def nevergrad_adapter(name: str) -> Callable[[Problem, int], Optimizer]:
    from optimizers.nevergrad import Nevergrad

    return lambda problem, seed: Nevergrad(problem, seed, optimizer=name)


def optuna_direct(dims: int, n: int, seed: int) -> float:
    import optuna

    t0 = time.perf_counter()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    # the settings of conf/optimizer/optuna_tpe.yaml, as the adapter passes them
    sampler = optuna.samplers.TPESampler(
        seed=library_seed(seed), n_startup_trials=10, multivariate=False, constant_liar=True
    )
    study = optuna.create_study(sampler=sampler)
    dists: dict[str, optuna.distributions.BaseDistribution] = {
        f"x{i}": optuna.distributions.FloatDistribution(0.0, 1.0) for i in range(dims)
    }
    names = list(dists)
    for _ in range(n):
        trial = study.ask(dists)
        study.tell(trial, objective(trial.params, names))
    return time.perf_counter() - t0


def optuna_adapter(problem: Problem, seed: int) -> Optimizer:
    from optimizers.optuna import OptunaTPE

    return OptunaTPE(problem, seed, n_startup_trials=10, multivariate=False)


def cma_direct(dims: int, n: int, seed: int) -> float:
    import cma

    names = names_of(dims)
    t0 = time.perf_counter()
    popsize = 4 + int(3 * np.log(dims))
    opts = {"bounds": [0.0, 1.0], "seed": max(1, library_seed(seed)), "popsize": popsize}
    es = cma.CMAEvolutionStrategy([0.5] * dims, 0.25, {**opts, "verbose": -9, "verb_disp": 0, "verb_log": 0})
    done = 0
    while done < n and not es.stop():  # whole generations: CMA-ES is told complete generations only
        xs = es.ask()
        es.tell(xs, [objective(dict(zip(names, x.tolist(), strict=True)), names) for x in xs])
        done += len(xs)
    return (time.perf_counter() - t0) * n / done


def cma_adapter(problem: Problem, seed: int) -> Optimizer:
    from optimizers.cma_es import CMAES

    return CMAES(problem, seed)


def pymoo_direct(dims: int, n: int, seed: int) -> float:
    from pymoo.algorithms.moo.nsga2 import NSGA2
    from pymoo.core.evaluator import Evaluator
    from pymoo.core.problem import Problem as PymooProblem
    from pymoo.core.termination import NoTermination
    from pymoo.problems.static import StaticProblem

    names = names_of(dims)
    t0 = time.perf_counter()
    problem = PymooProblem(n_var=dims, n_obj=1, xl=np.zeros(dims), xu=np.ones(dims))
    algorithm = NSGA2(pop_size=20)
    algorithm.setup(problem, termination=NoTermination(), seed=library_seed(seed), verbose=False)
    done = 0
    while done < n:
        pop = algorithm.ask()
        X = pop.get("X")
        F = np.array([[objective(dict(zip(names, x.tolist(), strict=True)), names)] for x in X])
        # pymoo's documented ask-and-tell route: setting F on the population and evaluating with
        # the plain problem would overwrite F with nothing (every value inf), so the values go
        # through a StaticProblem, as pymoo's guide and the adapter do
        Evaluator().eval(StaticProblem(problem, F=F), pop)
        algorithm.tell(infills=pop)
        done += len(pop)
    return (time.perf_counter() - t0) * n / done


def pymoo_adapter(problem: Problem, seed: int) -> Optimizer:
    from optimizers.pymoo import PymooNSGA2

    return PymooNSGA2(problem, seed)


@dataclass
class Case:
    name: str
    direct: Callable[[int, int, int], float]
    adapter: Callable[[Problem, int], Optimizer]


def cases() -> list[Case]:
    out = [
        Case(f"ng_{key.lower()}", nevergrad_direct(key), nevergrad_adapter(key))
        for key in ("OnePlusOne", "CMA", "DE")
    ]
    out.append(Case("optuna_tpe", optuna_direct, optuna_adapter))
    out.append(Case("cma_es", cma_direct, cma_adapter))
    out.append(Case("pymoo_nsga2", pymoo_direct, pymoo_adapter))
    return out


def measure(case: Case, dims: int, n: int, repeats: int) -> dict[str, Any]:
    direct: list[float] = []
    adapter: list[float] = []
    case.direct(dims, min(n, 20), 0)  # warm-up: imports and first-use caches
    adapter_loop(case.adapter, dims, min(n, 20), 0)
    for r in range(repeats):
        # alternate the order so a noisy neighbour hits both sides alike
        if r % 2:
            adapter.append(adapter_loop(case.adapter, dims, n, r))
            direct.append(case.direct(dims, n, r))
        else:
            direct.append(case.direct(dims, n, r))
            adapter.append(adapter_loop(case.adapter, dims, n, r))
    ratios = [a / d for a, d in zip(adapter, direct, strict=True)]
    return {
        "case": case.name,
        "direct_us_min": min(direct) / n * 1e6,
        "adapter_us_min": min(adapter) / n * 1e6,
        "ratio_of_mins": min(adapter) / min(direct),
        "ratio_median": statistics.median(ratios),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--trials", type=int, default=300)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--dims", type=int, default=5)
    ap.add_argument("--case", action="append", help="run only these cases (repeatable)")
    args = ap.parse_args()
    print("| case | direct µs/trial (min) | adapter µs/trial (min) | ratio of mins | median ratio |")
    print("|---|---|---|---|---|")
    for case in cases():
        if args.case and case.name not in args.case:
            continue
        m = measure(case, args.dims, args.trials, args.repeats)
        print(
            f"| {m['case']} | {m['direct_us_min']:.0f} | {m['adapter_us_min']:.0f} | "
            f"{m['ratio_of_mins']:.3f} | {m['ratio_median']:.3f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
