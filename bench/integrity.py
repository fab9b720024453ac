"""Integrity of result files: a content digest written with every run, verified on resume.

A run file carries three layers of protection, each catching what the others cannot:

* parquet page checksums (CRC-32 of every data page), checked by the reader;
* ``content_sha256`` in the run metadata: a SHA-256 of the *decoded* trial table (column
  names, types and values), so a flipped byte in the file footer that the reader would
  silently decode into other values (a type, an offset, a length) is caught too;
* ``nxm_bench_sha256``: a SHA-256 of the metadata JSON itself, so a flipped digit in the
  status, the fingerprint or the digest is caught.

:func:`verify_run_file` decodes the whole file and checks all three plus the row count;
resume calls it before trusting a run as done. A file that fails is moved aside with
:func:`move_aside` to a numbered ``.corrupt`` name (never overwritten, never deleted) and the
run is redone.

Example:
    >>> import tempfile
    >>> from pathlib import Path
    >>> from bench.results import TrialRecorder, write_run
    >>> from tasks.base import Objective
    >>> rec = TrialRecorder()
    >>> rec.add({"x": 1.0}, None, (3.0,), 0.0, 1.0, 0.0, 0.001, 0.0005)
    >>> table = rec.table(study="s", run_id="r", task="t/a", family="t", task_type="bb",
    ...     task_kind="synthetic", optimizer="o", seed=0, optimum=None, objectives=[Objective("y")],
    ...     run_status="ok")
    >>> path = write_run(Path(tempfile.mkdtemp()) / "r.parquet", table, {"status": "ok", "n_trials": 1})
    >>> verify_run_file(path)["status"]
    'ok'
    >>> data = bytearray(path.read_bytes()); data[200] ^= 0x10; _ = path.write_bytes(bytes(data))
    >>> try:
    ...     verify_run_file(path)
    ... except CorruptResultError as exc:
    ...     print("corrupt")
    corrupt
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
from collections.abc import Collection
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

#: Schema-metadata key of the run metadata JSON, and of its SHA-256.
META_KEY = b"nxm_bench"
META_SHA_KEY = b"nxm_bench_sha256"


class CorruptResultError(ValueError):
    """A result file that cannot be trusted; the message is one line naming the file and why.

    Example:
        >>> str(CorruptResultError(Path("runs/x.parquet"), "row count 3, metadata says 5"))
        'result file runs/x.parquet is corrupt (row count 3, metadata says 5): re-run its study to redo it'
    """

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path, self.reason = Path(path), " ".join(str(reason).split())[:300]
        super().__init__(f"result file {self.path} is corrupt ({self.reason}): re-run its study to redo it")


def _type_name(t: pa.DataType) -> str:
    # A list's child field is named "item" when built and "element" when read back: not content.
    return f"list<{t.value_type}>" if pa.types.is_list(t) or pa.types.is_large_list(t) else str(t)


def table_digest(table: pa.Table) -> str:
    """SHA-256 of a trial table's decoded content: names, types, lengths, nulls and values.

    Independent of how the table is laid out in memory (chunks, offsets, dictionary encoding),
    so the table written and the table read back from the file give the same digest.

    Example:
        >>> t = pa.table({"a": [1.0, 2.0], "s": ["x", "y"]})
        >>> table_digest(t) == table_digest(pa.concat_tables([t.slice(0, 1), t.slice(1)]))
        True
        >>> table_digest(t) == table_digest(pa.table({"a": [1.0, 2.5], "s": ["x", "y"]}))
        False
    """
    h = hashlib.sha256()
    for field, col in zip(table.schema, table.columns, strict=True):
        arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
        if pa.types.is_dictionary(arr.type):
            arr = arr.cast(arr.type.value_type)
        h.update(f"{field.name}:{_type_name(arr.type)}:{len(arr)}:{arr.null_count};".encode())
        if arr.null_count:
            h.update(_numpy_bytes(arr.is_null()))
        if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
            arr = arr.cast(pa.large_string())
            offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset : arr.offset + len(arr) + 1]
            h.update((offsets - offsets[0]).tobytes())
            data = arr.buffers()[2]
            if data is not None and len(arr):
                h.update(memoryview(data)[int(offsets[0]) : int(offsets[-1])])
        elif pa.types.is_list(arr.type) or pa.types.is_large_list(arr.type):
            h.update(_numpy_bytes(pc.list_value_length(arr)))
            h.update(_numpy_bytes(pc.list_flatten(arr)))
        else:
            h.update(_numpy_bytes(arr))
    return h.hexdigest()


#: Arrow types whose values are one fixed-width numpy value each, in their data buffer.
_FIXED_WIDTH = {
    pa.float64(): np.float64,
    pa.float32(): np.float32,
    pa.int64(): np.int64,
    pa.int32(): np.int32,
    pa.int16(): np.int16,
    pa.int8(): np.int8,
    pa.uint64(): np.uint64,
    pa.uint32(): np.uint32,
    pa.uint16(): np.uint16,
    pa.uint8(): np.uint8,
}


def _numpy_bytes(arr: pa.Array) -> bytes:
    """The bytes of ``arr.to_numpy(zero_copy_only=False)``.

    For the columns a run writes (numbers and booleans without nulls) they are read from the
    array's buffers: ``to_numpy`` imports pandas on its first call, which a single run does not
    otherwise need. Anything else goes through ``to_numpy`` itself. A test checks both give the
    same bytes, so digests of files written before stay valid.
    """
    if arr.null_count == 0:
        dtype = _FIXED_WIDTH.get(arr.type)
        if dtype is not None:
            data = np.frombuffer(arr.buffers()[1], dtype=dtype)
            return data[arr.offset : arr.offset + len(arr)].tobytes()
        if pa.types.is_boolean(arr.type):
            bits = np.unpackbits(np.frombuffer(arr.buffers()[1], dtype=np.uint8), bitorder="little")
            return bits[arr.offset : arr.offset + len(arr)].astype(np.bool_).tobytes()
    return bytes(arr.to_numpy(zero_copy_only=False).tobytes())


def meta_digest(payload: bytes) -> bytes:
    """The hex SHA-256 stored next to the metadata JSON."""
    return hashlib.sha256(payload).hexdigest().encode()


def read_meta(path: Path, schema_metadata: dict[bytes, bytes] | None = None) -> dict[str, Any]:
    """The run metadata of ``path``, its own checksum verified when the file has one.

    Raises :class:`CorruptResultError` for a file that is not a run file or whose metadata
    was altered.
    """
    try:
        md = schema_metadata if schema_metadata is not None else (pq.read_schema(path).metadata or {})
    except Exception as exc:  # pyarrow raises several types for a damaged footer
        raise CorruptResultError(path, f"{type(exc).__name__}: {exc}") from exc
    payload = md.get(META_KEY)
    if payload is None:
        raise CorruptResultError(path, f"no {META_KEY.decode()} metadata: not an NxM-Bench run file")
    expected = md.get(META_SHA_KEY)
    if expected is not None and meta_digest(payload) != expected:
        raise CorruptResultError(path, "the run metadata does not match its checksum")
    try:
        meta = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CorruptResultError(path, f"unreadable run metadata: {exc}") from exc
    if not isinstance(meta, dict):
        raise CorruptResultError(path, "the run metadata is not a mapping")
    return meta


def _read(
    path: Path, columns: list[str] | None, optional: Collection[str] = ()
) -> tuple[pa.Table, list[dict[bytes, bytes]]]:
    """The table and every stored view of the schema metadata."""
    try:
        with pq.ParquetFile(path, page_checksum_verification=True) as pf:
            views = [dict(pf.metadata.metadata or {}), dict(pf.schema_arrow.metadata or {})]
            if columns is not None and optional:
                names = set(pf.schema_arrow.names)
                columns = [c for c in columns if c in names or c not in optional]
            return pf.read(columns=columns, use_threads=False), views
    except FileNotFoundError:
        raise
    except Exception as exc:  # ArrowInvalid, OSError("Corrupt ..."), thrift errors, ...
        raise CorruptResultError(path, f"{type(exc).__name__}: {exc}") from exc


def read_verified(path: Path, columns: list[str] | None = None, optional: Collection[str] = ()) -> pa.Table:
    """Read a run file with page-checksum verification; any decoding failure is a
    :class:`CorruptResultError` naming the file. Of ``columns``, those in ``optional`` that the
    file lacks (columns that older schema versions did not write) are left out."""
    return _read(path, columns, optional)[0]


def verify_run_file(path: Path) -> dict[str, Any]:
    """Decode all of ``path`` and check it against its checksums; return its metadata.

    Files written before digests existed (no ``content_sha256``) are checked for what they
    carry: readable metadata, every page decodable, and the row count.
    """
    table, views = _read(path, None)
    # The metadata is stored twice, in the footer's key-value list and inside the serialized Arrow
    # schema, and readers differ in which copy (or mix of the two) they show: the footer list, the
    # file's Arrow schema (read_schema, load_runs) and the table read must all check out, and agree.
    meta = read_meta(path, table.schema.metadata or {})
    for view in views:
        if read_meta(path, view) != meta:
            raise CorruptResultError(path, "the stored copies of the run metadata differ")
    n_rows = meta.get("n_trials")
    if isinstance(n_rows, int) and n_rows != table.num_rows:
        raise CorruptResultError(path, f"{table.num_rows} trial rows, the metadata says {n_rows}")
    expected = meta.get("content_sha256")
    if expected is not None and table_digest(table.replace_schema_metadata(None)) != expected:
        raise CorruptResultError(path, "the trial data does not match its checksum")
    return meta


def move_aside(path: Path, expected: os.stat_result | None = None) -> Path | None:
    """Move a bad file to ``<name>.corrupt`` (or ``.corrupt.2``, ``.corrupt.3``, …): never
    overwrite an earlier one, never delete.

    ``expected`` is the ``os.stat`` of the file that was found bad: when another process has
    meanwhile moved it, or replaced it with a new (good) file, nothing is moved. Returns the
    new path, or ``None`` when there was nothing (left) to move.

    Example:
        >>> import tempfile
        >>> d = Path(tempfile.mkdtemp())
        >>> for _ in range(2):
        ...     _ = (d / "r.parquet").write_bytes(b"bad")
        ...     print(move_aside(d / "r.parquet").name)
        r.parquet.corrupt
        r.parquet.corrupt.2
    """
    for n in range(1, 10_000):
        aside = path.with_name(path.name + (".corrupt" if n == 1 else f".corrupt.{n}"))
        try:
            os.link(path, aside)  # fails if ``aside`` exists: numbered names are never overwritten
        except FileExistsError:
            continue
        except FileNotFoundError:
            return None  # another process moved it first
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EXDEV, errno.EMLINK):
                raise
            if aside.exists():  # no hard links on this filesystem: a checked rename instead
                continue
            with contextlib.suppress(FileNotFoundError):
                os.rename(path, aside)
                return aside
            return None
        if expected is not None and not _same_file(os.stat(aside), expected):
            aside.unlink()  # the bad file was already replaced by a new one: leave that alone
            return None
        with contextlib.suppress(FileNotFoundError):
            if expected is None or _same_file(os.stat(path), expected):
                path.unlink()
        return aside
    raise OSError(f"too many corrupt copies of {path}")


def _same_file(a: os.stat_result, b: os.stat_result) -> bool:
    return (a.st_ino, a.st_dev, a.st_size, a.st_mtime_ns) == (b.st_ino, b.st_dev, b.st_size, b.st_mtime_ns)
