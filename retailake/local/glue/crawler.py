"""Crawler emulation: list the crawler's S3 targets in the emulator, infer tables, and write
them (and their partitions) to the emulator's Glue catalog with the same calls Glue makes.

moto's StartCrawler only flips a state to RUNNING and never reads S3, so this does the crawl.
Honoured from the crawler definition: S3Targets (Path, Exclusions), DatabaseName, TablePrefix;
the lake's policies are assumed (UPDATE_IN_DATABASE, MergeNewColumns, DeleteBehavior LOG)."""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from botocore.exceptions import ClientError

from retailake.aws.s3 import iter_objects, split_s3_url
from retailake.local.glue import inference as inf

_HEAD_BYTES = 256 * 1024
_PARTITION_BATCH = 100  # BatchCreatePartition's limit


@dataclass
class CrawlResult:
    crawler: str
    database: str
    tables_created: list[str] = field(default_factory=list)
    tables_updated: list[str] = field(default_factory=list)
    partitions_added: int = 0
    warnings: list[str] = field(default_factory=list)


def list_objects(s3: Any, bucket: str, prefix: str) -> Iterator[inf.S3Object]:
    for item in iter_objects(s3, bucket, prefix):
        yield inf.S3Object(item["Key"], int(item["Size"]))


def _fetch(s3: Any, bucket: str, key: str, start: int, end: int) -> bytes:
    answer = s3.get_object(Bucket=bucket, Key=key, Range=f"bytes={start}-{end}")
    return answer["Body"].read()


def _head(s3: Any, bucket: str, obj: inf.S3Object) -> bytes:
    """The first bytes of a text object, decompressed when gzipped."""
    if obj.key.lower().endswith(".gz"):
        raw = s3.get_object(Bucket=bucket, Key=obj.key)["Body"].read()
        return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(raw, _HEAD_BYTES)
    return _fetch(s3, bucket, obj.key, 0, min(obj.size, _HEAD_BYTES) - 1)


def infer_columns(s3: Any, group: inf.TableGroup) -> tuple[list[inf.Column], bool]:
    """The table's columns from a few sampled objects, and whether CSV fields are quoted."""
    bucket, _ = split_s3_url(group.location)
    samples: list[list[inf.Column]] = []
    quoted = False
    for obj in inf.sample_keys(group.objects):
        if group.format == inf.PARQUET:
            samples.append(inf.parquet_columns(partial(_fetch, s3, bucket, obj.key), obj.size))
        elif group.format == inf.JSON:
            samples.append(inf.json_columns(_head(s3, bucket, obj)))
        else:
            columns, is_quoted = inf.csv_columns(_head(s3, bucket, obj))
            samples.append(columns)
            quoted = quoted or is_quoted
    partition_keys = set(group.partition_keys)
    columns = [c for c in inf.merge_columns(samples) if c[0] not in partition_keys]
    return columns, quoted


def _descriptor(location: str, columns: Sequence[inf.Column], fmt: dict[str, Any]) -> dict:
    return {
        "Columns": [{"Name": n, "Type": t} for n, t in columns],
        "Location": location,
        "InputFormat": fmt["InputFormat"],
        "OutputFormat": fmt["OutputFormat"],
        "SerdeInfo": fmt["SerdeInfo"],
        "Compressed": False,
        "StoredAsSubDirectories": False,
        "Parameters": dict(fmt["Parameters"]),
    }


def _existing_table(glue: Any, database: str, name: str) -> dict[str, Any] | None:
    try:
        return glue.get_table(DatabaseName=database, Name=name)["Table"]
    except ClientError as error:
        if error.response["Error"]["Code"] == "EntityNotFoundException":
            return None
        raise


def _same(existing: dict[str, Any], table_input: dict[str, Any]) -> bool:
    old, new = existing.get("StorageDescriptor", {}), table_input["StorageDescriptor"]
    keys = ("Columns", "Location", "InputFormat", "OutputFormat")
    return all(old.get(k) == new[k] for k in keys) and (
        old.get("SerdeInfo", {}).get("SerializationLibrary")
        == new["SerdeInfo"]["SerializationLibrary"]
        and existing.get("PartitionKeys", []) == table_input["PartitionKeys"]
    )


