"""The optimizer contract suite: checks every optimizer, built-in or adapter, must pass.

:func:`check_optimizer` runs an optimizer class on small built-in
tasks through a plain ask → evaluate → tell loop and checks that

* every suggested configuration is valid for the space (bounds, choices,
  conditions, forbidden clauses) and made of plain JSON-ready scalars,
* fidelities are ``None`` on tasks without a fidelity axis and admissible
  (inside the range, one of ``Fidelity.values`` if discrete) otherwise,
* ``tell`` accepts every result, and the task's space is left unchanged,
* the same seed gives the identical sequence of trials, even when the global
  ``random`` / ``numpy.random`` state differs, and
* two seeds give different sequences (unless the class sets ``deterministic = True``).

Only the tasks the optimizer declares it can handle are run (see
:func:`applicable_tasks`): multi-fidelity and multi-objective tasks follow
``supports`` / ``requires_fidelity``, and spaces with conditions, forbidden
clauses or ordinals follow :meth:`~optimizers.base.Optimizer.check_space`.
The suite does not depend on the runner, so a plugin author can run it alone on a class;
:func:`bench.contract.check_optimizer` runs it on a registered optimizer id (its YAML's
parameters merged in).

Example:
    >>> from optimizers.random_search import RandomSearch
    >>> report = check_optimizer(RandomSearch, n_trials=5)
    >>> "contract/mixed" in report.checked
    True
"""

from __future__ import annotations

import contextlib
import copy
import math
import random
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from ConfigSpace import (
    CategoricalHyperparameter,
    ConfigurationSpace,
    Constant,
    EqualsCondition,
    Float,
    ForbiddenAndConjunction,
    ForbiddenEqualsClause,
    Integer,
    OrdinalHyperparameter,
)
from ConfigSpace.hyperparameters import NumericalHyperparameter

from optimizers.base import Budget, Optimizer, Problem, Trial
from optimizers.sampling import validate
from tasks.base import Fidelity, Objective, Result, Task, TaskMeta, task_type


class ContractError(AssertionError):
    """An optimizer broke the contract; the message names the optimizer, task and trial."""


# ----------------------------------------------------------------------------- tiny tasks


def _encoder(hp: Any) -> Callable[[Any], float]:
    """Maps a value of ``hp`` to [0, 1] so one formula scores any space."""
    if isinstance(hp, NumericalHyperparameter):
        lo, hi = float(hp.lower), float(hp.upper)
        if hp.log:
            lo_l, span_l = math.log(lo), math.log(hi) - math.log(lo)
            return lambda v: (math.log(v) - lo_l) / span_l
        return lambda v: (float(v) - lo) / (hi - lo)
    if isinstance(hp, CategoricalHyperparameter | OrdinalHyperparameter):
        options = list(hp.choices if isinstance(hp, CategoricalHyperparameter) else hp.sequence)
        return lambda v: options.index(v) / max(1, len(options) - 1)
    return lambda v: 0.0  # constants carry no signal


class ContractTask(Task):
    """A small deterministic task on any space, used by the contract suite.

    The first objective is a shifted sphere over the values scaled to [0, 1]
    plus a penalty that shrinks as the fidelity grows; the optional second
    objective is maximized, so direction handling gets exercised too.

    Example:
        >>> task = ContractTask("contract/x", ConfigurationSpace({"x": (0.0, 1.0)}, seed=0))
        >>> task.evaluate({"x": 0.3}).values
        (0.0,)
    """

    def __init__(
        self,
        task_id: str,
        space: ConfigurationSpace,
        n_objectives: int = 1,
        fidelity: Fidelity | None = None,
    ) -> None:
        if n_objectives not in (1, 2):
            raise ValueError(f"n_objectives must be 1 or 2, got {n_objectives}")
        self.id = task_id
        self.space = space
        self.objectives = (Objective("loss"), Objective("score", minimize=False))[:n_objectives]
        self.fidelity = fidelity
        self.meta = TaskMeta(
            family="contract",
            type=task_type(n_objectives, fidelity),
            kind="synthetic",
            dims=len(space),
            description="small task of the optimizer contract suite",
        )
        self._encoders = {name: _encoder(hp) for name, hp in space.items()}

    def evaluate(self, config: Mapping[str, Any], fidelity: float | None = None, seed: int = 0) -> Result:
        scaled = [self._encoders[name](value) for name, value in sorted(config.items())]
        loss = sum((u - 0.3) ** 2 for u in scaled)
        if self.fidelity is not None and fidelity is not None:
            loss += 0.5 * (1.0 - self.fidelity.fraction(fidelity))
        values = (loss, sum(1.0 - (u - 0.8) ** 2 for u in scaled))
        return Result(values[: len(self.objectives)], cost=1.0 if fidelity is None else float(fidelity))


