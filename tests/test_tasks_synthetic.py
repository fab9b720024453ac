"""Tests for the synthetic task family (Branin, Hartmann, MF-Hartmann, ZDT, DTLZ2)."""

from __future__ import annotations

import math
import pickle
from collections.abc import Sequence

import numpy as np
import pytest
from ConfigSpace import UniformFloatHyperparameter
from scipy.optimize import minimize
from scipy.stats import spearmanr

from tasks.synthetic import (
    BRANIN_MIN,
    DTLZ2,
    HARTMANN,
    MFH_PRESETS,
    ZDT,
    ZDT3_F1_INTERVALS,
    Branin,
    Hartmann,
    MFHartmann,
    SyntheticFamily,
    branin,
    families,
    hartmann,
    make_task,
)

ALL_IDS = SyntheticFamily().ids()


def _config(x: np.ndarray | Sequence[float]) -> dict[str, float]:
    return {f"x{i}": float(v) for i, v in enumerate(x)}


def test_catalog_lists_expected_ids() -> None:
    [fam] = families()
    assert fam.name == "synthetic" and fam.unavailable_reason() is None
    expected = {
        "synthetic/branin",
        "synthetic/hartmann3",
        "synthetic/hartmann6",
        "synthetic/mfh3",
        "synthetic/mfh6",
        "synthetic/mfh3_good",
        "synthetic/mfh6_terrible",
        "synthetic/zdt1",
        "synthetic/zdt2",
        "synthetic/zdt3",
        "synthetic/zdt1/d30",
        "synthetic/dtlz2",
        "synthetic/dtlz2/d11",
    }
    assert expected <= set(ALL_IDS)
    assert len(ALL_IDS) == len(set(ALL_IDS)) == 21


@pytest.mark.parametrize("task_id", ALL_IDS)
def test_every_id_builds_and_evaluates_random_configs(task_id: str) -> None:
    task = make_task(task_id)
    assert task.id == task_id
    meta = task.meta
    assert (meta.family, meta.kind, meta.param_types) == ("synthetic", "synthetic", ("float",))
    # ConfigSpace orders names alphabetically (x0, x1, x10, ...); tasks look values up by name.
    assert sorted(task.space) == sorted(task.keys) == sorted(f"x{i}" for i in range(meta.dims))
    for name, hp in task.space.items():
        i = int(name[1:])
        assert isinstance(hp, UniformFloatHyperparameter)
        assert (hp.lower, hp.upper) == (task.lower[i], task.upper[i])
    expected_type = {(1, False): "bb", (1, True): "mf", (2, False): "mo"}[
        (len(task.objectives), task.fidelity is not None)
    ]
    assert meta.type == expected_type
    assert (meta.optimum is None) == (len(task.objectives) > 1)
    for config in task.space.sample_configuration(5):
        result = task.evaluate(config, seed=3)  # ConfigSpace Configuration objects work too
        assert len(result.values) == len(task.objectives)
        assert all(math.isfinite(v) for v in result.values)
        assert result.values == task.evaluate(dict(config), seed=3).values
        if meta.optimum is not None:
            assert result.values[0] >= meta.optimum[0]


def test_space_is_seeded() -> None:
    a, b = make_task("synthetic/hartmann6").space, make_task("synthetic/hartmann6").space
    assert a.sample_configuration() == b.sample_configuration()


def test_branin_known_minima() -> None:
    task = Branin()
    assert task.meta.optimum == (BRANIN_MIN,)
    assert abs(BRANIN_MIN - 0.397887) < 1e-6
    for x in ([-np.pi, 12.275], [np.pi, 2.275], [9.42478, 2.475]):
        assert task.evaluate(_config(x)).values[0] == pytest.approx(0.397887, abs=1e-5)
    grid = np.stack(np.meshgrid(np.linspace(-5, 10, 301), np.linspace(0, 15, 301)), axis=-1)
    assert branin(grid).min() >= BRANIN_MIN


