"""A study on a real Slurm cluster through dask-jobqueue gives the same results as loky.

docs/scaling-out.md tells users to run studies on Slurm with dask-jobqueue's ``SLURMCluster`` and
``backend=dask backend.address=...``. This test starts a private single-node Slurm cluster on this
machine (munged, slurmctld and slurmd, each with its own files in a temporary folder and its own
ports, so a Slurm already running here is never touched), submits the dask workers as Slurm jobs
and checks the study run on them run by run against the same study run with loky.

Wherever Slurm cannot start (not installed, not root, munged or a daemon refuses to start, the node
never becomes idle, a plain batch job does not run) the test skips with the reason in one line: it
is a test of this package on Slurm, not of the machine. Once Slurm runs jobs, any difference in the
results is a failure.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from bench import results

#: Seconds the node has to become idle after the daemons start (it takes a few).
NODE_IDLE_TIMEOUT = 60.0
#: Seconds to wait for the dask workers' Slurm jobs to start and their workers to join.
WORKERS_TIMEOUT = 120.0
#: The daemons and client commands the cluster needs.
SLURM_BINARIES = ("munged", "slurmctld", "slurmd", "sinfo", "sbatch", "squeue", "scancel")

#: The study: 2 optimizers x 2 tasks x 2 seeds = 8 runs of 10 trials (seconds of work).
STUDY = (
    "-m",
    "optimizer=random_search,optuna_tpe",
    "task=bbob/f01/d02/i01,bbob/f02/d02/i01",
    "seed=0,1",
    "n_trials=10",
    "name=slurm_smoke",
    "progress=false",
)
N_RUNS = 8
#: The one partition of the private cluster (the default one, so SLURMCluster needs no queue=).
PARTITION = "debug"
#: The trial table's columns that must not depend on the backend (times and timestamps do).
COLUMNS = [
    "study",
    "run_id",
    "task",
    "optimizer",
    "seed",
    "trial",
    "config",
    "value",
    "values",
    "fidelity",
    "cost",
    "budget_used",
    "run_status",
]


@dataclass(frozen=True)
class Slurm:
    """A running private Slurm cluster: its config file and the environment its commands need."""

    conf: Path
    env: dict[str, str]

    def run(self, *args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
        """A Slurm client command (``sinfo``, ``squeue``, ...) against this cluster."""
        return subprocess.run(
            args, env=self.env, text=True, capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL
        )


def _tail(path: Path, n: int = 3) -> str:
    """The last ``n`` non-empty lines of a daemon's log, joined into one line for a skip reason."""
    try:
        lines = [ln.strip() for ln in path.read_text(errors="replace").splitlines() if ln.strip()]
    except OSError:
        return f"(no log at {path.name})"
    return " | ".join(lines[-n:]) or f"({path.name} is empty)"


def _free_port() -> int:
    """A TCP port nobody listens on now, so the daemons never collide with a Slurm already here."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(condition: Callable[[], bool], timeout: float, procs: list[subprocess.Popen[bytes]]) -> bool:
    """Poll ``condition`` until it holds (True), ``timeout`` passes or one of ``procs`` exits (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        if any(p.poll() is not None for p in procs):
            return False
        time.sleep(0.5)
    return condition()


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop one daemon this fixture started (by its own process object, never by name)."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def _searchable_tmp() -> str | None:
    """The temp folder, or /tmp where a folder above it is not searchable by all (munged refuses it)."""
    for candidate in (tempfile.gettempdir(), "/tmp"):
        path = Path(candidate).resolve()
        if path.is_dir() and all(d.stat().st_mode & 0o001 for d in (path, *path.parents)):
            return str(path)
    return None


def _node_line() -> str:
    """This machine's node definition as slurmd sees it (CPUs, sockets, RealMemory), without UpTime."""
    try:
        out = subprocess.run(
            ["slurmd", "-C"], text=True, capture_output=True, timeout=30, stdin=subprocess.DEVNULL
        )
    except (OSError, subprocess.SubprocessError) as exc:
        pytest.skip(f"Slurm cannot start: `slurmd -C` failed ({exc})")
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("NodeName=")), None)
    if out.returncode != 0 or line is None:
        pytest.skip(f"Slurm cannot start: `slurmd -C` printed no node line ({out.stderr.strip()[:200]})")
    return re.sub(r"\s*UpTime=\S+", "", line)


