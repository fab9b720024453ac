"""COCO's ``bbob`` and ``bbob-biobj`` suites (package ``coco-experiment``, imported as ``cocoex``).

Ids are ``bbob/fFF/dDD/iII`` (24 functions) and ``bbob-biobj/fFF/dDD/iII`` (55
functions), for dimensions 2, 3, 5, 10, 20, 40 and instances 1..15, all zero padded
to two digits. The domain is ``[-5, 5]^d`` with float hyperparameters ``x0..x{d-1}``.

* ``bbob`` tasks wrap :class:`cocoex.BareProblem` (no observer, no logging, no files);
  ``meta.optimum`` is COCO's ``f_opt`` (``BareProblem.best_value``).
* ``bbob-biobj`` tasks are COCO's pairs of bbob problems
  (:attr:`BBOBBiobjTask.components`), evaluated as two ``BareProblem`` s, which
  matches ``cocoex.Suite("bbob-biobj")`` exactly. They have no scalar optimum, but
  expose COCO's :attr:`~BBOBBiobjTask.ideal` and :attr:`~BBOBBiobjTask.nadir`
  points used to normalize hypervolume.

``iII`` is COCO's instance *number*, as in its problem ids (``bbob_f001_i08_d02``),
i.e. the classic instances 1..15. (A default ``cocoex.Suite("bbob")`` instead maps
instance *indices* to the current year's instance numbers: index 8 is instance 73.)

Ids are validated before COCO sees them: COCO aborts the whole process on an
unknown bbob function and silently clips out-of-range biobj instance indices.

Example:
    >>> task = families()[0].make("bbob/f01/d02/i01")
    >>> task.meta.optimum
    (79.48,)
    >>> task.evaluate({"x0": 0.0, "x1": 0.0}).values
    (80.88209408,)
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Callable, Mapping
from functools import cached_property
from typing import Any

import numpy as np

from tasks.base import Objective, Result, Task, TaskFamily, TaskMeta
from tasks.synthetic import BoxTask

DIMENSIONS: tuple[int, ...] = (2, 3, 5, 10, 20, 40)
INSTANCES: tuple[int, ...] = tuple(range(1, 16))
BIOBJ_FUNCTIONS = 55
LOWER, UPPER = -5.0, 5.0

#: bbob function names (COCO documentation), index = function number - 1.
BBOB_NAMES: tuple[str, ...] = (
    "Sphere",
    "Ellipsoidal separable",
    "Rastrigin separable",
    "Büche-Rastrigin",
    "Linear slope",
    "Attractive sector",
    "Step ellipsoidal",
    "Rosenbrock original",
    "Rosenbrock rotated",
    "Ellipsoidal high-conditioning",
    "Discus",
    "Bent cigar",
    "Sharp ridge",
    "Different powers",
    "Rastrigin",
    "Weierstrass",
    "Schaffer F7",
    "Schaffer F7 ill-conditioned",
    "Composite Griewank-Rosenbrock F8F2",
    "Schwefel x*sin(x)",
    "Gallagher 101 peaks",
    "Gallagher 21 peaks",
    "Katsuura",
    "Lunacek bi-Rastrigin",
)
#: bbob function groups: (first, last, tag).
BBOB_GROUPS: tuple[tuple[int, int, str], ...] = (
    (1, 5, "separable"),
    (6, 9, "low-conditioning"),
    (10, 14, "high-conditioning"),
    (15, 19, "multimodal-global-structure"),
    (20, 24, "multimodal-weak-structure"),
)

_ID = re.compile(r"^(?P<suite>bbob|bbob-biobj)/f(?P<f>\d{2})/d(?P<d>\d{2})/i(?P<i>\d{2})$")

#: The bbob functions combined by bbob-biobj: all 55 pairs (with repetition) of these ten.
_BIOBJ_BASE = (1, 2, 6, 8, 13, 14, 15, 17, 20, 21)
#: bbob-biobj function ``f`` → (bbob function of f1, bbob function of f2), index ``f - 1``.
BIOBJ_FUNCTION_PAIRS: tuple[tuple[int, int], ...] = tuple(
    (a, b) for k, a in enumerate(_BIOBJ_BASE) for b in _BIOBJ_BASE[k:]
)
#: bbob-biobj instance ``i`` → (bbob instance of f1, bbob instance of f2), index ``i - 1``;
#: COCO's fixed table for instances 1..15, the same for every function and dimension.
BIOBJ_INSTANCE_PAIRS: tuple[tuple[int, int], ...] = (
    (2, 4),
    (3, 5),
    (7, 8),
    (9, 10),
    (11, 12),
    (13, 14),
    (15, 16),
    (17, 18),
    (19, 21),
    (21, 22),
    (23, 24),
    (25, 26),
    (27, 28),
    (29, 30),
    (31, 34),
)


def _group(function: int) -> str:
    return next(tag for lo, hi, tag in BBOB_GROUPS if lo <= function <= hi)


def parse_id(task_id: str) -> tuple[str, int, int, int]:
    """Split a bbob or bbob-biobj id into ``(suite, function, dim, instance)``, validating each part.

    Example:
        >>> parse_id("bbob-biobj/f12/d05/i03")
        ('bbob-biobj', 12, 5, 3)
    """
    m = _ID.match(task_id)
    if m is None:
        raise ValueError(
            f"unknown task id {task_id!r}: expected 'bbob/fFF/dDD/iII' or 'bbob-biobj/fFF/dDD/iII' "
            "with two-digit numbers, e.g. 'bbob/f01/d02/i01'"
        )
    suite, f, d, i = m["suite"], int(m["f"]), int(m["d"]), int(m["i"])
    n_functions = 24 if suite == "bbob" else BIOBJ_FUNCTIONS
    if not 1 <= f <= n_functions:
        raise ValueError(f"unknown task id {task_id!r}: function must be f01..f{n_functions:02d}")
    if d not in DIMENSIONS:
        raise ValueError(
            f"unknown task id {task_id!r}: dimension must be one of "
            + ", ".join(f"d{x:02d}" for x in DIMENSIONS)
        )
    if i not in INSTANCES:
        raise ValueError(f"unknown task id {task_id!r}: instance must be i01..i{INSTANCES[-1]:02d}")
    return suite, f, d, i


def make_id(function: int, dim: int, instance: int = 1, suite: str = "bbob") -> str:
    """The canonical id of a bbob (or ``suite="bbob-biobj"``) task, validated.

    Example:
        >>> make_id(3, 5)
        'bbob/f03/d05/i01'
    """
    if suite not in ("bbob", "bbob-biobj"):
        raise ValueError(f"unknown COCO suite {suite!r}: valid: 'bbob', 'bbob-biobj'")
    out = f"{suite}/f{int(function):02d}/d{int(dim):02d}/i{int(instance):02d}"
    parse_id(out)
    return out


def _float_bounds(dim: int) -> tuple[np.ndarray, np.ndarray]:
    return np.full(dim, LOWER), np.full(dim, UPPER)


class BBOBTask(BoxTask):
    """One bbob problem: function ``f`` (1..24), dimension ``d``, instance ``i``.

    Evaluation is a pure, stateless function of ``x``: a ``cocoex.BareProblem``
    has no observer and no archive, so ``seed`` is unused and nothing is written.

    Example:
        >>> task = BBOBTask(3, 5, 2)
        >>> task.id, task.meta.tags
        ('bbob/f03/d05/i02', ('separable',))
    """

    def __init__(self, function: int, dim: int, instance: int) -> None:
        import cocoex  # the C extension stays out of `import tasks.bbob`

        task_id = f"bbob/f{function:02d}/d{dim:02d}/i{instance:02d}"
        parse_id(task_id)  # COCO exits the interpreter on unknown functions: validate first
        self.function, self.instance = function, instance
        self._problem = cocoex.BareProblem("bbob", function, dim, instance)
        lower, upper = _float_bounds(dim)
        meta = TaskMeta(
            # param_types: the word bbob tasks always recorded, not the space's class names.
            kind="synthetic",
            optimum=(float(self._problem.best_value()),),
            param_types=("float",),
            tags=(_group(function),),
            description=f"bbob f{function} {BBOB_NAMES[function - 1]}, {dim}-D, instance {instance}",
        )
        super().__init__(task_id, lower, upper, (Objective("f"),), None, meta)
        # Bound once: evaluate() is the per-trial hot path.
        self._call: Callable[[np.ndarray], float] = self._problem

    def evaluate(self, config: Mapping[str, Any], fidelity: float | None = None, seed: int = 0) -> Result:
        if fidelity is not None:
            self._no_fidelity(fidelity)
        return Result((float(self._call(np.array(self._getter(config), dtype=float))),))

    def evaluate_array(self, x: np.ndarray, fidelity: float | None = None, seed: int = 0) -> Result:
        if fidelity is not None:
            self._no_fidelity(fidelity)
        return Result((float(self._call(x)),))

    def __reduce__(self) -> tuple[Callable[[str], Task], tuple[str]]:
        return (make_task, (self.id,))


class BBOBBiobjTask(BoxTask):
    """One bbob-biobj problem: function ``f`` (1..55), dimension ``d``, instance ``i`` (1..15).

    COCO defines each bbob-biobj problem as a pair of bbob problems
    (:attr:`components`); evaluating the two ``cocoex.BareProblem`` s directly gives
    bit-identical values to ``cocoex.Suite("bbob-biobj")`` (checked by the tests
    for every function and instance) while building in about a millisecond instead
    of several, and without a suite's observer hooks.

    Example:
        >>> task = BBOBBiobjTask(1, 2, 1)
        >>> task.components
        ((1, 2), (1, 4))
        >>> task.ideal
        (394.48, -152.04)
    """

    def __init__(self, function: int, dim: int, instance: int) -> None:
        import cocoex

        task_id = f"bbob-biobj/f{function:02d}/d{dim:02d}/i{instance:02d}"
        parse_id(task_id)  # COCO silently drops out-of-range indices: validate first
        self.function, self.instance = function, instance
        (fa, fb), (ia, ib) = BIOBJ_FUNCTION_PAIRS[function - 1], BIOBJ_INSTANCE_PAIRS[instance - 1]
        #: ``(bbob function, bbob instance)`` behind objectives f1 and f2.
        self.components = ((fa, ia), (fb, ib))
        self._first = cocoex.BareProblem("bbob", fa, dim, ia)
        self._second = cocoex.BareProblem("bbob", fb, dim, ib)
        lower, upper = _float_bounds(dim)
        meta = TaskMeta(
            kind="synthetic",
            optimum=None,
            param_types=("float",),
            tags=("multi-objective",),
            description=(
                f"bbob-biobj f{function}: bbob f{fa} {BBOB_NAMES[fa - 1]} × f{fb} "
                f"{BBOB_NAMES[fb - 1]}, {dim}-D, instance {instance}"
            ),
        )
        super().__init__(task_id, lower, upper, (Objective("f1"), Objective("f2")), None, meta)

    @cached_property
    def ideal(self) -> tuple[float, float]:
        """Best value of each objective alone (the components' ``f_opt``)."""
        return (float(self._first.best_value()), float(self._second.best_value()))

    @cached_property
    def nadir(self) -> tuple[float, float]:
        """COCO's nadir point: each objective at the other one's optimum."""
        import cocoex

        # Fresh problems: revealing x_opt marks a BareProblem as "tainted".
        (fa, ia), (fb, ib) = self.components
        dim = self.meta.dims
        first, second = cocoex.BareProblem("bbob", fa, dim, ia), cocoex.BareProblem("bbob", fb, dim, ib)
        return (float(first(second.best_parameter())), float(second(first.best_parameter())))

    def evaluate(self, config: Mapping[str, Any], fidelity: float | None = None, seed: int = 0) -> Result:
        if fidelity is not None:
            self._no_fidelity(fidelity)
        x = np.array(self._getter(config), dtype=float)
        return Result((float(self._first(x)), float(self._second(x))))

    def evaluate_array(self, x: np.ndarray, fidelity: float | None = None, seed: int = 0) -> Result:
        if fidelity is not None:
            self._no_fidelity(fidelity)
        return Result((float(self._first(x)), float(self._second(x))))

    def __reduce__(self) -> tuple[Callable[[str], Task], tuple[str]]:
        return (make_task, (self.id,))


def make_task(task_id: str) -> BBOBTask | BBOBBiobjTask:
    """Build a bbob or bbob-biobj task from its id.

    Example:
        >>> make_task("bbob-biobj/f55/d40/i15").meta.dims
        40
    """
    suite, f, d, i = parse_id(task_id)
    return BBOBTask(f, d, i) if suite == "bbob" else BBOBBiobjTask(f, d, i)


def _unavailable() -> str | None:
    if importlib.util.find_spec("cocoex") is None:
        return "package 'coco-experiment' (module cocoex) is not installed: pip install coco-experiment"
    return None


class _COCOFamily(TaskFamily):
    n_functions: int

    def ids(self) -> list[str]:
        return [
            f"{self.name}/f{f:02d}/d{d:02d}/i{i:02d}"
            for f in range(1, self.n_functions + 1)
            for d in DIMENSIONS
            for i in INSTANCES
        ]

    def make(self, task_id: str) -> Task:
        if not task_id.startswith(self.name + "/"):
            prefix = self.name + "/"
            raise ValueError(f"unknown {self.name} task id {task_id!r}: it must start with {prefix!r}")
        return make_task(task_id)

    def unavailable_reason(self) -> str | None:
        return _unavailable()


class BBOBFamily(_COCOFamily):
    """The 24 noiseless bbob functions × 6 dimensions × 15 instances (2160 tasks).

    Example:
        >>> BBOBFamily().ids()[:2]
        ['bbob/f01/d02/i01', 'bbob/f01/d02/i02']
    """

    name = "bbob"
    description = "COCO bbob: 24 noiseless single-objective functions, d in 2..40, instances 1..15"
    n_functions = 24


class BBOBBiobjFamily(_COCOFamily):
    """The 55 bbob-biobj functions × 6 dimensions × 15 instances (4950 tasks).

    Example:
        >>> len(BBOBBiobjFamily().ids())
        4950
    """

    name = "bbob-biobj"
    description = "COCO bbob-biobj: 55 bi-objective pairs of bbob functions, d in 2..40, instances 1..15"
    n_functions = BIOBJ_FUNCTIONS


def families() -> list[TaskFamily]:
    """The task families this module provides (called by the registry).

    Example:
        >>> [f.name for f in families()]
        ['bbob', 'bbob-biobj']
    """
    return [BBOBFamily(), BBOBBiobjFamily()]
