"""The manifest lists exactly the rows a contract-following reader rejects, and every other
row conforms. The reader here is written from DESIGN.md, independently of the generator."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from retailake.sample import SampleSpec, generate

REQUIRED = {
    "sales": ["order_id", "line_number", "order_ts", "store_id", "product_id", "quantity",
              "unit_price"],
    "inventory": ["snapshot_date", "store_id", "product_id", "product_name", "category",
                  "quantity_on_hand", "unit_cost"],
    "customers": ["customer_id"],
}
KEYS = {
    "sales": ["order_id", "line_number"],
    "inventory": ["snapshot_date", "store_id", "product_id"],
    "customers": ["customer_id"],
}
INTS = {"sales": ["line_number", "quantity"],
        "inventory": ["quantity_on_hand", "quantity_on_order", "reorder_point"], "customers": []}
DECIMALS = {"sales": ["unit_price", "discount_pct"], "inventory": ["unit_cost"], "customers": []}
TIMES = {"sales": ["order_ts"], "inventory": ["snapshot_date"],
         "customers": ["birth_date", "signup_date"]}


def read_source(root: Path, source: str) -> tuple[pd.DataFrame, set[tuple[str, int]]]:
    """All rows of a source as text with (file, row), and the (file, row) of malformed lines."""
    frames, malformed = [], set()
    for path in sorted((root / source).rglob("*.*")):
        key = path.relative_to(root).as_posix()
        if path.suffix == ".parquet":
            frame = pq.read_table(path).to_pandas().astype(object)
            frame = frame.where(frame.isna(), frame.astype(str))
            records = frame.to_dict("records")
        elif path.suffix == ".csv":
            with path.open(newline="") as handle:
                header, *lines = list(csv.reader(handle))
            records = []
            for number, values in enumerate(lines, start=1):
                if len(values) != len(header):
                    malformed.add((key, number))
                    records.append({})
                else:
                    pairs = zip(header, values, strict=True)
                    records.append({h: (v if v != "" else None) for h, v in pairs})
        else:
            records = []
            for number, line in enumerate(path.read_text().splitlines(), start=1):
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    malformed.add((key, number))
                    record = {}
                records.append({k: None if v is None else str(v) for k, v in record.items()})
        frame = pd.DataFrame.from_records(records)
        frame["_file"], frame["_row"] = key, range(1, len(records) + 1)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True), malformed


def expected_rejects(frame: pd.DataFrame, malformed: set, source: str) -> dict:
    """(file, row) -> reason, following the contract's rules."""
    reason = pd.Series(None, index=frame.index, dtype=object)

    def mark(mask: pd.Series, code: str) -> None:
        reason[mask & reason.isna()] = code

    places = list(zip(frame["_file"], frame["_row"], strict=True))
    is_malformed = pd.Series([place in malformed for place in places], index=frame.index)
    mark(is_malformed, "MALFORMED_LINE")
    for name in REQUIRED[source]:
        mark(frame[name].isna(), "MISSING_REQUIRED")
    for name in INTS[source]:
        mark(frame[name].notna() & ~frame[name].str.fullmatch(r"-?\d+").eq(True),
             "BAD_TYPE")
    for name in DECIMALS[source]:
        mark(frame[name].notna() & ~frame[name].str.fullmatch(r"-?\d+(\.\d+)?").eq(True),
             "BAD_TYPE")
    for name in TIMES[source]:
        parsed = pd.to_datetime(frame[name], format="ISO8601", errors="coerce")
        mark(frame[name].notna() & parsed.isna(), "BAD_TIMESTAMP")

    def number(name: str) -> pd.Series:
        return pd.to_numeric(frame[name], errors="coerce")

    if source == "sales":
        mark(number("unit_price") < 0, "NEGATIVE_PRICE")
        mark((number("discount_pct") < 0) | (number("discount_pct") > 1), "DISCOUNT_OUT_OF_RANGE")
        mark(number("quantity") == 0, "ZERO_QUANTITY")
        mark(number("line_number") < 1, "INVALID_VALUE")
        mark(frame["channel"].notna() & ~frame["channel"].isin(["store", "online", "mobile"]),
             "INVALID_VALUE")
    if source == "inventory":
        mark(number("unit_cost") < 0, "NEGATIVE_PRICE")
        for name in ("quantity_on_hand", "quantity_on_order", "reorder_point"):
            mark(number(name) < 0, "NEGATIVE_QUANTITY")
    # Updates of a customer in a later delivery are legitimate; within one file they are not.
    scope = KEYS[source] + (["_file"] if source == "customers" else [])
    valid = reason.isna()
    seen = frame[valid].duplicated(subset=scope, keep="first")
    mark(seen.reindex(frame.index, fill_value=False), "DUPLICATE_KEY")
    rejected = reason.notna()
    where = zip(frame["_file"][rejected], frame["_row"][rejected], strict=True)
    return dict(zip(where, reason[rejected], strict=True))


