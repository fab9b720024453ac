"""Run many runs in worker processes so that a run which kills its process loses only itself.

A run may end its own process: a segmentation fault in a C extension, the kernel's
out-of-memory killer, ``os._exit`` in a library, a watchdog ending a hung run. The main
process never executes runs (for the process backends); it supervises:

* :func:`run_local` submits every run to a pool of loky worker processes (joblib's process
  executor). When a worker dies, loky fails the pool: the run that killed it *and* the runs
  that other workers had in flight are lost. Each run in flight left a marker file with its
  process id (bench/worker.py); for each marker of a dead process the supervisor decides:
  the run's result was written before the death (use it); ``faulthandler`` wrote a fatal
  error into the marker (status ``died``, with the signal and the Python traceback); the
  time-limit watchdog wrote its report (status ``timeout``); otherwise it is not known whether
  the run died or was collateral, and it is re-run alone in a process of its own
  (:func:`run_isolated`), where a death can only be its own and its exit status is known.
  Then the pool is restarted with the runs not yet done.
* :func:`run_dask` submits runs as dask futures: a worker that dies is restarted by its nanny
  and its task retried (``distributed.scheduler.allowed-failures`` times); a run that keeps
  killing workers fails with ``KilledWorker`` alone and is recorded as ``died``. A run whose
  result dask loses with a dying worker keeps the file it wrote (dask's recomputation reads
  it back instead of running the run again); a run the scheduler cancels is submitted again.

Every failure of a run is written as that run's result file (``record_failure``) and the sweep
goes on; only a result that cannot be written stops it.

Example:
    >>> import tempfile
    >>> from pathlib import Path
    >>> from optimizers.base import Budget
    >>> spec = RunSpec(study="doc", task="synthetic/branin", optimizer="random_search",
    ...                optimizer_target="optimizers.random_search.RandomSearch",
    ...                optimizer_params={}, seed=0, budget=Budget(5))
    >>> [o.status for o in run_isolated([spec], Path(tempfile.mkdtemp()), 1)]
    ['ok']
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import as_completed
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

from bench.dispatch import batches
from bench.integrity import CorruptResultError, verify_run_file
from bench.loop import RunOutcome, record_failure, run_one, run_path
from bench.results import HOST, ResultWriteError, pid_alive
from bench.spec import RunSpec
from bench.time_limits import HARD_LIMIT_GRACE
from bench.worker import (
    MARKER_SUFFIX,
    STATE_TRIAL,
    WATCHDOG_HEADER,
    Marker,
    markers_of,
    read_marker,
    run_batch_in_worker,
    run_in_worker,
    warm_up,
)
from tasks.environment import legacy_values

OnOutcome = Callable[[RunOutcome], None]

#: Environment variables that select user plugins and data: a pool started under other values
#: is replaced, so workers always see what the main process sees. (Runs get their data folder and
#: task modules from their spec; the variables still reach user code that reads them.)
_ENV_PREFIXES = ("NXMBENCH_",)
#: Idle loky workers exit after this many seconds (a later sweep in the same process reuses them).
POOL_IDLE_TIMEOUT = 60


def _plugin_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k.startswith(_ENV_PREFIXES)}
    # A deprecated name reaches the workers under its current one: they read the value without
    # repeating the note (the main process has written it).
    return {**env, **legacy_values()}


_pool_key: tuple[Any, ...] | None = None

#: loky's resource tracker (a process the pool starts, sharing this one's stderr) unlinks the
#: semaphores of a pool that was killed (SIGTERM, Ctrl-C) when this process exits, and warns twice
#: per semaphore while doing so: noise after the command's one-line message, about a clean-up it
#: does anyway. It takes its warning filters from ``sys.warnoptions`` when it starts.
_QUIET_RESOURCE_TRACKER = "ignore:resource_tracker:UserWarning:joblib.externals.loky.backend.resource_tracker"


def _executor(n_workers: int, optimizer_targets: tuple[str, ...] = ()) -> Any:
    """The loky pool, replaced when plugin settings or ``sys.path`` changed since it started
    (workers import plugins by name: stale ones would run another version, or none), or when
    the plan's optimizers differ (each worker imports them when it starts: :func:`warm_up`)."""
    from joblib.externals.loky import get_reusable_executor

    global _pool_key
    if _QUIET_RESOURCE_TRACKER not in sys.warnoptions:
        sys.warnoptions.append(_QUIET_RESOURCE_TRACKER)
    env = _plugin_env()
    key = (tuple(sorted(env.items())), tuple(sys.path))
    fresh = _pool_key is not None and key != _pool_key
    _pool_key = key
    return get_reusable_executor(
        max_workers=n_workers,
        timeout=POOL_IDLE_TIMEOUT,
        env=env,
        reuse=False if fresh else "auto",
        initializer=warm_up,
        initargs=(optimizer_targets,),
    )


