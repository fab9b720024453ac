"""Re-run one archived run of each chosen archive entry and compare its trials bit for bit.

The test suite re-runs a sample of the cheap entries; this script is for the expensive ones (GP,
random-forest and model-based ids), where a change to an adapter or a library can make an entry
stale without any recorded version changing. Each re-run is a fresh ``python -m bench`` process
with the entry's recorded BLAS kernel (``OPENBLAS_CORETYPE``; ``Haswell`` for entries built before
the kernel was recorded, see docs/baselines.md). It prints one line per entry: ``same``, or
``DIFF`` with the first trial that differs.

    python benchmarks/archive_reproducibility.py dev_bb/smac_hpo default/skopt_gp
    python benchmarks/archive_reproducibility.py --all --at 0.1     # one short run of every entry

``--at`` picks the run by its recorded duration (0 = the shortest, 1 = the longest). YAHPO tasks
need ``NXMBENCH_YAHPO_DATA``.

Example:
    >>> first_difference([(1.0,), (2.0,)], [(1.0,), (3.0,)])
    1
    >>> first_difference([(1.0,)], [(1.0,)]) is None
    True
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.archive.store import read_file_meta, read_manifest  # noqa: E402
from bench.blas_kernel import openblas_coretype  # noqa: E402

DATA = REPO / "bench" / "archive" / "data"


def first_difference(old: list[tuple[Any, ...]], new: list[tuple[Any, ...]]) -> int | None:
    """Index of the first trial whose values differ (or where one run is longer); ``None`` if equal."""
    for i, (a, b) in enumerate(zip(old, new, strict=False)):
        if a != b:
            return i
    return None if len(old) == len(new) else min(len(old), len(new))


def _values(table: Any, task: str | None = None, seed: int | None = None) -> list[tuple[Any, ...]]:
    """Each trial's objective values (and fidelity), optionally of one run of an archive file."""
    names = table.column_names
    col = "values" if "values" in names else "value"
    rows = zip(
        table.column("task").to_pylist(),
        table.column("seed").to_pylist(),
        table.column(col).to_pylist(),
        table.column("fidelity").to_pylist() if "fidelity" in names else [None] * table.num_rows,
        strict=True,
    )
    return [
        (tuple(v) if isinstance(v, list) else (v,)) + (None if f is None or f != f else f,)  # NaN: none
        for t, s, v, f in rows
        if task is None or (t == task and s == seed)
    ]


def check(key: str, at: float) -> str:
    """Re-run one run of archive entry ``key`` (``piece/optimizer``); one line saying what came back."""
    entry = read_manifest(DATA)["files"][f"{key}.parquet"]
    runs = sorted(read_file_meta(DATA / f"{key}.parquet")["runs"], key=lambda r: r["duration"])
    run = runs[min(len(runs) - 1, int(at * len(runs)))]
    kernels = {k for m in entry.get("machine") or [] if (k := openblas_coretype(m.get("blas")))}
    coretype = kernels.pop() if len(kernels) == 1 else "Haswell"  # not recorded: built before v33
    with tempfile.TemporaryDirectory() as out:
        cmd = [
            sys.executable,
            "-m",
            "bench",
            f"optimizer={entry['optimizer']}",
            f"task={run['task']}",
            f"seed={run['seed']}",
            f"n_trials={entry['budget']['n_trials']}",
            f"output_dir={out}",
            "progress=false",
        ]
        env = {**os.environ, "OPENBLAS_CORETYPE": coretype}
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, env=env, check=False)
        files = sorted(Path(out).glob("**/runs/*.parquet"))
        if proc.returncode != 0 or not files:
            last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            return f"{key}: the re-run failed ({last})"
        new = _values(pq.read_table(files[0]))
    old = _values(pq.read_table(DATA / f"{key}.parquet"), run["task"], run["seed"])
    where = f"{run['task']} seed {run['seed']}, {len(old)} trials, OPENBLAS_CORETYPE={coretype}"
    i = first_difference(old, new)
    if i is None:
        return f"{key}: same ({where})"
    return f"{key}: DIFF from trial {i + 1} ({where}; {len(new)} trials re-run)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("entries", nargs="*", help="piece/optimizer, e.g. dev_bb/smac_hpo")
    parser.add_argument("--all", action="store_true", help="every entry of the archive")
    parser.add_argument("--at", type=float, default=0.33, help="which run by duration, 0..1 (default 0.33)")
    args = parser.parse_args(argv)
    if not 0 <= args.at <= 1:
        parser.error(f"--at {args.at} is invalid: use a number in [0, 1]")
    known = sorted(k.removesuffix(".parquet") for k in read_manifest(DATA)["files"])
    keys = known if args.all else args.entries
    unknown = [k for k in keys if k not in known]
    if unknown or not keys:
        parser.error(f"unknown entries {unknown} (valid: piece/optimizer, e.g. {known[0]}) or none given")
    differ = 0
    for key in keys:
        line = check(key, args.at)
        differ += " same " not in line
        print(line, flush=True)
    return 1 if differ else 0


if __name__ == "__main__":
    raise SystemExit(main())
