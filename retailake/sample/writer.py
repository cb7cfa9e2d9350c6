"""Files on disk, one per source and day, in CSV, JSON lines or Parquet: byte-identical for
identical tables (no timestamps, no per-run metadata), written column-wise with pyarrow."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from retailake.contract import ColumnType, contract_for
from retailake.sample.arrays import as_text, bools, concat, flat, text, texts

EXTENSIONS = {"csv": "csv", "jsonl": "jsonl", "parquet": "parquet"}
_NUMERIC = (ColumnType.INT, ColumnType.DECIMAL)
_NUMBER = r"^-?[0-9]+(\.[0-9]+)?$"
_NULL = text("null")
# JSON lines are encoded a few files at a time, about this many rows: fewer compute calls than
# one file at a time, and faster than one pass over everything (the pieces stay in cache).
_JSONL_ROWS = 1 << 14


@dataclass(frozen=True)
class WrittenFile:
    source: str
    key: str  # the object key in the raw bucket, and the path below the output folder
    path: Path
    format: str
    rows: int
    bytes: int


def object_key(source: str, day: dt.date, seed: int, fmt: str) -> str:
    """`<source>/ingest_date=YYYY-MM-DD/<source>-YYYY-MM-DD-seed<seed>.<ext>`: the seed in the
    name keeps two samples apart; the same seed lands on the same keys (no duplicates)."""
    return f"{source}/ingest_date={day}/{source}-{day}-seed{seed}.{EXTENSIONS[fmt]}"


def write_source(
    out_dir: Path,
    source: str,
    table: pa.Table,
    file_starts: np.ndarray,
    file_days: list[dt.date],
    fmt: str,
    seed: int,
    malformed_at: np.ndarray,
    malformed_text: pa.Array,
) -> list[WrittenFile]:
    """One file per run of rows starting at each of `file_starts` (a zero-copy slice of the
    table each); malformed lines replace the rows at `malformed_at` (sorted; CSV and JSON
    lines only)."""
    bounds = np.append(file_starts, table.num_rows)
    cuts = np.searchsorted(malformed_at, bounds)  # the malformed lines of file i: cuts[i]:cuts[i+1]
    replacements = [line.encode() for line in malformed_text.to_pylist()]
    jsonl, jsonl_start = texts([]), 0
    written = []
    for index, day in enumerate(file_days):
        start, stop = int(bounds[index]), int(bounds[index + 1])
        key = object_key(source, day, seed, fmt)
        path = out_dir / key
        path.parent.mkdir(parents=True, exist_ok=True)
        # written under a hidden name (which the pipeline and ingest skip), then renamed: an
        # interrupted run leaves no half a file under the real name
        partial = path.with_name(f".{path.name}.part")
        part = table.slice(start, stop - start)
        first, last = int(cuts[index]), int(cuts[index + 1])
        rows, lines = malformed_at[first:last] - start, replacements[first:last]
        if fmt == "parquet":
            pq.write_table(part, partial, compression="snappy")
        elif fmt == "jsonl":
            if stop > jsonl_start + len(jsonl):  # the lines of this file and the next few at once
                group = int(np.searchsorted(bounds, start + _JSONL_ROWS, side="right")) - 1
                jsonl_start, end = start, max(stop, int(bounds[group]))
                past = int(np.searchsorted(malformed_at, end))
                jsonl = _jsonl_lines(
                    source, table.slice(start, end - start), malformed_at[first:past] - start,
                    malformed_text.slice(first, past - first),
                )
            lines_of_file = jsonl.slice(start - jsonl_start, stop - start)
            partial.write_bytes(memoryview(_string_bytes(lines_of_file)))
        else:
            _write_csv(partial, part, rows, lines)
        partial.replace(path)
        written.append(WrittenFile(source, key, path, fmt, stop - start, path.stat().st_size))
    return written


def _write_csv(path: Path, table: pa.Table, malformed_rows: np.ndarray, lines: list[bytes]) -> None:
    """The table as CSV, with a malformed line in place of each row of `malformed_rows`
    (sorted): one pyarrow CSV writer writes the runs of rows between them straight to the
    file (it buffers nothing between writes), the lines go in between."""
    if not len(malformed_rows):
        pacsv.write_csv(table, path)
        return
    with pa.OSFile(str(path), "wb") as sink:
        writer = pacsv.CSVWriter(sink, table.schema)  # the header goes out first
        start = 0
        for row, line in zip(malformed_rows.tolist(), lines, strict=True):
            writer.write_table(table.slice(start, row - start))
            sink.write(line + b"\n")
            start = row + 1
        writer.write_table(table.slice(start))
        writer.close()


def _jsonl_lines(
    source: str, table: pa.Table, malformed_rows: np.ndarray, malformed_text: pa.Array
) -> pa.Array:
    """Every row as one JSON object and a newline: numbers bare, text quoted, null as null.

    One element-wise join over all columns; the names, separators and, for text without
    nulls, the quotes are literals of the join rather than passes over the column."""
    contract = contract_for(source)
    parts: list[pa.Array | str] = []
    literal = "{"
    for index, name in enumerate(table.column_names):
        column = flat(table[name])
        literal += ("" if index == 0 else ", ") + f'"{name}": '
        numeric = contract.column(name).type in _NUMERIC
        if numeric and not pa.types.is_string(column.type):
            encoded = as_text(column)
        elif not numeric and column.null_count == 0:
            parts += [literal + '"', _escape(as_text(column))]
            literal = '"'
            continue
        else:
            values = as_text(column)
            encoded = quoted = concat('"', _escape(values), '"')
            if numeric:  # a number column holding text (a BAD_TYPE value) quotes only that
                encoded = pc.if_else(pc.match_substring_regex(values, _NUMBER), values, quoted)
        parts += [literal, pc.fill_null(encoded, _NULL) if encoded.null_count else encoded]
        literal = ""
    lines = concat(*parts, literal + "}\n")
    if len(malformed_rows):
        mask = np.zeros(len(lines), dtype=bool)
        mask[malformed_rows] = True
        lines = pc.replace_with_mask(lines, bools(mask), concat(malformed_text, "\n"))
    return lines


def _escape(values: pa.Array) -> pa.Array:
    """JSON string escaping of backslashes and quotes (the only ones the data can hold);
    a scan, no copy, when there are none."""
    if not pc.any(pc.match_substring_regex(values, r'["\\]')).as_py():
        return values
    return pc.replace_substring(pc.replace_substring(values, "\\", "\\\\"), '"', '\\"')


def _string_bytes(lines: pa.Array) -> pa.Buffer:
    """The concatenated bytes of all lines, a view on the Arrow buffer (no copy)."""
    offsets = np.frombuffer(lines.buffers()[1], np.int32, len(lines) + 1, lines.offset * 4)
    return lines.buffers()[2].slice(int(offsets[0]), int(offsets[-1] - offsets[0]))
