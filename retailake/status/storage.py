"""Storage: objects and bytes per layer and top-level folder, and the rejected rows waiting in
the staged layer's quarantine (`_rejects/<source>/`), counted from the Parquet footers."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from retailake.aws.s3 import iter_objects
from retailake.status.context import Context, parallel_map
from retailake.status.model import LayerStorage, RejectedRows, StorageStatus, Usage

LAYERS = ("raw", "staged", "analytics")
REJECTS_PREFIX = "_rejects/"
# A Parquet file ends with its footer, then the footer's length (4 bytes) and b"PAR1".
_TAIL_BYTES = 64 * 1024


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


def parquet_rows(tail: bytes) -> int:
    """Rows in a Parquet file, from its last bytes (the whole footer must be among them)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if len(tail) < 12 or tail[-4:] != b"PAR1":
        raise ValueError("not a Parquet file")
    footer_length = int.from_bytes(tail[-8:-4], "little")
    if footer_length + 8 > len(tail):
        raise ValueError("footer larger than the bytes read")
    # The metadata alone, framed as a file: what read_metadata parses of a real one.
    framed = b"PAR1" + tail[-(footer_length + 8):]
    return pq.read_metadata(pa.BufferReader(framed)).num_rows


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


def rejected_rows(s3: Any, bucket: str, objects: list[dict[str, Any]]) -> list[RejectedRows]:
    """Rejected rows per source: every Parquet file under `_rejects/<source>/`."""
    files = [item for item in objects if item["Key"].startswith(REJECTS_PREFIX)
             and item["Key"].endswith(".parquet") and item["Size"] > 0]
    rows = parallel_map(lambda item: _file_rows(s3, bucket, item), files)
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
        rejected=rejected_rows(s3, buckets["staged"], staged_objects),
    )
