"""The checks every task family and optimizer must pass, importable by any plugin author.

:func:`check_task_family` builds a family's tasks and checks that each id builds a task whose id,
metadata, space, objectives and fidelity agree; that a sample of its tasks evaluates at random
configurations and at the fidelity bounds, deterministically, to real numbers at the highest
fidelity, and survives pickling; and that an unknown id is a ``ValueError`` naming it. It reports
every problem it finds instead of stopping at the first, so one run shows all that is wrong.
:func:`check_task` runs the per-task checks alone; :func:`check_optimizer` is the optimizer
contract suite by optimizer id or class (see :mod:`bench.contract`).

The project's own test suite runs these on every registered family and optimizer; a plugin's
tests can do the same:

    def test_my_family() -> None:
        report = check_task_family("my-family")
        assert report.ok, "\\n".join(report.lines())

Example:
    >>> report = check_task_family("synthetic", max_tasks=2)
    >>> report.ok, len(report.checked)
    (True, 2)
    >>> report.lines()[0]
    "task family 'synthetic': 2 tasks checked, all pass"
"""

from __future__ import annotations

import copy
import math
import pickle
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

from ConfigSpace import ConfigurationSpace

from bench.config_files import unknown
from bench.contract import check_optimizer
from bench.registry import task_families
from tasks.base import Objective, Result, Task, TaskFamily, task_type
from tasks.vocabulary import TASK_KINDS

__all__ = ["FamilyReport", "check_optimizer", "check_task", "check_task_family"]

#: The seed every check passes to ``evaluate`` (any fixed seed would do: it is compared to itself).
EVAL_SEED = 7
#: Longest text of a configuration or value quoted in a problem (a report line stays readable).
_QUOTE = 120
#: Passing task ids a report lists by name (a whole catalog would bury the failures).
_LISTED = 20


