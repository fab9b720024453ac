"""ASHA: rungs, hand-checked promotions, directions, failures, seeding and bad parameters."""

from __future__ import annotations

import math

import pytest
from ConfigSpace import ConfigurationSpace

from bench.contract import check_optimizer
from optimizers.asha import ASHA
from optimizers.base import Budget, Problem, Trial
from tasks.base import Fidelity, Objective, Result


def _problem(fidelity: Fidelity, minimize: bool = True) -> Problem:
    space = ConfigurationSpace({"x": (0.0, 1.0)}, seed=0)
    return Problem(space, (Objective("y", minimize=minimize),), fidelity, Budget(50))


def _tell(asha: ASHA, trial: Trial, loss: float) -> None:
    asha.tell(trial, Result((loss,)))


def test_rungs_follow_hyperband_and_snap_to_admissible_values() -> None:
    assert ASHA(_problem(Fidelity("epochs", 1, 81)), seed=0).rungs == (1.0, 3.0, 9.0, 27.0, 81.0)
    assert ASHA(_problem(Fidelity("epochs", 1, 81)), seed=0, eta=9).rungs == (1.0, 9.0, 81.0)
    # 100 / 3**k = 100, 33.3, 11.1, 3.7, 1.23: the lowest rung sits above the axis' minimum.
    assert ASHA(_problem(Fidelity("z", 1, 100)), seed=0).rungs[0] == pytest.approx(100 / 81)
    discrete = Fidelity("epochs", 1, 16, values=(1.0, 2.0, 4.0, 8.0, 16.0))
    assert ASHA(_problem(discrete), seed=0, eta=2).rungs == (1.0, 2.0, 4.0, 8.0, 16.0)
    assert ASHA(_problem(discrete), seed=0).rungs == (2.0, 4.0, 16.0)  # 16/9, 16/3 snapped in log scale
    assert ASHA(_problem(Fidelity("epochs", 5, 5)), seed=0).rungs == (5.0,)


def test_promotions_by_hand() -> None:
    asha = ASHA(_problem(Fidelity("epochs", 1, 9)), seed=0)  # rungs 1, 3, 9
    a, b, c = (asha.ask() for _ in range(3))
    assert [t.meta for t in (a, b, c)] == [{"rung": 0, "config_id": i} for i in range(3)]
    _tell(asha, a, 0.5)
    _tell(asha, b, 0.2)
    # Two results in rung 0: floor(2/3) = 0 may move up, so a new configuration starts.
    d = asha.ask()
    assert d.meta == {"rung": 0, "config_id": 3} and d.fidelity == 1.0
    _tell(asha, c, 0.9)
    # Three results: the best third is b (0.2); it moves to rung 1 although d is still pending.
    up = asha.ask()
    assert up.meta == {"rung": 1, "config_id": 1} and up.fidelity == 3.0 and up.config == b.config
    # b was promoted already; nothing else is in the top third of 3: a new configuration.
    f = asha.ask()
    assert f.meta == {"rung": 0, "config_id": 4}
    _tell(asha, d, 0.1)
    # Four results, top floor(4/3) = 1 is now d (0.1): promoted.
    d_up = asha.ask()
    assert d_up.meta == {"rung": 1, "config_id": 3}
    _tell(asha, up, 0.05)
    _tell(asha, d_up, 0.3)
    # Rung 1 has 2 results (no promotion); rung 0's top floor(4/3) = 1 is d, promoted: new config.
    g = asha.ask()
    assert g.meta == {"rung": 0, "config_id": 5}
    _tell(asha, f, 0.15)
    _tell(asha, g, 0.7)
    # Six results in rung 0: the top two are d (0.1, promoted) and f (0.15): f moves up.
    f_up = asha.ask()
    assert f_up.meta == {"rung": 1, "config_id": 4} and f_up.config == f.config
    _tell(asha, f_up, 0.4)
    # Three results in rung 1: its best third, b (0.05), goes to the top rung.
    top = asha.ask()
    assert top.meta == {"rung": 2, "config_id": 1} and top.fidelity == 9.0 and top.config == b.config
    _tell(asha, top, 0.01)  # the top rung promotes nothing further
    assert asha.ask().meta == {"rung": 0, "config_id": 6}


def test_promotion_prefers_higher_rungs_and_maximizes_when_asked() -> None:
    asha = ASHA(_problem(Fidelity("epochs", 1, 9), minimize=False), seed=1)
    rung0 = [asha.ask() for _ in range(3)]
    for trial, score in zip(rung0, (0.1, 0.9, 0.5), strict=True):
        _tell(asha, trial, score)
    up = asha.ask()
    assert up.meta == {"rung": 1, "config_id": 1}  # the highest score wins when maximizing


def test_failed_results_rank_last() -> None:
    asha = ASHA(_problem(Fidelity("epochs", 1, 9)), seed=0)
    trials = [asha.ask() for _ in range(3)]
    for trial, loss in zip(trials, (math.nan, 2.0, math.inf), strict=True):
        _tell(asha, trial, loss)
    assert asha.ask().meta == {"rung": 1, "config_id": 1}


def test_seeded() -> None:
    def configs(seed: int) -> list[dict[str, float]]:
        asha = ASHA(_problem(Fidelity("epochs", 1, 9)), seed=seed)
        return [asha.ask().config for _ in range(20)]

    assert configs(4) == configs(4) != configs(5)


def test_foreign_trials_are_rejected() -> None:
    asha = ASHA(_problem(Fidelity("epochs", 1, 9)), seed=0)
    with pytest.raises(ValueError, match="not proposed by this ASHA"):
        asha.tell(Trial({"x": 0.5}, 1.0), Result((1.0,)))


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"eta": 1}, "eta=1 is invalid"),
        ({"eta": True}, "eta=True is invalid"),
        ({"min_fidelity": 0.5}, "min_fidelity=0.5"),
        ({"min_fidelity": 5, "max_fidelity": 3}, "min_fidelity=5.0, max_fidelity=3.0"),
    ],
)
def test_bad_parameters(params: dict[str, float], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        ASHA(_problem(Fidelity("epochs", 1, 9)), seed=0, **params)


def test_needs_a_fidelity_axis() -> None:
    problem = Problem(ConfigurationSpace({"x": (0.0, 1.0)}), (Objective("y"),), None, Budget(5))
    assert "multi-fidelity only" in (ASHA.incompatibility(problem) or "")
    with pytest.raises(ValueError, match="fidelity axis"):
        ASHA(problem, seed=0)


def test_meets_the_contract() -> None:
    report = check_optimizer("asha", n_trials=13)
    assert report.checked == ("contract/mf-continuous", "contract/mf-discrete", "contract/mf-conditional")
