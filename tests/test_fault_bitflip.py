"""Resume verifies the data of a finished run, not only its footer.

A single flipped byte anywhere in a result file must either be detected (the file is moved
aside to a numbered ``.corrupt`` name and the run redone) or be harmless (the file still loads
to exactly the same trials and metadata). Nothing may change trial values silently or pass
resume and then break ``load()``.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from bench import results
from bench.integrity import CorruptResultError, move_aside, read_meta, verify_run_file
from bench.loop import run_one
from bench.parallel import pending, run_all
from bench.spec import RunSpec
from optimizers.base import Budget


def _spec(seed: int = 0, n_trials: float = 12) -> RunSpec:
    return RunSpec(
        study="flip",
        task="synthetic/branin",
        optimizer="random_search",
        optimizer_target="optimizers.random_search.RandomSearch",
        optimizer_params={},
        seed=seed,
        budget=Budget(n_trials),
    )


def test_every_single_byte_flip_is_detected_or_harmless(tmp_path: Path) -> None:
    path = Path(str(run_one(_spec(), tmp_path).path))
    original = path.read_bytes()
    reference, meta = results.load(path), read_meta(path)
    detected = harmless = 0
    for offset in range(len(original)):
        data = bytearray(original)
        data[offset] ^= 1 << (offset % 8)  # every byte, every bit position in turn
        path.write_bytes(bytes(data))
        try:
            verify_run_file(path)
        except CorruptResultError:
            detected += 1
            continue
        # passed verification: it must load, and to exactly the same trials and metadata
        assert results.load(path).equals(reference), f"flip at {offset} changed trials silently"
        assert read_meta(path) == meta, f"flip at {offset} changed the metadata silently"
        harmless += 1
    assert detected > 0.5 * (detected + harmless)  # the data pages and metadata are covered
    path.write_bytes(original)


@pytest.mark.parametrize("where", ["data page", "metadata", "footer length", "truncated"])
def test_resume_moves_a_damaged_file_aside_and_redoes_the_run(tmp_path: Path, where: str) -> None:
    spec = _spec()
    first = run_all([spec], tmp_path, n_jobs=1, progress=False)
    path = Path(str(first.outcomes[0].path))
    good = path.read_bytes()
    data = bytearray(good)
    if where == "data page":
        data[100] ^= 0x04
    elif where == "metadata":
        at = good.index(b'"n_trials": 12')
        data[at + len('"n_trials": 1')] = ord("3")  # n_trials 12 -> 13
    elif where == "footer length":
        data[-6] ^= 0x01
    else:
        data = data[: len(data) // 2]
    path.write_bytes(bytes(data))
    todo, skipped = pending([spec], tmp_path)
    assert len(todo) == 1 and skipped == 0
    aside = path.with_name(path.name + ".corrupt")
    assert aside.read_bytes() == bytes(data)  # kept, byte for byte
    again = run_all([spec], tmp_path, n_jobs=1, progress=False)
    assert [o.status for o in again.outcomes] == ["ok"]
    assert verify_run_file(path)["status"] == "ok" and len(results.load(path)) == 12


def test_moved_aside_files_are_numbered_never_overwritten(tmp_path: Path) -> None:
    spec = _spec()
    path = Path(str(run_one(spec, tmp_path).path))
    garbage = []
    for i in range(3):
        blob = f"not parquet {i}".encode()
        garbage.append(blob)
        path.write_bytes(blob)
        pending([spec], tmp_path)  # finds it bad, moves it aside
        run_one(spec, tmp_path)
    names = sorted(p.name for p in path.parent.iterdir() if ".corrupt" in p.name)
    assert names == [path.name + ".corrupt", path.name + ".corrupt.2", path.name + ".corrupt.3"]
    assert [(path.parent / n).read_bytes() for n in names] == garbage


def test_two_processes_finding_the_same_bad_file_do_not_crash(tmp_path: Path) -> None:
    specs = [_spec(seed) for seed in range(8)]
    run_all(specs, tmp_path, n_jobs=1, progress=False)
    paths = [results.run_files(tmp_path / "flip")[i] for i in range(8)]
    for p in paths:
        p.write_bytes(b"PAR1 garbage")
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def resume() -> None:
        try:
            barrier.wait()
            todo, _ = pending(specs, tmp_path)
            assert len(todo) == 8
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=resume) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    for p in paths:  # each bad file kept exactly once (maybe under two links), none lost
        asides = list(p.parent.glob(p.name + ".corrupt*"))
        assert asides and all(a.read_bytes() == b"PAR1 garbage" for a in asides)
        assert not p.exists()


def test_move_aside_leaves_a_file_that_was_replaced_meanwhile(tmp_path: Path) -> None:
    path = Path(str(run_one(_spec(), tmp_path).path))
    path.write_bytes(b"bad")
    seen = path.stat()
    run_one(_spec(), tmp_path)  # another process redid the run in the meantime
    assert move_aside(path, seen) is None
    assert verify_run_file(path)["status"] == "ok"
    assert not list(path.parent.glob("*.corrupt*"))