def describe_exit(exitcode: int | None) -> str:
    """Words for a dead process's exit status.

    Example:
        >>> describe_exit(-9)
        'killed by signal 9 (SIGKILL; the out-of-memory killer sends this one)'
        >>> describe_exit(3)
        'exited with status 3 (os._exit, or exit() from C code, inside the run)'
    """
    if exitcode is None:
        return "ended with an unknown status"
    if exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = "unknown signal"
        hint = "; the out-of-memory killer sends this one" if -exitcode == signal.SIGKILL else ""
        return f"killed by signal {-exitcode} ({name}{hint})"
    return f"exited with status {exitcode} (os._exit, or exit() from C code, inside the run)"


def _outcome_from_file(spec: RunSpec, output_dir: Path, attempt: str) -> RunOutcome | None:
    """The outcome of a run whose worker wrote the result of this attempt before it died."""
    path = run_path(output_dir, spec)
    try:
        meta = verify_run_file(path)
    except (OSError, CorruptResultError):
        return None
    if meta.get("attempt") != attempt or meta.get("fingerprint") != spec.fingerprint:
        return None
    error = meta.get("error")
    return RunOutcome(
        spec.run_id,
        spec.task,
        spec.optimizer,
        spec.seed,
        str(meta.get("status")),
        int(meta.get("n_trials") or 0),
        None,
        float(meta.get("duration") or 0.0),
        str(error).splitlines()[0] if error else None,
        str(path),
    )


def _settle(
    spec: RunSpec, output_dir: Path, marker: Marker | None, exitcode: int | None = None
) -> RunOutcome | None:
    """What a marker of a dead process says about its run; ``None`` when it cannot tell."""
    if marker is not None:
        written = _outcome_from_file(spec, output_dir, marker.attempt)
        if written is not None:
            return written
        if marker.fatal:
            what = marker.report.splitlines()[0]
            how = f" ({describe_exit(exitcode)})" if exitcode is not None else ""
            return record_failure(
                spec,
                output_dir,
                "died",
                f"the run's process died: {what}{how}\n{marker.report}",
                marker.attempt,
            )
        if marker.watchdog:
            return record_failure(
                spec,
                output_dir,
                "timeout",
                "TimeLimitExceeded: the run did not stop at its time limit (stuck in "
                "C code, or catching the interrupt) and its process was ended; "
                f"tracebacks at that moment:\n{marker.report}",
                marker.attempt,
            )
    if exitcode is not None:
        return record_failure(spec, output_dir, "died", f"the run's process {describe_exit(exitcode)}")
    return None


def _isolated_entry(spec: RunSpec, output_dir: Path, conn: Connection) -> None:
    try:
        conn.send(("ok", run_in_worker(spec, output_dir)))
    except BaseException as exc:  # e.g. ResultWriteError: hand it to the main process
        conn.send(("error", exc))
    finally:
        conn.close()


