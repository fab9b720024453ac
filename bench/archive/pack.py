"""Pack finished runs of a study folder into the archive's compact files, and update the manifest.

:func:`pack_entry` reads the runs of one (piece, optimizer) entry from the build's study folder:
every planned run must be there, verified against its checksums and with the planned fingerprint
(a run of another definition is never packed under today's entry). It writes
``<archive>/<piece>/<optimizer>.parquet`` (zstd) and returns the manifest record of the file.

Example:
    >>> from bench.archive.planning import expected_entries  # doctest: +SKIP
    >>> entries, _ = expected_entries(["dev_bb"], ["random_search"])  # doctest: +SKIP
    >>> entry = entries[("dev_bb", "random_search")]  # doctest: +SKIP
    >>> pack_entry(entry, Path("results/archive"), command="python -m bench ...")["rows"]  # doctest: +SKIP
    15000
"""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from bench.archive.planning import Entry
from bench.archive.store import COLUMNS, META_KEY, archive_dir, encode_meta, file_sha256
from bench.installed import installed_version

__all__ = ["IncompleteEntry", "pack_entry", "relative_path"]


class IncompleteEntry(ValueError):
    """The build's study folder lacks runs of an entry (or holds them with another definition)."""


def relative_path(piece: str, optimizer: str) -> str:
    """An entry's file, relative to the archive folder.

    Example:
        >>> relative_path("dev_bb", "optuna_tpe")
        'dev_bb/optuna_tpe.parquet'
    """
    return f"{piece}/{optimizer}.parquet"


def _read_runs(entry: Entry, study_dir: Path) -> list[tuple[dict[str, Any], pa.Table]]:
    from bench.integrity import CorruptResultError, verify_run_file

    out = []
    missing: list[str] = []
    for spec in sorted(entry.specs, key=lambda s: (s.task, s.seed)):
        path = study_dir / "runs" / f"{spec.run_id}.parquet"
        try:
            meta = verify_run_file(path)
        except (OSError, CorruptResultError):
            missing.append(spec.run_id)
            continue
        if meta.get("fingerprint") != spec.fingerprint or meta.get("status") not in (
            "ok",
            "crashed",
            "timeout",
        ):
            missing.append(spec.run_id)
            continue
        lib = _library_version(meta.get("versions") or {}) or {}
        if any(installed_version(k) != v for k, v in lib.items()):  # run with another library version
            missing.append(spec.run_id)
            continue
        table = pq.read_table(
            path, columns=["trial", "value", "values", "fidelity", "cost", "budget_used", "sim_time"]
        )
        out.append((meta, table))
    if missing:
        raise IncompleteEntry(
            f"{entry.optimizer} on {entry.piece.name}: {len(missing)} of {len(entry.specs)} runs missing, "
            f"failed or of another definition in {study_dir} (e.g. {missing[0]}); build them first"
        )
    return out


def _versions(metas: Sequence[dict[str, Any]]) -> dict[str, str]:
    """Each library's version across the runs (several joined by `` | `` when they differ)."""
    seen: dict[str, set[str]] = {}
    for m in metas:
        for k, v in (m.get("versions") or {}).items():
            seen.setdefault(k, set()).add(str(v))
    return {k: " | ".join(sorted(v)) for k, v in sorted(seen.items())}


