"""LCDB learning curves (Mohr et al. 2022) from the ``lcdb`` package's bundled CSV.

The ``lcdb`` package ships ``database-accuracy.csv``: for 248 OpenML datasets and
20 scikit-learn learners (default hyperparameters), accuracy and training time at
geometrically spaced training-set sizes ("anchors", 16, 23, 32, ... up to the
dataset size), over 5 outer splits × 5 inner splits (25 inner splits on ten
datasets: 3, 6, 11, 12, 13, 14, 16, 18, 21, 22). The package module itself imports
``openml``, so the CSV is read directly.

Each dataset becomes an algorithm-selection task with learning curves:

* ``lcdb/<openmlid>``: choose the learner (categorical, 20 choices); fidelity =
  training-set size (the recorded anchors from the largest / 128 up, see
  :data:`MAX_FIDELITY_RATIO`); objective = validation error
  ``1 - score_valid``; ``Result.cost`` = recorded training time (s);
* ``lcdb/<openmlid>/mo``: validation error vs. training time.

The run seed picks one recorded split: a dataset's splits are its distinct
recorded ``(outer_seed, inner_seed)`` pairs in sorted order (outer-major), and
seed ``s`` reads the pair at position ``s % n_splits`` (so on a 5 × 5 dataset,
outer ``(s % 25) // 5`` and inner ``s % 5``; on a 5 × 25 one, outer
``(s % 125) // 25`` and inner ``s % 25``). The table keeps the pairs in
``Table.extra["splits"]``. Every lookup is one recorded CSV row, unchanged.
Only learners whose curve is complete on a dataset (recorded at every anchor of
the dataset for every split) are offered for it, and datasets with fewer than 5
such learners are left out (201 of 248 remain), so a lookup never returns NaN.
A row repeated verbatim counts once; rows that share a (dataset, learner,
anchor, split) but disagree are all dropped, so that learner is incomplete
there (the CSV of ``lcdb`` 0.1.0 has neither). The first use converts the whole
CSV (about 150 MB) once into per-dataset tables under ``~/.cache/nxm-bench``
(see :func:`tasks.tabular.cache_dir`).

Example:
    >>> from tasks.collections.lcdb import families
    >>> families()[0].name
    'lcdb'
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import importlib.util
import json
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

from tasks.base import Task, TaskFamily
from tasks.tabular import (
    Table,
    TabularFamily,
    TabularTask,
    Variant,
    cache_dir,
    cache_write_errors,
    load_table,
)

PACKAGE = "lcdb"
_INSTALL = "pip install 'nxm-bench[tabular]' (or: pip install --no-deps lcdb)"
METRICS = ("val_error", "traintime", "test_error", "train_error")
#: The lowest training-set size offered is the dataset's largest anchor / 128 (the recorded anchors
#: go down to 16 samples, up to 63,000x below the largest). Without the cap, a budget of 50 full
#: evaluations lets Hyperband make ~140,000 trials on ``lcdb/354``; 128 is the range of common
#: multi-fidelity benchmarks (LCBench 1-52 epochs, FCNet 1-100, NAS-Bench-201 1-200).
MAX_FIDELITY_RATIO = 128.0
VARIANTS = (
    Variant(
        "",
        ("val_error",),
        description="LCDB learner selection: validation error over training-set size",
        max_fidelity_ratio=MAX_FIDELITY_RATIO,
    ),
    Variant(
        "mo",
        ("val_error", "traintime"),
        description="LCDB: validation error vs. training time",
        max_fidelity_ratio=MAX_FIDELITY_RATIO,
    ),
)


def csv_path() -> Path | None:
    """The bundled ``database-accuracy.csv``, located without importing the package."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / "database-accuracy.csv"
    return path if path.is_file() else None


def _unavailable() -> str | None:
    return (
        None if csv_path() is not None else f"package {PACKAGE!r} (with its CSV) is not installed: {_INSTALL}"
    )


#: Datasets with fewer learners that have complete curves are left out of the catalog.
MIN_LEARNERS = 5
#: Bumped whenever the conversion changes, so stale caches are rebuilt.
CONVERSION_VERSION = 3


#: ``TaskMeta.revision`` of the datasets whose splits conversion version 2 merged (see :func:`_relabelled`).
SPLIT_REVISION = "splits=(outer,inner)"


def _relabelled(splits: Sequence[Sequence[int]]) -> bool:
    """Whether the old split label ``outer * 5 + inner`` mixed splits of this dataset.

    It did exactly where some inner seed is 5 or more (ten datasets with 25 inner splits). Elsewhere
    the tables are bit-identical to the old ones, so those task ids keep their run fingerprints;
    these ones get :data:`SPLIT_REVISION`, and resume re-runs their results of the old form.

    Example:
        >>> _relabelled([[0, 0], [0, 4]]), _relabelled([[0, 0], [0, 24]])
        (False, True)
    """
    return any(inner >= 5 for _, inner in splits)


def _folder() -> Path:
    version = importlib.metadata.version(PACKAGE)
    return cache_dir() / "tables" / "lcdb" / f"{PACKAGE}-{version}-conv{CONVERSION_VERSION}"


_KEY = ["openmlid", "learner", "size_train", "outer_seed", "inner_seed"]


def _drop_ambiguous(frame: Any) -> Any:
    """The records with one value per (dataset, learner, anchor, split).

    A row repeated verbatim is the same record twice and is kept once. Rows that share a key but
    disagree are all dropped: no value among them is *the* recorded one, and an average would be
    a value nobody measured; the learner then counts as incomplete on that dataset and is not
    offered there. ``lcdb`` 0.1.0 has neither kind.
    """
    frame = frame.drop_duplicates()
    return frame[~frame.duplicated(_KEY, keep=False)]


