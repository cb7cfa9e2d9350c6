"""What a crawler infers from S3 listings and sample bytes: tables, format, schema, partitions.

Pure functions over keys and bytes (no network), so the rules are unit-tested directly. The
rules follow Glue's crawler closely enough for the lake's layout: one table per target folder
(or per first-level sub-folder when the target holds several), Hive `key=value/` partitions,
the format from the file extension, CSV columns as strings, JSON types from sample lines and
Parquet types from the file footer."""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

CSV, JSON, PARQUET = "csv", "json", "parquet"
_EXTENSIONS = (
    (".parquet", PARQUET), (".parq", PARQUET),
    (".csv", CSV), (".csv.gz", CSV), (".tsv", CSV),
    (".jsonl", JSON), (".json", JSON), (".ndjson", JSON), (".jsonl.gz", JSON), (".json.gz", JSON),
)
_NAME = re.compile(r"[^a-z0-9_]+")


@dataclass(frozen=True)
class S3Object:
    key: str
    size: int


@dataclass(frozen=True)
class TableGroup:
    """The objects of one table: its name, root location, format and partition keys."""

    name: str
    location: str
    format: str
    objects: tuple[S3Object, ...]
    partition_keys: tuple[str, ...] = ()
    partitions: dict[tuple[str, ...], str] = field(default_factory=dict)  # values -> location
    warnings: tuple[str, ...] = ()


def table_name(folder: str, prefix: str = "") -> str:
    """Glue's table naming: lower case, runs of other characters become '_'."""
    return prefix + _NAME.sub("_", folder.lower()).strip("_")


def file_format(key: str) -> str | None:
    lower = key.lower()
    for extension, fmt in _EXTENSIONS:
        if lower.endswith(extension):
            return fmt
    return None


def _glob_regex(pattern: str) -> re.Pattern[str]:
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out + r"\Z")


def excluded(relative_key: str, patterns: Sequence[str]) -> bool:
    """Crawler exclusion globs (relative to the include path); Spark's and hidden files too."""
    if any(part.startswith(("_", ".")) for part in relative_key.split("/")):
        return True
    return any(_glob_regex(p).match(relative_key) for p in patterns)


def _partition(segment: str) -> tuple[str, str] | None:
    key, sep, value = segment.partition("=")
    return (key, value) if sep and key else None


def group_tables(
    bucket: str, prefix: str, objects: Iterable[S3Object],
    exclusions: Sequence[str] = (), table_prefix: str = "",
) -> list[TableGroup]:
    """Split one S3 target's objects into tables.

    Objects directly under the target, or under `key=value/` folders, form one table named
    after the target folder; objects under other first-level folders form one table each."""
    roots: dict[str, list[tuple[S3Object, list[str]]]] = {}
    for obj in objects:
        relative = obj.key[len(prefix):]
        if obj.key.endswith("/") or obj.size == 0 or excluded(relative, exclusions):
            continue
        if file_format(obj.key) is None:
            continue
        dirs = relative.split("/")[:-1]
        root = "" if not dirs or _partition(dirs[0]) else dirs[0] + "/"
        roots.setdefault(root, []).append((obj, dirs if not root else dirs[1:]))
    folder_name = prefix.rstrip("/").rsplit("/", 1)[-1] or bucket
    return [
        _table_group(bucket, prefix + root, table_name(root.rstrip("/") or folder_name,
                                                       table_prefix), members)
        for root, members in sorted(roots.items())
    ]


def _table_group(
    bucket: str, root: str, name: str, members: list[tuple[S3Object, list[str]]]
) -> TableGroup:
    warnings: list[str] = []
    formats = Counter(file_format(obj.key) for obj, _ in members)
    fmt = formats.most_common(1)[0][0] or CSV
    if len(formats) > 1:
        warnings.append(f"{name}: mixed formats {dict(formats)}; cataloged as {fmt}")
    layouts = Counter(tuple(k for k, _ in _leading_partitions(d)) for _, d in members)
    keys = layouts.most_common(1)[0][0]
    chosen, partitions = [], {}
    for obj, dirs in members:
        pairs = _leading_partitions(dirs)
        if tuple(k for k, _ in pairs) != keys or file_format(obj.key) != fmt:
            continue
        chosen.append(obj)
        if pairs:
            path = "".join(f"{k}={v}/" for k, v in pairs)
            partitions[tuple(v for _, v in pairs)] = f"s3://{bucket}/{root}{path}"
    skipped = len(members) - len(chosen)
    if skipped:
        warnings.append(f"{name}: {skipped} object(s) outside the table's layout were ignored")
    return TableGroup(name, f"s3://{bucket}/{root}", fmt, tuple(chosen), keys, partitions,
                      tuple(warnings))


def _leading_partitions(dirs: Sequence[str]) -> list[tuple[str, str]]:
    pairs = []
    for segment in dirs:
        pair = _partition(segment)
        if pair is None:
            break
        pairs.append(pair)
    return pairs


# --------------------------------------------------------------------------- schemas

Column = tuple[str, str]  # (name, Hive type)


def csv_columns(head: bytes) -> tuple[list[Column], bool]:
    """Header columns (all strings, as the lake's raw contract reads them) and whether the
    file quotes its fields (then OpenCSVSerde reads it, else LazySimpleSerDe)."""
    text = head.decode("utf-8-sig", errors="replace")
    first = text.splitlines()[0] if text else ""
    names = next(csv.reader([first]), [])
    return [(_column(n), "string") for n in names if n.strip()], '"' in text


