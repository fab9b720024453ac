"""run_one(spec): the ask → evaluate → tell loop, owned by the runner.

The runner, not the optimizer, enforces the budget and records every
evaluation. Anything that goes wrong inside a run (the optimizer or the task
raises, a non-finite objective, an invalid fidelity) ends that run with status
``crashed`` and its traceback; a run past its ``trial_timeout`` or ``run_timeout``
ends with status ``timeout``. Either way the trials done so far are still written.

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
import platform
import signal
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from bench.registry import make_task, optimizer_class
from bench.results import TrialRecorder, write_run
from bench.spec import RunSpec
from optimizers.base import Budget, Optimizer, Problem, SearchExhausted, Trial
from tasks.base import Fidelity, Result, Task


class RunError(RuntimeError):
    """A run-level failure caused by what a task or optimizer returned."""


class TimeLimitExceeded(BaseException):
    """A run passed its ``trial_timeout`` or ``run_timeout``.

    A ``BaseException``, like ``KeyboardInterrupt``, so that a task's or an optimizer's
    own ``except Exception`` cannot swallow it and keep a hung run going.
    """


Evaluate = Callable[[Any, "float | None", int], Result]

#: Longest interval armed at once (about 3 years): ``setitimer`` overflows on huge values.
_MAX_TIMER = 1e8


class TimeLimits:
    """Enforce a per-trial (one ``Task.evaluate``) and a per-run wall-clock limit.

    In the main thread of a process (``n_jobs=1``, loky workers) a ``SIGALRM`` interval
    timer interrupts a hung evaluate or optimizer wherever Python code runs: a
    ``time.sleep`` or a pure-Python loop. Code stuck inside one C call (a native solver
    that never returns to Python) is interrupted when it does. Signals reach only the
    main thread, so in threads (``backend=threading``, dask workers) and when another
    interval timer is already armed the limits are checked when each evaluate returns
    instead: a trial that took too long still ends the run with status ``timeout`` (its
    late result is dropped, as an interrupted one would be), but a hang inside one
    evaluate is not cut short there. Use the loky backend for tasks that may hang.

    Example:
        >>> import time
        >>> with TimeLimits(trial_timeout=0.05, run_timeout=None) as limits:
        ...     slow = limits.wrap(lambda config, fidelity, seed: time.sleep(10))
        ...     slow({}, None, 0)
        Traceback (most recent call last):
        ...
        bench.loop.TimeLimitExceeded: a trial exceeded trial_timeout=0.05 s
    """

    def __init__(self, trial_timeout: float | None, run_timeout: float | None) -> None:
        self.trial, self.run = trial_timeout, run_timeout
        self.deadline = math.inf
        self.use_signal = False
        self._reason = ""
        self._previous: Any = None
        self.trial_msg = f"a trial exceeded trial_timeout={trial_timeout:g} s" if trial_timeout else ""
        self.run_msg = f"the run exceeded run_timeout={run_timeout:g} s" if run_timeout else ""

    def __enter__(self) -> TimeLimits:
        if self.run is not None:
            self.deadline = time.perf_counter() + self.run
        self.use_signal = (hasattr(signal, "setitimer")
                           and threading.current_thread() is threading.main_thread()
                           and signal.getitimer(signal.ITIMER_REAL)[0] == 0)  # never steal a timer
        if self.use_signal:
            self._previous = signal.signal(signal.SIGALRM, self._fire)
            self._arm_run()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.use_signal:
            signal.setitimer(signal.ITIMER_REAL, 0)
            # None: a handler not installed from Python; the default is the closest we can restore.
            signal.signal(signal.SIGALRM, signal.SIG_DFL if self._previous is None else self._previous)

    def _fire(self, signum: int, frame: object) -> None:
        raise TimeLimitExceeded(self._reason)

    def _arm_run(self) -> None:
        if self.run is None:
            signal.setitimer(signal.ITIMER_REAL, 0)
            return
        left = self.deadline - time.perf_counter()
        if left <= 0:
            raise TimeLimitExceeded(self.run_msg)
        self._reason = self.run_msg
        signal.setitimer(signal.ITIMER_REAL, min(left, _MAX_TIMER))

    def wrap(self, evaluate: Evaluate) -> Evaluate:
        """``evaluate`` under the limits; unchanged when only a signal-enforced run limit is set."""
        trial, deadline, clock = self.trial, self.deadline, time.perf_counter
        if trial is None and (self.run is None or self.use_signal):
            return evaluate
        use_signal, setitimer, real = self.use_signal, signal.setitimer, signal.ITIMER_REAL

        def limited(config: Any, fidelity: float | None, seed: int) -> Result:
            start = clock()
            if start >= deadline:
                raise TimeLimitExceeded(self.run_msg)
            if use_signal and trial is not None:
                left = deadline - start
                self._reason = self.trial_msg if trial <= left else self.run_msg
                setitimer(real, min(trial, left, _MAX_TIMER))
                try:
                    result = evaluate(config, fidelity, seed)
                except BaseException:
                    setitimer(real, 0)  # no second alarm while the first one unwinds
                    raise
                self._arm_run()
            else:
                result = evaluate(config, fidelity, seed)
            end = clock()
            if trial is not None and end - start > trial:
                raise TimeLimitExceeded(f"{self.trial_msg} (took {end - start:.3g} s)")
            if end > deadline:
                raise TimeLimitExceeded(self.run_msg)
            return result

        return limited


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


def run_path(output_dir: Path, spec: RunSpec) -> Path:
    """Where a run's file lives: ``<output_dir>/<study>/runs/<run_id>.parquet``."""
    return output_dir / spec.study / "runs" / f"{spec.run_id}.parquet"