def convert_all(csv: Path, out: Path) -> list[int]:
    """Convert the CSV into one ``<openmlid>.npz`` table per dataset plus ``index.json``."""
    import pyarrow.csv as pacsv

    cols = [
        "openmlid",
        "learner",
        "size_train",
        "outer_seed",
        "inner_seed",
        "traintime",
        "score_train",
        "score_valid",
        "score_test",
    ]
    frame = pacsv.read_csv(csv, convert_options=pacsv.ConvertOptions(include_columns=cols)).to_pandas()
    frame = _drop_ambiguous(frame)
    # A split is an (outer_seed, inner_seed) pair. Most datasets have 5 x 5 of them, but ten have
    # 5 x 25, so a single number like outer * 5 + inner would merge different splits; number them
    # densely per dataset instead, outer-major, so run seed s reads split s % n_splits.
    pairs = (
        frame[["openmlid", "outer_seed", "inner_seed"]]
        .drop_duplicates()
        .sort_values(["openmlid", "outer_seed", "inner_seed"], kind="stable")
    )
    pairs["seed"] = pairs.groupby("openmlid").cumcount()
    frame = frame.merge(
        pairs, on=["openmlid", "outer_seed", "inner_seed"], how="left", validate="many_to_one"
    )
    frame["val_error"] = 1.0 - frame["score_valid"]
    frame["test_error"] = 1.0 - frame["score_test"]
    frame["train_error"] = 1.0 - frame["score_train"]
    out.mkdir(parents=True, exist_ok=True)
    ids: list[int] = []
    for openmlid, sub in frame.groupby("openmlid", sort=True):
        # Keep only learners with a complete curve (every anchor × every recorded split): a gap is
        # a learner that failed or timed out in the original study, and a benchmark lookup must
        # not hand an optimizer a NaN. Datasets left with too few learners are not offered.
        splits = pairs[pairs["openmlid"] == openmlid]
        need = sub["size_train"].nunique() * len(splits)
        finite = sub.dropna(subset=["val_error", "traintime"])
        per_learner = finite.groupby("learner").size()
        complete = sorted(per_learner[per_learner == need].index)
        if len(complete) < MIN_LEARNERS:
            continue
        sub = sub[sub["learner"].isin(complete)]
        table = Table.from_frame(
            sub,
            f"lcdb/{openmlid}",
            {"learner": tuple(complete)},
            METRICS,
            (True, True, True, True),
            fidelity="size_train",
            seed="seed",
            cost_metric="traintime",
            description=f"LCDB learning curves of 20 learners on OpenML dataset {openmlid}",
            extra={
                "source": f"{PACKAGE} {importlib.metadata.version(PACKAGE)}",
                "openmlid": int(openmlid),
                # (outer_seed, inner_seed) of each recorded split, in seed-index order.
                "splits": [
                    [int(o), int(i)] for o, i in zip(splits["outer_seed"], splits["inner_seed"], strict=True)
                ],
            },
        )
        table.save(out / f"{openmlid}.npz")
        ids.append(int(openmlid))
    (out / "index.json").write_text(json.dumps(ids))
    return ids


@cache
def dataset_ids() -> tuple[int, ...]:
    """OpenML ids of the LCDB datasets (converting the CSV on first use)."""
    index = _folder() / "index.json"
    if not index.is_file():
        path = csv_path()
        if path is None:
            raise ValueError(f"package {PACKAGE!r} is not installed: {_INSTALL}")
        with cache_write_errors():  # a bad NXMBENCH_CACHE_DIR: one line naming it, before the work
            _folder().mkdir(parents=True, exist_ok=True)
        convert_all(path, _folder())
    return tuple(json.loads(index.read_text()))


def load(openmlid: int) -> Table:
    """The table of one dataset."""
    if openmlid not in dataset_ids():
        raise ValueError(f"unknown LCDB dataset {openmlid!r}; valid: {list(dataset_ids())[:10]}, ...")
    return load_table(_folder() / f"{openmlid}.npz")


class LcdbFamily(TabularFamily):
    """The ``lcdb`` family; the dataset list is read (or converted) on first use only.

    Example:
        >>> LcdbFamily().name
        'lcdb'
    """

    def __init__(self) -> None:
        super().__init__(
            "lcdb",
            {},
            VARIANTS,
            description="LCDB learning curves: learner selection, fidelity = training-set size",
            unavailable=_unavailable,
            tags=("lcdb", "tabular"),
            libraries=(PACKAGE,),  # the tables are converted from the package's files
        )

    def _ensure(self) -> None:
        if not self._tables and _unavailable() is None:
            self._tables = {str(i): (lambda i=i: load(i)) for i in dataset_ids()}  # type: ignore[misc]

    def ids(self) -> list[str]:
        self._ensure()
        return super().ids()

    def table(self, table_name: str) -> Table:
        self._ensure()
        return super().table(table_name)

    def make(self, task_id: str) -> Task:
        self._ensure()
        task = super().make(task_id)
        if _relabelled(task.table.extra.get("splits", ())) if isinstance(task, TabularTask) else False:
            revision = ";".join(filter(None, (SPLIT_REVISION, task.meta.revision)))
            task.meta = dataclasses.replace(task.meta, revision=revision)
        return task


def families() -> list[TaskFamily]:
    """The ``lcdb`` family (needs the ``lcdb`` package)."""
    return [LcdbFamily()]
