"""Objective directions come with the results: ``final_ranks(load(dir))`` ranks a study whose
second objective is maximized the right way round, with nothing passed beside the data."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.leaderboard.stats import final_ranks
from analysis.load import load
from bench.loop import run_one
from bench.run_context import RunContext
from bench.spec import RunSpec
from optimizers.base import Budget

REPO = Path(__file__).resolve().parents[1]
PLUGINS = REPO / "tests" / "plugins"
DATA = Path(os.environ.get("NXMBENCH_YAHPO_DATA") or REPO.parent / "shared" / "data" / "yahpo")


@pytest.fixture
def plugin(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.syspath_prepend(str(PLUGINS))
    yield


def _spec(
    task: str, optimizer: str, seed: int, n_trials: int, target: str, context: RunContext, **params: object
) -> RunSpec:
    return RunSpec(
        study="directions",
        task=task,
        optimizer=optimizer,
        optimizer_target=target,
        optimizer_params=dict(params),
        seed=seed,
        budget=Budget(n_trials),
        context=context,
    )


def test_final_ranks_of_loaded_runs_follow_a_maximized_second_objective(plugin: None, tmp_path: Path) -> None:
    # directions/trade: loss = accuracy = x, accuracy maximized. Oriented for minimization and
    # normalized, 'a' (x = 0, 1) has the points (0, 1), (1, 0) and 'b' (x = 0.5) has (.5, .5):
    # HV(a) = 0.21, HV(b) = 0.36, HV* = 0.46, so 'b' is better. Read as minimized, x = 0 would
    # dominate every point and 'a' would win.
    ctx = RunContext(task_modules=("directions_plugin",))
    for name, xs in (("a", [0.0, 1.0]), ("b", [0.5, 0.5])):
        spec = _spec("directions/trade", name, 0, 2, "directions_plugin.Replay", ctx, xs=xs)
        assert run_one(spec, tmp_path).status == "ok"
    ranks = final_ranks(load(tmp_path / "directions"))
    assert ranks.index.tolist() == ["b", "a"]
    hv_star, hv_a, hv_b = 0.46, 0.21, 0.36
    np.testing.assert_allclose(ranks["mean_regret"], [(hv_star - hv_b) / hv_star, (hv_star - hv_a) / hv_star])


def _run_trade(
    out: Path, name: str, xs: list[float], monkeypatch: pytest.MonkeyPatch, version: int = 3
) -> None:
    """Run ``name`` on directions/trade; ``version=2`` writes its file as the runner of schema version
    2 did: the same metadata (with its ``objectives``), no ``objectives`` column."""
    import bench.loop
    import bench.results

    spec = _spec(
        "directions/trade",
        name,
        0,
        2,
        "directions_plugin.Replay",
        RunContext(task_modules=("directions_plugin",)),
        xs=xs,
    )
    with monkeypatch.context() as m:
        if version == 2:
            real = bench.results.write_run
            m.setattr(bench.results, "SCHEMA_VERSION", 2)
            m.setattr(
                bench.loop,
                "write_run",
                lambda path, table, meta: real(path, table.drop_columns(["objectives"]), meta),
            )
        assert run_one(spec, out).status == "ok"


def test_old_and_new_run_files_rank_together_the_right_way_round(
    plugin: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from analysis.load import comparability_groups, load_runs
    from bench.results import read_run_meta

    _run_trade(tmp_path, "a", [0.0, 1.0], monkeypatch, version=2)
    _run_trade(tmp_path, "b", [0.5, 0.5], monkeypatch)
    study = tmp_path / "directions"
    assert sorted(read_run_meta(p)["schema_version"] for p in (study / "runs").iterdir()) == [2, 3]
    df = load(study)
    assert df["objectives"].nunique() == 1  # one task, one meaning, whichever version wrote it
    assert final_ranks(df).index.tolist() == ["b", "a"]
    assert comparability_groups(load_runs(study), df) == []


def test_runs_of_one_task_with_other_objectives_are_not_comparable(
    plugin: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from analysis.load import comparability_groups, load_runs
    from analysis.report.build import build_report
    from bench.registry import make_task
    from tasks.base import Objective

    _run_trade(tmp_path, "a", [0.0, 1.0], monkeypatch, version=2)
    # As if a later version of the task minimized its accuracy (the task is cached per process).
    minimized = (Objective("loss"), Objective("accuracy"))
    monkeypatch.setattr(make_task("directions/trade"), "objectives", minimized)
    _run_trade(tmp_path, "b", [0.5, 0.5], monkeypatch)
    study = tmp_path / "directions"
    (group,) = comparability_groups(load_runs(study))
    assert group.describe() == (
        "runs of task 'directions/trade' with objectives='loss min, accuracy max' "
        "(1 run) and objectives='loss min, accuracy min' (1 run)"
    )
    with pytest.raises(ValueError, match="objectives='loss min, accuracy max'"):
        build_report(load(study), load_runs(study), n_boot=10, figures=False)


def _oriented(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with every objective turned into a minimized one by hand (negated when maximized)."""
    from bench.results import decode_objectives, encode_objectives
    from tasks.base import Objective

    signs = {
        v: np.array([1.0 if o.minimize else -1.0 for o in decode_objectives(v)])
        for v in df["objectives"].astype(str).unique()
    }
    values = [
        list(np.asarray(v) * signs[o])
        for v, o in zip(df["values"], df["objectives"].astype(str), strict=True)
    ]
    minimized = {v: encode_objectives([Objective(o.name) for o in decode_objectives(v)]) for v in signs}
    return df.assign(
        values=values,
        value=[v[0] for v in values],
        minimize=True,
        objectives=df["objectives"].astype(str).map(minimized),
    )


@pytest.mark.skipif(not (DATA / "lcbench").is_dir(), reason=f"no YAHPO data folder with lcbench at {DATA}")
def test_final_ranks_on_yahpo_with_a_maximized_second_objective(plugin: None, tmp_path: Path) -> None:
    # directions/lcbench: val_cross_entropy (minimized), val_balanced_accuracy (maximized).
    ctx = RunContext(task_modules=("directions_plugin",), yahpo_data=str(DATA))
    target = "optimizers.random_search.RandomSearch"
    for i, name in enumerate(("rs_a", "rs_b", "rs_c")):
        for seed in (2 * i, 2 * i + 1):  # random search under three ids: other seeds, other samples
            assert run_one(_spec("directions/lcbench", name, seed, 6, target, ctx), tmp_path).status == "ok"
    df = load(tmp_path / "directions")
    assert set(df["objectives"].astype(str)) == {
        '[{"name": "val_cross_entropy", "minimize": true}, '
        '{"name": "val_balanced_accuracy", "minimize": false}]'
    }
    right = final_ranks(_oriented(df))
    wrong = final_ranks(df.assign(objectives=_oriented(df)["objectives"]))  # accuracy read as minimized
    # The two objectives are correlated here (a low cross-entropy goes with a high accuracy), so the
    # order may agree; the hypervolume regrets do not.
    assert not np.allclose(right["mean_regret"], wrong.loc[right.index, "mean_regret"])
    pd.testing.assert_frame_equal(final_ranks(df), right)
