"""``archive build``: run the entries that are not fresh with the normal runner, then pack them.

For each piece, the entries to build (missing, incomplete or stale; :mod:`bench.archive.status`)
are grouped by their seeds, and each group is one ordinary sweep::

    python -m bench -m study=dev_bb name=dev_bb optimizer=a,b,c study.seeds=10 output_dir=WORK

so it resumes like any study (a killed build re-runs only what is missing), runs on any backend
(``n_jobs=16``, ``backend=dask backend.address=...`` are passed through) and records its plan in
``WORK/<piece>/study.json``. Runs of a stale entry are moved aside into the piece folder's
``superseded/`` first (their fingerprints may be unchanged when only a library version moved).
Each entry is packed as soon as its sweep ends, and the manifest written after each file, so a build
stopped half-way keeps what it packed.

Example:
    >>> build(["dev_bb"], ["random_search"], Path("results/archive"), dry_run=True)  # doctest: +SKIP
    dev_bb: random_search (10 seeds)
      python -m bench -m study=dev_bb name=dev_bb optimizer=random_search study.seeds=10 ...
    0
"""

from __future__ import annotations

import shlex
import subprocess
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from bench.archive.pack import IncompleteEntry, pack_entry, relative_path
from bench.archive.pieces import PIECES, seed_groups
from bench.archive.planning import Entry, expected_entries
from bench.archive.status import archive_status
from bench.archive.store import archive_dir, read_manifest, write_manifest

__all__ = ["build", "pack", "sweep_argv"]


def sweep_argv(
    piece_overrides: Sequence[str], optimizers: Sequence[str], n_seeds: int, work: str
) -> list[str]:
    """The arguments of ``python -m bench`` that run one seed group of a piece.

    Example:
        >>> sweep_argv(["study=dev_bb", "name=dev_bb"], ["ng_de", "random_search"], 10, "results/archive")
        ['-m', 'study=dev_bb', 'name=dev_bb', 'optimizer=ng_de,random_search', 'study.seeds=10', \
'output_dir=results/archive', 'progress=false']
    """
    return [
        "-m",
        *piece_overrides,
        f"optimizer={','.join(optimizers)}",
        f"study.seeds={n_seeds}",
        f"output_dir={work}",
        "progress=false",
    ]


def _command(argv: Sequence[str]) -> str:
    return "python -m bench " + shlex.join(argv)


def sweeps(
    entries: Sequence[Entry], work: Path, extra: Sequence[str] = ()
) -> list[tuple[str, list[str], list[str]]]:
    """The sweeps that build ``entries``: ``(piece, optimizers, argv)``, pieces in build order and
    one sweep per seed group."""
    order = [p.name for p in PIECES]
    out = []
    for name in sorted({e.piece.name for e in entries}, key=order.index):
        mine = [e for e in entries if e.piece.name == name]
        for _, opts in seed_groups(sorted(e.optimizer for e in mine)).items():
            n_seeds = max(len(e.seeds) for e in mine if e.optimizer in opts)
            argv = [*sweep_argv(mine[0].piece.overrides(), opts, n_seeds, str(work)), *extra]
            out.append((name, opts, argv))
    return out


def commands_for(
    entries: Sequence[Entry], work: Path, extra: Sequence[str] = ()
) -> dict[tuple[str, str], str]:
    """``{(piece, optimizer): the command that builds it}``."""
    return {(name, o): _command(argv) for name, opts, argv in sweeps(entries, work, extra) for o in opts}


def _move_stale_runs(entry: Entry, work: Path) -> int:
    from bench.study_folder import move_runs_aside

    study_dir = work / entry.piece.name
    names = [
        f"{s.run_id}.parquet" for s in entry.specs if (study_dir / "runs" / f"{s.run_id}.parquet").exists()
    ]
    if names:
        move_runs_aside(study_dir, names)
    return len(names)


def pack(
    entries: Sequence[Entry], work: Path, commands: dict[tuple[str, str], str], out: TextIO | None = None
) -> tuple[int, list[str]]:
    """Pack every entry whose runs are all in ``work``; returns (files packed, problems).

    ``out`` is where progress goes: ``sys.stdout`` as it is at the call (a default bound at
    import would keep writing to whatever stream was there then).
    """
    out = sys.stdout if out is None else out
    folder = archive_dir()
    manifest = read_manifest(folder)
    packed = 0
    problems: list[str] = []
    for entry in entries:
        key = (entry.piece.name, entry.optimizer)
        try:
            record = pack_entry(entry, work, commands.get(key) or _recorded_command(manifest, key), folder)
        except IncompleteEntry as exc:
            problems.append(str(exc))
            continue
        manifest.setdefault("files", {})[relative_path(*key)] = record
        manifest["archive_version"] = int(manifest.get("archive_version") or 0) + (packed == 0)
        manifest["updated"] = datetime.now(UTC).isoformat(timespec="seconds")
        write_manifest(manifest, folder)  # after each file: a stopped pack keeps what it wrote
        packed += 1
        print(
            f"packed {relative_path(*key)}: {record['runs']} runs, {record['rows']} rows, "
            f"{record['bytes']} bytes",
            file=out,
        )
    return packed, problems


def _recorded_command(manifest: dict[str, object], key: tuple[str, str]) -> str:
    files = manifest.get("files")
    if isinstance(files, dict) and relative_path(*key) in files:
        return str(files[relative_path(*key)].get("command", ""))
    return ""


def build(
    pieces: Sequence[str] | None,
    optimizers: Sequence[str] | None,
    work: Path,
    extra: Sequence[str] = (),
    dry_run: bool = False,
    out: TextIO | None = None,
) -> int:
    """Build every entry that is not fresh (within ``pieces`` × ``optimizers``); returns the exit status.

    ``out``: where progress goes (``sys.stdout`` as it is at the call).
    """
    out = sys.stdout if out is None else out
    plan = expected_entries(pieces, optimizers)
    entries = plan[0]
    states = {(s.piece, s.optimizer): s.state for s in archive_status(pieces, optimizers, plan=plan)}
    todo = {k: e for k, e in entries.items() if states.get(k) != "fresh"}
    if not todo:
        print("the archive is up to date: every planned entry is fresh", file=out)
        return 0
    commands = commands_for(list(todo.values()), work, extra)
    for name, opts, argv in sweeps(list(todo.values()), work, extra):
        n_seeds = max(len(todo[(name, o)].seeds) for o in opts)
        print(f"{name}: {', '.join(opts)} ({n_seeds} seeds)", file=out)
        print(f"  {_command(argv)}", file=out)
        if dry_run:
            continue
        for o in opts:
            if states.get((name, o)) == "stale":
                moved = _move_stale_runs(todo[(name, o)], work)
                print(f"  moved {moved} runs of the stale entry {name}/{o} aside", file=out)
        out.flush()
        rc = subprocess.run([sys.executable, "-m", "bench", *argv], check=False).returncode
        if rc != 0:
            print(
                f"error: the sweep for {name} ended with status {rc}; re-run the build to resume",
                file=sys.stderr,
            )
            return rc
        _, problems = pack([todo[(name, o)] for o in opts], work, commands, out)
        if problems:
            for p in problems:
                print(f"error: {p}", file=sys.stderr)
            return 1
    return 0
