"""ConfigSpace → library spaces: kinds, decoding, conditions, forbiddens, and round-trips.

The shared helpers live in optimizers/space_conversion.py; each library's converter lives in
its adapter module (optimizers/optuna.py, nevergrad.py, skopt.py, hyperopt.py).

The round-trip tests draw raw points from each library's *own* sampler over the
converted space and check that every decoded configuration is valid for the
original ConfigSpace and that the whole space is reachable (both integer bounds,
every category, every ordinal step).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from ConfigSpace import (
    AndConjunction,
    CategoricalHyperparameter,
    ConfigurationSpace,
    Constant,
    EqualsCondition,
    Float,
    ForbiddenAndConjunction,
    ForbiddenEqualsClause,
    GreaterThanCondition,
    InCondition,
    Integer,
    NormalFloatHyperparameter,
    OrdinalHyperparameter,
)

from optimizers.base import Budget, Problem
from optimizers.hyperopt import hyperopt_space
from optimizers.nevergrad import nevergrad_parametrization
from optimizers.optuna import optuna_distributions
from optimizers.sampling import validate
from optimizers.skopt import skopt_dimensions
from optimizers.space_conversion import (
    Param,
    RowDecoder,
    decode,
    decode_config,
    is_active,
    is_forbidden,
    library_seed,
    minimization_losses,
    params_of,
    searchable,
    unsupported_features,
)
from tasks.base import Objective, Result

N_DRAWS = 600


def full_space() -> ConfigurationSpace:
    """Every supported kind: float/int × linear/log, categorical of mixed types, ordinal, constant."""
    space = ConfigurationSpace(seed=0)
    space.add(
        Float("x", (-5.0, 5.0)),
        Float("lr", (1e-5, 1.0), log=True),
        Integer("n", (1, 4)),
        Integer("units", (2, 16), log=True),
        CategoricalHyperparameter("c", ["a", 7, 2.5, True]),
        OrdinalHyperparameter("size", ["s", "m", "l"]),
        Constant("solver", "adam"),
    )
    return space


def conditional_space() -> ConfigurationSpace:
    space = ConfigurationSpace(seed=0)
    kind = CategoricalHyperparameter("kind", ["linear", "tree", "net"])
    alpha = Float("alpha", (1e-3, 10.0), log=True)
    depth = Integer("depth", (1, 8))
    leaf = Integer("leaf", (1, 4))
    width = Constant("width", 32)
    space.add(kind, alpha, depth, leaf, width)
    space.add(
        EqualsCondition(alpha, kind, "linear"),
        InCondition(depth, kind, ["tree", "net"]),
        AndConjunction(EqualsCondition(leaf, kind, "tree"), GreaterThanCondition(leaf, depth, 2)),
        EqualsCondition(width, kind, "net"),
    )
    return space


def test_params_of_kinds_and_topological_order() -> None:
    kinds = {p.name: p.kind for p in params_of(full_space())}
    assert kinds == {
        "x": "float",
        "lr": "float",
        "n": "int",
        "units": "int",
        "c": "categorical",
        "size": "ordinal",
        "solver": "constant",
    }
    names = [p.name for p in params_of(conditional_space())]
    assert names.index("kind") < names.index("depth") < names.index("leaf")
    assert "solver" not in {p.name for p in searchable(full_space())}


def test_prior_hyperparameters_keep_their_bounds() -> None:
    space = ConfigurationSpace({"z": NormalFloatHyperparameter("z", mu=0.0, sigma=1.0, lower=-3, upper=3)})
    (param,) = params_of(space)
    assert (param.kind, param.lower, param.upper) == ("float", -3.0, 3.0)


def test_decode_types_clipping_and_exact_categories() -> None:
    assert decode(Param("n", "int", 1, 4), np.float64(4.49)) == 4
    assert type(decode(Param("n", "int", 1, 4), np.int64(9))) is int
    assert decode(Param("n", "int", 1, 4), -3.0) == 1
    assert decode(Param("x", "float", 0.0, 1.0), 1.0000001) == 1.0
    assert type(decode(Param("x", "float", 0.0, 1.0), np.float32(0.5))) is float
    cat = next(p for p in params_of(full_space()) if p.name == "c")
    assert [decode(cat, i) for i in range(4)] == ["a", 7, 2.5, True]
    assert decode(cat, np.int64(3)) is True


def test_decode_config_adds_constants_and_drops_inactive() -> None:
    space = conditional_space()
    config = decode_config(space, {"kind": 0, "alpha": 0.1, "depth": 5.2, "leaf": 2})
    assert config == {"kind": "linear", "alpha": 0.1}
    config = decode_config(space, {"kind": 1, "depth": 5.2, "leaf": 2})
    assert config == {"kind": "tree", "depth": 5, "leaf": 2}
    validate(space, config)
    # leaf needs depth > 2
    assert decode_config(space, {"kind": 1, "depth": 2}) == {"kind": "tree", "depth": 2}
    assert decode_config(space, {"kind": 2, "depth": 1})["width"] == 32
    with pytest.raises(ValueError, match="'depth' missing"):
        decode_config(space, {"kind": 1})


def test_is_active_with_inactive_parent() -> None:
    space = conditional_space()
    assert not is_active(space, "leaf", {"kind": "linear"})  # depth unset → condition fails, no KeyError
    assert is_active(space, "leaf", {"kind": "tree", "depth": 3})
    assert is_active(space, "kind", {})


def test_is_forbidden_conjunction() -> None:
    space = ConfigurationSpace({"a": ["x", "y"], "b": ["u", "v"], "f": (0.0, 1.0)})
    a_is_y, b_is_v = ForbiddenEqualsClause(space["a"], "y"), ForbiddenEqualsClause(space["b"], "v")
    space.add(ForbiddenAndConjunction(a_is_y, b_is_v))
    assert is_forbidden(space, {"a": "y", "b": "v", "f": 0.1})
    assert not is_forbidden(space, {"a": "y", "b": "u", "f": 0.1})
    assert not is_forbidden(full_space(), {"x": 0.0})


def test_unsupported_features_reasons() -> None:
    space = conditional_space()
    assert unsupported_features(space, "optuna", conditions=True, forbiddens=True) is None
    reason = unsupported_features(space, "skopt", conditions=False, forbiddens=False)
    assert reason is not None and "conditional" in reason and "alpha" in reason
    forb = ConfigurationSpace({"a": ["x", "y"]})
    forb.add(ForbiddenEqualsClause(forb["a"], "y"))
    reason = unsupported_features(forb, "skopt", conditions=False, forbiddens=False)
    assert reason is not None and "forbidden" in reason
    assert unsupported_features(forb, "hyperopt", conditions=False, forbiddens=True) is None


def test_minimization_losses_direction_and_non_finite() -> None:
    problem = Problem(full_space(), (Objective("err"), Objective("acc", minimize=False)), None, Budget(5))
    assert minimization_losses(problem, Result((0.5, 0.75))) == [0.5, -0.75]
    worst: list[float] = []
    assert minimization_losses(problem, Result((math.nan, math.inf)), worst) == [1e12, 1e12]
    minimization_losses(problem, Result((2.0, 0.1)), worst)
    minimization_losses(problem, Result((1.0, 0.9)), worst)
    assert minimization_losses(problem, Result((math.inf, math.nan)), worst) == [2.0, -0.1]
    with pytest.raises(ValueError, match="1 values but the task has 2"):
        minimization_losses(problem, Result((1.0,)))


@pytest.mark.parametrize("minimize", [True, False])
def test_minimization_losses_single_objective_equals_the_generic_path(minimize: bool) -> None:
    """The one-objective fast path gives what the per-objective loop gives, step by step:
    the same losses and the same running worst, through nan, +inf and -inf results."""
    one = Problem(full_space(), (Objective("y", minimize=minimize),), None, Budget(5))
    two = Problem(full_space(), (Objective("y", minimize=minimize), Objective("z")), None, Budget(5))
    worst_one: list[float] = []
    worst_two: list[float] = []
    for v in (math.nan, -math.inf, 3.0, math.inf, -1.0, 7.5, math.nan, -math.inf, 0.0):
        got = minimization_losses(one, Result((v,)), worst_one)
        want = minimization_losses(two, Result((v, 0.0)), worst_two)[:1]
        assert got == want, v
        assert worst_one == worst_two[:1], v
        # without a running worst the value passes through (nan compares equal here)
        np.testing.assert_array_equal(
            minimization_losses(one, Result((v,))), minimization_losses(two, Result((v, 0.0)))[:1]
        )
    with pytest.raises(ValueError, match="2 values but the task has 1"):
        minimization_losses(one, Result((1.0, 2.0)))


def test_library_seed_is_31_bit_and_seed_dependent() -> None:
    seeds = {library_seed(s) for s in range(50)}
    assert len(seeds) == 50 and all(0 <= s < 2**31 - 1 for s in seeds)
    assert library_seed(3, salt=1) != library_seed(3)


def _check_round_trip(space: ConfigurationSpace, raws: list[dict]) -> None:
    configs = [decode_config(space, raw) for raw in raws]
    for config in configs:
        validate(space, config)
    seen = {p.name: {c[p.name] for c in configs} for p in params_of(space)}
    assert seen["n"] == {1, 2, 3, 4}
    assert {2, 16} <= seen["units"]
    assert len(seen["c"]) == 4 and seen["size"] == {"s", "m", "l"} and seen["solver"] == {"adam"}
    assert min(seen["lr"]) < 1e-4 and max(seen["lr"]) > 0.1  # log scale: small values are common


def test_round_trip_optuna() -> None:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    dists = optuna_distributions(full_space())
    assert dists["lr"].log and dists["units"].log and not dists["x"].log
    _check_round_trip(full_space(), [study.ask(dists).params for _ in range(N_DRAWS)])


def test_round_trip_nevergrad() -> None:
    param = nevergrad_parametrization(full_space(), seed=0)
    _check_round_trip(full_space(), [param.sample().value for _ in range(N_DRAWS // 3)])


def test_round_trip_skopt() -> None:
    from skopt.space import Space

    space = full_space()
    names = [p.name for p in searchable(space)]
    points = Space(skopt_dimensions(space)).rvs(N_DRAWS, random_state=0)
    _check_round_trip(space, [dict(zip(names, pt, strict=True)) for pt in points])


def test_round_trip_hyperopt() -> None:
    from hyperopt.pyll.stochastic import sample

    rng = np.random.default_rng(0)
    expr = hyperopt_space(full_space())
    _check_round_trip(full_space(), [sample(expr, rng=rng) for _ in range(N_DRAWS)])


def test_nevergrad_parametrization_is_seeded() -> None:
    a = nevergrad_parametrization(full_space(), seed=4)
    b = nevergrad_parametrization(full_space(), seed=4)
    assert [a.sample().value for _ in range(5)] == [b.sample().value for _ in range(5)]


def float_box_space() -> ConfigurationSpace:
    """Floats only (RowDecoder's one-clip fast path), on linear and log scales."""
    space = ConfigurationSpace(seed=0)
    space.add([Float("lr", (1e-5, 1.0), log=True), Float("x", (-3.0, 2.0)), Float("w", (0.5, 64.0))])
    return space


@pytest.mark.parametrize("make_space", [full_space, conditional_space, float_box_space])
def test_row_decoder_equals_decode_config_value_type_and_order(make_space) -> None:
    space = make_space()
    decoder = RowDecoder(space)
    assert (decoder._floats is not None) == (make_space is float_box_space)
    params = searchable(space)
    assert decoder.names == [p.name for p in params]
    rng = np.random.default_rng(0)
    rows = []
    for _ in range(N_DRAWS):
        row = []
        for p in params:  # raw library values, out of range on purpose
            if p.kind in ("categorical", "ordinal"):
                row.append(float(rng.uniform(-1.0, p.n_choices + 1.0)))
            else:
                span = p.upper - p.lower
                row.append(float(rng.uniform(p.lower - 0.2 * span, p.upper + 0.2 * span)))
        want = decode_config(space, dict(zip(decoder.names, row, strict=True)))
        got = decoder(row)
        assert list(got.items()) == list(want.items())
        assert [type(v) for v in got.values()] == [type(v) for v in want.values()]
        rows.append(row)
    # the batch form (one numpy clip for a float box) gives the same, row by row
    batch = decoder.many(np.array(rows, dtype=float))
    one_by_one = [decoder(row) for row in rows]
    assert [list(c.items()) for c in batch] == [list(c.items()) for c in one_by_one]
    assert [type(v) for c in batch for v in c.values()] == [type(v) for c in one_by_one for v in c.values()]
    with pytest.raises(ValueError, match="a row of 1 values"):
        RowDecoder(full_space())([0.5])
