"""Export runs of ``bbob`` tasks in COCO's data format, so that COCO's post-processing (cocopp) reads them.

COCO (N. Hansen, A. Auger, R. Ros, O. Mersmann, T. Tušar, D. Brockhoff, "COCO: a platform for
comparing continuous optimizers in a black-box setting", Optimization Methods and Software
36(1), 2021) writes an experiment as one folder per algorithm, which ``python -m cocopp FOLDER...``
turns into ERT tables, runtime ECDFs and scaling plots. :func:`export_coco` writes the "old"
bbob format of COCO's ``bbob`` logger, as cocopp 2.9's readers take it (``pproc.DataSetList``,
``pproc.DataSet``, ``readalign.split``; no ``data_format`` key, so ``BBOBOldDataFormat``:
evaluations in the first column, best Δf in the third). For each optimizer:

.. code-block:: text

    FOLDER/<optimizer>/bbobexp_f<F>.info                      index, one entry per dimension
    FOLDER/<optimizer>/data_f<F>/bbobexp_f<F>_DIM<D>.dat      target-triggered lines
    FOLDER/<optimizer>/data_f<F>/bbobexp_f<F>_DIM<D>.tdat     evaluation-triggered lines

An ``.info`` entry is three lines: a header (``suite = 'bbob', funcId = 1, DIM = 2, Precision =
1.000e-08, algId = 'random_search', logger = 'nxm-bench'``), a comment starting with ``%``, and
the data file with one ``instance:evaluations|best Δf`` per run, in the order of the runs' blocks
in the data files. A block starts with COCO's header line (``% function evaluation | noise-free
fitness - Fopt (7.948000000000e+01) | best noise-free fitness - Fopt | measured fitness | best
measured fitness | x1 | x2...``) and has one line per logged evaluation: evaluations, ``f - f_opt``,
best ``f - f_opt`` so far, ``f``, best ``f``, then ``x`` when ``D < 22`` (as COCO) and the
``config`` column holds ``x0 .. x{D-1}``.

* Evaluations are ``trial + 1``; values are written with 17 significant digits, so cocopp reads
  the very numbers this project compares (``analysis.leaderboard.fixed_target`` gives the same
  ERTs as cocopp's ``DataSet.detERT``; the tests check it).
* ``.dat`` lines: the first evaluation and every evaluation that improves the best ``f`` so far, a
  superset of COCO's target-triggered lines, so the first hit of any target is exact. ``.tdat``
  lines: COCO's evaluation triggers (``⌊10^(i/20)⌋`` and ``D·{1, 2, 5}·10^i`` evaluations) and
  the last evaluation.
* bbob functions are minimized; a frame that says an objective is maximized has it negated, with
  its optimum, before it is written (as :mod:`analysis.normalize` does).
* The seeds of a task are repeated runs on one COCO instance. When the instances of a function
  have unequal numbers of runs, cocopp re-weights them (its ``balance_instances``), this
  project's ERT does not.
* Tasks that are not single-objective ``bbob`` tasks with a known optimum (other families,
  ``bbob-biobj``) are skipped and counted in the result.

Example:
    >>> import tempfile
    >>> from analysis.synthetic import synthetic_results
    >>> df = synthetic_results(n_tasks=2, n_optimizers=1, n_seeds=2, n_trials=5)  # 1 bbob task of 2
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     out = export_coco(df, folder)
    ...     files = sorted(p.name for p in out.algorithms["opt0"].iterdir())
    >>> out.n_runs, out.skipped_tasks, files
    (2, 1, ['bbobexp_f1.info', 'data_f1'])
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.cli_parser import OneLineParser
from analysis.export.command import add_common_arguments, run_export
from analysis.normalize import check_columns, prepare
from tasks.bbob import parse_id

#: COCO's final target precision: ``Precision`` in the ``.info`` header.
PRECISION = 1e-8
#: Evaluation triggers of the ``.tdat`` files: ``⌊10^(i/20)⌋`` evaluations, and D x these x 10^i.
EVALUATION_TRIGGERS_PER_DECADE = 20
BASE_EVALUATIONS: tuple[int, ...] = (1, 2, 5)
#: COCO writes the solution ``x`` only below this dimension.
MAX_DIM_WITH_X = 22
_HEADER = (
    "% function evaluation | noise-free fitness - Fopt ({fopt:13.12e}) | best noise-free fitness - Fopt | "
    "measured fitness | best measured fitness | x1 | x2...\n"
)
_UNSAFE = re.compile(r"[^A-Za-z0-9._+-]")


@dataclass(frozen=True)
class CocoExport:
    """What :func:`export_coco` wrote.

    Attributes:
        folder: the export folder.
        algorithms: optimizer id -> its folder (what to give ``python -m cocopp``).
        n_runs, n_tasks: runs and bbob tasks written.
        skipped_tasks, skipped_runs: tasks (and their runs) not written: not single-objective
            ``bbob`` tasks with a known optimum.
    """

    folder: Path
    algorithms: dict[str, Path] = field(default_factory=dict)
    n_runs: int = 0
    n_tasks: int = 0
    skipped_tasks: int = 0
    skipped_runs: int = 0

    def summary(self) -> str:
        """One line for the command line.

        Example:
            >>> line = CocoExport(Path("x"), {"a": Path("x/a")}, 6, 2, 1, 3).summary()
            >>> line.split("; ")
            ... # doctest: +NORMALIZE_WHITESPACE
            ['wrote COCO bbob data of 6 runs (2 tasks, 1 optimizer) to x',
             'skipped 1 task (3 runs) that is not a bbob task with a known optimum',
             'post-process with: python -m cocopp x/a']
        """
        n_opt = len(self.algorithms)
        line = (
            f"wrote COCO bbob data of {self.n_runs} runs ({self.n_tasks} tasks, {n_opt} "
            f"optimizer{'s' if n_opt != 1 else ''}) to {self.folder}"
        )
        if self.skipped_tasks:
            one = self.skipped_tasks == 1
            line += (
                f"; skipped {self.skipped_tasks} task{'' if one else 's'} ({self.skipped_runs} runs) that "
                f"{'is' if one else 'are'} not {'a bbob task' if one else 'bbob tasks'} with a known optimum"
            )
        if self.algorithms:
            line += "; post-process with: python -m cocopp " + " ".join(
                str(p) for p in self.algorithms.values()
            )
        return line


def evaluation_triggers(n_evaluations: int, dim: int) -> np.ndarray:
    """Evaluations COCO's logger writes to a ``.tdat`` file in a run of ``n_evaluations``, the last included.

    Example:
        >>> evaluation_triggers(30, 2).tolist()
        [1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 14, 15, 17, 19, 20, 22, 25, 28, 30]
    """
    if n_evaluations < 1:
        return np.zeros(0, dtype=np.int64)
    top = math.log10(n_evaluations)
    i = np.arange(0, int(np.ceil(top * EVALUATION_TRIGGERS_PER_DECADE)) + 2)
    first = np.floor(10.0 ** (i / EVALUATION_TRIGGERS_PER_DECADE)).astype(np.int64)
    k = np.arange(0, int(np.ceil(top)) + 1)
    second = (dim * np.outer(np.asarray(BASE_EVALUATIONS), 10**k)).ravel().astype(np.int64)
    both = np.union1d(np.union1d(first, second), [n_evaluations])
    return both[(both >= 1) & (both <= n_evaluations)]


def _safe_name(name: str) -> str:
    """A folder name and ``algId`` from an optimizer id: no path separators, quotes or spaces."""
    return _UNSAFE.sub("_", name).lstrip(".") or "optimizer"


def _x_text(config: object, dim: int) -> str:
    """`` x1 .. xD`` of a configuration as COCO writes it, or nothing when it is not a plain box point."""
    if dim >= MAX_DIM_WITH_X or not isinstance(config, str):
        return ""
    try:
        parsed = json.loads(config)
        xs = [float(parsed[f"x{i}"]) for i in range(dim)]
    except (ValueError, KeyError, TypeError):
        return ""
    return "".join(f" {v:+.4e}" for v in xs)


def _lines(evals: np.ndarray, cost: np.ndarray, best: np.ndarray, fopt: float, x: list[str]) -> str:
    df, best_df = cost - fopt, best - fopt
    return "".join(
        f"{e} {a:+.16e} {b:+.16e} {c:+.16e} {d:+.16e}{xs}\n"
        for e, a, b, c, d, xs in zip(evals, df, best_df, cost, best, x, strict=True)
    )


def export_coco(data: pd.DataFrame, folder: str | Path, comment: str | None = None) -> CocoExport:
    """Write the runs of ``bbob`` tasks in COCO's "old" bbob data format, one folder per optimizer.

    Args:
        data: the long results frame (one row per trial).
        folder: export folder; ``folder/<optimizer>/`` is one cocopp algorithm. Files of the same
            names are replaced, others left alone: export into an empty folder.
        comment: the ``%`` comment line of the ``.info`` entries (default: names the study and
            the optimizer).

    Returns:
        A :class:`CocoExport` with the algorithm folders and the counts of runs written and skipped.

    Raises:
        ValueError: no run is of a bbob task with a known optimum (nothing would be written).

    Example:
        >>> import tempfile
        >>> from analysis.synthetic import results_from_values
        >>> df = results_from_values([{"optimizer": "a", "task": "bbob/f01/d02/i01",
        ...                            "values": [80.9, 79.5], "optimum": 79.48}])
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     out = export_coco(df, folder)
        ...     info = (out.algorithms["a"] / "bbobexp_f1.info").read_text().splitlines()
        >>> info[2]  # data file, then instance:evaluations|best f - f_opt of each run
        'data_f1/bbobexp_f1_DIM2.dat, 1:2|2.0e-02'
    """
    check_columns(data)
    root = Path(folder)
    prep = prepare(data)
    runs = prep.runs
    task_names = runs["task"].astype(str).to_numpy()
    has_opt = prep.bounds["has_optimum"]
    parsed: dict[str, tuple[int, int, int]] = {}
    for task in np.unique(task_names):
        try:
            suite, f, d, i = parse_id(task)
        except ValueError:
            continue
        if suite == "bbob" and bool(has_opt.get(task, False)):
            parsed[task] = (f, d, i)
    keep = np.array([t in parsed for t in task_names], dtype=bool)
    skipped = set(task_names[~keep])
    if not parsed:  # an empty export "of 0 runs" would look like success to a script reading it
        one = len(skipped) == 1
        raise ValueError(
            f"no bbob runs to export: {len(skipped)} task{'' if one else 's'} ({len(task_names)} runs) "
            f"{'is' if one else 'are'} not {'a bbob task' if one else 'bbob tasks'} with a known optimum, "
            f"e.g. {sorted(skipped)[0]!r}; export-coco writes single-objective bbob/fNN/dNN/iNN tasks"
        )

    cost = prep.trials["cost"].to_numpy()
    evals = prep.trials["trials"].to_numpy().astype(np.int64)
    configs = data["config"].to_numpy()[prep.source_rows] if "config" in data.columns else None
    starts = prep.starts
    lower = prep.bounds["lower"]
    study = str(data["study"].iloc[0]) if "study" in data.columns and len(data) else "unknown"
    optimizers = runs["optimizer"].astype(str).to_numpy()
    seeds = runs["seed"].to_numpy()

    names: dict[str, str] = {}
    for opt in sorted(set(optimizers[keep])):
        safe = _safe_name(opt)
        if safe in names.values():
            raise ValueError(
                f"optimizer ids {opt!r} and {next(k for k, v in names.items() if v == safe)!r} give one "
                f"COCO folder name {safe!r}; rename one of them"
            )
        names[opt] = safe

    written = 0
    algorithms: dict[str, Path] = {}
    for opt, safe in names.items():
        alg = root / safe
        mine = np.flatnonzero(keep & (optimizers == opt))
        # Group by function, then dimension; runs in (instance, seed) order within a data file.
        ordered = sorted((int(i) for i in mine), key=lambda i: (*parsed[task_names[i]], seeds[i]))
        by_function: dict[int, dict[int, list[int]]] = {}
        for i in ordered:
            f, d, _ = parsed[task_names[i]]
            by_function.setdefault(f, {}).setdefault(d, []).append(i)
        text = comment if comment is not None else f"nxm-bench export: study {study!r}, optimizer {opt!r}"
        text = " ".join(text.split())
        for f, by_dim in sorted(by_function.items()):
            (alg / f"data_f{f}").mkdir(parents=True, exist_ok=True)
            entries = []
            for d, run_ids in sorted(by_dim.items()):
                rel = f"data_f{f}/bbobexp_f{f}_DIM{d}"
                dat: list[str] = []
                tdat: list[str] = []
                index: list[str] = []
                for r in run_ids:
                    lo, hi = int(starts[r]), int(starts[r + 1])
                    fopt = float(lower[task_names[r]])
                    c = cost[lo:hi]
                    best = np.minimum.accumulate(c)
                    e = evals[lo:hi]
                    inst = parsed[task_names[r]][2]
                    head = _HEADER.format(fopt=fopt) + f"% instance = {inst}, seed = {seeds[r]}\n"
                    # Every improvement (not only COCO's target crossings): exact first hits for
                    # any target; cocopp needs the first evaluation in both files.
                    improved = np.flatnonzero(np.r_[True, best[1:] < best[:-1]])
                    on_trigger = np.flatnonzero(np.isin(e, evaluation_triggers(int(e[-1]), d)))
                    for rows, out in ((improved, dat), (on_trigger, tdat)):
                        xs = [_x_text(configs[lo + j], d) if configs is not None else "" for j in rows]
                        out.append(head + _lines(e[rows], c[rows], best[rows], fopt, xs))
                    index.append(f"{inst}:{int(e[-1])}|{best[-1] - fopt:.1e}")
                (alg / f"{rel}.dat").write_text("".join(dat))
                (alg / f"{rel}.tdat").write_text("".join(tdat))
                header = (
                    f"suite = 'bbob', funcId = {f}, DIM = {d}, Precision = {PRECISION:.3e}, "
                    f"algId = '{safe}', logger = 'nxm-bench'"
                )
                entries.append(f"{header}\n% {text}\n{rel}.dat, {', '.join(index)}\n")
                written += len(run_ids)
            (alg / f"bbobexp_f{f}.info").write_text("".join(entries))
        algorithms[opt] = alg
    return CocoExport(
        folder=root,
        algorithms=algorithms,
        n_runs=written,
        n_tasks=len(set(task_names[keep])),
        skipped_tasks=len(skipped),
        skipped_runs=int((~keep).sum()),
    )


def _parser() -> argparse.ArgumentParser:
    p = OneLineParser(
        prog="python -m analysis export-coco",
        description="Write the runs of bbob tasks in COCO's data format (one folder per optimizer), "
        "for COCO's post-processing: python -m cocopp FOLDER/<optimizer> ...",
    )
    add_common_arguments(p, "coco")
    return p


def main_export(argv: Sequence[str] | None = None) -> int:
    """The export's command line: ``python -m analysis export-coco RESULTS [--out DIR]``; returns its status.

    Example:
        >>> main_export(["no/such/folder"])  # one "error:" line on stderr
        2
    """
    args = _parser().parse_args(sys.argv[1:] if argv is None else list(argv))
    return run_export(
        args.results,
        allow_mixed=args.allow_mixed,
        out=args.out,
        default_folder="coco",
        write=lambda df, out: export_coco(df, out),
    )
