"""The archive as the analysis reads results: a long trials frame and per-run metadata.

:func:`read_archive` returns the frame of ``bench.results.load`` (same columns and meanings; a
results-schema version 3 frame) for the archived runs, and the run-metadata frame of
``bench.results.load_runs`` (a ``meta`` dict per run with its spec, objectives, status and
versions), so the report's statistics, curves and comparability checks work on archived runs as on
one's own. What the compact files do not keep reads as missing: ``config`` is ``None``,
``wall_time`` and ``eval_time`` are NaN.

Example:
    >>> trials, runs = read_archive(pieces=["dev_bb"], optimizers=["random_search"])
    >>> sorted(trials["seed"].unique()) == list(range(10)), trials["task"].nunique(), len(runs)
    (True, 30, 300)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from bench.archive.store import archive_dir, read_file_meta, read_manifest

__all__ = ["read_archive", "read_entry"]


def _objectives_text(objectives: Any) -> str:
    from bench.results import decode_objectives, encode_objectives

    return encode_objectives(decode_objectives(objectives))


def read_entry(
    rel: str, info: Mapping[str, Any], folder: Path | None = None, meta: Mapping[str, Any] | None = None
) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """One archive file as (trials in the results schema, run-metadata rows); ``meta``: its
    records (:func:`~bench.archive.store.read_file_meta`) when the caller has read them already."""
    d = folder or archive_dir()
    path = d / rel
    if meta is None:
        meta = read_file_meta(path)
    table = pq.read_table(path)
    n = table.num_rows
    piece, optimizer = str(meta["piece"]), str(meta["optimizer"])
    tasks: Mapping[str, Mapping[str, Any]] = meta["tasks"]
    task = table.column("task").to_pandas().astype(str).to_numpy()
    seed = table.column("seed").to_numpy().astype(np.int64)
    if "values" in table.column_names:
        values = table.column("values").combine_chunks()
        value = pc_first(values)
    else:
        value = table.column("value").to_numpy()
        offsets = pa.array(np.arange(n + 1, dtype=np.int32))
        values = pa.ListArray.from_arrays(offsets, pa.array(value, pa.float64()))
    fidelity = table.column("fidelity").to_numpy() if "fidelity" in table.column_names else np.full(n, np.nan)
    status = {(r["task"], int(r["seed"])): r["status"] for r in meta["runs"]}

    def per_task(key: str) -> np.ndarray:
        lookup = {t: v.get(key) for t, v in tasks.items()}
        return np.array([lookup[t] for t in task], dtype=object)

    objectives = {t: _objectives_text(v["objectives"]) for t, v in tasks.items()}
    minimize = {t: bool(v["objectives"][0]["minimize"]) for t, v in tasks.items()}
    optimum = {t: (np.nan if v.get("optimum") is None else float(v["optimum"])) for t, v in tasks.items()}
    frame = pd.DataFrame(
        {
            "study": piece,
            "run_id": [f"{t.replace('/', '__')}--{optimizer}--s{s}" for t, s in zip(task, seed, strict=True)],
            "task": task,
            "family": per_task("family"),
            "task_type": per_task("task_type"),
            "task_kind": per_task("task_kind"),
            "optimizer": optimizer,
            "seed": seed,
            "trial": table.column("trial").to_numpy().astype(np.int64),
            "config": None,
            "fidelity": fidelity,
            "value": value,
            "values": values.to_pandas(),
            "cost": table.column("cost").to_numpy(),
            "budget_used": table.column("budget_used").to_numpy(),
            "sim_time": _sim_time(table, meta["runs"]),
            "wall_time": np.nan,
            "eval_time": np.nan,
            "optimum": [optimum[t] for t in task],
            "minimize": [minimize[t] for t in task],
            "objectives": [objectives[t] for t in task],
            "run_status": [status[(t, int(s))] for t, s in zip(task, seed, strict=True)],
        }
    )
    runs = []
    spec_common = meta.get("spec") or {}
    for r in meta["runs"]:
        t = r["task"]
        spec = {**spec_common, "task": t, "seed": int(r["seed"])}
        if tasks[t].get("revision"):
            spec["task_revision"] = tasks[t]["revision"]
        run_meta = {
            "study": piece,
            "spec": spec,
            "status": r["status"],
            "error": r.get("error"),
            "n_trials": r["n_trials"],
            "objectives": tasks[t]["objectives"],
            "fidelity": tasks[t].get("fidelity"),
            "versions": info.get("versions") or meta.get("versions"),
            "fingerprint": r.get("fingerprint"),
            "archive": {"file": rel, "piece": piece, "version": None},
        }
        runs.append(
            {
                "file": f"archive:{rel}",
                "run_id": f"{t.replace('/', '__')}--{optimizer}--s{r['seed']}",
                "study": piece,
                "task": t,
                "optimizer": optimizer,
                "seed": int(r["seed"]),
                "status": r["status"],
                "error": r.get("error"),
                "n_trials": r["n_trials"],
                "duration": r.get("duration"),
                "started": None,
                "finished": None,
                "meta": run_meta,
            }
        )
    return frame, runs


def _sim_time(table: pa.Table, runs: list[dict[str, Any]]) -> np.ndarray:
    """Simulated time: stored, or (sequential runs) the running sum of each run's costs, which is
    how the runner computed it, bit for bit (the packer checked)."""
    if "sim_time" in table.column_names:
        return np.asarray(table.column("sim_time").to_numpy(), dtype=np.float64)
    cost = np.asarray(table.column("cost").to_numpy(), dtype=np.float64)
    out = np.empty_like(cost)
    start = 0
    for r in runs:  # in file order, each run's trials contiguous
        end = start + int(r["n_trials"])
        out[start:end] = np.cumsum(cost[start:end])
        start = end
    return out


def pc_first(values: pa.ListArray) -> np.ndarray:
    """The first element of every list (the first objective's value)."""
    import pyarrow.compute as pc

    return np.asarray(pc.list_element(values, 0).to_numpy(zero_copy_only=False), dtype=np.float64)


def read_archive(
    pieces: Iterable[str] | None = None,
    optimizers: Iterable[str] | None = None,
    files: Iterable[str] | None = None,
    folder: Path | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The archived runs (all, or of some pieces, optimizers or files) as (trials, runs metadata)."""
    d = folder or archive_dir()
    manifest = read_manifest(d)
    want_p = set(pieces) if pieces is not None else None
    want_o = set(optimizers) if optimizers is not None else None
    want_f = set(files) if files is not None else None
    frames: list[pd.DataFrame] = []
    rows: list[dict[str, Any]] = []
    for rel, info in sorted(manifest.get("files", {}).items()):
        if want_p is not None and info.get("piece") not in want_p:
            continue
        if want_o is not None and info.get("optimizer") not in want_o:
            continue
        if want_f is not None and rel not in want_f:
            continue
        frame, runs = read_entry(rel, info, d)
        for r in runs:
            r["meta"]["archive"]["version"] = manifest.get("archive_version")
        frames.append(frame)
        rows.extend(runs)
    if not frames:
        from bench.results import TRIAL_SCHEMA

        return TRIAL_SCHEMA.empty_table().to_pandas(), pd.DataFrame(rows)
    trials = pd.concat(frames, ignore_index=True)
    from bench.results import CATEGORICAL_COLUMNS

    for col in CATEGORICAL_COLUMNS:
        if col in trials.columns:
            trials[col] = trials[col].astype("category")
    return trials, pd.DataFrame(rows)