def run_isolated(specs: Sequence[RunSpec], output_dir: Path, n_parallel: int) -> Iterator[RunOutcome]:
    """Run each spec alone in a fresh process (``n_parallel`` at a time) and yield its outcome.

    A process that dies is attributed to its one run: recorded as ``died`` with its exit status
    or signal (or ``timeout`` when the watchdog ended it). Used for runs lost with a broken pool.
    """
    ctx = multiprocessing.get_context("spawn")
    queue = list(specs)
    running: dict[Any, tuple[RunSpec, Connection]] = {}
    overseer = Overseer(specs, output_dir).__enter__()
    try:
        while queue or running:
            while queue and len(running) < max(1, n_parallel):
                spec = queue.pop(0)
                recv, send = ctx.Pipe(duplex=False)
                proc = ctx.Process(
                    target=_isolated_entry,
                    args=(spec, output_dir, send),
                    daemon=True,
                    name=f"nxm-bench isolated {spec.run_id}",
                )
                proc.start()
                send.close()
                running[proc] = (spec, recv)
            wait([p.sentinel for p in running] + [c for _, c in running.values()])
            for proc, (spec, recv) in list(running.items()):
                message = None
                if recv.poll():
                    with contextlib.suppress(EOFError, OSError):
                        message = recv.recv()
                if message is None and proc.is_alive():
                    continue
                proc.join()
                recv.close()
                del running[proc]
                if message is not None and message[0] == "ok":
                    yield message[1]
                    continue
                if message is not None:
                    raise message[1]
                markers = [m for m in markers_of(run_path(output_dir, spec)) if m.pid == proc.pid]
                outcome = _settle(spec, output_dir, markers[0] if markers else None, proc.exitcode)
                for m in markers:
                    with contextlib.suppress(OSError):
                        m.path.unlink()
                assert outcome is not None
                yield outcome
    finally:
        overseer.__exit__()
        for proc in running:
            proc.kill()
            proc.join()


def _lost_runs(specs: Sequence[RunSpec], output_dir: Path) -> list[tuple[RunSpec, Marker]]:
    """Runs that a process of this host was running when it died (a marker with a dead pid)."""
    out = []
    for spec in specs:
        for m in markers_of(run_path(output_dir, spec)):
            if m.host == HOST and not pid_alive(m.pid):
                out.append((spec, m))
    return out


def run_local(specs: Sequence[RunSpec], output_dir: Path, n_workers: int, on_outcome: OnOutcome) -> None:
    """Run ``specs`` on ``n_workers`` loky worker processes (see the module docstring)."""
    with Overseer(specs, output_dir):
        _run_pool(specs, output_dir, n_workers, on_outcome)


