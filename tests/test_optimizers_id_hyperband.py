"""Iterative Deepening Hyperband: hand-checked stage sizes, no re-evaluation, iSHA promotions, waiting."""

from __future__ import annotations

import subprocess
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from ConfigSpace import ConfigurationSpace

from optimizers.base import Budget, Problem, Trial, WaitForPending
from optimizers.hyperband import Hyperband, hyperband_schedule, top_k
from optimizers.id_hyperband import IterativeDeepeningHyperband, deepening_schedule
from tasks.base import Fidelity, Objective, Result


def _problem(high: float = 81, maximize: bool = False) -> Problem:
    space = ConfigurationSpace({"x": (0.0, 1.0), "c": ["a", "b"]}, seed=0)
    return Problem(space, (Objective("y", minimize=not maximize),), Fidelity("epochs", 1, high), Budget(1000))


def _loss(trial: Trial) -> float:
    """Deterministic, fidelity-dependent (so rankings differ between rungs)."""
    assert trial.fidelity is not None
    return float(trial.config["x"]) * (1.0 + 0.5 * (trial.config["c"] == "b")) + 1.0 / trial.fidelity


def _run(opt: IterativeDeepeningHyperband, n: int, loss: Callable[[Trial], float] = _loss) -> list[Trial]:
    trials = []
    for _ in range(n):
        trial = opt.ask()
        opt.tell(trial, Result((loss(trial),)))
        trials.append(trial)
    return trials


def _counts(trials: list[Trial]) -> dict[tuple[int, int], int]:
    return dict(Counter((t.meta["bracket"], t.meta["rung"]) for t in trials))


# ----------------------------------------------------------------------------- schedule by hand

# eta = 3 on [1, 9], deepening twice (maxima 1, 3, 9). Worked by hand from Hyperband's
# n = ceil((s_max + 1) / (s + 1) * 3**s), floor(n / 3**i) at rung i:
#   stage 0 (s_max 0, R = 1): A: s=0, n = 1                  -> 1@1
#   stage 1 (s_max 1, R = 3): A: s=1, n = ceil(2/2 * 3) = 3  -> 3@1, 1@3;   B: s=0, n = 2 -> 2@3
#   stage 2 (s_max 2, R = 9): A: s=2, n = ceil(3/3 * 9) = 9  -> 9@1, 3@3, 1@9
#                             B: s=1, n = ceil(3/2 * 3) = 5  -> 5@3, 1@9;   C: s=0, n = 3 -> 3@9
# New evaluations: stage 0: 1; stage 1: 2@1 + 1@3 (A) + 2@3 (B) = 5;
# stage 2: 6@1 + 2@3 + 1@9 (A) + 3@3 + 1@9 (B) + 3@9 (C) = 16. Total 22 = one Hyperband iteration at R = 9.
HAND_STAGES = [
    [[(1, 1.0)]],
    [[(3, 1.0), (1, 3.0)], [(2, 3.0)]],
    [[(9, 1.0), (3, 3.0), (1, 9.0)], [(5, 3.0), (1, 9.0)], [(3, 9.0)]],
]
# (bracket, rung) -> new evaluations, per stage.
HAND_NEW = [
    {(0, 0): 1},
    {(0, 0): 2, (0, 1): 1, (1, 0): 2},
    {(0, 0): 6, (0, 1): 2, (0, 2): 1, (1, 0): 3, (1, 1): 1, (2, 0): 3},
]


def test_schedule_matches_the_hand_worked_example() -> None:
    stages = deepening_schedule(3, 1, 9, 2)
    assert [[[(r.n, r.fidelity) for r in b] for b in stage] for stage in stages] == HAND_STAGES
    # Fully deepened, the brackets are those of plain Hyperband with the final maximum.
    assert deepening_schedule(3, 1, 81, 4)[-1] == hyperband_schedule(3, 1, 81)
    assert deepening_schedule(3, 1, 81, 0) == [hyperband_schedule(3, 1, 81)]
    assert deepening_schedule(3, 1, 81, 2)[0] == hyperband_schedule(3, 1, 9)


def test_each_stage_evaluates_only_what_is_new() -> None:
    opt = IterativeDeepeningHyperband(_problem(high=9), seed=0)
    trials = _run(opt, 22)
    for stage, expected in enumerate(HAND_NEW):
        assert _counts([t for t in trials if t.meta["stage"] == stage]) == expected
    fids = {(t.meta["bracket"], t.meta["rung"]): t.fidelity for t in trials}
    assert fids == {(0, 0): 1.0, (0, 1): 3.0, (0, 2): 9.0, (1, 0): 3.0, (1, 1): 9.0, (2, 0): 9.0}
    # The 23rd trial begins a plain Hyperband iteration at the final maximum: fresh bracket, lowest rung.
    nxt = opt.ask()
    assert nxt.meta == {"bracket": 3, "rung": 0, "config_id": 0, "stage": 3} and nxt.fidelity == 1.0


def test_nothing_is_evaluated_twice_and_final_rungs_have_hyperband_sizes() -> None:
    opt = IterativeDeepeningHyperband(_problem(high=81), seed=1)
    total = sum(r.n for b in hyperband_schedule(3, 1, 81) for r in b)  # 206
    trials = _run(opt, total)
    assert {t.meta["stage"] for t in trials} == {0, 1, 2, 3, 4}
    pairs = Counter((tuple(sorted(t.config.items())), t.fidelity) for t in trials)
    assert max(pairs.values()) == 1  # no (configuration, fidelity) pair evaluated again
    counts = _counts(trials)
    # Bracket j (created at stage j) ends as Hyperband's bracket s = 4 - j with the paper's sizes.
    for j, rungs in enumerate(hyperband_schedule(3, 1, 81)):
        assert [counts[(j, i)] for i in range(len(rungs))] == [r.n for r in rungs]
    assert opt.ask().meta["stage"] == 5


