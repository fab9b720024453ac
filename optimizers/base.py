"""The optimizer contract: ask/tell, with the runner owning the loop.

An optimizer is created once per run with a :class:`Problem` and a seed, then the
runner repeatedly calls :meth:`Optimizer.ask` for a :class:`Trial`, evaluates it
and hands the :class:`~tasks.base.Result` back through :meth:`Optimizer.tell`.
Optimizers never evaluate the task, never log results and never see the budget
counter except through :class:`Problem`.

Example:
    >>> import numpy as np
    >>> from ConfigSpace import ConfigurationSpace
    >>> from tasks.base import Objective, Result
    >>> class FirstGuess(Optimizer):
    ...     supports = frozenset()
    ...     def ask(self):
    ...         return Trial(dict(self.problem.space.get_default_configuration()))
    ...     def tell(self, trial, result):
    ...         pass
    >>> space = ConfigurationSpace({"x": (0.0, 1.0)}, seed=0)
    >>> opt = FirstGuess(Problem(space, (Objective("y"),), None, Budget(n_trials=3)), seed=0)
    >>> opt.ask().config
    {'x': 0.5}
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ConfigSpace import ConfigurationSpace

from optimizers.budget import Budget as Budget  # re-exported: part of the optimizer contract
from optimizers.params import params_problem, signature_params
from tasks.base import Fidelity, Objective, Result

#: Capability flags an optimizer may declare in :attr:`Optimizer.supports`.
CAPABILITIES = frozenset({"multi_fidelity", "multi_objective"})


@dataclass(frozen=True)
class Problem:
    """Everything an optimizer may know about the task it optimizes.

    Example:
        >>> from ConfigSpace import ConfigurationSpace
        >>> p = Problem(ConfigurationSpace({"x": (0.0, 1.0)}), (Objective("y"),), None,
        ...             Budget(10))
        >>> p.is_multi_objective, p.is_multi_fidelity
        (False, False)
    """

    space: ConfigurationSpace
    objectives: tuple[Objective, ...]
    fidelity: Fidelity | None
    budget: Budget

    @property
    def is_multi_objective(self) -> bool:
        return len(self.objectives) > 1

    @property
    def is_multi_fidelity(self) -> bool:
        return self.fidelity is not None


@dataclass(slots=True)
class Trial:
    """One suggestion: a configuration and, for multi-fidelity tasks, a fidelity.

    ``fidelity=None`` on a multi-fidelity task means "the highest fidelity".
    ``meta`` lets an optimizer attach its own bookkeeping (e.g. a bracket id);
    the runner passes the same object back to :meth:`Optimizer.tell`.

    Example:
        >>> Trial({"x": 0.5}).fidelity is None
        True
    """

    config: dict[str, Any]
    fidelity: float | None = None
    meta: dict[str, Any] = field(default_factory=dict)


class SearchExhausted(Exception):
    """Raised by :meth:`Optimizer.ask` when the optimizer has nothing left to propose.

    For example, a model-based method that evaluates each configuration once has
    tried every point of a small finite (tabular) grid. The runner ends the run
    normally (status ``ok``) with the budget it used, and records the reason.

    Example:
        >>> raise SearchExhausted("all 36 grid points evaluated")
        Traceback (most recent call last):
        ...
        optimizers.base.SearchExhausted: all 36 grid points evaluated
    """


class WaitForPending(Exception):
    """Raised by :meth:`Optimizer.ask` when nothing can be proposed until pending trials finish.

    Synchronous methods (Successive Halving, Hyperband) cannot promote a rung
    before every trial of it was told. Under several simulated workers the
    runner then leaves the asking worker idle until the next trial completes
    and asks again. In the sequential runner every trial is told before the
    next ask, so an optimizer raising it there is a bug (the run crashes).

    Example:
        >>> raise WaitForPending("rung 0 of bracket 2: 3 of 9 trials pending")
        Traceback (most recent call last):
        ...
        optimizers.base.WaitForPending: rung 0 of bracket 2: 3 of 9 trials pending
    """


class Optimizer(ABC):
    """Base class of every optimizer: thin on purpose.

    Subclasses declare :attr:`supports` (a subset of :data:`CAPABILITIES`) and
    implement :meth:`ask` and :meth:`tell`. Keyword ``params`` come from the
    optimizer's YAML under ``conf/optimizer/``. All randomness must flow from
    ``seed``.

    Subclasses that cannot represent some search spaces faithfully override
    :meth:`check_space` and return the reason, so the planner can refuse the
    pair up front instead of silently flattening the space.

    Two declarations let the planner refuse a bad optimizer before any run:

    * :attr:`requires` / :attr:`extra`: the optional libraries it imports and the
      extra of this package that installs them (see :meth:`missing_requirement`);
    * the params it accepts (see :meth:`accepted_params`): read from ``__init__``'s
      signature, or, when ``__init__`` collects ``**params``, declared in
      :attr:`param_types` or read lazily from the library callable named in
      :attr:`params_from`.

    An adapter of a third-party library also names it in :attr:`library`, so every run
    records the library's version; it converts the space itself, with the shared helpers
    of :mod:`optimizers.space_conversion`.

    Example:
        >>> class Tuned(Optimizer):
        ...     requires = ("no_such_library_xyz",)
        ...     extra = "xyz"
        ...     def __init__(self, problem: Problem, seed: int, eta: int = 3) -> None:
        ...         super().__init__(problem, seed, eta=eta)
        ...     def ask(self) -> Trial: ...
        ...     def tell(self, trial: Trial, result: Result) -> None: ...
        >>> Tuned.check_params({"eta": "three"})
        "Tuned parameter eta='three' is invalid: expected an integer"
        >>> Tuned.missing_requirement()
        "Tuned needs module 'no_such_library_xyz', which is not installed: pip install 'nxm-bench[xyz]'"
    """

    supports: ClassVar[frozenset[str]] = frozenset()
    #: True for methods that only make sense with a fidelity axis (SH, Hyperband, ...).
    requires_fidelity: ClassVar[bool] = False
    #: True when the method ignores its seed by design (e.g. grid search); the contract suite
    #: then skips its different-seeds-give-different-trials check.
    deterministic: ClassVar[bool] = False
    #: True when :meth:`ask` may be called again before earlier trials were told (several
    #: outstanding trials, e.g. simulated parallel workers): each ask then proposes a new trial
    #: or raises :class:`WaitForPending`. Only such optimizers are planned with ``n_workers > 1``.
    supports_pending: ClassVar[bool] = False
    #: Import names of the optional libraries the optimizer needs; checked (never imported)
    #: when a study is planned, so a missing library is named before any run starts.
    requires: ClassVar[tuple[str, ...]] = ()
    #: The extra of this package that installs :attr:`requires` (``pip install 'nxm-bench[<extra>]'``).
    extra: ClassVar[str | None] = None
    #: How to install :attr:`requires` where the extra alone is not enough (``None``: the extra).
    install_hint: ClassVar[str | None] = None
    #: The distribution (PyPI name, e.g. ``"scikit-optimize"``) of the library an adapter wraps;
    #: each run records its version in its metadata, so results name the library release that
    #: made them. ``None`` for optimizers implemented here. Set it on an adapter family's base class.
    library: ClassVar[str | None] = None
    #: The params ``__init__`` collects in ``**params`` (name → type annotation); ``None`` when
    #: they are read from :attr:`params_from`, or not declared (then any name is accepted).
    param_types: ClassVar[Mapping[str, Any] | None] = None
    #: ``"module:callable"`` that receives ``**params`` (a library class); its signature gives
    #: the accepted names. Imported only when the optimizer is planned.
    params_from: ClassVar[str | None] = None
    #: Names the adapter passes itself (e.g. the library's seed): name → where the value comes from.
    reserved_params: ClassVar[Mapping[str, str]] = {}

    def __init__(self, problem: Problem, seed: int, **params: Any) -> None:
        self.problem = problem
        self.seed = int(seed)
        self.params: Mapping[str, Any] = params

    @abstractmethod
    def ask(self) -> Trial:
        """Propose the next trial."""

    @abstractmethod
    def tell(self, trial: Trial, result: Result) -> None:
        """Receive the result of a trial previously returned by :meth:`ask`."""

    @classmethod
    def check_space(cls, space: ConfigurationSpace) -> str | None:
        """Return why ``space`` cannot be handled faithfully, or ``None`` if it can."""
        return None

    @classmethod
    def incompatibility(cls, problem: Problem) -> str | None:
        """Why this optimizer cannot run ``problem``, or ``None`` when it can."""
        if problem.is_multi_objective and "multi_objective" not in cls.supports:
            return f"{cls.__name__} is single-objective but the task has {len(problem.objectives)} objectives"
        if cls.requires_fidelity and not problem.is_multi_fidelity:
            return f"{cls.__name__} is multi-fidelity only but the task has no fidelity axis"
        return cls.check_space(problem.space)

    @classmethod
    def import_requirements(cls) -> None:
        """Import the libraries of :attr:`requires` (a worker process does it once, when it starts,
        so their import time is not counted in its first run); ``ImportError`` if one is missing.

        Example:
            >>> Optimizer.import_requirements()  # the base class requires nothing
        """
        for module in cls.requires:
            importlib.import_module(module)

    @classmethod
    def missing_requirement(cls) -> str | None:
        """Why the optimizer cannot run here (a library of :attr:`requires` is not installed),
        or ``None``. Looks modules up without importing them.

        Example:
            >>> Optimizer.missing_requirement() is None
            True
        """
        missing = [m for m in cls.requires if not _installed(m)]
        if not missing:
            return None
        how = cls.install_hint or (
            f"pip install 'nxm-bench[{cls.extra}]'" if cls.extra else "pip install " + " ".join(missing)
        )
        what = ", ".join(repr(m) for m in missing)
        return (
            f"{cls.__name__} needs module{'s' if len(missing) > 1 else ''} {what}, which "
            f"{'are' if len(missing) > 1 else 'is'} not installed: {how}"
        )

    @classmethod
    def accepted_params(cls) -> dict[str, Any] | None:
        """The params this optimizer accepts (name → type annotation, ``Any`` if unknown), or
        ``None`` when any name is accepted (``**params`` with nothing declared).

        Example:
            >>> from optimizers.hyperband import Hyperband
            >>> sorted(Hyperband.accepted_params())
            ['eta', 'max_fidelity', 'min_fidelity']
        """
        own, takes_kwargs = signature_params(cls.__init__, skip=("self", "problem", "seed"))
        if not takes_kwargs:
            return own
        if cls.param_types is not None:
            return {**own, **cls.param_types}
        if cls.params_from:
            target = load_callable(cls.params_from)
            forwarded, open_ended = signature_params(target, skip=("self", *cls.reserved_params))
            return None if open_ended else {**own, **forwarded}
        return None

    @classmethod
    def check_params(cls, params: Mapping[str, Any]) -> str | None:
        """Why ``params`` (the YAML's) cannot configure this optimizer, or ``None``.

        Called by the planner, so an unknown name or a value of the wrong type is refused
        before any run instead of crashing each one. The default checks names and simple
        type annotations against :meth:`accepted_params`; adapters may add library checks.

        Example:
            >>> from optimizers.hyperband import Hyperband
            >>> Hyperband.check_params({"etta": 3})
            "Hyperband has no parameter 'etta': did you mean 'eta'? (valid: eta, max_fidelity, min_fidelity)"
        """
        reserved = {k: v for k, v in cls.reserved_params.items() if k in params}
        accepted = cls.accepted_params()
        if accepted is None:
            return params_problem(params, dict.fromkeys(params, Any), cls.__name__, reserved)
        return params_problem(params, accepted, cls.__name__, cls.reserved_params)


def load_callable(path: str) -> Any:
    """The object named by ``"module:attribute"``, importing the module (a library class that an
    adapter names as data, e.g. :attr:`Optimizer.params_from` or a searcher to build).

    Example:
        >>> load_callable("optimizers.budget:Budget").__name__
        'Budget'
    """
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


#: Import names whose distribution is named otherwise (``import sklearn`` comes from scikit-learn).
#: A run records the version of every module in its optimizer's :attr:`Optimizer.requires` under the
#: distribution's name; this spares the search over every installed distribution (about 0.5 s per
#: process) for the common ones.
DISTRIBUTION_OF_MODULE: Mapping[str, str] = {
    "sklearn": "scikit-learn",
    "skopt": "scikit-optimize",
    "bayes_opt": "bayesian-optimization",
}


def _installed(module: str) -> bool:
    """Whether ``module`` can be imported, found without importing it (parents excepted)."""
    if module in sys.modules:
        return sys.modules[module] is not None  # None there means "import blocked"
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a missing parent package, or a finder that refuses it
        return False
