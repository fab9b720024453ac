"""Numeric and ordinal parameters as coordinates of the unit cube ``[0, 1]^d``, and back.

Used by the optimizers that search a continuous box and have no notion of categories
(:mod:`optimizers.cma_es`, :mod:`optimizers.bayesopt`); :func:`cube_space_reason` is the
``check_space`` answer they share for spaces that have no faithful box form.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from ConfigSpace import ConfigurationSpace

from optimizers.space_conversion import Param, RowDecoder, searchable, unsupported_features


class UnitCube:
    """Numeric and ordinal parameters as coordinates of ``[0, 1]^d``, and back.

    Floats map linearly (log-scaled ones on their log scale); integers and ordinal
    indices span their range widened by half a step on each side and are rounded on
    decode, so every value, the bounds included, owns an equal share of the coordinate
    (on the log scale for log-scaled integers).

    Example:
        >>> from ConfigSpace import ConfigurationSpace, Float
        >>> space = ConfigurationSpace({"n": (1, 4), "size": ["s", "m", "l"]}, seed=0)
        >>> cube = UnitCube(space)  # "size" is categorical: not a cube coordinate
        Traceback (most recent call last):
        ...
        ValueError: categorical parameter 'size' has no unit-cube coordinate
        >>> space = ConfigurationSpace({"n": (1, 4), "c": "fixed"}, seed=0)
        >>> _ = space.add(Float("lr", (1e-4, 1.0), log=True))
        >>> [p.name for p in UnitCube(space).params]
        ['lr', 'n']
        >>> config = UnitCube(space).decode([0.5, 0.0])
        >>> config["c"], round(config["lr"], 12), config["n"]
        ('fixed', 0.01, 1)
        >>> UnitCube(space).encode({"c": "fixed", "lr": 0.01, "n": 4}).round(3).tolist()
        [0.5, 0.875]
    """

    def __init__(self, space: ConfigurationSpace) -> None:
        self.space = space
        self.params: list[Param] = searchable(space)
        bad = [p for p in self.params if p.kind == "categorical"]
        if bad:
            raise ValueError(f"categorical parameter {bad[0].name!r} has no unit-cube coordinate")
        low, high, log = [], [], []
        for p in self.params:
            if p.kind == "ordinal":
                lo, hi = -0.5, p.n_choices - 0.5
            elif p.kind == "int":
                lo, hi = p.lower - 0.5, p.upper + 0.5
            else:
                lo, hi = p.lower, p.upper
            low.append(math.log(lo) if p.log else lo)
            high.append(math.log(hi) if p.log else hi)
            log.append(p.log)
        self.low = np.array(low, dtype=float)
        self.high = np.array(high, dtype=float)
        self.log = np.array(log, dtype=bool)
        # decode() on plain floats: numpy's per-call overhead on a handful of coordinates
        # costs more than pycma's own sampling per candidate.
        self._affine = list(zip(low, (self.high - self.low).tolist(), log, strict=True))
        self._decode = RowDecoder(space)  # rounds, clips, looks up ordinals, adds constants
        # A plain box of floats (no integers, ordinals, constants or conditions) decodes in one
        # pass: the cheapest cube optimizers (pycma) spend only ~40 µs per trial themselves.
        plain_box = not space.conditions and len(self.params) == len(list(space.values()))
        if (
            plain_box
            and all(p.kind == "float" for p in self.params)
            and self._decode.names == [p.name for p in self.params]
        ):
            self._floats: list[tuple[str, float, float, bool, float, float]] | None = [
                (p.name, lo, span, lg, float(p.lower), float(p.upper))
                for p, (lo, span, lg) in zip(self.params, self._affine, strict=True)
            ]
        else:
            self._floats = None
        # Without log scales the box needs neither the flag nor the round-off clip of exp: the
        # linear rows are a fifth shorter, which is a third of decode's time on a 5-d point.
        self._linear: list[tuple[str, float, float, float, float]] | None = (
            [(name, lo, span, lower, upper) for name, lo, span, _, lower, upper in self._floats]
            if self._floats is not None and not any(log)
            else None
        )

    @property
    def dim(self) -> int:
        return len(self.params)

    @property
    def discrete(self) -> list[int]:
        """Indices of the integer and ordinal coordinates."""
        return [i for i, p in enumerate(self.params) if p.kind in ("int", "ordinal")]

    def step(self, i: int) -> float:
        """The smallest distance between two values of discrete coordinate ``i`` (1 unit at the top)."""
        p = self.params[i]
        top = p.upper if p.kind == "int" else p.n_choices - 1.0
        if p.log:
            return (math.log(top + 0.5) - math.log(top - 0.5)) / (self.high[i] - self.low[i])
        return 1.0 / (self.high[i] - self.low[i])

    def decode(self, unit: Sequence[float] | np.ndarray) -> dict[str, Any]:
        """A configuration of the space from a point of the cube (clipped into it first)."""
        values = unit.tolist() if isinstance(unit, np.ndarray) else [float(u) for u in unit]
        rows = self._linear
        if rows is not None:
            if len(values) != len(rows):
                raise ValueError(f"a point of {len(values)} coordinates for a {len(rows)}-d cube")
            out: dict[str, Any] = {}
            # lengths are checked above; zip's strict keyword alone costs a fifth of this loop
            for (name, low, span, lower, upper), u in zip(rows, values):  # noqa: B905
                x = low + (0.0 if u < 0.0 else 1.0 if u > 1.0 else u) * span
                out[name] = lower if x < lower else upper if x > upper else x  # low + span round-off
            return out
        if self._floats is not None:
            if len(values) != len(self._floats):
                raise ValueError(f"a point of {len(values)} coordinates for a {len(self._floats)}-d cube")
            out = {}
            for (name, low, span, log, lower, upper), u in zip(self._floats, values, strict=False):
                t = low + (0.0 if u < 0.0 else 1.0 if u > 1.0 else u) * span
                x = math.exp(t) if log else t
                out[name] = lower if x < lower else upper if x > upper else x  # exp round-off
            return out
        raw = []
        for (low, span, log), u in zip(self._affine, values, strict=True):
            t = low + (0.0 if u < 0.0 else 1.0 if u > 1.0 else u) * span
            raw.append(math.exp(t) if log else t)
        return self._decode(raw)

    def encode(self, config: Mapping[str, Any]) -> np.ndarray:
        """The cube point of a configuration (the inverse of :meth:`decode` on the grid)."""
        values = []
        for p in self.params:
            value = config[p.name]
            values.append(float(p.choices.index(value)) if p.kind == "ordinal" else float(value))
        v = np.asarray(values, dtype=float)
        t = np.where(self.log, np.log(np.where(self.log, v, 1.0)), v)
        return np.clip((t - self.low) / (self.high - self.low), 0.0, 1.0)


def cube_space_reason(space: ConfigurationSpace, library: str) -> str | None:
    """Why ``space`` has no faithful unit-cube form for ``library``, or ``None``.

    Example:
        >>> from ConfigSpace import ConfigurationSpace
        >>> space = ConfigurationSpace({"k": ["a", "b"], "x": (0.0, 1.0)})
        >>> print(cube_space_reason(space, "pycma"))  # doctest: +ELLIPSIS
        pycma searches a continuous box and cannot represent categorical parameters (k); ...
    """
    reason = unsupported_features(space, library, conditions=False, forbiddens=False)
    if reason:
        return reason
    params = searchable(space)
    if not params:
        return f"{library} needs at least one non-constant hyperparameter, the space has none"
    categorical = sorted(p.name for p in params if p.kind == "categorical")
    if categorical:
        return (
            f"{library} searches a continuous box and cannot represent categorical parameters "
            f"({', '.join(categorical)}); refusing rather than imposing an order on the categories"
        )
    return None
