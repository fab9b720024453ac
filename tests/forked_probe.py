"""Run a probe in a forked child and see what it imported: the recorded-libraries tests' tool.

Each probe (an optimizer's run, a task's evaluations) must see only its own imports, so it runs in
a fork of a process that has imported just the harness, and nothing it imports reaches the next
probe. The driver scripts of ``tests/test_optimizers_recorded_libraries.py`` and
``tests/test_tasks_recorded_libraries.py`` import this module by path (their subprocesses put this
folder on ``sys.path``).

Example:
    >>> import os
    >>> in_fork(lambda: 6 * 7) if hasattr(os, "fork") else (42, [], None)
    (42, [], None)
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from typing import Any


def top_level_modules() -> set[str]:
    """The top-level names of every imported module (``sklearn`` for ``sklearn.ensemble``)."""
    return {m.partition(".")[0] for m in sys.modules}


def in_fork(probe: Callable[[], Any]) -> tuple[Any, list[str], str | None]:
    """``(result, modules, error)``: what ``probe()`` returned (JSON values) in a forked child, the
    top-level modules the child imported that this process had not, and ``repr`` of what the probe
    raised, or a line saying the child died without answering (``None`` when it answered)."""
    before = top_level_modules()
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: nothing it imports reaches this process
        os.close(r)
        try:
            result, error = probe(), None
        except BaseException as exc:  # the probe's failure is its answer
            result, error = None, repr(exc)
        answer = [result, sorted(top_level_modules() - before), error]
        os.write(w, json.dumps(answer).encode())
        os._exit(0)
    os.close(w)
    data = b""
    while chunk := os.read(r, 1 << 16):
        data += chunk
    _, status = os.waitpid(pid, 0)
    if not data:
        return None, [], f"the child died without answering (wait status {status})"
    result, modules, error = json.loads(data)
    return result, modules, error