def _run_pool(specs: Sequence[RunSpec], output_dir: Path, n_workers: int, on_outcome: OnOutcome) -> None:
    from joblib.externals.loky.process_executor import BrokenProcessPool

    remaining = list(specs)
    targets = tuple(sorted({s.optimizer_target for s in specs}))
    # The result files of failed runs that this sweep re-runs are there already: only a file
    # written after this point is this sweep's.
    before = {s.run_id: _file_identity(run_path(output_dir, s)) for s in specs}
    while remaining:
        workers = max(1, min(n_workers, len(remaining)))
        executor = _executor(workers, targets)
        futures = {
            executor.submit(run_batch_in_worker, batch, output_dir): batch
            for batch in batches(remaining, workers)
        }
        done: set[str] = set()
        broken = False
        try:
            for future in as_completed(futures):
                batch = futures[future]
                exc = future.exception()
                if exc is None:
                    outcomes = future.result()
                elif isinstance(exc, BrokenProcessPool):
                    broken = True
                    continue
                elif isinstance(exc, ResultWriteError):
                    raise exc
                else:  # failed outside the runs (sending the specs or the outcomes): still theirs
                    outcomes = [
                        _finished_in_this_sweep(spec, output_dir, before)
                        or record_failure(
                            spec,
                            output_dir,
                            "crashed",
                            f"{type(exc).__name__} in the worker, outside the run: {exc}",
                        )
                        for spec in batch
                    ]
                for outcome in outcomes:
                    done.add(outcome.run_id)
                    on_outcome(outcome)
        except BaseException:
            # Ctrl-C, SIGTERM, a result that cannot be written: stop every worker now.
            _kill_pool(executor)
            raise
        remaining = [s for s in remaining if s.run_id not in done]
        if not broken:
            continue
        # A worker died and loky failed the pool: make sure every worker is gone before reading
        # the markers, so a dead process is never mistaken for a live one.
        executor.shutdown(wait=True, kill_workers=True)
        # Runs that finished in a batch whose worker died later (their outcomes went with it):
        # their files are this sweep's (pending() left out every run finished before it).
        settled: set[str] = set()
        for spec in remaining:
            outcome = _finished_in_this_sweep(spec, output_dir, before)
            if outcome is not None:
                settled.add(spec.run_id)
                on_outcome(outcome)
        remaining = [s for s in remaining if s.run_id not in settled]
        lost = _settle_lost(remaining, output_dir, n_workers, on_outcome)
        if not lost and not done and not settled and remaining:
            # Nothing ran and no run was in flight (the pool broke outside any run): run a batch
            # alone so that every round makes progress.
            for outcome in run_isolated(remaining[:n_workers], output_dir, n_workers):
                lost.add(outcome.run_id)
                on_outcome(outcome)
        remaining = [s for s in remaining if s.run_id not in lost]


def _file_identity(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_ino, st.st_mtime_ns


def _finished_in_this_sweep(
    spec: RunSpec, output_dir: Path, before: dict[str, tuple[int, int] | None]
) -> RunOutcome | None:
    """The outcome of ``spec`` from a result file with its fingerprint that this sweep wrote.

    ``before`` holds each run's file as it was when the sweep started (``None``: no file; a
    failed run being re-run has one). Results are written by ``os.replace``, so a file written
    since is another inode. A marker its dead worker left (killed between writing the result
    and removing the marker) goes with it. A run is never run twice, nor its file replaced.
    """
    path = run_path(output_dir, spec)
    identity = _file_identity(path)
    if identity is None or identity == before.get(spec.run_id):
        return None
    try:
        meta = verify_run_file(path)
    except (OSError, CorruptResultError):
        return None
    if meta.get("fingerprint") != spec.fingerprint:
        return None
    outcome = _outcome_from_file(spec, output_dir, str(meta.get("attempt")))
    if outcome is not None:
        for m in markers_of(path):
            if m.host == HOST and not pid_alive(m.pid):
                with contextlib.suppress(OSError):
                    m.path.unlink()
    return outcome


def _kill_pool(executor: Any) -> None:
    """Kill the pool's workers and shut it down, with runs still queued.

    loky's dispatcher thread can trip over the queue being emptied under it (``KeyError`` in
    ``add_call_item_to_queue``); the pool is being thrown away on purpose, so that thread's
    traceback is not printed while it winds down. Any other thread's exception still is.
    """
    previous = threading.excepthook

    def quiet(args: threading.ExceptHookArgs) -> None:
        if args.thread is None or args.thread.name != "ExecutorManagerThread":
            previous(args)

    threading.excepthook = quiet
    try:
        executor.shutdown(wait=True, kill_workers=True)
    finally:
        threading.excepthook = previous


#: How often the main process looks for runs far past their time limits.
OVERSEER_INTERVAL = 0.5


class Overseer:
    """The main process's watch over runs with time limits, for what no in-process layer can do.

    A trial stuck in C code where no signal handler runs, with only a ``trial_timeout`` set,
    is out of reach of the worker's own timers (bench/time_limits.py). Every
    :data:`OVERSEER_INTERVAL` seconds this thread reads the markers of the runs in flight: a
    run whose trial has been evaluating for ``trial_timeout`` + 2 × grace, or that started
    ``run_timeout`` + 2 × grace ago, gets a note in its marker and its process is killed; the
    supervisor then records it as ``timeout`` like any watchdog ending. Only started when some
    run has a limit.
    """

    def __init__(self, specs: Sequence[RunSpec], output_dir: Path) -> None:
        self.limited = {
            s.run_id: s for s in specs if s.trial_timeout is not None or s.run_timeout is not None
        }
        self.dirs = {run_path(output_dir, s).parent for s in self.limited.values()}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True, name="nxm-bench overseer")

    def __enter__(self) -> Overseer:
        if self.limited:
            self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _watch(self) -> None:
        while not self._stop.wait(OVERSEER_INTERVAL):
            self.check(time.time())

    def check(self, now: float) -> list[str]:
        """End every overdue run in flight; returns their run ids."""
        ended = []
        for folder in self.dirs:
            for path in folder.glob(f".*{MARKER_SUFFIX}"):
                marker = read_marker(path)
                spec = self.limited.get(marker.run_id) if marker is not None else None
                if marker is None or spec is None or marker.host != HOST or marker.report:
                    continue
                why = overdue(spec, marker, now)
                if why is None or not pid_alive(marker.pid):
                    continue
                with contextlib.suppress(OSError), open(path, "a", encoding="utf-8") as fh:
                    fh.write(
                        f"{WATCHDOG_HEADER}main process watchdog)!\n{why}; its process was killed "
                        "from the main process (no traceback: it never returned to Python)\n"
                    )
                with contextlib.suppress(OSError):
                    os.kill(marker.pid, signal.SIGKILL)
                ended.append(marker.run_id)
        return ended


