"""The run writer's Arrow columns and the table digest, built without pandas, equal pyarrow's own.

``bench.arrow_columns`` and ``bench.integrity.table_digest`` read and write buffers directly so
that a single run never imports pandas. Each is compared here with what ``pyarrow.array`` and
``Array.to_numpy`` give (the code they replaced), so tables written are the same and digests
stored in files written before stay valid.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from bench import arrow_columns as columns
from bench.integrity import _type_name, table_digest
from bench.results import TRIAL_SCHEMA, TrialRecorder, encode_objectives
from tasks.base import Objective


def _reference_digest(table: pa.Table) -> str:
    """table_digest as it was written with to_numpy (before the buffer fast paths)."""
    h = hashlib.sha256()
    for field, col in zip(table.schema, table.columns, strict=True):
        arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
        if pa.types.is_dictionary(arr.type):
            arr = arr.cast(arr.type.value_type)
        h.update(f"{field.name}:{_type_name(arr.type)}:{len(arr)}:{arr.null_count};".encode())
        if arr.null_count:
            h.update(arr.is_null().to_numpy(zero_copy_only=False).tobytes())
        if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
            arr = arr.cast(pa.large_string())
            offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset : arr.offset + len(arr) + 1]
            h.update((offsets - offsets[0]).tobytes())
            data = arr.buffers()[2]
            if data is not None and len(arr):
                h.update(memoryview(data)[int(offsets[0]) : int(offsets[-1])])
        elif pa.types.is_list(arr.type) or pa.types.is_large_list(arr.type):
            h.update(pc.list_value_length(arr).to_numpy(zero_copy_only=False).tobytes())
            h.update(pc.list_flatten(arr).to_numpy(zero_copy_only=False).tobytes())
        else:
            h.update(arr.to_numpy(zero_copy_only=False).tobytes())
    return h.hexdigest()


def _tables() -> list[pa.Table]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=37)
    x[[3, 9]] = np.nan
    full = pa.table(
        {
            "f": pa.array(x),
            "i64": pa.array(np.arange(37, dtype=np.int64)),
            "i32": pa.array(np.arange(37, dtype=np.int32) * 3),
            "b": pa.array(rng.random(37) < 0.5),
            "s": pa.array([f"s{i}" * (i % 4) for i in range(37)]),
            "l": pa.array([[float(i), float(-i)] for i in range(37)]),
            "d": pa.array(["a", "b"] * 18 + ["a"]).dictionary_encode(),
            "u8": pa.array(np.arange(37, dtype=np.uint8)),
            "f32": pa.array(np.linspace(0, 1, 37, dtype=np.float32)),
        }
    )
    with_nulls = pa.table(
        {
            "f": pa.array([1.0, None, 3.0]),
            "i": pa.array([1, None, 3]),
            "b": pa.array([True, None, False]),
            "s": pa.array(["x", None, "z"]),
            "l": pa.array([[1.0], None, [2.0, None]]),
        }
    )
    empty = pa.table({"f": pa.array(np.zeros(0)), "b": pa.array(np.zeros(0, dtype=bool))})
    return [
        full,
        full.slice(5, 19),  # offsets into every buffer
        full.slice(0, 9),  # a boolean slice ending inside a byte
        pa.concat_tables([full.slice(0, 7), full.slice(7)]),  # chunked
        with_nulls,
        with_nulls.slice(1),
        empty,
    ]


@pytest.mark.parametrize("k", range(7))
def test_the_digest_equals_the_to_numpy_digest(k: int) -> None:
    table = _tables()[k]
    assert table_digest(table) == _reference_digest(table)


def _same(a: pa.Array | pa.ChunkedArray, b: pa.Array | pa.ChunkedArray) -> bool:
    """Equal type, nulls and values, NaN equal to NaN (``Array.equals`` says NaN != NaN)."""
    return a.type == b.type and a.null_count == b.null_count and repr(a.to_pylist()) == repr(b.to_pylist())


def test_columns_equal_pyarrow_array() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=11)
    x[2] = np.nan
    assert _same(columns.floats(x), pa.array(x))
    assert _same(columns.floats(np.zeros(0)), pa.array(np.zeros(0)))
    assert _same(columns.int64s(np.arange(11)), pa.array(np.arange(11, dtype=np.int64)))
    flags = rng.random(13) < 0.5
    assert _same(columns.booleans(flags), pa.array(flags))
    texts = ["", "a", "ünï", '{"x": 1.5}', "b" * 300]
    assert _same(columns.strings(texts), pa.array(texts, pa.string()))
    assert _same(columns.repeated_string("ab€", 4), pa.array(["ab€"] * 4, pa.string()))
    assert _same(columns.repeated_string("ab", 0), pa.array([], pa.string()))
    values = rng.normal(size=(5, 3))
    assert _same(columns.list_of_floats(values), pa.array([list(r) for r in values], pa.list_(pa.float64())))


def _reference_table(rec: TrialRecorder, objectives: tuple[Objective, ...]) -> pa.Table:
    """TrialRecorder.table as it was written with pyarrow.array."""
    n = len(rec)
    const = {
        "study": "s",
        "run_id": "r",
        "task": "t",
        "family": "f",
        "task_type": "bb",
        "task_kind": "synthetic",
        "optimizer": "o",
        "objectives": encode_objectives(objectives),
        "run_status": "ok",
    }
    zeros = pa.array(np.zeros(n, dtype=np.int32))
    cols = {
        k: pa.DictionaryArray.from_arrays(zeros, pa.array([v], pa.string())).cast(pa.string())
        for k, v in const.items()
    }
    cols["seed"] = pa.array(np.full(n, 3, dtype=np.int64))
    cols["trial"] = pa.array(np.arange(n, dtype=np.int64))
    configs, fidelities, vals, costs, used, sim, wall, evals = zip(*rec.rows, strict=True)
    cols["config"] = pa.array([json.dumps(c) for c in configs], pa.string())
    cols["fidelity"] = pa.array(np.array(fidelities, dtype=np.float64))
    values = np.asarray(vals, dtype=np.float64).reshape(n, -1)
    cols["value"] = pa.array(values[:, 0])
    k = values.shape[1]
    cols["values"] = pa.ListArray.from_arrays(
        pa.array(np.arange(0, n * k + 1, k, dtype=np.int32)), pa.array(values.ravel())
    )
    for name, data in (
        ("cost", costs),
        ("budget_used", used),
        ("sim_time", sim),
        ("wall_time", wall),
        ("eval_time", evals),
    ):
        cols[name] = pa.array(np.asarray(data, dtype=np.float64))
    cols["optimum"] = pa.array(np.full(n, np.nan))
    cols["minimize"] = pa.array(np.full(n, objectives[0].minimize, dtype=bool))
    return pa.table([cols[f.name] for f in TRIAL_SCHEMA], schema=TRIAL_SCHEMA)


@pytest.mark.parametrize("objectives", [(Objective("y"),), (Objective("a", minimize=False), Objective("b"))])
def test_the_trial_table_equals_the_one_pyarrow_array_built(objectives: tuple[Objective, ...]) -> None:
    rec = TrialRecorder()
    k = len(objectives)
    for i in range(9):
        values = tuple([float("nan") if i == 4 else i * 0.5 + j for j in range(k)])
        rec.add(
            {"x": i / 8, "c": "ü"},
            None if i % 3 else 0.25 * i,
            values,
            0.1 * i,
            i + 1.0,
            0.2 * i,
            0.01,
            0.001,
        )
    table = rec.table(
        study="s",
        run_id="r",
        task="t",
        family="f",
        task_type="bb",
        task_kind="synthetic",
        optimizer="o",
        seed=3,
        optimum=None,
        objectives=objectives,
        run_status="ok",
    )
    reference = _reference_table(rec, objectives)
    assert table.schema == reference.schema
    assert all(_same(table.column(name), reference.column(name)) for name in reference.column_names)
    assert table_digest(table) == _reference_digest(reference)


def test_configs_are_encoded_as_the_json_encoder_writes_them() -> None:
    """encode_configs' template path gives the encoder's very text, and every other kind of
    configuration goes through the encoder."""
    import numpy as np

    from bench.results import _encode_config, encode_configs

    rng = np.random.default_rng(3)
    configs: list[dict] = []
    for _ in range(300):
        x = float(rng.normal() * 10.0 ** rng.integers(-30, 30))
        configs.append({"x0": x, "x1": int(rng.integers(-(10**12), 10**12)), "lr": float(rng.random())})
    configs += [
        {"x": -0.0, "y": 0.0, "z": 5e-324, "w": 1.7976931348623157e308},  # signed zero, extremes
        {"x": float("nan"), "y": 1.0},  # nan: the encoder's NaN
        {"x": float("inf")},
        {"y": 1.0, "x": 2.0},  # another key order
        {"%s": 1.0, "a%%b": 2, "ünï": 0.5, 'q"uote': 1.5, "back\\slash": 3, "tab\t": 4.0},
        {"flag": True, "n": 1},  # bool is not an int here
        {"c": "a", "x": 0.5},  # a category
        {"x": np.float64(0.25), "n": np.int64(3)},  # numpy scalars
        {"nested": {"a": 1}},
        {},
    ]
    assert encode_configs(configs) == [_encode_config(c) for c in configs]


def test_configs_of_one_key_order_are_encoded_at_once_as_the_encoder_writes_them() -> None:
    """The all-at-once path (plain dicts, one key order, numeric values) gives the encoder's text,
    and a run whose configurations leave that form anywhere (a nan, a numpy scalar, a bool, a
    second key order, keys JSON must escape) still gets the encoder's text for every one."""
    import numpy as np

    from bench.results import _encode_config, _encode_uniform, encode_configs

    rng = np.random.default_rng(5)
    uniform: list[dict] = [
        {"x0": float(rng.normal() * 10.0 ** rng.integers(-30, 30)), "n": int(rng.integers(-(10**12), 10**12))}
        for _ in range(500)
    ]
    uniform += [{"x0": -0.0, "n": 0}, {"x0": 5e-324, "n": -1}, {"x0": 1.7976931348623157e308, "n": 2**70}]
    assert _encode_uniform(uniform) is not None
    assert encode_configs(uniform) == [_encode_config(c) for c in uniform]
    escaped = [{"%s": float(v), 'q"u\nte': 1, "ünï": 0.5} for v in rng.random(20)]
    assert _encode_uniform(escaped) is not None
    assert encode_configs(escaped) == [_encode_config(c) for c in escaped]
    assert encode_configs([{}, {}]) == ["{}", "{}"]
    for odd in (
        {"x0": float("nan"), "n": 1},
        {"x0": float("-inf"), "n": 1},
        {"x0": np.float64(0.25), "n": 1},
        {"x0": 0.5, "n": True},
        {"n": 1, "x0": 0.5},
        {"x0": 0.5},
    ):
        configs = [*uniform[:50], odd, *uniform[50:100]]
        assert _encode_uniform(configs) is None, odd
        assert encode_configs(configs) == [_encode_config(c) for c in configs], odd
        long_run = [*uniform, *uniform[:300], odd, *uniform]  # the odd one in the second chunk of 512
        assert encode_configs(long_run) == [_encode_config(c) for c in long_run], odd
