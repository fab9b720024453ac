"""``python -m bench archive status|verify|build|pack``: the baseline archive's command line.

* ``status [piece=A,B] [optimizer=X,Y] [--all]``: each planned entry's state (fresh, stale,
  incomplete, missing, orphaned) with the reasons; fresh ones are counted, listed with ``--all``.
  Exit 1 when an entry is stale or orphaned (the archive needs a build), else 0.
* ``verify``: every file's sha256, rows and runs against the manifest; exit 1 on any problem.
* ``build [piece=...] [optimizer=...] [work=results/archive] [--dry-run] [KEY=VALUE ...]``: run
  the entries that are not fresh with ``python -m bench -m`` sweeps into ``work`` (the settings of
  where and how they run, ``n_jobs=16``, ``backend=dask backend.address=...``, ``plan_timeout``,
  ``progress``, go to each sweep; one that would change what the entries measure is refused),
  packing each as it finishes. A re-run resumes.
* ``pack [piece=...] [optimizer=...] [work=...]``: pack what ``work`` holds without running.

Bad input gets one line and exit 2.

Example:
    >>> main(["status", "piece=nope"])  # doctest: +SKIP
    error: unknown archive piece 'nope': use one of dev_bb, ...
    2
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

__all__ = ["main"]

USAGE = (
    "usage: python -m bench archive status [piece=A,B] [optimizer=X,Y] [--all] | verify | "
    "build [piece=...] [optimizer=...] [work=DIR] [--dry-run] [n_jobs=N ...] | "
    "pack [piece=...] [optimizer=...] [work=DIR]"
)
COMMANDS = ("status", "verify", "build", "pack")


def _parse(args: Sequence[str], command: str) -> tuple[dict[str, str], list[str], set[str]]:
    own: dict[str, str] = {}
    extra: list[str] = []
    flags: set[str] = set()
    allowed_flags = {"status": {"--all"}, "build": {"--dry-run"}}.get(command, set())
    for a in args:
        if a.startswith("--"):
            if a not in allowed_flags:
                valid = ", ".join(sorted(allowed_flags)) or "none"
                raise ValueError(f"archive {command}: unknown flag {a!r} (valid: {valid})")
            flags.add(a)
            continue
        key, sep, value = a.partition("=")
        if not sep or not key:
            raise ValueError(f"archive {command}: {a!r} is not KEY=VALUE (e.g. piece=dev_bb)")
        if key == "yahpo_data" and command != "verify":
            # Through the environment, so the sweeps' recorded commands name no local folder.
            os.environ["NXMBENCH_YAHPO_DATA"] = value
        elif key in ("piece", "optimizer", "work") and command != "verify":
            own[key] = value
        elif command == "build":
            extra.append(a)
        else:
            valid = (
                "none"
                if command == "verify"
                else "piece, optimizer, yahpo_data" + (", work" if command == "pack" else "")
            )
            raise ValueError(f"archive {command}: unknown setting {key!r} (valid: {valid})")
    return own, extra, flags


#: The settings ``archive build`` hands to its sweeps: where and how the runs execute, never what
#: they measure (budget, seeds, tasks, optimizers and folder are the archive's; ``work=`` is the folder).
SWEEP_KEYS = ("n_jobs", "backend", "plan_timeout", "progress")


def check_sweep_overrides(extra: Sequence[str]) -> None:
    """Refuse, before anything runs, an override the sweeps would reject or one that would change
    what the archive's runs measure (:data:`SWEEP_KEYS` lists what may go to them).

    Example:
        >>> check_sweep_overrides(["n_jobs=16", "backend=loky"])
        >>> check_sweep_overrides(["n_trials=20"])
        Traceback (most recent call last):
        ...
        ValueError: archive build: 'n_trials=20' would change what the archive's runs measure; ...
    """
    for ov in extra:
        key = ov.lstrip("+~").partition("=")[0]
        if key.split(".")[0] not in SWEEP_KEYS:
            where = " (the build's folder is work=DIR)" if key == "output_dir" else ""
            raise ValueError(
                f"archive build: {ov!r} would change what the archive's runs measure; the sweeps "
                f"take only {', '.join(SWEEP_KEYS)} and backend.*{where}"
            )
    if not extra:
        return
    from bench.compose import compose_checked
    from bench.config import ConfigError
    from bench.settings import settings_from_cfg

    try:  # the sweeps' own validation, on the default study, so that nothing is planned or run
        settings_from_cfg(compose_checked(["study=default", *extra]))
    except ConfigError as exc:
        raise ValueError(str(exc)) from None


def _list(value: str | None, what: str, valid: Sequence[str]) -> list[str] | None:
    if value is None:
        return None
    items = [v.strip() for v in value.split(",") if v.strip()]
    bad = [v for v in items if v not in valid]
    if bad or not items:
        raise ValueError(
            f"{what}={value!r} is invalid: use one or more of {', '.join(valid)} (comma-separated)"
        )
    return items


def main(argv: Sequence[str]) -> int:
    """Run one archive command; returns the exit status."""
    args = list(argv)
    if not args:  # bad input, like an unknown command: one line on stderr, not the usage on stdout
        print(
            f"error: python -m bench archive needs a command: one of {', '.join(COMMANDS)} "
            "(python -m bench archive --help)",
            file=sys.stderr,
        )
        return 2
    if args[0] in ("-h", "--help", "help"):
        print(USAGE)
        return 0
    command = args[0]
    if command not in COMMANDS:
        print(
            f"error: unknown archive command {command!r}: use one of {', '.join(COMMANDS)}", file=sys.stderr
        )
        return 2
    try:
        from bench.archive.pieces import piece_names
        from bench.archive.planning import shipped_optimizers

        own, extra, flags = _parse(args[1:], command)
        pieces = _list(own.get("piece"), "piece", piece_names())
        optimizers = _list(own.get("optimizer"), "optimizer", shipped_optimizers())
        work = Path(own.get("work", "results/archive"))
        if command == "pack":
            _check_work_folder(work)
        if command == "verify":
            return _verify()
        if command == "status":
            return _status(pieces, optimizers, "--all" in flags)
        if command == "pack":
            return _pack(pieces, optimizers, work)
        from bench.archive.build import build

        check_sweep_overrides(extra)
        return build(pieces, optimizers, work, extra, dry_run="--dry-run" in flags)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _check_work_folder(work: Path) -> None:
    """``pack`` reads ``work``: a path that is no folder is bad input, not entries "to build first"."""
    if not work.exists():
        raise ValueError(
            f"work={str(work)!r} does not exist: give the folder archive build ran the sweeps in "
            "(default results/archive)"
        )
    if not work.is_dir():
        raise ValueError(
            f"work={str(work)!r} is a file, not a folder: give the folder archive build ran the sweeps in"
        )


def _verify() -> int:
    from bench.archive.store import archive_dir, read_manifest, verify

    problems = verify()
    if problems:
        for p in problems:
            print(f"error: {p}", file=sys.stderr)
        return 1
    m = read_manifest()
    files = m.get("files", {})
    rows = sum(int(f.get("rows", 0)) for f in files.values())
    runs = sum(int(f.get("runs", 0)) for f in files.values())
    size = sum(int(f.get("bytes", 0)) for f in files.values())
    print(
        f"archive v{m.get('archive_version')} at {archive_dir()}: {len(files)} files, {runs} runs, "
        f"{rows} trial rows, {size / 1e6:.1f} MB; every sha256, row and run count checks out"
    )
    return 0


def _status(pieces: list[str] | None, optimizers: list[str] | None, show_all: bool) -> int:
    from bench.archive.status import archive_status

    rows = archive_status(pieces, optimizers)
    counts: dict[str, int] = {}
    shown: set[tuple[str, str]] = set()
    for r in rows:
        counts[r.state] = counts.get(r.state, 0) + 1
        if r.state == "unchecked":  # one line per piece, not per file
            if (r.piece, r.state) not in shown:
                shown.add((r.piece, r.state))
                print(f"unchecked  {r.piece:<9} {r.reasons[0]}")
        elif show_all or r.state != "fresh":
            print(r.line())
    print(
        "entries: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) if counts else "entries: none"
    )
    return 1 if counts.get("stale") or counts.get("orphaned") else 0


def _pack(pieces: list[str] | None, optimizers: list[str] | None, work: Path) -> int:
    from bench.archive.build import commands_for, pack
    from bench.archive.planning import expected_entries

    entries, _ = expected_entries(pieces, optimizers)
    todo = list(entries.values())
    packed, problems = pack(todo, work, commands_for(todo, work))
    for p in problems:
        print(f"not packed: {p}", file=sys.stderr)
    print(f"packed {packed} of {len(entries)} entries")
    return 0 if not problems else 1
