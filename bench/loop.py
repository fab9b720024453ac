"""run_one(spec): the ask → evaluate → tell loop, owned by the runner.

The runner, not the optimizer, enforces the budget and records every
evaluation. Anything that goes wrong inside a run (the optimizer or the task
raises; a configuration outside the task's space; a result with the wrong number of
values, a non-finite value or a bad cost; an invalid fidelity) ends that run with status
``crashed`` and its traceback; a run past its ``trial_timeout`` or ``run_timeout``
ends with status ``timeout``; a ``SystemExit`` or ``KeyboardInterrupt`` raised inside a run
in a worker ends it with status ``died``. Either way the trials done so far are still
written. A run whose whole process dies is recorded by the main process
(:func:`record_failure`, bench/supervisor.py).

Example:
    >>> import tempfile
    >>> from pathlib import Path
    >>> from optimizers.base import Budget
    >>> spec = RunSpec(study="doc", task="synthetic/branin", optimizer="random_search",
    ...                optimizer_target="optimizers.random_search.RandomSearch",
    ...                optimizer_params={}, seed=0, budget=Budget(5))
    >>> out = run_one(spec, Path(tempfile.mkdtemp()))
    >>> out.status, out.n_trials
    ('ok', 5)
"""

from __future__ import annotations

import copy
import math
import os
import pickle
import platform
import socket
import sys
import threading
import time
import traceback
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache, partial
from importlib import metadata
from pathlib import Path
from typing import IO, Any

from ConfigSpace import ConfigurationSpace

from bench.blas_kernel import blas_kernel
from bench.installed import installed_version
from bench.registry import make_task, optimizer_class
from bench.results import TrialRecorder, write_run
from bench.run_context import apply_context
from bench.simulated_workers import simulated_loop
from bench.spec import RunSpec
from bench.time_limits import TimeLimitExceeded, TimeLimits
from bench.trial_checks import RunError, check_finite, check_result, config_checker, trial_fidelity
from optimizers.base import DISTRIBUTION_OF_MODULE, Budget, Optimizer, Problem, SearchExhausted
from tasks.base import Fidelity, Result, Task

__all__ = [
    "RunError",
    "RunOutcome",
    "TaskRevisionMismatch",
    "TimeLimitExceeded",
    "TimeLimits",
    "check_finite",
    "record_failure",
    "run_one",
    "run_path",
    "trial_fidelity",
]

Evaluate = Callable[[Any, "float | None", int], Result]


@dataclass(frozen=True)
class RunOutcome:
    """What a worker sends back to the main process: small and picklable."""

    run_id: str
    task: str
    optimizer: str
    seed: int
    status: str
    n_trials: int
    best: float | None
    duration: float
    error: str | None = None
    path: str | None = None


class TaskRevisionMismatch(ValueError):
    """The task a worker builds is another revision than the one its run was planned for."""


def run_path(output_dir: Path, spec: RunSpec) -> Path:
    """Where a run's file lives: ``<output_dir>/<study>/runs/<run_id>.parquet``."""
    return output_dir / spec.study / "runs" / f"{spec.run_id}.parquet"


def _versions(optimizer_cls: type[Optimizer] | None, task: Task | None = None) -> dict[str, str]:
    """The versions a run records: Python, this package, its core libraries, the adapter's
    library (its ``library`` ClassVar, so the runner knows no adapter by name), every library
    the adapter requires (``requires``: optuna_cmaes computes in ``cmaes``, optuna_gp in torch
    and scipy) and every library the task's values come from (``task.meta.libraries``: LCDB's
    data package, the scikit-learn of a surrogate), each under its distribution's name."""
    out = {"python": platform.python_version()}
    libs = ["nxm-bench", "numpy", "ConfigSpace", "coco-experiment"]
    if optimizer_cls is not None:  # None: the run failed before its class
        if optimizer_cls.library:
            libs.append(optimizer_cls.library)
        libs += [d for d in _required_distributions(optimizer_cls) if d not in libs]
    if task is not None:  # None: the run failed before its task
        libs += [d for d in task.meta.libraries if d not in libs]
    for name in libs:
        out[name] = installed_version(name)
    return out


@lru_cache(maxsize=128)
def _required_distributions(optimizer_cls: type[Optimizer]) -> tuple[str, ...]:
    """The distributions of the modules ``optimizer_cls`` requires, less its own library's."""
    own, out = optimizer_cls.library, []
    for module in optimizer_cls.requires:
        if own and (_normalized(module) == _normalized(own) or _provides(own, module)):
            continue  # the library itself (skopt is scikit-optimize's)
        dist = _distribution(module)
        if dist is not None and dist != own and dist not in out:
            out.append(dist)
    return tuple(out)


