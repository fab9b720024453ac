"""BOHB: the KDE model (kernels, fidelity choice, good/bad split), proposals, Hyperband brackets kept."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from ConfigSpace import (
    CategoricalHyperparameter,
    ConfigurationSpace,
    EqualsCondition,
    Float,
    ForbiddenAndConjunction,
    ForbiddenEqualsClause,
    Integer,
    OrdinalHyperparameter,
)

from optimizers.base import Budget, Problem, Trial, WaitForPending
from optimizers.bohb import BOHB, ProductKDE
from optimizers.hyperband import Hyperband
from optimizers.sampling import validate
from tasks.base import Fidelity, Objective, Result

OPTIMUM = {"x": 0.2, "y": 0.8}


def _problem(high: float = 27, maximize: bool = False) -> Problem:
    space = ConfigurationSpace({"x": (0.0, 1.0), "y": (0.0, 1.0)}, seed=0)
    return Problem(space, (Objective("f", minimize=not maximize),), Fidelity("epochs", 1, high), Budget(1000))


def _loss(trial: Trial) -> float:
    """A bowl around OPTIMUM, noisier at low fidelity (a fixed function of the config, so seeded)."""
    assert trial.fidelity is not None
    c = trial.config
    bowl = (c["x"] - OPTIMUM["x"]) ** 2 + (c["y"] - OPTIMUM["y"]) ** 2
    return bowl + 0.05 * np.sin(40 * c["x"] * c["y"]) / trial.fidelity


def _run(opt: Hyperband, n: int, loss: Callable[[Trial], float] = _loss) -> list[Trial]:
    trials = []
    for _ in range(n):
        trial = opt.ask()
        opt.tell(trial, Result((loss(trial),)))
        trials.append(trial)
    return trials


# ----------------------------------------------------------------------------- the density model


def test_kernels_are_densities() -> None:
    rng = np.random.default_rng(0)
    data = np.column_stack([rng.random(20), rng.integers(0, 4, 20), rng.integers(0, 3, 20)])
    kde = ProductKDE.fit(data, (0, 4, 3), (False, False, True), 1e-3)
    grid = np.linspace(-1.0, 2.0, 3001)
    total = 0.0
    for a in range(4):
        for b in range(3):
            points = np.column_stack([grid, np.full_like(grid, a), np.full_like(grid, b)])
            total += float(kde.pdf(points).sum() * (grid[1] - grid[0]))
    # Gaussian x Aitchison-Aitken integrate to 1; Wang-Ryzin is not normalized on a finite scale
    # (statsmodels' kernel too): its total lies below 1 but well above 0.
    assert 0.5 < total <= 1.0 + 1e-6
    plain = ProductKDE.fit(data[:, :2], (0, 4), (False, False), 1e-3)
    total = sum(
        float(plain.pdf(np.column_stack([grid, np.full_like(grid, a)])).sum() * (grid[1] - grid[0]))
        for a in range(4)
    )
    assert total == pytest.approx(1.0, abs=1e-3)
    # Normal reference rule: 1.06 * std * n ** (-1 / (4 + d)).
    assert plain.bandwidth[0] == pytest.approx(1.06 * data[:, 0].std() * 20 ** (-1 / 6))


def test_model_uses_the_largest_fidelity_with_enough_results() -> None:
    bohb = BOHB(_problem(high=9), seed=0, random_fraction=1.0)  # d = 2: n_min = 3
    _run(bohb, 9)  # bracket s=2, rung 0: 9 results at fidelity 1
    # 9 results: good = max(3, floor(1.35)) = 3 > d, bad = min(max(3, 7), 6) = 6 > d.
    assert bohb.model_fidelity() == 1.0
    assert bohb._split(9) == (3, 6) and bohb._split(5) is None  # 5: bad would be 2 <= d
    _run(bohb, 3 + 1 + 5 + 1 + 3)  # the rest of the iteration: 3@3, 1@9; 5@3, 1@9; 3@9
    # Fidelity 9 has 5 results (bad would be 2 <= d); fidelity 3 has 8: good 3, bad 5.
    assert bohb.model_fidelity() == 3.0
    _run(bohb, 9 + 3 + 1)  # next iteration's first bracket: fidelity 9 reaches 6: good 3, bad 3
    assert bohb.model_fidelity() == 9.0


def test_model_proposals_concentrate_where_the_good_results_are() -> None:
    model = BOHB(_problem(), seed=1, random_fraction=0.0)
    trials = _run(model, 300)
    late = [t.config for t in trials[150:] if t.meta["rung"] == 0]
    random = [t.config for t in _run(Hyperband(_problem(), seed=1), 300)[150:] if t.meta["rung"] == 0]

    def distance(configs: list[dict[str, Any]]) -> float:
        return float(np.mean([np.hypot(c["x"] - OPTIMUM["x"], c["y"] - OPTIMUM["y"]) for c in configs]))

    assert distance(late) < 0.5 * distance(random)


# ----------------------------------------------------------------------------- Hyperband kept


def test_brackets_and_waiting_are_hyperbands() -> None:
    bohb, hb = BOHB(_problem(), seed=0), Hyperband(_problem(), seed=0)
    assert bohb.brackets == hb.brackets
    metas = [(t.meta["bracket"], t.meta["rung"], t.fidelity) for t in _run(bohb, 60)]
    assert metas == [(t.meta["bracket"], t.meta["rung"], t.fidelity) for t in _run(hb, 60)]
    waiting = BOHB(_problem(high=3), seed=0)
    rung0 = [waiting.ask() for _ in range(3)]
    with pytest.raises(WaitForPending, match="bracket 0, rung 0: 3 of 3 trials pending"):
        waiting.ask()
    for trial in rung0:
        waiting.tell(trial, Result((_loss(trial),)))
    assert waiting.ask().meta["rung"] == 1


def test_maximize_and_failures() -> None:
    bohb = BOHB(_problem(high=3, maximize=True), seed=0)
    rung0 = [bohb.ask() for _ in range(3)]
    for trial, score in zip(rung0, (0.1, float("nan"), 0.9), strict=True):
        bohb.tell(trial, Result((score,)))
    assert bohb.ask().config == rung0[2].config
    assert sum(len(v) for v in bohb._losses.values()) == 2  # the failure stays out of the model
    assert min(bohb._losses[1.0]) == -0.9


def test_seeded() -> None:
    def configs(seed: int) -> list[dict[str, Any]]:
        return [t.config for t in _run(BOHB(_problem(), seed=seed), 80)]

    assert configs(3) == configs(3) != configs(4)


def test_mixed_conditional_forbidden_space_gives_valid_model_proposals() -> None:
    space = ConfigurationSpace(seed=0)
    kind = CategoricalHyperparameter("kind", ["linear", "tree", "knn"])
    alpha = Float("alpha", (1e-3, 10.0), log=True)
    depth = Integer("depth", (1, 64), log=True)
    mode = OrdinalHyperparameter("mode", [1, 2, 3])
    space.add(kind, alpha, depth, mode, Integer("n", (0, 5)))
    space.add(EqualsCondition(alpha, kind, "linear"), EqualsCondition(depth, kind, "tree"))
    space.add(ForbiddenAndConjunction(ForbiddenEqualsClause(kind, "tree"), ForbiddenEqualsClause(mode, 3)))
    problem = Problem(space, (Objective("f"),), Fidelity("epochs", 1, 9), Budget(100))
    bohb = BOHB(problem, seed=0, random_fraction=0.0)

    def loss(trial: Trial) -> float:
        c = trial.config
        return float(c["kind"] != "tree") + abs(np.log2(c.get("depth", 1)) - 3) / 6 + 0.1 * c["n"]

    trials = _run(bohb, 150, loss)
    assert bohb.model_fidelity() is not None
    for trial in trials:
        validate(space, trial.config)
    late = [t.config for t in trials[-40:] if t.meta["rung"] == 0]
    assert np.mean([c["kind"] == "tree" for c in late]) > 0.6  # the model found the good branch


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"top_fraction": 1.5}, r"top_fraction=1.5 is invalid: use a number in \(0, 1\)"),
        ({"n_candidates": 0}, "n_candidates=0 is invalid"),
        ({"random_fraction": -0.1}, "random_fraction=-0.1 is invalid"),
        ({"bandwidth_factor": 0}, "bandwidth_factor=0 is invalid"),
        ({"min_points_in_model": 2}, r"min_points_in_model=2 is invalid: use null or an integer > 2"),
        ({"eta": 1}, "eta must be a number > 1"),
    ],
)
def test_bad_parameters(params: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        BOHB(_problem(), seed=0, **params)


def test_refused_at_planning_time_on_a_black_box_task(
    run_cli: Callable[..., subprocess.CompletedProcess[str]],
) -> None:
    proc = run_cli("optimizer=bohb", "task=bbob/f01/d02/i01", "n_trials=5")
    assert proc.returncode == 2
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "multi-fidelity only" in lines[0]
