"""SMAC3 and DEHB adapters on tiny black-box, multi-fidelity and multi-objective tasks."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from ConfigSpace import (
    CategoricalHyperparameter,
    ConfigurationSpace,
    Constant,
    EqualsCondition,
    Float,
    ForbiddenAndConjunction,
    ForbiddenEqualsClause,
    Integer,
    OrdinalHyperparameter,
)

from optimizers.base import Budget, Optimizer, Problem, Trial
from optimizers.sampling import validate
from tasks.base import Fidelity, Objective, Result, Task, TaskMeta, task_type

pytest.importorskip("smac")
pytest.importorskip("dehb")

from optimizers.dehb import DEHB
from optimizers.smac import (
    SmacBlackBox,
    SmacHPO,
    SmacHyperband,
    SmacMultiFidelity,
    SmacParEGO,
    snap_fidelity,
)


def rich_space(forbidden: bool = True) -> ConfigurationSpace:
    """Every feature: log/linear floats and ints, categorical, ordinal, constant, condition, forbidden."""
    space = ConfigurationSpace(seed=0)
    kind = CategoricalHyperparameter("kind", ["linear", "tree"])
    alpha = Float("alpha", (1e-3, 10.0), log=True)
    depth = Integer("depth", (1, 8))
    space.add(
        kind,
        alpha,
        depth,
        Integer("units", (8, 512), log=True),
        Float("x", (-1.0, 1.0)),
        OrdinalHyperparameter("size", ["small", "medium", "large"]),
        Constant("solver", "adam"),
    )
    space.add(EqualsCondition(alpha, kind, "linear"), EqualsCondition(depth, kind, "tree"))
    if forbidden:
        space.add(
            ForbiddenAndConjunction(
                ForbiddenEqualsClause(kind, "tree"), ForbiddenEqualsClause(space["size"], "large")
            )
        )
    return space


class TinyTask(Task):
    """``loss = x**2 + penalty(fidelity)``; an optional second objective ``score = x`` is maximized."""

    def __init__(
        self,
        space: ConfigurationSpace,
        fidelity: Fidelity | None = None,
        n_objectives: int = 1,
        maximize_first: bool = False,
    ) -> None:
        self.id = "test/tiny"
        self.space = space
        first = Objective("score", minimize=False) if maximize_first else Objective("loss")
        self.objectives = (first, Objective("score", minimize=False))[:n_objectives]
        self.fidelity = fidelity
        self.meta = TaskMeta(
            family="test", type=task_type(n_objectives, fidelity), kind="synthetic", dims=len(space)
        )

    def evaluate(self, config: Mapping[str, Any], fidelity: float | None = None, seed: int = 0) -> Result:
        x = float(config["x"])
        if self.objectives[0].minimize:
            first = x**2 + (
                0.0 if fidelity is None or self.fidelity is None else 1.0 - self.fidelity.fraction(fidelity)
            )
        else:
            first = x
        return Result((first, x)[: len(self.objectives)], cost=1.0)


def problem_of(task: Task, n_trials: float = 10) -> Problem:
    return Problem(task.space, task.objectives, task.fidelity, Budget(n_trials))


def run(
    cls: type[Optimizer], task: Task, seed: int, n: int, **params: Any
) -> tuple[Optimizer, list[tuple[dict[str, Any], float | None]]]:
    """Ask/evaluate/tell ``n`` times, checking every trial; returns the optimizer and its trace."""
    opt = cls(problem_of(task), seed, **params)
    trace = []
    for _ in range(n):
        trial = opt.ask()
        assert isinstance(trial, Trial)
        validate(task.space, trial.config)
        if task.fidelity is None:
            assert trial.fidelity is None
        elif trial.fidelity is not None:  # None = the highest fidelity
            assert task.fidelity.contains(trial.fidelity)
        if cls.requires_fidelity:
            assert trial.fidelity is not None
        trace.append((dict(trial.config), trial.fidelity))
        opt.tell(trial, task.evaluate(trial.config, trial.fidelity))
    return opt, trace


CONTINUOUS = Fidelity("epochs", 1.0, 9.0)
DISCRETE = Fidelity("epochs", 1.0, 10.0, values=(1.0, 2.0, 5.0, 10.0))


# ----------------------------------------------------------------------------- SMAC


def test_smac_hpo_on_conditional_forbidden_space_is_valid_and_deterministic(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # SMAC must not leave output in the working directory
    task = TinyTask(rich_space())
    assert SmacHPO.incompatibility(problem_of(task)) is None
    _, first = run(SmacHPO, task, seed=3, n=6, n_initial_configs=3)
    _, again = run(SmacHPO, task, seed=3, n=6, n_initial_configs=3)
    _, other = run(SmacHPO, task, seed=4, n=6, n_initial_configs=3)
    assert first == again
    assert first != other
    assert list(tmp_path.iterdir()) == []


def test_smac_negates_maximized_objectives() -> None:
    task = TinyTask(ConfigurationSpace({"x": (-1.0, 1.0)}, seed=0), maximize_first=True)
    opt, trace = run(SmacHPO, task, seed=0, n=4)
    told = sorted(v.cost for v in opt._facade.runhistory.values())  # type: ignore[attr-defined]
    assert told == pytest.approx(sorted(-c["x"] for c, _ in trace))


@pytest.mark.slow
def test_smac_blackbox_gp_runs_a_few_trials() -> None:
    task = TinyTask(rich_space(forbidden=False), fidelity=CONTINUOUS)
    _, first = run(SmacBlackBox, task, seed=1, n=3, n_initial_configs=2)
    _, again = run(SmacBlackBox, task, seed=1, n=3, n_initial_configs=2)
    assert first == again
    assert all(f is None for _, f in first)  # BO facades run at the highest fidelity


def test_smac_parego_on_two_objectives() -> None:
    task = TinyTask(ConfigurationSpace({"x": (-1.0, 1.0), "c": ["a", "b"]}, seed=0), n_objectives=2)
    opt, first = run(SmacParEGO, task, seed=2, n=5, n_initial_configs=3)
    _, again = run(SmacParEGO, task, seed=2, n=5, n_initial_configs=3)
    assert first == again
    told = sorted(tuple(v.cost) for v in opt._facade.runhistory.values())  # type: ignore[attr-defined]
    expected = sorted((c["x"] ** 2, -c["x"]) for c, _ in first)  # the maximized score is negated
    assert [x for pair in told for x in pair] == pytest.approx([x for pair in expected for x in pair])
    assert "one" in (SmacParEGO.incompatibility(problem_of(TinyTask(task.space))) or "")


@pytest.mark.parametrize("cls", [SmacMultiFidelity, SmacHyperband])
@pytest.mark.parametrize("fidelity", [CONTINUOUS, DISCRETE], ids=["continuous", "discrete"])
def test_smac_multi_fidelity_budgets(cls: type[Optimizer], fidelity: Fidelity) -> None:
    task = TinyTask(rich_space(), fidelity=fidelity)
    _, first = run(cls, task, seed=0, n=14)
    _, again = run(cls, task, seed=0, n=14)
    assert first == again
    used = {f for _, f in first if f is not None}
    assert min(used) == min(fidelity.values or (fidelity.low,))
    assert len(used) > 1  # successive halving promoted something


# ----------------------------------------------------------------------------- DEHB


@pytest.mark.parametrize("fidelity", [CONTINUOUS, DISCRETE], ids=["continuous", "discrete"])
def test_dehb_conditional_space_valid_and_deterministic(
    fidelity: Fidelity, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # DEHB must not write logs or checkpoints here
    task = TinyTask(rich_space(forbidden=False), fidelity=fidelity)
    assert DEHB.incompatibility(problem_of(task)) is None
    _, first = run(DEHB, task, seed=5, n=20)
    _, again = run(DEHB, task, seed=5, n=20)
    _, other = run(DEHB, task, seed=6, n=20)
    assert first == again != other
    assert len({f for _, f in first}) > 1
    assert list(tmp_path.iterdir()) == []


def test_dehb_refuses_forbiddens_and_black_box_tasks() -> None:
    reason = DEHB.incompatibility(problem_of(TinyTask(rich_space(), fidelity=CONTINUOUS)))
    assert reason is not None and "forbidden" in reason
    assert "fidelity" in (DEHB.incompatibility(problem_of(TinyTask(rich_space(False)))) or "")
    single = Fidelity("epochs", 5.0, 5.0)
    assert "single value" in (DEHB.incompatibility(problem_of(TinyTask(rich_space(False), single))) or "")


# ----------------------------------------------------------------------------- shared behaviour


@pytest.mark.parametrize("cls", [SmacHyperband, SmacMultiFidelity, DEHB])
def test_promotions_follow_the_objective_direction(cls: type[Optimizer]) -> None:
    """Fidelities 1, 3, 9 with eta=3: the first bracket runs 9 configs at 1, then promotes the best 3."""
    task = TinyTask(ConfigurationSpace({"x": (-1.0, 1.0)}, seed=0), fidelity=CONTINUOUS, maximize_first=True)
    _, trace = run(cls, task, seed=0, n=12, eta=3)
    rung0, rung1 = trace[:9], trace[9:12]
    assert {f for _, f in rung0} == {1.0} and {f for _, f in rung1} == {3.0}
    best = sorted((c["x"] for c, _ in rung0), reverse=True)[:3]  # maximized: largest x is best
    assert sorted((c["x"] for c, _ in rung1), reverse=True) == best


@pytest.mark.parametrize(
    ("cls", "params", "match"),
    [
        (SmacHPO, {"eta": 3}, "unknown SmacHPO parameter"),
        (SmacHPO, {"deterministic": "no"}, "deterministic='no' is not valid"),
        (SmacMultiFidelity, {"n_initial_configs": 0}, "n_initial_configs=0 is not valid"),
        (SmacHyperband, {"n_initial_configs": 3}, "unknown SmacHyperband parameter"),
        (SmacMultiFidelity, {"min_fidelity": 20}, "min_fidelity=20 is outside"),
        (SmacParEGO, {"rho": -1}, "rho=-1 is not valid"),
        (DEHB, {"boundary_fix_type": "wrap"}, "boundary_fix_type='wrap' is not valid"),
        (DEHB, {"popsize": 3}, "unknown DEHB parameter"),
        (DEHB, {"eta": 1}, "eta=1 is not valid"),
        (SmacHyperband, {"eta": 2.5}, "eta=2.5 is not valid"),
    ],
)
def test_bad_params_raise_value_error(cls: type[Optimizer], params: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        cls(problem_of(TinyTask(rich_space(False), fidelity=CONTINUOUS)), 0, **params)


def test_tell_rejects_unknown_trials() -> None:
    task = TinyTask(ConfigurationSpace({"x": (-1.0, 1.0)}, seed=0), fidelity=CONTINUOUS)
    for cls in (SmacHyperband, DEHB):
        opt = cls(problem_of(task), 0)
        with pytest.raises(ValueError, match="was not asked"):
            opt.tell(Trial({"x": 0.0}, 1.0), Result((0.0,)))


def test_snap_fidelity_and_task_space_untouched() -> None:
    assert snap_fidelity(DISCRETE, 1.11) == 1.0
    assert snap_fidelity(DISCRETE, 10.000001) == 10.0
    assert snap_fidelity(CONTINUOUS, 0.99999) == 1.0
    space = rich_space(False)
    task = TinyTask(space, fidelity=CONTINUOUS)
    run(DEHB, task, seed=1, n=3)
    run(SmacHyperband, task, seed=1, n=3)
    # Neither library reseeded or drew from the task's own space: its stream is where it started.
    assert space.sample_configuration(3) == rich_space(False).sample_configuration(3)