def _normalized(name: str) -> str:
    return name.lower().replace("-", "_")


def _provides(dist: str, module: str) -> bool:
    try:
        files = metadata.files(dist) or []
    except metadata.PackageNotFoundError:
        return False
    return any(f.parts[:1] == (module,) or f.parts[:1] == (f"{module}.py",) for f in files)


@lru_cache(maxsize=64)
def _distribution(module: str) -> str | None:
    """The installed distribution that provides the top-level module ``module`` (``bayes_opt`` →
    ``bayesian-optimization``), or ``None``. Once per process and module; the search over every
    installed distribution (about 0.5 s) only when none is named as the module."""
    try:
        metadata.version(module)  # most libraries' distribution is named as their module
        return module
    except metadata.PackageNotFoundError:
        known = DISTRIBUTION_OF_MODULE.get(module)
        if known is not None and installed_version(known) != "not installed":
            return known
        dists = metadata.packages_distributions().get(module)
        return dists[0] if dists else None


def _loop(
    task: Task,
    optimizer: Optimizer,
    budget: Budget,
    noise_seed: int,
    rec: TrialRecorder,
    t_start: float,
    evaluate: Evaluate | None = None,
) -> str | None:
    """The hot path: keep per-trial work to list appends and a few float ops.

    ``evaluate`` replaces ``task.evaluate`` (time limits wrap it), so no limit costs nothing here.
    Every proposed configuration is checked against the task's space and every result's
    shape, values and cost are checked before they are recorded or told (bench/trial_checks.py).
    Returns why the run stopped before its budget was spent, or ``None``.
    """
    fidelity: Fidelity | None = task.fidelity
    n_max, t_max = budget.n_trials, budget.time
    ask, tell, append = optimizer.ask, optimizer.tell, rec.rows.append  # rows as TrialRecorder.add
    check_config, n_obj = config_checker(task), len(task.objectives)
    if evaluate is None:
        evaluate = task.evaluate
    clock = time.perf_counter
    inf = math.inf
    used = sim = 0.0
    i = 0
    while used < n_max and (t_max is None or sim < t_max):
        try:
            trial = ask()
        except SearchExhausted as exc:
            return f"{type(optimizer).__name__} exhausted the search space: {exc}"
        config = check_config(trial.config)
        if fidelity is None and trial.fidelity is None:  # black-box: the common case inline
            fid, step = None, 1.0
        else:
            fid, step = trial_fidelity(trial, fidelity, task.id)
        t0 = clock()
        result = evaluate(config, fid, (noise_seed + i) & 0xFFFFFFFF)
        t1 = clock()
        # The checks of check_result and check_finite, inline for a plain Result with one finite
        # float value and a float cost (v - v is 0.0 only for a finite v); anything else, good or
        # bad, goes through them.
        values, cost = result.values, result.cost
        if not (
            type(result) is Result
            and type(cost) is float
            and 0.0 <= cost < inf
            and n_obj == 1
            and len(values) == 1
            and type(v := values[0]) is float
            and v - v == 0.0
        ):
            check_result(result, n_obj, task.id)
            values, cost = result.values, result.cost
            check_finite(values, config, fid, task.id)
        used += step
        sim += cost
        append((config, fid, values, cost, used, sim, t1 - t_start, t1 - t0))
        i += 1
        tell(trial, result)
    return None


def _contained_by_default() -> bool:
    """Whether a ``SystemExit``/``KeyboardInterrupt`` raised inside a run is that run's failure.

    In a worker thread it can only come from the run itself. In the main thread of the main
    process it may be the user's Ctrl-C, which must stop the sweep, so it is re-raised there;
    worker processes pass ``contained=True``.
    """
    return threading.current_thread() is not threading.main_thread()


#: Pickled spaces of the tasks this process has run, by ``id``, with a weak reference that
#: tells a space still alive from a new one at a reused address.
_space_pickles: dict[int, tuple[weakref.ref[ConfigurationSpace], bytes]] = {}


def private_space(space: ConfigurationSpace) -> ConfigurationSpace:
    """A copy of ``space`` that the run may seed and change, the task's own left as it is.

    Unpickling a space pickled once per task is 2–3× faster than ``copy.deepcopy`` (0.15 against
    0.25 ms in 2-D, 0.23 against 0.72 ms in 20-D): a fixed cost of every run. A space that cannot
    be pickled (a user's, holding a lambda) is deep-copied.

    Example:
        >>> from ConfigSpace import ConfigurationSpace
        >>> space = ConfigurationSpace({"x": (0.0, 1.0)})
        >>> copy = private_space(space)
        >>> copy == space and copy is not space and private_space(space) is not copy
        True
    """
    key = id(space)
    cached = _space_pickles.get(key)
    if cached is None or cached[0]() is not space:
        try:
            blob = pickle.dumps(space, protocol=pickle.HIGHEST_PROTOCOL)
            cached = (weakref.ref(space), blob)
        except Exception:  # not picklable, or not weakly referable: copy it each time
            return copy.deepcopy(space)
        if len(_space_pickles) > 4096:  # a long-lived process that built many tasks
            _space_pickles.clear()
        _space_pickles[key] = cached
    copied: ConfigurationSpace = pickle.loads(cached[1])
    return copied