def _json_type(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "bigint"
    if isinstance(value, float):
        return "double"
    return "string"


def json_columns(head: bytes, max_lines: int = 50) -> list[Column]:
    """Keys of the first JSON lines in first-seen order, typed from their values."""
    types: dict[str, str | None] = {}
    lines = head.decode("utf-8", errors="replace").splitlines()
    complete = lines[:-1] if len(lines) > 1 and not head.endswith(b"\n") else lines
    for line in complete[:max_lines]:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if not isinstance(record, dict):
            continue
        for key, value in record.items():
            types[key] = _merge_types(types.get(key), _json_type(value))
    return [(_column(k), t or "string") for k, t in types.items()]


def _merge_types(old: str | None, new: str | None) -> str | None:
    if old is None or old == new:
        return new
    if new is None:
        return old
    if {old, new} == {"bigint", "double"}:
        return "double"
    return "string"


def hive_type(data_type: pa.DataType) -> str:
    """The Glue/Hive type name of an Arrow type."""
    simple = [
        (pa.types.is_boolean, "boolean"), (pa.types.is_int8, "tinyint"),
        (pa.types.is_int16, "smallint"), (pa.types.is_int32, "int"),
        (pa.types.is_integer, "bigint"), (pa.types.is_float16, "float"),
        (pa.types.is_float32, "float"), (pa.types.is_floating, "double"),
        (pa.types.is_date, "date"), (pa.types.is_timestamp, "timestamp"),
        (pa.types.is_binary, "binary"), (pa.types.is_large_binary, "binary"),
    ]
    for check, name in simple:
        if check(data_type):
            return name
    if pa.types.is_decimal(data_type):
        return f"decimal({data_type.precision},{data_type.scale})"
    if pa.types.is_list(data_type) or pa.types.is_large_list(data_type):
        return f"array<{hive_type(data_type.value_type)}>"
    if pa.types.is_map(data_type):
        return f"map<{hive_type(data_type.key_type)},{hive_type(data_type.item_type)}>"
    if pa.types.is_struct(data_type):
        fields = ",".join(f"{f.name}:{hive_type(f.type)}" for f in data_type)
        return f"struct<{fields}>"
    return "string"


def parquet_columns(fetch: Callable[[int, int], bytes], size: int) -> list[Column]:
    """Columns from a Parquet footer, read with at most two ranged reads.

    `fetch(start, end)` returns bytes start..end inclusive. The footer is the file's last
    `8 + footer length` bytes; prefixed with the magic it parses as a file of its own."""
    tail = fetch(max(0, size - 65536), size - 1)
    if len(tail) < 12 or tail[-4:] != b"PAR1":
        raise ValueError("not a Parquet file (no PAR1 footer)")
    footer_length = int.from_bytes(tail[-8:-4], "little")
    if footer_length + 8 > len(tail):
        tail = fetch(size - footer_length - 8, size - 1)
    schema = pq.read_schema(pa.BufferReader(b"PAR1" + tail[-(footer_length + 8):]))
    return [(_column(f.name), hive_type(f.type)) for f in schema]


def _column(name: str) -> str:
    return name.strip().lower()


def merge_columns(samples: Iterable[Sequence[Column]]) -> list[Column]:
    """Union of sampled schemas in first-seen order (CombineCompatibleSchemas)."""
    merged: dict[str, str] = {}
    for columns in samples:
        for name, kind in columns:
            merged[name] = kind if name not in merged else _merge_types(merged[name], kind) or kind
    return list(merged.items())


def merge_into_existing(existing: Sequence[Column], inferred: Sequence[Column]) -> list[Column]:
    """MergeNewColumns: keep every existing column (its type follows the data), add new ones."""
    found = dict(inferred)
    kept = [(name, found.get(name, kind)) for name, kind in existing]
    known = {name for name, _ in existing}
    return kept + [(name, kind) for name, kind in inferred if name not in known]


# --------------------------------------------------------------------------- descriptors

_TEXT_IN = "org.apache.hadoop.mapred.TextInputFormat"
_TEXT_OUT = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"


def storage_format(fmt: str, quoted: bool = False) -> dict[str, Any]:
    """InputFormat / OutputFormat / SerdeInfo and table parameters, as Glue's crawler sets them."""
    if fmt == PARQUET:
        return {
            "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
            "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
            "SerdeInfo": {
                "SerializationLibrary":
                    "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
                "Parameters": {"serialization.format": "1"},
            },
            "Parameters": {"classification": "parquet"},
        }
    if fmt == JSON:
        return {
            "InputFormat": _TEXT_IN, "OutputFormat": _TEXT_OUT,
            "SerdeInfo": {"SerializationLibrary": "org.openx.data.jsonserde.JsonSerDe",
                          "Parameters": {"paths": ""}},
            "Parameters": {"classification": "json"},
        }
    serde = (
        {"SerializationLibrary": "org.apache.hadoop.hive.serde2.OpenCSVSerde",
         "Parameters": {"separatorChar": ",", "quoteChar": '"', "escapeChar": "\\"}}
        if quoted else
        {"SerializationLibrary": "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe",
         "Parameters": {"field.delim": ","}}
    )
    return {
        "InputFormat": _TEXT_IN, "OutputFormat": _TEXT_OUT, "SerdeInfo": serde,
        "Parameters": {"classification": "csv", "delimiter": ",", "skip.header.line.count": "1"},
    }


def sample_keys(objects: Sequence[S3Object], count: int = 5) -> list[S3Object]:
    """A few objects to read a schema from: the oldest and newest keys catch schema drift."""
    ordered = sorted(objects, key=lambda o: o.key)
    if len(ordered) <= count:
        return ordered
    return ordered[: count // 2] + ordered[-(count - count // 2):]