def _mixed_space() -> ConfigurationSpace:
    space = ConfigurationSpace(seed=0)
    space.add(
        Float("x0", (-5.0, 5.0)),
        Float("x1", (0.0, 1.0)),
        Integer("n", (1, 10)),
        Float("lr", (1e-4, 1.0), log=True),
        CategoricalHyperparameter("c", ["a", "b", "c"]),
    )
    return space


def _continuous_space() -> ConfigurationSpace:
    space = ConfigurationSpace(seed=0)
    space.add(Float("x0", (-5.0, 5.0)), Float("x1", (-5.0, 5.0)), Float("lr", (1e-4, 1.0), log=True))
    return space


def _ordinal_space() -> ConfigurationSpace:
    space = ConfigurationSpace(seed=0)
    space.add(
        Float("x", (0.0, 1.0)),
        Integer("units", (8, 512), log=True),
        OrdinalHyperparameter("size", ["small", "medium", "large"]),
        Constant("solver", "adam"),
    )
    return space


def conditional_space() -> ConfigurationSpace:
    """A space with a conditional pair (alpha only for linear, depth only for tree) and a
    forbidden clause (tree with exact mode): the hardest features adapters must handle.

    Example:
        >>> len(conditional_space().conditions), len(conditional_space().forbidden_clauses)
        (2, 1)
    """
    space = ConfigurationSpace(seed=0)
    kind = CategoricalHyperparameter("kind", ["linear", "tree"])
    alpha = Float("alpha", (1e-3, 10.0), log=True)
    depth = Integer("depth", (1, 8))
    mode = CategoricalHyperparameter("mode", ["fast", "exact"])
    space.add(kind, alpha, depth, mode, Float("x", (0.0, 1.0)))
    space.add(EqualsCondition(alpha, kind, "linear"), EqualsCondition(depth, kind, "tree"))
    space.add(
        ForbiddenAndConjunction(ForbiddenEqualsClause(kind, "tree"), ForbiddenEqualsClause(mode, "exact"))
    )
    return space


def contract_tasks() -> list[ContractTask]:
    """The tasks of the suite: every space feature and task type, each in miniature.

    Example:
        >>> sorted({t.meta.type for t in contract_tasks()})
        ['bb', 'mf', 'mfmo', 'mo']
    """
    continuous_fidelity = Fidelity("epochs", 1.0, 9.0)
    discrete_fidelity = Fidelity("epochs", 1.0, 10.0, values=(1.0, 2.0, 5.0, 10.0))
    return [
        ContractTask("contract/continuous", _continuous_space()),
        ContractTask("contract/mixed", _mixed_space()),
        ContractTask("contract/ordinal-constant", _ordinal_space()),
        ContractTask("contract/conditional-forbidden", conditional_space()),
        ContractTask("contract/mf-continuous", _mixed_space(), fidelity=continuous_fidelity),
        ContractTask("contract/mf-discrete", _mixed_space(), fidelity=discrete_fidelity),
        ContractTask("contract/mf-conditional", conditional_space(), fidelity=continuous_fidelity),
        ContractTask("contract/mo", _mixed_space(), n_objectives=2),
        ContractTask("contract/mfmo", _mixed_space(), n_objectives=2, fidelity=continuous_fidelity),
    ]


# ----------------------------------------------------------------------------- the suite


@dataclass(frozen=True)
class ContractReport:
    """What :func:`check_optimizer` ran: task ids checked, and (task id, reason) pairs not applicable."""

    optimizer: str
    checked: tuple[str, ...]
    not_applicable: tuple[tuple[str, str], ...]


