"""The ConfigSpace helpers that several library adapters share.

What belongs here is library-neutral: a view of the space (:class:`Param`,
:func:`params_of`, :func:`searchable`), decoding and encoding values
(:func:`decode`, :func:`encode`, :func:`decode_config`), conditions and forbidden
clauses (:func:`is_active`, :func:`is_forbidden`, :func:`unsupported_features`),
losses to minimize and library seeds. Nothing here imports an optimizer library:
each adapter module builds its library's own search space from these helpers
(``optuna_distributions`` in ``optimizers/optuna.py``, ``skopt_dimensions`` in
``optimizers/skopt.py``, …), so adding an adapter touches no shared module.

Every adapter sees the task's ``ConfigurationSpace`` through one neutral
description, :func:`params_of`: a list of :class:`Param` in topological order
(parents before children). Categorical and ordinal parameters are always handed
to libraries as an *index* (``0 .. n-1``) and mapped back by :func:`decode`, so
configurations come back with the exact category objects of the task space
(never a stringified or numpy copy). Constants are never shown to a library:
:func:`decode_config` adds them back. Integers come back as ``int``, floats as
``float``, both clipped to their bounds; inactive parameters are omitted.

Distribution priors (normal/beta hyperparameters, categorical weights) are not
converted: libraries search the same feasible set uniformly (log-uniformly for
``log=True``). Conditions and forbidden clauses are reported by
:func:`unsupported_features` so each adapter can refuse what its library cannot
represent instead of silently flattening the space.

Example:
    >>> from ConfigSpace import ConfigurationSpace, Categorical, Integer
    >>> space = ConfigurationSpace({"n": (1, 8), "act": ["relu", "tanh"]}, seed=0)
    >>> [(p.name, p.kind) for p in params_of(space)]
    [('act', 'categorical'), ('n', 'int')]
    >>> decode_config(space, {"act": 1, "n": 3.6})
    {'act': 'tanh', 'n': 4}
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from ConfigSpace import (
    CategoricalHyperparameter,
    ConfigurationSpace,
    Constant,
    OrdinalHyperparameter,
)
from ConfigSpace.hyperparameters import FloatHyperparameter, IntegerHyperparameter
from ConfigSpace.types import NotSet

from optimizers.base import Problem
from tasks.base import Result

ParamKind = Literal["float", "int", "categorical", "ordinal", "constant"]


@dataclass(frozen=True)
class Param:
    """One hyperparameter in library-neutral terms.

    ``choices`` holds the categories (categorical), the ordered sequence
    (ordinal) or the single value (constant); numeric kinds use ``lower``,
    ``upper`` and ``log``.

    Example:
        >>> Param("lr", "float", 1e-4, 1.0, log=True).log
        True
    """

    name: str
    kind: ParamKind
    lower: float = 0.0
    upper: float = 0.0
    log: bool = False
    choices: tuple[Any, ...] = ()

    @property
    def n_choices(self) -> int:
        return len(self.choices)


#: params_of's answers for recently seen spaces: id → (the space, its shape, its parameters, whether
#: it has conditions). Adapters decode every trial (decode_config), and reading the parameters off a
#: ConfigurationSpace costs ~40 µs: more than a cheap optimizer's own ask in 5-D.
_PARAMS_CACHE: dict[int, tuple[ConfigurationSpace, tuple[int, int, int], tuple[Param, ...], bool]] = {}
_PARAMS_CACHE_SIZE = 64


def _space_params(space: ConfigurationSpace) -> tuple[tuple[Param, ...], bool]:
    """``(parameters, has conditions)`` of ``space``, cached while the space keeps its shape.

    The cache holds the space itself (so its id is not reused) and its counts of parameters,
    conditions and forbidden clauses: a space that gains any of them is read again.
    """
    shape = (len(space), len(space.conditions), len(space.forbidden_clauses))
    hit = _PARAMS_CACHE.get(id(space))
    if hit is not None and hit[0] is space and hit[1] == shape:
        return hit[2], hit[3]
    params = tuple(_read_params(space))
    if len(_PARAMS_CACHE) >= _PARAMS_CACHE_SIZE:
        _PARAMS_CACHE.pop(next(iter(_PARAMS_CACHE)))  # the oldest entry
    _PARAMS_CACHE[id(space)] = (space, shape, params, bool(shape[1]))
    return params, bool(shape[1])


def params_of(space: ConfigurationSpace) -> list[Param]:
    """The parameters of ``space`` in topological order (parents first).

    Example:
        >>> from ConfigSpace import ConfigurationSpace, Float
        >>> params_of(ConfigurationSpace({"x": (0.0, 1.0)}))[0].kind
        'float'
    """
    return list(_space_params(space)[0])


def _read_params(space: ConfigurationSpace) -> list[Param]:
    out: list[Param] = []
    for name, hp in space.items():
        if isinstance(hp, Constant):
            out.append(Param(name, "constant", choices=(plain(hp.value),)))
        elif isinstance(hp, CategoricalHyperparameter):
            out.append(Param(name, "categorical", choices=tuple(plain(c) for c in hp.choices)))
        elif isinstance(hp, OrdinalHyperparameter):
            out.append(Param(name, "ordinal", choices=tuple(plain(c) for c in hp.sequence)))
        elif isinstance(hp, IntegerHyperparameter):
            out.append(Param(name, "int", float(hp.lower), float(hp.upper), bool(hp.log)))
        elif isinstance(hp, FloatHyperparameter):
            out.append(Param(name, "float", float(hp.lower), float(hp.upper), bool(hp.log)))
        else:
            raise ValueError(
                f"unsupported hyperparameter type {type(hp).__name__!r} for {name!r}: valid are "
                "float, integer, categorical, ordinal and constant hyperparameters"
            )
    return out


def searchable(space: ConfigurationSpace) -> list[Param]:
    """The parameters a library must search: everything except constants."""
    return [p for p in params_of(space) if p.kind != "constant"]


def unsupported_features(
    space: ConfigurationSpace, library: str, *, conditions: bool, forbiddens: bool
) -> str | None:
    """Why ``library`` cannot represent ``space`` faithfully, or ``None``.

    ``conditions`` / ``forbiddens`` say whether the adapter handles conditional
    parameters / forbidden clauses.

    Example:
        >>> from ConfigSpace import ConfigurationSpace, EqualsCondition
        >>> s = ConfigurationSpace({"a": ["x", "y"], "b": (0.0, 1.0)})
        >>> s.add(EqualsCondition(s["b"], s["a"], "y"))
        >>> unsupported_features(s, "skopt", conditions=False, forbiddens=False)
        'skopt cannot represent conditional parameters (b); refusing rather than flattening the space'
    """
    try:
        params_of(space)
    except ValueError as exc:
        return str(exc)
    if space.conditions and not conditions:
        children = ", ".join(sorted({c.child.name for c in _leaf_conditions(space)}))
        return (
            f"{library} cannot represent conditional parameters ({children}); "
            "refusing rather than flattening the space"
        )
    if space.forbidden_clauses and not forbiddens:
        return (
            f"{library} cannot represent forbidden clauses ({len(space.forbidden_clauses)} in the space); "
            "refusing rather than proposing forbidden configurations"
        )
    return None


def _leaf_conditions(space: ConfigurationSpace) -> list[Any]:
    out: list[Any] = []
    for cond in space.conditions:
        out.extend(cond.dlcs if hasattr(cond, "dlcs") else [cond])
    return out


def is_active(space: ConfigurationSpace, name: str, partial: Mapping[str, Any]) -> bool:
    """Whether ``name`` is active given the already chosen values of its parents.

    Example:
        >>> from ConfigSpace import ConfigurationSpace, EqualsCondition
        >>> s = ConfigurationSpace({"a": ["x", "y"], "b": (0.0, 1.0)})
        >>> _ = s.add(EqualsCondition(s["b"], s["a"], "y"))
        >>> is_active(s, "b", {"a": "x"}), is_active(s, "b", {"a": "y"})
        (False, True)
    """
    conds = space.parent_conditions_of[name]
    if not conds:
        return True
    # Inactive parents are NotSet, which every ConfigSpace condition treats as unsatisfied.
    values = {p.name: partial.get(p.name, NotSet) for p in space.parents_of[name]}
    return all(c.satisfied_by_value(values) for c in conds)


def plain(value: Any) -> Any:
    """A numpy scalar as the equivalent Python scalar (libraries return ``np.int64`` etc.)."""
    return value.item() if isinstance(value, np.generic) else value


def finite_configurations(space: ConfigurationSpace, limit: int = 100_000) -> list[dict[str, Any]] | None:
    """Every valid configuration of a finite ``space`` (conditions and forbidden clauses applied),
    as plain dicts; ``None`` when the space is not a finite grid that can be listed exactly: a
    float, a log-scaled integer (ConfigSpace's grid steps it on the log scale, rounding two steps
    to one value), or more than ``limit`` combinations before the clauses.

    What proves that a search has proposed every configuration (libraries guess it from repeated
    random draws).

    Example:
        >>> from ConfigSpace import ConfigurationSpace
        >>> finite_configurations(ConfigurationSpace({"a": ["x", "y"], "n": (1, 2)}))
        [{'a': 'x', 'n': 1}, {'a': 'x', 'n': 2}, {'a': 'y', 'n': 1}, {'a': 'y', 'n': 2}]
        >>> finite_configurations(ConfigurationSpace({"x": (0.0, 1.0)})) is None
        True
    """
    from ConfigSpace.util import generate_grid

    steps: dict[str, int] = {}
    size = 1
    for hp in list(space.values()):
        if isinstance(hp, CategoricalHyperparameter):
            size *= len(hp.choices)
        elif isinstance(hp, OrdinalHyperparameter):
            size *= len(hp.sequence)
        elif isinstance(hp, IntegerHyperparameter) and not hp.log:
            steps[hp.name] = int(hp.upper) - int(hp.lower) + 1  # every integer: exact steps of 1
            size *= steps[hp.name]
        elif not isinstance(hp, Constant):
            return None
        if size > limit:
            return None
    return [{k: plain(v) for k, v in config.items()} for config in generate_grid(space, steps)]


def decode(param: Param, raw: Any) -> Any:
    """A library's raw value for ``param`` as a valid value of the task space.

    Example:
        >>> decode(Param("n", "int", 1, 8), 8.7)
        8
        >>> decode(Param("o", "ordinal", choices=("s", "m", "l")), 1)
        'm'
    """
    if param.kind == "constant":
        return param.choices[0]
    if param.kind in ("categorical", "ordinal"):
        index = round(float(plain(raw)))
        return param.choices[min(max(index, 0), param.n_choices - 1)]
    value = float(plain(raw))
    if param.kind == "int":
        return int(min(max(round(value), param.lower), param.upper))
    return min(max(value, param.lower), param.upper)


def encode(param: Param, value: Any) -> Any:
    """The raw library value of a task-space ``value`` (the inverse of :func:`decode`).

    Example:
        >>> encode(Param("o", "ordinal", choices=("s", "m", "l")), "l")
        2
    """
    if param.kind in ("categorical", "ordinal"):
        return param.choices.index(value)
    return value


def decode_config(space: ConfigurationSpace, raw: Mapping[str, Any]) -> dict[str, Any]:
    """Decode a full raw assignment, adding constants and dropping inactive parameters.

    Parameters absent from ``raw`` that are active raise ``ValueError``.

    Example:
        >>> from ConfigSpace import ConfigurationSpace
        >>> decode_config(ConfigurationSpace({"c": "fixed", "x": (0.0, 1.0)}), {"x": 2.0})
        {'c': 'fixed', 'x': 1.0}
    """
    config: dict[str, Any] = {}
    params, conditional = _space_params(space)
    for param in params:
        if conditional and not is_active(space, param.name, config):
            continue
        if param.kind == "constant":
            config[param.name] = param.choices[0]
        elif param.name in raw:
            config[param.name] = decode(param, raw[param.name])
        else:
            raise ValueError(f"active parameter {param.name!r} missing from {dict(raw)!r}")
    return config


class RowDecoder:
    """:func:`decode_config` for rows of raw values in :func:`searchable` order, made fast.

    On a space without conditions the per-parameter :func:`decode` is inlined (a function
    call per coordinate costs about as much as a cheap library's whole ask); the result is
    the same dict, in the same order, as :func:`decode_config` gives. A conditional space
    goes through :func:`decode_config` itself.

    Example:
        >>> from ConfigSpace import ConfigurationSpace
        >>> space = ConfigurationSpace({"c": "fixed", "n": (1, 8), "o": ["a", "b"], "x": (0.0, 1.0)})
        >>> RowDecoder(space)([7.6, 1.2, 1.5])
        {'c': 'fixed', 'n': 8, 'o': 'b', 'x': 1.0}
    """

    def __init__(self, space: ConfigurationSpace) -> None:
        params, self._conditional = _space_params(space)
        self.space = space
        self.names = [p.name for p in params if p.kind != "constant"]
        index = {name: i for i, name in enumerate(self.names)}
        self._plan = [(p.name, p.kind, p.lower, p.upper, p.choices, index.get(p.name, -1)) for p in params]
        # a box of floats only: one clip per coordinate, without the per-kind dispatch
        self._floats = (
            [(p.name, float(p.lower), float(p.upper)) for p in params]
            if not self._conditional and all(p.kind == "float" for p in params)
            else None
        )
        self._float_bounds = (
            np.array([lo for _, lo, _ in self._floats or []], dtype=float),
            np.array([hi for _, _, hi in self._floats or []], dtype=float),
        )

    def many(self, rows: np.ndarray) -> list[dict[str, Any]]:
        """The configurations of the rows of a 2-d array: what ``[self(r) for r in rows]`` gives,
        with a float box clipped in one numpy call for the whole batch.

        Example:
            >>> from ConfigSpace import ConfigurationSpace
            >>> RowDecoder(ConfigurationSpace({"x": (0.0, 1.0)})).many(np.array([[1.5], [0.25]]))
            [{'x': 1.0}, {'x': 0.25}]
        """
        if self._floats is None or rows.ndim != 2 or rows.shape[1] != len(self._floats):
            return [self(row) for row in rows.tolist()]
        names = self.names
        low, high = self._float_bounds
        return [dict(zip(names, row, strict=True)) for row in np.clip(rows, low, high).tolist()]

    def __call__(self, row: Sequence[Any]) -> dict[str, Any]:
        if self._conditional:
            return decode_config(self.space, dict(zip(self.names, row, strict=True)))
        if len(row) != len(self.names):
            raise ValueError(f"a row of {len(row)} values for {len(self.names)} parameters {self.names}")
        if self._floats is not None:
            box: dict[str, Any] = {}
            for (name, lower, upper), raw in zip(self._floats, row, strict=False):
                v = float(raw)
                box[name] = lower if v < lower else upper if v > upper else v
            return box
        out: dict[str, Any] = {}
        for name, kind, lower, upper, choices, i in self._plan:
            if kind == "constant":
                out[name] = choices[0]
                continue
            v = float(plain(row[i]))
            if kind == "float":
                out[name] = lower if v < lower else upper if v > upper else v
            elif kind == "int":
                out[name] = int(min(max(round(v), lower), upper))
            else:  # categorical or ordinal: the value is an index
                out[name] = choices[min(max(round(v), 0), len(choices) - 1)]
        return out


def is_forbidden(space: ConfigurationSpace, config: Mapping[str, Any]) -> bool:
    """Whether ``config`` (a complete, decoded configuration) hits a forbidden clause.

    Example:
        >>> from ConfigSpace import ConfigurationSpace, ForbiddenEqualsClause
        >>> s = ConfigurationSpace({"a": ["x", "y"]})
        >>> _ = s.add(ForbiddenEqualsClause(s["a"], "y"))
        >>> is_forbidden(s, {"a": "x"}), is_forbidden(s, {"a": "y"})
        (False, True)
    """
    if not space.forbidden_clauses:
        return False
    values = {name: config.get(name, NotSet) for name in space}
    return any(f.is_forbidden_value(values) for f in space.forbidden_clauses)


# ----------------------------------------------------------------------------- objectives


def minimization_losses(problem: Problem, result: Result, worst: list[float] | None = None) -> list[float]:
    """The result's values as losses to minimize (maximized objectives negated).

    Non-finite values (a crashed evaluation) are replaced by the worst finite
    loss seen so far for that objective, tracked in ``worst``, so that model-based
    libraries never see ``nan``/``inf``; with no finite loss seen yet, ``1e12``.

    Example:
        >>> from ConfigSpace import ConfigurationSpace
        >>> from optimizers.base import Budget
        >>> from tasks.base import Objective
        >>> p = Problem(ConfigurationSpace({"x": (0.0, 1.0)}),
        ...             (Objective("err"), Objective("acc", minimize=False)), None, Budget(5))
        >>> minimization_losses(p, Result((0.2, 0.9)))
        [0.2, -0.9]
    """
    values, objectives = result.values, problem.objectives
    if len(values) != len(objectives):
        raise ValueError(f"result has {len(values)} values but the task has {len(objectives)} objectives")
    if len(objectives) == 1:
        # the common case without the generic loops: this runs once per trial of every
        # adapter, and the cheapest libraries spend only ~40 µs per trial themselves
        v = float(values[0])
        loss = v if objectives[0].minimize else -v
        if worst is None:
            return [loss]
        if not worst:
            worst.append(-math.inf)
        if loss - loss == 0.0:  # finite: inf - inf and nan - nan are nan
            if loss > worst[0]:
                worst[0] = loss
            return [loss]
        return [worst[0] if math.isfinite(worst[0]) else 1e12]
    losses = [float(v) if o.minimize else -float(v) for v, o in zip(values, objectives, strict=True)]
    if worst is None:
        return losses
    if not worst:
        worst.extend([-math.inf] * len(losses))
    for i, loss in enumerate(losses):
        if math.isfinite(loss):
            worst[i] = max(worst[i], loss)
        else:
            losses[i] = worst[i] if math.isfinite(worst[i]) else 1e12
    return losses


def library_seed(seed: int, salt: int = 0) -> int:
    """A 31-bit seed derived from the run seed (some libraries reject larger ones).

    Example:
        >>> library_seed(0) == library_seed(0) != library_seed(1)
        True
    """
    return int(np.random.SeedSequence([int(seed), salt]).generate_state(1)[0] % (2**31 - 1))
