"""Tasks that end, or refuse to end, the process they run in: loaded as a user plugin by the
fault tests (NXMBENCH_TASK_MODULES=deadly_plugin).

``deadly/<mode>`` does its damage in its first ``evaluate``, always, so which runs die is known
in advance. Modes:

* ``segv`` (a real SIGSEGV: reads address 0), ``abort`` (SIGABRT), ``sigkill`` (SIGKILL, what
  the out-of-memory killer sends), ``exit`` (``os._exit(3)``), ``sysexit``
  (``raise SystemExit(4)``), ``kbint`` (``raise KeyboardInterrupt``): the process dies, or would;
* ``swallow``: sleeps inside ``while True: try: ... except: pass``, catching every interrupt;
* ``chang``: hangs inside one C call (libc ``sleep``) that holds the GIL, with SIGALRM blocked,
  so no Python signal handler ever runs;
* ``ok``: a plain quadratic.
"""

from __future__ import annotations

import ctypes
import os
import signal
import time
from collections.abc import Mapping
from typing import Any

from faulty_plugin import FaultyTask

from tasks.base import Result, Task, TaskFamily, TaskMeta

MODES = ("ok", "segv", "abort", "sigkill", "exit", "sysexit", "kbint", "swallow", "chang")


class DeadlyTask(FaultyTask):
    """``FaultyTask``'s space and objective (``x`` in [-1, 1], minimize ``x**2``), its own family."""

    def __init__(self, task_id: str) -> None:
        super().__init__(task_id)
        self.meta = TaskMeta(family="deadly", type="bb", kind="synthetic", dims=1, optimum=(0.0,))

    def evaluate(self, config: Mapping[str, Any], fidelity: float | None = None, seed: int = 0) -> Result:
        mode = self.mode
        if mode == "segv":
            ctypes.string_at(0)  # a real segmentation fault, in this thread, as a C extension's would be
        elif mode == "abort":
            os.abort()
        elif mode == "sigkill":
            os.kill(os.getpid(), signal.SIGKILL)
        elif mode == "exit":
            os._exit(3)
        elif mode == "sysexit":
            raise SystemExit(4)
        elif mode == "kbint":
            raise KeyboardInterrupt
        elif mode == "swallow":
            while True:  # the point of this task: a bare except swallows every interrupt
                try:  # noqa: SIM105
                    time.sleep(3600)
                except:  # noqa: E722
                    pass
        elif mode == "chang":
            # Stuck in C with the GIL held and no signal getting through, as a native solver can be.
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
            ctypes.PyDLL(None).sleep(3600)
        return Result((float(config["x"]) ** 2,))


class DeadlyFamily(TaskFamily):
    name = "deadly"
    description = "tasks that kill or hang their process on purpose"

    def ids(self) -> list[str]:
        return [f"deadly/{m}" for m in MODES]

    def make(self, task_id: str) -> Task:
        if task_id not in self.ids():
            raise ValueError(f"unknown deadly task {task_id!r}")
        return DeadlyTask(task_id)


class HangsWhenBuilt(TaskFamily):
    """``hangbuild/forever``: building the task never returns (and swallows every interrupt)."""

    name = "hangbuild"
    description = "a task whose constructor hangs"

    def ids(self) -> list[str]:
        return ["hangbuild/forever"]

    def make(self, task_id: str) -> Task:
        while True:  # swallows every interrupt on purpose
            try:  # noqa: SIM105
                time.sleep(3600)
            except:  # noqa: E722
                pass


def families() -> list[TaskFamily]:
    return [DeadlyFamily(), HangsWhenBuilt()]