@dataclass
class FamilyReport:
    """What :func:`check_task_family` found for one family.

    Attributes:
        family: the family's name.
        checked: the task ids that were built and checked, in order.
        failures: ``(task id, reason)`` pairs, one line each; the id is ``"family"`` for a
            problem of the family itself (its id list, its answer to an unknown id).
        unavailable: why the family cannot be used here (a missing extra or data folder), in
            which case nothing was checked; ``None`` when it is available.

    Example:
        >>> report = FamilyReport("demo", ["demo/a"], [("demo/a", "evaluate raised ValueError: x")])
        >>> report.ok
        False
        >>> print("\\n".join(report.lines()))
        task family 'demo': 1 task checked, 1 failure
          FAIL  demo/a: evaluate raised ValueError: x
        >>> FamilyReport("demo", ["demo/a", "demo/b"]).lines()
        ["task family 'demo': 2 tasks checked, all pass", '  pass  demo/a', '  pass  demo/b']
    """

    family: str
    checked: list[str] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)
    unavailable: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the family was checked (it is available here) and every check passed."""
        return self.unavailable is None and not self.failures

    def lines(self) -> list[str]:
        """The report as printable lines: a summary, then each failure, then each passing id."""
        if self.unavailable is not None:
            return [f"task family {self.family!r}: unavailable here, nothing checked: {self.unavailable}"]
        n, k = len(self.checked), len(self.failures)
        verdict = "all pass" if not k else f"{k} failure{'s' * (k != 1)}"
        out = [f"task family {self.family!r}: {n} task{'s' * (n != 1)} checked, {verdict}"]
        out += [f"  FAIL  {where}: {why}" for where, why in self.failures]
        failed = {where for where, _ in self.failures}
        passed = [tid for tid in self.checked if tid not in failed]
        out += [f"  pass  {tid}" for tid in passed[:_LISTED]]
        if len(passed) > _LISTED:
            out.append(f"  pass  ... and {len(passed) - _LISTED} more")
        return out


# ----------------------------------------------------------------------------- one task


def _quote(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _QUOTE else text[: _QUOTE - 3] + "..."


def _raised(exc: BaseException) -> str:
    """One line for an exception (messages may span lines; a report line may not)."""
    return f"{type(exc).__name__}: {' '.join(str(exc).split())}"


def static_problems(task: Task) -> list[str]:
    """What is wrong with ``task`` without evaluating it: its metadata must agree with its id,
    objectives, fidelity and space.

    Example:
        >>> from tasks.synthetic import Branin
        >>> static_problems(Branin())
        []
    """
    problems: list[str] = []
    for attr in ("id", "space", "objectives", "fidelity", "meta"):
        if not hasattr(task, attr):
            return [f"the task has no attribute {attr!r} (set it in __init__)"]
    if not isinstance(task.space, ConfigurationSpace):
        return [f"space is a {type(task.space).__name__}, not a ConfigSpace.ConfigurationSpace"]
    family = task.id.split("/", 1)[0]
    if not task.objectives or not all(isinstance(o, Objective) and o.name for o in task.objectives):
        problems.append(
            f"objectives must be a non-empty tuple of named Objective, got {_quote(task.objectives)}"
        )
    meta = task.meta
    if meta.family != family:
        problems.append(f"meta.family is {meta.family!r} but the id's first component is {family!r}")
    expected = task_type(len(task.objectives), task.fidelity)
    if meta.type != expected:
        problems.append(
            f"meta.type is {meta.type!r} but {len(task.objectives)} objective(s) and "
            f"{'a' if task.fidelity else 'no'} fidelity make {expected!r}"
        )
    if meta.kind not in TASK_KINDS:
        problems.append(f"meta.kind is {meta.kind!r}, not one of {', '.join(TASK_KINDS)}")
    n_params = len(list(task.space.values()))
    if n_params == 0:
        problems.append("the space has no hyperparameters")
    elif meta.dims != n_params:
        problems.append(f"meta.dims is {meta.dims} but the space has {n_params} hyperparameters")
    if meta.optimum is not None and len(meta.optimum) != len(task.objectives):
        problems.append(
            f"meta.optimum has {len(meta.optimum)} values for {len(task.objectives)} objective(s)"
        )
    for name in meta.libraries:  # every run records these versions: a wrong name, silently
        try:
            metadata.version(name)
        except metadata.PackageNotFoundError:
            problems.append(
                f"meta.libraries names {name!r}, which is not an installed distribution: name each "
                "library by its distribution (PyPI) name, e.g. 'scikit-learn' for import sklearn"
            )
    fid = task.fidelity
    if fid is not None:
        if not 0 < fid.low <= fid.high:
            problems.append(f"fidelity {fid.name!r} needs 0 < low <= high, got {fid.low}, {fid.high}")
        if fid.values is not None and not fid.contains(fid.high):
            problems.append(f"fidelity {fid.name!r}: high={fid.high} is not one of its values")
    return problems


def _same(a: Sequence[float], b: Sequence[float]) -> bool:
    """Equal values, NaN equal to NaN (a task may report a diverged run as NaN, every time)."""
    return tuple(a) == tuple(b) or (
        len(a) == len(b)
        and all(x == y or (math.isnan(x) and math.isnan(y)) for x, y in zip(a, b, strict=True))
    )


def _evaluation_problems(task: Task, rng: random.Random) -> list[str]:
    """Evaluate the default and two random configurations at each fidelity bound, twice each."""
    space = copy.deepcopy(task.space)  # seeding the task's own space would change its samples
    space.seed(rng.randrange(2**31))
    fidelities: list[float | None] = [None]
    if task.fidelity is not None:
        f = task.fidelity
        fidelities = [f.high, f.values[0] if f.values else f.low]
    configs = [dict(space.get_default_configuration()), *(dict(c) for c in space.sample_configuration(2))]
    for config in configs:
        for fid in fidelities:
            call = f"evaluate({_quote(config)}, fidelity={fid}, seed={EVAL_SEED})"
            try:
                res = task.evaluate(config, fid, EVAL_SEED)
                again = task.evaluate(config, fid, EVAL_SEED)
            except Exception as exc:
                return [f"{call} raised {_raised(exc)}"]
            if not isinstance(res, Result):
                return [f"{call} returned a {type(res).__name__}, not a tasks.base.Result"]
            if len(res.values) != len(task.objectives):
                return [f"{call} returned {len(res.values)} values for {len(task.objectives)} objective(s)"]
            if not all(isinstance(v, float) for v in res.values):
                return [
                    f"{call} returned values of types {[type(v).__name__ for v in res.values]}, not float"
                ]
            if not (isinstance(res.cost, int | float) and res.cost >= 0 and math.isfinite(res.cost)):
                return [f"{call} returned cost={_quote(res.cost)}: need a finite number >= 0 (seconds)"]
            if not _same(again.values, res.values):
                return [f"{call} is not deterministic: {_quote(res.values)} then {_quote(again.values)}"]
            if fid == fidelities[0] and not all(math.isfinite(v) for v in res.values):
                return [
                    f"{call} returned {_quote(res.values)}: at the highest fidelity every value "
                    "must be a finite number"
                ]
    return []


def _pickle_problems(task: Task) -> list[str]:
    """A task travels to worker processes pickled: the copy must evaluate like the original."""
    config = dict(task.space.get_default_configuration())
    fid = task.fidelity.high if task.fidelity else None
    try:
        clone = pickle.loads(pickle.dumps(task))
    except Exception as exc:
        return [f"pickling the task failed: {_raised(exc)}"]
    try:
        same = clone.evaluate(config, fid, 3).values == task.evaluate(config, fid, 3).values
    except Exception as exc:
        return [f"evaluating the unpickled task raised {_raised(exc)}"]
    return [] if same else ["the unpickled task evaluates the default configuration differently"]


def check_task(task: Task, seed: int = 0) -> list[str]:
    """Every problem of one task, one line each (empty when it passes).

    Checks its metadata against its id, objectives, fidelity and space, then evaluates its
    default configuration and two random ones (drawn from ``seed``) at each end of its fidelity
    axis, twice each: results must be :class:`~tasks.base.Result` s with one float per objective,
    a finite cost >= 0, identical on the second call, and finite at the highest fidelity. Last, a
    pickled copy must evaluate like the original.

    Example:
        >>> from tasks.synthetic import Branin
        >>> check_task(Branin())
        []
    """
    problems = static_problems(task)
    if problems:
        return problems  # evaluating a task whose shape is wrong only adds noise
    return _evaluation_problems(task, random.Random(seed)) or _pickle_problems(task)


# ----------------------------------------------------------------------------- a family


def _family(family: str | TaskFamily) -> TaskFamily:
    if isinstance(family, TaskFamily):
        return family
    families = task_families()
    if family not in families:
        raise unknown("task family", family, families, hint="list them with: python -m bench list=tasks")
    return families[family]


def _guard(report: FamilyReport, where: str, check: Callable[[], list[str]]) -> bool:
    """Run ``check``, record its problems (or its exception) under ``where``; whether it passed."""
    try:
        problems = check()
    except Exception as exc:
        problems = [f"raised {_raised(exc)}"]
    report.failures += [(where, why) for why in problems]
    return not problems


def check_task_family(
    family: str | TaskFamily, max_tasks: int = 5, seed: int = 0, all_ids: bool = False
) -> FamilyReport:
    """Check a task family (a registered name or a :class:`~tasks.base.TaskFamily`): its id list,
    ``max_tasks`` of its tasks drawn from ``seed`` (all when it has fewer) through
    :func:`check_task`, and its answer to an unknown id.

    With ``all_ids=True`` every id is also built and its metadata checked (slow for families
    whose tasks fit a model when built). An unknown family name raises
    :class:`~bench.config_files.UnknownNameError` with a did-you-mean; an unavailable family gives
    a report that says why and checks nothing.

    Example:
        >>> report = check_task_family("bbob", max_tasks=3, seed=1)
        >>> report.ok, len(report.checked), report.failures
        (True, 3, [])
    """
    if max_tasks < 0:
        raise ValueError(f"max_tasks={max_tasks} is negative: give how many tasks to evaluate (0 or more)")
    fam = _family(family)
    name = fam.name if isinstance(family, TaskFamily) else family
    report = FamilyReport(name)
    reason = fam.unavailable_reason()
    if reason:
        report.unavailable = reason
        return report
    ids: list[str] = []

    def listing() -> list[str]:
        ids.extend(fam.ids())
        problems = [] if ids else ["ids() lists no tasks"]
        if len(set(ids)) != len(ids):
            problems.append(f"ids() lists {len(ids) - len(set(ids))} duplicate id(s)")
        strays = [i for i in ids if i.split("/", 1)[0] != name]
        if strays:
            problems.append(f"{len(strays)} id(s) do not start with '{name}/', e.g. {strays[0]!r}")
        return problems

    _guard(report, "family", listing)
    rng = random.Random(f"{name}/{seed}")
    sample = set(rng.sample(ids, min(max_tasks, len(ids))))
    for task_id in ids if all_ids else [i for i in ids if i in sample]:
        report.checked.append(task_id)

        def one(task_id: str = task_id) -> list[str]:
            task = fam.make(task_id)
            if task.id != task_id:
                return [f"make({task_id!r}) built a task whose id is {task.id!r}"]
            if task_id in sample:
                return check_task(task, seed=rng.randrange(2**31))
            return static_problems(task)

        _guard(report, task_id, one)
    _guard(report, "family", lambda: _unknown_id_problems(fam, name))
    return report


def _unknown_id_problems(fam: TaskFamily, name: str) -> list[str]:
    bad = f"{name}/nope"
    try:
        task = fam.make(bad)
    except ValueError as exc:
        if "nope" not in str(exc):
            return [f"make({bad!r}) raised a ValueError that does not name the id: {_raised(exc)}"]
        return []
    except Exception as exc:
        return [f"make({bad!r}) raised {_raised(exc)}, not a ValueError naming the id"]
    return [f"make({bad!r}) returned {task!r} instead of raising a ValueError naming the id"]