@contextlib.contextmanager
def _global_rng_state(seed: int) -> Iterator[None]:
    """Set the global RNGs to ``seed`` (then restore them): optimizers must not depend on them."""
    np_state, py_state = np.random.get_state(), random.getstate()
    np.random.seed(seed)
    random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(np_state)
        random.setstate(py_state)


TraceItem = tuple[dict[str, Any], float | None]


def _check_trial(name: str, task: Task, k: int, trial: Any) -> None:
    where = f"{name} on {task.id}, trial {k}"
    if not isinstance(trial, Trial):
        raise ContractError(f"{where}: ask() returned {type(trial).__name__}, expected optimizers.base.Trial")
    if not isinstance(trial.config, dict):
        raise ContractError(f"{where}: Trial.config is {type(trial.config).__name__}, expected dict")
    if not isinstance(trial.meta, dict):
        raise ContractError(f"{where}: Trial.meta is {type(trial.meta).__name__}, expected dict")
    try:
        validate(task.space, trial.config)
    except ValueError as exc:
        raise ContractError(f"{where}: {exc}") from None
    f = trial.fidelity
    if task.fidelity is None:
        if f is not None:
            raise ContractError(f"{where}: fidelity {f!r} proposed for a task without a fidelity axis")
        return
    if f is None:
        return  # None means the highest fidelity
    if isinstance(f, bool) or not isinstance(f, int | float) or not task.fidelity.contains(f):
        allowed = task.fidelity.values or f"[{task.fidelity.low}, {task.fidelity.high}]"
        raise ContractError(f"{where}: fidelity {f!r} is not admissible; valid: {allowed}")


def iter_trials(
    cls: type[Optimizer],
    params: Mapping[str, Any],
    task: Task,
    seed: int,
    n_trials: int,
    name: str | None = None,
) -> Iterator[TraceItem]:
    """Construct the optimizer and run up to ``n_trials`` checked ask → evaluate → tell steps.

    Yields the (config, fidelity) of each trial, so a caller may stop early.
    ``ImportError`` from constructing the optimizer (a missing optional library)
    propagates unchanged.

    Example:
        >>> from optimizers.random_search import RandomSearch
        >>> task = contract_tasks()[0]
        >>> len(list(iter_trials(RandomSearch, {}, task, seed=0, n_trials=3)))
        3
    """
    name = name or cls.__name__
    problem = Problem(task.space, task.objectives, task.fidelity, Budget(n_trials=n_trials))
    space_before = copy.deepcopy(task.space)
    try:
        opt = cls(problem, seed, **params)
    except ImportError:
        raise
    except Exception as exc:
        raise ContractError(f"{name} on {task.id}: constructing it raised {exc!r}") from exc
    for k in range(n_trials):
        if task.space != space_before:
            raise ContractError(f"{name} on {task.id}: the optimizer modified the task's search space")
        try:
            trial = opt.ask()
        except Exception as exc:
            raise ContractError(f"{name} on {task.id}, trial {k}: ask() raised {exc!r}") from exc
        _check_trial(name, task, k, trial)
        # A deep copy: an optimizer that later mutates the dict it returned must not fake determinism.
        item = (copy.deepcopy(trial.config), trial.fidelity)
        result = task.evaluate(trial.config, trial.fidelity, seed=k)
        try:
            opt.tell(trial, result)
        except Exception as exc:
            raise ContractError(f"{name} on {task.id}, trial {k}: tell() raised {exc!r}") from exc
        yield item
    if task.space != space_before:
        raise ContractError(f"{name} on {task.id}: the optimizer modified the task's search space")