#: Distribution name of the library behind each adapter module (for run metadata).
ADAPTER_LIBRARIES = {
    "optimizers.optuna": "optuna", "optimizers.nevergrad": "nevergrad",
    "optimizers.skopt": "scikit-optimize", "optimizers.hyperopt": "hyperopt",
    "optimizers.smac": "smac", "optimizers.dehb": "dehb",
}


def _versions(optimizer_cls: type[Optimizer] | None) -> dict[str, str]:
    out = {"python": platform.python_version()}
    libs = ["nxm-bench", "numpy", "ConfigSpace", "coco-experiment"]
    lib = getattr(optimizer_cls, "library", None) or ADAPTER_LIBRARIES.get(
        getattr(optimizer_cls, "__module__", ""))
    if lib:
        libs.append(lib)
    for name in libs:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def _loop(task: Task, optimizer: Optimizer, budget: Budget, noise_seed: int,
          rec: TrialRecorder, t_start: float, evaluate: Evaluate | None = None) -> str | None:
    """The hot path: keep per-trial work to list appends and a few float ops.

    ``evaluate`` replaces ``task.evaluate`` (time limits wrap it), so no limit costs nothing here.
    Returns why the run stopped before its budget was spent, or ``None``.
    """
    fidelity: Fidelity | None = task.fidelity
    n_max, t_max = budget.n_trials, budget.time
    ask, tell, add = optimizer.ask, optimizer.tell, rec.add
    if evaluate is None:
        evaluate = task.evaluate
    clock = time.perf_counter
    used = sim = 0.0
    i = 0
    while used < n_max and (t_max is None or sim < t_max):
        try:
            trial = ask()
        except SearchExhausted as exc:
            return f"{type(optimizer).__name__} exhausted the search space: {exc}"
        fid, step = trial_fidelity(trial, fidelity, task.id)
        t0 = clock()
        result = evaluate(trial.config, fid, (noise_seed + i) & 0xFFFFFFFF)
        t1 = clock()
        values = result.values
        check_finite(values, trial, fid, task.id)
        used += step
        sim += result.cost
        add(trial.config, fid, values, result.cost, used, sim, t1 - t_start, t1 - t0)
        i += 1
        tell(trial, result)
    return None


def trial_fidelity(trial: Trial, fidelity: Fidelity | None, task_id: str) -> tuple[float | None, float]:
    """The fidelity ``trial`` runs at and the budget it uses (``fidelity / high``, 1 for black-box).

    ``None`` from the optimizer means the highest fidelity; a fidelity off the task's axis, or one
    on a task without an axis, is a :class:`RunError`.

    Example:
        >>> trial_fidelity(Trial({}, 3.0), Fidelity("epochs", 1, 12), "t")
        (3.0, 0.25)
    """
    fid = trial.fidelity
    if fidelity is None:
        if fid is not None:
            raise RunError(f"optimizer asked for fidelity {fid!r} but task {task_id} has none")
        return None, 1.0
    if fid is None:
        return fidelity.high, 1.0
    if not fidelity.contains(fid):
        raise RunError(f"optimizer asked for fidelity {fid!r}, outside task {task_id}'s axis {fidelity}")
    return fid, fid / fidelity.high


