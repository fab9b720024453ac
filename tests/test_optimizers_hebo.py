"""HEBO adapter: valid, reproducible proposals on a mixed space (categorical included), maximized
objectives, refusal of conditional spaces. HEBO is installed apart from the extras (its numpy<1.25 pin
is ignored): ``pip install 'nxm-bench[hebo]' && pip install --no-deps hebo==0.3.6``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pytest
from ConfigSpace import (
    CategoricalHyperparameter,
    ConfigurationSpace,
    EqualsCondition,
    Float,
    Integer,
    OrdinalHyperparameter,
)

from optimizers.base import Budget, Problem
from optimizers.sampling import validate
from tasks.base import Objective, Result

pytest.importorskip(
    "hebo", reason="HEBO is optional: pip install 'nxm-bench[hebo]' && pip install --no-deps hebo==0.3.6"
)

from optimizers.hebo import HEBO, hebo_design


def mixed_space() -> ConfigurationSpace:
    space = ConfigurationSpace(seed=0)
    space.add(
        Float("x", (-2.0, 2.0)),
        Float("lr", (1e-4, 1.0), log=True),
        Integer("units", (8, 512), log=True),
        CategoricalHyperparameter("act", ["relu", "tanh", "elu"]),
        OrdinalHyperparameter("size", ["s", "m", "l"]),
    )
    return space


def loss(c: Mapping[str, Any]) -> float:
    return (c["x"] - 0.5) ** 2 + float(c["act"] != "tanh") + ["s", "m", "l"].index(c["size"])


def run(seed: int, n: int, minimize: bool = True, opts: list[HEBO] | None = None) -> list[dict[str, Any]]:
    problem = Problem(mixed_space(), (Objective("y", minimize=minimize),), None, Budget(n))
    opt = HEBO(problem, seed, rand_sample=2)
    if opts is not None:
        opts.append(opt)
    configs = []
    for _ in range(n):
        trial = opt.ask()
        validate(problem.space, trial.config)
        configs.append(dict(trial.config))
        y = loss(trial.config)
        opt.tell(trial, Result((y if minimize else -y,)))
    return configs


@pytest.mark.slow
def test_hebo_is_valid_deterministic_and_leaves_the_global_rng_alone() -> None:
    np.random.seed(1)
    before = np.random.get_state()[1].copy()  # type: ignore[index]
    first = run(seed=0, n=3)  # 2 Sobol points, then a model-based proposal
    assert np.array_equal(np.random.get_state()[1], before), "the caller's numpy stream moved"  # type: ignore[index]
    np.random.seed(2)  # another global state must not change the trials
    assert run(seed=0, n=3) == first
    assert run(seed=1, n=2) != first[:2]
    assert all(type(c["units"]) is int and c["act"] in ("relu", "tanh", "elu") for c in first)


def test_hebo_minimizes_the_negated_maximized_objective() -> None:
    opts: list[HEBO] = []
    configs = run(seed=0, n=2, minimize=False, opts=opts)  # Sobol points only: fast
    told = opts[0]._hebo.y.reshape(-1).tolist()
    assert told == pytest.approx([loss(c) for c in configs])


def test_design_maps_every_kind() -> None:
    kinds = {d["name"]: d["type"] for d in hebo_design(mixed_space())}
    assert kinds == {"x": "num", "lr": "pow", "units": "pow_int", "act": "cat", "size": "int"}


def test_hebo_refuses_conditions_and_bad_model_names() -> None:
    space = ConfigurationSpace({"a": ["p", "q"], "b": (0.0, 1.0)})
    space.add(EqualsCondition(space["b"], space["a"], "q"))
    assert "conditional" in (HEBO.check_space(space) or "")
    assert HEBO.check_space(mixed_space()) is None
    assert "did you mean 'gp'" in (HEBO.check_params({"model_name": "gpp"}) or "")
