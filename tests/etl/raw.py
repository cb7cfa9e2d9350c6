"""Building raw input for ETL tests: rows as the reader would deliver them (all text), and
raw objects on the local file system in the bucket's layout; and reading what a job wrote."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from pyspark.sql import DataFrame, SparkSession
from retailake_etl.contract import CONTRACTS
from retailake_etl.read import raw_schema


def raw_rows(
    spark: SparkSession,
    source: str,
    rows: list[dict],
    *,
    file: str = "f1.csv",
    ingest: str = "2025-01-10",
) -> DataFrame:
    """Each dict a data row (missing columns null); row numbers follow list order unless a
    row gives `_row_number`; `_source_file` / `_ingest_date` may be given per row."""
    schema = raw_schema(CONTRACTS[source])
    records = []
    for number, row in enumerate(rows, start=1):
        ingest_date = row.get("_ingest_date", ingest)
        record: dict[str, Any] = {name: None for name in schema.fieldNames()}
        record.update(row)
        record["_source_file"] = row.get(
            "_source_file", f"{source}/ingest_date={ingest_date}/{file}"
        )
        record["_row_number"] = row.get("_row_number", number)
        record["_ingest_date"] = dt.date.fromisoformat(ingest_date)
        record["_uploaded_ms"] = row.get("_uploaded_ms", 0)
        records.append(tuple(record[name] for name in schema.fieldNames()))
    return spark.createDataFrame(records, schema)


def write_raw(root: Path, source: str, ingest: str, name: str, content: str | bytes) -> Path:
    path = root / source / f"ingest_date={ingest}" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return path


def collect(frame: DataFrame, *columns: str) -> list[tuple]:
    """Rows as sorted tuples of the given columns (all columns when none given)."""
    names = columns or tuple(frame.columns)
    return sorted(
        (tuple(row[name] for name in names) for row in frame.collect()),
        key=lambda r: tuple((v is None, str(v)) for v in r),
    )


def has_dictionary(path: Path, column: str) -> bool:
    """Whether a Parquet file stores `column` with a dictionary in any row group."""
    metadata = pq.ParquetFile(path).metadata
    index = metadata.schema.names.index(column)
    return any(
        metadata.row_group(g).column(index).has_dictionary_page
        for g in range(metadata.num_row_groups)
    )
