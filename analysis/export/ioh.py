"""Export runs in the IOHprofiler data format, which IOHanalyzer and iohinspector read.

IOHprofiler (C. Doerr, H. Wang, F. Ye, S. van Rijn, T. Bäck, "IOHprofiler: a benchmarking and
profiling tool for iterative optimization heuristics", arXiv:1810.05281, 2018; H. Wang, D.
Vermetten, F. Ye, C. Doerr, T. Bäck, "IOHanalyzer: detailed performance analyses for iterative
optimization heuristics", ACM TELO 2(1), 2022) keeps one folder per algorithm. The format written
here is the one of the ``ioh`` package's ``ioh.logger.Analyzer`` (IOHexperimenter, J. de Nobel
et al., arXiv:2111.04077; ioh 0.4.2, checked by running it), which IOHanalyzer
(``read_index_file__json``, ``read_IOH_v1plus``: JSON meta files of version 0.3.3 or later) and
iohinspector (``DataManager.add_folder``) read:

.. code-block:: text

    FOLDER/<optimizer>/IOHprofiler_f<F>_<name>.json                   meta file, one per function
    FOLDER/<optimizer>/data_f<F>_<name>/IOHprofiler_f<F>_DIM<D>.dat   one per function and dimension

The meta file holds ``version``, ``suite``, ``function_id``, ``function_name``, ``maximization``,
``algorithm`` (``name``, ``info``), ``run_attributes`` (here ``["seed"]``), ``attributes`` (the
data columns) and ``scenarios``: one per dimension with its data file's ``path`` and its ``runs``,
each ``{instance, evals, best: {evals, y, x}, seed}``, in the order of the runs' blocks in the
data file (by instance, then seed). A block is a header line
(``evaluations raw_y transformed_y``) and one line per logged evaluation; a reader starts a run
at each header line (IOHanalyzer) or at each evaluation 1 (iohinspector).

* ``evaluations`` is ``trial + 1``. Logged are the first evaluation, each one that improves the
  best value so far and the last one, as the Analyzer's default trigger writes them (so every
  reader rebuilds the best-so-far value at every evaluation), or every evaluation with
  ``every_evaluation=True``. A run whose first evaluation is not a trial row cannot be read
  back as a run and is skipped, with a count.
* Values are minimized (``maximization: false``): a maximized objective is negated, with its
  optimum, as :mod:`analysis.normalize` does. ``raw_y`` is what the Analyzer writes: ``f - f_opt``
  where the optimum is known (every exported ``bbob`` task), else ``f``; ``transformed_y`` (the
  Analyzer's name for the measured value) is ``f``. ``best.y`` is the best ``raw_y``. Values are
  written with Python's shortest round-trip spelling, so a reader gets the very floats compared here.
* ``bbob`` tasks (``bbob/fFF/dDD/iII``, single-objective, known optimum) keep their function id,
  dimension and instance, suite ``BBOB`` and IOH's function names (``Sphere``...), and ``best.x``
  is the configuration's ``x0 .. x{D-1}``. ioh's BBOB instances are COCO's: the same ``f_opt``
  and the same ``f`` (the tests compare them on a real study).
* Other single-objective tasks get what the format needs from the frame: suite = the task's
  family, function id = 1001, 1002, ... in the sorted order of those task ids in the frame
  (unique within one export, clear of BBOB's 1-24), function name = the task id with ``/`` and
  other characters unsafe in a file name as ``_``, dimension = the most parameters in one of its
  configurations, instance 1; ``best.x`` is the configuration's values when they are all
  numbers. A task without a ``config`` column has no dimension and is skipped.
* Skipped, with counts: multi-objective and multi-fidelity tasks (the format has one value per
  evaluation, and a low-fidelity score is not the task's), ``bbob`` tasks without a known
  optimum. The seeds of a task are repeated runs on its instance.

Example:
    >>> import tempfile
    >>> from analysis.synthetic import synthetic_results
    >>> out = export_ioh(synthetic_results(n_tasks=2, n_optimizers=1, n_seeds=2, n_trials=5),
    ...                  tempfile.mkdtemp())
    >>> out.n_runs, sorted(p.name for p in out.algorithms["opt0"].iterdir())[:2]
    (4, ['IOHprofiler_f1001_synthetic_bb0001.json', 'IOHprofiler_f1_Sphere.json'])
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.cli_parser import OneLineParser
from analysis.export.command import add_common_arguments, run_export
from analysis.normalize import check_columns, prepare
from tasks.bbob import parse_id
from tasks.vocabulary import MULTI_FIDELITY_TYPES, MULTI_OBJECTIVE_TYPES

#: The ``version`` of the meta files: that of the ioh release whose Analyzer output this format
#: follows. IOHanalyzer reads a JSON meta file as this format from version 0.3.3 on.
FORMAT_VERSION = "0.4.2"
#: Data columns of every ``.dat`` file, in order (the meta file's ``attributes``).
ATTRIBUTES: tuple[str, ...] = ("evaluations", "raw_y", "transformed_y")
#: IOH's names of the 24 bbob functions (``ioh.get_problem(f, 1, d, ProblemClass.BBOB).meta_data.name``).
BBOB_FUNCTION_NAMES: tuple[str, ...] = (
    "Sphere",
    "Ellipsoid",
    "Rastrigin",
    "BuecheRastrigin",
    "LinearSlope",
    "AttractiveSector",
    "StepEllipsoid",
    "Rosenbrock",
    "RosenbrockRotated",
    "EllipsoidRotated",
    "Discus",
    "BentCigar",
    "SharpRidge",
    "DifferentPowers",
    "RastriginRotated",
    "Weierstrass",
    "Schaffers10",
    "Schaffers1000",
    "GriewankRosenbrock",
    "Schwefel",
    "Gallagher101",
    "Gallagher21",
    "Katsuura",
    "LunacekBiRastrigin",
)
#: First function id of the tasks that are not bbob tasks (clear of BBOB's 1-24 and PBO's 1-25).
FIRST_OTHER_FUNCTION_ID = 1001
_UNSAFE = re.compile(r"[^A-Za-z0-9.+-]")
_HEADER = " ".join(ATTRIBUTES) + "\n"

#: Why a task was not written (keys of :attr:`IohExport.skipped_tasks`).
SKIP_MULTI_OBJECTIVE = "multi-objective"
SKIP_MULTI_FIDELITY = "multi-fidelity"
SKIP_BBOB_NO_OPTIMUM = "bbob task without a known optimum"
SKIP_NO_DIMENSION = "no configurations to count its dimension"
#: Why a run of a written task was not written (key of :attr:`IohExport.skipped_runs`).
SKIP_NO_FIRST_EVALUATION = "first evaluation not a trial row"


@dataclass(frozen=True)
class IohProblem:
    """What the IOHprofiler format says about one task.

    Attributes:
        suite, function_id, function_name, dimension, instance: the format's fields.
        optimum: the known optimum, minimized (``raw_y = f - optimum``), or ``None``.
        bbob: whether ``best.x`` is read from the configuration's ``x0 .. x{D-1}``.
    """

    suite: str
    function_id: int
    function_name: str
    dimension: int
    instance: int
    optimum: float | None
    bbob: bool


@dataclass(frozen=True)
class IohExport:
    """What :func:`export_ioh` wrote.

    Attributes:
        folder: the export folder.
        algorithms: optimizer id -> its folder (one IOHanalyzer/iohinspector data set each).
        problems: task id -> its :class:`IohProblem`, for the tasks written.
        n_runs: runs written.
        skipped_tasks: reason -> tasks not written for it.
        skipped_runs: reason -> runs not written for it (those of skipped tasks included).
    """

    folder: Path
    algorithms: dict[str, Path] = field(default_factory=dict)
    problems: dict[str, IohProblem] = field(default_factory=dict)
    n_runs: int = 0
    skipped_tasks: dict[str, int] = field(default_factory=dict)
    skipped_runs: dict[str, int] = field(default_factory=dict)

    @property
    def n_tasks(self) -> int:
        """Tasks written."""
        return len(self.problems)

    def summary(self) -> str:
        """One line for the command line.

        Example:
            >>> IohExport(Path("x"), {"a": Path("x/a")}, n_runs=6, skipped_tasks={"multi-objective": 1},
            ...           skipped_runs={"multi-objective": 3}).summary().split("; ")
            ... # doctest: +NORMALIZE_WHITESPACE
            ['wrote IOHprofiler data of 6 runs (0 tasks, 1 optimizer) to x',
             'skipped 1 task (3 runs): multi-objective']
        """
        n_opt = len(self.algorithms)
        line = (
            f"wrote IOHprofiler data of {self.n_runs} run{'' if self.n_runs == 1 else 's'} "
            f"({self.n_tasks} task{'' if self.n_tasks == 1 else 's'}, {n_opt} "
            f"optimizer{'' if n_opt == 1 else 's'}) to {self.folder}"
        )
        for reason, n in self.skipped_tasks.items():
            runs = self.skipped_runs.get(reason, 0)
            line += (
                f"; skipped {n} task{'' if n == 1 else 's'} ({runs} run{'' if runs == 1 else 's'}): {reason}"
            )
        for reason, n in self.skipped_runs.items():
            if reason not in self.skipped_tasks:
                line += f"; skipped {n} run{'' if n == 1 else 's'}: {reason}"
        return line


def safe_name(name: str) -> str:
    """An id spelled safely for a file name: characters other than letters, digits and ``.+-`` as ``_``.

    Example:
        >>> safe_name("yahpo/lcbench/3945"), safe_name("../x")
        ('yahpo_lcbench_3945', '_x')
    """
    return _UNSAFE.sub("_", name).lstrip(".") or "_"


def _value(v: float) -> str:
    """A float as the shortest spelling that reads back as the same float (IOH itself writes 10 decimals)."""
    return repr(float(v))


def _config(text: object) -> dict[str, Any] | None:
    if not isinstance(text, str):
        return None
    try:
        parsed = json.loads(text)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def _best_x(config: dict[str, Any] | None, problem: IohProblem) -> list[float]:
    """``best.x``: bbob's ``x0 .. x{D-1}``, else the configuration's values when all numbers, else ``[]``."""
    if config is None:
        return []
    try:
        if problem.bbob:
            return [float(config[f"x{i}"]) for i in range(problem.dimension)]
    except (KeyError, TypeError, ValueError):
        return []
    values = list(config.values())
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return [float(v) for v in values]
    return []


def _problems(
    data: pd.DataFrame, prep: Any, task_names: np.ndarray, task_types: np.ndarray
) -> tuple[dict[str, IohProblem], dict[str, str]]:
    """The :class:`IohProblem` of each task that can be written, and the skip reason of each other one."""
    bounds = prep.bounds
    problems: dict[str, IohProblem] = {}
    skipped: dict[str, str] = {}
    others: list[str] = []
    for task in sorted(set(task_names)):
        types = set(task_types[task_names == task])
        if types & set(MULTI_OBJECTIVE_TYPES):
            skipped[task] = SKIP_MULTI_OBJECTIVE
            continue
        if types & set(MULTI_FIDELITY_TYPES):
            skipped[task] = SKIP_MULTI_FIDELITY
            continue
        has_opt = bool(bounds.at[task, "has_optimum"])
        optimum = float(bounds.at[task, "lower"]) if has_opt else None
        try:
            suite, f, d, i = parse_id(task)
        except ValueError:
            others.append(task)
            continue
        if suite != "bbob":  # a bbob-biobj id on a task typed single-objective: not a BBOB problem
            others.append(task)
            continue
        if optimum is None:
            skipped[task] = SKIP_BBOB_NO_OPTIMUM
            continue
        problems[task] = IohProblem("BBOB", f, BBOB_FUNCTION_NAMES[f - 1], d, i, optimum, True)
    dims = _dimensions(data, prep, task_names, others)
    next_id = FIRST_OTHER_FUNCTION_ID
    for task in others:
        if dims.get(task, 0) < 1:
            skipped[task] = SKIP_NO_DIMENSION
            continue
        has_opt = bool(bounds.at[task, "has_optimum"])
        problems[task] = IohProblem(
            suite=task.split("/")[0],
            function_id=next_id,
            function_name=safe_name(task),
            dimension=dims[task],
            instance=1,
            optimum=float(bounds.at[task, "lower"]) if has_opt else None,
            bbob=False,
        )
        next_id += 1
    return problems, skipped


def _dimensions(data: pd.DataFrame, prep: Any, task_names: np.ndarray, tasks: list[str]) -> dict[str, int]:
    """Most parameters in one configuration of each of ``tasks`` (a conditional space has fewer in some)."""
    if not tasks or "config" not in data.columns:
        return {}
    configs = data["config"].to_numpy()
    rows = prep.source_rows
    out: dict[str, int] = {}
    for r in np.flatnonzero(np.isin(task_names, tasks)):
        task = str(task_names[r])
        for j in rows[prep.starts[r] : prep.starts[r + 1]]:
            parsed = _config(configs[j])
            if parsed is not None:
                out[task] = max(out.get(task, 0), len(parsed))
    return out


def _meta_text(meta: dict[str, Any]) -> str:
    """A meta file's text, laid out as ioh writes it: one line per key, per scenario and per run.

    Example:
        >>> print(_meta_text({"version": "0.4.2", "scenarios": [{"dimension": 2, "path": "d.dat",
        ...                  "runs": [{"instance": 1, "evals": 5}, {"instance": 2, "evals": 5}]}]}))
        {
         "version": "0.4.2",
         "scenarios": [
          {"dimension": 2, "path": "d.dat", "runs": [
           {"instance": 1, "evals": 5},
           {"instance": 2, "evals": 5}
          ]}
         ]
        }
        <BLANKLINE>
    """

    def dumps(value: Any) -> str:
        return json.dumps(value, allow_nan=False)  # a non-finite number is not JSON: refuse it

    lines = [f" {dumps(k)}: {dumps(v)}" for k, v in meta.items() if k != "scenarios"]
    if "scenarios" in meta:
        scenarios = []
        for scenario in meta["scenarios"]:
            head = ", ".join(f"{dumps(k)}: {dumps(v)}" for k, v in scenario.items() if k != "runs")
            runs = ",\n".join(f"   {dumps(r)}" for r in scenario.get("runs", []))
            scenarios.append(f'  {{{head}, "runs": [\n{runs}\n  ]}}')
        lines.append(' "scenarios": [\n' + ",\n".join(scenarios) + "\n ]")
    return "{\n" + ",\n".join(lines) + "\n}\n"


def _block(evals: np.ndarray, cost: np.ndarray, optimum: float | None, every: bool) -> str:
    """One run's lines of a ``.dat`` file: the header, then the logged evaluations."""
    best = np.minimum.accumulate(cost)
    if every:
        rows = np.arange(len(cost))
    else:
        logged = np.r_[True, best[1:] < best[:-1]]
        logged[-1] = True
        rows = np.flatnonzero(logged)
    shift = 0.0 if optimum is None else optimum
    return _HEADER + "".join(f"{int(evals[j])} {_value(cost[j] - shift)} {_value(cost[j])}\n" for j in rows)


