"""The file-level check that `ingest` runs before uploading, over the raw data contract.

The contract itself (columns, types, rules, reason codes) lives in `retailake_etl.contract`,
the library the Glue jobs load, so the CLI and the pipeline judge data by one definition.
Row-level rules (a negative price, a bad timestamp) are the pipeline's job: it quarantines
those rows with the reason codes defined here. A file is refused only when it cannot be
read at all, lacks a required column, or carries more of another source's columns than of its
own, because then none of its rows can be trusted."""

from __future__ import annotations

import codecs
import csv
import json
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.json as pajson
import pyarrow.parquet as pq
from retailake_etl.contract import (
    CONTRACTS,
    FORMATS,
    SOURCES,
    Column,
    ColumnType,
    Reason,
    SourceContract,
    contract_for,
)

__all__ = [
    "CONTRACTS",
    "FORMATS",
    "SOURCES",
    "Column",
    "ColumnType",
    "FileCheck",
    "FileProblem",
    "Reason",
    "SourceContract",
    "check_file",
    "contract_for",
]


class FileProblem(StrEnum):
    """Why `ingest` refuses a whole file."""

    UNSUPPORTED_FORMAT = "UNSUPPORTED_FORMAT"
    EMPTY_FILE = "EMPTY_FILE"
    UNPARSEABLE = "UNPARSEABLE"
    DUPLICATE_COLUMN = "DUPLICATE_COLUMN"
    MISSING_COLUMN = "MISSING_COLUMN"
    INCOMPATIBLE_TYPE = "INCOMPATIBLE_TYPE"
    OTHER_SOURCE = "OTHER_SOURCE"


_CSV_BLOCK = 16 << 20  # bytes pyarrow reads at once: a row must fit (its default is 1 MiB)
# Which Arrow types a Parquet column may carry for each contract type (text is always allowed).
_PARQUET_TYPES = {
    ColumnType.STRING: (pa.types.is_integer,),
    ColumnType.INT: (pa.types.is_integer,),
    ColumnType.DECIMAL: (pa.types.is_integer, pa.types.is_floating, pa.types.is_decimal),
    ColumnType.TIMESTAMP: (pa.types.is_timestamp, pa.types.is_date),
    ColumnType.DATE: (pa.types.is_date, pa.types.is_timestamp),
}


