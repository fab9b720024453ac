"""run_all(specs): execute runs with joblib (loky by default, dask for clusters), with resume and progress.

Example:
    >>> import tempfile
    >>> from pathlib import Path
    >>> from bench.spec import RunSpec
    >>> from optimizers.base import Budget
    >>> spec = RunSpec(study="doc", task="synthetic/branin", optimizer="random_search",
    ...                optimizer_target="optimizers.random_search.RandomSearch",
    ...                optimizer_params={}, seed=0, budget=Budget(5))
    >>> out = Path(tempfile.mkdtemp())
    >>> [o.status for o in run_all([spec], out, n_jobs=1, progress=False).outcomes]
    ['ok']
    >>> run_all([spec], out, n_jobs=1, progress=False).skipped   # resume: already done
    1
"""

from __future__ import annotations

import contextlib
import faulthandler
import os
import sys
import time
import traceback
import uuid
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import joblib

from bench.config import BackendConfig, ConfigError
from bench.dispatch import auto_workers
from bench.loop import RunOutcome, record_failure, run_one, run_path
from bench.results import finished_fingerprint, owned_path, remove_stale_temp_files
from bench.spec import RunSpec
from bench.supervisor import run_dask, run_local


@dataclass
class SweepResult:
    outcomes: list[RunOutcome] = field(default_factory=list)
    skipped: int = 0
    elapsed: float = 0.0

    @property
    def failed(self) -> list[RunOutcome]:
        return [o for o in self.outcomes if o.status != "ok"]


def check_writable(directory: Path) -> None:
    """Fail fast, before any run, if results cannot be written to ``directory``.

    The probe file is named like a temp file of this process, so a probe left behind by a
    process killed at this moment is removed by the next sweep (:func:`remove_stale_temp_files`).
    """
    try:
        directory.mkdir(parents=True, exist_ok=True)
        probe = owned_path(directory / f"write-test~{uuid.uuid4().hex[:8]}")
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise ConfigError(
            f"output folder {str(directory)!r} is not writable ({exc.strerror or exc}): "
            "fix its permissions or choose another with output_dir=PATH"
        ) from exc


def pending(specs: Sequence[RunSpec], output_dir: Path) -> tuple[list[RunSpec], int]:
    """Specs still to run: missing, failed, damaged, or finished under a different spec (fingerprint).

    Every existing file is decoded and verified (:func:`~bench.results.finished_fingerprint`),
    about 1 ms per small run file; threads overlap the decoding, which releases the GIL.
    """

    def done(spec: RunSpec) -> bool:
        return finished_fingerprint(run_path(output_dir, spec)) == spec.fingerprint

    if len(specs) < 64:
        flags = [done(s) for s in specs]
    else:
        with ThreadPoolExecutor(min(8, os.cpu_count() or 1)) as pool:
            flags = list(pool.map(done, specs))
    todo = [s for s, finished in zip(specs, flags, strict=True) if not finished]
    return todo, len(specs) - len(todo)


class Progress:
    """One status line with rate and ETA: redrawn in place on a terminal, every ~10% otherwise."""

    def __init__(self, total: int, stream: TextIO | None = None, enabled: bool = True) -> None:
        # sys.stderr when the bar is made, not when this module was imported: a caller (a test's
        # capture, a notebook) may have replaced it since, and the old one may be closed
        stream = stream if stream is not None else sys.stderr
        self.total, self.stream, self.enabled = total, stream, enabled and total > 0
        self.done = self.failed = 0
        self.t0 = time.perf_counter()
        self.tty = stream.isatty()
        self._next_report = 0.0

    def update(self, outcome: RunOutcome) -> None:
        self.done += 1
        self.failed += outcome.status != "ok"
        if not self.enabled:
            return
        frac = self.done / self.total
        if not self.tty and frac < self._next_report and self.done != self.total:
            return
        self._next_report = frac + 0.1
        elapsed = time.perf_counter() - self.t0
        eta = elapsed / self.done * (self.total - self.done)
        bar = "#" * int(frac * 24)
        line = (
            f"[{bar:<24}] {self.done}/{self.total} runs {frac:4.0%} "
            f"| {self.done / elapsed:5.1f} runs/s | elapsed {_hms(elapsed)} ETA {_hms(eta)}"
            f" | failed {self.failed}"
        )
        self.stream.write(("\r" + line) if self.tty else line + "\n")
        if self.tty and self.done == self.total:
            self.stream.write("\n")
        self.stream.flush()