def _node_name(node: str) -> str:
    """The NodeName of a node definition line (the host's short name, as slurmd finds itself)."""
    match = re.match(r"NodeName=(\S+)", node)
    assert match is not None, node
    return match.group(1)


def _slurm_conf(root: Path, node: str, munge_socket: Path) -> str:
    """A minimal slurm.conf: one node, one partition, no accounting, no cgroups, all files in ``root``."""
    host = _node_name(node)
    return "\n".join(
        [
            "ClusterName=nxmbench",
            f"SlurmctldHost={host}(127.0.0.1)",
            f"SlurmctldPort={_free_port()}",
            f"SlurmdPort={_free_port()}",
            "SlurmUser=root",
            "SlurmdUser=root",
            "AuthType=auth/munge",
            "CredType=cred/munge",
            f"AuthInfo=socket={munge_socket}",
            f"StateSaveLocation={root / 'state'}",
            f"SlurmdSpoolDir={root / 'spool'}",
            f"SlurmctldPidFile={root / 'slurmctld.pid'}",
            f"SlurmdPidFile={root / 'slurmd.pid'}",
            f"SlurmctldLogFile={root / 'slurmctld.log'}",
            f"SlurmdLogFile={root / 'slurmd.log'}",
            "ProctrackType=proctrack/linuxproc",
            "TaskPlugin=task/none",
            "SelectType=select/cons_tres",
            "SelectTypeParameters=CR_Core",
            "SchedulerType=sched/backfill",
            "ReturnToService=2",
            "MpiDefault=none",
            "JobAcctGatherType=jobacct_gather/none",
            "AccountingStorageType=accounting_storage/none",
            "JobCompType=jobcomp/none",
            f"{node} NodeAddr=127.0.0.1 State=UNKNOWN",
            f"PartitionName={PARTITION} Nodes={host} Default=YES MaxTime=INFINITE State=UP",
            "",
        ]
    )