def upsert_table(glue: Any, s3: Any, crawler: str, database: str, group: inf.TableGroup,
                 result: CrawlResult) -> None:
    """Create or update one table, then add its partitions that the catalog lacks."""
    columns, quoted = infer_columns(s3, group)
    fmt = inf.storage_format(group.format, quoted)
    existing = _existing_table(glue, database, group.name)
    if existing:
        old = [(c["Name"], c["Type"]) for c in existing.get("StorageDescriptor", {})
               .get("Columns", [])]
        columns = inf.merge_into_existing(old, columns)
    partition_keys = [{"Name": k, "Type": "string"} for k in group.partition_keys]
    if existing and not partition_keys:
        partition_keys = existing.get("PartitionKeys", [])
    descriptor = _descriptor(group.location, columns, fmt)
    table_input = {
        "Name": group.name,
        "TableType": "EXTERNAL_TABLE",
        "StorageDescriptor": descriptor,
        "PartitionKeys": partition_keys,
        "Parameters": {
            **fmt["Parameters"],
            "typeOfData": "file",
            "objectCount": str(len(group.objects)),
            "UPDATED_BY_CRAWLER": crawler,
            "CrawlerSchemaSerializerVersion": "1.0",
        },
    }
    if existing is None:
        glue.create_table(DatabaseName=database, TableInput=table_input)
        result.tables_created.append(group.name)
    elif not _same(existing, table_input):
        if existing.get("Description"):
            table_input["Description"] = existing["Description"]
        glue.update_table(DatabaseName=database, TableInput=table_input)
        result.tables_updated.append(group.name)
    if partition_keys and group.partitions:
        result.partitions_added += _add_partitions(glue, database, group, descriptor, result)


def _add_partitions(glue: Any, database: str, group: inf.TableGroup, descriptor: dict,
                    result: CrawlResult) -> int:
    known: set[tuple[str, ...]] = set()
    pages = glue.get_paginator("get_partitions").paginate(DatabaseName=database,
                                                           TableName=group.name)
    for page in pages:
        known.update(tuple(p["Values"]) for p in page["Partitions"])
    new = [
        {"Values": list(values), "StorageDescriptor": {**descriptor, "Location": location}}
        for values, location in sorted(group.partitions.items()) if values not in known
    ]
    added = 0
    for start in range(0, len(new), _PARTITION_BATCH):
        batch = new[start:start + _PARTITION_BATCH]
        answer = glue.batch_create_partition(DatabaseName=database, TableName=group.name,
                                             PartitionInputList=batch)
        errors = answer.get("Errors", [])
        added += len(batch) - len(errors)
        result.warnings.extend(
            f"{group.name} partition {e.get('PartitionValues')}: "
            f"{e.get('ErrorDetail', {}).get('ErrorMessage', 'not created')}" for e in errors
        )
    return added


def run_crawler(glue: Any, s3_as: Callable[[str], Any], name: str) -> CrawlResult:
    """Crawl as the registered crawler would, reading S3 as its role (`s3_as`: a role, as the
    definition names it, to an S3 client signing as it); raises ClientError on emulator
    failures."""
    definition = glue.get_crawler(Name=name)["Crawler"]
    s3 = s3_as(definition["Role"])
    result = CrawlResult(name, definition["DatabaseName"])
    targets = definition.get("Targets", {})
    for kind, items in targets.items():
        if kind != "S3Targets" and items:
            result.warnings.append(f"{kind} are not emulated locally; skipped")
    seen: set[str] = set()
    for target in targets.get("S3Targets", []):
        bucket, prefix = split_s3_url(target["Path"])
        groups = inf.group_tables(bucket, prefix, list_objects(s3, bucket, prefix),
                                  target.get("Exclusions") or (),
                                  definition.get("TablePrefix") or "")
        for group in groups:
            result.warnings.extend(group.warnings)
            if group.name in seen:
                result.warnings.append(f"{group.name}: a second folder maps to this table; "
                                       f"{group.location} skipped")
                continue
            seen.add(group.name)
            upsert_table(glue, s3, name, result.database, group, result)
    return result
