"""The worker side of a run: a marker file while it runs, fatal errors written into it.

:func:`run_in_worker` is what the main process sends to worker processes. Around
:func:`bench.loop.run_one` it keeps a hidden marker file next to the run's result,
``.<run_id>.parquet~<host>~<pid>.running``: a state byte (``T`` while a trial with a
``trial_timeout`` evaluates, ``-`` otherwise; its mtime says since when) and one JSON line (run
id, attempt id, host, pid, start time). While the run executes, ``faulthandler`` writes into
that file: the traceback of a fatal error (segmentation fault, abort, bus error, …), or the
tracebacks dumped by the time-limit watchdog before it ends a hung process. The marker is
removed when the run's result is written. So when a worker process dies, the main process
finds, for each run it was running, a marker with a dead pid that says what happened; and
while it lives, the main process can tell a trial that overran its limit by far
(bench/supervisor.py reads it).

Example:
    >>> import tempfile
    >>> from pathlib import Path
    >>> from optimizers.base import Budget
    >>> spec = RunSpec(study="doc", task="synthetic/branin", optimizer="random_search",
    ...                optimizer_target="optimizers.random_search.RandomSearch",
    ...                optimizer_params={}, seed=0, budget=Budget(5))
    >>> out = Path(tempfile.mkdtemp())
    >>> run_in_worker(spec, out).status
    'ok'
    >>> list((out / "doc" / "runs").glob(".*.running"))  # removed once the result is written
    []
"""

from __future__ import annotations

import contextlib
import ctypes
import faulthandler
import json
import os
import signal
import sys
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.loop import RunOutcome, run_one, run_path
from bench.results import HOST, owned_path
from bench.spec import RunSpec

MARKER_SUFFIX = ".running"
#: What ``faulthandler`` writes first for a fatal signal, and for its watchdog (the main process
#: writes the same header when it ends an overdue run).
FATAL_HEADER = "Fatal Python error"
WATCHDOG_HEADER = "Timeout ("
#: The marker's first byte: a trial is being evaluated (under a ``trial_timeout``), or not.
STATE_TRIAL, STATE_IDLE = b"T", b"-"


def marker_path(result: Path, pid: int) -> Path:
    """The marker of the run whose result file is ``result``, written by process ``pid`` of this host."""
    return owned_path(result, MARKER_SUFFIX, pid)


@dataclass(frozen=True)
class Marker:
    """A marker file as read back by the main process."""

    path: Path
    run_id: str
    attempt: str
    host: str
    pid: int
    #: ``time.time()`` when the run started, and when the state byte last changed.
    started: float
    changed: float
    #: :data:`STATE_TRIAL` or :data:`STATE_IDLE`, decoded.
    state: str
    #: What faulthandler wrote after the JSON line ("" when the process ended without a word).
    report: str

    @property
    def fatal(self) -> bool:
        """A fatal signal (SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL) ended the process."""
        return FATAL_HEADER in self.report

    @property
    def watchdog(self) -> bool:
        """The time-limit watchdog ended the process (the run overran its limit by the grace)."""
        return self.report.lstrip().startswith(WATCHDOG_HEADER)


def read_marker(path: Path) -> Marker | None:
    """Parse a marker file; ``None`` when it is gone or not one of ours."""
    try:
        text = path.read_text(errors="replace")
        changed = path.stat().st_mtime
    except OSError:
        return None
    first, _, rest = text.partition("\n")
    try:
        head = json.loads(first[1:])
        return Marker(
            path,
            str(head["run_id"]),
            str(head["attempt"]),
            str(head["host"]),
            int(head["pid"]),
            float(head["started"]),
            changed,
            first[:1],
            rest.strip(),
        )
    except (ValueError, KeyError, TypeError):
        return None


def markers_of(result: Path) -> list[Marker]:
    """Every readable marker of the run whose result file is ``result`` (any process, any host)."""
    found = (read_marker(p) for p in result.parent.glob(f".{result.name}~*{MARKER_SUFFIX}"))
    return [m for m in found if m is not None]