def export_ioh(data: pd.DataFrame, folder: str | Path, every_evaluation: bool = False) -> IohExport:
    """Write the runs of single-objective tasks in the IOHprofiler format, one folder per optimizer.

    Args:
        data: the long results frame (one row per trial).
        folder: export folder; ``folder/<optimizer>/`` is one data set for IOHanalyzer or
            iohinspector. Files of the same names are replaced, others left alone: export into an
            empty folder.
        every_evaluation: log every evaluation, not only the first, the improving and the last.

    Returns:
        An :class:`IohExport` with the algorithm folders, the tasks written and the counts skipped.

    Raises:
        ValueError: no run can be written (nothing would be exported).

    Example:
        >>> import tempfile
        >>> from analysis.synthetic import results_from_values
        >>> df = results_from_values([{"optimizer": "a", "task": "bbob/f01/d02/i01",
        ...                            "values": [80.5, 81.0, 79.75, 80.0], "optimum": 79.5}])
        >>> out = export_ioh(df, tempfile.mkdtemp())
        >>> dat = out.algorithms["a"] / "data_f1_Sphere" / "IOHprofiler_f1_DIM2.dat"
        >>> dat.read_text().splitlines()
        ['evaluations raw_y transformed_y', '1 1.0 80.5', '3 0.25 79.75', '4 0.5 80.0']
    """
    check_columns(data)
    root = Path(folder)
    prep = prepare(data, full_fidelity_only=False)
    runs = prep.runs
    task_names = runs["task"].astype(str).to_numpy()
    task_types = runs["task_type"].astype(str).to_numpy()
    problems, skipped = _problems(data, prep, task_names, task_types)

    cost = prep.trials["cost"].to_numpy()
    evals = prep.trials["trials"].to_numpy().astype(np.int64)
    configs = data["config"].to_numpy()[prep.source_rows] if "config" in data.columns else None
    starts = prep.starts
    optimizers = runs["optimizer"].astype(str).to_numpy()
    seeds = runs["seed"].to_numpy()
    study = str(data["study"].iloc[0]) if "study" in data.columns else "unknown"

    skipped_tasks = Counter(skipped.values())
    skipped_runs: Counter[str] = Counter(skipped[t] for t in task_names if t in skipped)
    keep = np.array([t in problems for t in task_names], dtype=bool)
    first_missing = keep & (evals[starts[:-1]] != 1)
    if first_missing.any():
        skipped_runs[SKIP_NO_FIRST_EVALUATION] += int(first_missing.sum())
        keep &= ~first_missing
    if not keep.any():  # an export "of 0 runs" would look like success to a script reading it

        def runs(n: int) -> str:
            return f"{n} run{'' if n == 1 else 's'}"

        why = "; ".join(
            f"{n} task{'' if n == 1 else 's'} ({runs(skipped_runs.get(reason, 0))}): {reason}"
            for reason, n in skipped_tasks.items()
        ) or "; ".join(f"{runs(n)}: {reason}" for reason, n in skipped_runs.items())
        example = f", e.g. {sorted(skipped)[0]!r}" if skipped else ""
        raise ValueError(
            f"no runs to export in the IOHprofiler format: {why}{example}; export-ioh writes "
            "single-objective black-box runs of tasks with a known dimension"
        )

    names: dict[str, str] = {}
    for opt in sorted(set(optimizers[keep])):
        safe = safe_name(opt)
        if safe in names.values():
            other = next(k for k, v in names.items() if v == safe)
            raise ValueError(
                f"optimizer ids {opt!r} and {other!r} give one folder name {safe!r}; rename one of them"
            )
        names[opt] = safe

    written = 0
    algorithms: dict[str, Path] = {}
    for opt, safe in names.items():
        alg = root / safe
        mine = [int(r) for r in np.flatnonzero(keep & (optimizers == opt))]
        by_function: dict[tuple[int, str, str], dict[int, list[int]]] = {}
        for r in sorted(mine, key=lambda r: (problems[task_names[r]].instance, task_names[r], seeds[r])):
            p = problems[task_names[r]]
            by_function.setdefault((p.function_id, p.function_name, p.suite), {}).setdefault(
                p.dimension, []
            ).append(r)
        for (fid, fname, suite), by_dim in sorted(by_function.items()):
            stem = f"f{fid}_{fname}"
            (alg / f"data_{stem}").mkdir(parents=True, exist_ok=True)
            scenarios = []
            for dim, run_rows in sorted(by_dim.items()):
                rel = f"data_{stem}/IOHprofiler_f{fid}_DIM{dim}.dat"
                blocks: list[str] = []
                meta_runs: list[dict[str, Any]] = []
                for r in run_rows:
                    p = problems[task_names[r]]
                    lo, hi = int(starts[r]), int(starts[r + 1])
                    c, e = cost[lo:hi], evals[lo:hi]
                    blocks.append(_block(e, c, p.optimum, every_evaluation))
                    b = int(np.argmin(c))  # the first evaluation of the best value, as IOH records it
                    best_y = float(c[b]) - (0.0 if p.optimum is None else p.optimum)
                    x = _best_x(_config(configs[lo + b]) if configs is not None else None, p)
                    best = {"evals": int(e[b]), "y": best_y, "x": x}
                    meta_runs.append(
                        {"instance": p.instance, "evals": int(e[-1]), "best": best, "seed": int(seeds[r])}
                    )
                (alg / rel).write_text("".join(blocks))
                scenarios.append({"dimension": dim, "path": rel, "runs": meta_runs})
                written += len(run_rows)
            meta = {
                "version": FORMAT_VERSION,
                "suite": suite,
                "function_id": fid,
                "function_name": fname,
                "maximization": False,
                "algorithm": {"name": opt, "info": f"nxm-bench study {study!r}"},
                "run_attributes": ["seed"],
                "attributes": list(ATTRIBUTES),
                "scenarios": scenarios,
            }
            (alg / f"IOHprofiler_{stem}.json").write_text(_meta_text(meta))
        algorithms[opt] = alg
    written_tasks = {str(t) for t in task_names[keep]}
    return IohExport(
        folder=root,
        algorithms=algorithms,
        problems={t: p for t, p in problems.items() if t in written_tasks},
        n_runs=written,
        skipped_tasks=dict(sorted(skipped_tasks.items())),
        skipped_runs=dict(sorted(skipped_runs.items())),
    )


def _parser() -> argparse.ArgumentParser:
    p = OneLineParser(
        prog="python -m analysis export-ioh",
        description="Write the runs of single-objective tasks in the IOHprofiler format (one folder per "
        "optimizer) for IOHanalyzer and iohinspector.",
    )
    add_common_arguments(p, "ioh")
    p.add_argument(
        "--every-evaluation",
        action="store_true",
        help="log every evaluation (default: the first, each improving one and the last, as IOH does)",
    )
    return p


def main_export_ioh(argv: Sequence[str] | None = None) -> int:
    """The export's command line: ``python -m analysis export-ioh RESULTS [--out DIR]``; returns its status.

    Example:
        >>> main_export_ioh(["no/such/folder"])  # one "error:" line on stderr
        2
    """
    args = _parser().parse_args(sys.argv[1:] if argv is None else list(argv))
    return run_export(
        args.results,
        allow_mixed=args.allow_mixed,
        out=args.out,
        default_folder="ioh",
        write=lambda df, out: export_ioh(df, out, every_evaluation=args.every_evaluation),
    )
