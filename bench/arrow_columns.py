"""Arrow columns built from their buffers, without ``pyarrow.array``.

``pyarrow.array`` imports pandas on its first call whenever pandas is installed (it checks
whether its argument is a pandas object), about 0.3 s and 50 MB: as much as the rest of a
single run's start-up. The run writer builds its columns from numpy buffers instead, which is
also what ``pyarrow.array`` does with them (no copy for numbers; NaN stays a value, not a null).

Example:
    >>> import numpy as np
    >>> floats(np.array([1.5, np.nan])).to_pylist()
    [1.5, nan]
    >>> strings(["a", "bc"]).to_pylist(), repeated_string("x", 3).to_pylist()
    (['a', 'bc'], ['x', 'x', 'x'])
    >>> booleans(np.array([True, False, True])).to_pylist()
    [True, False, True]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa

__all__ = ["booleans", "floats", "int32s", "int64s", "list_of_floats", "repeated_string", "strings"]


def _numeric(arrow_type: pa.DataType, dtype: type, values: np.ndarray) -> pa.Array:
    data: np.ndarray = np.ascontiguousarray(values, dtype=dtype)
    return pa.Array.from_buffers(arrow_type, len(data), [None, pa.py_buffer(data)])


def floats(values: np.ndarray | Sequence[float]) -> pa.Array:
    """A ``float64`` column (NaN is a value, as ``pyarrow.array`` makes it from numpy)."""
    return _numeric(pa.float64(), np.float64, np.asarray(values, dtype=np.float64))


def int64s(values: np.ndarray | Sequence[int]) -> pa.Array:
    """An ``int64`` column."""
    return _numeric(pa.int64(), np.int64, np.asarray(values, dtype=np.int64))


def int32s(values: np.ndarray | Sequence[int]) -> pa.Array:
    """An ``int32`` column."""
    return _numeric(pa.int32(), np.int32, np.asarray(values, dtype=np.int32))


def booleans(values: np.ndarray | Sequence[bool]) -> pa.Array:
    """A ``bool`` column (Arrow packs it to bits, least significant first)."""
    flags = np.asarray(values, dtype=bool)
    bits = np.packbits(flags, bitorder="little")
    return pa.Array.from_buffers(pa.bool_(), len(flags), [None, pa.py_buffer(bits)])


def _string_array(encoded: bytes, offsets: np.ndarray) -> pa.Array:
    if offsets[-1] > np.iinfo(np.int32).max:
        raise ValueError(f"{offsets[-1]} bytes of text in one column: more than a string column holds")
    off = np.ascontiguousarray(offsets, dtype=np.int32)
    return pa.Array.from_buffers(pa.string(), len(off) - 1, [None, pa.py_buffer(off), pa.py_buffer(encoded)])


def strings(values: Sequence[str]) -> pa.Array:
    """A ``string`` column of ``values`` (no nulls)."""
    encoded = [v.encode("utf-8") for v in values]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum([len(b) for b in encoded], out=offsets[1:])
    return _string_array(b"".join(encoded), offsets)


def repeated_string(value: str, n: int) -> pa.Array:
    """A ``string`` column of ``n`` copies of ``value``, built without a Python string per row."""
    one = value.encode("utf-8")
    return _string_array(one * n, np.arange(n + 1, dtype=np.int64) * len(one))


def list_of_floats(values: np.ndarray) -> pa.Array:
    """A ``list<double>`` column with one row per row of the 2-d ``values``."""
    n, k = values.shape
    return pa.ListArray.from_arrays(int32s(np.arange(0, n * k + 1, k)), floats(values.ravel()))