def run_one(
    spec: RunSpec,
    output_dir: Path,
    *,
    contained: bool | None = None,
    watchdog: IO[str] | None = None,
    attempt: str | None = None,
) -> RunOutcome:
    """Execute one run and write its parquet file; never raises for run-level failures.

    Args:
        spec: the run.
        output_dir: results root; the file goes to :func:`run_path`.
        contained: record a ``SystemExit``/``KeyboardInterrupt`` raised inside the run as the
            run's failure (status ``died``) instead of re-raising it; default: in worker threads.
        watchdog: an open file for the time limits' last resort (bench/time_limits.py), only
            from a worker process that runs nothing else; with it, a run that swallows its time
            limit is written as ``timeout`` and the process ends.
        attempt: an id of this attempt, stored in the metadata (the supervisor matches it).
    """
    started = datetime.now(UTC)
    t_start = time.perf_counter()
    rec = TrialRecorder()
    status, error, stopped_early = "ok", None, None
    task: Task | None = None
    cls: type[Optimizer] | None = None
    contained = _contained_by_default() if contained is None else contained

    def finish(status: str, error: str | None, stopped_early: str | None) -> RunOutcome:
        return _write_outcome(
            spec,
            output_dir,
            task,
            cls,
            rec,
            status,
            error,
            stopped_early,
            started,
            time.perf_counter() - t_start,
            attempt,
        )

    def on_swallowed(reason: str) -> None:
        # Called from the SIGALRM handler while the run is stuck catching its own interrupts.
        finish(
            "timeout",
            f"TimeLimitExceeded: {reason}; the run was ended with its process after "
            f"{len(rec)} trials\n{''.join(traceback.format_stack())}",
            None,
        )
        os._exit(EXIT_SWALLOWED_LIMIT)

    try:
        apply_context(spec.context)  # a worker (maybe remote) learns the study's data and task modules
        task = make_task(spec.task)
        if task.meta.revision != spec.task_revision:
            raise TaskRevisionMismatch(
                f"task {spec.task!r} is revision {task.meta.revision!r} here, but the run was planned "
                f"for revision {spec.task_revision!r}: this process finds other data or code for the "
                "task than the planning one did (e.g. other YAHPO files at the same path on a cluster "
                "node); nothing was computed, so no value is recorded under the planned revision"
            )
        cls = optimizer_class(spec.optimizer_target)
        opt_seed, noise_seed = spec.seeds()
        # Tasks are cached per worker process; a private, freshly seeded copy of the space keeps
        # sampling through ConfigSpace independent of which runs this worker did before.
        space = private_space(task.space)
        space.seed(opt_seed)
        problem = Problem(space, task.objectives, task.fidelity, spec.budget)
        loop: Callable[..., str | None] = _loop
        if spec.n_workers != 1:
            loop = partial(simulated_loop, n_workers=spec.n_workers)
        if spec.trial_timeout is None and spec.run_timeout is None:
            optimizer = cls(problem, seed=opt_seed, **spec.optimizer_params)
            stopped_early = loop(task, optimizer, spec.budget, noise_seed, rec, t_start)
        else:
            # The timer is disarmed when this block exits, before the except clauses run.
            with TimeLimits(
                spec.trial_timeout,
                spec.run_timeout,
                watchdog=watchdog,
                on_swallowed=on_swallowed if watchdog is not None else None,
            ) as limits:
                optimizer = cls(problem, seed=opt_seed, **spec.optimizer_params)
                stopped_early = loop(
                    task, optimizer, spec.budget, noise_seed, rec, t_start, limits.wrap(task.evaluate)
                )
    except TimeLimitExceeded as exc:
        status = "timeout"
        error = f"TimeLimitExceeded: {exc} after {len(rec)} trials\n{traceback.format_exc()}"
    except Exception as exc:  # a broken run must never take down the sweep
        status = "crashed"
        error = f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"
    except BaseException as exc:  # SystemExit, KeyboardInterrupt, GeneratorExit raised by the run
        if not contained:
            raise
        status = "died"
        error = (
            f"{exc!r} raised inside the run after {len(rec)} trials: it "
            f"would have ended the worker process\n{traceback.format_exc()}"
        )
    return finish(status, error, stopped_early)


