"""Built-in optimizers: the vectorized sampler, random search, Successive Halving and Hyperband."""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import numpy as np
import pytest
from ConfigSpace import (
    Beta,
    CategoricalHyperparameter,
    ConfigurationSpace,
    Constant,
    EqualsCondition,
    Float,
    ForbiddenAndConjunction,
    ForbiddenEqualsClause,
    Integer,
    Normal,
    OrdinalHyperparameter,
)
from scipy import stats

from optimizers.base import Budget, Problem, Trial, WaitForPending
from optimizers.hyperband import (
    Hyperband,
    SuccessiveHalving,
    bracket_schedule,
    hyperband_schedule,
    max_bracket,
    snap,
)
from optimizers.random_search import RandomSearch
from optimizers.sampling import SpaceSampler, sample_configs, validate
from tasks.base import Fidelity, Objective, Result

# ----------------------------------------------------------------------------- fixtures


def mf_problem(fidelity: Fidelity, maximize: bool = False, n_objectives: int = 1) -> Problem:
    space = ConfigurationSpace({"x": (0.0, 1.0), "c": ["a", "b"]}, seed=0)
    objectives = (Objective("y", minimize=not maximize), Objective("z"))[:n_objectives]
    return Problem(space, objectives, fidelity, Budget(1000))


def loss_of(config: dict[str, Any], fidelity: float) -> float:
    """A deterministic objective whose ranking is easy to predict: x, shifted by fidelity."""
    return float(config["x"]) + 1.0 / fidelity


# ----------------------------------------------------------------------------- schedule


# Li et al. (2018), Table 1: R = 81, eta = 3; (n_i, r_i) per bracket s = 4 .. 0.
PAPER_TABLE = [
    [(81, 1), (27, 3), (9, 9), (3, 27), (1, 81)],
    [(34, 3), (11, 9), (3, 27), (1, 81)],
    [(15, 9), (5, 27), (1, 81)],
    [(8, 27), (2, 81)],
    [(5, 81)],
]


def test_hyperband_schedule_matches_paper_table() -> None:
    schedule = hyperband_schedule(3, 1, 81)
    assert [[(r.n, r.fidelity) for r in bracket] for bracket in schedule] == PAPER_TABLE


def test_schedule_scales_with_min_fidelity_and_non_powers() -> None:
    # Only the ratio max/min matters; the top rung is always max_fidelity.
    scaled = hyperband_schedule(3, 0.5, 40.5)
    assert [[r.n for r in b] for b in scaled] == [[n for n, _ in b] for b in PAPER_TABLE]
    assert scaled[0][0].fidelity == pytest.approx(0.5)
    assert max_bracket(3, 1, 100) == 4 and max_bracket(3, 1, 80) == 3
    assert hyperband_schedule(3, 1, 100)[0][0].fidelity == pytest.approx(100 / 81)
    assert [(r.n, r.fidelity) for r in bracket_schedule(0, 0, 3, 5.0)] == [(1, 5.0)]
    with pytest.raises(ValueError, match="s=5"):
        bracket_schedule(5, 4, 3, 81)


def test_successive_halving_uses_most_exploratory_bracket() -> None:
    sh = SuccessiveHalving(mf_problem(Fidelity("epochs", 1, 81)), seed=0)
    hb = Hyperband(mf_problem(Fidelity("epochs", 1, 81)), seed=0)
    assert sh.brackets == hb.brackets[:1]
    assert [[(r.n, r.fidelity) for r in b] for b in hb.brackets] == PAPER_TABLE


def test_discrete_fidelities_are_snapped_to_admissible_values() -> None:
    values = (1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0)
    hb = Hyperband(mf_problem(Fidelity("epochs", 1, 100, values=values)), seed=0)
    for bracket in hb.brackets:
        fids = [r.fidelity for r in bracket]
        assert all(f in values for f in fids)
        assert fids == sorted(fids) and fids[-1] == 100.0
    assert snap(3.7, values) == 5.0 and snap(1.3, values) == 1.0


