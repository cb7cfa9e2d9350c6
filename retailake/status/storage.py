"""Storage: objects and bytes per layer and top-level folder, and the rejected rows waiting in
the staged layer's quarantine (`_rejects/<source>/`), counted from the Parquet footers."""

from __future__ import annotations

import contextlib
from collections import defaultdict
from pathlib import Path
from typing import Any

from retailake.aws.s3 import iter_objects
from retailake.jsonfile import read_json_object, write_json_atomic
from retailake.parallel import parallel_map
from retailake.status.context import Context
from retailake.status.model import LayerStorage, RejectedRows, StorageStatus, Usage

LAYERS = ("raw", "staged", "analytics")
REJECTS_PREFIX = "_rejects/"
# A Parquet file ends with its footer, then the footer's length (4 bytes) and b"PAR1".
_TAIL_BYTES = 64 * 1024
# Thrift compact protocol type codes, and FileMetaData's num_rows field.
_STOP, _TRUE, _FALSE, _BYTE, _I16, _I32, _I64, _DOUBLE, _BINARY = range(9)
_LIST, _SET, _MAP, _STRUCT = 9, 10, 11, 12
_NUM_ROWS = 3


def _layer(s3: Any, layer: str, bucket: str) -> tuple[LayerStorage, list[dict[str, Any]]]:
    """The layer's usage, and its objects (the staged layer's rejects are counted from them)."""
    objects = list(iter_objects(s3, bucket))
    by_prefix: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for item in objects:
        counts = by_prefix[item["Key"].split("/", 1)[0]]
        counts[0] += 1
        counts[1] += item["Size"]
    prefixes = {name: Usage(*counts) for name, counts in sorted(by_prefix.items())}
    total = Usage(len(objects), sum(item["Size"] for item in objects))
    return LayerStorage(layer, bucket, total, prefixes), objects


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def _skip(data: bytes, pos: int, kind: int, in_container: bool = False) -> int:
    """Past one value of Thrift compact type `kind` (the types Parquet's footer uses)."""
    if kind in (_TRUE, _FALSE):  # a field's bool lives in its header; a list's takes a byte
        return pos + 1 if in_container else pos
    if kind == _BYTE:
        return pos + 1
    if kind in (_I16, _I32, _I64):
        return _varint(data, pos)[1]
    if kind == _DOUBLE:
        return pos + 8
    if kind == _BINARY:
        size, pos = _varint(data, pos)
        return pos + size
    if kind in (_LIST, _SET):
        size, element = data[pos] >> 4, data[pos] & 0x0F
        pos += 1
        if size == 15:
            size, pos = _varint(data, pos)
        for _ in range(size):
            pos = _skip(data, pos, element, in_container=True)
        return pos
    if kind == _MAP:
        size, pos = _varint(data, pos)
        if size:
            types = data[pos]
            pos += 1
            for _ in range(size):
                pos = _skip(data, pos, types >> 4, in_container=True)
                pos = _skip(data, pos, types & 0x0F, in_container=True)
        return pos
    if kind == _STRUCT:
        while (header := data[pos]) != _STOP:
            pos += 1
            if header >> 4 == 0:  # long form: the field id follows as a varint
                pos = _varint(data, pos)[1]
            pos = _skip(data, pos, header & 0x0F)
        return pos + 1
    raise ValueError(f"unknown Thrift compact type {kind}")


def parquet_rows(tail: bytes) -> int:
    """Rows in a Parquet file, from its last bytes (the whole footer must be among them).

    The footer is a Thrift FileMetaData whose field 3 is num_rows: read here directly, as
    pyarrow would cost status more time to import than every other part of it together."""
    if len(tail) < 12 or tail[-4:] != b"PAR1":
        raise ValueError("not a Parquet file")
    length = int.from_bytes(tail[-8:-4], "little")
    if length + 8 > len(tail):
        raise ValueError("footer larger than the bytes read")
    data, pos, field_id = tail[-(length + 8):-8], 0, 0
    try:
        while (header := data[pos]) != _STOP:
            pos += 1
            delta, kind = header >> 4, header & 0x0F
            if delta:
                field_id += delta
            else:
                field_id, pos = _varint(data, pos)
                field_id = _zigzag(field_id)
            if field_id == _NUM_ROWS and kind == _I64:
                return _zigzag(_varint(data, pos)[0])
            pos = _skip(data, pos, kind)
    except IndexError:
        raise ValueError("truncated Parquet footer") from None
    raise ValueError("Parquet footer without num_rows")


def _zigzag(value: int) -> int:
    return (value >> 1) ^ -(value & 1)


def _file_rows(s3: Any, bucket: str, item: dict[str, Any]) -> int:
    """One ranged GET per file: its tail, which holds the footer of any reject file."""
    size = item["Size"]
    answer = s3.get_object(Bucket=bucket, Key=item["Key"],
                           Range=f"bytes={max(0, size - _TAIL_BYTES)}-{size - 1}")
    tail = answer["Body"].read()
    try:
        return parquet_rows(tail)
    except ValueError:
        whole = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
        return parquet_rows(whole)


def _load_counts(path: Path) -> dict[str, list[Any]]:
    try:
        return read_json_object(path)
    except ValueError:  # a cache: a damaged one is counted afresh
        return {}


def rejected_rows(s3: Any, bucket: str, objects: list[dict[str, Any]],
                  cache: Path) -> list[RejectedRows]:
    """Rejected rows per source: every Parquet file under `_rejects/<source>/`.

    A file's count is kept in `cache` under its key and ETag: a reject file is rewritten only
    when its raw object is read again, so after the first status nearly nothing is fetched."""
    files = [item for item in objects if item["Key"].startswith(REJECTS_PREFIX)
             and item["Key"].endswith(".parquet") and item["Size"] > 0]
    known = _load_counts(cache)
    counts = {item["Key"]: known[item["Key"]] for item in files
              if known.get(item["Key"], [None])[0] == item["ETag"]}
    missing = [item for item in files if item["Key"] not in counts]
    fetched = parallel_map(lambda item: _file_rows(s3, bucket, item), missing)
    counts.update({item["Key"]: [item["ETag"], n] for item, n in zip(missing, fetched,
                                                                       strict=True)})
    if counts != known:  # a cache only: a home it cannot be written to costs time, not the report
        with contextlib.suppress(OSError):
            write_json_atomic(cache, counts)
    rows = [counts[item["Key"]][1] for item in files]
    per_source: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for item, count in zip(files, rows, strict=True):
        source = item["Key"][len(REJECTS_PREFIX):].split("/", 1)[0]
        per_source[source][0] += 1
        per_source[source][1] += count
    return [RejectedRows(source, files, rows) for source, (files, rows) in
            sorted(per_source.items())]


def collect_storage(context: Context) -> StorageStatus:
    s3 = context.client("s3")
    buckets = context.outputs.buckets
    read = parallel_map(lambda layer: _layer(s3, layer, buckets[layer]), LAYERS)
    staged_objects = read[LAYERS.index("staged")][1]
    return StorageStatus(
        layers=[layer for layer, _ in read],
        rejected=rejected_rows(s3, buckets["staged"], staged_objects,
                               context.env.state_dir / "status" / "reject-counts.json"),
    )
