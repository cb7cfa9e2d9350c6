"""The column builders agree with plain Python formatting, and keep pandas out."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pyarrow as pa
import pytest

from retailake.sample.arrays import (
    as_text,
    clock_bytes,
    decimal,
    digits,
    ids,
    ints,
    iso_dates,
    numbers,
    share_draws,
    texts,
    with_nulls,
)


def test_ids_and_digits_match_python_formatting():
    values = np.array([0, 1, 42, 9999, 10_000, 123_456_789, 999_999_999])
    assert ids("O", values, 9).to_pylist() == [f"O{v:09d}" for v in values]
    assert digits(np.array([7, 99]), 2).tobytes() == b"0799"
    wide = np.array([10**11 + 5, 0])
    assert digits(wide, 12).tobytes() == b"".join(f"{v:012d}".encode() for v in wide)
    with pytest.raises(ValueError):
        digits(np.array([1000]), 3)
    with pytest.raises(ValueError):
        digits(np.array([-1]), 3)


def test_dates_and_times_of_day():
    import datetime as dt

    days = [dt.date(2025, 12, 30), dt.date(2025, 12, 31)]
    assert iso_dates(days, np.array([1, 0])).to_pylist() == ["2025-12-31", "2025-12-30"]
    clock = clock_bytes()
    assert [clock[s].tobytes() for s in (0, 3661, 86_399)] == [b"00:00:00", b"01:01:01",
                                                                b"23:59:59"]


def test_nulls_numbers_and_text():
    values = with_nulls(texts(["a", "b", "c"]), np.array([False, True, False]))
    assert values.to_pylist() == ["a", None, "c"]
    assert with_nulls(values, np.array([True, False, False])).to_pylist() == [None, None, "c"]
    assert texts([]).to_pylist() == []
    indexes = pa.chunked_array([[5, None, 7]], pa.int32()).chunk(0)
    assert numbers(indexes, missing=-1).tolist() == [5, -1, 7]
    assert numbers(ints(np.arange(6)).slice(2, 3)).tolist() == [2, 3, 4]
    prices = decimal(np.array([1299, -450, 5]), 12, 2).take(ints(np.arange(9000) % 3))
    assert as_text(prices).to_pylist()[:3] == ["12.99", "-4.50", "0.05"]
    assert as_text(ints(np.array([3, -1]))).to_pylist() == ["3", "-1"]


def test_share_draws_follow_the_shares():
    draws = share_draws(np.random.default_rng(1), 200_000, (0.7, 0.2, 0.1))
    assert np.allclose(np.bincount(draws) / len(draws), (0.7, 0.2, 0.1), atol=0.01)
    with pytest.raises(ValueError):
        share_draws(np.random.default_rng(1), 10, (0.5, 0.4))


def test_generating_does_not_import_pandas(tmp_path):
    """pandas costs a few tenths of a second to import; `pa.array` and `pa.scalar` pull it in."""
    script = (
        "import sys, pathlib\n"
        "from retailake.sample import SampleSpec, generate\n"
        f"generate(SampleSpec(sales_lines=500, days=10), pathlib.Path({str(tmp_path)!r}))\n"
        "print('pandas' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "False"