def test_min_and_max_fidelity_params() -> None:
    hb = Hyperband(mf_problem(Fidelity("epochs", 1, 100)), seed=0, min_fidelity=4, max_fidelity=36)
    assert [r.fidelity for r in hb.brackets[0]] == [4.0, 12.0, 36.0]


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"eta": 1}, "eta must be a number > 1"),
        ({"eta": "3"}, "eta must be a number > 1"),
        ({"min_fidelity": 0.5}, "min_fidelity"),
        ({"min_fidelity": 50, "max_fidelity": 10}, "min_fidelity"),
        ({"max_fidelity": 200}, "max_fidelity"),
    ],
)
def test_bad_params_raise_value_error(params: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        Hyperband(mf_problem(Fidelity("epochs", 1, 100)), seed=0, **params)


def test_refuses_problems_it_cannot_run() -> None:
    space = ConfigurationSpace({"x": (0.0, 1.0)}, seed=0)
    black_box = Problem(space, (Objective("y"),), None, Budget(10))
    assert "multi-fidelity only" in str(Hyperband.incompatibility(black_box))
    with pytest.raises(ValueError, match="fidelity axis"):
        Hyperband(black_box, seed=0)
    multi = mf_problem(Fidelity("epochs", 1, 9), n_objectives=2)
    assert "single-objective" in str(SuccessiveHalving.incompatibility(multi))


# ----------------------------------------------------------------------------- promotions


def run_sequential(opt: SuccessiveHalving, n_trials: int, maximize: bool = False) -> list[Trial]:
    trials = []
    for _ in range(n_trials):
        trial = opt.ask()
        assert trial.fidelity is not None
        value = loss_of(trial.config, trial.fidelity)
        opt.tell(trial, Result((-value if maximize else value,)))
        trials.append(trial)
    return trials


@pytest.mark.parametrize("maximize", [False, True])
def test_one_hyperband_iteration_follows_schedule_and_promotes_the_best(maximize: bool) -> None:
    hb = Hyperband(mf_problem(Fidelity("epochs", 1, 81), maximize=maximize), seed=3)
    total = sum(n for b in PAPER_TABLE for n, _ in b)  # 206 evaluations in one Hyperband iteration
    trials = run_sequential(hb, total, maximize=maximize)

    by_rung: dict[tuple[int, int], list[Trial]] = {}
    for t in trials:
        by_rung.setdefault((t.meta["bracket"], t.meta["rung"]), []).append(t)
    for s_index, bracket in enumerate(PAPER_TABLE):
        for i, (n, r) in enumerate(bracket):
            rung = by_rung[(s_index, i)]
            assert len(rung) == n and {t.fidelity for t in rung} == {float(r)}
            if i == 0:
                continue
            previous = by_rung[(s_index, i - 1)]
            best = sorted(previous, key=lambda t: t.config["x"])[:n]  # the lowest x wins either way
            assert [t.config for t in rung] == [t.config for t in best]
            assert [t.meta["config_id"] for t in rung] == [t.meta["config_id"] for t in best]
    # The next ask starts the second iteration with the most exploratory bracket again.
    assert hb.ask().meta == {"bracket": 5, "rung": 0, "index": 0, "config_id": 0}


def test_failed_trials_rank_last() -> None:
    sh = SuccessiveHalving(mf_problem(Fidelity("epochs", 1, 3)), seed=0)
    first_rung = [sh.ask() for _ in range(3)]
    sh.tell(first_rung[0], Result((math.nan,)))
    sh.tell(first_rung[1], Result((5.0,)))
    sh.tell(first_rung[2], Result((math.inf,)))
    promoted = sh.ask()
    assert promoted.fidelity == 3.0 and promoted.config == first_rung[1].config


def test_ask_while_waiting_waits_for_the_rung() -> None:
    hb = Hyperband(mf_problem(Fidelity("epochs", 1, 9)), seed=0)
    first = [hb.ask() for _ in range(9)]  # bracket 0, rung 0: all handed out, none told
    assert {t.meta["bracket"] for t in first} == {0}
    with pytest.raises(WaitForPending, match="bracket 0, rung 0: 9 of 9 trials pending"):
        hb.ask()  # synchronous: rung 1 needs every result of rung 0
    for t in first:
        hb.tell(t, Result((loss_of(t.config, 1.0),)))
    promoted = hb.ask()
    assert promoted.meta["bracket"] == 0 and promoted.meta["rung"] == 1 and promoted.fidelity == 3.0


def test_tell_rejects_foreign_or_repeated_trials() -> None:
    sh = SuccessiveHalving(mf_problem(Fidelity("epochs", 1, 9)), seed=0)
    trial = sh.ask()
    with pytest.raises(ValueError, match="not proposed"):
        sh.tell(Trial({"x": 0.5, "c": "a"}, 1.0), Result((1.0,)))
    sh.tell(trial, Result((1.0,)))
    with pytest.raises(ValueError, match="unexpected result"):
        sh.tell(trial, Result((1.0,)))


def test_hyperband_is_seeded() -> None:
    def configs(seed: int) -> list[dict[str, Any]]:
        hb = Hyperband(mf_problem(Fidelity("epochs", 1, 27)), seed=seed)
        return [t.config for t in run_sequential(hb, 60)]

    assert configs(4) == configs(4)
    assert configs(4) != configs(5)


# ----------------------------------------------------------------------------- random search


def test_random_search_is_uniform_and_respects_weights() -> None:
    space = ConfigurationSpace(seed=0)
    space.add(
        Float("x", (-2.0, 3.0)),
        Float("lr", (1e-3, 10.0), log=True),
        Integer("n", (1, 4)),
        Integer("units", (1, 1000), log=True),
        CategoricalHyperparameter("c", ["a", "b"], weights=[1, 3]),
        OrdinalHyperparameter("o", ["lo", "mid", "hi"]),
        Constant("k", "fixed"),
    )
    opt = RandomSearch(Problem(space, (Objective("y"),), None, Budget(1e9)), seed=0)
    configs = [opt.ask().config for _ in range(20_000)]

    x = np.array([c["x"] for c in configs])
    assert stats.kstest(x, stats.uniform(loc=-2, scale=5).cdf).pvalue > 1e-3
    log_lr = np.log10([c["lr"] for c in configs])
    assert stats.kstest(log_lr, stats.uniform(loc=-3, scale=4).cdf).pvalue > 1e-3
    counts = Counter(c["n"] for c in configs)
    assert sorted(counts) == [1, 2, 3, 4]
    assert stats.chisquare([counts[k] for k in (1, 2, 3, 4)]).pvalue > 1e-3
    # Discrete log-uniform: P(units < 10) = log(10) / log(1001).
    below_10 = np.mean([c["units"] < 10 for c in configs])
    assert below_10 == pytest.approx(math.log(10) / math.log(1001), abs=0.015)
    assert np.mean([c["c"] == "b" for c in configs]) == pytest.approx(0.75, abs=0.015)
    assert set(Counter(c["o"] for c in configs)) == {"lo", "mid", "hi"}
    assert {c["k"] for c in configs} == {"fixed"}
    for config in configs[:200]:
        validate(space, config)


def test_random_search_fidelity_is_the_highest() -> None:
    continuous = RandomSearch(mf_problem(Fidelity("epochs", 1, 50)), seed=0)
    discrete = RandomSearch(mf_problem(Fidelity("epochs", 1, 10, values=(1, 5, 10))), seed=0)
    black_box = RandomSearch(
        Problem(ConfigurationSpace({"x": (0.0, 1.0)}), (Objective("y"),), None, Budget(5)), seed=0
    )
    assert continuous.ask().fidelity == 50.0
    assert discrete.ask().fidelity == 10.0
    assert black_box.ask().fidelity is None


def test_random_search_prefix_does_not_depend_on_run_length() -> None:
    problem = mf_problem(Fidelity("epochs", 1, 9))
    short = RandomSearch(problem, seed=11)
    long = RandomSearch(problem, seed=11)
    first = [short.ask().config for _ in range(20)]
    assert [long.ask().config for _ in range(300)][:20] == first
    assert first != [RandomSearch(problem, seed=12).ask().config for _ in range(20)]


def test_random_search_rejects_params() -> None:
    with pytest.raises(ValueError, match="takes no parameters"):
        RandomSearch(mf_problem(Fidelity("epochs", 1, 9)), seed=0, eta=3)


def test_random_search_speed_smoke() -> None:
    # Timing lives in benchmarks/; here only the hot path runs at scale without surprises.
    space = ConfigurationSpace({"x0": (-5.0, 5.0), "x1": (-5.0, 5.0)}, seed=0)
    opt = RandomSearch(Problem(space, (Objective("y"),), None, Budget(1e9)), seed=0)
    result = Result((0.0,))
    seen = set()
    for _ in range(50_000):
        trial = opt.ask()
        opt.tell(trial, result)
        seen.add((trial.config["x0"], trial.config["x1"]))
    assert len(seen) == 50_000


# ----------------------------------------------------------------------------- sampler and validate


def conditional_space() -> ConfigurationSpace:
    space = ConfigurationSpace(seed=0)
    kind = CategoricalHyperparameter("kind", ["linear", "tree"])
    alpha = Float("alpha", (1e-3, 10.0), log=True)
    depth = Integer("depth", (1, 8))
    mode = OrdinalHyperparameter("mode", [1, 2, 3])
    space.add(kind, alpha, depth, mode)
    space.add(EqualsCondition(alpha, kind, "linear"), EqualsCondition(depth, kind, "tree"))
    space.add(ForbiddenAndConjunction(ForbiddenEqualsClause(kind, "tree"), ForbiddenEqualsClause(mode, 3)))
    return space


def test_conditional_space_samples_are_valid_plain_and_seeded() -> None:
    space = conditional_space()
    configs = sample_configs(space, np.random.default_rng(0), 300)
    for config in configs:
        validate(space, config)
        assert all(type(v) in (int, float, str) for v in config.values())
    kinds = Counter(c["kind"] for c in configs)
    assert kinds["linear"] > 50 and kinds["tree"] > 50
    assert all(("alpha" in c) == (c["kind"] == "linear") for c in configs)
    assert not any(c["kind"] == "tree" and c["mode"] == 3 for c in configs)
    assert sample_configs(space, np.random.default_rng(0), 300) == configs
    assert sample_configs(space, np.random.default_rng(1), 300) != configs
    assert len(sample_configs(space, np.random.default_rng(0), 1)) == 1


def test_sampler_leaves_the_task_space_alone() -> None:
    space = conditional_space()
    space.seed(0)
    expected = space.sample_configuration()
    space.seed(0)
    SpaceSampler(space, np.random.default_rng(5)).sample(10)
    assert space.sample_configuration() == expected


def test_prior_distributions_go_through_configspace() -> None:
    space = ConfigurationSpace(seed=0)
    space.add(
        Float("nf", (0.0, 10.0), distribution=Normal(5.0, 1.0)),
        Integer("bi", (0, 10), distribution=Beta(2.0, 5.0)),
    )
    configs = sample_configs(space, np.random.default_rng(0), 2000)
    for config in configs[:100]:
        validate(space, config)
    assert type(configs[0]["nf"]) is float and type(configs[0]["bi"]) is int
    assert np.mean([c["nf"] for c in configs]) == pytest.approx(5.0, abs=0.15)
    assert np.std([c["nf"] for c in configs]) < 1.2  # concentrated, not uniform on [0, 10]


@pytest.mark.parametrize(
    ("config", "match"),
    [
        ({"kind": "linear", "alpha": 0.1, "mode": np.int64(1)}, "plain bool, int, float or str"),
        ({"kind": "tree", "depth": 3.0, "mode": 1}, "expected int"),
        ({"kind": "tree", "depth": 3, "mode": 3}, "forbidden"),
        ({"kind": "tree", "depth": 3, "alpha": 0.1, "mode": 1}, "inactive"),
        ({"kind": "linear", "alpha": 100.0, "mode": 1}, "not allowed"),
        ({"kind": "linear", "alpha": 0.1, "mode": 1, "extra": 1}, "unknown hyperparameter"),
    ],
)
def test_validate_rejects_bad_configs(config: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        validate(conditional_space(), config)
