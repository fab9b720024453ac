"""The task contract: what an optimizer optimizes.

A :class:`Task` owns a seeded ``ConfigSpace.ConfigurationSpace``, one or more
:class:`Objective` s (always reported in their natural direction, see
:attr:`Objective.minimize`), an optional :class:`Fidelity` axis, and a
:class:`TaskMeta` record used for listing, filtering and normalization.

Example:
    >>> from tasks.synthetic import Branin
    >>> task = Branin()
    >>> result = task.evaluate({"x0": 0.0, "x1": 0.0}, fidelity=None, seed=0)
    >>> round(result.values[0], 3)
    55.602
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any, Literal

from ConfigSpace import ConfigurationSpace

from tasks.vocabulary import TaskKind, TaskType

_EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True)
class Objective:
    """One objective of a task.

    Example:
        >>> Objective("error").minimize
        True
    """

    name: str
    minimize: bool = True


@dataclass(frozen=True)
class Fidelity:
    """A fidelity axis (budget parameter) such as epochs or training-set size.

    ``values`` lists the admissible values for discrete (tabular) fidelities;
    ``None`` means any float in ``[low, high]``.

    Example:
        >>> f = Fidelity("epochs", 1, 100, values=(1, 10, 100))
        >>> f.fraction(10)
        0.1
    """

    name: str
    low: float
    high: float
    values: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        if not (0 < self.low <= self.high):
            raise ValueError(
                f"Fidelity {self.name!r}: need 0 < low <= high, got low={self.low}, high={self.high}"
            )

    def fraction(self, value: float) -> float:
        """Full-fidelity equivalents of one evaluation at ``value`` (``value / high``)."""
        return float(value) / self.high

    def contains(self, value: float) -> bool:
        """Whether ``value`` is an admissible fidelity for this axis."""
        if self.values is not None:
            return float(value) in self.values
        return self.low <= float(value) <= self.high


@dataclass(frozen=True, slots=True, init=False)
class Result:
    """What one evaluation returns.

    ``values`` holds one entry per task objective, in the objective's own
    direction. ``cost`` is the seconds the evaluation took or would have taken
    (recorded training time for tabular/surrogate tasks), used for simulated-time
    budgets. ``info`` carries optional extras (e.g. a test-set score).

    Example:
        >>> Result((0.25,), cost=1.5).values
        (0.25,)
        >>> Result((0.25,)) == Result(values=(0.25,), cost=0.0)
        True
    """

    values: tuple[float, ...]
    cost: float
    info: Mapping[str, Any]

    def __init__(
        self, values: tuple[float, ...], cost: float = 0.0, info: Mapping[str, Any] = _EMPTY
    ) -> None:
        # The dataclass's own __init__ of a frozen class sets each field through a generic
        # object.__setattr__ lookup; every trial makes a Result, so this one calls the slots'
        # own setters, bound once after the class (0.27 against 0.38 µs per Result).
        _set_values(self, values)
        _set_cost(self, cost)
        _set_info(self, info)


# The slot descriptors' setters (see Result.__init__); frozen only blocks ``setattr``.
_set_values = Result.__dict__["values"].__set__
_set_cost = Result.__dict__["cost"].__set__
_set_info = Result.__dict__["info"].__set__


@dataclass(frozen=True, kw_only=True)
class TaskMeta:
    """Catalog record of a task: used for listing, filtering and normalization.

    A task declares what cannot be derived from it: its ``kind``, its known ``optimum`` per
    objective when there is one (e.g. ``f_opt`` of a bbob function, else ``None``), ``tags``,
    a ``description``, a ``revision`` (a change to what a task id means, e.g. a narrower
    fidelity axis; it enters the run fingerprint when not empty, so resume re-runs results of
    the task's earlier form) and ``libraries``: the installed distributions its values come from
    besides this package and numpy (a data package such as ``lcdb``, the ``scikit-learn`` that
    fits a surrogate, the ``onnxruntime`` that runs one). Every run records their versions, so
    an upgrade that changes what the task returns shows in the runs and marks archived ones
    stale. ``task.meta`` fills each field left empty from the task itself (:meth:`derived_for`):
    ``family`` is the first component of the task id (``"bbob"``,
    ``"synthetic"``, ...), ``type`` follows from its objectives and fidelity
    (:func:`task_type`), ``dims`` is the number of hyperparameters and ``param_types`` the sorted
    class names of those hyperparameters. A field given explicitly is kept as given.

    Example:
        >>> m = TaskMeta(kind="synthetic", optimum=(0.0,))
        >>> m.family, m.dims
        ('', 0)
        >>> TaskMeta(family="synthetic", type="bb", kind="synthetic", dims=2).optimum is None
        True
    """

    family: str = ""
    type: TaskType | Literal[""] = ""
    kind: TaskKind
    dims: int = 0
    optimum: tuple[float, ...] | None = None
    param_types: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    description: str = ""
    revision: str = ""
    libraries: tuple[str, ...] = ()

    def derived_for(self, task: Task) -> TaskMeta:
        """This record with every empty derivable field (``family``, ``type``, ``dims``,
        ``param_types``) filled in from ``task``; itself when none is empty.

        Example:
            >>> from tasks.synthetic import Branin
            >>> TaskMeta(kind="synthetic").derived_for(Branin())
            TaskMeta(family='synthetic', type='bb', kind='synthetic', dims=2, optimum=None, \
param_types=('UniformFloatHyperparameter',), tags=(), description='', revision='', libraries=())
        """
        derived: dict[str, Any] = {}
        if not self.family:
            derived["family"] = task.id.split("/", 1)[0]
        if not self.type:
            derived["type"] = task_type(len(task.objectives), task.fidelity)
        if not self.dims:
            derived["dims"] = len(task.space)
        if not self.param_types:
            derived["param_types"] = param_types(task.space)
        return replace(self, **derived) if derived else self


class Task(ABC):
    """A thing to optimize.

    Subclasses set :attr:`id`, :attr:`space`, :attr:`objectives`, :attr:`fidelity`
    and :attr:`meta` (usually in ``__init__``) and implement :meth:`evaluate`.
    :attr:`meta` needs only what cannot be derived (``TaskMeta(kind=..., optimum=...)``): reading
    it gives the full record, its family, type, dims and parameter types taken from the task.
    ``evaluate`` must be a pure function of ``(config, fidelity, seed)``; any
    noise is drawn from ``seed``. It never logs anything: the runner does.

    Example:
        >>> class Sphere(Task):
        ...     def __init__(self) -> None:
        ...         self.id = "example/sphere"
        ...         self.space = ConfigurationSpace({"x": (-5.0, 5.0)}, seed=0)
        ...         self.objectives = (Objective("y"),)
        ...         self.fidelity = None
        ...         self.meta = TaskMeta(kind="synthetic", optimum=(0.0,))
        ...     def evaluate(self, config, fidelity=None, seed=0):
        ...         return Result((config["x"] ** 2,))
        >>> Sphere().evaluate({"x": 2.0}).values
        (4.0,)
        >>> Sphere().meta.family, Sphere().meta.type, Sphere().meta.dims
        ('example', 'bb', 1)
    """

    id: str
    space: ConfigurationSpace
    objectives: tuple[Objective, ...]
    fidelity: Fidelity | None

    @property
    def meta(self) -> TaskMeta:
        """The task's catalog record: the declared :class:`TaskMeta`, its empty fields derived
        from the task (:meth:`TaskMeta.derived_for`) on first read, after ``__init__`` has set
        the id, space, objectives and fidelity."""
        try:
            return self.__dict__["_meta"]
        except KeyError:
            pass
        try:
            declared: TaskMeta = self.__dict__["_declared_meta"]
        except KeyError:
            raise AttributeError(
                f"{type(self).__name__} sets no meta: assign self.meta = TaskMeta(kind=...) in __init__"
            ) from None
        self.__dict__["_meta"] = meta = declared.derived_for(self)
        return meta

    @meta.setter
    def meta(self, declared: TaskMeta) -> None:
        self.__dict__["_declared_meta"] = declared
        self.__dict__.pop("_meta", None)

    @abstractmethod
    def evaluate(self, config: Mapping[str, Any], fidelity: float | None = None, seed: int = 0) -> Result:
        """Evaluate ``config`` at ``fidelity`` (``None`` = highest / no fidelity)."""

    @property
    def n_objectives(self) -> int:
        return len(self.objectives)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.id!r})"


def param_types(space: ConfigurationSpace) -> tuple[str, ...]:
    """The sorted class names of the hyperparameters of ``space`` (``TaskMeta.param_types``).

    Example:
        >>> param_types(ConfigurationSpace({"x": (0.0, 1.0), "n": (1, 9), "c": ["a", "b"]}))
        ('CategoricalHyperparameter', 'UniformFloatHyperparameter', 'UniformIntegerHyperparameter')
    """
    return tuple(sorted({type(hp).__name__ for hp in space.values()}))


def task_type(n_objectives: int, fidelity: Fidelity | None) -> TaskType:
    """The catalog type implied by objectives and fidelity.

    Example:
        >>> task_type(2, None)
        'mo'
    """
    multi = n_objectives > 1
    if fidelity is None:
        return "mo" if multi else "bb"
    return "mfmo" if multi else "mf"


class TaskFamily(ABC):
    """A named family of tasks sharing an id prefix, e.g. ``bbob`` or ``synthetic``.

    Families make tasks on demand from their ids so the catalog can list
    thousands of tasks without building them. Each task module exposes a
    ``families() -> list[TaskFamily]`` function that the registry calls.

    Example:
        >>> from tasks.synthetic import families
        >>> fam = families()[0]
        >>> "synthetic/branin" in list(fam.ids())
        True
    """

    #: The first id component of every task in this family.
    name: str
    #: One line for listings.
    description: str = ""

    @abstractmethod
    def ids(self) -> list[str]:
        """Every task id this family offers (the catalog)."""

    @abstractmethod
    def make(self, task_id: str) -> Task:
        """Build the task with this id; raise ``ValueError`` naming valid ids if unknown."""

    def unavailable_reason(self) -> str | None:
        """Why the family cannot be used here (missing extra or data), else ``None``."""
        return None
