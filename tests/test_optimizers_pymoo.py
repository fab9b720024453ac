"""pymoo adapters (NSGA-II, NSGA-III, MOEA/D, SMS-EMOA): behaviour beyond the contract suite.

The adapter must replay pymoo's own loop bit for bit, make NSGA-II's population beat random
search in hypervolume, hand out one generation at a time (waiting on pending trials), size
NSGA-III/MOEA/D from the reference directions, keep configurations valid on mixed,
conditional and forbidden spaces, and (all but NSGA-II) refuse single-objective tasks at planning time.
"""

from __future__ import annotations

import math
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from ConfigSpace import CategoricalHyperparameter, ConfigurationSpace, Float, Integer, OrdinalHyperparameter

from bench.contract import resolve
from bench.registry import make_task
from optimizers.base import Budget, Optimizer, Problem, SearchExhausted, Trial, WaitForPending
from optimizers.contract import ContractTask, check_task, conditional_space
from optimizers.pymoo import (
    PymooMOEAD,
    PymooNSGA2,
    PymooNSGA3,
    PymooSMSEMOA,
    das_dennis_directions,
    das_dennis_partitions,
)
from optimizers.random_search import RandomSearch
from optimizers.sampling import validate
from tasks.base import Objective, Result, Task

pytest.importorskip("pymoo", reason="the pymoo adapters need the `pymoo` extra")

IDS = ["pymoo_nsga2", "pymoo_nsga3", "pymoo_moead", "pymoo_smsemoa"]
#: Small populations so that a few dozen trials run several generations.
SMALL: dict[str, dict[str, Any]] = {
    "pymoo_nsga2": {"pop_size": 6},
    "pymoo_nsga3": {"max_ref_dirs": 6},
    "pymoo_moead": {"max_ref_dirs": 6, "n_neighbors": 3},
    "pymoo_smsemoa": {"pop_size": 6},
}
TWO = (Objective("f1"), Objective("f2"))


def build(optimizer_id: str, task: Task, n_trials: int, seed: int = 0, **params: Any) -> Optimizer:
    _, cls, merged = resolve(optimizer_id, params)
    return cls(Problem(task.space, task.objectives, task.fidelity, Budget(n_trials)), seed, **merged)


def run(opt: Optimizer, task: Task, n_trials: int) -> tuple[list[dict[str, Any]], np.ndarray]:
    """The sequential loop: configurations and the (minimization) values of every trial."""
    configs, values = [], []
    for k in range(n_trials):
        trial = opt.ask()
        result = task.evaluate(trial.config, None, seed=k)
        opt.tell(trial, result)
        configs.append(trial.config)
        values.append(result.values)
    return configs, np.array(values, dtype=float)


# ----------------------------------------------------------------------------- it is pymoo


@pytest.mark.parametrize("optimizer_id", IDS)
def test_adapter_replays_pymoos_own_loop_bit_for_bit(optimizer_id: str) -> None:
    """One individual per ask, the generation told when complete: the same individuals as pymoo's
    own ask → evaluate → tell loop on ZDT1 with the same seed (so no operator, repair or
    random number differs on continuous spaces)."""
    from pymoo.algorithms.moo.moead import MOEAD
    from pymoo.algorithms.moo.nsga2 import NSGA2
    from pymoo.algorithms.moo.nsga3 import NSGA3
    from pymoo.algorithms.moo.sms import SMSEMOA
    from pymoo.core.individual import Individual
    from pymoo.core.population import Population
    from pymoo.core.termination import NoTermination
    from pymoo.problems import get_problem

    from optimizers.space_conversion import library_seed

    zdt1 = get_problem("zdt1", n_var=4)
    space = ConfigurationSpace({f"x{i}": (0.0, 1.0) for i in range(4)}, seed=0)
    n = 40

    def zdt1_values(config: dict[str, Any]) -> tuple[float, ...]:
        x = np.array([[config[f"x{i}"] for i in range(4)]])
        return tuple(float(v) for v in zdt1.evaluate(x)[0])

    _, cls, params = resolve(optimizer_id, SMALL[optimizer_id])
    opt = cls(Problem(space, TWO, None, Budget(n)), 7, **params)
    ours = []
    for _ in range(n):
        trial = opt.ask()
        ours.append([trial.config[f"x{i}"] for i in range(4)])
        opt.tell(trial, Result(zdt1_values(trial.config)))

    natives = {
        "pymoo_nsga2": lambda: NSGA2(pop_size=6),
        "pymoo_nsga3": lambda: NSGA3(das_dennis_directions(2, None, 6)),
        "pymoo_moead": lambda: MOEAD(das_dennis_directions(2, None, 6), n_neighbors=3),
        "pymoo_smsemoa": lambda: SMSEMOA(pop_size=6, n_offsprings=1),
    }
    algorithm = natives[optimizer_id]()
    algorithm.setup(zdt1, termination=NoTermination(), seed=library_seed(7))
    theirs: list[list[float]] = []
    while len(theirs) < n:
        batch = algorithm.ask()
        pop = Population.create(batch) if isinstance(batch, Individual) else batch
        algorithm.evaluator.eval(zdt1, pop)
        theirs.extend(pop.get("X").tolist())
        algorithm.tell(infills=batch)
    assert ours == theirs[:n]


