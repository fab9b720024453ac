"""ConfigChecker checks plain floats inline; the result must be what the per-parameter check gives."""

from __future__ import annotations

import math

import numpy as np
import pytest
from ConfigSpace import ConfigurationSpace, Float, Integer

from bench.config_check import BOUND_TOLERANCE, ConfigChecker, InvalidConfigError, _float_check


def test_the_inline_float_check_equals_the_full_one() -> None:
    space = ConfigurationSpace(seed=0)
    space.add([Float("x", (-2.0, 3.0)), Float("lr", (1e-5, 1.0), log=True), Integer("n", (1, 9))])
    checker = ConfigChecker(space)
    full = {"x": _float_check("x", -2.0, 3.0), "lr": _float_check("lr", 1e-5, 1.0)}
    slack = BOUND_TOLERANCE * 5.0
    xs = [-2.0, 3.0, -2.0 - slack / 2, 3.0 + slack / 2, 0.0, -0.0, 1.5, np.float64(0.5), 1, np.float32(0.25)]
    for x in xs:
        for lr in (1e-5, 1.0, 1.0 + 1e-10, 0.01):
            got = checker({"x": x, "lr": lr, "n": 3})
            assert got == {"x": full["x"](x), "lr": full["lr"](lr), "n": 3}
            assert [type(v) for v in got.values()] == [float, float, int]
            assert math.copysign(1.0, got["x"]) == math.copysign(1.0, full["x"](x))  # -0.0 kept
    for bad in (float("nan"), float("inf"), 3.1, -2.1, "1.0", True):
        with pytest.raises(InvalidConfigError) as inline:
            checker({"x": bad, "lr": 0.1, "n": 3})
        with pytest.raises(InvalidConfigError) as alone:
            full["x"](bad)
        assert str(inline.value) == str(alone.value)
