"""MOBSTER: ASHA's schedule kept, the joint GP (against scikit-learn), proposals, pending fantasies."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest
from ConfigSpace import (
    CategoricalHyperparameter,
    ConfigurationSpace,
    EqualsCondition,
    Float,
    ForbiddenEqualsClause,
    Integer,
    OrdinalHyperparameter,
)

from bench.registry import make_task
from optimizers.asha import ASHA
from optimizers.base import Budget, Optimizer, Problem, Trial
from optimizers.gp_model import GaussianProcess, _neg_log_likelihood, expected_improvement, matern52
from optimizers.mobster import MOBSTER, CubeEncoder
from optimizers.sampling import validate
from tasks.base import Fidelity, Objective, Result

OPTIMUM = {"x": 0.2, "y": 0.8}


def _problem(high: float = 27, maximize: bool = False) -> Problem:
    space = ConfigurationSpace({"x": (0.0, 1.0), "y": (0.0, 1.0)}, seed=0)
    return Problem(space, (Objective("f", minimize=not maximize),), Fidelity("epochs", 1, high), Budget(1000))


def _loss(trial: Trial) -> float:
    """A bowl around OPTIMUM plus a fidelity term that shrinks as the fidelity grows."""
    assert trial.fidelity is not None
    c = trial.config
    return (c["x"] - OPTIMUM["x"]) ** 2 + (c["y"] - OPTIMUM["y"]) ** 2 + 0.3 / trial.fidelity


def _run(opt: Optimizer, n: int, loss: Callable[[Trial], float] = _loss) -> list[Trial]:
    trials = []
    for _ in range(n):
        trial = opt.ask()
        opt.tell(trial, Result((loss(trial),)))
        trials.append(trial)
    return trials


# ----------------------------------------------------------------------------- the GP


def test_gp_gradient_matches_finite_differences() -> None:
    rng = np.random.default_rng(0)
    x = rng.random((15, 3))
    z = np.sin(4 * x[:, 0]) + x[:, 1]
    z = (z - z.mean()) / z.std()
    theta = np.array([-1.0, 0.3, 0.8, 0.2, -3.0])
    _, grad = _neg_log_likelihood(theta, x, z)
    eps = 1e-6
    for j in range(len(theta)):
        up, down = theta.copy(), theta.copy()
        up[j] += eps
        down[j] -= eps
        numeric = (_neg_log_likelihood(up, x, z)[0] - _neg_log_likelihood(down, x, z)[0]) / (2 * eps)
        assert grad[j] == pytest.approx(numeric, rel=1e-4, abs=1e-6)


def test_gp_posterior_equals_scikit_learn_with_the_same_hyperparameters() -> None:
    gpr = pytest.importorskip("sklearn.gaussian_process", reason="scikit-learn (the `sklearn` extra) absent")
    kernels = pytest.importorskip("sklearn.gaussian_process.kernels")
    rng = np.random.default_rng(1)
    x, y = rng.random((25, 2)), rng.normal(size=25)
    ours = GaussianProcess.fit(x, y, rng)
    kernel = kernels.ConstantKernel(ours.signal, "fixed") * kernels.Matern(
        ours.lengths, "fixed", nu=2.5
    ) + kernels.WhiteKernel(ours.noise + 1e-9, "fixed")
    ref = gpr.GaussianProcessRegressor(kernel, optimizer=None, normalize_y=False)
    ref.fit(x, (y - ours.y_mean) / ours.y_std)
    points = rng.random((40, 2))
    mean, std = ours.predict(points)
    ref_mean, ref_cov = ref.predict(points, return_cov=True)
    np.testing.assert_allclose(mean, ours.y_mean + ours.y_std * ref_mean, rtol=1e-8, atol=1e-10)
    # scikit-learn's covariance includes the white-noise term; ours is the latent function's.
    latent_var = np.diag(ref_cov) - (ours.noise + 1e-9)
    np.testing.assert_allclose(std, ours.y_std * np.sqrt(np.maximum(latent_var, 1e-12)), rtol=1e-6, atol=1e-8)
    # And the kernel itself equals scikit-learn's Matérn 5/2.
    k_ref = kernels.ConstantKernel(2.0) * kernels.Matern([0.3, 0.7], nu=2.5)
    np.testing.assert_allclose(matern52(points, x, np.array([0.3, 0.7]), 2.0), k_ref(points, x), rtol=1e-10)


def test_gp_fit_recovers_a_smooth_function_and_ei_is_hand_computed() -> None:
    rng = np.random.default_rng(0)
    x = rng.random((30, 1))
    gp = GaussianProcess.fit(x, np.cos(5 * x[:, 0]), rng)
    grid = np.linspace(0.05, 0.95, 19)[:, None]
    mean, _ = gp.predict(grid)
    assert np.max(np.abs(mean - np.cos(5 * grid[:, 0]))) < 0.02
    # EI(mu=1, sigma=2, best=0): u = -0.5; 2 * (-0.5 * Phi(-0.5) + phi(-0.5)) by hand.
    phi, cdf = math.exp(-0.125) / math.sqrt(2 * math.pi), 0.5 * math.erfc(0.5 / math.sqrt(2))
    assert expected_improvement(np.array([1.0]), np.array([2.0]), 0.0)[0] == pytest.approx(
        2 * (-0.5 * cdf + phi), rel=1e-12
    )


# ----------------------------------------------------------------------------- encoding


def test_encoder_one_hot_log_ordinal_and_inactive() -> None:
    space = ConfigurationSpace(seed=0)
    kind = CategoricalHyperparameter("kind", ["a", "b"])
    depth = Integer("depth", (1, 9))
    space.add(kind, depth, Float("lr", (1e-4, 1.0), log=True), OrdinalHyperparameter("o", ["s", "m", "l"]))
    space.add(EqualsCondition(depth, kind, "a"))
    enc = CubeEncoder(space)
    assert enc.dim == 5  # two one-hot columns, then depth, lr, o (topological order)
    a = enc.encode({"kind": "a", "depth": 5, "lr": 1e-2, "o": "l"})
    b = enc.encode({"kind": "b", "lr": 1e-4, "o": "s"})  # depth inactive
    names = [p.name for p in enc.params]
    assert names[0] == "kind"
    assert a[:2].tolist() == [1.0, 0.0] and b[:2].tolist() == [0.0, 1.0]
    by_name = dict(zip(names[1:], range(2, 5), strict=True))
    assert a[by_name["depth"]] == 0.5 and b[by_name["depth"]] == 0.5  # 5 of 1..9, and inactive
    assert a[by_name["lr"]] == pytest.approx(0.5) and b[by_name["lr"]] == 0.0
    assert a[by_name["o"]] == 1.0 and b[by_name["o"]] == 0.0


# ----------------------------------------------------------------------------- scheduling


def test_schedule_is_asha_while_configurations_are_random() -> None:
    """With the model never used, every trial (config, fidelity, rung) is ASHA's."""
    mobster = MOBSTER(_problem(), seed=3, num_init_random=10**6)
    asha = ASHA(_problem(), seed=3)
    got, want = _run(mobster, 120), _run(asha, 120)
    assert [(t.config, t.fidelity, t.meta) for t in got] == [(t.config, t.fidelity, t.meta) for t in want]


