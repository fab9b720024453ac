"""Trial/run schema, atomic parquet writes, resume checks and loading.

One parquet file per run under ``<study dir>/runs/``; the run metadata (spec,
status, error, versions, ...) rides in the parquet schema metadata, so a run is
a single file that either exists completely or not at all. The columns are
documented in ``docs/results-schema.md``.

Example:
    >>> import tempfile
    >>> from pathlib import Path
    >>> d = Path(tempfile.mkdtemp())
    >>> rec = TrialRecorder()
    >>> rec.add({"x": 1.0}, None, (3.0,), 0.0, 1.0, 0.0, 0.001, 0.0005)
    >>> path = write_run(d / "runs" / "r.parquet", rec.table(study="s", run_id="r", task="t/a",
    ...     family="t", task_type="bb", task_kind="synthetic", optimizer="o", seed=0,
    ...     optimum=None, objectives=[Objective("loss")], run_status="ok"), {"status": "ok"})
    >>> load(d)["value"].tolist()
    [3.0]
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import socket
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from bench import arrow_columns as columns
from bench.config import ConfigError
from bench.integrity import (
    META_KEY,
    META_SHA_KEY,
    CorruptResultError,
    meta_digest,
    move_aside,
    read_meta,
    read_verified,
    table_digest,
    verify_run_file,
)
from tasks.base import Objective

if TYPE_CHECKING:  # pandas only where a DataFrame is made: a single run never needs it (start-up)
    import pandas as pd

log = logging.getLogger(__name__)

#: 2: run files carry page checksums, ``content_sha256`` and a metadata checksum (bench/integrity.py).
#: 3: the trial table carries ``objectives``, every objective's name and direction; :func:`load`
#: gives older files the column in memory (:func:`objectives_of_older_file`), never rewriting them.
SCHEMA_VERSION = 3

TRIAL_SCHEMA = pa.schema(
    [
        ("study", pa.string()),
        ("run_id", pa.string()),
        ("task", pa.string()),
        ("family", pa.string()),
        ("task_type", pa.string()),
        ("task_kind", pa.string()),
        ("optimizer", pa.string()),
        ("seed", pa.int64()),
        ("trial", pa.int64()),
        ("config", pa.string()),
        ("fidelity", pa.float64()),
        ("value", pa.float64()),
        ("values", pa.list_(pa.float64())),
        ("cost", pa.float64()),
        ("budget_used", pa.float64()),
        ("sim_time", pa.float64()),
        ("wall_time", pa.float64()),
        ("eval_time", pa.float64()),
        ("optimum", pa.float64()),
        ("minimize", pa.bool_()),
        ("objectives", pa.string()),
        ("run_status", pa.string()),
    ]
)
#: Columns that repeat one value per run: stored dictionary-encoded, loaded as pandas categoricals.
CATEGORICAL_COLUMNS = (
    "study",
    "run_id",
    "task",
    "family",
    "task_type",
    "task_kind",
    "optimizer",
    "objectives",
    "run_status",
)
#: The column that names every objective of a run and its direction (schema version 3).
OBJECTIVES = "objectives"


class UnknownObjectivesError(ValueError):
    """A run file that does not say in which direction its objectives go (one line naming the file).

    Example:
        >>> str(UnknownObjectivesError(Path("runs/x.parquet"), "no objectives"))
        'cannot tell the objectives of result file runs/x.parquet: no objectives'
    """

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path, self.reason = Path(path), " ".join(str(reason).split())
        super().__init__(f"cannot tell the objectives of result file {self.path}: {self.reason}")


def encode_objectives(objectives: Sequence[Objective]) -> str:
    """A run's objectives as stored in its ``objectives`` column: JSON ``[{name, minimize}, ...]``.

    One spelling for one list of objectives, so equal objectives are equal column values.

    Example:
        >>> encode_objectives([Objective("loss"), Objective("accuracy", minimize=False)])
        '[{"name": "loss", "minimize": true}, {"name": "accuracy", "minimize": false}]'
    """
    return json.dumps([{"name": str(o.name), "minimize": bool(o.minimize)} for o in objectives])


def decode_objectives(value: str | Sequence[Mapping[str, Any]]) -> tuple[Objective, ...]:
    """The objectives of an ``objectives`` column value (or of the metadata's list of records).

    Raises ``ValueError`` for anything but a list of ``{name, minimize}`` records with a string
    name and a boolean direction: a direction is never guessed.

    Example:
        >>> decode_objectives('[{"name": "accuracy", "minimize": false}]')
        (Objective(name='accuracy', minimize=False),)
    """
    records = json.loads(value) if isinstance(value, str) else value
    if (
        not isinstance(records, Sequence)
        or isinstance(records, str)
        or not all(
            isinstance(r, Mapping) and isinstance(r.get("name"), str) and isinstance(r.get("minimize"), bool)
            for r in records
        )
    ):
        raise ValueError(f"objectives {value!r}: expected a list of {{name, minimize}} records")
    return tuple(Objective(r["name"], r["minimize"]) for r in records)


def _json_default(obj: Any) -> Any:
    # Optimizer libraries hand back numpy scalars; JSON needs the Python value. Configs are checked
    # against the task's space before they are recorded, so anything else is a category value of
    # the space that JSON cannot hold (a frozenset, an object): it is recorded as its repr rather
    # than losing the run's trials.
    if isinstance(obj, np.generic):
        return obj.item()
    return repr(obj)


#: One encoder for all configs: ``json.dumps(default=...)`` would build a new one per call.
_encode_config = json.JSONEncoder(default=_json_default, check_circular=False).encode


def encode_configs(configs: Sequence[Mapping[str, Any]]) -> list[str]:
    """Each configuration as the JSON text :data:`_encode_config` gives it, in a faster way for most.

    A configuration whose values are all plain ``float`` and ``int`` (every configuration of a
    numeric space, as the runner records it) is formatted with one ``%`` template per key order,
    ``repr`` of each value being what JSON writes for a finite number; 2× faster than the encoder
    in 2-D, and faster again where a chunk of configurations shares one key order
    (:func:`_encode_uniform`). Anything else (strings, booleans, numpy scalars, ``nan``/``inf``,
    other key types) goes through the encoder. Tests compare both on many kinds of configurations.

    Example:
        >>> encode_configs([{"x": 0.1, "n": 3}, {"c": "a"}])
        ['{"x": 0.1, "n": 3}', '{"c": "a"}']
    """
    out: list[str] = []
    templates: dict[tuple[Any, ...], str | None] = {}
    for start in range(0, len(configs), _CHUNK):
        chunk = configs[start : start + _CHUNK]
        uniform = _encode_uniform(chunk)
        out += uniform if uniform is not None else _encode_each(chunk, templates)
    return out


#: Configurations encoded at once by :func:`_encode_uniform`: 512 was as fast as or faster than
#: one call over all of a 10,000-trial run's configurations in 2 to 40 dimensions (longer strings
#: cost more to build and split), and a configuration off the fast path sends only its chunk
#: through :func:`_encode_each`.
_CHUNK = 512


def _encode_each(
    configs: Sequence[Mapping[str, Any]], templates: dict[tuple[Any, ...], str | None]
) -> list[str]:
    """Each configuration through its key order's template, or the encoder (see encode_configs)."""
    numeric = {float, int}
    out = []
    for config in configs:
        text = None
        if type(config) is dict:
            keys = tuple(config)
            template = templates.get(keys, "")
            if template == "":
                template = templates[keys] = _template(keys)
            if template is not None:
                values = tuple(config.values())
                if numeric.issuperset(map(type, values)):
                    text = template % values
                    if "nan" in text or "inf" in text:  # repr's nan/inf are not JSON's NaN/Infinity
                        text = None
        out.append(text if text is not None else _encode_config(config))
    return out


def _encode_uniform(configs: Sequence[Mapping[str, Any]]) -> list[str] | None:
    """All configurations at once when they are plain dicts with one key order and numeric values
    (a run on a numeric space), else ``None``.

    One ``%`` over the template repeated once per configuration, joined by newlines (which neither
    the template, whose keys are JSON-escaped, nor a number's ``repr`` holds), then split: the
    per-configuration Python work becomes C loops. In chunks of :data:`_CHUNK`, 0.37 µs less per
    configuration than :func:`_encode_each` in 2-D (1.31 against 1.68 µs), 0.7 µs less in 40-D;
    the floats' ``repr`` (about 0.36 µs each) is most of what is left.
    """
    if not configs or set(map(type, configs)) != {dict}:
        return None
    key_orders = set(map(tuple, configs))
    if len(key_orders) != 1:
        return None
    template = _template(key_orders.pop())
    if template is None:
        return None
    values: tuple[Any, ...] = tuple(chain.from_iterable(map(dict.values, configs)))  # type: ignore[arg-type]
    if not {float, int}.issuperset(map(type, values)):
        return None
    text = "\n".join([template] * len(configs)) % values
    if "nan" in text or "inf" in text:  # repr's nan/inf are not JSON's NaN/Infinity
        return None
    return text.split("\n")


def _template(keys: tuple[Any, ...]) -> str | None:
    if not all(type(k) is str for k in keys):
        return None
    return "{" + ", ".join(json.dumps(k).replace("%", "%%") + ": %r" for k in keys) + "}"


class TrialRecorder:
    """Row buffer for one run's trials: one tuple append per trial, columns built once at the end.

    Example:
        >>> rec = TrialRecorder()
        >>> rec.add({"x": 0.5}, None, (1.0,), 0.0, 1.0, 0.0, 0.01, 0.001)
        >>> len(rec), rec.values
        (1, [(1.0,)])
    """

    __slots__ = ("rows",)

    def __init__(self) -> None:
        self.rows: list[tuple[Any, ...]] = []

    def add(
        self,
        config: Mapping[str, Any],
        fidelity: float | None,
        values: tuple[float, ...],
        cost: float,
        budget_used: float,
        sim_time: float,
        wall_time: float,
        eval_time: float,
    ) -> None:
        self.rows.append((config, fidelity, values, cost, budget_used, sim_time, wall_time, eval_time))

    def __len__(self) -> int:
        return len(self.rows)

    def _column(self, i: int) -> list[Any]:
        return [r[i] for r in self.rows]

    @property
    def configs(self) -> list[Mapping[str, Any]]:
        return self._column(0)

    @property
    def fidelities(self) -> list[float | None]:
        return self._column(1)

    @property
    def values(self) -> list[tuple[float, ...]]:
        return self._column(2)

    def table(
        self,
        *,
        study: str,
        run_id: str,
        task: str,
        family: str,
        task_type: str,
        task_kind: str,
        optimizer: str,
        seed: int,
        optimum: float | None,
        objectives: Sequence[Objective],
        run_status: str,
    ) -> pa.Table:
        """The run's trials as an Arrow table with :data:`TRIAL_SCHEMA`.

        ``objectives`` are the task's, in the order of each trial's values (empty only for a run
        without trials whose task could not be built).
        """
        n = len(self.rows)
        if n and len(objectives) != len(self.rows[0][2]):
            raise ValueError(f"{len(objectives)} objectives for {len(self.rows[0][2])} values per trial")
        const = {
            "study": study,
            "run_id": run_id,
            "task": task,
            "family": family,
            "task_type": task_type,
            "task_kind": task_kind,
            "optimizer": optimizer,
            "objectives": encode_objectives(objectives),
            "run_status": run_status,
        }
        # Built from buffers (bench.arrow_columns): pyarrow.array would import pandas, which a
        # single run does not otherwise need.
        cols: dict[str, Any] = {k: columns.repeated_string(v, n) for k, v in const.items()}
        cols["seed"] = columns.int64s(np.full(n, seed, dtype=np.int64))
        cols["trial"] = columns.int64s(np.arange(n, dtype=np.int64))
        configs, fidelities, vals, costs, used, sim, wall, evals = (
            zip(*self.rows, strict=True) if n else ((),) * 8
        )
        cols["config"] = columns.strings(encode_configs(configs))
        cols["fidelity"] = columns.floats(np.array(fidelities, dtype=np.float64))  # None → NaN
        values = np.asarray(vals, dtype=np.float64).reshape(n, -1) if n else np.empty((0, 1))
        cols["value"] = columns.floats(values[:, 0])
        cols["values"] = columns.list_of_floats(values)
        for name, data in (
            ("cost", costs),
            ("budget_used", used),
            ("sim_time", sim),
            ("wall_time", wall),
            ("eval_time", evals),
        ):
            cols[name] = columns.floats(np.asarray(data, dtype=np.float64))
        cols["optimum"] = columns.floats(np.full(n, np.nan if optimum is None else optimum))
        # The first objective's direction also has a column of its own (all that version 2 stored).
        cols["minimize"] = columns.booleans(np.full(n, not objectives or objectives[0].minimize, dtype=bool))
        return pa.table([cols[f.name] for f in TRIAL_SCHEMA], schema=TRIAL_SCHEMA)


class ResultWriteError(OSError):
    """A result file could not be written (disk full, output unwritable): the sweep must stop.

    The message is one line: what failed, the path, the cause and what to do.

    Example:
        >>> err = ResultWriteError.from_os_error(Path("r/x.parquet"), OSError(errno.ENOSPC, "Disk full"))
        >>> str(err).split(";")[0]
        'cannot write result file r/x.parquet: Disk full [ENOSPC]'
    """

    @classmethod
    def from_os_error(cls, path: Path, exc: OSError) -> ResultWriteError:
        code = errno.errorcode.get(exc.errno or 0, "")
        cause = (exc.strerror or str(exc) or type(exc).__name__) + (f" [{code}]" if code else "")
        return cls(
            f"cannot write result file {path}: {cause}; free space or fix permissions "
            "(or pick another output_dir=PATH) and re-run: finished runs are kept and the "
            "sweep resumes"
        )


#: Temp files are ``.<name>~<host>~<pid>.tmp``: the writer's identity lets a later sweep
#: remove leftovers of killed writers without touching a live writer's file.
HOST = socket.gethostname().replace("~", "-")


def owned_path(path: Path, suffix: str = ".tmp", pid: int | None = None) -> Path:
    """The hidden file ``.<name>~<host>~<pid><suffix>`` beside ``path`` that this process (or
    ``pid``) owns: a temp file of a write, a writability probe, a run marker. Its owner in its name
    lets a later sweep remove it once that process is gone (:func:`remove_stale_temp_files`).

    Example:
        >>> owned_path(Path("runs/r.parquet"), ".running", pid=42).name == f".r.parquet~{HOST}~42.running"
        True
    """
    return path.with_name(f".{path.name}~{HOST}~{os.getpid() if pid is None else pid}{suffix}")


def _temp_path(path: Path) -> Path:
    return owned_path(path)


def pid_alive(pid: int) -> bool:
    """Whether a process ``pid`` exists on this host (one of another user's counts as alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists but belongs to someone else
        return True
    return True


#: Hidden files named ``.<name>~<host>~<pid><suffix>`` that a process leaves only when it is killed:
#: temp files of result and manifest writes, writability probes, and markers of runs in flight.
_OWNED_SUFFIXES = (".tmp", ".running")
#: Probes of older versions had no owner in their name; one older than this is a leftover.
_LEGACY_PROBE_AGE = 60.0


def remove_stale_temp_files(folder: Path) -> int:
    """Delete files left in ``folder`` by processes of this host that no longer run.

    Temp files (``.*.tmp``: partial result files, manifests and writability probes) and run
    markers (``.*.running``, bench/worker.py) carry their writer's host and pid; those of a
    process that is gone are removed. They are never taken as results (hidden names); this only
    keeps study folders clean after ``kill -9``. Returns how many were removed.

    Example:
        >>> import tempfile
        >>> d = Path(tempfile.mkdtemp())
        >>> _ = (d / f".study.json~{HOST}~999999999.tmp").write_text("{")  # no such pid
        >>> remove_stale_temp_files(d)
        1
    """
    removed = 0
    if not folder.is_dir():
        return 0
    for suffix in _OWNED_SUFFIXES:
        for tmp in folder.glob(f".*{suffix}"):
            parts = tmp.name[1 : -len(suffix)].rsplit("~", 2)
            if len(parts) != 3 or parts[1] != HOST or not parts[2].isdigit() or pid_alive(int(parts[2])):
                continue
            with contextlib.suppress(OSError):
                tmp.unlink()
                removed += 1
    for probe in folder.glob(".write-test-*"):
        with contextlib.suppress(OSError):
            if time.time() - probe.stat().st_mtime > _LEGACY_PROBE_AGE:
                probe.unlink()
                removed += 1
    return removed


@contextlib.contextmanager
def _atomic_file(path: Path) -> Iterator[Path]:
    """Yield a temp path to write; on success it becomes ``path`` in one ``os.replace``.

    Any ``OSError`` (disk full, read-only or vanished folder) becomes a one-line
    :class:`ResultWriteError`, and the partial temp file is removed.
    """
    tmp = _temp_path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        yield tmp
        os.replace(tmp, path)
    except OSError as exc:
        raise ResultWriteError.from_os_error(path, exc) from exc
    finally:
        with contextlib.suppress(OSError):  # an unwritable folder must not hide the first error
            tmp.unlink(missing_ok=True)


def write_run(path: Path, table: pa.Table, meta: Mapping[str, Any]) -> Path:
    """Write one run atomically: a temp file in the same folder, fsync, then ``os.replace``.

    A reader (or a resumed study after ``kill -9``) sees either the whole file or none. The file
    carries page checksums, the digest of its trial table and a checksum of its metadata, which
    resume verifies (:func:`bench.integrity.verify_run_file`).
    Raises :class:`ResultWriteError` when the file cannot be written.
    """
    payload = json.dumps(
        {
            "schema_version": SCHEMA_VERSION,
            **meta,
            "n_rows": table.num_rows,
            "content_sha256": table_digest(table),
        },
        default=str,
    ).encode()
    table = table.replace_schema_metadata({META_KEY: payload, META_SHA_KEY: meta_digest(payload)})
    with _atomic_file(path) as tmp, open(tmp, "wb") as fh:
        pq.write_table(
            table, fh, compression="zstd", use_dictionary=list(CATEGORICAL_COLUMNS), write_page_checksum=True
        )
        fh.flush()
        os.fsync(fh.fileno())
    return path


MANIFEST = "study.json"


def write_manifest(study_dir: Path, manifest: Mapping[str, Any]) -> Path:
    """Write ``<study dir>/study.json`` atomically: what the latest sweep planned and refused.

    Analysis uses it to tell refused pairs (never meant to run) from missing runs.
    """
    path = study_dir / MANIFEST
    with _atomic_file(path) as tmp:
        tmp.write_text(json.dumps({"schema_version": SCHEMA_VERSION, **manifest}, indent=1, default=str))
    return path


def read_study_json(study_dir: Path) -> dict[str, Any] | None:
    """``<study_dir>/study.json``, ``None`` when absent; :class:`ConfigError` when unreadable
    (a hand-edited file: refusing keeps it, overwriting would lose the history it holds)."""
    path = study_dir / MANIFEST
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"cannot read {path}: {' '.join(str(exc).split())}: fix or move the file "
            "(it holds the study's plan history)"
        ) from exc
    if not isinstance(data, dict):
        raise ConfigError(
            f"{path} is not a JSON object: fix or move the file (it holds the study's plan history)"
        )
    return data


def read_manifest(path: Path | str) -> dict[str, Any] | None:
    """The study manifest for a study folder (or a file/folder inside it), ``None`` if absent.

    One that is not a JSON object raises :class:`~bench.config.ConfigError` (a ``ValueError``) with
    the line ``python -m bench`` gives for it (:func:`read_study_json`), naming the file: a reader
    that skipped it would silently lose the planned grid and the refused pairs it holds.

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as d:
        ...     _ = (Path(d) / MANIFEST).write_text("[1]")
        ...     try:
        ...         read_manifest(d)
        ...     except ValueError as exc:
        ...         print(str(exc).split(" is ")[1])
        not a JSON object: fix or move the file (it holds the study's plan history)
    """
    p = Path(path)
    for folder in (p, p.parent, p.parent.parent):
        if (folder / MANIFEST).is_file():
            return read_study_json(folder)
    return None


def read_run_meta(path: Path) -> dict[str, Any]:
    """The metadata dict of one run file; :class:`~bench.integrity.CorruptResultError` (a
    ``ValueError``) for a damaged or foreign file. Only the footer is read: use
    :func:`~bench.integrity.verify_run_file` to check the trial data too."""
    return read_meta(path)


#: Folders inside a study that hold runs moved out of it (``move_old_runs=true``): never loaded
#: as part of the study.
SUPERSEDED = "superseded"


def _starts_like_parquet(path: Path) -> bool:
    """Whether the file begins with parquet's magic bytes (unreadable: let the reader say why)."""
    try:
        with path.open("rb") as fh:
            return fh.read(4) == b"PAR1"
    except OSError:
        return True


def run_files(path: Path | str) -> list[Path]:
    """Run files under a study dir, a ``runs/`` dir, a results root, or one file.

    Runs moved aside into a ``superseded/`` folder below ``path`` are not included. A file that is
    neither named ``.parquet`` nor starts like one raises a one-line ``ValueError`` saying what was
    expected (a ``.parquet`` file that does not decode is a damaged result, found when it is read).
    """
    p = Path(path)
    if p.is_file():
        if p.suffix != ".parquet" and not _starts_like_parquet(p):
            # A text file given by mistake is not a damaged result: "re-run its study" would mislead.
            raise ValueError(
                f"{p} is not a results folder or a result file: give a study folder, its runs/ folder "
                "or one run file (.parquet)"
            )
        return [p]
    if not p.exists():
        raise FileNotFoundError(f"no results at {str(p)!r}")
    return sorted(
        f
        for f in p.rglob("*.parquet")
        if not f.name.startswith(".") and SUPERSEDED not in f.relative_to(p).parts[:-3]
    )  # <superseded>/<stamp>/runs/<file>


def finished_fingerprint(path: Path) -> str | None:
    """Fingerprint of a finished (status ok), verified run file; ``None`` if missing or failed.

    The whole file is decoded and checked against its checksums and row count. A file that
    fails is moved aside to a numbered ``<name>.corrupt`` (never deleted or overwritten), with
    a warning, so the run is redone and nothing is lost. When another process already moved it,
    this one just treats the run as missing.
    """
    try:
        before = os.stat(path)
        meta = verify_run_file(path)
    except FileNotFoundError:
        return None
    except CorruptResultError as exc:
        aside = move_aside(path, before)
        if aside is not None:
            log.warning("result file %s is corrupt (%s); moved to %s and re-running", path, exc.reason, aside)
        return None
    if meta.get("status") != "ok":
        return None
    fp = meta.get("fingerprint")
    return str(fp) if fp is not None else None


def read_run_table(path: Path | str, columns: Sequence[str] | None = None) -> pa.Table:
    """One run file's trials as an Arrow table (what :func:`load` gives for one file, before pandas).

    Checksums are verified and the ``objectives`` column is there whatever the file's schema
    version; a damaged file raises :class:`~bench.integrity.CorruptResultError`. Reading one
    run this way does not import pandas (a single ``python -m bench`` run never does).

    Example:
        >>> read_run_table("results/default/runs/x.parquet", ["trial", "value"])  # doctest: +SKIP
    """
    return _read_table(Path(path), list(columns) if columns is not None else None)


def _read_table(path: Path, columns: list[str] | None) -> pa.Table:
    """One small run file, page checksums verified, with the ``objectives`` column whatever its
    schema version. ``ParquetFile.read`` without a thread pool: ``pq.read_table`` costs about 3x
    more per file (dataset discovery and thread start-up), which dominated loading 10^4 runs."""
    table = read_verified(path, columns, optional=(OBJECTIVES,))
    if OBJECTIVES in table.column_names or (columns is not None and OBJECTIVES not in columns):
        return table
    # A file of schema version 1 or 2: the column is made in memory, the file stays as it is.
    if {"minimize", "values"} <= set(table.column_names):
        first = table
    else:
        first = read_verified(path, ["minimize", "values"])
    meta = read_meta(path, table.schema.metadata or {})
    objectives = objectives_of_older_file(path, meta, first)
    value = pa.DictionaryArray.from_arrays(
        pa.array(np.zeros(table.num_rows, dtype=np.int32)),
        pa.array([encode_objectives(objectives)], pa.string()),
    )
    table = table.append_column(pa.field(OBJECTIVES, pa.string()), value.cast(pa.string()))
    order = columns if columns is not None else [n for n in TRIAL_SCHEMA.names if n in table.column_names]
    return table.select([*order, *(n for n in table.column_names if n not in order)])


def objectives_of_older_file(path: Path, meta: Mapping[str, Any], trials: pa.Table) -> tuple[Objective, ...]:
    """The objectives of a run file written before schema version 3, which had no ``objectives``
    column; ``trials`` holds at least its ``minimize`` and ``values`` columns.

    The rule (docs/results-schema.md): the ``objectives`` list of the run's metadata, which the
    runner has written for every run whose task it could build, so for every run with trials; it
    must agree with the trials (as many objectives as values, the first one's direction that of
    the ``minimize`` column). Without it, a run of one objective takes the direction from the
    ``minimize`` column and the name ``value``; a run of several is refused with
    :class:`UnknownObjectivesError`: only the first direction was stored, and the others are
    not guessed (not even from today's task of that id, which may have changed since).

    Example:
        >>> t = pa.table({"minimize": [False], "values": [[0.9, 12.0]]})
        >>> meta = {"objectives": [{"name": "acc", "minimize": False}, {"name": "time", "minimize": True}]}
        >>> [o.minimize for o in objectives_of_older_file(Path("r.parquet"), meta, t)]
        [False, True]
        >>> objectives_of_older_file(Path("r.parquet"), {}, t.slice(0, 0))
        ()
    """
    widths = set(pc.list_value_length(trials["values"]).to_pylist())
    firsts = set(trials["minimize"].to_pylist())
    records = meta.get("objectives")
    if len(widths) > 1 or len(firsts) > 1:
        raise UnknownObjectivesError(
            path,
            f"its trials have {sorted(widths)} values and minimize "
            f"{sorted(firsts)}; one run has one set of objectives",
        )
    if records is not None:
        try:
            objectives = decode_objectives(records)
        except ValueError as exc:
            raise UnknownObjectivesError(path, f"its metadata's {exc}") from exc
        # (widths and firsts are both empty, for a run without trials, or both one value)
        if widths and (widths != {len(objectives)} or firsts != {objectives[0].minimize}):
            raise UnknownObjectivesError(
                path,
                f"its metadata names {len(objectives)} objectives, the first "
                f"{'minimized' if objectives and objectives[0].minimize else 'maximized'}, but its "
                f"trials have {min(widths)} values and minimize={min(firsts)}",
            )
        return objectives
    if not widths:
        return ()
    if widths == {1}:
        return (Objective("value", minimize=bool(min(firsts))),)
    raise UnknownObjectivesError(
        path,
        f"written by schema version {meta.get('schema_version', 1)} with {min(widths)} values per "
        "trial but no objectives in its metadata, so only the first objective's direction is known; "
        "re-run it, or leave it out of the analysis",
    )


def load(path: Path | str, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """All trials under ``path`` as one long DataFrame (one row per trial).

    Repeated-per-run string columns come back as pandas categoricals. A damaged file raises
    :class:`~bench.integrity.CorruptResultError` (a ``ValueError``, one line naming the file);
    re-running its study moves it aside and redoes the run.

    Example:
        >>> load("results/default").groupby("optimizer").value.min()  # doctest: +SKIP
    """
    cols = list(columns) if columns else None
    return _trial_frame(_map_files(lambda f: _read_table(f, cols), run_files(path)))


def load_readable(
    files: Sequence[Path], columns: Sequence[str] | None = None
) -> tuple[pd.DataFrame, list[tuple[Path, str]]]:
    """The trials of ``files`` as :func:`load` gives them, leaving out each file that cannot be read
    (missing, damaged, of unknown objectives), which comes back with why, in ``files``' order.

    For a summary that must show what it can: :func:`load` refuses a folder with any bad file.
    Nothing is moved or changed; re-running the study redoes such a run (resume moves a damaged
    file aside first).

    Example:
        >>> df, skipped = load_readable([Path("results/default/runs/missing.parquet")])
        >>> len(df), skipped[0][1]  # doctest: +ELLIPSIS
        (0, "FileNotFoundError: ...")
    """
    cols = list(columns) if columns else None

    def read(f: Path) -> pa.Table | str:
        try:
            return _read_table(f, cols)
        except CorruptResultError as exc:  # its path is the caller's to name
            return f"corrupt ({exc.reason})"
        except UnknownObjectivesError as exc:
            return f"its objectives are unknown ({exc.reason})"
        except OSError as exc:  # gone since it was planned, or not a file at all
            return f"{type(exc).__name__}: {exc.strerror or exc}"

    read_back = _map_files(read, list(files))
    skipped = [(f, r) for f, r in zip(files, read_back, strict=True) if isinstance(r, str)]
    return _trial_frame([t for t in read_back if not isinstance(t, str)]), skipped


def _map_files(read: Callable[[Path], Any], files: list[Path]) -> list[Any]:
    if len(files) < 64:
        return [read(f) for f in files]
    with ThreadPoolExecutor(min(8, os.cpu_count() or 1)) as pool:  # decoding releases the GIL
        return list(pool.map(read, files))


def _trial_frame(tables: list[pa.Table]) -> pd.DataFrame:
    """One long DataFrame of run tables (strings repeated per run as categoricals)."""
    if not tables:
        return TRIAL_SCHEMA.empty_table().to_pandas()
    table = pa.concat_tables(tables, promote_options="permissive")
    if OBJECTIVES in table.column_names:  # one long string per run: categorical without a Python str per row
        i = table.column_names.index(OBJECTIVES)
        table = table.set_column(i, OBJECTIVES, table.column(i).dictionary_encode())
    df = table.to_pandas()
    for col in CATEGORICAL_COLUMNS:
        if col in df.columns:
            df[col] = df[col].astype("category")
    return df


def load_runs(path: Path | str) -> pd.DataFrame:
    """One row per run file with its metadata (status, error, spec fields, timings)."""
    rows: list[dict[str, Any]] = []
    for f in run_files(path):
        try:
            meta = read_run_meta(f)
        except CorruptResultError as exc:
            rows.append({"file": str(f), "status": "corrupt", "error": str(exc)})
            continue
        spec = meta.get("spec", {})
        rows.append(
            {
                "file": str(f),
                "run_id": meta.get("run_id"),
                "study": meta.get("study"),
                "task": spec.get("task"),
                "optimizer": spec.get("optimizer"),
                "seed": spec.get("seed"),
                "status": meta.get("status"),
                "error": meta.get("error"),
                "n_trials": meta.get("n_trials"),
                "duration": meta.get("duration"),
                "started": meta.get("started"),
                "finished": meta.get("finished"),
                "meta": meta,
            }
        )
    import pandas as pd

    return pd.DataFrame(rows)
