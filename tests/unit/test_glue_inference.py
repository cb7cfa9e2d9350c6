"""Crawler inference: tables, partitions, exclusions, formats and schemas (no network)."""

from __future__ import annotations

import datetime as dt
import decimal
import io

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from retailake.aws.s3 import split_s3_url
from retailake.local.glue import inference as inf


def _objects(*keys: str, size: int = 10) -> list[inf.S3Object]:
    return [inf.S3Object(k, size) for k in keys]


def test_one_table_per_target_with_hive_partitions_and_exclusions():
    objects = [*_objects(
        "sales/ingest_date=2025-01-01/a.csv",
        "sales/ingest_date=2025-01-02/b.csv",
        "sales/ingest_date=2025-01-02/_SUCCESS",
        "sales/_temporary/0/x.csv",
        "sales/ingest_date=2025-01-02/.hidden.csv",
        "sales/notes.txt",
    ), inf.S3Object("sales/ingest_date=2025-01-03/empty.csv", 0)]
    [table] = inf.group_tables("raw", "sales/", objects, ["**/_SUCCESS", "**/_temporary/**"])
    assert (table.name, table.location, table.format) == ("sales", "s3://raw/sales/", "csv")
    assert table.partition_keys == ("ingest_date",)
    assert table.partitions == {
        ("2025-01-01",): "s3://raw/sales/ingest_date=2025-01-01/",
        ("2025-01-02",): "s3://raw/sales/ingest_date=2025-01-02/",
    }
    assert [o.key for o in table.objects] == ["sales/ingest_date=2025-01-01/a.csv",
                                              "sales/ingest_date=2025-01-02/b.csv"]


def test_multi_level_partitions_and_table_prefix():
    objects = _objects("daily_store_sales/year=2025/month=01/part-0.snappy.parquet",
                       "daily_store_sales/year=2025/month=02/part-0.snappy.parquet")
    [table] = inf.group_tables("an", "daily_store_sales/", objects, table_prefix="x_")
    assert table.name == "x_daily_store_sales" and table.format == "parquet"
    assert table.partition_keys == ("year", "month")
    assert sorted(table.partitions) == [("2025", "01"), ("2025", "02")]


def test_target_holding_several_folders_gives_a_table_each():
    objects = _objects("Daily-Sales/p.parquet", "kpis/year=2025/p.parquet")
    tables = inf.group_tables("an", "", objects)
    assert [(t.name, t.location, t.partition_keys) for t in tables] == [
        ("daily_sales", "s3://an/Daily-Sales/", ()),
        ("kpis", "s3://an/kpis/", ("year",)),
    ]


def test_mixed_formats_keep_the_majority_and_warn():
    objects = _objects("inv/d=1/a.jsonl", "inv/d=2/b.jsonl", "inv/d=3/c.csv")
    [table] = inf.group_tables("raw", "inv/", objects)
    assert table.format == "json" and len(table.objects) == 2
    assert any("mixed formats" in w for w in table.warnings)


@pytest.mark.parametrize(("url", "expected"), [
    ("s3://b/raw/sales/", ("b", "raw/sales/")),
    ("s3://b/raw/sales", ("b", "raw/sales/")),
    ("s3://b", ("b", "")),
    ("s3a://b/", ("b", "")),
])
def test_split_s3_url(url, expected):
    assert split_s3_url(url) == expected


def test_csv_header_gives_string_columns_and_quoting():
    columns, quoted = inf.csv_columns(b'\xef\xbb\xbf"Order_ID","line_number", Store_Id\n"O1",1,S')
    assert columns == [("order_id", "string"), ("line_number", "string"),
                       ("store_id", "string")]
    assert quoted
    assert inf.csv_columns(b"a,b\n1,2\n") == ([("a", "string"), ("b", "string")], False)


def test_json_lines_keys_and_types_ignoring_a_cut_last_line():
    head = (b'{"snapshot_date": "2025-01-01", "qty": 3, "cost": 4, "ok": true, "brand": null}\n'
            b'{"snapshot_date": "2025-01-02", "qty": 5, "cost": 4.5, "extra": [1]}\n'
            b'{"snapshot_date": "2025-01-03", "qty": "')
    assert inf.json_columns(head) == [
        ("snapshot_date", "string"), ("qty", "bigint"), ("cost", "double"),
        ("ok", "boolean"), ("brand", "string"), ("extra", "string"),
    ]


def test_parquet_schema_from_the_footer_only():
    table = pa.table({
        "id": pa.array([1], pa.int32()), "n": pa.array([1], pa.int64()),
        "amount": pa.array([decimal.Decimal("1.25")], pa.decimal128(12, 2)),
        "day": pa.array([dt.date(2025, 1, 1)]), "ts": pa.array([dt.datetime(2025, 1, 1)]),
        "name": ["x"], "tags": [["a"]], "flag": [True], "ratio": [0.5],
    })
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    data = buffer.getvalue()
    reads = []

    def fetch(start: int, end: int) -> bytes:
        reads.append((start, end))
        return data[start:end + 1]

    assert inf.parquet_columns(fetch, len(data)) == [
        ("id", "int"), ("n", "bigint"), ("amount", "decimal(12,2)"), ("day", "date"),
        ("ts", "timestamp"), ("name", "string"), ("tags", "array<string>"),
        ("flag", "boolean"), ("ratio", "double"),
    ]
    assert len(reads) == 1


def test_hive_types_of_nested_arrow_types():
    nested = pa.struct([("a", pa.int16()), ("m", pa.map_(pa.string(), pa.float32()))])
    assert inf.hive_type(nested) == "struct<a:smallint,m:map<string,float>>"


def test_merge_new_columns_keeps_existing_and_follows_the_data_types():
    existing = [("customer_id", "string"), ("tenure_months", "int"), ("gone", "string")]
    inferred = [("customer_id", "string"), ("tenure_months", "bigint"), ("segment", "string")]
    assert inf.merge_into_existing(existing, inferred) == [
        ("customer_id", "string"), ("tenure_months", "bigint"), ("gone", "string"),
        ("segment", "string"),
    ]
    assert inf.merge_columns([[("a", "bigint")], [("a", "double"), ("b", "string")]]) == [
        ("a", "double"), ("b", "string")]


def test_storage_formats():
    assert inf.storage_format("parquet")["SerdeInfo"]["SerializationLibrary"].endswith(
        "ParquetHiveSerDe")
    assert inf.storage_format("json")["Parameters"] == {"classification": "json"}
    quoted = inf.storage_format("csv", quoted=True)
    assert quoted["SerdeInfo"]["SerializationLibrary"].endswith("OpenCSVSerde")
    assert quoted["Parameters"]["skip.header.line.count"] == "1"
    assert inf.storage_format("csv")["SerdeInfo"]["SerializationLibrary"].endswith(
        "LazySimpleSerDe")


def test_sample_keys_takes_oldest_and_newest():
    objects = _objects(*(f"t/d={i:02d}/f.csv" for i in range(10)))
    assert [o.key[4:6] for o in inf.sample_keys(objects, 5)] == ["00", "01", "07", "08", "09"]