def _hms(seconds: float) -> str:
    s = int(seconds + 0.5)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


#: Seconds to wait for a dask scheduler given by ``backend.address`` before giving up.
DASK_CONNECT_TIMEOUT = 30.0


@contextlib.contextmanager
def _dask_client(backend: BackendConfig, n_jobs: int) -> Iterator[Any]:
    """A client of the cluster at ``backend.address``, or of a new LocalCluster."""
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError as exc:
        raise ConfigError("backend=dask needs the dask extra: pip install 'nxm-bench[dask]'") from exc
    cluster = None
    if backend.address:
        timeout = backend.connect_timeout if backend.connect_timeout is not None else DASK_CONNECT_TIMEOUT
        try:
            client = Client(backend.address, timeout=timeout)
        except (OSError, TimeoutError, ValueError) as exc:
            raise ConfigError(
                f"cannot reach the dask scheduler at backend.address={backend.address!r} within "
                f"{timeout:g} s ({type(exc).__name__}: {' '.join(str(exc).split())[:200]}): start it, fix "
                "the address (tcp://HOST:PORT), or drop backend.address for a local cluster"
            ) from exc
    else:
        workers = backend.n_workers or (n_jobs if n_jobs > 0 else os.cpu_count() or 1)
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True)
        client = Client(cluster)
    try:
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def check_backend(backend: BackendConfig) -> None:
    """Fail fast, before anything is written, when the backend cannot be used: the dask extra is
    missing, or the scheduler at ``backend.address`` does not answer within its timeout."""
    if backend.name != "dask":
        return
    if backend.address is None:
        try:
            import dask.distributed  # noqa: F401
        except ImportError as exc:
            raise ConfigError("backend=dask needs the dask extra: pip install 'nxm-bench[dask]'") from exc
        return
    with _dask_client(backend, 1):
        pass


def run_in_this_process(spec: RunSpec, output_dir: Path) -> RunOutcome:
    """Run ``spec`` in this process and write its file as a worker process would.

    Kept from a worker: a run that raises, or whose optimizer or task misbehaves, is written as
    ``crashed`` with its trials so far and the call returns; a ``SystemExit`` raised inside the
    run is written as ``died`` (0 trials: its trials are lost with the unwound loop);
    ``trial_timeout`` and ``run_timeout`` interrupt the run (``SIGALRM`` in the main thread,
    elsewhere checked when each evaluation returns) and it is written as ``timeout``; the file is
    written atomically. A ``KeyboardInterrupt`` (Ctrl-C) or any other ``BaseException`` from
    outside (the caller's SIGTERM handler) propagates and leaves no file, as when the pool's
    workers are stopped.

    Lost, because only a separate process gives it:

    * surviving the death of the process: a segmentation fault, the out-of-memory killer or
      ``os._exit`` inside the run ends this process and nothing is written (``faulthandler``
      prints the traceback on stderr); the next sweep runs it again.
    * ending a run by force: a run that catches its time-limit interrupt gets it again every
      :data:`~bench.time_limits.HARD_LIMIT_GRACE` s, and is written as ``timeout`` once an
      evaluation returns past its limit, but a call hung inside C code is never ended (a
      worker's watchdog would end its process).

    Example:
        >>> import tempfile
        >>> from optimizers.base import Budget
        >>> spec = RunSpec(study="doc", task="synthetic/branin", optimizer="random_search",
        ...                optimizer_target="optimizers.random_search.RandomSearch",
        ...                optimizer_params={}, seed=0, budget=Budget(5))
        >>> run_in_this_process(spec, Path(tempfile.mkdtemp())).status
        'ok'
    """
    run_path(output_dir, spec).parent.mkdir(parents=True, exist_ok=True)
    # A fatal signal ends this process with the caller's work: say at least where it happened.
    fault_report = False
    if not faulthandler.is_enabled() and sys.__stderr__ is not None:
        with contextlib.suppress(AttributeError, ValueError, OSError):  # a stderr without a file descriptor
            faulthandler.enable(file=sys.__stderr__, all_threads=True)
            fault_report = True
    try:
        # contained=False: Ctrl-C here is the user's, not the run's, and must stop the command.
        return run_one(spec, output_dir, contained=False)
    except SystemExit as exc:  # exit() inside the run: in a worker, that process would have died
        return record_failure(
            spec,
            output_dir,
            "died",
            f"{exc!r} raised inside the run: it would have ended the worker process\n"
            f"{traceback.format_exc()}",
        )
    finally:
        if fault_report:
            faulthandler.disable()


