"""Classic synthetic test functions: black-box, multi-fidelity and multi-objective.

Every task here is a box-bounded float problem with hyperparameters ``x0..x{d-1}``.
The catalog (family ``synthetic``):

========================  ====  ===  ==========================================================
id                        dims  obj  notes
========================  ====  ===  ==========================================================
synthetic/branin          2     1    x0 in [-5, 10], x1 in [0, 15]; min 5/(4π) ≈ 0.397887
synthetic/hartmann3       3     1    [0, 1]^3; min ≈ -3.86278
synthetic/hartmann6       6     1    [0, 1]^6; min ≈ -3.32237
synthetic/mfh3[_preset]   3     1    multi-fidelity Hartmann 3, fidelity ``z`` in [1, 100]
synthetic/mfh6[_preset]   6     1    multi-fidelity Hartmann 6, fidelity ``z`` in [1, 100]
synthetic/zdt{1,2,3}      6     2    [0, 1]^6 (HPO-sized); ``/d30`` is the original 30-D version
synthetic/dtlz2           6     2    [0, 1]^6, two objectives; ``/d11`` is the standard k=10 size
========================  ====  ===  ==========================================================

The multi-fidelity Hartmann functions follow mf-prior-bench (``mfh3``/``mfh6``):
with ``s = log(z) / log(100)`` the weights become ``alpha - bias * (1 - s)`` (the
function flattens at low fidelity) and ``|N(0, 1)| * noise * (1 - s)`` is added, so
``z = 100`` is the exact Hartmann function. Presets ``(bias, noise)``: default
``(0.5, 0.1)``, ``good (2.5, 2)``, ``moderate (3, 3)``, ``bad (3.5, 4)``, ``terrible
(4, 5)``; the simulated cost is ``0.05 + 0.95 * (z / 100) ** 2`` seconds.

Example:
    >>> task = families()[0].make("synthetic/hartmann3")
    >>> round(task.evaluate({"x0": 0.114614, "x1": 0.555649, "x2": 0.852547}).values[0], 4)
    -3.8628
"""

from __future__ import annotations

import difflib
import operator
from abc import abstractmethod
from collections.abc import Callable, Mapping
from functools import cached_property, partial
from typing import Any

import numpy as np
from ConfigSpace import ConfigurationSpace, Float

from tasks.base import Fidelity, Objective, Result, Task, TaskFamily, TaskMeta

FloatArray = np.ndarray


# ----------------------------------------------------------------------------- base


class BoxTask(Task):
    """A task over the float box ``lower <= x <= upper`` with hyperparameters ``x0..x{d-1}``.

    The search space is built on first access: a 40-D ``ConfigurationSpace`` takes
    several milliseconds, and catalog code often makes tasks only to read ``meta``.
    Subclasses implement :meth:`evaluate_array`; pickling rebuilds the task from its
    id (see :meth:`__reduce__`), so workers never ship numpy or C state around.

    Example:
        >>> task = Branin()
        >>> task.to_array({"x0": 1.0, "x1": 2.0})
        array([1., 2.])
    """

    def __init__(
        self,
        task_id: str,
        lower: FloatArray | list[float],
        upper: FloatArray | list[float],
        objectives: tuple[Objective, ...],
        fidelity: Fidelity | None,
        meta: TaskMeta,
    ) -> None:
        self.id = task_id
        self.lower = np.asarray(lower, dtype=float)
        self.upper = np.asarray(upper, dtype=float)
        self.objectives = objectives
        self.fidelity = fidelity
        self.meta = meta
        self.keys = tuple(f"x{i}" for i in range(self.lower.size))
        # itemgetter over all keys is the cheapest mapping → tuple conversion there is.
        self._getter = operator.itemgetter(*self.keys)
        self._single = len(self.keys) == 1

    @cached_property
    def space(self) -> ConfigurationSpace:  # type: ignore[override]
        cs = ConfigurationSpace(name=self.id, seed=0)
        bounds = zip(self.keys, self.lower, self.upper, strict=True)
        cs.add([Float(k, (float(lo), float(hi))) for k, lo, hi in bounds])
        return cs

    def to_array(self, config: Mapping[str, Any]) -> FloatArray:
        """The config as a float64 vector in ``x0..x{d-1}`` order (no bounds check, for speed)."""
        values = self._getter(config)
        return np.array((values,) if self._single else values, dtype=float)

    @abstractmethod
    def evaluate_array(self, x: FloatArray, fidelity: float | None = None, seed: int = 0) -> Result:
        """Evaluate a float vector ``x`` in ``x0..x{d-1}`` order (the fast path behind :meth:`evaluate`)."""

    def evaluate(self, config: Mapping[str, Any], fidelity: float | None = None, seed: int = 0) -> Result:
        return self.evaluate_array(self.to_array(config), fidelity, seed)

    def _no_fidelity(self, fidelity: float | None) -> None:
        if fidelity is not None:
            raise ValueError(f"task {self.id!r} has no fidelity: got fidelity={fidelity!r}, expected None")

    def __reduce__(self) -> tuple[Callable[[str], Task], tuple[str]]:
        return (make_task, (self.id,))


