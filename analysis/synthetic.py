"""Synthetic results frames in the documented schema, for tests, examples and scale benchmarks.

The frames follow docs/results-schema.md exactly (one row per trial) and are
built with vectorized numpy, so 10^7 rows take seconds. Optimizer ``opt0`` is
the weakest (it samples like random search) and each further optimizer
converges faster, so the expected ranking is known: ``opt{k-1}`` best.

Example:
    >>> df = synthetic_results(n_tasks=2, n_optimizers=3, n_seeds=2, n_trials=4)
    >>> len(df), sorted(df["optimizer"].unique())
    (48, ['opt0', 'opt1', 'opt2'])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from bench.results import encode_objectives
from tasks.base import Objective
from tasks.vocabulary import MULTI_FIDELITY_TYPES, MULTI_OBJECTIVE_TYPES
from tasks.vocabulary import TASK_TYPES as _TYPES


def synthetic_results(
    n_tasks: int = 4,
    n_optimizers: int = 3,
    n_seeds: int = 3,
    n_trials: int = 20,
    task_types: Sequence[str] = ("bb",),
    optimizer_names: Sequence[str] | None = None,
    seed: int = 0,
    with_config: bool = True,
    categorical: bool = False,
) -> pd.DataFrame:
    """A complete, all-``ok`` study of ``n_tasks x n_optimizers x n_seeds`` runs.

    Tasks cycle through ``task_types``; every second single-objective task is a
    ``bbob`` task with a known optimum, the others are ``synthetic`` tasks
    without one, and every third task is maximized. Multi-fidelity tasks
    evaluate at fidelities 1, 3, 9 (high = 9) and count ``fidelity / 9``
    toward ``budget_used``. Multi-objective tasks have two objectives in
    ``values`` (``f1`` and ``f2``, both minimized); ``value`` is the first.
    The single objective of the other tasks is ``f``.

    Args:
        n_tasks, n_optimizers, n_seeds, n_trials: grid size.
        task_types: task types to cycle through (``bb``, ``mf``, ``mo``, ``mfmo``).
        optimizer_names: ids, weakest first (default ``opt0``, ``opt1``, ...).
        seed: seed of the generator.
        with_config: include the JSON ``config`` column.
        categorical: store string columns as ``category`` (what a large study should use).

    Example:
        >>> df = synthetic_results(n_tasks=1, n_optimizers=1, n_seeds=1, n_trials=2, task_types=("mo",))
        >>> [len(v) for v in df["values"]]
        [2, 2]
    """
    bad = [t for t in task_types if t not in _TYPES]
    if bad:
        raise ValueError(f"unknown task types {bad}; valid choices: {list(_TYPES)}")
    names = list(optimizer_names) if optimizer_names is not None else [f"opt{i}" for i in range(n_optimizers)]
    if len(names) != n_optimizers:
        raise ValueError(f"optimizer_names has {len(names)} ids; n_optimizers is {n_optimizers}")
    rng = np.random.default_rng(seed)
    n_runs = n_tasks * n_optimizers * n_seeds
    n = n_runs * n_trials
    t_idx = np.repeat(np.arange(n_tasks), n_optimizers * n_seeds * n_trials)
    o_idx = np.tile(np.repeat(np.arange(n_optimizers), n_seeds * n_trials), n_tasks)
    s_idx = np.tile(np.repeat(np.arange(n_seeds), n_trials), n_tasks * n_optimizers)
    trial = np.tile(np.arange(n_trials), n_runs)

    ttype = np.array([task_types[i % len(task_types)] for i in range(n_tasks)])
    is_mo = np.isin(ttype, list(MULTI_OBJECTIVE_TYPES))
    is_mf = np.isin(ttype, list(MULTI_FIDELITY_TYPES))
    has_opt = (np.arange(n_tasks) % 2 == 0) & ~is_mo
    maximize = np.arange(n_tasks) % 3 == 2
    dim = 2 + 3 * (np.arange(n_tasks) % 3)
    ids = np.array(
        [
            f"bbob/f{i % 24 + 1:02d}/d{dim[i]:02d}/i{i // 24 + 1:02d}"
            if has_opt[i]
            else f"synthetic/{ttype[i]}{i:04d}"
            for i in range(n_tasks)
        ]
    )
    f_opt = np.where(has_opt, rng.normal(0, 50, n_tasks).round(2), np.nan)
    scale = 10 ** rng.uniform(0, 3, n_tasks)

    # Better optimizers draw from a distribution that concentrates near the optimum
    # as trials go on; opt0 never concentrates (random search).
    skill = (o_idx / max(n_optimizers - 1, 1)) * 1.5
    u = rng.random(n)
    excess = scale[t_idx] * u ** (1.0 + skill * np.log1p(trial) / np.log1p(max(n_trials, 2)) * 2)
    base = np.where(has_opt[t_idx], f_opt[t_idx], 0.0) + excess
    value = np.where(maximize[t_idx], -base, base)
    optimum = np.where(maximize[t_idx], -f_opt[t_idx], f_opt[t_idx])

    run_num = np.repeat(np.arange(n_runs), n_trials)
    fid_levels = np.array([1.0, 3.0, 9.0])
    fidelity = np.where(is_mf[t_idx], fid_levels[(trial + s_idx) % 3], np.nan)
    step = np.where(is_mf[t_idx], fidelity / 9.0, 1.0)
    budget_used = _run_cumsum(step, run_num)
    cost = rng.exponential(1.0, n) * np.where(is_mf[t_idx], step, 1.0)
    sim_time = _run_cumsum(cost, run_num)
    eval_time = cost * 1e-3
    wall_time = _run_cumsum(eval_time + 1e-4, run_num)

    second = scale[t_idx] * (1.0 - u) ** (1.0 + skill) + rng.random(n) * 0.05 * scale[t_idx]
    second = np.where(is_mo[t_idx], second, np.nan)
    values = _list_column(value, second, is_mo[t_idx])

    # String columns are built once per task / run and expanded through category codes.
    run_names = np.array(
        [
            f"{ids[t].replace('/', '__')}--{names[o]}--s{sd}"
            for t in range(n_tasks)
            for o in range(n_optimizers)
            for sd in range(n_seeds)
        ]
    )
    family = np.array([i.split("/")[0] for i in ids])
    both = encode_objectives([Objective("f1"), Objective("f2")])
    objectives = np.array(
        [both if is_mo[i] else encode_objectives([Objective("f", not maximize[i])]) for i in range(n_tasks)]
    )

    def col(labels: np.ndarray, codes: np.ndarray) -> pd.Categorical | np.ndarray:
        uniq, inverse = np.unique(labels, return_inverse=True)
        cat = pd.Categorical.from_codes(inverse[codes], categories=uniq)
        return cat if categorical else np.asarray(cat)

    cols: dict[str, object] = {
        "study": "synthetic",
        "run_id": col(run_names, run_num),
        "task": col(ids, t_idx),
        "family": col(family, t_idx),
        "task_type": col(ttype, t_idx),
        "task_kind": "synthetic",
        "optimizer": col(np.array(names), o_idx),
        "seed": s_idx.astype(np.int64),
        "trial": trial.astype(np.int64),
    }
    if with_config:
        cols["config"] = ('{"x0": ' + pd.Series(np.round(u, 6)).astype("str") + "}").to_numpy()
    cols.update(
        fidelity=fidelity,
        value=value,
        values=values,
        cost=cost,
        budget_used=budget_used,
        sim_time=sim_time,
        wall_time=wall_time,
        eval_time=eval_time,
        optimum=optimum,
        minimize=~maximize[t_idx],
        objectives=col(objectives, t_idx),
        run_status="ok",
    )
    df = pd.DataFrame(cols)
    if categorical:
        for c in ("study", "task_kind", "run_status"):
            df[c] = df[c].astype("category")
    return df


def _run_cumsum(step: np.ndarray, run: np.ndarray) -> np.ndarray:
    total = np.cumsum(step)
    starts = np.r_[0, np.flatnonzero(np.diff(run)) + 1]
    offset = np.repeat(np.r_[0.0, total[starts[1:] - 1]], np.diff(np.r_[starts, len(run)]))
    return total - offset


def _list_column(first: np.ndarray, second: np.ndarray, two: np.ndarray) -> pd.Series:
    """``values`` as an Arrow list column: [first] or [first, second]."""
    lengths = np.where(two, 2, 1)
    offsets = np.r_[0, np.cumsum(lengths)].astype(np.int32)
    flat = np.empty(offsets[-1])
    flat[offsets[:-1]] = first
    flat[offsets[:-1][two] + 1] = second[two]
    arr = pa.ListArray.from_arrays(pa.array(offsets), pa.array(flat))
    return pd.Series(arr, dtype=pd.ArrowDtype(pa.list_(pa.float64())))


def results_from_values(runs: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """A results frame from compact run descriptions, for hand-worked examples.

    Each run is a mapping with ``optimizer`` and ``values`` (first-objective
    values in trial order) and optional ``task`` (default ``fam/t``),
    ``task_type`` (``bb``), ``seed`` (0), ``optimum`` (NaN), ``minimize``
    (True), ``status`` (``ok``) and ``fidelity`` (one per trial). The budget
    axes count one unit per trial.

    Example:
        >>> df = results_from_values([{"optimizer": "a", "values": [3.0, 1.0]}])
        >>> df[["trial", "value", "budget_used"]].to_numpy().tolist()
        [[0.0, 3.0, 1.0], [1.0, 1.0, 2.0]]
    """
    rows = []
    for r in runs:
        task = str(r.get("task", "fam/t"))
        for i, v in enumerate(r["values"]):
            rows.append(
                {
                    "study": "example",
                    "task": task,
                    "family": task.split("/")[0],
                    "task_type": r.get("task_type", "bb"),
                    "optimizer": r["optimizer"],
                    "seed": int(r.get("seed", 0)),
                    "trial": i,
                    "value": float(v),
                    "values": [float(v)],
                    "fidelity": float(r["fidelity"][i]) if "fidelity" in r else np.nan,
                    "budget_used": float(i + 1),
                    "optimum": float(r.get("optimum", np.nan)),
                    "minimize": bool(r.get("minimize", True)),
                    "objectives": encode_objectives([Objective("value", bool(r.get("minimize", True)))]),
                    "run_status": r.get("status", "ok"),
                }
            )
    return pd.DataFrame(rows)