@dataclass
class FileCheck:
    """The verdict on one file: its rows and columns, or the problems that refuse it."""

    path: Path
    source: str
    format: str | None
    rows: int = 0
    columns: tuple[str, ...] = ()
    problems: list[tuple[FileProblem, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def reason(self) -> str:
        return "; ".join(message for _, message in self.problems)


def file_format(path: Path) -> str | None:
    """csv, jsonl or parquet from the file extension; None when unsupported."""
    return FORMATS.get(path.suffix.lower())


def check_file(path: Path, source: str) -> FileCheck:
    """Is the file readable, and does it carry every required column of `source`?"""
    contract = contract_for(source)
    check = FileCheck(path=path, source=source, format=file_format(path))
    if check.format is None:
        check.problems.append(
            (FileProblem.UNSUPPORTED_FORMAT, f"unsupported file type '{path.suffix}'")
        )
        return check
    if path.stat().st_size == 0:
        check.problems.append((FileProblem.EMPTY_FILE, "the file is empty"))
        return check
    reader = {"csv": _read_csv, "jsonl": _read_jsonl, "parquet": _read_parquet}[check.format]
    try:
        if check.format != "parquet":
            _refuse_non_utf8(path)
        check.rows, schema = reader(path)
    except (pa.ArrowException, OSError, UnicodeDecodeError, ValueError) as error:
        text = str(error).strip()
        message = text.splitlines()[0] if text else type(error).__name__
        check.problems.append(
            (FileProblem.UNPARSEABLE, f"not readable as {check.format}: {message}")
        )
        return check
    check.columns = tuple(schema.names)
    _check_columns(check, schema, contract)
    return check


def _check_columns(check: FileCheck, schema: pa.Schema, contract: SourceContract) -> None:
    names = [name.strip().lower() for name in schema.names]
    # A header (or Parquet schema) naming a column twice leaves it ambiguous; JSON lines'
    # names are every key of every line, and lines may spell a key differently (the
    # pipeline matches keys ignoring case, and of a key repeated in a line the last counts).
    # Nameless columns (a spreadsheet's trailing commas) are no column: the pipeline skips them.
    duplicated = sorted({name for name in names if name and names.count(name) > 1})
    if duplicated and check.format != "jsonl":
        listed = ", ".join(duplicated)
        check.problems.append(
            (FileProblem.DUPLICATE_COLUMN, f"duplicate columns (case-insensitive): {listed}")
        )
    missing = [name for name in contract.required if name not in names]
    if missing:
        check.problems.append(
            (FileProblem.MISSING_COLUMN, f"missing required columns: {', '.join(missing)}")
        )
    elif other := _fits_better(names, contract):
        check.problems.append((FileProblem.OTHER_SOURCE, other))
    if check.format != "parquet":
        return
    for name, arrow_field in zip(schema.names, schema, strict=True):
        if unreadable := _beyond_spark(arrow_field.type):
            check.problems.append((FileProblem.INCOMPATIBLE_TYPE, f"column {name} {unreadable}"))
    known = {c.name for c in contract.columns}
    for name, arrow_field in zip(names, schema, strict=True):
        kind = arrow_field.type
        if pa.types.is_dictionary(kind):  # pandas' categoricals: Spark reads the values
            kind = kind.value_type
        if name not in known or pa.types.is_string(kind) or pa.types.is_large_string(kind):
            continue
        expected = contract.column(name).type
        if not pa.types.is_null(kind) and not any(ok(kind) for ok in _PARQUET_TYPES[expected]):
            check.problems.append(
                (FileProblem.INCOMPATIBLE_TYPE, f"column {name} is {kind}, expected {expected}")
            )


def _beyond_spark(kind: pa.DataType) -> str | None:
    """Why Spark 3.5 (Glue 5) cannot read a Parquet column of this type, which would fail the
    whole job that reads the file, whatever the column: None when it can."""
    if pa.types.is_timestamp(kind) and kind.unit == "ns":
        return ("holds nanosecond timestamps, which Spark cannot read: write microseconds "
                "(pandas `to_parquet(..., coerce_timestamps='us')`)")  # fmt: skip
    if pa.types.is_time(kind):
        return f"is {kind}, a time of day, which Spark cannot read: write it as text"
    if pa.types.is_float16(kind):
        return "is a 16-bit float, which Spark cannot read: write float32 or float64"
    if isinstance(kind, pa.BaseExtensionType) and kind.extension_name == "arrow.uuid":
        return "holds UUIDs (Parquet's UUID type), which Spark cannot read: write them as text"
    if pa.types.is_decimal(kind) and kind.precision > 38:
        return f"is {kind}, more digits than Spark's 38: write at most decimal(38, s) or text"
    nested = [kind.field(i).type for i in range(kind.num_fields)]  # struct, list, map
    return next(filter(None, map(_beyond_spark, nested)), None)


def _fits_better(names: list[str], contract: SourceContract) -> str | None:
    """Another source whose stricter contract the file meets: a sales file given as customers
    has customers' one required column (customer_id) and would pass, and its rows would then
    blank those customers' names and addresses. A source fits better when the file has all
    of its required columns and they are more (then: more of its columns in all); extra
    columns alone are allowed, so a sales file that carries customers' columns is sales."""

    def carried(other: SourceContract) -> int:
        return sum(column.name in names for column in other.columns)

    def fit(other: SourceContract) -> tuple[int, int]:
        return len(other.required), carried(other)

    fitting = [
        other for other in CONTRACTS.values()
        if other is not contract and all(name in names for name in other.required)
    ]  # fmt: skip
    best = max(fitting, key=fit, default=None)
    if best is None or fit(best) <= fit(contract):
        return None
    return (
        f"its columns fit the {best.name} contract ({carried(best)} of {len(best.columns)}), "
        f"not the {contract.name} one ({carried(contract)} of {len(contract.columns)}): "
        f"ingest it with --source {best.name}"
    )


def _refuse_non_utf8(path: Path) -> None:
    """Text files must be UTF-8, said by line: pyarrow's JSON reader let a stray Latin-1 byte
    through, and the lake got U+FFFD in place of a letter (a CSV's error gave a byte offset)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    line = 1
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 24), b""):
            try:
                decoder.decode(block)
            except UnicodeDecodeError as error:
                line += block.count(b"\n", 0, max(error.start, 0))
                byte = error.object[error.start]
                raise ValueError(f"line {line} is not UTF-8 text (byte 0x{byte:02x}): save the "
                                 "file as UTF-8") from None
            line += block.count(b"\n")
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise ValueError(f"line {line} ends the file inside a UTF-8 character") from None


def _read_csv(path: Path) -> tuple[int, pa.Schema]:
    """Every value as text (types are row-level); lines with the wrong field count are
    skipped: they are the pipeline's MALFORMED_LINE rows, not a reason to refuse the file.
    The rows are counted as the pipeline reads them, a line each (`_data_lines`)."""
    # utf-8-sig: a byte-order mark is not part of the first name (pyarrow drops it too)
    with path.open(encoding="utf-8-sig", newline="") as handle:
        header = next(csv.reader([handle.readline()]), [])
    if not any(name.strip() for name in header):
        raise ValueError("no header line")
    try:
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(block_size=_CSV_BLOCK),
            parse_options=pacsv.ParseOptions(invalid_row_handler=lambda _row: "skip"),
            convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(header, pa.string())),
        )
    except pa.ArrowInvalid as error:
        if "straddl" not in str(error):  # pyarrow's words for a row longer than a block
            raise
        raise ValueError(f"a row is longer than {_CSV_BLOCK:,} bytes") from None
    _refuse_line_breaks(table)
    return _data_lines(path), table.schema


def _data_lines(path: Path) -> int:
    """The pipeline's rows of a CSV file: its lines after the header that hold more than
    spaces. Not pyarrow's rows: an unclosed quote makes it read on into the next line, and
    count the two as one bad row where the pipeline quarantines one line and keeps the next."""
    with path.open(encoding="utf-8", errors="replace", newline=None) as handle:  # any line end
        next(handle, None)
        return sum(1 for line in handle if line.strip(" \n"))


def _refuse_line_breaks(table: pa.Table) -> None:
    """The pipeline reads CSV one line at a time (that is how it numbers rows and quarantines
    a bad line alone), so a quoted value holding a line break would reach it as pieces, each
    quarantined as MALFORMED_LINE, and the row lost to the lake: refused here instead."""
    for name, values in zip(table.column_names, table.columns, strict=True):
        if not pa.types.is_string(values.type):  # a column the header did not name as text
            continue
        broken = pc.match_substring_regex(values, "[\r\n]")
        if pc.any(broken).as_py():
            row = pc.index(broken, True).as_py() + 1
            raise ValueError(
                f"row {row} holds a line break inside its quoted {name.strip()!r} value: "
                "the raw contract reads one row per line; export the file without line "
                "breaks in values"
            )


def _read_jsonl(path: Path) -> tuple[int, pa.Schema]:
    """Fast path with pyarrow; on a bad line, a line-by-line pass that keeps the good lines,
    so a few MALFORMED_LINE rows do not refuse the file but a non-JSON file does."""
    try:
        table = pajson.read_json(path)
        return table.num_rows, table.schema
    except pa.ArrowInvalid:
        pass
    names: dict[str, None] = {}
    rows = parsed = 0
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            rows += 1
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(record, dict):
                parsed += 1
                names.update(dict.fromkeys(record))
    if parsed == 0:
        raise ValueError("no line is a JSON object")
    return rows, pa.schema([(name, pa.string()) for name in names])


def _read_parquet(path: Path) -> tuple[int, pa.Schema]:
    # INT96 timestamps (Spark's, Hive's, Glue's default) as microseconds, as Spark reads them:
    # pyarrow's default would make them nanosecond timestamps, which `_beyond_spark` refuses
    with pq.ParquetFile(path, coerce_int96_timestamp_unit="us") as parquet:
        return parquet.metadata.num_rows, parquet.schema_arrow