def test_promotions_follow_the_incremental_top_k_rule() -> None:
    opt = IterativeDeepeningHyperband(_problem(high=81), seed=2)
    trials = _run(opt, 206)
    losses = {id(t): _loss(t) for t in trials}
    for bracket in {t.meta["bracket"] for t in trials}:
        mine = [t for t in trials if t.meta["bracket"] == bracket]
        for stage in sorted({t.meta["stage"] for t in mine}):
            for rung in range(1, 5):
                promoted = [
                    t.meta["config_id"] for t in mine if t.meta["stage"] == stage and t.meta["rung"] == rung
                ]
                if not promoted:
                    continue
                before = {
                    t.meta["config_id"] for t in mine if t.meta["stage"] < stage and t.meta["rung"] == rung
                }
                below = {
                    t.meta["config_id"]: losses[id(t)]
                    for t in mine
                    if t.meta["stage"] <= stage and t.meta["rung"] == rung - 1
                }
                # Who was there stays; the free places go to the best of the rest of the rung below.
                rest = {cid: loss for cid, loss in below.items() if cid not in before}
                assert promoted == top_k(rest, len(promoted))


def test_final_brackets_equal_hyperbands_top_k_when_new_configurations_are_worse() -> None:
    # Loss = config id: later-sampled configurations are worse, so the configurations kept from
    # earlier stages are exactly the top of every rung, as plain Hyperband would select them.
    opt = IterativeDeepeningHyperband(_problem(high=81), seed=3)
    trials = _run(opt, 206, loss=lambda t: float(t.meta["config_id"]))
    for bracket, rungs in enumerate(hyperband_schedule(3, 1, 81)):
        members = [
            {t.meta["config_id"] for t in trials if t.meta["bracket"] == bracket and t.meta["rung"] == i}
            for i in range(len(rungs))
        ]
        for i in range(1, len(rungs)):
            below = {cid: float(cid) for cid in members[i - 1]}
            assert members[i] == set(top_k(below, rungs[i].n))


def test_without_deepening_it_is_hyperband() -> None:
    hb = Hyperband(_problem(high=27), seed=5)
    idhb = IterativeDeepeningHyperband(_problem(high=27), seed=5, deepenings=0)
    for _ in range(80):
        a, b = hb.ask(), idhb.ask()
        assert (a.config, a.fidelity) == (b.config, b.fidelity)
        hb.tell(a, Result((_loss(a),)))
        idhb.tell(b, Result((_loss(b),)))


def test_maximize_promotes_the_highest_and_failures_rank_last() -> None:
    opt = IterativeDeepeningHyperband(_problem(high=9, maximize=True), seed=0, deepenings=1)
    first = [opt.ask() for _ in range(3)]  # stage 0 = Hyperband on [1, 3]: bracket s=1, 3 at fidelity 1
    for trial, score in zip(first, (0.1, float("nan"), 0.9), strict=True):
        opt.tell(trial, Result((score,)))
    up = opt.ask()
    assert up.fidelity == 3.0 and up.config == first[2].config


def test_ask_waits_for_the_running_rung() -> None:
    opt = IterativeDeepeningHyperband(_problem(high=9), seed=0, deepenings=1)
    rung0 = [opt.ask() for _ in range(3)]
    with pytest.raises(WaitForPending, match="bracket 0, rung 0: 3 trials pending"):
        opt.ask()
    for trial in rung0:
        opt.tell(trial, Result((_loss(trial),)))
    assert opt.ask().meta["rung"] == 1
    with pytest.raises(ValueError, match="not proposed"):
        opt.tell(Trial({"x": 0.5, "c": "a"}, 1.0, {"bracket": 7, "rung": 0, "config_id": 0}), Result((1.0,)))
    with pytest.raises(ValueError, match="unexpected result"):
        opt.tell(rung0[0], Result((1.0,)))


def test_seeded() -> None:
    def configs(seed: int) -> list[dict[str, Any]]:
        return [t.config for t in _run(IterativeDeepeningHyperband(_problem(high=27), seed=seed), 40)]

    assert configs(4) == configs(4) != configs(5)


def test_discrete_fidelities_stay_admissible() -> None:
    values = (1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0)
    space = ConfigurationSpace({"x": (0.0, 1.0), "c": ["a", "b"]}, seed=0)
    problem = Problem(space, (Objective("y"),), Fidelity("epochs", 1, 100, values=values), Budget(100))
    trials = _run(IterativeDeepeningHyperband(problem, seed=0), 206)
    assert {t.fidelity for t in trials} <= set(values) and max(t.fidelity or 0 for t in trials) == 100.0


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"deepenings": 5}, r"deepenings=5 is invalid: use an integer in \[0, 4\]"),
        ({"deepenings": -1}, "deepenings=-1 is invalid"),
        ({"deepenings": True}, "deepenings=True is invalid"),
        ({"eta": 1}, "eta must be a number > 1"),
    ],
)
def test_bad_parameters(params: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        IterativeDeepeningHyperband(_problem(high=81), seed=0, **params)
    if "deepenings" in params and params["deepenings"] is True:
        assert "deepenings" in str(IterativeDeepeningHyperband.check_params(params))


def test_refused_at_planning_time_on_a_black_box_task(
    run_cli: Callable[..., subprocess.CompletedProcess[str]],
) -> None:
    proc = run_cli("optimizer=id_hyperband", "task=bbob/f01/d02/i01", "n_trials=5")
    assert proc.returncode == 2
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "multi-fidelity only" in lines[0]
