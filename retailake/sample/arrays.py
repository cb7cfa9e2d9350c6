"""Column builders on numpy/pyarrow: every generated column goes through these, never a row loop.

Arrays are assembled from numpy buffers (`pa.Array.from_buffers`): zero-copy, and it keeps
pandas out of the process (`pa.array` and `pa.scalar` import it on first use when installed).
Text of a fixed width (ids, dates, timestamps) is built as a bytes matrix, one row per value,
from integer arithmetic and digit lookup tables: no per-value formatting, no string casts."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

_n = np.arange(10_000)
# "0000" .. "9999" as a (10000, 4) matrix of ASCII digits.
DIGITS4 = (np.stack([_n // 1000, _n // 100 % 10, _n // 10 % 10, _n % 10], axis=1) + 48).astype(
    np.uint8
)
del _n
_DIGIT_WORDS = DIGITS4.view(np.uint32).ravel()  # the same, one 32-bit word per number


def ints(values: np.ndarray | Sequence[int], dtype: type = np.int64) -> pa.Array:
    """An Arrow integer array on the numpy buffer (int64, or int32 for dates)."""
    if np.dtype(dtype) not in (np.int32, np.int64):
        raise ValueError(f"no Arrow integer type for {np.dtype(dtype)}")
    values = np.ascontiguousarray(values, dtype=dtype)
    kind = pa.int32() if values.dtype == np.int32 else pa.int64()
    return pa.Array.from_buffers(kind, len(values), [None, pa.py_buffer(values)])


def numbers(array: pa.Array, missing: int = 0) -> np.ndarray:
    """An Arrow int32/int64 array as numpy (a view when it has no nulls), `missing` where null:
    `to_numpy` would import pandas."""
    dtype = {pa.int32(): np.int32, pa.int64(): np.int64}[array.type]
    validity, data = array.buffers()[:2]
    values = np.frombuffer(data, dtype, len(array), array.offset * np.dtype(dtype).itemsize)
    if not array.null_count:
        return values
    bits = np.unpackbits(np.frombuffer(validity, np.uint8), bitorder="little")
    return np.where(bits[array.offset : array.offset + len(array)].astype(bool), values, missing)


def bools(mask: np.ndarray) -> pa.Array:
    """An Arrow boolean array from a numpy mask."""
    mask = np.asarray(mask, dtype=bool)
    return pa.Array.from_buffers(pa.bool_(), len(mask), [None, _bits(mask)])


def texts(values: Sequence[str]) -> pa.Array:
    """A (small) Arrow string array from Python strings."""
    encoded = [value.encode() for value in values]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int32)
    offsets[1:] = np.cumsum(np.array([len(value) for value in encoded], dtype=np.int64))
    buffers = [None, pa.py_buffer(offsets), pa.py_buffer(b"".join(encoded))]
    return pa.Array.from_buffers(pa.string(), len(encoded), buffers)


def text(value: str) -> pa.Scalar:
    """A string scalar for compute functions (a bare str would go through `pa.scalar`)."""
    return texts([value])[0]


def fixed(matrix: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """One string per row of a (rows, width) uint8 matrix of UTF-8 bytes; null where not valid."""
    rows, width = matrix.shape
    offsets = np.arange(0, (rows + 1) * width, width, dtype=np.int32)
    data = np.ascontiguousarray(matrix, dtype=np.uint8)
    return pa.Array.from_buffers(
        pa.string(), rows, [_validity(valid), pa.py_buffer(offsets), pa.py_buffer(data)],
        null_count=_null_count(valid),
    )


def digits(values: np.ndarray, width: int) -> np.ndarray:
    """Zero-padded decimal digits of non-negative integers as a (len, width) uint8 matrix (a
    view): four digits at a time from a lookup table, written as 32-bit words."""
    values = np.asarray(values)
    if len(values) and (values.min() < 0 or values.max() >= 10**width):
        raise ValueError(f"numbers must be between 0 and {10**width - 1} for {width} digits")
    rest: npt.NDArray[np.unsignedinteger] = values.astype(np.uint32 if width <= 9 else np.uint64)
    chunks = -(-width // 4)
    words = np.empty((len(values), chunks), dtype=np.uint32)
    for chunk in range(chunks - 1, 0, -1):
        rest, low = np.divmod(rest, rest.dtype.type(10_000))
        words[:, chunk] = np.take(_DIGIT_WORDS, low)
    words[:, 0] = np.take(_DIGIT_WORDS, rest)
    return words.view(np.uint8)[:, 4 * chunks - width :]


def id_bytes(prefix: str, values: np.ndarray, width: int) -> np.ndarray:
    """Identifiers such as P00042 as a bytes matrix: the prefix, then `width` digits."""
    head = np.frombuffer(prefix.encode(), dtype=np.uint8)
    out = np.empty((len(values), len(head) + width), dtype=np.uint8)
    out[:, : len(head)] = head
    out[:, len(head) :] = digits(values, width)
    return out


def ids(prefix: str, values: np.ndarray, width: int) -> pa.Array:
    """Zero-padded identifiers such as P00042."""
    return fixed(id_bytes(prefix, values, width))


def date_bytes(dates: Sequence[object]) -> np.ndarray:
    """ISO dates (YYYY-MM-DD) as a (len(dates), 10) bytes matrix, to gather rows from."""
    return np.frombuffer("".join(str(day) for day in dates).encode(), np.uint8).reshape(-1, 10)


@cache
def clock_bytes() -> np.ndarray:
    """Times of day (HH:MM:SS) for every second of a day as an (86400, 8) bytes matrix."""
    hour, rest = np.divmod(np.arange(86_400), 3600)
    clock = np.full((86_400, 8), ord(":"), dtype=np.uint8)
    clock[:, 0:2], clock[:, 3:5], clock[:, 6:8] = (
        digits(hour, 2), digits(rest // 60, 2), digits(rest % 60, 2)
    )
    return clock


def iso_dates(dates: Sequence[object], index: np.ndarray) -> pa.Array:
    """ISO date strings (YYYY-MM-DD) for day indexes into `dates`."""
    return fixed(np.take(date_bytes(dates), index, axis=0))


def pick(values: Sequence[str], index: np.ndarray) -> pa.Array:
    """values[index] as an Arrow string array (a dictionary lookup, not a Python loop)."""
    return texts(values).take(ints(index))


def concat(*parts: pa.Array | str) -> pa.Array:
    """Element-wise string concatenation; a null part makes the result null."""
    args = [text(part) if isinstance(part, str) else part for part in parts]
    return pc.binary_join_element_wise(*args, text(""))


def as_text(values: pa.Array) -> pa.Array:
    """Values as strings. Numbers that repeat a lot (prices, quantities) go through a
    dictionary: casting each distinct value once is several times faster than every one."""
    if pa.types.is_string(values.type):
        return values
    if len(values) >= 4096:
        encoded = pc.dictionary_encode(values)
        if len(encoded.dictionary) <= len(values) // 8:
            return pc.cast(encoded.dictionary, pa.string()).take(encoded.indices)
    return pc.cast(values, pa.string())


def decimal(units: np.ndarray, precision: int, scale: int) -> pa.Array:
    """Exact decimals from integer units (cents for scale 2), without float rounding."""
    units = np.ascontiguousarray(units, dtype=np.int64)
    words = np.empty((len(units), 2), dtype=np.int64)
    words[:, 0] = units
    words[:, 1] = units >> 63  # sign extension into the high 64 bits
    return pa.Array.from_buffers(
        pa.decimal128(precision, scale), len(units), [None, pa.py_buffer(words)]
    )


def with_nulls(array: pa.Array, mask: np.ndarray) -> pa.Array:
    """`array` with nulls where mask is true."""
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return array
    if array.null_count == 0 and array.offset == 0:  # swap in a validity bitmap, no copy
        buffers = [_bits(~mask), *array.buffers()[1:]]
        return pa.Array.from_buffers(
            array.type, len(array), buffers, null_count=int(mask.sum())
        )
    return pc.if_else(bools(mask), pa.nulls(len(array), array.type), array)


def choose(rng: np.random.Generator, n: int, weights: Sequence[float] | np.ndarray) -> np.ndarray:
    """n draws of indexes with the given (unnormalized) weights: multinomial counts, then a
    shuffle, several times faster than searching a cumulative table per draw."""
    return rng.permutation(choose_sorted(rng, n, weights))


def share_draws(rng: np.random.Generator, n: int, shares: Sequence[float]) -> np.ndarray:
    """n draws of indexes for shares given to a thousandth (0.72, 0.18, ...): one uniform
    integer each, looked up in a 1000-entry table, several times faster than `choose`."""
    counts = np.round(np.asarray(shares, dtype=np.float64) * 1000).astype(np.int64)
    if counts.sum() != 1000 or not np.allclose(counts / 1000, shares):
        raise ValueError("shares must be thousandths adding up to 1")
    table = np.repeat(np.arange(len(counts)), counts)
    return np.take(table, rng.integers(0, 1000, n, dtype=np.int16))


def choose_sorted(
    rng: np.random.Generator, n: int, weights: Sequence[float] | np.ndarray
) -> np.ndarray:
    """The draws of `choose` in ascending order, for when they get sorted anyway."""
    p = np.asarray(weights, dtype=np.float64)
    counts = rng.multinomial(n, p / p.sum())
    return np.repeat(np.arange(len(p)), counts)


def flat(column: pa.ChunkedArray | pa.Array) -> pa.Array:
    """One contiguous array; free when there is a single chunk already."""
    if isinstance(column, pa.Array):
        return column
    return column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()


def _bits(mask: np.ndarray) -> pa.Buffer:
    return pa.py_buffer(np.packbits(mask, bitorder="little"))


def _validity(valid: np.ndarray | None) -> pa.Buffer | None:
    if valid is None:
        return None
    valid = np.asarray(valid, dtype=bool)
    return None if valid.all() else _bits(valid)


def _null_count(valid: np.ndarray | None) -> int:
    return 0 if valid is None else int(len(valid) - np.count_nonzero(valid))
