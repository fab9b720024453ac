"""SIGTERM stops the whole sweep at once; leftovers of killed processes are cleaned up.

* SIGTERM to the main process (a batch scheduler's ``scancel``, a user's ``kill``) stops every
  worker: the command exits 143 with one line, no process of the sweep is left, no result is
  written afterwards, and the same command resumes.
* ``kill -9`` of the main process takes its workers with it.
* Temp files, writability probes and run markers of processes that are gone are removed from
  the study folder and its ``runs/`` by the next sweep; those of live processes are not.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.config import OptimizerChoice, StudyConfig
from bench.parallel import run_all
from bench.plan import make_plan
from optimizers.base import Budget

SLOW_STUDY = """
    name: slow
    optimizers: [random_search]
    tasks: [stall/slow]
    seeds: 40
    n_trials: 50
"""


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def _start(study_conf, cli_env, tmp_path: Path) -> tuple[subprocess.Popen[str], Path]:
    conf = study_conf("slow", SLOW_STUDY)
    runs = tmp_path / "results" / "slow" / "runs"
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench", "study=slow", "n_jobs=2", "progress=false"],
        cwd=tmp_path,
        env=cli_env(conf, plugins=True),
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(list(runs.glob("*.parquet"))) < 2:
        time.sleep(0.05)
    assert proc.poll() is None, "the study ended before the signal"
    return proc, runs


@pytest.mark.slow
def test_sigterm_stops_the_workers_and_exits_143(study_conf, cli_env, tmp_path: Path) -> None:
    proc, runs = _start(study_conf, cli_env, tmp_path)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 143, err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("terminated (SIGTERM)"), err
    deadline = time.monotonic() + 5
    while _group_alive(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _group_alive(proc.pid), "a worker outlived the sweep"
    written = sorted(p.name for p in runs.iterdir())
    time.sleep(1.0)
    assert sorted(p.name for p in runs.iterdir()) == written  # nobody writes after the exit
    assert not [n for n in written if n.startswith(".")]  # no temp file or marker left


@pytest.mark.slow
def test_kill_9_of_the_main_process_takes_the_workers_with_it(study_conf, cli_env, tmp_path: Path) -> None:
    proc, runs = _start(study_conf, cli_env, tmp_path)
    os.kill(proc.pid, signal.SIGKILL)  # the main process only, not its group
    proc.communicate(timeout=30)
    deadline = time.monotonic() + 5
    while _group_alive(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _group_alive(proc.pid), "a worker outlived the main process"
    written = {p.name for p in runs.glob("*.parquet")}
    time.sleep(1.0)
    assert {p.name for p in runs.glob("*.parquet")} == written


def test_leftovers_of_dead_processes_are_removed_and_live_ones_kept(tmp_path: Path) -> None:
    host = socket.gethostname().replace("~", "-")
    dead, live = 2**22 + 12345, os.getpid()  # no such pid / this process
    study = StudyConfig(
        "clean",
        (OptimizerChoice("random_search", "optimizers.random_search.RandomSearch"),),
        ("synthetic/branin",),
        (0,),
        Budget(3),
    )
    study_dir, runs = tmp_path / "clean", tmp_path / "clean" / "runs"
    runs.mkdir(parents=True)
    owner = f"{host}~{dead}"
    stale = [
        study_dir / f".study.json~{owner}.tmp",
        runs / f".x.parquet~{owner}.tmp",
        runs / f".x.parquet~{owner}.running",
        study_dir / f".write-test~ab12cd34~{owner}.tmp",
        study_dir / ".write-test-0123456789abcdef",
    ]
    kept = [study_dir / f".study.json~{host}~{live}.tmp", runs / f".y.parquet~otherhost~{dead}.tmp"]
    for p in stale + kept:
        p.write_text("x")
    old = time.time() - 3600
    os.utime(study_dir / ".write-test-0123456789abcdef", (old, old))  # a probe of an older version
    run_all(make_plan(study).specs, tmp_path, n_jobs=1, progress=False)
    assert [p.name for p in stale if p.exists()] == []
    assert all(p.exists() for p in kept)


def test_the_pools_resource_tracker_stays_quiet_about_killed_workers_semaphores(tmp_path: Path) -> None:
    # Killing the pool (SIGTERM, Ctrl-C) leaves its semaphores registered; loky's resource tracker
    # unlinks them when the main process exits and printed two warnings per semaphore on the
    # command's stderr after the one-line message. Leaking one on purpose shows the same.
    script = (
        "from bench.supervisor import _executor\n"
        "from joblib.externals.loky.backend import resource_tracker\n"
        "assert _executor(1).submit(abs, -1).result() == 1\n"
        "resource_tracker.register('/loky-leaked-on-purpose', 'semlock')\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