def pack_entry(entry: Entry, work: Path, command: str, folder: Path | None = None) -> dict[str, Any]:
    """Write the entry's archive file from ``work/<piece>/runs`` and return its manifest record."""
    study_dir = work / entry.piece.name
    runs = _read_runs(entry, study_dir)
    multi = any(len(m.get("objectives") or []) > 1 for m, _ in runs)
    has_fidelity = any(m.get("fidelity") for m, _ in runs)
    tasks: dict[str, dict[str, Any]] = {}
    records: list[dict[str, Any]] = []
    parts: dict[str, list[Any]] = {name: [] for name, _ in COLUMNS}
    # Sequential runs (one simulated worker) accumulate simulated time as the running sum of the
    # costs, which numpy's cumsum repeats bit for bit: then the column is left out and rebuilt on
    # reading (it is the largest column of multi-fidelity entries). Checked run by run.
    sim_from_cost = True
    for meta, table in runs:
        spec = meta["spec"]
        tm = meta.get("task_meta") or {}
        tasks.setdefault(
            spec["task"],
            {
                "family": tm.get("family"),
                "task_type": tm.get("type"),
                "task_kind": tm.get("kind"),
                "optimum": (tm.get("optimum") or [None])[0],
                "objectives": meta.get("objectives"),
                "fidelity": meta.get("fidelity"),
                "revision": spec.get("task_revision", ""),
            },
        )
        records.append(
            {
                "task": spec["task"],
                "seed": spec["seed"],
                "status": meta["status"],
                "error": ((meta.get("error") or "").strip().splitlines() or [None])[-1],
                "n_trials": table.num_rows,
                "stopped_early": meta.get("stopped_early"),
                "fingerprint": meta["fingerprint"],
                "duration": round(float(meta.get("duration") or 0.0), 3),
            }
        )
        n = table.num_rows
        parts["task"].append(pa.array([spec["task"]] * n, pa.string()))
        parts["seed"].append(np.full(n, spec["seed"], dtype=np.int32))
        for name in ("trial", "value", "values", "fidelity", "cost", "budget_used", "sim_time"):
            parts[name].append(table.column(name).combine_chunks())
        cost, sim = (table.column(c).to_numpy() for c in ("cost", "sim_time"))
        sim_from_cost = sim_from_cost and np.array_equal(np.cumsum(cost), sim)
    arrays: dict[str, pa.Array] = {}
    for name, dtype in COLUMNS:
        # On several objectives ``value`` is ``values[0]``: stored once.
        if (
            (name == "values" and not multi)
            or (name == "value" and multi)
            or (name == "fidelity" and not has_fidelity)
            or (name == "sim_time" and sim_from_cost)
        ):
            continue
        chunks = [pa.array(c) if isinstance(c, np.ndarray) else c for c in parts[name]]
        col = pa.concat_arrays([c.cast(dtype.value_type if name == "task" else dtype) for c in chunks])
        arrays[name] = col.dictionary_encode() if name == "task" else col
    metas = [m for m, _ in runs]
    first = metas[0]["spec"]
    file_meta = {
        "piece": entry.piece.name,
        "optimizer": entry.optimizer,
        "spec": {k: v for k, v in first.items() if k not in ("task", "seed", "task_revision")},
        "versions": _versions(metas),
        "tasks": tasks,
        "runs": records,
    }
    table = pa.table(arrays).replace_schema_metadata({META_KEY: encode_meta(file_meta)})
    rel = relative_path(entry.piece.name, entry.optimizer)
    path = (folder or archive_dir()) / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}~{os.getpid()}.tmp")
    pq.write_table(table, tmp, compression="zstd", compression_level=19, use_dictionary=["task"])
    os.replace(tmp, path)
    versions = _versions(metas)
    started = sorted(str(m.get("started")) for m in metas if m.get("started"))
    finished = sorted(str(m.get("finished")) for m in metas if m.get("finished"))
    hosts = {
        json.dumps({k: v for k, v in (m.get("host") or {}).items() if k != "name"}, sort_keys=True)
        for m in metas
    }
    return {
        "piece": entry.piece.name,
        "study": entry.piece.study,
        "taskset": entry.piece.taskset,
        "optimizer": entry.optimizer,
        "target": first["optimizer_target"],
        "params": first.get("optimizer_params") or {},
        "library_version": _library_version(versions),
        "versions": versions,
        "budget": first.get("budget"),
        "n_workers": first.get("n_workers", 1),
        "trial_timeout": first.get("trial_timeout"),
        "run_timeout": first.get("run_timeout"),
        "seeds": sorted({int(r["seed"]) for r in records}),
        "tasks": len(tasks),
        "task_revisions": {t: v["revision"] for t, v in sorted(tasks.items()) if v["revision"]},
        "statuses": {
            s: sum(r["status"] == s for r in records) for s in sorted({r["status"] for r in records})
        },
        "runs": len(records),
        "rows": table.num_rows,
        "sha256": file_sha256(path),
        "bytes": path.stat().st_size,
        "command": command,
        "run_seconds": round(sum(float(m.get("duration") or 0.0) for m in metas), 1),
        "runs_started": started[0] if started else None,
        "runs_finished": finished[-1] if finished else None,
        "packed": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": [json.loads(h) for h in sorted(hosts)],
        "packed_with": {"python": platform.python_version(), "pyarrow": pa.__version__},
    }


#: Version keys every run records whatever its optimizer (the rest is the optimizer's library).
CORE_VERSION_KEYS = ("python", "nxm-bench", "numpy", "ConfigSpace", "coco-experiment")


def _library_version(versions: Mapping[str, Any]) -> dict[str, str] | None:
    """``{library: version}`` of the optimizer's own library (``None`` for a built-in optimizer)."""
    lib = {k: str(v) for k, v in versions.items() if k not in CORE_VERSION_KEYS}
    return lib or None
