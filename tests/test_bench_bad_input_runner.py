"""Where runs would execute or be written is checked before anything is written.

* An unreachable dask scheduler: a bounded wait (``backend.connect_timeout``), then one line
  naming the address, exit 2, no results folder.
* A study whose ``runs/`` folder is read-only: one line naming the folder, exit 2, the study's
  files untouched (as root, permission bits do not stop writes: a read-only bind mount does).
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_unreachable_dask_scheduler_is_one_line_after_a_bounded_wait(run_cli, tmp_path: Path) -> None:
    pytest.importorskip("dask.distributed")
    address = f"tcp://127.0.0.1:{_free_port()}"  # nothing listens there
    t0 = time.monotonic()
    proc = run_cli(
        "optimizer=random_search",
        "task=synthetic/branin",
        "n_trials=3",
        "backend=dask",
        f"backend.address={address}",
        "backend.connect_timeout=2",
        timeout=120,
    )
    elapsed = time.monotonic() - t0
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert proc.returncode == 2 and len(lines) == 1, proc.stderr
    assert address in lines[0] and "within 2 s" in lines[0] and "Traceback" not in proc.stderr
    assert elapsed < 60
    assert not (tmp_path / "results").exists()


@pytest.fixture
def read_only_runs(tmp_path: Path) -> Iterator[Path]:
    """``results/ro/runs`` made read-only: by permissions, or for root by a read-only bind mount."""
    runs = tmp_path / "results" / "ro" / "runs"
    runs.mkdir(parents=True)
    (runs / "keep.txt").write_text("untouched")
    if os.geteuid() != 0:
        runs.chmod(0o555)
        yield runs
        runs.chmod(0o755)
        return
    bind = subprocess.run(["mount", "--bind", str(runs), str(runs)], capture_output=True, text=True)
    if bind.returncode:
        pytest.skip(f"cannot bind-mount here: {bind.stderr.strip()}")
    try:
        ro = subprocess.run(["mount", "-o", "remount,ro,bind", str(runs)], capture_output=True, text=True)
        if ro.returncode:
            pytest.skip(f"cannot remount read-only here: {ro.stderr.strip()}")
        yield runs
    finally:
        subprocess.run(["umount", "-l", str(runs)], check=False)


def test_read_only_runs_folder_is_refused_before_anything_is_written(
    run_cli, tmp_path: Path, read_only_runs: Path
) -> None:
    proc = run_cli("optimizer=random_search", "task=synthetic/branin", "n_trials=3", "name=ro")
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert proc.returncode == 2 and len(lines) == 1, (proc.stdout, proc.stderr)
    assert "results/ro/runs" in lines[0] and "is not writable" in lines[0]
    assert sorted(p.name for p in read_only_runs.parent.iterdir()) == ["runs"]  # no study.json
    assert [p.name for p in read_only_runs.iterdir()] == ["keep.txt"]