def _meta(optimum: tuple[float, ...] | None, tags: tuple[str, ...], description: str) -> TaskMeta:
    # param_types stays the word these tasks always recorded, not the space's class names.
    return TaskMeta(
        kind="synthetic", optimum=optimum, param_types=("float",), tags=tags, description=description
    )


# ----------------------------------------------------------------------------- single objective

#: Global minimum of Branin, ``5 / (4π)``, attained at (-π, 12.275), (π, 2.275), (9.42478, 2.475).
BRANIN_MIN = 5.0 / (4.0 * np.pi)


def branin(x: FloatArray) -> FloatArray:
    """Branin-Hoo on ``x[..., 0] ∈ [-5, 10], x[..., 1] ∈ [0, 15]``.

    Example:
        >>> round(float(branin(np.array([np.pi, 2.275]))), 6)
        0.397887
    """
    x0, x1 = x[..., 0], x[..., 1]
    b, c, t = 5.1 / (4 * np.pi**2), 5 / np.pi, 1 / (8 * np.pi)
    return (x1 - b * x0**2 + c * x0 - 6) ** 2 + 10 * (1 - t) * np.cos(x0) + 10


_H_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])
_H3_A = np.array([[3.0, 10, 30], [0.1, 10, 35], [3.0, 10, 30], [0.1, 10, 35]])
_H3_P = 1e-4 * np.array([[3689, 1170, 2673], [4699, 4387, 7470], [1091, 8732, 5547], [381, 5743, 8828]])
_H6_A = np.array(
    [
        [10, 3, 17, 3.5, 1.7, 8],
        [0.05, 10, 17, 0.1, 8, 14],
        [3, 3.5, 1.7, 10, 17, 8],
        [17, 8, 0.05, 10, 0.1, 14],
    ]
)
_H6_P = 1e-4 * np.array(
    [
        [1312, 1696, 5569, 124, 8283, 5886],
        [2329, 4135, 8307, 3736, 1004, 9991],
        [2348, 1451, 3522, 2883, 3047, 6650],
        [4047, 8828, 8732, 5743, 1091, 381],
    ]
)
#: (A, P, published argmin, min) per dimension; the minima were refined by local optimization
#: from the published (rounded) argmins, so the known optimum is never above a reachable value.
HARTMANN: dict[int, tuple[FloatArray, FloatArray, tuple[float, ...], float]] = {
    3: (_H3_A, _H3_P, (0.114614, 0.555649, 0.852547), -3.862779787332663),
    6: (_H6_A, _H6_P, (0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573), -3.322368011415515),
}


def hartmann(x: FloatArray, alpha: FloatArray = _H_ALPHA) -> FloatArray:
    """Hartmann 3-D or 6-D on ``[0, 1]^d`` (``d = x.shape[-1]``), with optional weights ``alpha``.

    Example:
        >>> round(float(hartmann(np.array(HARTMANN[6][2]))), 5)
        -3.32237
    """
    a, p, _, _ = HARTMANN[x.shape[-1]]
    inner = np.sum(a * (x[..., None, :] - p) ** 2, axis=-1)
    return -np.sum(alpha * np.exp(-inner), axis=-1)


class Branin(BoxTask):
    """``synthetic/branin``: the 2-D Branin-Hoo function (three global minima).

    Example:
        >>> Branin().evaluate({"x0": np.pi, "x1": 2.275}).values[0] - BRANIN_MIN < 1e-5
        True
    """

    def __init__(self) -> None:
        super().__init__(
            "synthetic/branin",
            [-5.0, 0.0],
            [10.0, 15.0],
            (Objective("f"),),
            None,
            _meta((BRANIN_MIN,), ("smooth", "multimodal"), "Branin-Hoo, 2-D, three global minima"),
        )

    def evaluate_array(self, x: FloatArray, fidelity: float | None = None, seed: int = 0) -> Result:
        self._no_fidelity(fidelity)
        return Result((float(branin(x)),))