def test_first_configurations_are_asha_random_then_the_model_takes_over() -> None:
    mobster, asha = MOBSTER(_problem(), seed=0), ASHA(_problem(), seed=0)
    got, want = _run(mobster, 60), _run(asha, 60)
    new = [t.config for t in got if t.meta["rung"] == 0]
    random_new = [t.config for t in want if t.meta["rung"] == 0]
    assert new[:6] == random_new[:6] and new[6] != random_new[6]


def test_acquisition_rung_is_the_highest_with_enough_results() -> None:
    opt = MOBSTER(_problem(high=9), seed=0, resource_acq_threshold=3)
    assert opt.rungs == (1.0, 3.0, 9.0) and opt.acquisition_rung() == 0
    counts = []
    for trial in _run(opt, 40):
        counts.append(opt.acquisition_rung())
        del trial
    assert counts == sorted(counts) and counts[-1] == 2  # it only moves up, and reaches the top


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_model_beats_asha_on_the_bowl(seed: int) -> None:
    def best_top(trials: list[Trial]) -> float:
        return min(_loss(t) for t in trials if t.fidelity == 27.0)

    mobster = best_top(_run(MOBSTER(_problem(), seed=seed), 150))
    asha = best_top(_run(ASHA(_problem(), seed=seed), 150))
    assert mobster < asha


@pytest.mark.slow
def test_beats_asha_on_a_multi_fidelity_benchmark_function() -> None:
    task = make_task("synthetic/mfh3_good")
    assert task.fidelity is not None
    wins = losses = 0
    for seed in range(5):
        best = []
        for cls in (MOBSTER, ASHA):
            problem = Problem(task.space, task.objectives, task.fidelity, Budget(150))
            opt = cls(problem, seed=seed)
            values = []
            for _ in range(150):
                trial = opt.ask()
                result = task.evaluate(trial.config, trial.fidelity, seed=0)
                opt.tell(trial, result)
                if trial.fidelity == task.fidelity.high:
                    values.append(result.values[0])
            best.append(min(values))
        wins += best[0] < best[1]
        losses += best[0] > best[1]
    # 150 trials reach the top fidelity (100) only a few times: a tie is the same promoted config.
    assert wins >= 3 and losses <= 1


