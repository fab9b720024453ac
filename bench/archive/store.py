"""Where the archive lives and what its files and manifest hold; ``verify`` checks them.

The archive installs with the package under ``bench/archive/data/``::

    manifest.json                    what every file is (below)
    <piece>/<optimizer>.parquet      one optimizer's runs on one piece, compact, zstd

A file holds one row per trial with the columns the analysis needs (:data:`COLUMNS`: task, seed,
trial, value, every objective's value on multi-objective tasks, fidelity, cost, budget used,
simulated time, left out when it is the running sum of the costs) and, under the parquet key
``nxm_bench_archive``, one record per run (task, seed, status, last error line, trials,
fingerprint, duration) and one per task (family, type, kind, optimum, objectives, fidelity,
revision). Configurations, wall-clock and evaluation times
of the original run files are not kept: they are large and machine-bound.

The manifest (``ARCHIVE_FORMAT``) records the archive version and, per file, its sha256, rows and
runs, the optimizer's target, parameters and library version, the run environment, budget, seeds,
task revisions, the exact command that produced it and when.

Example:
    >>> verify()  # the archive installed with the package
    []
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

__all__ = [
    "ARCHIVE_FORMAT",
    "COLUMNS",
    "META_KEY",
    "archive_dir",
    "decode_meta",
    "encode_meta",
    "file_sha256",
    "read_file_meta",
    "read_manifest",
    "verify",
    "write_manifest",
]

#: Version of the archive's layout (manifest keys, file columns and metadata).
ARCHIVE_FORMAT = 1
#: Parquet metadata key of a file's run and task records.
META_KEY = b"nxm_bench_archive"
MANIFEST = "manifest.json"
#: The trial columns of an archive file (``values`` only on multi-objective tasks, ``fidelity`` only
#: where a task has one).
COLUMNS: tuple[tuple[str, pa.DataType], ...] = (
    ("task", pa.dictionary(pa.int32(), pa.string())),
    ("seed", pa.int32()),
    ("trial", pa.int32()),
    ("value", pa.float64()),
    ("values", pa.list_(pa.float64())),
    ("fidelity", pa.float64()),
    ("cost", pa.float64()),
    ("budget_used", pa.float64()),
    ("sim_time", pa.float64()),
)


def archive_dir() -> Path:
    """The archive's folder: ``$NXMBENCH_ARCHIVE_DIR`` if set (tests, a private archive), else the
    one installed with the package."""
    override = os.environ.get("NXMBENCH_ARCHIVE_DIR")
    return Path(override) if override else Path(__file__).resolve().parent / "data"


def file_sha256(path: Path) -> str:
    """The sha256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def read_manifest(folder: Path | None = None) -> dict[str, Any]:
    """The archive's manifest; an empty one (no files) when the archive has none yet."""
    path = (folder or archive_dir()) / MANIFEST
    if not path.is_file():
        return {"archive_format": ARCHIVE_FORMAT, "archive_version": None, "files": {}}
    try:
        data: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ValueError(f"the archive manifest {path} cannot be read: {exc}") from exc
    if not isinstance(data, dict):  # a hand-made or damaged file: `.get` below would raise
        raise ValueError(
            f"the archive manifest {path} is not a JSON object: point at an archive folder "
            "(python -m bench archive pack writes one) or use the installed archive"
        )
    if data.get("archive_format") != ARCHIVE_FORMAT:
        raise ValueError(
            f"the archive manifest {path} has archive_format={data.get('archive_format')!r}; "
            f"this version reads {ARCHIVE_FORMAT}: install the matching nxm-bench or rebuild the archive"
        )
    return data


def write_manifest(manifest: Mapping[str, Any], folder: Path | None = None) -> Path:
    """Write the manifest atomically (sorted keys, one file per line group: readable diffs)."""
    d = folder or archive_dir()
    d.mkdir(parents=True, exist_ok=True)
    path = d / MANIFEST
    tmp = d / f".{MANIFEST}~{os.getpid()}.tmp"
    tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True, default=str) + "\n")
    os.replace(tmp, path)
    return path


def encode_meta(meta: Mapping[str, Any]) -> bytes:
    """A file's records as stored: JSON, zlib-compressed, base64 (a tenth of the plain JSON).

    Example:
        >>> decode_meta(encode_meta({"runs": [{"seed": 0}]}))
        {'runs': [{'seed': 0}]}
    """
    return base64.b64encode(zlib.compress(json.dumps(meta, sort_keys=True, default=str).encode(), 9))


def decode_meta(raw: bytes) -> dict[str, Any]:
    """The records :func:`encode_meta` stored."""
    data: dict[str, Any] = json.loads(zlib.decompress(base64.b64decode(raw)))
    return data


def read_file_meta(path: Path) -> dict[str, Any]:
    """The run and task records of one archive file (its parquet metadata)."""
    meta = pq.read_metadata(path).metadata or {}
    if META_KEY not in meta:
        raise ValueError(f"{path} is not an archive file (no {META_KEY.decode()} metadata)")
    try:
        return decode_meta(meta[META_KEY])
    except (ValueError, zlib.error) as exc:
        raise ValueError(f"{path}: its archive records cannot be decoded: {exc}") from exc


def verify(folder: Path | None = None) -> list[str]:
    """Check every file the manifest lists (present, sha256, rows, runs, what it says it holds) and
    that no parquet file lies in the archive unlisted. Returns one line per problem (none: intact).
    """
    d = folder or archive_dir()
    try:
        manifest = read_manifest(d)
    except ValueError as exc:
        return [str(exc)]
    problems: list[str] = []
    files: Mapping[str, Any] = manifest.get("files", {})
    for rel, info in sorted(files.items()):
        path = d / rel
        if not path.is_file():
            problems.append(f"{rel}: listed in the manifest, missing from {d}")
            continue
        sha = file_sha256(path)
        if sha != info.get("sha256"):
            problems.append(
                f"{rel}: sha256 {sha[:12]}… differs from the manifest's {str(info.get('sha256'))[:12]}…"
            )
            continue
        try:
            rows = pq.read_metadata(path).num_rows
            meta = read_file_meta(path)
            pq.read_table(path)  # every page decodes
        except (OSError, ValueError, pa.ArrowException) as exc:
            problems.append(f"{rel}: cannot be read: {' '.join(str(exc).split())}")
            continue
        if rows != info.get("rows"):
            problems.append(f"{rel}: {rows} rows, the manifest says {info.get('rows')}")
        if len(meta.get("runs", [])) != info.get("runs"):
            problems.append(f"{rel}: {len(meta.get('runs', []))} runs, the manifest says {info.get('runs')}")
        if sum(int(r["n_trials"]) for r in meta.get("runs", [])) != rows:
            problems.append(f"{rel}: its run records count other trials than its {rows} rows")
        if (meta.get("piece"), meta.get("optimizer")) != (info.get("piece"), info.get("optimizer")):
            problems.append(
                f"{rel}: holds {meta.get('optimizer')!r} on {meta.get('piece')!r}, the manifest says "
                f"{info.get('optimizer')!r} on {info.get('piece')!r}"
            )
    for path in sorted(d.rglob("*.parquet")):
        rel = path.relative_to(d).as_posix()
        if rel not in files:
            problems.append(f"{rel}: in {d} but not in the manifest")
    return problems
