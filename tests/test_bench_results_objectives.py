"""Every objective's name and direction in the results (schema version 3), and run files of
versions 1 and 2, read as they are: ``load`` gives them the ``objectives`` column in memory."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import bench.results
from bench.integrity import META_KEY
from bench.results import (
    SCHEMA_VERSION,
    TrialRecorder,
    UnknownObjectivesError,
    decode_objectives,
    encode_objectives,
    load,
    read_run_meta,
    write_run,
)
from tasks.base import Objective

LOSS_ACCURACY = (Objective("loss"), Objective("accuracy", minimize=False))
POINTS = {"a": [0.0, 1.0], "b": [0.5, 0.5]}


def _table(
    optimizer: str, xs: list[float], objectives: tuple[Objective, ...] = LOSS_ACCURACY, task: str = "t/trade"
) -> pa.Table:
    rec = TrialRecorder()
    for i, x in enumerate(xs):
        rec.add({"x": x}, None, (x,) * len(objectives), 0.0, float(i + 1), 0.0, 0.0, 0.0)
    return rec.table(
        study="s",
        run_id=f"r-{optimizer}",
        task=task,
        family="t",
        task_type="mo" if len(objectives) > 1 else "bb",
        task_kind="synthetic",
        optimizer=optimizer,
        seed=0,
        optimum=None,
        objectives=objectives,
        run_status="ok",
    )


def _meta(
    optimizer: str, n: int, objectives: tuple[Objective, ...] | None = LOSS_ACCURACY
) -> dict[str, object]:
    meta: dict[str, object] = {
        "run_id": f"r-{optimizer}",
        "study": "s",
        "status": "ok",
        "n_trials": n,
        "spec": {"task": "t/trade", "optimizer": optimizer, "seed": 0},
    }
    if objectives is not None:
        meta["objectives"] = [{"name": o.name, "minimize": o.minimize} for o in objectives]
    return meta


def _write_v2(path: Path, table: pa.Table, meta: dict[str, object], monkeypatch: pytest.MonkeyPatch) -> Path:
    """A run file as version 2 wrote it: the same writer, without the ``objectives`` column."""
    with monkeypatch.context() as m:
        m.setattr(bench.results, "SCHEMA_VERSION", 2)
        return write_run(path, table.drop_columns(["objectives"]), meta)


def _write_v1(path: Path, table: pa.Table, meta: dict[str, object]) -> Path:
    """A run file as version 1 wrote it: no ``objectives`` column, no checksums."""
    payload = json.dumps({"schema_version": 1, **meta}).encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table.drop_columns(["objectives"]).replace_schema_metadata({META_KEY: payload}), path)
    return path


def test_a_run_file_stores_every_objective_and_load_returns_them(tmp_path: Path) -> None:
    path = write_run(tmp_path / "runs" / "a.parquet", _table("a", POINTS["a"]), _meta("a", 2))
    assert read_run_meta(path)["schema_version"] == SCHEMA_VERSION == 3
    assert pq.read_schema(path).field("objectives").type == pa.string()
    df = load(tmp_path)
    assert df["objectives"].dtype == "category"
    assert decode_objectives(df["objectives"].iloc[0]) == LOSS_ACCURACY
    assert df["minimize"].all()  # the first objective's direction keeps its own column


def test_the_recorder_refuses_objectives_that_do_not_match_the_values() -> None:
    rec = TrialRecorder()
    rec.add({"x": 0.5}, None, (0.5, 0.5), 0.0, 1.0, 0.0, 0.0, 0.0)
    with pytest.raises(ValueError, match="1 objectives for 2 values per trial"):
        rec.table(
            study="s",
            run_id="r",
            task="t/a",
            family="t",
            task_type="mo",
            task_kind="synthetic",
            optimizer="o",
            seed=0,
            optimum=None,
            objectives=[Objective("loss")],
            run_status="ok",
        )


@pytest.mark.parametrize("version", [1, 2])
def test_an_older_file_takes_its_objectives_from_its_metadata(
    tmp_path: Path, version: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = tmp_path / "runs"
    for opt, xs in POINTS.items():
        table, meta = _table(opt, xs), _meta(opt, len(xs))
        if version == 1:
            _write_v1(runs / f"{opt}.parquet", table, meta)
        else:
            _write_v2(runs / f"{opt}.parquet", table, meta, monkeypatch)
    assert "objectives" not in pq.read_schema(runs / "a.parquet").names  # the file stays as it was
    df = load(tmp_path)
    assert list(df.columns) == bench.results.TRIAL_SCHEMA.names
    assert set(df["objectives"]) == {encode_objectives(LOSS_ACCURACY)}
    # A selection of columns: the column is made when asked for, where it was asked for.
    assert list(load(tmp_path, columns=["objectives", "task"]).columns) == ["objectives", "task"]
    assert list(load(tmp_path, columns=["task", "value"]).columns) == ["task", "value"]


def test_a_folder_of_old_and_new_files_loads_as_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runs = tmp_path / "runs"
    _write_v2(runs / "a.parquet", _table("a", POINTS["a"]), _meta("a", 2), monkeypatch)
    write_run(runs / "b.parquet", _table("b", POINTS["b"]), _meta("b", 2))
    assert [read_run_meta(p)["schema_version"] for p in sorted(runs.iterdir())] == [2, 3]
    df = load(tmp_path)
    assert list(df["objectives"].cat.categories) == [encode_objectives(LOSS_ACCURACY)]


def test_a_single_objective_file_without_recorded_objectives_uses_its_minimize_column(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = _table("a", [3.0, 1.0], objectives=(Objective("acc", minimize=False),), task="t/one")
    _write_v2(tmp_path / "runs" / "a.parquet", table, {"status": "ok", "n_trials": 2}, monkeypatch)
    df = load(tmp_path)
    assert decode_objectives(df["objectives"].iloc[0]) == (Objective("value", minimize=False),)


def test_several_objectives_without_recorded_directions_are_refused_not_guessed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _write_v2(
        tmp_path / "runs" / "a.parquet", _table("a", POINTS["a"]), _meta("a", 2, None), monkeypatch
    )
    with pytest.raises(UnknownObjectivesError) as info:
        load(tmp_path)
    message = str(info.value)
    assert "\n" not in message and str(path) in message
    assert "schema version 2 with 2 values per trial but no objectives in its metadata" in message


def test_metadata_that_disagrees_with_the_trials_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    flipped = (Objective("loss", minimize=False), Objective("accuracy", minimize=False))
    path = _write_v2(
        tmp_path / "runs" / "a.parquet", _table("a", POINTS["a"]), _meta("a", 2, flipped), monkeypatch
    )
    with pytest.raises(
        UnknownObjectivesError, match="the first maximized, but its trials have 2 values and minimize=True"
    ) as info:
        load(tmp_path)
    assert str(path) in str(info.value)


def test_a_run_without_trials_needs_no_objectives(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _write_v2(tmp_path / "runs" / "a.parquet", _table("a", []), _meta("a", 0, None), monkeypatch)
    write_run(tmp_path / "runs" / "b.parquet", _table("b", [], objectives=()), _meta("b", 0, None))
    assert len(load(tmp_path)) == 0
