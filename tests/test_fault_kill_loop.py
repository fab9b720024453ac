"""kill -9 of the whole study, over and over: the re-runs lose, duplicate and corrupt nothing.

A 1,500-run study runs as ``python -m bench`` in its own process group; at least 20 times,
once new result files show that runs are being written, the group (main process and
loky workers) gets SIGKILL after a seeded random delay, and the study is restarted,
which resumes. Rounds alternate ``n_jobs=2`` and ``n_jobs=1``: the latter spends most
of its time writing results, so kills land inside writes too, and it starts faster.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench import results
from bench.config import OptimizerChoice, StudyConfig
from bench.plan import make_plan
from optimizers.base import Budget

TASKS = [
    "synthetic/branin",
    "synthetic/hartmann3",
    "synthetic/hartmann6",
    "bbob/f01/d02/i01",
    "bbob/f02/d02/i01",
]
#: Enough runs that 20 rounds never finish the study: a round writes up to ~40 runs before its kill
#: (up to 0.15 s at a few ms per run on 2 workers), and a study that finishes early kills nothing.
N_SEEDS, N_TRIALS, N_KILLS = 300, 3, 20
N_RUNS = N_SEEDS * 5
STUDY = f"""
name: killloop
optimizers: [random_search]
tasks: [{", ".join(TASKS)}]
seeds: {N_SEEDS}
n_trials: {N_TRIALS}
"""


def _files(runs: Path) -> set[str]:
    return {p.name for p in runs.glob("*.parquet")} if runs.is_dir() else set()


def _group_gone(pgid: int, timeout: float = 10.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


@pytest.mark.slow
def test_repeated_kill_9_loses_duplicates_and_corrupts_nothing(tmp_path: Path) -> None:
    conf = tmp_path / "conf"
    (conf / "study").mkdir(parents=True)
    (conf / "study" / "killloop.yaml").write_text(STUDY)
    env = dict(
        os.environ, NXMBENCH_CONFIG_PATH=str(conf), PYTHONPATH=str(Path(__file__).resolve().parents[1])
    )
    runs = tmp_path / "results" / "killloop" / "runs"
    rng = random.Random(1234)
    kills = 0
    while kills < N_KILLS:
        before = _files(runs)
        assert len(before) < N_SEEDS * len(TASKS), f"study finished after only {kills} kills"
        n_jobs = 2 if kills % 2 == 0 else 1  # loky workers start slowly: half the rounds skip them
        proc = subprocess.Popen(
            [sys.executable, "-m", "bench", "study=killloop", f"n_jobs={n_jobs}", "progress=false"],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )  # its own process group: the kill reaches the workers too
        # Kill only once runs are being written, so kills land mid-run and mid-write.
        deadline = time.monotonic() + 120
        while not (_files(runs) - before) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert proc.poll() is None, "the study ended before it could be killed"
        time.sleep(rng.uniform(0.0, 0.15))
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        assert _group_gone(proc.pid), "a worker survived the kill"
        kills += 1

    killed_with = len(_files(runs))
    final = subprocess.run(
        [sys.executable, "-m", "bench", "study=killloop", "n_jobs=2", "progress=false"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert final.returncode == 0, final.stderr
    assert f"{killed_with} already done" in final.stdout

    study = StudyConfig(
        "killloop",
        (OptimizerChoice("random_search", "optimizers.random_search.RandomSearch"),),
        tuple(TASKS),
        tuple(range(N_SEEDS)),
        Budget(N_TRIALS),
    )
    specs = {f"{s.run_id}.parquet": s for s in make_plan(study).specs}
    assert len(specs) == N_RUNS
    # exactly one file per planned run; nothing else (no temp, partial or .corrupt file) left
    assert sorted(p.name for p in runs.iterdir()) == sorted(specs)
    for name, spec in specs.items():
        meta = results.read_run_meta(runs / name)
        assert meta["status"] == "ok" and meta["fingerprint"] == spec.fingerprint, name
    df = results.load(runs)
    assert df.groupby("run_id", observed=True).size().eq(N_TRIALS).all()
    assert df["run_id"].nunique() == N_RUNS and not df.duplicated(["run_id", "trial"]).any()