class Hartmann(BoxTask):
    """``synthetic/hartmann3`` and ``synthetic/hartmann6`` on ``[0, 1]^d``.

    Example:
        >>> Hartmann(6).meta.optimum
        (-3.322368011415515,)
    """

    def __init__(self, dims: int = 3) -> None:
        if dims not in HARTMANN:
            raise ValueError(f"Hartmann dims={dims!r} is not supported; valid: 3, 6")
        optimum = HARTMANN[dims][3]
        super().__init__(
            f"synthetic/hartmann{dims}",
            np.zeros(dims),
            np.ones(dims),
            (Objective("f"),),
            None,
            _meta((optimum,), ("smooth", "multimodal"), f"Hartmann {dims}-D on the unit cube"),
        )

    def evaluate_array(self, x: FloatArray, fidelity: float | None = None, seed: int = 0) -> Result:
        self._no_fidelity(fidelity)
        return Result((float(hartmann(x)),))


# ----------------------------------------------------------------------------- multi-fidelity

#: mf-prior-bench presets: name → (bias, noise). The bare ``mfh3``/``mfh6`` use "".
MFH_PRESETS: dict[str, tuple[float, float]] = {
    "": (0.5, 0.1),
    "good": (2.5, 2.0),
    "moderate": (3.0, 3.0),
    "bad": (3.5, 4.0),
    "terrible": (4.0, 5.0),
}
MFH_FIDELITY = Fidelity("z", 1.0, 100.0)


class MFHartmann(BoxTask):
    """Multi-fidelity Hartmann (mf-prior-bench ``mfh3``/``mfh6`` and their presets).

    Lower fidelity ``z`` flattens the function (bias) and adds non-negative noise,
    both shrinking linearly in ``log z`` and vanishing at ``z = 100``, where the
    task is exactly :func:`hartmann`. Low-fidelity values are never below the
    true one, so ``meta.optimum`` bounds every fidelity. Noise is a pure function
    of ``(seed, x, z)``: re-evaluating the same point with the same seed gives the
    same value, a different seed gives independent noise.

    Example:
        >>> task = MFHartmann(3, "good")
        >>> x = {"x0": 0.1, "x1": 0.5, "x2": 0.8}
        >>> task.evaluate(x, 100, seed=1).values == Hartmann(3).evaluate(x).values
        True
        >>> task.evaluate(x, 100, seed=1).cost
        1.0
    """

    def __init__(self, dims: int = 3, preset: str = "") -> None:
        if dims not in HARTMANN:
            raise ValueError(f"MFHartmann dims={dims!r} is not supported; valid: 3, 6")
        if preset not in MFH_PRESETS:
            raise ValueError(f"MFHartmann preset={preset!r} is unknown; valid: {sorted(MFH_PRESETS)}")
        self.bias, self.noise = MFH_PRESETS[preset]
        suffix = f"_{preset}" if preset else ""
        super().__init__(
            f"synthetic/mfh{dims}{suffix}",
            np.zeros(dims),
            np.ones(dims),
            (Objective("f"),),
            MFH_FIDELITY,
            _meta(
                (HARTMANN[dims][3],),
                ("smooth", "multimodal", "noisy"),
                f"multi-fidelity Hartmann {dims}-D (mf-prior-bench mfh{dims}{suffix}: "
                f"bias={self.bias}, noise={self.noise})",
            ),
        )

    def evaluate_array(self, x: FloatArray, fidelity: float | None = None, seed: int = 0) -> Result:
        z = MFH_FIDELITY.high if fidelity is None else float(fidelity)
        if not MFH_FIDELITY.contains(z):
            raise ValueError(f"task {self.id!r}: fidelity z={fidelity!r} is outside [1, 100]")
        gap = 1.0 - np.log(z) / np.log(MFH_FIDELITY.high)  # 1 at z=1, 0 at z=100
        value = float(hartmann(x, _H_ALPHA - self.bias * gap))
        if gap > 0.0:
            # Mix the point and fidelity into the stream so one run seed still gives
            # independent noise per point, and the same (x, z, seed) repeats exactly.
            entropy = [int(seed) & 0xFFFFFFFFFFFFFFFF, *np.append(x, z).view(np.uint64).tolist()]
            rng = np.random.default_rng(np.random.SeedSequence(entropy))
            value += abs(float(rng.standard_normal())) * self.noise * gap
        cost = 0.05 + 0.95 * (z / MFH_FIDELITY.high) ** 2
        return Result((value,), cost=cost)


