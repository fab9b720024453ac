"""How the archive stands against today's code: fresh, stale, incomplete, missing or orphaned entries.

An entry (one optimizer on one piece) is

* ``fresh``: its file holds exactly the runs today's plan expects (same fingerprints, so the same
  task revisions, optimizer target and parameters, budget and seeds) and was made with the
  optimizer library version installed now;
* ``stale``: a task revision, the optimizer's definition or its library version changed since it
  was built (the reasons are listed); the analysis never mixes it with fresh entries, and
  ``archive build`` re-runs it;
* ``incomplete``: the file lacks some planned runs (e.g. a task was added to the subset), or holds
  failed runs (``archive build`` retries them, as resuming a study does);
* ``missing``: planned, never built (e.g. a new optimizer, or expensive runs not built yet);
* ``orphaned``: in the archive but no longer planned (an optimizer or piece that was removed);
* ``unchecked``: its piece cannot be planned here (e.g. no YAHPO data folder for a piece with
  YAHPO tasks), so neither can its freshness be judged.

Example:
    >>> rows = archive_status()  # doctest: +SKIP
    >>> rows[0].state, rows[0].piece, rows[0].optimizer  # doctest: +SKIP
    ('fresh', 'dev_bb', 'hyperopt_tpe')
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.archive.pack import relative_path
from bench.archive.planning import Entry, expected_entries
from bench.archive.store import read_file_meta, read_manifest
from bench.installed import installed_version

__all__ = ["EntryStatus", "archive_status", "stale_reasons"]

STATES = ("fresh", "stale", "incomplete", "missing", "orphaned", "unchecked")


@dataclass
class EntryStatus:
    """One entry's state, with the reasons when it is not fresh."""

    piece: str
    optimizer: str
    state: str
    reasons: list[str] = field(default_factory=list)
    runs: int = 0
    planned: int = 0
    seeds: tuple[int, ...] = ()

    def line(self) -> str:
        why = f": {'; '.join(self.reasons)}" if self.reasons else ""
        return f"{self.state:<10} {self.piece:<9} {self.optimizer:<20} {self.runs}/{self.planned} runs{why}"


def stale_reasons(info: Mapping[str, Any], stored: Mapping[str, str], entry: Entry) -> list[str]:
    """Why an archived entry no longer matches today's plan (empty: it does).

    ``info`` is the entry's manifest record and ``stored`` maps each archived run's
    ``task/seed`` to its fingerprint.
    """
    reasons: list[str] = []
    for lib, version in (info.get("library_version") or {}).items():
        now = installed_version(lib)
        if now != version:
            reasons.append(f"{lib} {version} → {now}")
    planned = {f"{s.task}/{s.seed}": s for s in entry.specs}
    changed = [k for k, s in planned.items() if k in stored and stored[k] != s.fingerprint]
    if changed:
        archived_rev = info.get("task_revisions") or {}
        revision_now = {s.task: s.task_revision for s in entry.specs}
        tasks = sorted({planned[k].task for k in changed})
        revised = [t for t in tasks if (archived_rev.get(t) or "") != revision_now[t]]
        if revised:
            reasons.append(
                f"task revision changed: {', '.join(revised[:3])}" + (" …" if len(revised) > 3 else "")
            )
        if info.get("target") != entry.target or (info.get("params") or {}) != entry.params:
            reasons.append("optimizer target or parameters changed")
        if not reasons or len(revised) < len(tasks):
            reasons.append(f"{len(changed)} runs planned with another definition (budget or settings)")
    return reasons


def archive_status(
    pieces: Iterable[str] | None = None,
    optimizers: Iterable[str] | None = None,
    folder: Path | None = None,
    plan: tuple[dict[tuple[str, str], Entry], dict[tuple[str, str], str]] | None = None,
) -> list[EntryStatus]:
    """Every planned and every archived entry, with its state (:data:`STATES`).

    ``plan``: what :func:`~bench.archive.planning.expected_entries` returned for the same
    pieces and optimizers, when the caller has it already (planning builds every task).
    """
    from bench.archive.store import archive_dir

    d = folder or archive_dir()
    manifest = read_manifest(d)
    files: Mapping[str, Any] = manifest.get("files", {})
    piece_list = list(pieces) if pieces is not None else None
    opt_list = list(optimizers) if optimizers is not None else None
    entries, left_out = plan if plan is not None else expected_entries(piece_list, opt_list)
    unplanned = {p: why for (p, _), why in left_out.items() if why.startswith("cannot plan")}
    out: list[EntryStatus] = []
    for (piece, opt), entry in entries.items():
        rel = relative_path(piece, opt)
        planned = len(entry.specs)
        if rel not in files:
            out.append(EntryStatus(piece, opt, "missing", [], 0, planned, entry.seeds))
            continue
        info = files[rel]
        try:
            runs = read_file_meta(d / rel)["runs"]
        except (OSError, ValueError) as exc:
            out.append(EntryStatus(piece, opt, "stale", [f"unreadable: {exc}"], 0, planned, entry.seeds))
            continue
        stored = {f"{r['task']}/{r['seed']}": str(r["fingerprint"]) for r in runs}
        reasons = stale_reasons(info, stored, entry)
        lacking = [s for s in entry.specs if f"{s.task}/{s.seed}" not in stored]
        failed = sum(r["status"] != "ok" for r in runs)
        state = "stale" if reasons else ("incomplete" if lacking or failed else "fresh")
        if lacking:
            reasons.append(f"{len(lacking)} planned runs not archived")
        if failed:  # a fixed bug, or a flaky library: a build retries them as a resume does
            reasons.append(f"{failed} runs failed (archive build retries them)")
        seeds = tuple(sorted({int(r["seed"]) for r in runs}))
        out.append(EntryStatus(piece, opt, state, reasons, len(runs), planned, seeds))
    for _, info in sorted(files.items()):
        key = (info.get("piece"), info.get("optimizer"))
        in_scope = (piece_list is None or key[0] in piece_list) and (opt_list is None or key[1] in opt_list)
        if in_scope and key[0] in unplanned:
            out.append(
                EntryStatus(
                    str(key[0]), str(key[1]), "unchecked", [unplanned[str(key[0])]], int(info.get("runs", 0))
                )
            )
        elif in_scope and key not in entries:
            out.append(
                EntryStatus(
                    str(key[0]), str(key[1]), "orphaned", ["no longer planned"], int(info.get("runs", 0))
                )
            )
    return out
