"""The runner's check of every proposed configuration against the task's search space.

An optimizer may propose anything; a task must only ever see configurations of its own
space. :class:`ConfigChecker` is compiled once per run from the ``ConfigurationSpace`` and
checks, per trial: no unknown and no missing (active) parameters, no value for an inactive
(conditional) parameter, the type of each value, numeric bounds, categories, ordinal
sequences, constants, and forbidden clauses. It returns the configuration as a plain ``dict``
of plain Python values (``np.float64`` → ``float``, an integral ``4.0`` for an integer
parameter → ``4``), which is what the task evaluates and what the results record.

A violation raises :class:`InvalidConfigError` naming the parameter and the value; the
runner ends that run with status ``crashed``.

Example:
    >>> from ConfigSpace import ConfigurationSpace
    >>> check = ConfigChecker(ConfigurationSpace({"x0": (-5.0, 5.0), "k": (1, 8), "c": ["a", "b"]}))
    >>> check({"x0": 1.5, "k": 3, "c": "b"})
    {'x0': 1.5, 'k': 3, 'c': 'b'}
    >>> check({"x0": 1e6, "k": 3, "c": "b"})
    Traceback (most recent call last):
    ...
    bench.config_check.InvalidConfigError: parameter 'x0'=1000000.0 is outside its range [-5.0, 5.0]
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from numbers import Integral, Real
from typing import Any

import numpy as np
from ConfigSpace import (
    CategoricalHyperparameter,
    ConfigurationSpace,
    Constant,
    OrdinalHyperparameter,
)
from ConfigSpace.hyperparameters import FloatHyperparameter, IntegerHyperparameter
from ConfigSpace.types import NotSet

#: Floats within this fraction of the range outside a bound are rounding (``exp(log(upper))``)
#: and are clipped onto the bound; anything further out is a violation.
BOUND_TOLERANCE = 1e-9


class InvalidConfigError(ValueError):
    """A proposed configuration is not in the task's space; the message names parameter and value."""


Check = Callable[[Any], Any]


def _describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _float_check(name: str, lower: float, upper: float) -> Check:
    slack = BOUND_TOLERANCE * (upper - lower) + 1e-300
    lo, hi = lower - slack, upper + slack

    def check(value: Any) -> float:
        if type(value) is float:  # the common case first: no isinstance chain
            x = value
        elif isinstance(value, Real) and not isinstance(value, (bool, np.bool_)):
            x = float(value)
        else:
            raise InvalidConfigError(
                f"parameter {name!r}={_describe(value)} is not a number (a float in [{lower}, {upper}])"
            )
        if not lo <= x <= hi:  # also False for NaN
            raise InvalidConfigError(
                f"parameter {name!r}={_describe(value)} is outside its range [{lower}, {upper}]"
            )
        return lower if x < lower else upper if x > upper else x  # as min(max(x, lower), upper)

    return check


def _int_check(name: str, lower: int, upper: int) -> Check:
    def check(value: Any) -> int:
        if type(value) is int:
            k = value
        elif isinstance(value, Integral) and not isinstance(value, (bool, np.bool_)):
            k = int(value)
        elif (
            isinstance(value, Real)
            and not isinstance(value, (bool, np.bool_))
            and math.isfinite(value)
            and float(value).is_integer()
        ):
            k = int(float(value))  # 4.0 from a library that samples integers as floats
        else:
            raise InvalidConfigError(
                f"parameter {name!r}={_describe(value)} is not an integer (an int in [{lower}, {upper}])"
            )
        if not lower <= k <= upper:
            raise InvalidConfigError(
                f"parameter {name!r}={_describe(value)} is outside its range [{lower}, {upper}]"
            )
        return k

    return check


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _choice_check(name: str, choices: tuple[Any, ...], what: str) -> Check:
    # value -> the space's own (plain) choice: a dict lookup, and np.str_/np.int64 hash as str/int.
    canonical: dict[Any, Any] = {}
    for c in choices:
        canonical.setdefault((type(_plain(c)) is bool, _plain(c)), _plain(c))
    shown = ", ".join(_describe(_plain(c)) for c in choices[:10]) + (", ..." if len(choices) > 10 else "")

    def check(value: Any) -> Any:
        v = _plain(value)
        try:
            return canonical[(type(v) is bool, v)]
        except (KeyError, TypeError):  # TypeError: an unhashable value such as a list
            raise InvalidConfigError(
                f"parameter {name!r}={_describe(value)} is not one of its {what} ({shown})"
            ) from None

    return check


