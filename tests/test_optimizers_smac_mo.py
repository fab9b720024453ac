"""SMAC3 multi-objective variants (carps' SMAC3-MO-GP, -MO-RF, -MOMF-GP, -MOMF-RF) through ParEGO."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from ConfigSpace import ConfigurationSpace

from optimizers.base import Budget, Optimizer, Problem, Trial
from optimizers.sampling import validate
from tasks.base import Fidelity, Objective, Result, Task, TaskMeta, task_type

pytest.importorskip("smac", reason="the SMAC3 adapters need the `smac` extra")

from optimizers.smac import (
    SmacMultiFidelity,
    SmacParEGO,
    SmacParEGOBlackBox,
    SmacParEGOMultiFidelity,
    SmacParEGOMultiFidelityGP,
)

FIDELITY = Fidelity("epochs", 1.0, 9.0)
MOMF = (SmacParEGOMultiFidelity, SmacParEGOMultiFidelityGP)


class TwoSpheres(Task):
    """Two shifted spheres on ``[-1, 1]^2``, plus a penalty at low fidelity (one objective: the first)."""

    def __init__(self, fidelity: Fidelity | None = FIDELITY, n_objectives: int = 2) -> None:
        self.id = "test/two-spheres"
        self.space = ConfigurationSpace({"x": (-1.0, 1.0), "y": (-1.0, 1.0), "c": ["a", "b"]}, seed=0)
        self.objectives = (Objective("f1"), Objective("f2"))[:n_objectives]
        self.fidelity = fidelity
        self.meta = TaskMeta(family="test", type=task_type(n_objectives, fidelity), kind="synthetic", dims=3)

    def evaluate(self, config: Mapping[str, Any], fidelity: float | None = None, seed: int = 0) -> Result:
        x, y = float(config["x"]), float(config["y"])
        gap = 0.0 if fidelity is None or self.fidelity is None else 1.0 - self.fidelity.fraction(fidelity)
        values = ((x - 0.5) ** 2 + y**2 + gap, (x + 0.5) ** 2 + y**2 + gap)
        return Result(values[: len(self.objectives)], cost=1.0)


def problem_of(task: Task, n_trials: float = 10) -> Problem:
    return Problem(task.space, task.objectives, task.fidelity, Budget(n_trials))


def run(opt: Optimizer, task: Task, n: int) -> list[tuple[dict[str, Any], float | None, tuple[float, ...]]]:
    """Ask, evaluate, tell ``n`` times, checking every trial is valid for ``task``."""
    trace = []
    for _ in range(n):
        trial = opt.ask()
        validate(task.space, trial.config)
        if task.fidelity is not None and trial.fidelity is not None:
            assert task.fidelity.contains(trial.fidelity)
        result = task.evaluate(trial.config, trial.fidelity)
        opt.tell(trial, result)
        trace.append((dict(trial.config), trial.fidelity, result.values))
    return trace


# ----------------------------------------------------------------------------- configuration


@pytest.mark.parametrize(
    ("cls", "facade", "model", "incumbents"),
    [
        (SmacParEGO, "HyperparameterOptimizationFacade", "RandomForest", None),
        (SmacParEGOBlackBox, "BlackBoxFacade", "GaussianProcess", None),
        (SmacParEGOMultiFidelity, "MultiFidelityFacade", "RandomForest", "highest_budget"),
        (SmacParEGOMultiFidelityGP, "BlackBoxFacade", "GaussianProcess", "highest_budget"),
    ],
)
def test_facades_are_configured_as_in_carps(
    cls: type[Optimizer], facade: str, model: str, incumbents: str | None
) -> None:
    task = TwoSpheres(FIDELITY if cls.requires_fidelity else None)
    smac = cls(problem_of(task), 0, rho=0.1)._facade  # type: ignore[attr-defined]
    assert (type(smac).__name__, type(smac._model).__name__) == (facade, model)
    parego = smac._runhistory_encoder.multi_objective_algorithm
    assert type(parego).__name__ == "ParEGO" and parego._rho == 0.1
    if incumbents is None:
        assert smac.scenario.min_budget is None
    else:  # Hyperband(eta=3) over the task's fidelity range (incumbents: see SmacParEGOMultiFidelity)
        assert type(smac.intensifier).__name__ == "Hyperband"
        assert (smac.intensifier._eta, smac.intensifier._incumbent_selection) == (3, incumbents)
        assert (smac.scenario.min_budget, smac.scenario.max_budget) == (1.0, 9.0)


def test_refusals_name_the_alternative_and_bad_params_raise() -> None:
    single = problem_of(TwoSpheres(n_objectives=1))
    assert "use smac_bb" in (SmacParEGOBlackBox.incompatibility(single) or "")
    assert "use smac_mf" in (SmacParEGOMultiFidelityGP.incompatibility(single) or "")
    no_fidelity = problem_of(TwoSpheres(fidelity=None))
    assert SmacParEGOBlackBox.incompatibility(no_fidelity) is None
    for cls in MOMF:
        assert "no fidelity axis" in (cls.incompatibility(no_fidelity) or "")
        assert "single value" in (cls.incompatibility(problem_of(TwoSpheres(Fidelity("e", 3, 3)))) or "")
        assert cls.check_params({"eta": 3, "rho": 0.05, "min_fidelity": 2.0}) is None
    assert "eta" in (SmacParEGOBlackBox.check_params({"eta": 3}) or "")  # no brackets without fidelity
    with pytest.raises(ValueError, match="eta=1 is not valid"):
        SmacParEGOMultiFidelity(problem_of(TwoSpheres()), 0, eta=1)
    with pytest.raises(ValueError, match="rho=0 is not valid"):
        SmacParEGOMultiFidelityGP(problem_of(TwoSpheres()), 0, rho=0)


def test_cli_refuses_momf_on_a_task_without_fidelity(tmp_path: Path) -> None:
    argv = ["optimizer=smac_momf_rf", "task=bbob-biobj/f01/d02/i01", "n_trials=3", f"output_dir={tmp_path}"]
    proc = subprocess.run([sys.executable, "-m", "bench", *argv], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert "fidelity" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


# ----------------------------------------------------------------------------- fidelities and pending trials


def test_momf_runs_the_same_hyperband_brackets_as_smac_mf() -> None:
    """eta=3 on [1, 9]: 9 configs at 1, the best 3 at 3, the best at 9, then the next brackets."""
    one = TwoSpheres(n_objectives=1)
    single = [f for _, f, _ in run(SmacMultiFidelity(problem_of(one), 0), one, 20)]
    assert single[:13] == [1.0] * 9 + [3.0] * 3 + [9.0]
    for cls in MOMF:  # the default initial design covers these 20 trials: no model fit, fast
        assert [f for _, f, _ in run(cls(problem_of(TwoSpheres()), 0), TwoSpheres(), 20)] == single


def test_momf_promotes_by_pareto_dominance() -> None:
    """Successive halving promotes by non-dominated sorting: no config left in rung 0 beats one promoted."""
    trace = run(SmacParEGOMultiFidelity(problem_of(TwoSpheres()), 1), TwoSpheres(), 12)
    rung0 = {json.dumps(c, sort_keys=True): np.array(v) for c, _, v in trace[:9]}
    promoted = [json.dumps(c, sort_keys=True) for c, _, _ in trace[9:12]]
    assert [f for _, f, _ in trace[9:12]] == [3.0] * 3 and set(promoted) <= set(rung0)
    for key in promoted:
        mine = rung0[key]
        left = [v for k, v in rung0.items() if k not in promoted]
        assert not any(np.all(v <= mine) and np.any(v < mine) for v in left)


def test_momf_takes_pending_trials() -> None:
    task = TwoSpheres()
    opt = SmacParEGOMultiFidelity(problem_of(task), 2)
    outstanding = [opt.ask() for _ in range(5)]  # five simulated workers busy at once
    for trial in reversed(outstanding):
        validate(task.space, trial.config)
        opt.tell(trial, task.evaluate(trial.config, trial.fidelity))
    assert len({json.dumps(t.config, sort_keys=True) for t in outstanding}) == 5
    run(opt, task, 10)
    with pytest.raises(ValueError, match="was not asked"):
        opt.tell(Trial({"x": 0.0, "y": 0.0, "c": "a"}, 1.0, {"smac_trial": 0}), Result((0.0, 0.0)))


@pytest.mark.slow
def test_gp_variants_fit_their_gaussian_process() -> None:
    """The last trial of each run is the GP's proposal (one fit each: seconds).

    Hyperband draws a bracket's first rung at once: on [1, 3] with eta=3, the 3 configs at
    fidelity 1 are the design's and random ones, the 4th trial promotes one, the 5th opens
    the next bracket with the model.
    """
    short = TwoSpheres(Fidelity("epochs", 1.0, 3.0))
    for cls, task, n in ((SmacParEGOBlackBox, TwoSpheres(None), 3), (SmacParEGOMultiFidelityGP, short, 5)):
        opt = cls(problem_of(task), 0, n_initial_configs=2)
        trace = run(opt, task, n - 1)
        assert not opt._facade._model._is_trained
        trace += run(opt, task, 1)
        assert opt._facade._model._is_trained
        assert trace[-1][0] not in [c for c, _, _ in trace[:-1]]  # a new configuration


# ----------------------------------------------------------------------------- behaviour on real tasks


@pytest.mark.slow
def test_mo_rf_hypervolume_beats_random_search() -> None:
    """smac_parego (carps' SMAC3-MO-RF) against random search on bbob-biobj f01 (two spheres), 30 trials."""
    moocore = pytest.importorskip("moocore")
    from bench.registry import make_task
    from optimizers.random_search import RandomSearch

    task = make_task("bbob-biobj/f01/d02/i01")
    gains = []
    for seed in (0, 1):
        fronts = []
        for opt in (SmacParEGO(problem_of(task, 30), seed), RandomSearch(problem_of(task, 30), seed)):
            points = np.array([v for _, _, v in run(opt, task, 30)])
            fronts.append(points[moocore.is_nondominated(points)])
        # Both fronts scaled to [0, 1] over their union, reference point 1.1: the usual HV setup.
        union = np.vstack(fronts)
        low, high = union.min(axis=0), union.max(axis=0)
        smac_hv, random_hv = (moocore.hypervolume((f - low) / (high - low), ref=[1.1, 1.1]) for f in fronts)
        gains.append(smac_hv - random_hv)
    assert np.mean(gains) > 0.0, gains


@pytest.mark.slow
def test_momf_rf_on_lcdb_uses_several_fidelities() -> None:
    from bench.registry import make_task

    task = make_task("lcdb/3/mo")
    assert task.fidelity is not None and task.fidelity.values is not None
    trace = run(SmacParEGOMultiFidelity(problem_of(task, 3), 0), task, 30)
    used = sorted({f for _, f, _ in trace if f is not None})
    assert len(used) >= 3 and set(used) <= set(task.fidelity.values)
    # Hyperband's lowest budget is max / eta^4 = 2588 / 81, snapped to the table's 32 (as smac_mf).
    assert used[0] == 32.0 and trace[0][1] == 32.0
    assert all(np.isfinite(v).all() for _, _, v in trace)


_HASH_SEED_SCRIPT = """
import json, sys
sys.path.insert(0, {tests!r})
from test_optimizers_smac_mo import TwoSpheres, problem_of, run
from optimizers.smac import SmacParEGOMultiFidelity
opt = SmacParEGOMultiFidelity(problem_of(TwoSpheres()), 0, n_initial_configs=3)
print(json.dumps(run(opt, TwoSpheres(), 30)))
"""


@pytest.mark.slow
def test_same_trials_whatever_the_python_hash_seed() -> None:
    """SMAC's local search dedupes start points through a set; the adapter fixes their order."""
    script = _HASH_SEED_SCRIPT.format(tests=str(Path(__file__).parent))
    traces = []
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        proc = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300
        )
        assert proc.returncode == 0, proc.stderr[-2000:]
        traces.append(proc.stdout)
    assert traces[0] == traces[1]