_initialized = False
#: How often a worker checks that the main process still runs, where the kernel cannot tell it.
_PARENT_POLL = 0.2


def _init_worker() -> None:
    """Once per worker process: the main process decides when runs stop.

    * Ctrl-C belongs to the main process, which stops the workers. Without this, the SIGINT a
      terminal sends to the whole process group would end every run in flight as if the run
      itself had raised ``KeyboardInterrupt``.
    * A worker must not outlive the main process (``kill -9`` of the sweep): on Linux the kernel
      kills it at once (``PR_SET_PDEATHSIG``); elsewhere a daemon thread notices within
      :data:`_PARENT_POLL` s. Otherwise it would go on writing queued runs for minutes.
    """
    global _initialized
    if _initialized:
        return
    _initialized = True
    with contextlib.suppress(ValueError):  # not the main thread: signals are not ours
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent = os.getppid()
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the main process died before the kernel was told
        os._exit(1)
    threading.Thread(
        target=_exit_with_parent, args=(parent,), daemon=True, name="nxm-bench parent watch"
    ).start()


_PR_SET_PDEATHSIG = 1


def _exit_with_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(_PARENT_POLL)
    os._exit(1)


def run_in_worker(spec: RunSpec, output_dir: Path) -> RunOutcome:
    """Run ``spec`` in this worker process under a marker (see the module docstring).

    Only for processes that run one run at a time in their main thread (loky workers, the
    isolated runner): ``faulthandler`` and the time-limit watchdog are process-wide.
    """
    _init_worker()
    result = run_path(output_dir, spec)
    result.parent.mkdir(parents=True, exist_ok=True)
    attempt = uuid.uuid4().hex
    marker = marker_path(result, os.getpid())
    head = {
        "run_id": spec.run_id,
        "attempt": attempt,
        "host": HOST,
        "pid": os.getpid(),
        "started": time.time(),
    }
    try:
        with open(marker, "w", encoding="utf-8") as fh:
            fh.write(STATE_IDLE.decode() + json.dumps(head) + "\n")
            fh.flush()
            faulthandler.enable(file=fh, all_threads=True)
            try:
                return run_one(spec, output_dir, contained=True, watchdog=fh, attempt=attempt)
            finally:
                faulthandler.enable(file=sys.__stderr__ or sys.stderr, all_threads=True)
    finally:
        with contextlib.suppress(OSError):
            marker.unlink()


def run_batch_in_worker(specs: Sequence[RunSpec], output_dir: Path) -> list[RunOutcome]:
    """Run ``specs`` one after the other in this worker, each as :func:`run_in_worker` runs it.

    Batches spare tiny runs the pool's round trip per run (bench/dispatch.py). Each run has its
    own marker while it runs, so when the process dies the supervisor knows which run of the
    batch was running; the runs before it have their result files, the runs after it never
    started.

    Example:
        >>> import tempfile
        >>> from optimizers.base import Budget
        >>> specs = [RunSpec(study="doc", task="synthetic/branin", optimizer="random_search",
        ...                  optimizer_target="optimizers.random_search.RandomSearch",
        ...                  optimizer_params={}, seed=s, budget=Budget(3)) for s in (0, 1)]
        >>> [o.status for o in run_batch_in_worker(specs, Path(tempfile.mkdtemp()))]
        ['ok', 'ok']
    """
    return [run_in_worker(spec, output_dir) for spec in specs]


def warm_up(optimizer_targets: Sequence[str]) -> None:
    """Pool initializer: make the worker ready before its first run.

    Imports each optimizer class of the plan and the libraries it declares (``requires``):
    Optuna costs about 0.3 s, Hyperopt about 1 s on first import. Done here, that time is not
    counted in the first run's (and its first trial's) wall time, and it is paid while the pool
    starts rather than between runs. A class or library that cannot be imported is left to the
    run, which records why as its own failure.
    """
    from bench.registry import optimizer_class

    _init_worker()
    for target in optimizer_targets:
        try:
            optimizer_class(target).import_requirements()
        except Exception:  # the run reports it, with the reason, as that run's failure
            continue