@pytest.mark.parametrize(("dims", "published"), [(3, -3.86278), (6, -3.32237)])
def test_hartmann_known_minimum(dims: int, published: float) -> None:
    task = Hartmann(dims)
    optimum = task.meta.optimum[0]  # type: ignore[index]
    assert optimum == pytest.approx(published, abs=1e-5)
    argmin = HARTMANN[dims][2]
    assert task.evaluate(_config(argmin)).values[0] == pytest.approx(published, abs=1e-5)
    # The recorded optimum is a true lower bound: neither local search nor sampling beats it.
    res = minimize(lambda x: float(hartmann(x)), np.array(argmin), method="L-BFGS-B", bounds=[(0, 1)] * dims)
    assert res.fun >= optimum - 1e-12
    samples = np.random.default_rng(0).uniform(0, 1, (20000, dims))
    assert hartmann(samples).min() >= optimum


@pytest.mark.parametrize("task_id", [i for i in ALL_IDS if "/mfh" in i])
def test_mfh_max_fidelity_is_exact_hartmann(task_id: str) -> None:
    task = make_task(task_id)
    fid = task.fidelity
    assert fid is not None and (fid.name, fid.low, fid.high, fid.values) == ("z", 1, 100, None)
    truth = Hartmann(task.meta.dims)
    assert task.meta.optimum == truth.meta.optimum
    for seed, config in enumerate(task.space.sample_configuration(10)):
        expected = truth.evaluate(config).values
        assert task.evaluate(config, fidelity=100, seed=seed).values == expected
        assert task.evaluate(config, fidelity=None, seed=seed).values == expected  # None = highest
        assert task.evaluate(config, fidelity=100, seed=seed).cost == 1.0


def test_mfh_noise_is_deterministic_by_seed_and_differs_across_seeds() -> None:
    task = MFHartmann(3, "good")
    config = {"x0": 0.2, "x1": 0.4, "x2": 0.6}
    first = task.evaluate(config, fidelity=5, seed=11)
    assert task.evaluate(config, fidelity=5, seed=11) == first
    assert pickle.loads(pickle.dumps(task)).evaluate(config, fidelity=5, seed=11) == first
    others = {task.evaluate(config, fidelity=5, seed=s).values for s in range(20)}
    assert len(others) == 20
    # Within one seed, different points still get independent noise draws.
    a = task.evaluate_array(np.array([0.2, 0.4, 0.6]), 5, 0).values[0] - hartmann(np.array([0.2, 0.4, 0.6]))
    b = task.evaluate_array(np.array([0.2, 0.4, 0.61]), 5, 0).values[0] - hartmann(np.array([0.2, 0.4, 0.61]))
    assert abs(a - b) > 1e-3


@pytest.mark.parametrize("preset", list(MFH_PRESETS))
def test_mfh_bias_and_noise_follow_mf_prior_bench(preset: str) -> None:
    dims = 3
    task = MFHartmann(dims, preset)
    bias, noise = MFH_PRESETS[preset]
    x = np.array([0.3, 0.7, 0.5])
    for z in (1.0, 10.0):
        gap = 1 - math.log(z) / math.log(100)
        flattened = float(hartmann(x, np.array([1.0, 1.2, 3.0, 3.2]) - bias * gap))
        draws = np.array([task.evaluate_array(x, z, s).values[0] for s in range(1000)]) - flattened
        assert draws.min() >= 0.0  # half-normal noise on top of the flattened function
        # E|N(0, 1)| = sqrt(2 / pi): the noise scale is noise * (1 - s).
        assert draws.mean() / (noise * gap) == pytest.approx(math.sqrt(2 / math.pi), rel=0.08)


def test_mfh_fidelity_correlation_improves_with_fidelity_and_preset() -> None:
    xs = np.random.default_rng(0).uniform(0, 1, (200, 3))

    def rho(preset: str, z: float) -> float:
        task = MFHartmann(3, preset)
        hi = [task.evaluate_array(x, 100, 0).values[0] for x in xs]
        lo = [task.evaluate_array(x, z, 0).values[0] for x in xs]
        return float(spearmanr(lo, hi)[0])

    assert rho("", 3) < rho("", 30) < 1.0
    assert rho("good", 30) > rho("moderate", 30) > rho("bad", 30) > rho("terrible", 30)


def test_mfh_cost_grows_with_fidelity_and_range_is_checked() -> None:
    task = MFHartmann(6)
    config = _config([0.5] * 6)
    costs = [task.evaluate(config, fidelity=z).cost for z in (1, 2, 10, 50, 100)]
    assert costs == sorted(costs) and costs[0] == pytest.approx(0.050095) and costs[-1] == 1.0
    for bad in (0.5, 101):
        with pytest.raises(ValueError, match=r"outside \[1, 100\]"):
            task.evaluate(config, fidelity=bad)


