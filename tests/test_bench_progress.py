"""The progress bar writes to the ``sys.stderr`` of the moment it is made.

A caller that replaced ``sys.stderr`` after ``bench.parallel`` was imported (pytest's capture, a
notebook, a redirect) must get the bar there, not on the stream of import time, which may be
closed by then ("I/O operation on closed file" in a later test).
"""

from __future__ import annotations

import io
import sys

import pytest

from bench.loop import RunOutcome
from bench.parallel import Progress


def test_progress_writes_to_the_current_stderr(monkeypatch: pytest.MonkeyPatch) -> None:
    closed = io.StringIO()
    monkeypatch.setattr(sys, "stderr", closed)
    closed.close()  # the stream of an earlier caller, gone
    now = io.StringIO()
    monkeypatch.setattr(sys, "stderr", now)
    bar = Progress(1)
    bar.update(RunOutcome("r", "t", "o", 0, "ok", 1, 0.0, 0.1))
    assert "1/1 runs" in now.getvalue()