def overdue(spec: RunSpec, marker: Marker, now: float) -> str | None:
    """Why the run of ``marker`` is far past a time limit, or ``None``.

    Example:
        >>> from optimizers.base import Budget
        >>> spec = RunSpec(study="s", task="t/a", optimizer="o", optimizer_target="x.Y",
        ...                optimizer_params={}, seed=0, budget=Budget(5), trial_timeout=1.0)
        >>> m = Marker(Path("m"), "r", "a", HOST, 1, started=0.0, changed=100.0, state="T", report="")
        >>> overdue(spec, m, now=100.0 + 1.0 + 2 * HARD_LIMIT_GRACE + 0.1)
        'a trial has been evaluating for 7.1 s, trial_timeout=1 s'
    """
    slack = 2 * HARD_LIMIT_GRACE
    if spec.trial_timeout is not None and marker.state == STATE_TRIAL.decode():
        age = now - marker.changed
        if age > spec.trial_timeout + slack:
            return f"a trial has been evaluating for {age:.1f} s, trial_timeout={spec.trial_timeout:g} s"
    if spec.run_timeout is not None and now - marker.started > spec.run_timeout + slack:
        return f"the run has been going for {now - marker.started:.1f} s, run_timeout={spec.run_timeout:g} s"
    return None


def _settle_lost(
    remaining: Sequence[RunSpec], output_dir: Path, n_workers: int, on_outcome: OnOutcome
) -> set[str]:
    settled: set[str] = set()
    unclear: list[RunSpec] = []
    for spec, marker in _lost_runs(remaining, output_dir):
        if spec.run_id in settled or spec in unclear:
            continue
        outcome = _settle(spec, output_dir, marker)
        with contextlib.suppress(OSError):
            marker.path.unlink()
        if outcome is None:
            unclear.append(spec)  # the culprit, or collateral of another worker's death
            continue
        settled.add(spec.run_id)
        on_outcome(outcome)
    for outcome in run_isolated(unclear, output_dir, n_workers):
        settled.add(outcome.run_id)
        on_outcome(outcome)
    return settled


