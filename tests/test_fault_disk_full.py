"""Disk full, output unwritable, corrupt result file: one clear error line, nothing lost, resume works.

The injected tests patch the write step (``pyarrow.parquet.write_table`` / ``open`` as
seen by :mod:`bench.results`) so CI always covers them; they use ``backend=threading`` so that
the runs execute in this process, where the patch applies (the process backends run them in
workers). The real ones mount a small tmpfs (root only) and fill it, or remount it read-only
mid-sweep.
"""

from __future__ import annotations

import contextlib
import errno
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bench import parallel, results
from bench.__main__ import EXIT_WRITE_FAILED, main
from bench.config import BackendConfig, OptimizerChoice, StudyConfig
from bench.parallel import run_all
from bench.plan import make_plan
from bench.results import ResultWriteError
from optimizers.base import Budget

STUDY = StudyConfig(
    "full",
    (OptimizerChoice("random_search", "optimizers.random_search.RandomSearch"),),
    ("synthetic/branin", "bbob/f01/d02/i01"),
    (0, 1, 2),
    Budget(4),
)


def _fail_after(n_ok: int, exc: OSError, real: Callable[..., Any]) -> Callable[..., Any]:
    """A stand-in that behaves like ``real`` for ``n_ok`` calls, then writes a little and fails."""
    calls = [0]

    def write(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        if calls[0] <= n_ok:
            return real(*args, **kwargs)
        fh = args[1]
        fh.write(b"PAR1 partial")  # a partial file, as a full disk leaves it
        raise exc

    return write


def _state(runs: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(runs.iterdir())}


def _assert_clean_and_readable(runs: Path) -> None:
    names = [p.name for p in runs.iterdir()]
    assert all(n.endswith(".parquet") and not n.startswith(".") for n in names), names
    for p in runs.iterdir():
        assert results.read_run_meta(p)["status"] == "ok"


def test_injected_disk_full_stops_the_sweep_and_resume_finishes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    specs = make_plan(STUDY).specs
    with monkeypatch.context() as patch, pytest.raises(ResultWriteError) as info:
        patch.setattr(
            results.pq,
            "write_table",
            _fail_after(3, OSError(errno.ENOSPC, "No space left on device"), results.pq.write_table),
        )
        run_all(specs, tmp_path, n_jobs=1, backend=BackendConfig("threading"), progress=False)
    msg = str(info.value)
    assert "\n" not in msg and "No space left on device [ENOSPC]" in msg
    assert str(tmp_path / "full" / "runs") in msg and "re-run" in msg
    runs = tmp_path / "full" / "runs"
    _assert_clean_and_readable(runs)
    written = _state(runs)
    assert len(written) == 3
    again = run_all(specs, tmp_path, n_jobs=1, progress=False)
    assert again.skipped == 3 and len(again.outcomes) == len(specs) - 3 and not again.failed
    assert {k: v for k, v in _state(runs).items() if k in written} == written  # untouched
    assert len(_state(runs)) == len(specs)


@pytest.fixture
def in_process_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Callable[..., tuple[int, str, str]]:
    monkeypatch.chdir(tmp_path)

    def run(*args: str) -> tuple[int, str, str]:
        rc = main(
            [
                "-m",
                "optimizer=random_search",
                "task='bbob/f0[1-4]/d02/i01'",
                "n_trials=3",
                "seed=0,1,2",
                "progress=false",
                "n_jobs=1",
                "backend=threading",
                *args,
            ]
        )
        out = capsys.readouterr()
        return rc, out.out, out.err

    return run


def test_cli_unwritable_output_mid_sweep_exits_3_with_one_line(
    in_process_cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_open = open
    seen = [0]

    def flaky_open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if "w" in mode and str(file).endswith(".tmp") and "runs" in str(file):
            seen[0] += 1
            if seen[0] > 2:
                raise PermissionError(errno.EACCES, "Permission denied", str(file))
        return real_open(file, mode, *args, **kwargs)

    with monkeypatch.context() as patch:  # the fixture's chdir must outlive this patch
        patch.setattr(results, "open", flaky_open, raising=False)
        rc, _, err = in_process_cli()
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert rc == EXIT_WRITE_FAILED == 3
    assert len(lines) == 1 and lines[0].startswith("error: cannot write result file "), lines
    assert "Permission denied [EACCES]" in lines[0] and "Traceback" not in err
    [runs] = (tmp_path / "results" / "single").glob("*/runs")
    _assert_clean_and_readable(runs)
    assert len(list(runs.iterdir())) == 2
    rc, out, _ = in_process_cli()
    assert rc == 0 and "2 already done" in out


def test_corrupt_result_file_is_kept_aside_and_rerun(
    in_process_cli, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    assert in_process_cli()[0] == 0
    [runs] = (tmp_path / "results" / "single").glob("*/runs")
    victim = sorted(runs.iterdir())[0]
    garbage = victim.read_bytes()[:50]
    victim.write_bytes(garbage)
    rc, out, _ = in_process_cli()
    assert rc == 0 and "11 already done" in out
    # said so in one warning line (stderr when run as `python -m bench`)
    [warning] = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert victim.name in warning and ".corrupt" in warning and "\n" not in warning
    assert (runs / (victim.name + ".corrupt")).read_bytes() == garbage  # kept, never deleted
    assert results.read_run_meta(victim)["status"] == "ok"


# ----------------------------------------------------------------------------- a real small disk


@contextlib.contextmanager
def _tmpfs(path: Path, size: str) -> Iterator[Path]:
    if sys.platform != "linux" or not hasattr(__import__("os"), "geteuid") or __import__("os").geteuid():
        pytest.skip("mounting a small tmpfs needs root on Linux")
    if shutil.which("mount") is None:
        pytest.skip("no mount command")
    path.mkdir(parents=True)
    proc = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", f"nxm-{uuid.uuid4().hex[:6]}", str(path)],
        capture_output=True,
        text=True,
    )
    if proc.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def _remount(path: Path, options: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{options}", str(path)], check=True)


def test_real_disk_full_stops_cleanly_and_resumes(tmp_path: Path) -> None:
    big = StudyConfig("full", STUDY.optimizers, ("bbob/f0[1-8]/d02/i01",), tuple(range(15)), Budget(4))
    specs = make_plan(big).specs  # 120 runs of a few kB each: far more than 96 kB hold
    with _tmpfs(tmp_path / "disk", "96k") as disk:
        with pytest.raises(ResultWriteError, match=r"No space left on device \[ENOSPC\]"):
            run_all(specs, disk, n_jobs=1, progress=False)
        runs = disk / "full" / "runs"
        _assert_clean_and_readable(runs)
        written = _state(runs)
        assert 0 < len(written) < len(specs)
        _remount(disk, "size=8m")
        again = run_all(specs, disk, n_jobs=1, progress=False)
        assert again.skipped == len(written) and not again.failed
        assert {k: v for k, v in _state(runs).items() if k in written} == written
        assert len(_state(runs)) == len(specs)


def test_real_read_only_output_mid_sweep(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    specs = make_plan(STUDY).specs
    with _tmpfs(tmp_path / "disk", "4m") as disk:
        real_run_one, done = parallel.run_one, [0]

        def run_then_lock(spec: Any, out: Path, **kwargs: Any) -> Any:
            outcome = real_run_one(spec, out, **kwargs)
            done[0] += 1
            if done[0] == 2:  # the filesystem turns read-only while the sweep runs
                _remount(disk, "ro")
            return outcome

        with (
            monkeypatch.context() as patch,
            pytest.raises(ResultWriteError, match=r"Read-only file system \[EROFS\]"),
        ):
            patch.setattr(parallel, "run_one", run_then_lock)  # in this process: threading backend
            run_all(specs, disk, n_jobs=1, backend=BackendConfig("threading"), progress=False)
        runs = disk / "full" / "runs"
        assert len(_state(runs)) == 2
        _assert_clean_and_readable(runs)
        _remount(disk, "rw")
        again = run_all(specs, disk, n_jobs=1, progress=False)
        assert again.skipped == 2 and len(_state(runs)) == len(specs)