def _node_idle(env: dict[str, str]) -> bool:
    """Whether ``sinfo`` shows the node idle (ready for jobs)."""
    try:
        out = subprocess.run(["sinfo", "-h", "-o", "%T"], env=env, text=True, capture_output=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return False
    return out.returncode == 0 and out.stdout.split() == ["idle"]


@pytest.fixture(scope="session")
def slurm() -> Iterator[Slurm]:
    """A single-node Slurm cluster on localhost (munged, slurmctld, slurmd), stopped afterwards.

    Everything lives in one temporary folder: a fresh munge key and socket, the config, state,
    spool, pid and log files; the ports are free ones. Only the processes started here are stopped.
    """
    missing = [b for b in SLURM_BINARIES if shutil.which(b) is None]
    if missing:
        pytest.skip(
            f"Slurm is not installed ({', '.join(missing)} not on PATH): apt-get install slurm-wlm munge"
        )
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        pytest.skip("a private Slurm cluster needs root (SlurmUser=root, munged with its own key)")
    # Importing dask-jobqueue replaces this process's SIGINT handler (with a lambda of its own):
    # later tests of Ctrl-C in this process need Python's default one back.
    previous = signal.getsignal(signal.SIGINT)
    try:
        import dask_jobqueue  # noqa: F401
    except ImportError as exc:
        pytest.skip(f"dask-jobqueue is not importable ({exc}): pip install 'nxm-bench[dask]'")
    finally:
        signal.signal(signal.SIGINT, previous)
    node = _node_line()

    with ExitStack() as stack:
        # munged requires every folder above its socket to be searchable by all: a 0755 folder
        # under the system temp folder, not pytest's 0700 one.
        root = Path(tempfile.mkdtemp(prefix="nxm-bench-slurm-", dir=_searchable_tmp()))
        stack.callback(shutil.rmtree, root, ignore_errors=True)
        root.chmod(0o755)
        for sub in ("munge", "state", "spool", "jobs"):
            (root / sub).mkdir()
        (root / "munge").chmod(0o755)
        key = root / "munge" / "munge.key"
        key.write_bytes(os.urandom(1024))
        key.chmod(0o400)
        sock = root / "munge" / "munge.sock"

        # The daemons and client commands see this cluster only, whatever Slurm job this runs in.
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLURM_", "SBATCH_", "SQUEUE_"))}
        env["SLURM_CONF"] = str(root / "slurm.conf")
        procs: list[subprocess.Popen[bytes]] = []

        def start(name: str, *args: str) -> subprocess.Popen[bytes]:
            """Start a daemon in the foreground (so this fixture owns its process), output to a log."""
            log = stack.enter_context((root / f"{name}.out").open("wb"))
            proc = subprocess.Popen(
                [name, *args], stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env
            )
            procs.append(proc)
            stack.callback(_stop, proc)  # LIFO: slurmd, then slurmctld, then munged
            return proc

        munged = start(
            "munged",
            "-F",
            f"--key-file={key}",
            f"--socket={sock}",
            f"--pid-file={root / 'munge' / 'munged.pid'}",
            f"--log-file={root / 'munge' / 'munged.log'}",
            f"--seed-file={root / 'munge' / 'munged.seed'}",
        )
        if not _wait(sock.exists, 15, [munged]):
            pytest.skip(f"Slurm cannot start: munged did not start ({_tail(root / 'munged.out', 1)})")

        conf = root / "slurm.conf"
        conf.write_text(_slurm_conf(root, node, sock))
        start("slurmctld", "-D", "-f", str(conf))
        start("slurmd", "-D", "-f", str(conf), "-N", _node_name(node))
        if not _wait(lambda: _node_idle(env), NODE_IDLE_TIMEOUT, procs):
            pytest.skip(
                f"Slurm started but the node did not become idle within {NODE_IDLE_TIMEOUT:g} s "
                f"(slurmctld: {_tail(root / 'slurmctld.log', 1)}; slurmd: {_tail(root / 'slurmd.log', 1)})"
            )
        cluster = Slurm(conf, env)
        stack.callback(_cancel_all_jobs, cluster)

        # A plain batch job first: if Slurm cannot run a job here at all, that is the machine.
        smoke = root / "jobs" / "smoke.out"
        try:
            done = cluster.run(
                "sbatch",
                "--wait",
                "--time=1",
                f"--chdir={root}",
                f"--output={smoke}",
                "--wrap=echo ok",
                timeout=60,
            )
        except subprocess.TimeoutExpired:
            pytest.skip("Slurm started but a plain `sbatch --wrap='echo ok'` did not finish within 60 s")
        if done.returncode != 0 or "ok" not in (smoke.read_text() if smoke.exists() else ""):
            pytest.skip(
                f"Slurm started but cannot run a batch job (sbatch: {done.stderr.strip()[:200]}; "
                f"slurmd: {_tail(root / 'slurmd.log', 1)})"
            )
        yield cluster


def _cancel_all_jobs(cluster: Slurm) -> None:
    """Cancel what is left in this private cluster (all of it is this test's) before slurmd stops."""
    try:
        cluster.run("scancel", f"--partition={PARTITION}")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            out = cluster.run("squeue", "-h", "-o", "%i")
            if out.returncode != 0 or not out.stdout.strip():
                return
            time.sleep(0.5)
    except (OSError, subprocess.SubprocessError):
        pass  # stopping slurmd ends whatever is left


def _trials(folder: Path) -> pd.DataFrame:
    """The backend-independent part of a study's trial table, in a stable order."""
    df = results.load(folder)[COLUMNS].copy()
    for col in ("study", "run_id", "task", "optimizer", "run_status"):
        df[col] = df[col].astype(str)
    df["values"] = [[float(v) for v in vals] if vals is not None else None for vals in df["values"]]
    return df.sort_values(["run_id", "trial"]).reset_index(drop=True)


@pytest.mark.slow
def test_study_on_slurm_matches_loky(
    slurm: Slurm,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    bench: Callable[..., subprocess.CompletedProcess[str]],
    cli_env: Callable[..., dict[str, str]],
) -> None:
    """dask-jobqueue submits two workers as Slurm jobs; the study run on them equals the loky run."""
    from dask.distributed import Client
    from dask_jobqueue import SLURMCluster

    # sbatch, squeue and scancel (called by dask-jobqueue in this process) must find the private
    # cluster, and the jobs (which inherit this environment) must import this checkout.
    for key in [k for k in os.environ if k.startswith(("SLURM_", "SBATCH_", "SQUEUE_"))]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("SLURM_CONF", str(slurm.conf))
    monkeypatch.setenv("PYTHONPATH", cli_env()["PYTHONPATH"])

    jobs = tmp_path / "jobs"
    cluster: Any = SLURMCluster(
        cores=1,
        processes=1,
        memory="1GB",
        walltime="00:10:00",
        python=sys.executable,
        local_directory=str(tmp_path / "dask"),
        log_directory=str(jobs),
        job_extra_directives=[f"--chdir={tmp_path}"],
        scheduler_options={"host": "127.0.0.1"},
        death_timeout=60,
    )
    try:
        script = cluster.job_script()
        assert "#SBATCH" in script and sys.executable in script, script
        cluster.scale(2)
        with Client(cluster) as client:
            try:
                client.wait_for_workers(2, timeout=WORKERS_TIMEOUT)
            except TimeoutError:
                logs = " | ".join(f"{p.name}: {p.read_text()[-300:]}" for p in sorted(jobs.glob("*")))
                pytest.fail(f"the dask workers' Slurm jobs did not join within {WORKERS_TIMEOUT:g} s: {logs}")
            # the workers are Slurm jobs of this cluster, running now
            queue = slurm.run("squeue", "-h", "-o", "%i %T").stdout.split("\n")
            running = {ln.split()[0] for ln in queue if ln.strip().endswith("RUNNING")}
            job_ids = client.run(lambda: os.environ.get("SLURM_JOB_ID"))
            assert len(set(job_ids.values())) == 2 and set(job_ids.values()) <= running, (job_ids, queue)

            slurm_run = bench(
                tmp_path,
                *STUDY,
                "backend=dask",
                f"backend.address={cluster.scheduler_address}",
                f"output_dir={tmp_path / 'slurm'}",
            )
            assert slurm_run.returncode == 0, slurm_run.stdout + slurm_run.stderr
            assert f"{N_RUNS} ran this time (0 failed)" in slurm_run.stdout, slurm_run.stdout

            # the runs executed on the Slurm workers, not in the bench process
            executed = client.run(lambda dask_worker: dask_worker.state.executed_count)
            assert sum(executed.values()) >= N_RUNS, executed
    finally:
        cluster.close()

    loky_run = bench(tmp_path, *STUDY, "n_jobs=2", f"output_dir={tmp_path / 'loky'}")
    assert loky_run.returncode == 0, loky_run.stdout + loky_run.stderr

    on_slurm, on_loky = _trials(tmp_path / "slurm"), _trials(tmp_path / "loky")
    assert sorted(on_slurm["run_id"].unique()) == sorted(on_loky["run_id"].unique())
    assert on_slurm["run_id"].nunique() == N_RUNS and len(on_slurm) == N_RUNS * 10
    pd.testing.assert_frame_equal(on_slurm, on_loky)