def _run_on_dask(spec: RunSpec, output_dir: Path, attempt: str) -> RunOutcome:
    # Dask computes a task again when the worker holding its result dies: the run already
    # wrote this attempt's file, which stays the run (not replaced by a second run of it).
    written = _outcome_from_file(spec, output_dir, attempt)
    if written is not None:
        return written
    return run_one(spec, output_dir, contained=True, attempt=attempt)


#: How often a run the dask scheduler cancels (a scheduler restart, a key it dropped) is
#: submitted again before it is recorded as ``crashed``.
DASK_RESUBMITS = 2


def run_dask(specs: Sequence[RunSpec], output_dir: Path, client: Any, on_outcome: OnOutcome) -> None:
    """Run ``specs`` as futures on a dask ``client``; a run that kills workers is recorded ``died``.

    A run's outcome is read from its result file (verified, same attempt), not fetched from
    the worker: a worker that dies right after a run would otherwise take the outcome with it
    and dask would run that run again. A future that settles neither finished nor erred is
    not the run's failure: one whose result was ``lost`` with its worker (and is being
    computed again) is awaited unless its file is there, and one the scheduler ``cancelled``
    is submitted again, :data:`DASK_RESUBMITS` times at most. Futures are released as soon
    as they are settled.
    """
    import uuid

    from distributed import KilledWorker
    from distributed import as_completed as dask_completed

    live: dict[str, tuple[Any, RunSpec, str]] = {}
    resubmits: dict[str, int] = {}

    def submit(spec: RunSpec) -> Any:
        attempt = uuid.uuid4().hex
        future = client.submit(
            _run_on_dask, spec, output_dir, attempt, pure=False, key=f"nxm-bench-{spec.run_id}-{attempt[:12]}"
        )
        live[future.key] = (future, spec, attempt)
        return future

    pending = dask_completed([submit(spec) for spec in specs])
    try:
        for future in pending:
            _, spec, attempt = live.pop(future.key)
            outcome: RunOutcome | None = _outcome_from_file(spec, output_dir, attempt)
            exc: BaseException | None = None
            status = future.status
            if outcome is None and status in ("lost", "pending"):  # computed again after its worker died
                live[future.key] = (future, spec, attempt)
                pending.add(future)
                continue
            if outcome is None and status == "cancelled" and resubmits.get(spec.run_id, 0) < DASK_RESUBMITS:
                # The cancelled attempt may still be running on a worker: both write the run's
                # file atomically, and the new attempt's outcome is the one reported.
                resubmits[spec.run_id] = resubmits.get(spec.run_id, 0) + 1
                future.release()
                pending.add(submit(spec))
                continue
            if outcome is None and status == "finished":  # not visible here (yet): ask the worker
                try:
                    outcome = future.result()
                except Exception as err:
                    exc = err
            elif outcome is None:
                exc = future.exception() if status == "error" else _cancellation(future)
            future.release()
            if outcome is not None:
                on_outcome(outcome)
            elif isinstance(exc, KilledWorker):
                on_outcome(
                    record_failure(
                        spec,
                        output_dir,
                        "died",
                        f"the run's dask worker process died every time it ran it: {exc}",
                    )
                )
            elif isinstance(exc, ResultWriteError):
                raise exc
            else:
                on_outcome(
                    record_failure(
                        spec,
                        output_dir,
                        "crashed",
                        f"{type(exc).__name__} on the dask worker, outside the run: {exc}",
                    )
                )
    except BaseException:
        client.cancel([f for f, _, _ in live.values()])
        raise


def _cancellation(future: Any) -> BaseException:
    """Why the scheduler cancelled ``future`` (its ``exception()`` is ``None``)."""
    try:
        future.result(timeout=0)
    except BaseException as err:  # FutureCancelledError, with the scheduler's reason
        return err
    return RuntimeError(f"dask future {future.key} ended as {future.status!r} without a result")