def manifest_rejects(manifest: dict, source: str) -> dict:
    return {(e["file"], e["row"]): e["reason"] for e in manifest["dirty_rows"]
            if e["source"] == source}


@pytest.fixture(scope="module", params=["default", "parquet"])
def sample(request, tmp_path_factory):
    formats = ({"sales": "csv", "inventory": "jsonl", "customers": "csv"}
               if request.param == "default"
               else {"sales": "parquet", "inventory": "parquet", "customers": "jsonl"})
    root = tmp_path_factory.mktemp(request.param)
    spec = SampleSpec(sales_lines=6000, seed=11, dirty_rate=0.02, days=60, formats=formats)
    generate(spec, root)
    return root, json.loads((root / "_manifest" / "seed-11.json").read_text()), formats


@pytest.mark.parametrize("source", ["sales", "inventory", "customers"])
def test_manifest_lists_exactly_the_rejected_rows(sample, source):
    root, manifest, _ = sample
    frame, malformed = read_source(root, source)
    expected = expected_rejects(frame, malformed, source)
    assert expected == manifest_rejects(manifest, source)
    assert expected, "some dirty rows were injected"


@pytest.mark.parametrize("source", ["sales", "inventory", "customers"])
def test_every_dirty_kind_is_injected(sample, source):
    _, manifest, formats = sample
    kinds = {"sales": {"MISSING_REQUIRED", "BAD_TYPE", "NEGATIVE_PRICE", "ZERO_QUANTITY",
                       "DISCOUNT_OUT_OF_RANGE", "BAD_TIMESTAMP", "DUPLICATE_KEY"},
             "inventory": {"MISSING_REQUIRED", "BAD_TYPE", "NEGATIVE_PRICE", "NEGATIVE_QUANTITY",
                           "BAD_TIMESTAMP", "DUPLICATE_KEY"},
             "customers": {"MISSING_REQUIRED", "BAD_TIMESTAMP", "DUPLICATE_KEY"}}[source]
    if formats[source] != "parquet":
        kinds.add("MALFORMED_LINE")
    assert set(manifest_rejects(manifest, source).values()) == kinds


def test_dirty_share_and_duplicate_pointer(sample):
    root, manifest, _ = sample
    for source, totals in manifest["sources"].items():
        entries = [e for e in manifest["dirty_rows"] if e["source"] == source]
        assert len(entries) == round(0.02 * totals["rows"])
    frame, _ = read_source(root, "sales")
    rows = frame.set_index(["_file", "_row"])
    for entry in manifest["dirty_rows"]:
        if entry["source"] == "sales" and entry["kind"] == "duplicate_key":
            copy = rows.loc[(entry["file"], entry["row"])]
            original = rows.loc[(entry["file"], entry["duplicate_of_row"])]
            assert copy.equals(original)


def test_clean_keys_are_unique_across_files(sample):
    root, _, _ = sample
    for source in ("sales", "inventory"):
        frame, malformed = read_source(root, source)
        rejected = set(expected_rejects(frame, malformed, source))
        places = zip(frame["_file"], frame["_row"], strict=True)
        clean = frame[[place not in rejected for place in places]]
        assert not clean.duplicated(subset=KEYS[source]).any()
