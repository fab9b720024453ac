"""The tabular-benchmark core: a lookup table of recorded evaluations as a task.

A :class:`Table` is a full hyperparameter grid plus one float array of shape
``(n_configs, n_seeds, n_fidelities, n_metrics)`` (Syne Tune's
``[config, seed, fidelity, objective]`` layout). Configurations are numbered in
mixed radix over the grid (last parameter fastest), so a lookup is a handful of
dict look-ups and one integer sum: O(1) per configuration, no DataFrame search.
One metric may be the recorded cost (training time), used as ``Result.cost``.

Tables are stored as ``.npz`` (array + JSON metadata) or ``.parquet`` (long
format, one row per config × seed × fidelity, metadata in the file's schema) and
read lazily through :func:`load_table`, which caches per process.

A :class:`TabularTask` exposes a table as a :class:`~tasks.base.Task`: its search
space is exactly the grid (``OrdinalHyperparameter`` for numbers,
``CategoricalHyperparameter`` for strings), so optimizers sample on-grid; an
off-grid value raises ``ValueError`` naming the parameter and the nearest valid
values. The run seed picks the recorded repetition ``seed % n_seeds``
(``seed_mode="pick"``), or all repetitions are averaged (``seed_mode="mean"``).
:class:`TabularFamily` serves many tables as one task family.

Example:
    >>> import numpy as np
    >>> table = Table(
    ...     name="toy", params={"lr": (0.01, 0.1), "act": ("relu", "tanh")},
    ...     data=np.arange(24.0).reshape(4, 2, 3, 1) / 10, metrics=("loss",),
    ...     fidelity_name="epoch", fidelity_values=(1, 2, 4))
    >>> task = TabularTask(table, "toy/grid")
    >>> task.evaluate({"lr": 0.1, "act": "relu"}, fidelity=2, seed=1).values
    (1.6,)
"""

from __future__ import annotations

import contextlib
import difflib
import json
import math
import operator
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import Any, Literal

import numpy as np
from ConfigSpace import CategoricalHyperparameter, ConfigurationSpace, OrdinalHyperparameter

from tasks.base import Fidelity, Objective, Result, Task, TaskFamily, TaskMeta

GridValue = int | float | str
SeedMode = Literal["pick", "mean"]
_FORMAT_VERSION = 1


def _nearest(value: Any, grid: Sequence[GridValue], k: int = 3) -> list[GridValue]:
    """Up to ``k`` grid values closest to ``value`` (numeric distance), or the choices of a categorical."""
    try:
        x = float(value)
        numeric = [float(g) for g in grid]
    except (TypeError, ValueError):
        return list(grid[:12])
    order = np.argsort(np.abs(np.asarray(numeric) - x), kind="stable")[:k]
    return [grid[int(i)] for i in sorted(order)]


