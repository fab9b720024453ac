"""SMAC's "configuration space exhausted" is a guess; a run stops as exhausted only when it is true.

SMAC3's config selector raises ``ConfigurationSpaceExhaustedException`` after 16 random draws in a
row that it had already proposed: on a 15-choice space (as an LCDB task: one categorical "learner")
it happened with 1-3 choices never proposed at 5 of the seeds 0-5. The adapter used to stop
such a run as "SMAC evaluated every configuration", with most of its budget unspent and possibly
the best choice never tried. Now a black-box facade proposes the choices SMAC never reached (SMAC's
own fallback is random configurations it has not proposed; the adapter draws them without
replacement, seeded) and stops only when every configuration was proposed; a multi-fidelity
facade, whose brackets start only new configurations, stops as SMAC does, saying how many of
the space's configurations were proposed.
"""

from __future__ import annotations

from typing import Any

import pytest
from ConfigSpace import (
    Categorical,
    ConfigurationSpace,
    EqualsCondition,
    Float,
    ForbiddenEqualsClause,
    Integer,
)

from optimizers.base import Budget, Optimizer, Problem, SearchExhausted
from optimizers.space_conversion import finite_configurations
from tasks.base import Fidelity, Objective, Result

pytest.importorskip("smac", reason="the SMAC3 adapters need the `smac` extra")

CHOICES = [f"l{i:02d}" for i in range(15)]


def _drive(opt: Optimizer, n: int) -> tuple[list[str], str | None]:
    """Ask and tell up to ``n`` trials (value: the choice's index / 15); why the run stopped."""
    seen: list[str] = []
    for _ in range(n):
        try:
            trial = opt.ask()
        except SearchExhausted as exc:
            return seen, str(exc)
        seen.append(trial.config["learner"])
        opt.tell(trial, Result((int(trial.config["learner"][1:]) / 15.0,)))
    return seen, None


def _problem(fidelity: Fidelity | None = None, n_trials: float = 50) -> Problem:
    return Problem(ConfigurationSpace({"learner": CHOICES}), (Objective("err"),), fidelity, Budget(n_trials))


@pytest.mark.parametrize("seed", [1, 4])  # seeds on which SMAC 2.4 gives up after 12 and 13 choices
@pytest.mark.parametrize("name", ["SmacHPO", "SmacParEGOBlackBox"])
def test_a_black_box_run_stops_as_exhausted_only_after_every_configuration(seed: int, name: str) -> None:
    import optimizers.smac as smac_adapters

    cls: Any = getattr(smac_adapters, name)
    problem = _problem()
    if name == "SmacParEGOBlackBox":  # ParEGO needs two objectives
        problem = Problem(problem.space, (Objective("err"), Objective("size")), None, Budget(50))

        def value(choice: str) -> tuple[float, ...]:
            i = int(choice[1:])
            return (i / 15.0, (15 - i) / 15.0)
    else:

        def value(choice: str) -> tuple[float, ...]:
            return (int(choice[1:]) / 15.0,)

    opt = cls(problem, seed)
    seen: list[str] = []
    why = None
    for _ in range(50):
        try:
            trial = opt.ask()
        except SearchExhausted as exc:
            why = str(exc)
            break
        seen.append(trial.config["learner"])
        opt.tell(trial, Result(value(trial.config["learner"])))
    assert why is not None, "a 15-choice space cannot take 50 distinct trials"
    assert len(seen) == len(set(seen)) == 15, (len(seen), sorted(set(CHOICES) - set(seen)))
    assert "all 15 configurations" in why, why


def test_the_adapter_s_own_proposals_are_seeded() -> None:
    import optimizers.smac as smac_adapters

    runs = [_drive(smac_adapters.SmacHPO(_problem(), 1), 50)[0] for _ in range(2)]
    assert runs[0] == runs[1]


def test_a_multi_fidelity_run_says_how_many_configurations_it_proposed() -> None:
    """Hyperband's brackets need new configurations; SMAC's guess ends the run, and the reason
    says what is true: how many of the space's configurations were proposed, not "every"."""
    import optimizers.smac as smac_adapters

    problem = _problem(Fidelity("epochs", 1, 27), n_trials=50)
    seen, why = _drive(smac_adapters.SmacHyperband(problem, 0), 5000)
    assert why is not None
    n = len(set(seen))
    assert "every configuration" not in why
    assert f"{n} of the space's 15 configurations" in why or "all 15 configurations" in why, why


def test_finite_configurations_enumerates_conditions_forbiddens_and_integers() -> None:
    space = ConfigurationSpace(seed=0)
    a, b, c = Categorical("a", ["x", "y"]), Integer("b", (1, 3)), Integer("c", (1, 4))
    space.add([a, b, c])
    space.add(EqualsCondition(b, a, "x"))
    space.add(ForbiddenEqualsClause(c, 3))
    configs = finite_configurations(space)
    assert configs is not None
    as_tuples = {tuple(sorted(cfg.items())) for cfg in configs}
    assert len(as_tuples) == len(configs) == 3 + 3 * 3  # a=y: c in {1,2,4}; a=x: also b in {1,2,3}
    assert all(type(v) in (str, int) for cfg in configs for v in cfg.values())
    assert {"a": "y", "c": 4} in configs and {"a": "x", "b": 3, "c": 1} in configs


def test_finite_configurations_is_none_for_continuous_or_huge_spaces() -> None:
    assert finite_configurations(ConfigurationSpace({"x": (0.0, 1.0)})) is None
    assert finite_configurations(ConfigurationSpace({"n": (1, 10**9)})) is None
    log_scaled = ConfigurationSpace(seed=0)
    log_scaled.add(Integer("n", (1, 4), log=True))  # its grid steps on the log scale: not listed
    assert finite_configurations(log_scaled) is None
    assert finite_configurations(ConfigurationSpace({"x": Float("x", (0.0, 1.0))}), limit=10) is None