def check_task(
    cls: type[Optimizer], params: Mapping[str, Any], task: Task, n_trials: int = 12, name: str | None = None
) -> None:
    """All contract checks of one optimizer on one task; raises :class:`ContractError`.

    Example:
        >>> from optimizers.random_search import RandomSearch
        >>> check_task(RandomSearch, {}, contract_tasks()[1], n_trials=4)
    """
    name = name or cls.__name__
    with _global_rng_state(1):
        first = list(iter_trials(cls, params, task, 0, n_trials, name))
    with _global_rng_state(2):
        again = list(iter_trials(cls, params, task, 0, n_trials, name))
    if first != again:
        k = next(i for i, (a, b) in enumerate(zip(first, again, strict=True)) if a != b)
        raise ContractError(
            f"{name} on {task.id}: not deterministic: seed 0 gave {first[k]!r} then {again[k]!r} "
            f"at trial {k} (draw every random number from the seed, not the global RNGs)"
        )
    if getattr(cls, "deterministic", False):
        return
    # Stop at the first difference: most optimizers differ at once, and slow ones are spared a full run.
    other = iter_trials(cls, params, task, 1, n_trials, name)
    if all(a == b for a, b in zip(other, first, strict=True)):
        raise ContractError(
            f"{name} on {task.id}: seeds 0 and 1 gave the same {n_trials} trials; the seed is "
            "ignored (set `deterministic = True` on the class if that is by design)"
        )


def applicable_tasks(cls: type[Optimizer], n_trials: int = 12) -> tuple[list[Task], list[tuple[str, str]]]:
    """The contract tasks to run ``cls`` on, and (task id, reason) for the others.

    Multi-fidelity and multi-objective tasks are run only by optimizers that
    declare the capability (a black-box optimizer on a multi-fidelity task just
    gets the highest fidelity from the runner); ``contract/continuous`` only when
    ``contract/mixed`` is refused, as a fallback for continuous-only methods.

    Example:
        >>> from optimizers.random_search import RandomSearch
        >>> tasks, _ = applicable_tasks(RandomSearch)
        >>> "contract/continuous" in [t.id for t in tasks]
        False
    """
    run: list[Task] = []
    skipped: list[tuple[str, str]] = []
    for task in contract_tasks():
        problem = Problem(task.space, task.objectives, task.fidelity, Budget(n_trials=n_trials))
        reason = cls.incompatibility(problem)
        if reason is None and problem.is_multi_fidelity and "multi_fidelity" not in cls.supports:
            reason = f"{cls.__name__} does not declare multi_fidelity"
        if reason is None and problem.is_multi_objective and "multi_objective" not in cls.supports:
            reason = f"{cls.__name__} does not declare multi_objective"
        if (
            reason is None
            and task.id == "contract/continuous"
            and cls.incompatibility(Problem(_mixed_space(), task.objectives, None, problem.budget)) is None
        ):
            reason = "covered by contract/mixed"
        if reason is None:
            run.append(task)
        else:
            skipped.append((task.id, reason))
    return run, skipped


def check_optimizer(
    optimizer: type[Optimizer],
    params: Mapping[str, Any] | None = None,
    n_trials: int = 12,
    name: str | None = None,
) -> ContractReport:
    """Run the whole contract suite on an optimizer class, constructed with ``params``.

    ``name`` (default: the class name) is what the report and the error messages call it; an
    optimizer id, with its YAML's parameters, is checked by :func:`bench.contract.check_optimizer`.
    Raises :class:`ContractError` on the first violation, ``ImportError`` when
    the optimizer's library is not installed.

    Example:
        >>> from optimizers.hyperband import Hyperband
        >>> report = check_optimizer(Hyperband, {"eta": 3}, n_trials=13)
        >>> report.checked
        ('contract/mf-continuous', 'contract/mf-discrete', 'contract/mf-conditional')
    """
    if n_trials < 2:
        raise ValueError(f"n_trials must be >= 2 to compare sequences, got {n_trials}")
    if not (isinstance(optimizer, type) and issubclass(optimizer, Optimizer)):
        raise ValueError(
            f"optimizer must be an Optimizer subclass, got {optimizer!r} "
            "(an optimizer id is checked by bench.contract.check_optimizer)"
        )
    name = name or optimizer.__name__
    tasks, skipped = applicable_tasks(optimizer, n_trials)
    if not tasks:
        raise ContractError(
            f"{name} accepts none of the contract tasks: "
            + "; ".join(f"{tid}: {why}" for tid, why in skipped)
        )
    for task in tasks:
        check_task(optimizer, dict(params or {}), task, n_trials, name)
    return ContractReport(name, tuple(t.id for t in tasks), tuple(skipped))