@pytest.mark.parametrize(("optimizer_id", "n_obj"), [*((i, 2) for i in IDS), ("pymoo_nsga2", 1)])
def test_a_float_box_runs_without_repair_and_gives_the_trials_of_the_clipping_repair(
    optimizer_id: str, n_obj: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On floats (log-scaled ones included) without forbidden clauses the adapter passes pymoo no
    repair (the repair would only clip, and pymoo's operators stay in the box): the trials must
    equal those with the clipping repair, over enough generations for SBX and mutation to hit
    the bounds."""
    import optimizers.pymoo as adapter

    space = ConfigurationSpace(seed=0)
    space.add([Float("a", (-2.0, 2.0)), Float("b", (1e-3, 10.0), log=True), Float("c", (0.0, 1.0))])
    problem = Problem(space, tuple(Objective(f"f{i}") for i in range(n_obj)), None, Budget(200))

    def trials() -> list[dict[str, Any]]:
        _, cls, params = resolve(optimizer_id, SMALL[optimizer_id])
        opt = cls(problem, 11, **params)
        out = []
        for _ in range(200):
            trial = opt.ask()
            x = np.array([trial.config["a"], math.log(trial.config["b"]), trial.config["c"]])
            # optima on the bounds, so that offspring are pushed against them
            values = (float(np.sum((x - 2.5) ** 2)), float(np.sum((x + 3.0) ** 2)))[:n_obj]
            opt.tell(trial, Result(values))
            out.append(trial.config)
        return out

    plain = trials()
    cls = resolve(optimizer_id, {})[1]
    original = cls.make_algorithm

    def with_repair(self: Any, n: int, repair: Any) -> Any:
        assert repair is None  # a float box: no repair
        return original(self, n, adapter._snap_repair(self._box))

    monkeypatch.setattr(cls, "make_algorithm", with_repair)
    assert trials() == plain
    # the search pressed against the bounds, where an out-of-box offspring would show
    assert max(config["a"] for config in plain) > 1.9


# ----------------------------------------------------------------------------- it optimizes


def _hypervolume(points: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> float:
    """Hypervolume after min-max normalization to [lo, hi], reference point 1.1 (the study's convention)."""
    from pymoo.indicators.hv import HV

    return float(HV(ref_point=np.full(points.shape[1], 1.1))((points - lo) / (hi - lo)))


def test_nsga2_final_population_beats_random_search_in_hypervolume() -> None:
    """ZDT1 (6-D), 100 trials, NSGA-II's defaults (population 20: 4 generations after the initial
    one): the final population's hypervolume beats random search's whole front on most seeds
    and on average. Both are normalized together over the front of their union."""
    from pymoo.util.nds.non_dominated_sorting import NonDominatedSorting

    task = make_task("synthetic/zdt1")
    n, wins, margins = 100, 0, []
    for seed in range(5):
        opt = build("pymoo_nsga2", task, n, seed)
        run(opt, task, n)
        population = np.asarray(opt._algorithm.pop.get("F"), dtype=np.float64)  # type: ignore[attr-defined]
        _, random_values = run(RandomSearch(opt.problem, seed), task, n)
        union = np.vstack([population, random_values])
        front = union[NonDominatedSorting().do(union, only_non_dominated_front=True)]
        lo, hi = front.min(axis=0), front.max(axis=0)
        ours, theirs = _hypervolume(population, lo, hi), _hypervolume(random_values, lo, hi)
        wins += ours > theirs
        margins.append(ours - theirs)
    assert wins >= 4 and np.mean(margins) > 0.1, (wins, margins)


def test_nsga2_on_one_objective_beats_random_search() -> None:
    """Single-objective NSGA-II (an elitist real-coded GA): Branin, 100 trials, default population."""
    task = make_task("synthetic/branin")
    wins = 0
    for seed in range(5):
        opt = build("pymoo_nsga2", task, 100, seed)
        _, ours = run(opt, task, 100)
        _, theirs = run(RandomSearch(opt.problem, seed), task, 100)
        wins += ours.min() < theirs.min()
    assert wins >= 4


# ----------------------------------------------------------------------------- generations and pending trials


def _two_objectives(config: dict[str, Any]) -> Result:
    x = np.array([v for _, v in sorted(config.items()) if isinstance(v, float)])
    return Result((float(np.sum(x**2)), float(np.sum((x - 1.0) ** 2))))


def _continuous_problem(n_trials: int = 40, n_obj: int = 2) -> Problem:
    space = ConfigurationSpace({"a": (-2.0, 2.0), "b": (-2.0, 2.0)}, seed=0)
    return Problem(space, tuple(Objective(f"f{i}") for i in range(n_obj)), None, Budget(n_trials))


def test_a_generation_is_handed_out_one_trial_at_a_time_and_waits_for_pending() -> None:
    opt = PymooNSGA2(_continuous_problem(), seed=0, pop_size=5)
    first = [opt.ask() for _ in range(5)]
    with pytest.raises(WaitForPending, match="5 not told yet"):
        opt.ask()
    for trial in first[:4]:
        opt.tell(trial, _two_objectives(trial.config))
    with pytest.raises(WaitForPending, match="1 not told yet"):
        opt.ask()
    opt.tell(first[4], _two_objectives(first[4].config))
    assert opt.ask().meta["pymoo_batch"] == 1  # the first offspring generation
    with pytest.raises(ValueError, match="never handed out"):
        opt.tell(Trial({"a": 0.0, "b": 0.0}, meta={"pymoo_batch": 0, "pymoo_index": 0}), Result((0.0, 0.0)))


def _trials_told_in(order: Callable[[list[Trial]], list[Trial]]) -> list[dict[str, Any]]:
    """Three generations of NSGA-II, each asked in full before its results are told in ``order``."""
    opt = PymooNSGA2(_continuous_problem(), seed=3, pop_size=4)
    configs = []
    for _ in range(3):
        batch = [opt.ask() for _ in range(4)]
        configs += [t.config for t in batch]
        for trial in order(batch):
            opt.tell(trial, _two_objectives(trial.config))
    return configs


def test_results_told_out_of_order_give_the_same_next_generation() -> None:
    assert _trials_told_in(lambda b: list(reversed(b))) == _trials_told_in(list)


def test_steady_state_methods_propose_one_offspring_per_batch() -> None:
    for cls, params in [(PymooSMSEMOA, {"pop_size": 4}), (PymooMOEAD, {"max_ref_dirs": 4, "n_neighbors": 2})]:
        opt = cls(_continuous_problem(), seed=0, **params)
        initial = [opt.ask() for _ in range(4)]
        for trial in initial:
            opt.tell(trial, _two_objectives(trial.config))
        child = opt.ask()
        with pytest.raises(WaitForPending):
            opt.ask()
        opt.tell(child, _two_objectives(child.config))
        assert opt.ask().meta["pymoo_batch"] == 2


@pytest.mark.parametrize(("n_obj", "expected"), [(2, 20), (3, 15)])
@pytest.mark.parametrize("cls", [PymooNSGA3, PymooMOEAD])
def test_reference_direction_methods_size_the_population_from_the_directions(
    cls: type[Optimizer], n_obj: int, expected: int
) -> None:
    assert len(das_dennis_directions(n_obj, None, 20)) == expected
    opt = cls(_continuous_problem(n_obj=n_obj), seed=0)
    asked = 0
    with pytest.raises(WaitForPending):
        while True:
            opt.ask()
            asked += 1
    assert asked == expected
    assert [das_dennis_partitions(m, 20) for m in (2, 3, 4)] == [19, 4, 3]


# ----------------------------------------------------------------------------- spaces and results


def _mixed_mo_space() -> ConfigurationSpace:
    space = ConfigurationSpace(seed=0)
    space.add(
        Float("x", (-5.0, 5.0)),
        Float("lr", (1e-4, 1.0), log=True),
        Integer("units", (8, 512), log=True),
        Integer("n", (1, 4)),
        OrdinalHyperparameter("size", ["s", "m", "l"]),
        CategoricalHyperparameter("c", ["a", "b", "c", "d"]),
    )
    return space


@pytest.mark.parametrize("optimizer_id", IDS)
def test_offspring_are_valid_and_deterministic_on_mixed_conditional_and_forbidden_spaces(
    optimizer_id: str,
) -> None:
    """The contract suite sees only the initial (random) population; run several generations on
    a mixed space and on a conditional space with a forbidden clause, two objectives: valid,
    same seed same trials even under another global RNG state, other seed other trials."""
    for space in (_mixed_mo_space(), conditional_space()):
        task = ContractTask(f"pymoo/{optimizer_id}", space, n_objectives=2)
        _, cls, params = resolve(optimizer_id, SMALL[optimizer_id])
        check_task(cls, params, task, n_trials=30)


def test_categorical_genes_stay_categories_and_offspring_mix_them() -> None:
    space = ConfigurationSpace(seed=0)
    space.add(
        Float("x", (0.0, 1.0)),
        *(CategoricalHyperparameter(f"c{i}", ["a", "b", "c", "d", "e"]) for i in range(4)),
    )
    task = ContractTask("pymoo/categorical", space, n_objectives=2)
    opt = build("pymoo_nsga2", task, 60, seed=1, pop_size=8)
    configs, _ = run(opt, task, 60)
    genes = np.asarray(opt._algorithm.pop.get("X"), dtype=np.float64)  # type: ignore[attr-defined]
    assert np.array_equal(genes[:, :4], np.round(genes[:, :4]))  # index-coded, snapped
    for config in configs:
        validate(space, config)
    # Offspring combine categories of their parents: not stuck on the initial combinations.
    initial = {tuple(c[f"c{i}"] for i in range(4)) for c in configs[:8]}
    later = {tuple(c[f"c{i}"] for i in range(4)) for c in configs[8:]}
    assert later - initial


def test_maximized_objectives_are_negated_and_crashed_results_survive() -> None:
    problem = Problem(
        _continuous_problem().space, (Objective("err"), Objective("acc", minimize=False)), None, Budget(8)
    )
    opt = PymooNSGA2(problem, seed=0, pop_size=4)
    for k in range(4):
        trial = opt.ask()
        opt.tell(trial, Result((float(k), math.nan if k == 3 else 0.5 + k)))
    told = np.asarray(opt._algorithm.pop.get("F"), dtype=np.float64)
    assert sorted(told[:, 1].tolist()) == [-2.5, -1.5, -0.5, -0.5]  # the nan: the worst loss seen (-0.5)
    opt.ask()


def test_a_space_smaller_than_the_population_is_exhausted_not_looped_on() -> None:
    """pymoo drops duplicate individuals (decoded configurations, thanks to the snapping repair):
    three configurations give an initial population of three, then no new offspring."""
    space = ConfigurationSpace({"k": ["a", "b", "c"]}, seed=0)
    opt = PymooNSGA2(Problem(space, TWO, None, Budget(50)), seed=0, pop_size=4)
    seen = []
    with pytest.raises(SearchExhausted, match="duplicate"):
        for _ in range(50):
            trial = opt.ask()
            seen.append(trial.config["k"])
            opt.tell(trial, Result((float(len(seen)), -float(len(seen)))))
    assert sorted(seen) == ["a", "b", "c"]


# ----------------------------------------------------------------------------- planning


def test_params_are_validated_before_any_run() -> None:
    assert (
        PymooNSGA2.check_params({"pop_size": 1}) == "pymoo NSGA-II pop_size=1 is invalid: use an integer >= 2"
    )
    assert "did you mean 'pop_size'" in str(PymooNSGA2.check_params({"popsize": 10}))
    assert "expected an integer" in str(PymooSMSEMOA.check_params({"pop_size": "big"}))
    assert "n_partitions=0" in str(PymooNSGA3.check_params({"n_partitions": 0}))
    assert "n_neighbors=1" in str(PymooMOEAD.check_params({"n_neighbors": 1}))
    assert all(resolve(i)[1].check_params(resolve(i)[2]) is None for i in IDS)  # the shipped YAMLs
    with pytest.raises(ValueError, match="smaller than its 20 reference directions"):
        PymooNSGA3(_continuous_problem(), seed=0, pop_size=10)


def test_single_objective_tasks_are_refused_except_by_nsga2_and_constant_spaces_by_all() -> None:
    single = Problem(_continuous_problem().space, (Objective("y"),), None, Budget(10))
    for optimizer_id in ["pymoo_nsga3", "pymoo_moead", "pymoo_smsemoa"]:
        assert "multi-objective only" in str(resolve(optimizer_id)[1].incompatibility(single))
    assert PymooNSGA2.incompatibility(single) is None
    constant = Problem(ConfigurationSpace({"c": "fixed"}), TWO, None, Budget(10))
    assert "non-constant" in str(PymooNSGA2.incompatibility(constant))


@pytest.mark.slow
def test_single_objective_task_is_refused_at_planning_time_through_the_cli(
    bench: Callable[..., subprocess.CompletedProcess[str]],
    one_line_error: Callable[[subprocess.CompletedProcess[str], Path], str],
    tmp_path: Path,
) -> None:
    proc = bench(tmp_path, "optimizer=pymoo_smsemoa", "task=bbob/f01/d02/i01", "n_trials=5")
    line = one_line_error(proc, tmp_path)
    assert "pymoo_smsemoa" in line and "multi-objective only" in line