#: Exit status of a worker process ended because its run swallowed its time limit (the run is
#: written as ``timeout`` first).
EXIT_SWALLOWED_LIMIT = 75


def _write_outcome(
    spec: RunSpec,
    output_dir: Path,
    task: Task | None,
    cls: type[Optimizer] | None,
    rec: TrialRecorder,
    status: str,
    error: str | None,
    stopped_early: str | None,
    started: datetime,
    duration: float,
    attempt: str | None,
) -> RunOutcome:
    """Write the run file (metadata and trials) and return the outcome for the main process."""
    meta: dict[str, Any] = {
        "run_id": spec.run_id,
        "study": spec.study,
        "spec": spec.to_dict(),
        "fingerprint": spec.fingerprint,
        "status": status,
        "error": error,
        "n_trials": len(rec),
        "stopped_early": stopped_early,
        "started": started.isoformat(),
        "finished": datetime.now(UTC).isoformat(),
        "duration": duration,
        "versions": _versions(cls, task),
        "host": {
            "name": socket.gethostname(),
            "cpus": _cpu_count(),
            "platform": sys.platform,
            "blas": blas_kernel(),  # linear algebra's last bits depend on it (bench/blas_kernel.py)
        },
    }
    if attempt is not None:
        meta["attempt"] = attempt
    if task is not None:
        meta["objectives"] = [{"name": o.name, "minimize": o.minimize} for o in task.objectives]
        fid = task.fidelity
        meta["fidelity"] = None if fid is None else {"name": fid.name, "low": fid.low, "high": fid.high}
        meta["task_meta"] = {k: getattr(task.meta, k) for k in task.meta.__dataclass_fields__}
    try:
        table = _table(spec, task, rec, status)
    except Exception as exc:  # the run's own data cannot be tabulated: that is the run's failure
        error = ((error + "\n") if error else "") + (
            f"{type(exc).__name__} while building the result table: {exc}; its {len(rec)} trials are "
            f"not recorded\n{traceback.format_exc()}"
        )
        status = "crashed"
        rec = TrialRecorder()
        meta.update(status=status, error=error, n_trials=0)
        table = _table(spec, task, rec, status)
    path = write_run(run_path(output_dir, spec), table, meta)
    best = _best(rec, task)
    return RunOutcome(
        spec.run_id,
        spec.task,
        spec.optimizer,
        spec.seed,
        status,
        len(rec),
        best,
        duration,
        error.splitlines()[0] if error else None,
        str(path),
    )


def _table(spec: RunSpec, task: Task | None, rec: TrialRecorder, status: str) -> Any:
    m = task.meta if task is not None else None
    return rec.table(
        study=spec.study,
        run_id=spec.run_id,
        task=spec.task,
        family=m.family if m else spec.task.split("/", 1)[0],
        task_type=m.type if m else "",
        task_kind=m.kind if m else "",
        optimizer=spec.optimizer,
        seed=spec.seed,
        optimum=m.optimum[0] if m and m.optimum else None,
        objectives=task.objectives if task is not None else (),
        run_status=status,
    )


def record_failure(
    spec: RunSpec, output_dir: Path, status: str, error: str, attempt: str | None = None
) -> RunOutcome:
    """Write a run that produced no file of its own (its process died) as ``status`` with 0 trials.

    Called by the main process, which builds the task (cached) only for its metadata.

    Example:
        >>> import tempfile
        >>> from optimizers.base import Budget
        >>> spec = RunSpec(study="doc", task="synthetic/branin", optimizer="random_search",
        ...                optimizer_target="optimizers.random_search.RandomSearch",
        ...                optimizer_params={}, seed=0, budget=Budget(5))
        >>> record_failure(spec, Path(tempfile.mkdtemp()), "died", "killed by signal 9 (SIGKILL)").status
        'died'
    """
    task: Task | None
    try:
        apply_context(spec.context)
        task = make_task(spec.task)
    except Exception:
        task = None
    try:
        cls: type[Optimizer] | None = optimizer_class(spec.optimizer_target)
    except Exception:
        cls = None
    now = datetime.now(UTC)
    return _write_outcome(
        spec, output_dir, task, cls, TrialRecorder(), status, error, None, now, 0.0, attempt
    )


def _best(rec: TrialRecorder, task: Task | None) -> float | None:
    if not len(rec) or task is None:
        return None
    first = [v[0] for v in rec.values]
    return min(first) if task.objectives[0].minimize else max(first)


def _cpu_count() -> int:
    return os.cpu_count() or 1