def test_maximized_objective_is_negated() -> None:
    trials = _run(MOBSTER(_problem(maximize=True), seed=0), 120, loss=lambda t: -_loss(t))
    top = [t for t in trials if t.fidelity == 27.0]
    best = min(top, key=_loss)
    assert abs(best.config["x"] - OPTIMUM["x"]) < 0.15 and abs(best.config["y"] - OPTIMUM["y"]) < 0.15


def test_pending_trials_get_distinct_proposals() -> None:
    opt = MOBSTER(_problem(), seed=0, num_init_random=4)
    _run(opt, 20)
    batch = [opt.ask() for _ in range(6)]  # six workers, nothing told yet
    new = [t.config for t in batch if t.meta["rung"] == 0]
    assert len(new) >= 2 and len({tuple(sorted(c.items())) for c in new}) == len(new)
    for t in batch:
        opt.tell(t, Result((_loss(t),)))
    assert not opt._pending


def test_model_proposals_avoid_started_configurations_in_a_small_space() -> None:
    space = ConfigurationSpace({"a": ["p", "q", "r"], "b": ["u", "v", "w"]}, seed=0)
    problem = Problem(space, (Objective("y"),), Fidelity("epochs", 1, 9), Budget(100))
    opt = MOBSTER(problem, seed=0, num_init_random=2)

    def loss(trial: Trial) -> float:
        return float("pq r".index(trial.config["a"]) + "uv w".index(trial.config["b"]))

    seen: list[tuple[str, str]] = []
    while len(seen) < 9:
        trial = opt.ask()
        if trial.meta["rung"] == 0:
            seen.append((trial.config["a"], trial.config["b"]))
        opt.tell(trial, Result((loss(trial),)))
    model_made = seen[2:]  # the first two are random, the rest from the model
    assert len(set(model_made)) == len(model_made)


def test_conditional_and_forbidden_spaces_give_valid_configurations() -> None:
    space = ConfigurationSpace(seed=0)
    kind = CategoricalHyperparameter("kind", ["tree", "linear"])
    depth = Integer("depth", (1, 10))
    space.add(kind, depth, Float("lr", (1e-4, 1.0), log=True))
    space.add(EqualsCondition(depth, kind, "tree"))
    space.add(ForbiddenEqualsClause(kind, "linear"))  # only trees are allowed
    problem = Problem(space, (Objective("y"),), Fidelity("epochs", 1, 27), Budget(100))
    opt = MOBSTER(problem, seed=0, num_init_random=3)
    for trial in _run(opt, 60, loss=lambda t: abs(math.log10(t.config["lr"]) + 2) + t.config["depth"] / 10):
        validate(space, trial.config)
        assert trial.config["kind"] == "tree"


def test_failed_trials_enter_the_model_as_the_worst_loss_and_are_avoided() -> None:
    opt = MOBSTER(_problem(), seed=0, num_init_random=3)

    def loss(trial: Trial) -> float:
        return float("nan") if trial.config["x"] > 0.5 else _loss(trial)

    trials = _run(opt, 80, loss=loss)
    _, y = opt._observations()
    finite = [loss(t) for t in trials if not math.isnan(loss(t))]
    n_failed = len(trials) - len(finite)
    assert n_failed and np.isfinite(y).all()
    assert len(y) == len(finite) + n_failed * len(opt.rungs)  # all lowest-rung failures, on every rung
    assert sorted(y)[-1] == max(finite) and int((y == max(finite)).sum()) > 1
    failing = [t.config["x"] > 0.5 for t in trials]
    assert sum(failing[40:]) < sum(failing[:40])


def test_same_seed_same_trials_and_different_seed_differs() -> None:
    runs = [[(t.config, t.fidelity) for t in _run(MOBSTER(_problem(), seed=s), 40)] for s in (5, 5, 6)]
    assert runs[0] == runs[1] and runs[0] != runs[2]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("num_init_random", 0),
        ("n_candidates", 1.5),
        ("resource_acq_threshold", True),
        ("max_model_points", 1),
    ],
)
def test_bad_parameters_are_refused_in_one_line(name: str, value: object) -> None:
    with pytest.raises(ValueError, match=rf"^{name}={value!r} is invalid: use an integer >= \d+$"):
        MOBSTER(_problem(), seed=0, **{name: value})  # type: ignore[arg-type]


def test_model_points_are_capped_highest_rungs_first() -> None:
    opt = MOBSTER(_problem(high=9), seed=0, max_model_points=10)
    _run(opt, 40)
    x, y = opt._observations()
    assert len(y) == 10
    top = sum(1 for _, _ in opt._results[2])
    assert np.all(x[:top, -1] == 1.0)  # the fidelity coordinate of the top rung comes first


@pytest.mark.parametrize("value", [-0.1, "x", True, None])
def test_bad_refit_growth_is_refused_in_one_line(value: object) -> None:
    with pytest.raises(ValueError, match=rf"^refit_growth={value!r} is invalid: use a number >= 0"):
        MOBSTER(_problem(), seed=0, refit_growth=value)  # type: ignore[arg-type]