# ----------------------------------------------------------------------------- multi-objective


def zdt(x: FloatArray, which: int) -> FloatArray:
    """ZDT1/2/3 on ``[0, 1]^d`` (Zitzler, Deb & Thiele 2000); returns ``(..., 2)``.

    Example:
        >>> zdt(np.array([0.25, 0.0, 0.0]), 1)
        array([0.25, 0.5 ])
    """
    f1 = x[..., 0]
    g = 1.0 + 9.0 * np.sum(x[..., 1:], axis=-1) / (x.shape[-1] - 1)
    r = f1 / g
    if which == 1:
        h = 1.0 - np.sqrt(r)
    elif which == 2:
        h = 1.0 - r**2
    elif which == 3:
        h = 1.0 - np.sqrt(r) - r * np.sin(10.0 * np.pi * f1)
    else:
        raise ValueError(f"ZDT number {which!r} is not supported; valid: 1, 2, 3")
    return np.stack([f1, g * h], axis=-1)


def dtlz2(x: FloatArray, n_obj: int = 2) -> FloatArray:
    """DTLZ2 on ``[0, 1]^d`` (Deb et al. 2002); the Pareto front is the unit sphere's positive part.

    Example:
        >>> np.round(dtlz2(np.array([0.5, 0.5, 0.5])), 6)
        array([0.707107, 0.707107])
    """
    g = np.sum((x[..., n_obj - 1 :] - 0.5) ** 2, axis=-1)
    angles = x[..., : n_obj - 1] * (np.pi / 2)
    out = []
    for m in range(n_obj):
        f = 1.0 + g
        f = f * np.prod(np.cos(angles[..., : n_obj - 1 - m]), axis=-1)
        if m > 0:
            f = f * np.sin(angles[..., n_obj - 1 - m])
        out.append(f)
    return np.stack(out, axis=-1)


#: ZDT3's Pareto-optimal ``f1`` intervals (its front is disconnected).
ZDT3_F1_INTERVALS = (
    (0.0, 0.0830015349),
    (0.1822287280, 0.2577623634),
    (0.4093136748, 0.4538821041),
    (0.6183967944, 0.6525117038),
    (0.8233317983, 0.8518328654),
)
_MO_OBJECTIVES = (Objective("f1"), Objective("f2"))


class ZDT(BoxTask):
    """``synthetic/zdt{1,2,3}`` (6-D) and ``synthetic/zdt{1,2,3}/d30`` (the original size).

    The Pareto set is ``x0 ∈ [0, 1]`` (ZDT3: the intervals in
    :data:`ZDT3_F1_INTERVALS`) with every other ``x_i = 0``.

    Example:
        >>> ZDT(1).evaluate({f"x{i}": 0.0 for i in range(6)}).values
        (0.0, 1.0)
    """

    def __init__(self, which: int = 1, dims: int = 6) -> None:
        if which not in (1, 2, 3):
            raise ValueError(f"ZDT number {which!r} is not supported; valid: 1, 2, 3")
        if dims < 2:
            raise ValueError(f"ZDT dims={dims!r} is too small; need dims >= 2")
        self.which = which
        suffix = "" if dims == 6 else f"/d{dims:02d}"
        super().__init__(
            f"synthetic/zdt{which}{suffix}",
            np.zeros(dims),
            np.ones(dims),
            _MO_OBJECTIVES,
            None,
            _meta(
                None,
                ("multi-objective",) + (("disconnected-front",) if which == 3 else ()),
                f"ZDT{which}, {dims}-D, two objectives",
            ),
        )

    def evaluate_array(self, x: FloatArray, fidelity: float | None = None, seed: int = 0) -> Result:
        self._no_fidelity(fidelity)
        f = zdt(x, self.which)
        return Result((float(f[0]), float(f[1])))

    def pareto_front(self, n: int = 100) -> FloatArray:
        """``n`` points of the true Pareto front, shape ``(n, 2)``, sorted by ``f1``."""
        if self.which == 3:
            lengths = np.array([hi - lo for lo, hi in ZDT3_F1_INTERVALS])
            per = np.maximum(2, np.round(n * lengths / lengths.sum()).astype(int))
            pieces = zip(ZDT3_F1_INTERVALS, per, strict=True)
            f1 = np.concatenate([np.linspace(lo, hi, k) for (lo, hi), k in pieces])
        else:
            f1 = np.linspace(0.0, 1.0, n)
        x = np.zeros((f1.size, self.meta.dims))
        x[:, 0] = f1
        return zdt(x, self.which)


