"""sklearn-tab: tables built by training real scikit-learn models; shipped tables match retraining."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tasks.collections import sklearn_built as sb
from tasks.tabular import TabularTask, load_table


def test_tiny_build_roundtrip(tmp_path: Path) -> None:
    grid = {
        "learning_rate": (0.1, 0.3),
        "max_leaf_nodes": (4,),
        "min_samples_leaf": (4,),
        "l2_regularization": (0.0,),
    }
    table = sb.build_table("hgb", "iris", seeds=1, grid=grid)
    assert table.data.shape == (2, 1, 5, 4) and not np.isnan(table.data).any()
    err, test_err, time_, size = np.moveaxis(table.data[:, 0], -1, 0)
    assert ((err >= 0) & (err <= 1)).all() and ((test_err >= 0) & (test_err <= 1)).all()
    assert (np.diff(time_, axis=1) > 0).all(), "training time is cumulative over boosting iterations"
    assert (np.diff(size, axis=1) > 0).all(), "more iterations, more tree nodes"
    path = table.save(sb.table_path("hgb", "iris", tmp_path))
    again = load_table(path)
    np.testing.assert_array_equal(again.data, table.data)
    assert again.fidelity_name == "max_iter" and again.cost_metric == "train_time"


def test_cli_build(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    small = sb.Learner(
        "svc",
        {"kernel": ("rbf",), "C": (1.0, 10.0), "gamma": (0.1,)},
        "train_fraction",
        (0.5, 1.0),
        sb.run_svc,
        "tiny SVC grid",
    )
    monkeypatch.setitem(sb.LEARNERS, "svc", small)
    assert (
        sb.main(["build", "--out", str(tmp_path), "--seeds", "1", "--learners", "svc", "--datasets", "iris"])
        == 0
    )
    table = load_table(tmp_path / "sklearn-tab_svc_iris.npz")
    assert table.n_configs == 2 and table.fidelity_values == (0.5, 1.0)
    assert "2 configs x 1 seeds" in capsys.readouterr().out


@pytest.mark.parametrize("learner", sorted(sb.LEARNERS))
def test_shipped_table_matches_retraining(learner: str) -> None:
    fam = sb.SklearnTabFamily()
    if fam.unavailable_reason():
        pytest.fail(str(fam.unavailable_reason()))
    table = fam.table(learner, "iris")
    assert table.n_seeds == 3 and table.n_configs == int(
        np.prod([len(v) for v in sb.LEARNERS[learner].grid.values()])
    )
    for c, s in [(0, 0), (table.n_configs // 2, 1), (table.n_configs - 1, 2)]:
        fresh = sb.evaluate_config(learner, "iris", table.config_at(c), s)
        # Errors are reproduced exactly; the recorded training time is machine dependent.
        np.testing.assert_allclose(fresh[:, [0, 1, 3]], table.data[c, s][:, [0, 1, 3]], atol=1e-12)
        assert (fresh[:, 2] > 0).all()


def test_family_ids_and_variants() -> None:
    fam = sb.families()[0]
    ids = fam.ids()
    assert len(ids) == 3 * 4 * 3 and "sklearn-tab/hgb/digits/mo-size" in ids
    task = fam.make("sklearn-tab/mlp/wine/mo")
    assert isinstance(task, TabularTask)
    assert [o.name for o in task.objectives] == ["val_error", "train_time"] and task.meta.type == "mfmo"
    cfg = dict(task.space.sample_configuration())
    r = task.evaluate(cfg, fidelity=4, seed=1)
    assert r.values[1] == r.cost > 0 and 0 <= r.info["test_error"] <= 1
    best = fam.make("sklearn-tab/svc/digits").meta.optimum
    assert best is not None and best[0] < 0.05  # a well-tuned SVC on digits is > 95 % accurate


def test_bad_input() -> None:
    fam = sb.SklearnTabFamily()
    with pytest.raises(ValueError, match="did you mean"):
        fam.make("sklearn-tab/hgb/digit")
    with pytest.raises(ValueError, match="unknown learner 'xgb'; valid"):
        sb.build_table("xgb", "iris")
    with pytest.raises(ValueError, match="unknown dataset 'mnist'; valid"):
        sb.build_table("svc", "mnist")


def test_shipped_size_is_small() -> None:
    total = sum(p.stat().st_size for p in sb.data_dir().glob("*.npz"))
    assert 0 < total < 2_000_000
