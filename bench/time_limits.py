"""Wall-clock limits of a run: ``trial_timeout`` (one ``Task.evaluate``) and ``run_timeout``.

Three layers, each for what the one before cannot stop (docs/fault-tolerance.md):

1. **Interrupt.** In the main thread of a process a ``SIGALRM`` interval timer raises
   :class:`TimeLimitExceeded` wherever Python code runs (a ``time.sleep``, a pure-Python loop).
   It is a ``BaseException``, so ``except Exception`` does not catch it. In threads, where no
   signal arrives, the limits are checked when each evaluate returns.
2. **Swallowed interrupt.** A task with a bare ``except:`` (or ``except BaseException``) around
   its work catches the interrupt and goes on. The timer is re-armed for
   :data:`HARD_LIMIT_GRACE` seconds when it fires; if the run is still going when it fires
   again, ``on_swallowed`` is called (in a worker process: write the run as ``timeout`` with
   the trials so far and end the process), and the interrupt is raised again otherwise.
3. **Hung in C.** Code stuck inside one C call that never returns to Python never runs a
   signal handler. In a worker process, ``faulthandler``'s watchdog thread (plain C, no GIL
   needed) is armed for ``run_timeout`` + :data:`HARD_LIMIT_GRACE` when the run starts, and for
   twice the grace whenever an interrupt fires: when it goes off it writes every thread's
   traceback to the run's marker file and ends the process; the main process then records the
   run as ``timeout`` (bench/worker.py). Arming it costs ~25 µs, so it is not re-armed per
   trial: a trial stuck in C with only ``trial_timeout`` set is ended by ``run_timeout``.

Example:
    >>> import time
    >>> with TimeLimits(trial_timeout=0.05, run_timeout=None) as limits:
    ...     slow = limits.wrap(lambda config, fidelity, seed: time.sleep(10))
    ...     slow({}, None, 0)
    Traceback (most recent call last):
    ...
    bench.time_limits.TimeLimitExceeded: a trial exceeded trial_timeout=0.05 s
"""

from __future__ import annotations

import faulthandler
import math
import os
import signal
import threading
import time
from collections.abc import Callable
from typing import IO, Any

from tasks.base import Result

#: Seconds a run may go on after its limit fired before it is ended by force (layers 2 and 3).
HARD_LIMIT_GRACE = 3.0
#: Longest interval armed at once (about 3 years): ``setitimer`` overflows on huge values.
_MAX_TIMER = 1e8

Evaluate = Callable[[Any, "float | None", int], Result]


def _flagged(evaluate: Evaluate, fd: int) -> Evaluate:
    """``evaluate`` that sets the marker's state byte while it runs: two ``pwrite`` calls per trial
    (~2 µs), so the main process can end a trial stuck where no signal gets through."""
    pwrite = os.pwrite

    def flagged(config: Any, fidelity: float | None, seed: int) -> Result:
        pwrite(fd, b"T", 0)
        try:
            return evaluate(config, fidelity, seed)
        finally:
            pwrite(fd, b"-", 0)

    return flagged


class TimeLimitExceeded(BaseException):
    """A run passed its ``trial_timeout`` or ``run_timeout``.

    A ``BaseException``, like ``KeyboardInterrupt``, so that a task's or an optimizer's
    own ``except Exception`` cannot swallow it and keep a hung run going.
    """


class TimeLimits:
    """Enforce a per-trial and a per-run wall-clock limit (see the module docstring).

    ``watchdog`` (an open file) enables layer 3: ``faulthandler`` writes there and ends the
    process when a limit is overrun by more than :data:`HARD_LIMIT_GRACE`. Only a worker
    process that runs nothing else may pass it. ``on_swallowed(reason)`` is layer 2's action.
    """

    def __init__(
        self,
        trial_timeout: float | None,
        run_timeout: float | None,
        *,
        watchdog: IO[str] | None = None,
        on_swallowed: Callable[[str], None] | None = None,
    ) -> None:
        #: With a watchdog file (a run marker), its first byte tells the main process whether a
        #: trial is evaluating (``T``) and, by its mtime, since when (bench/worker.py).
        self.trial, self.run = trial_timeout, run_timeout
        self.deadline = math.inf
        self.use_signal = False
        self._reason = ""
        self._previous: Any = None
        self._fired = False
        self.watchdog, self.on_swallowed = watchdog, on_swallowed
        self.trial_msg = f"a trial exceeded trial_timeout={trial_timeout:g} s" if trial_timeout else ""
        self.run_msg = f"the run exceeded run_timeout={run_timeout:g} s" if run_timeout else ""

    def __enter__(self) -> TimeLimits:
        if self.run is not None:
            self.deadline = time.perf_counter() + self.run
        self.use_signal = (
            hasattr(signal, "setitimer")
            and threading.current_thread() is threading.main_thread()
            and signal.getitimer(signal.ITIMER_REAL)[0] == 0
        )  # never steal a timer
        if self.use_signal:
            self._previous = signal.signal(signal.SIGALRM, self._fire)
            self._arm_run()
        if self.watchdog is not None and self.run is not None:
            self._arm_watchdog(self.deadline - time.perf_counter() + HARD_LIMIT_GRACE)
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.watchdog is not None:
            faulthandler.cancel_dump_traceback_later()
        if self.use_signal:
            signal.setitimer(signal.ITIMER_REAL, 0)
            # None: a handler not installed from Python; the default is the closest we can restore.
            signal.signal(signal.SIGALRM, signal.SIG_DFL if self._previous is None else self._previous)

    def _arm_watchdog(self, seconds: float) -> None:
        assert self.watchdog is not None
        faulthandler.dump_traceback_later(min(max(seconds, 0.0), _MAX_TIMER), exit=True, file=self.watchdog)

    def _fire(self, signum: int, frame: object) -> None:
        if self._fired and self.on_swallowed is not None:
            # The interrupt raised HARD_LIMIT_GRACE s ago was caught and the run went on.
            self.on_swallowed(
                f"{self._reason}, and the run went on for {HARD_LIMIT_GRACE:g} s after the "
                "interrupt (the task or optimizer caught TimeLimitExceeded)"
            )
        self._fired = True
        signal.setitimer(signal.ITIMER_REAL, HARD_LIMIT_GRACE)  # fires again only if swallowed
        if self.watchdog is not None:  # ... and if the run then hangs in C, layer 3 ends it
            self._arm_watchdog(2 * HARD_LIMIT_GRACE)
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
        if self.watchdog is not None and trial is not None:
            evaluate = _flagged(evaluate, self.watchdog.fileno())

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