class DTLZ2(BoxTask):
    """``synthetic/dtlz2`` (6-D) and ``synthetic/dtlz2/d11``: DTLZ2 with two objectives.

    The Pareto set is ``x0 ∈ [0, 1]`` with every other ``x_i = 0.5``; its front is the
    quarter circle ``f1² + f2² = 1``.

    Example:
        >>> f = DTLZ2().evaluate({f"x{i}": 0.5 for i in range(6)}).values
        >>> round(f[0] ** 2 + f[1] ** 2, 12)
        1.0
    """

    def __init__(self, dims: int = 6) -> None:
        if dims < 2:
            raise ValueError(f"DTLZ2 dims={dims!r} is too small; need dims >= 2")
        suffix = "" if dims == 6 else f"/d{dims:02d}"
        super().__init__(
            f"synthetic/dtlz2{suffix}",
            np.zeros(dims),
            np.ones(dims),
            _MO_OBJECTIVES,
            None,
            _meta(None, ("multi-objective",), f"DTLZ2, {dims}-D, two objectives"),
        )

    def evaluate_array(self, x: FloatArray, fidelity: float | None = None, seed: int = 0) -> Result:
        self._no_fidelity(fidelity)
        f = dtlz2(x)
        return Result((float(f[0]), float(f[1])))

    def pareto_front(self, n: int = 100) -> FloatArray:
        """``n`` points of the true Pareto front, shape ``(n, 2)``, sorted by ``f1``."""
        t = np.linspace(np.pi / 2, 0.0, n)
        return np.stack([np.cos(t), np.sin(t)], axis=-1)


# ----------------------------------------------------------------------------- family

_FACTORIES: dict[str, Callable[[], BoxTask]] = {
    "synthetic/branin": Branin,
    "synthetic/hartmann3": partial(Hartmann, 3),
    "synthetic/hartmann6": partial(Hartmann, 6),
    **{
        f"synthetic/mfh{d}{'_' + p if p else ''}": partial(MFHartmann, d, p)
        for d in (3, 6)
        for p in MFH_PRESETS
    },
    **{f"synthetic/zdt{w}": partial(ZDT, w) for w in (1, 2, 3)},
    **{f"synthetic/zdt{w}/d30": partial(ZDT, w, 30) for w in (1, 2, 3)},
    "synthetic/dtlz2": DTLZ2,
    "synthetic/dtlz2/d11": partial(DTLZ2, 11),
}


def make_task(task_id: str) -> BoxTask:
    """Build a synthetic task from its id.

    Example:
        >>> make_task("synthetic/zdt3").meta.type
        'mo'
    """
    try:
        factory = _FACTORIES[task_id]
    except KeyError:
        # Compare names without the shared "synthetic/" prefix, which would make everything look close.
        names = {i.removeprefix("synthetic/"): i for i in _FACTORIES}
        close = difflib.get_close_matches(task_id.removeprefix("synthetic/"), names, n=3, cutoff=0.6)
        if close:
            hint = "did you mean " + " or ".join(repr(names[c]) for c in close) + "?"
        else:
            hint = "valid: " + ", ".join(_FACTORIES)
        raise ValueError(f"unknown synthetic task id {task_id!r}: {hint}") from None
    return factory()


class SyntheticFamily(TaskFamily):
    """The ``synthetic`` family: Branin, Hartmann, MF-Hartmann, ZDT and DTLZ2.

    Example:
        >>> len(SyntheticFamily().ids())
        21
    """

    name = "synthetic"
    description = "classic synthetic functions: Branin, Hartmann 3/6, MF-Hartmann (mfh3/mfh6), ZDT1-3, DTLZ2"

    def ids(self) -> list[str]:
        return list(_FACTORIES)

    def make(self, task_id: str) -> Task:
        return make_task(task_id)


def families() -> list[TaskFamily]:
    """The task families this module provides (called by the registry).

    Example:
        >>> [f.name for f in families()]
        ['synthetic']
    """
    return [SyntheticFamily()]
