"""LCDB lookups through the task API equal the rows of the ``lcdb`` package's CSV.

The CSV is read here on its own (pyarrow, no project conversion code) and the expected
answer is derived from the documented contract: the splits of a dataset are its distinct
recorded ``(outer_seed, inner_seed)`` pairs in sorted (outer-major) order, run seed ``s``
reads split ``s % n_splits``; a learner is offered on a dataset when it is recorded at every
anchor for every split; a dataset is offered when at least ``MIN_LEARNERS`` learners are.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest

from tasks.collections import lcdb
from tasks.tabular import TabularTask

KEY = ["openmlid", "learner", "size_train", "outer_seed", "inner_seed"]
#: Lookups per task (every dataset, both variants): ~16,000 in all, a few seconds.
LOOKUPS = 40


@pytest.fixture(scope="module")
def raw() -> pd.DataFrame:
    csv = lcdb.csv_path()
    if csv is None:
        pytest.skip("the lcdb package (with its CSV) is not installed")
    import pyarrow.csv as pacsv

    return pacsv.read_csv(csv).to_pandas()


@pytest.fixture(scope="module")
def family(tmp_path_factory: pytest.TempPathFactory) -> Iterator[lcdb.LcdbFamily]:
    # A fresh cache: the tables under test are converted by the code under test, not a stale run.
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NXMBENCH_CACHE_DIR", str(tmp_path_factory.mktemp("lcdb-cache")))
        lcdb.dataset_ids.cache_clear()
        yield lcdb.LcdbFamily()
    lcdb.dataset_ids.cache_clear()


def _splits(sub: pd.DataFrame) -> list[tuple[int, int]]:
    return sorted({(int(o), int(i)) for o, i in zip(sub["outer_seed"], sub["inner_seed"], strict=True)})


def _complete_learners(sub: pd.DataFrame) -> list[str]:
    need = sub["size_train"].nunique() * len(_splits(sub))
    counts = sub.drop_duplicates(KEY).groupby("learner").size()
    return sorted(counts[counts == need].index)


def test_raw_csv_has_one_record_per_key(raw: pd.DataFrame) -> None:
    # Labelled by (outer, inner), every (dataset, learner, anchor, split) is recorded once: the
    # conversion's duplicate rule (drop identical repeats, refuse conflicting ones) never fires here.
    assert not raw.duplicated(KEY).any()
    # Ten datasets have 25 inner splits per outer split: outer * 5 + inner would collide there.
    wide = sorted(raw.loc[raw["inner_seed"] > 4, "openmlid"].unique().tolist())
    assert wide == [3, 6, 11, 12, 13, 14, 16, 18, 21, 22]


def test_offered_datasets_and_learners_follow_completeness(
    raw: pd.DataFrame, family: lcdb.LcdbFamily
) -> None:
    expected = {
        int(oid): learners
        for oid, sub in raw.groupby("openmlid")
        if len(learners := _complete_learners(sub)) >= lcdb.MIN_LEARNERS
    }
    offered = {int(t.split("/")[1]) for t in family.ids()}
    assert offered == set(expected)
    for oid, learners in expected.items():
        assert list(family.table(str(oid)).params["learner"]) == learners, oid


def test_lookups_equal_csv_rows(raw: pd.DataFrame, family: lcdb.LcdbFamily) -> None:
    rng = np.random.default_rng(20240607)
    by_dataset = dict(list(raw.groupby("openmlid")))
    asked: list[dict[str, object]] = []
    for task_id in family.ids():
        task = family.make(task_id)
        assert isinstance(task, TabularTask) and task.fidelity is not None
        oid = int(task_id.split("/")[1])
        sub = by_dataset[oid]
        splits = _splits(sub)
        anchors = sorted(int(a) for a in sub["size_train"].unique())
        top = anchors[-1]
        # The axis is the recorded anchors from the largest / MAX_FIDELITY_RATIO up.
        assert task.fidelity.values == tuple(
            float(a) for a in anchors if a * lcdb.MAX_FIDELITY_RATIO >= top
        ), task_id
        learners = list(task.table.params["learner"])
        axis = list(task.fidelity.values or ())
        for _ in range(LOOKUPS):
            learner = learners[rng.integers(len(learners))]
            seed = int(rng.integers(0, 1000))
            fidelity = None if rng.random() < 0.1 else axis[rng.integers(len(axis))]
            res = task.evaluate({"learner": learner}, fidelity=fidelity, seed=seed)
            outer, inner = splits[seed % len(splits)]
            asked.append(
                {
                    "task": task_id,
                    "openmlid": oid,
                    "learner": learner,
                    "size_train": int(top if fidelity is None else fidelity),
                    "outer_seed": outer,
                    "inner_seed": inner,
                    "values": res.values,
                    "cost": res.cost,
                    "info": dict(res.info),
                    "objectives": tuple(o.name for o in task.objectives),
                }
            )
    frame = pd.DataFrame(asked).merge(raw, on=KEY, how="left", validate="many_to_one")
    bad: list[str] = []
    worst = 0.0
    for row in frame.itertuples():
        if np.isnan(row.score_valid):
            bad.append(
                f"{row.task} {row.learner} n={row.size_train} split=({row.outer_seed},{row.inner_seed}): "
                f"served {row.values}, but the CSV has no such record"
            )
            continue
        recorded = {
            "val_error": 1.0 - row.score_valid,
            "traintime": row.traintime,
            "test_error": 1.0 - row.score_test,
            "train_error": 1.0 - row.score_train,
        }
        want = tuple(recorded[name] for name in row.objectives)
        if row.values != want or row.cost != row.traintime or row.info != recorded:
            worst = max(worst, *(abs(a - b) for a, b in zip(row.values, want, strict=True)))
            bad.append(
                f"{row.task} {row.learner} n={row.size_train} split=({row.outer_seed},{row.inner_seed}): "
                f"served {row.values} cost {row.cost}, recorded {want} cost {row.traintime}"
            )
    assert not bad, (
        f"{len(bad)} of {len(frame)} lookups differ from the CSV (by up to {worst:.4g}), e.g. {bad[:3]}"
    )
    # Every offered dataset and both variants were asked.
    assert frame["task"].nunique() == len(family.ids())
    assert {"val_error"} <= set(frame["objectives"].map(set).explode())
    assert ("val_error", "traintime") in set(frame["objectives"])