@dataclass(eq=False)
class Table:
    """A grid of configurations with recorded metrics per seed and fidelity.

    ``params`` maps each hyperparameter to its grid values (order = mixed-radix
    digit order, last fastest). ``data[c, s, f, m]`` is metric ``m`` of
    configuration ``c`` under repetition ``s`` at fidelity ``fidelity_values[f]``;
    NaN marks an entry that was not recorded. ``minimize`` gives each metric's
    direction; ``cost_metric`` names the metric holding the recorded cost in seconds.

    Example:
        >>> t = Table("t", {"x": (1, 2, 3)}, np.zeros((3, 1, 1, 1)), ("y",))
        >>> t.n_configs, t.index({"x": 3})
        (3, 2)
    """

    name: str
    params: Mapping[str, Sequence[GridValue]]
    data: np.ndarray
    metrics: tuple[str, ...]
    minimize: tuple[bool, ...] = ()
    fidelity_name: str | None = None
    fidelity_values: tuple[float, ...] = (1.0,)
    cost_metric: str | None = None
    description: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.params = {str(k): tuple(_plain(v) for v in vals) for k, vals in self.params.items()}
        self.metrics = tuple(self.metrics)
        self.minimize = tuple(self.minimize) or (True,) * len(self.metrics)
        self.fidelity_values = tuple(float(v) for v in self.fidelity_values)
        self.data = np.ascontiguousarray(self.data, dtype=np.float64)
        shape = (
            math.prod(len(v) for v in self.params.values()),
            self.data.shape[1] if self.data.ndim == 4 else -1,
            len(self.fidelity_values),
            len(self.metrics),
        )
        if self.data.ndim != 4 or self.data.shape[0] != shape[0] or self.data.shape[2:] != shape[2:]:
            raise ValueError(
                f"table {self.name!r}: data shape {self.data.shape} does not match "
                f"(n_configs={shape[0]}, n_seeds, n_fidelities={shape[2]}, n_metrics={shape[3]})"
            )
        if len(self.minimize) != len(self.metrics):
            raise ValueError(
                f"table {self.name!r}: {len(self.minimize)} directions for {len(self.metrics)} metrics"
            )
        if self.cost_metric is not None and self.cost_metric not in self.metrics:
            raise ValueError(
                f"table {self.name!r}: cost metric {self.cost_metric!r} is not one of {self.metrics}"
            )
        if self.fidelity_name is None and len(self.fidelity_values) != 1:
            raise ValueError(f"table {self.name!r}: several fidelity values need a fidelity_name")
        for name, vals in self.params.items():
            if len(set(vals)) != len(vals) or not vals:
                raise ValueError(
                    f"table {self.name!r}: grid of {name!r} must be non-empty and unique: {vals}"
                )
        # value → digit maps and mixed-radix strides: the O(1) lookup.
        self._codes: dict[str, dict[Any, int]] = {
            p: {v: i for i, v in enumerate(vals)} for p, vals in self.params.items()
        }
        radices = [len(v) for v in self.params.values()]
        self._strides = [math.prod(radices[i + 1 :]) for i in range(len(radices))]
        self._order = list(self.params)
        # Digit × stride per value, fetched all at once with C-level itemgetter/map: ~1 µs for 9 params.
        self._offsets = [
            {v: i * s for v, i in self._codes[p].items()}
            for p, s in zip(self._order, self._strides, strict=True)
        ]
        self._getter = operator.itemgetter(*self._order)
        if len(self._order) == 1:  # itemgetter of one key returns the value, not a 1-tuple
            self._getter = lambda c, _p=self._order[0]: (c[_p],)  # type: ignore[assignment]
        self._n_seed_rows, self._seed_stride = self.data.shape[1], self.data.shape[2]
        self._last_fid = self.data.shape[2] - 1
        rows_per_config = self.data.shape[1] * self.data.shape[2]
        self._row_offsets = [{v: o * rows_per_config for v, o in offs.items()} for offs in self._offsets]
        self._fid_index = {v: i for i, v in enumerate(self.fidelity_values)}
        self._rows = self.data.reshape(-1, len(self.metrics))

    def __getstate__(self) -> dict[str, Any]:
        # Lookup structures (closures, itemgetters) are derived: pickle the fields, rebuild the rest.
        return {f: getattr(self, f) for f in self.__dataclass_fields__}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.__post_init__()

    # ------------------------------------------------------------------ shape

    @property
    def n_configs(self) -> int:
        return int(self.data.shape[0])

    @property
    def n_seeds(self) -> int:
        return int(self.data.shape[1])

    @property
    def n_fidelities(self) -> int:
        return int(self.data.shape[2])

    @cached_property
    def seed_mean(self) -> np.ndarray:
        """``data`` averaged over seeds (NaN-aware), shape ``(n_configs, 1, n_fidelities, n_metrics)``."""
        with np.errstate(invalid="ignore"):
            counts = np.sum(~np.isnan(self.data), axis=1, keepdims=True)
            sums = np.nansum(self.data, axis=1, keepdims=True)
            return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)

    # ------------------------------------------------------------------ lookup

    def _code(self, name: str, value: Any) -> int:
        code = self._codes[name].get(value)
        if code is not None:
            return code
        grid = self.params[name]
        if isinstance(value, (int, float, np.number)) and not isinstance(value, bool):
            # Tolerate float round-off (e.g. 0.30000000000000004 for 0.3), nothing more.
            for i, g in enumerate(grid):
                if isinstance(g, (int, float)) and math.isclose(float(value), g, rel_tol=1e-9, abs_tol=1e-12):
                    return i
        raise ValueError(
            f"table {self.name!r}: {name}={value!r} is not on the grid; "
            f"nearest valid values: {_nearest(value, grid)}"
        )

    def index(self, config: Mapping[str, Any]) -> int:
        """The mixed-radix index of a configuration (every grid parameter must be given)."""
        try:
            return sum(map(operator.getitem, self._offsets, self._getter(config)))
        except (KeyError, TypeError):
            pass
        missing = [p for p in self._order if p not in config]
        if missing:
            raise ValueError(f"table {self.name!r}: missing parameter(s) {missing}; grid: {self._order}")
        return sum(self._code(p, config[p]) * s for p, s in zip(self._order, self._strides, strict=True))

    def indices(self, configs: Sequence[Mapping[str, Any]] | Mapping[str, Sequence[Any]]) -> np.ndarray:
        """Indices of many configurations: a list of dicts, or columns (name → array).

        Columns are the fast path: each parameter is encoded with one vectorized
        ``searchsorted`` over its grid.
        """
        if isinstance(configs, Mapping):
            return self._column_indices(configs)
        return np.fromiter((self.index(c) for c in configs), dtype=np.int64, count=len(configs))

    @cached_property
    def _sorted_grids(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        out = {}
        for p, vals in self.params.items():
            arr = np.asarray(vals)
            order = np.argsort(arr, kind="stable")
            out[p] = (arr[order], order.astype(np.int64))
        return out

    @cached_property
    def _int_luts(self) -> dict[str, np.ndarray]:
        out = {}
        for p, vals in self.params.items():
            ints = [v for v in vals if isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 65_536]
            if len(ints) == len(vals):
                lut = np.full(max(ints) + 1, -1, dtype=np.int64)
                lut[np.asarray(ints)] = np.arange(len(ints))
                out[p] = lut
        return out

    def _column_indices(self, columns: Mapping[str, Sequence[Any]]) -> np.ndarray:
        n = len(next(iter(columns.values()))) if columns else 0
        total = np.zeros(n, dtype=np.int64)
        for p, stride in zip(self._order, self._strides, strict=True):
            if p not in columns:
                raise ValueError(f"table {self.name!r}: missing parameter {p!r}; grid: {self._order}")
            sorted_vals, order = self._sorted_grids[p]
            col = np.asarray(columns[p])
            lut = self._int_luts.get(p)
            if lut is not None and col.dtype.kind in "iu":
                # Small non-negative integer grids: one gather through a lookup table.
                codes = lut[np.clip(col, 0, len(lut) - 1)]
                if n and (codes.min() < 0 or np.any(col >= len(lut)) or np.any(col < 0)):
                    bad = col[int(np.flatnonzero((codes < 0) | (col >= len(lut)) | (col < 0))[0])]
                    self._code(p, bad.item())  # raises the named error
                total += codes * stride
                continue
            if sorted_vals.dtype.kind in "iuf" and col.dtype.kind in "iuf":
                pos = np.searchsorted(sorted_vals, col)
                np.minimum(pos, len(sorted_vals) - 1, out=pos)
                if not np.array_equal(sorted_vals[pos], col):
                    pos = self._tolerant_positions(p, col)
                total += order[pos] * stride
                continue
            # Strings (or mixed): one equality mask per grid value, cheap for categorical grids.
            codes = np.full(n, -1, dtype=np.int64)
            for i, g in enumerate(self.params[p]):
                codes[col == g] = i
            if n and codes.min() < 0:
                bad = col[int(np.argmin(codes))]
                self._code(p, bad.item() if hasattr(bad, "item") else bad)  # raises the named error
            total += codes * stride
        return total

    def _tolerant_positions(self, name: str, col: np.ndarray) -> np.ndarray:
        """Sorted-grid positions allowing float round-off; raises for the first off-grid value."""
        sorted_vals, _ = self._sorted_grids[name]
        hi = np.minimum(np.searchsorted(sorted_vals, col), len(sorted_vals) - 1)
        lo = np.maximum(hi - 1, 0)
        pos = np.where(np.abs(sorted_vals[lo] - col) < np.abs(sorted_vals[hi] - col), lo, hi)
        ok = np.isclose(sorted_vals[pos], col, rtol=1e-9, atol=1e-12)
        if not np.all(ok):
            self._code(name, col[int(np.flatnonzero(~ok)[0])].item())  # raises the named error
        return pos

    def fidelity_index(self, fidelity: float | None) -> int:
        """Position of ``fidelity`` in ``fidelity_values`` (``None`` = the highest)."""
        if fidelity is None:
            return self.n_fidelities - 1
        i = self._fid_index.get(fidelity)
        if i is None:
            i = self._fid_index.get(float(fidelity))
        if i is None:
            raise ValueError(
                f"table {self.name!r}: fidelity {self.fidelity_name}={fidelity!r} is not recorded; "
                f"valid: {list(self.fidelity_values)}"
            )
        return i

    def lookup(self, config: Mapping[str, Any], fidelity: float | None = None, seed: int = 0) -> np.ndarray:
        """All metrics of one configuration at one fidelity and repetition ``seed % n_seeds``."""
        f = self._last_fid if fidelity is None else self.fidelity_index(fidelity)
        try:  # hot path: offsets already scaled to rows of the (config, seed, fidelity) flattening
            base = sum(map(operator.getitem, self._row_offsets, self._getter(config)))
        except (KeyError, TypeError):
            base = self.index(config) * self._seed_stride * self._n_seed_rows
        return self._rows[base + (seed % self._n_seed_rows) * self._seed_stride + f]

    def lookup_batch(
        self,
        configs: Sequence[Mapping[str, Any]] | Mapping[str, Sequence[Any]],
        fidelities: Sequence[float | None] | float | None = None,
        seed: int = 0,
        mean: bool = False,
    ) -> np.ndarray:
        """Metrics of many configurations, shape ``(n, n_metrics)``; one seed for all rows."""
        idx = self.indices(configs)
        if fidelities is None or isinstance(fidelities, (int, float)):
            f = np.full(len(idx), self.fidelity_index(fidelities), dtype=np.int64)
        else:
            if len(fidelities) != len(idx):
                raise ValueError(f"table {self.name!r}: {len(idx)} configs but {len(fidelities)} fidelities")
            f = np.fromiter((self.fidelity_index(z) for z in fidelities), dtype=np.int64, count=len(idx))
        if mean:
            return self.seed_mean[idx, 0, f]
        return self.data[idx, seed % self.n_seeds, f]

    def config_at(self, index: int) -> dict[str, GridValue]:
        """The configuration with mixed-radix ``index`` (inverse of :meth:`index`)."""
        if not 0 <= index < self.n_configs:
            raise ValueError(f"table {self.name!r}: index {index} outside [0, {self.n_configs})")
        return {
            p: self.params[p][(index // s) % len(self.params[p])]
            for p, s in zip(self._order, self._strides, strict=True)
        }

    # ------------------------------------------------------------------ io

    def metadata(self) -> dict[str, Any]:
        """Everything but the array, as JSON-ready data."""
        return {
            "format_version": _FORMAT_VERSION,
            "name": self.name,
            "params": {p: list(v) for p, v in self.params.items()},
            "metrics": list(self.metrics),
            "minimize": list(self.minimize),
            "fidelity_name": self.fidelity_name,
            "fidelity_values": list(self.fidelity_values),
            "cost_metric": self.cost_metric,
            "description": self.description,
            "extra": self.extra,
            "n_seeds": self.n_seeds,
        }

    @classmethod
    def _from_metadata(cls, meta: Mapping[str, Any], data: np.ndarray) -> Table:
        if meta.get("format_version") != _FORMAT_VERSION:
            raise ValueError(
                f"unsupported table format_version {meta.get('format_version')!r}; valid: {_FORMAT_VERSION}"
            )
        return cls(
            name=meta["name"],
            params=meta["params"],
            data=data,
            metrics=tuple(meta["metrics"]),
            minimize=tuple(meta["minimize"]),
            fidelity_name=meta["fidelity_name"],
            fidelity_values=tuple(meta["fidelity_values"]),
            cost_metric=meta["cost_metric"],
            description=meta.get("description", ""),
            extra=dict(meta.get("extra", {})),
        )

    def save(self, path: str | Path) -> Path:
        """Write to ``.npz`` or ``.parquet`` (atomically: temporary file, then rename)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        if path.suffix == ".npz":
            with tmp.open("wb") as fh:
                np.savez_compressed(fh, data=self.data, meta=np.array(json.dumps(self.metadata())))
        elif path.suffix == ".parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            frame = pa.Table.from_pandas(self.to_frame(), preserve_index=False)
            frame = frame.replace_schema_metadata({b"nxm_table": json.dumps(self.metadata()).encode()})
            pq.write_table(frame, tmp)
        else:
            raise ValueError(
                f"table file {str(path)!r}: suffix {path.suffix!r} is not one of ['.npz', '.parquet']"
            )
        tmp.replace(path)
        return path

    def to_frame(self) -> Any:
        """Long ``pandas.DataFrame``: grid parameters, ``seed``, fidelity, then the metrics."""
        import pandas as pd

        n_c, n_s, n_f, _ = self.data.shape
        cidx = np.repeat(np.arange(n_c), n_s * n_f)
        cols: dict[str, Any] = {}
        for p, s in zip(self._order, self._strides, strict=True):
            grid = np.asarray(self.params[p], dtype=object if isinstance(self.params[p][0], str) else None)
            cols[p] = grid[(cidx // s) % len(self.params[p])]
        cols["seed"] = np.tile(np.repeat(np.arange(n_s), n_f), n_c)
        cols[self.fidelity_name or "fidelity"] = np.tile(np.asarray(self.fidelity_values), n_c * n_s)
        for m, name in enumerate(self.metrics):
            cols[name] = self.data[..., m].reshape(-1)
        return pd.DataFrame(cols)

    @classmethod
    def from_frame(
        cls,
        frame: Any,
        name: str,
        params: Mapping[str, Sequence[GridValue]] | Sequence[str],
        metrics: Sequence[str],
        minimize: Sequence[bool] = (),
        fidelity: str | None = None,
        seed: str | None = None,
        cost_metric: str | None = None,
        description: str = "",
        extra: Mapping[str, Any] | None = None,
    ) -> Table:
        """Build a table from a long DataFrame (one row per config × seed × fidelity).

        ``params`` is a list of column names (grids = their sorted unique values)
        or explicit grids. Rows absent from the frame stay NaN; duplicates are an error.
        """
        grids = (
            {p: tuple(_plain(v) for v in sorted(frame[p].unique())) for p in params}
            if not isinstance(params, Mapping)
            else {p: tuple(v) for p, v in params.items()}
        )
        fid_values = tuple(sorted(float(v) for v in frame[fidelity].unique())) if fidelity else (1.0,)
        seeds = sorted(frame[seed].unique()) if seed else [0]
        shell = cls(
            name,
            grids,
            np.zeros((math.prod(len(g) for g in grids.values()), 1, len(fid_values), len(metrics))),
            tuple(metrics),
            tuple(minimize),
            fidelity,
            fid_values,
            cost_metric,
        )
        cidx = shell.indices({p: frame[p].to_numpy() for p in grids})
        sidx = (
            np.searchsorted(np.asarray(seeds), frame[seed].to_numpy()) if seed else np.zeros(len(frame), int)
        )
        fidx = (
            np.searchsorted(np.asarray(fid_values), frame[fidelity].to_numpy(dtype=float))
            if fidelity
            else np.zeros(len(frame), int)
        )
        flat = (cidx * len(seeds) + sidx) * len(fid_values) + fidx
        if len(np.unique(flat)) != len(flat):
            raise ValueError(f"table {name!r}: the frame has duplicate (config, seed, fidelity) rows")
        data = np.full((shell.n_configs * len(seeds) * len(fid_values), len(metrics)), np.nan)
        data[flat] = frame[list(metrics)].to_numpy(dtype=float)
        return cls(
            name,
            grids,
            data.reshape(shell.n_configs, len(seeds), len(fid_values), len(metrics)),
            tuple(metrics),
            tuple(minimize),
            fidelity,
            fid_values,
            cost_metric,
            description,
            dict(extra or {}),
        )

    def space(self, seed: int = 0) -> ConfigurationSpace:
        """The grid as a seeded ``ConfigurationSpace`` (ordinal numbers, categorical strings)."""
        hps: list[Any] = []
        for p, vals in self.params.items():
            if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in vals):
                hps.append(OrdinalHyperparameter(p, sequence=sorted(vals)))
            else:
                hps.append(CategoricalHyperparameter(p, choices=list(vals)))
        space = ConfigurationSpace(seed=seed)
        space.add(hps)
        return space


def _plain(value: Any) -> GridValue:
    """Python scalars only (numpy scalars hash alike but print and serialize worse)."""
    if isinstance(value, np.generic):
        value = value.item()
    return value


def load_table(path: str | Path) -> Table:
    """Read a ``.npz`` or ``.parquet`` table, cached per process (and per file modification time).

    Example:
        >>> import tempfile
        >>> t = Table("t", {"x": (1, 2)}, np.ones((2, 1, 1, 1)), ("y",))
        >>> p = t.save(Path(tempfile.mkdtemp()) / "t.npz")
        >>> load_table(p).params
        {'x': (1, 2)}
    """
    path = Path(path).resolve()
    if not path.is_file():
        raise ValueError(f"table file {str(path)!r} does not exist")
    return _load_cached(str(path), path.stat().st_mtime_ns)


@cache
def _load_cached(path: str, mtime_ns: int) -> Table:
    if path.endswith(".npz"):
        with np.load(path, allow_pickle=False) as npz:
            return Table._from_metadata(json.loads(str(npz["meta"])), npz["data"])
    if path.endswith(".parquet"):
        import pyarrow.parquet as pq

        pt = pq.read_table(path)
        meta = json.loads(pt.schema.metadata[b"nxm_table"])
        frame = pt.to_pandas()
        table = Table.from_frame(
            frame,
            meta["name"],
            meta["params"],
            meta["metrics"],
            meta["minimize"],
            meta["fidelity_name"],
            "seed",
            meta["cost_metric"],
            meta.get("description", ""),
            meta.get("extra"),
        )
        # Rebuild from the metadata so that grid and fidelity order are exactly the saved ones.
        return Table._from_metadata(meta, table.data)
    raise ValueError(f"table file {path!r}: suffix is not one of ['.npz', '.parquet']")


class TabularTask(Task):
    """A :class:`Table` as a task.

    ``objectives`` are metric names (default: the table's first metric).
    ``use_fidelity=False`` makes a black-box task evaluated at the highest
    recorded fidelity. ``seed_mode="pick"`` uses repetition ``seed % n_seeds``
    (different run seeds see different recorded noise), ``"mean"`` averages them.
    ``TaskMeta.optimum`` is the per-objective best of the seed-averaged values at
    the highest fidelity. ``max_fidelity_ratio`` keeps only the recorded fidelities of at least
    ``highest / max_fidelity_ratio`` on the task's axis: a table whose axis spans four orders of
    magnitude would otherwise let bandit methods spend a budget of 50 full evaluations on
    hundreds of thousands of near-free ones. ``revision`` names a change to what the table's
    values mean (e.g. a corrected conversion); it goes into ``TaskMeta.revision``, ahead of the
    fidelity cut's, so resumed studies re-run results of the task's earlier form.

    Example:
        >>> t = Table("t", {"x": (1, 2)}, np.array([3.0, 1.0]).reshape(2, 1, 1, 1), ("y",))
        >>> TabularTask(t, "demo/t").meta.optimum
        (1.0,)
    """

    def __init__(
        self,
        table: Table,
        task_id: str,
        objectives: Sequence[str] | None = None,
        use_fidelity: bool = True,
        seed_mode: SeedMode = "pick",
        family: str | None = None,
        description: str = "",
        tags: Sequence[str] = (),
        max_fidelity_ratio: float | None = None,
        revision: str = "",
        libraries: Sequence[str] = (),
    ) -> None:
        if seed_mode not in ("pick", "mean"):
            raise ValueError(f"seed_mode {seed_mode!r} is not one of ['pick', 'mean']")
        names = tuple(objectives) if objectives else table.metrics[:1]
        for n in names:
            if n not in table.metrics:
                raise ValueError(f"table {table.name!r}: unknown metric {n!r}; valid: {list(table.metrics)}")
        self.table = table
        self.id = task_id
        self.seed_mode: SeedMode = seed_mode
        self.space = table.space(seed=0)
        self.objectives = tuple(Objective(n, table.minimize[table.metrics.index(n)]) for n in names)
        has_fid = use_fidelity and table.fidelity_name is not None and table.n_fidelities > 1
        vals = table.fidelity_values
        cut = False
        if max_fidelity_ratio is not None:
            if not max_fidelity_ratio >= 1:  # also refuses NaN
                raise ValueError(f"max_fidelity_ratio must be a number >= 1, got {max_fidelity_ratio!r}")
            top = max(vals)
            vals = tuple(v for v in vals if v * max_fidelity_ratio >= top)
            cut = has_fid and len(vals) < table.n_fidelities  # a black-box variant is unchanged
            has_fid = has_fid and len(vals) > 1
        self.fidelity = (
            Fidelity(str(table.fidelity_name), min(vals), max(vals), values=vals) if has_fid else None
        )
        # Recorded fidelities below the axis are refused, not silently served (checked only then).
        self._below_axis = cut and self.fidelity is not None
        self._cols = [table.metrics.index(n) for n in names]
        self._cost = table.metrics.index(table.cost_metric) if table.cost_metric else None
        best = table.seed_mean[:, 0, -1][:, self._cols]
        with np.errstate(all="ignore"):
            opt = tuple(
                float(np.nanmin(best[:, j]) if o.minimize else np.nanmax(best[:, j]))
                for j, o in enumerate(self.objectives)
            )
        # Runs made before the axis was cut must not be resumed as if they were these.
        cut_revision = f"fidelity>=high/{max_fidelity_ratio:g}" if cut else ""
        self.meta = TaskMeta(
            family=family or "",  # empty: the id's first component
            kind="tabular",
            optimum=opt,
            tags=tuple(tags),
            description=description or table.description,
            revision=";".join(filter(None, (revision, cut_revision))),
            libraries=tuple(libraries),
        )

    def _fid(self, fidelity: float | None) -> float | None:
        if self.fidelity is None and fidelity is not None:
            raise ValueError(f"{self.id}: this task has no fidelity, got fidelity={fidelity!r}; pass None")
        axis = self.fidelity
        if self._below_axis and fidelity is not None and axis is not None and not axis.contains(fidelity):
            raise ValueError(
                f"{self.id}: fidelity {fidelity!r} is not on this task's axis; "
                f"valid: {list(axis.values or ())}"
            )
        return fidelity

    def _result(self, row: np.ndarray) -> Result:
        vals = row.tolist()
        cost = vals[self._cost] if self._cost is not None else 0.0
        return Result(
            values=tuple([vals[c] for c in self._cols]),
            cost=cost if cost == cost else 0.0,  # NaN (not recorded) costs nothing
            info=dict(zip(self.table.metrics, vals, strict=True)),
        )

    def evaluate(self, config: Mapping[str, Any], fidelity: float | None = None, seed: int = 0) -> Result:
        z = self._fid(fidelity)
        if self.seed_mode == "mean":
            f = self.table.fidelity_index(z)
            return self._result(self.table.seed_mean[self.table.index(config), 0, f])
        return self._result(self.table.lookup(config, z, seed))

    def evaluate_batch(
        self,
        configs: Sequence[Mapping[str, Any]] | Mapping[str, Sequence[Any]],
        fidelities: Sequence[float | None] | float | None = None,
        seed: int = 0,
    ) -> list[Result]:
        """Evaluate many configurations with one vectorized lookup (same ``seed`` for all)."""
        if (
            self.fidelity is None
            and fidelities is not None
            and not (isinstance(fidelities, Sequence) and all(z is None for z in fidelities))
        ):
            raise ValueError(f"{self.id}: this task has no fidelity, got fidelities={fidelities!r}")
        if isinstance(fidelities, Sequence) and all(z is None for z in fidelities):
            fidelities = None
        if self._below_axis and fidelities is not None:
            for z in fidelities if isinstance(fidelities, Sequence) else (fidelities,):
                self._fid(z)
        rows = self.table.lookup_batch(configs, fidelities, seed, mean=self.seed_mode == "mean")
        return [self._result(r) for r in rows]


@dataclass(frozen=True)
class Variant:
    """One task flavour of every table in a family: id suffix, objectives, fidelity use.

    Example:
        >>> Variant("mo", ("val_loss", "train_time")).objectives
        ('val_loss', 'train_time')
    """

    suffix: str
    objectives: tuple[str, ...]
    use_fidelity: bool = True
    description: str = ""
    #: See :class:`TabularTask`: the lowest fidelity offered is ``highest / max_fidelity_ratio``.
    max_fidelity_ratio: float | None = None


class TabularFamily(TaskFamily):
    """Many tables served as one family: ids ``<name>/<table>[/<variant suffix>]``.

    ``tables`` maps a table name to a zero-argument loader, called on first use
    only (so listing ids never reads data). ``unavailable`` may return why the
    family cannot be used here (e.g. a missing optional package). ``revision``
    becomes every task's ``TaskMeta.revision`` (see :class:`TabularTask`).

    Example:
        >>> t = Table("a", {"x": (1, 2)}, np.ones((2, 1, 1, 2)), ("err", "time"), cost_metric="time")
        >>> variants = [Variant("", ("err",)), Variant("mo", ("err", "time"))]
        >>> fam = TabularFamily("demo", {"a": lambda: t}, variants)
        >>> fam.ids()
        ['demo/a', 'demo/a/mo']
        >>> fam.make("demo/a/mo").meta.type
        'mo'
    """

    def __init__(
        self,
        name: str,
        tables: Mapping[str, Callable[[], Table]],
        variants: Sequence[Variant],
        description: str = "",
        seed_mode: SeedMode = "pick",
        unavailable: Callable[[], str | None] | None = None,
        tags: Sequence[str] = (),
        revision: str = "",
        libraries: Sequence[str] = (),
    ) -> None:
        self.name = name
        self.description = description
        self._revision = revision
        self._libraries = tuple(libraries)
        self._tables = dict(tables)
        self._variants = {v.suffix: v for v in variants}
        self._seed_mode: SeedMode = seed_mode
        self._unavailable = unavailable
        self._tags = tuple(tags)

    def unavailable_reason(self) -> str | None:
        return self._unavailable() if self._unavailable else None

    def ids(self) -> list[str]:
        return [f"{self.name}/{t}" + (f"/{v}" if v else "") for t in self._tables for v in self._variants]

    def table(self, table_name: str) -> Table:
        """The loaded table (cached by the loader)."""
        if table_name not in self._tables:
            raise ValueError(
                f"family {self.name!r}: unknown table {table_name!r}; valid: {list(self._tables)}"
            )
        return self._tables[table_name]()

    def make(self, task_id: str) -> Task:
        parts = task_id.split("/")
        if (
            parts[0] != self.name
            or len(parts) not in (2, 3)
            or parts[1] not in self._tables
            or (parts[2] if len(parts) == 3 else "") not in self._variants
        ):
            close = difflib.get_close_matches(task_id, self.ids(), n=3, cutoff=0.5) or self.ids()[:6]
            raise ValueError(f"unknown {self.name} task {task_id!r}; did you mean one of {close}?")
        reason = self.unavailable_reason()
        if reason:
            raise ValueError(f"cannot make {task_id!r}: {reason}")
        variant = self._variants[parts[2] if len(parts) == 3 else ""]
        return TabularTask(
            self.table(parts[1]),
            task_id,
            objectives=variant.objectives,
            use_fidelity=variant.use_fidelity,
            seed_mode=self._seed_mode,
            family=self.name,
            description=variant.description,
            tags=self._tags,
            max_fidelity_ratio=variant.max_fidelity_ratio,
            revision=self._revision,
            libraries=self._libraries,
        )


# ----------------------------------------------------------------------------- conversion cache

#: Environment variable overriding the folder where converted tables are cached (its deprecated
#: name ``NXM_CACHE_DIR`` is still read while it is unset, see tasks/environment.py). A setting of
#: the machine, not of a run: each worker caches where its own machine says.
CACHE_ENV = "NXMBENCH_CACHE_DIR"


def cache_dir() -> Path:
    """Where converted tables are cached: ``$NXMBENCH_CACHE_DIR`` or ``~/.cache/nxm-bench``.

    Example:
        >>> cache_dir().name in ("nxm-bench",) or True
        True
    """
    import os

    from tasks.environment import setting

    value = setting(CACHE_ENV)
    if value:
        return Path(value).expanduser()
    base = os.environ.get("XDG_CACHE_HOME", "").strip() or str(Path.home() / ".cache")
    return Path(base) / "nxm-bench"


class CacheDirError(ValueError):
    """The table cache folder cannot be written; the one-line message names the setting to change."""


@contextlib.contextmanager
def cache_write_errors() -> Iterator[None]:
    """Turn an ``OSError`` of writing into the cache into a :class:`CacheDirError` naming the setting.

    Without it a bad ``NXMBENCH_CACHE_DIR`` surfaced as a bare ``[Errno 2] ... '/proc/nonexistent'``
    (or a ``NotADirectoryError`` traceback), with nothing saying which setting holds that path.

    Example:
        >>> import os
        >>> os.environ["NXMBENCH_CACHE_DIR"] = "/proc/nonexistent"
        >>> try:
        ...     with cache_write_errors():
        ...         (cache_dir() / "tables").mkdir(parents=True)
        ... except CacheDirError as exc:
        ...     print(str(exc).split(":")[0])
        cannot write converted tables into NXMBENCH_CACHE_DIR='/proc/nonexistent' (No such file or directory)
        >>> del os.environ["NXMBENCH_CACHE_DIR"]
    """
    from tasks.environment import setting

    try:
        yield
    except OSError as exc:
        value = setting(CACHE_ENV)
        where = f"{CACHE_ENV}={value!r}" if value else f"the default cache folder {str(cache_dir())!r}"
        raise CacheDirError(
            f"cannot write converted tables into {where} ({exc.strerror or type(exc).__name__}): "
            f"set it to a writable folder (the environment variable {CACHE_ENV}; default ~/.cache/nxm-bench)"
        ) from exc


def cached_table(key: str, build: Callable[[], Table]) -> Table:
    """Load ``<cache_dir>/tables/<key>.npz``, building and saving it with ``build()`` on first use.

    ``key`` should include the source package's version so that upgrades rebuild.

    Example:
        >>> import os, tempfile
        >>> os.environ["NXMBENCH_CACHE_DIR"] = tempfile.mkdtemp()
        >>> t = cached_table("demo/t-1", lambda: Table("t", {"x": (1, 2)}, np.ones((2, 1, 1, 1)), ("y",)))
        >>> (cache_dir() / "tables" / "demo" / "t-1.npz").is_file()
        True
        >>> del os.environ["NXMBENCH_CACHE_DIR"]
    """
    path = cache_dir() / "tables" / f"{key}.npz"
    if path.is_file():
        return load_table(path)
    with cache_write_errors():  # before the conversion: a bad folder costs no work
        path.parent.mkdir(parents=True, exist_ok=True)
    table = build()
    with cache_write_errors():
        table.save(path)
    return load_table(path)