def _check_for(name: str, hp: Any) -> Check:
    if isinstance(hp, Constant):
        return _choice_check(name, (hp.value,), "constant value")
    if isinstance(hp, CategoricalHyperparameter):
        return _choice_check(name, tuple(hp.choices), "categories")
    if isinstance(hp, OrdinalHyperparameter):
        return _choice_check(name, tuple(hp.sequence), "ordinal values")
    if isinstance(hp, IntegerHyperparameter):
        return _int_check(name, int(hp.lower), int(hp.upper))
    if isinstance(hp, FloatHyperparameter):
        return _float_check(name, float(hp.lower), float(hp.upper))
    raise TypeError(f"cannot check hyperparameter {name!r} of type {type(hp).__name__}")


class ConfigChecker:
    """Checks (and normalizes) configurations of one ``ConfigurationSpace``; see the module docstring.

    Unconditional spaces without forbidden clauses take a fast path: one key-set comparison and
    one small function call per parameter.
    """

    def __init__(self, space: ConfigurationSpace) -> None:
        self.space = space
        # ConfigSpace keeps hyperparameters in topological order: parents before children.
        self.checks: tuple[tuple[str, Check], ...] = tuple((n, _check_for(n, hp)) for n, hp in space.items())
        self.check_of = dict(self.checks)
        self.names = frozenset(self.check_of)
        self.conditional = bool(space.conditions)
        self.forbiddens = tuple(space.forbidden_clauses)
        self._conditions = {n: tuple(space.parent_conditions_of[n]) for n, _ in self.checks}
        self._parents = {n: tuple(p.name for p in space.parents_of[n]) for n, _ in self.checks}
        # Float parameters checked inline (a plain float within the bounds' slack, clipped onto
        # them): what _float_check does for such a value, without a call per parameter.
        self._float_bounds: dict[str, tuple[float, float, float, float]] = {}
        for n, hp in space.items():
            if isinstance(hp, FloatHyperparameter):
                lower, upper = float(hp.lower), float(hp.upper)
                slack = BOUND_TOLERANCE * (upper - lower) + 1e-300
                self._float_bounds[n] = (lower - slack, upper + slack, lower, upper)

    def __call__(self, config: Mapping[str, Any]) -> dict[str, Any]:
        if type(config) is not dict and not isinstance(config, Mapping):  # the ABC check costs 0.3 µs
            raise InvalidConfigError(
                f"the configuration {_describe(config)} is not a mapping of parameter names to values"
            )
        if self.conditional:
            out = self._conditional(config)
        else:
            if len(config) != len(self.checks) or not self.names.issuperset(config):
                self._key_error(config, self.names)
            check_of = self.check_of  # in the optimizer's key order: recorded configs read as proposed
            floats = self._float_bounds
            out = {}
            for name, value in config.items():
                b = floats.get(name)
                if b is not None and type(value) is float and b[0] <= value <= b[1]:
                    out[name] = b[2] if value < b[2] else b[3] if value > b[3] else value
                else:  # anything else, valid or not, takes the parameter's full check
                    out[name] = check_of[name](value)
        for clause in self.forbiddens:
            values = {n: out.get(n, NotSet) for n in self.names}
            if clause.is_forbidden_value(values):
                raise InvalidConfigError(
                    f"the configuration {_describe(out)} is forbidden by the space's clause {clause}"
                )
        return out

    def _conditional(self, config: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        active: set[str] = set()
        for name, check in self.checks:
            conds = self._conditions[name]
            if conds:
                values = {p: out.get(p, NotSet) for p in self._parents[name]}
                if not all(c.satisfied_by_value(values) for c in conds):
                    continue
            active.add(name)
            if name not in config:
                self._key_error(config, self.names, missing=name)
            out[name] = check(config[name])
        if len(config) != len(out):
            self._key_error(config, active)
        return {name: out[name] for name in config}

    def _key_error(
        self, config: Mapping[str, Any], expected: set[str] | frozenset[str], missing: str | None = None
    ) -> None:
        """Raise for the first key problem: an unknown name, a missing or an inactive parameter."""
        unknown = sorted(repr(k) for k in config if k not in self.names)
        if unknown:
            shown = ", ".join(sorted(self.names)[:20]) + (", ..." if len(self.names) > 20 else "")
            raise InvalidConfigError(
                f"parameter {unknown[0]} is not in the task's space (its parameters: {shown})"
            )
        missing = missing or min((n for n in expected if n not in config), default=None)
        if missing is not None:
            raise InvalidConfigError(
                f"parameter {missing!r} is missing from the configuration {_describe(dict(config))}"
            )
        inactive = sorted(str(k) for k in config if k not in expected)
        raise InvalidConfigError(
            f"parameter {inactive[0]!r}={_describe(config[inactive[0]])} is "
            "inactive under the conditions of the space and must be left out"
        )