def check_finite(values: tuple[float, ...], trial: Trial, fid: float | None, task_id: str) -> None:
    """Raise :class:`RunError` if a task returned a NaN or infinite objective value."""
    for v in values:
        if not math.isfinite(v):
            raise RunError(
                f"task {task_id} returned non-finite objective {values!r} for config "
                f"{dict(trial.config)!r} at fidelity {fid!r}")


def run_one(spec: RunSpec, output_dir: Path) -> RunOutcome:
    """Execute one run and write its parquet file; never raises for run-level failures."""
    started = datetime.now(UTC)
    t_start = time.perf_counter()
    rec = TrialRecorder()
    status, error, stopped_early = "ok", None, None
    task: Task | None = None
    cls: type[Optimizer] | None = None
    try:
        task = make_task(spec.task)
        cls = optimizer_class(spec.optimizer_target)
        opt_seed, noise_seed = spec.seeds()
        # Tasks are cached per worker process; a private, freshly seeded copy of the space keeps
        # sampling through ConfigSpace independent of which runs this worker did before.
        space = copy.deepcopy(task.space)
        space.seed(opt_seed)
        problem = Problem(space, task.objectives, task.fidelity, spec.budget)
        loop: Callable[..., str | None] = _loop
        if spec.n_workers != 1:
            from functools import partial

            from bench.simulated_workers import simulated_loop  # it imports this module

            loop = partial(simulated_loop, n_workers=spec.n_workers)
        if spec.trial_timeout is None and spec.run_timeout is None:
            optimizer = cls(problem, seed=opt_seed, **spec.optimizer_params)
            stopped_early = loop(task, optimizer, spec.budget, noise_seed, rec, t_start)
        else:
            # The timer is disarmed when this block exits, before the except clauses run.
            with TimeLimits(spec.trial_timeout, spec.run_timeout) as limits:
                optimizer = cls(problem, seed=opt_seed, **spec.optimizer_params)
                stopped_early = loop(task, optimizer, spec.budget, noise_seed, rec, t_start,
                                     limits.wrap(task.evaluate))
    except TimeLimitExceeded as exc:
        status = "timeout"
        error = f"TimeLimitExceeded: {exc} after {len(rec)} trials\n{traceback.format_exc()}"
    except Exception as exc:  # a broken run must never take down the sweep
        status = "crashed"
        error = f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"
    duration = time.perf_counter() - t_start
    meta: dict[str, Any] = {
        "run_id": spec.run_id, "study": spec.study, "spec": spec.to_dict(),
        "fingerprint": spec.fingerprint, "status": status, "error": error, "n_trials": len(rec),
        "stopped_early": stopped_early,
        "started": started.isoformat(), "finished": datetime.now(UTC).isoformat(),
        "duration": duration, "versions": _versions(cls),
        "host": {"name": socket.gethostname(), "cpus": _cpu_count(), "platform": sys.platform},
    }
    if task is not None:
        meta["objectives"] = [{"name": o.name, "minimize": o.minimize} for o in task.objectives]
        fid = task.fidelity
        meta["fidelity"] = None if fid is None else {"name": fid.name, "low": fid.low, "high": fid.high}
        meta["task_meta"] = {k: getattr(task.meta, k) for k in task.meta.__dataclass_fields__}
    m = task.meta if task is not None else None
    table = rec.table(
        study=spec.study, run_id=spec.run_id, task=spec.task,
        family=m.family if m else spec.task.split("/", 1)[0],
        task_type=m.type if m else "", task_kind=m.kind if m else "",
        optimizer=spec.optimizer, seed=spec.seed,
        optimum=m.optimum[0] if m and m.optimum else None,
        minimize=task.objectives[0].minimize if task is not None else True,
        run_status=status,
    )
    path = write_run(run_path(output_dir, spec), table, meta)
    best = _best(rec, task)
    return RunOutcome(spec.run_id, spec.task, spec.optimizer, spec.seed, status, len(rec), best,
                      duration, error.splitlines()[0] if error else None, str(path))


def _best(rec: TrialRecorder, task: Task | None) -> float | None:
    if not len(rec) or task is None:
        return None
    first = [v[0] for v in rec.values]
    return min(first) if task.objectives[0].minimize else max(first)


def _cpu_count() -> int:
    return os.cpu_count() or 1