def run_all(
    specs: Sequence[RunSpec],
    output_dir: Path,
    n_jobs: int = -1,
    backend: BackendConfig | None = None,
    progress: bool = True,
    *,
    in_process: bool = False,
) -> SweepResult:
    """Run every pending spec; failures are recorded per run and never stop the sweep.

    Runs execute in worker processes (loky, or dask workers), never in this one: a run that
    kills its process (segfault, out-of-memory kill, ``os._exit``) is recorded as ``died`` and
    the others go on (bench/supervisor.py). ``backend=threading`` runs in threads of this
    process, for tasks that release the GIL; there a run that kills the process ends the sweep.

    ``in_process=True`` (for ``python -m bench optimizer=X task=Y``) runs the run in this
    process when exactly one is pending with the default (loky) backend, sparing the pool's
    start-up, which dwarfs a small run; see :func:`run_in_this_process` for what that gives up.
    With more runs pending, or another backend, it changes nothing.

    Only a result that cannot be written (:class:`~bench.results.ResultWriteError`: disk
    full, output unwritable) stops it, since every later run would be lost too; the runs
    already written stay and a re-run resumes after them. On an interrupt (Ctrl-C, or SIGTERM
    turned into an exception by the caller) the worker processes are stopped before it
    propagates.
    """
    backend = backend or BackendConfig()
    # Workers have a working folder of their own (a pool started earlier, a cluster node):
    # they get the absolute path.
    output_dir = Path(output_dir).absolute()
    check_writable(output_dir)
    runs_dirs = {run_path(output_dir, s).parent for s in specs}
    for runs_dir in runs_dirs:
        check_writable(runs_dir)
        # left by writers killed earlier (kill -9, power loss), and markers of their runs
        remove_stale_temp_files(runs_dir)
        remove_stale_temp_files(runs_dir.parent)
    todo, skipped = pending(specs, output_dir)
    result = SweepResult(skipped=skipped)
    t0 = time.perf_counter()
    bar = Progress(len(todo), enabled=progress)

    def record(outcome: RunOutcome) -> None:
        result.outcomes.append(outcome)
        bar.update(outcome)

    if todo:
        try:
            if backend.name == "dask":
                with _dask_client(backend, n_jobs) as client:
                    run_dask(todo, output_dir, client, record)
            elif in_process and len(todo) == 1 and backend.name == "loky":
                record(run_in_this_process(todo[0], output_dir))
            elif backend.name == "threading":
                outcomes = joblib.Parallel(
                    n_jobs=n_jobs, backend="threading", return_as="generator_unordered"
                )(joblib.delayed(run_one)(s, output_dir) for s in todo)
                for outcome in outcomes:
                    record(outcome)
            else:
                run_local(todo, output_dir, auto_workers(todo, n_jobs), record)
        except BaseException:
            # The workers are stopped, maybe mid-write: drop their partial temp files.
            for runs_dir in runs_dirs:
                remove_stale_temp_files(runs_dir)
            raise
    result.elapsed = time.perf_counter() - t0
    return result