def test_zdt_pareto_fronts_have_known_values() -> None:
    f1 = np.linspace(0, 1, 11)
    closed_form = {1: 1 - np.sqrt(f1), 2: 1 - f1**2, 3: 1 - np.sqrt(f1) - f1 * np.sin(10 * np.pi * f1)}
    for which, f2 in closed_form.items():
        for dims in (6, 30):
            task = ZDT(which, dims)
            for a, b in zip(f1, f2, strict=True):
                values = task.evaluate(_config([a] + [0.0] * (dims - 1))).values
                assert values == pytest.approx((a, b), abs=1e-12)
    assert ZDT(2).evaluate(_config([0.25, 0, 0, 0, 0, 0])).values == (0.25, 0.9375)
    assert ZDT(3).evaluate(_config([0.25, 0, 0, 0, 0, 0])).values == pytest.approx((0.25, 0.25))
    # Off the Pareto set, g > 1 pushes f2 up.
    assert ZDT(1).evaluate(_config([0.25, 0.5, 0, 0, 0, 0])).values[1] > 0.5


@pytest.mark.parametrize(
    "task_id",
    ["synthetic/zdt1", "synthetic/zdt2", "synthetic/zdt3", "synthetic/dtlz2", "synthetic/dtlz2/d11"],
)
def test_pareto_front_is_attained_and_not_dominated(task_id: str) -> None:
    task = make_task(task_id)
    front = task.pareto_front(60)  # type: ignore[attr-defined]
    assert front.shape[1] == 2 and np.all(np.diff(front[:, 0]) >= 0)
    rng = np.random.default_rng(1)
    samples = np.array([task.evaluate_array(x).values for x in rng.uniform(0, 1, (2000, task.meta.dims))])
    weakly_better = (samples[:, None, :] <= front[None, :, :]).all(-1)
    dominated = weakly_better & (samples[:, None, :] < front[None, :, :]).any(-1)
    assert not dominated.any()
    if task_id.startswith("synthetic/dtlz2"):
        assert np.allclose((front**2).sum(axis=1), 1.0)
        x = np.full(task.meta.dims, 0.5)
        for t in np.linspace(0, 1, 7):
            x[0] = t
            f = task.evaluate_array(x).values
            assert f == pytest.approx((math.cos(t * math.pi / 2), math.sin(t * math.pi / 2)), abs=1e-12)
    if task_id == "synthetic/zdt3":
        assert all(any(lo - 1e-9 <= v <= hi + 1e-9 for lo, hi in ZDT3_F1_INTERVALS) for v in front[:, 0])


@pytest.mark.parametrize("task_id", ALL_IDS)
def test_pickle_round_trip(task_id: str) -> None:
    task = make_task(task_id)
    clone = pickle.loads(pickle.dumps(task))
    assert type(clone) is type(task) and clone.id == task.id and clone.meta == task.meta
    x = np.linspace(0.1, 0.9, task.meta.dims)
    fidelity = 7.0 if task.fidelity is not None else None
    assert clone.evaluate_array(x, fidelity, 5) == task.evaluate_array(x, fidelity, 5)


def test_bad_ids_and_arguments_raise_helpful_value_errors() -> None:
    with pytest.raises(ValueError, match=r"'synthetic/hartman3'.*did you mean 'synthetic/hartmann3'"):
        make_task("synthetic/hartman3")
    with pytest.raises(ValueError, match=r"'synthetic/nope'.*valid: synthetic/branin"):
        make_task("synthetic/nope")
    with pytest.raises(ValueError, match="valid: 3, 6"):
        Hartmann(4)
    with pytest.raises(ValueError, match="preset='awful'"):
        MFHartmann(3, "awful")
    with pytest.raises(ValueError, match="valid: 1, 2, 3"):
        ZDT(4)
    with pytest.raises(ValueError, match="has no fidelity"):
        Branin().evaluate({"x0": 0.0, "x1": 0.0}, fidelity=1.0)
    with pytest.raises(ValueError, match="dims=1"):
        DTLZ2(1)
