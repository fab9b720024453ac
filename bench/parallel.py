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
import os
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import joblib

from bench.config import BackendConfig, ConfigError
from bench.loop import RunOutcome, run_one, run_path
from bench.results import ResultWriteError, finished_fingerprint, remove_stale_temp_files
from bench.spec import RunSpec


@dataclass
class SweepResult:
    outcomes: list[RunOutcome] = field(default_factory=list)
    skipped: int = 0
    elapsed: float = 0.0

    @property
    def failed(self) -> list[RunOutcome]:
        return [o for o in self.outcomes if o.status != "ok"]


def check_writable(directory: Path) -> None:
    """Fail fast, before any run, if results cannot be written to ``directory``."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        probe = directory / f".write-test-{uuid.uuid4().hex}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise ConfigError(
            f"output_dir={str(directory)!r} is not writable ({exc.strerror or exc}): "
            "choose another with output_dir=PATH") from exc


def pending(specs: Sequence[RunSpec], output_dir: Path) -> tuple[list[RunSpec], int]:
    """Specs still to run: missing, failed, or finished under a different spec (fingerprint)."""
    todo = [s for s in specs if finished_fingerprint(run_path(output_dir, s)) != s.fingerprint]
    return todo, len(specs) - len(todo)


class Progress:
    """One status line with rate and ETA: redrawn in place on a terminal, every ~10% otherwise."""

    def __init__(self, total: int, stream: TextIO = sys.stderr, enabled: bool = True) -> None:
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
        line = (f"[{bar:<24}] {self.done}/{self.total} runs {frac:4.0%} "
                f"| {self.done / elapsed:5.1f} runs/s | elapsed {_hms(elapsed)} ETA {_hms(eta)}"
                f" | failed {self.failed}")
        self.stream.write(("\r" + line) if self.tty else line + "\n")
        if self.tty and self.done == self.total:
            self.stream.write("\n")
        self.stream.flush()


def _hms(seconds: float) -> str:
    s = int(seconds + 0.5)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


@contextlib.contextmanager
def _backend(backend: BackendConfig, n_jobs: int) -> Iterator[dict[str, Any]]:
    """joblib arguments for the chosen backend; for dask, connect to (or start) a cluster."""
    if backend.name != "dask":
        yield {"backend": backend.name, "n_jobs": n_jobs}
        return
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError as exc:
        raise ConfigError("backend=dask needs the dask extra: pip install 'nxm-bench[dask]'") from exc
    if backend.address:
        client = Client(backend.address)
        cluster = None
    else:
        workers = backend.n_workers or (n_jobs if n_jobs > 0 else os.cpu_count() or 1)
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True)
        client = Client(cluster)
    try:
        with joblib.parallel_config(backend="dask"):
            yield {"n_jobs": -1}
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def run_all(specs: Sequence[RunSpec], output_dir: Path, n_jobs: int = -1,
            backend: BackendConfig | None = None, progress: bool = True) -> SweepResult:
    """Run every pending spec; failures are recorded per run and never stop the sweep.

    Only a result that cannot be written (:class:`~bench.results.ResultWriteError`: disk
    full, output unwritable) stops it, since every later run would be lost too; the runs
    already written stay and a re-run resumes after them.
    """
    check_writable(output_dir)
    runs_dirs = {run_path(output_dir, s).parent for s in specs}
    for runs_dir in runs_dirs:
        remove_stale_temp_files(runs_dir)  # left by writers killed earlier (kill -9, power loss)
    todo, skipped = pending(specs, output_dir)
    result = SweepResult(skipped=skipped)
    t0 = time.perf_counter()
    bar = Progress(len(todo), enabled=progress)
    if todo:
        try:
            with _backend(backend or BackendConfig(), n_jobs) as kwargs:
                if kwargs.get("n_jobs") == 1 or len(todo) == 1:
                    outcomes: Any = (run_one(s, output_dir) for s in todo)
                else:
                    outcomes = joblib.Parallel(return_as="generator_unordered", **kwargs)(
                        joblib.delayed(run_one)(s, output_dir) for s in todo)
                for outcome in outcomes:
                    result.outcomes.append(outcome)
                    bar.update(outcome)
        except ResultWriteError:
            # joblib stops the other workers, maybe mid-write: drop their partial temp files.
            for runs_dir in runs_dirs:
                remove_stale_temp_files(runs_dir)
            raise
    result.elapsed = time.perf_counter() - t0
    return result
