"""The dask backend gives the same results as loky, on a real distributed LocalCluster."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from bench import results
from bench.config import BackendConfig, OptimizerChoice, StudyConfig
from bench.parallel import run_all
from bench.plan import make_plan
from optimizers.base import Budget

COLS = ["run_id", "trial", "config", "fidelity", "value", "budget_used"]


@pytest.mark.slow
def test_dask_local_cluster_matches_loky(tmp_path: Path) -> None:
    pytest.importorskip("dask.distributed")
    study = StudyConfig(
        "dask",
        (
            OptimizerChoice("random_search", "optimizers.random_search.RandomSearch"),
            OptimizerChoice("hyperband", "optimizers.hyperband.Hyperband"),
        ),
        ("bbob/f0[1-3]/d02/i01", "synthetic/mfh3"),
        (0, 1),
        Budget(15),
        incompatible="skip",
    )
    specs = make_plan(study).specs
    a = run_all(specs, tmp_path / "loky", n_jobs=2, progress=False)
    b = run_all(
        specs, tmp_path / "dask", n_jobs=2, backend=BackendConfig("dask", n_workers=2), progress=False
    )
    assert not a.failed and not b.failed and len(b.outcomes) == len(specs)
    da = results.load(tmp_path / "loky")[COLS].astype({"run_id": str}).sort_values(["run_id", "trial"])
    db = results.load(tmp_path / "dask")[COLS].astype({"run_id": str}).sort_values(["run_id", "trial"])
    pd.testing.assert_frame_equal(da.reset_index(drop=True), db.reset_index(drop=True))
    # resume behaves as with loky
    again = run_all(
        specs, tmp_path / "dask", n_jobs=2, backend=BackendConfig("dask", n_workers=2), progress=False
    )
    assert again.skipped == len(specs) and not again.outcomes
