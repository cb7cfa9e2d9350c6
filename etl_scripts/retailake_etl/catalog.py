"""The Glue Data Catalog as the one record of which files a staged or analytics table holds.

Readers (Redshift Spectrum, the twin's DuckDB, the analytics job reading staged) find a
partition's files through the folder its catalog entry names. A job writes a partition's new
files into a folder of their own and then points the entry at it, so a reader sees the old
files or the new ones, never both and never half (`tables`). Here: what a table looks like to
the catalog, and the two calls a job makes of it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

Values = tuple[str, ...]  # a partition's values, in the order of the partition keys

_PARQUET = {
    "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
    "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
    "SerdeInfo": {
        "SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
    },
}
# Glue's batch limits: 100 partitions a create or update, 25 a delete.
_BATCH = {"create": 100, "update": 100, "delete": 25}


@dataclass(frozen=True)
class Layout:
    """A table as the catalog records it: its folder, its data columns (Hive types) and its
    partition keys (text)."""

    root: str
    columns: tuple[tuple[str, str], ...]
    partition_keys: tuple[str, ...]


class Catalog(Protocol):
    """What the jobs ask of a catalog database."""

    def locations(self, table: str) -> dict[Values, str]:
        """The folder of each partition of `table` (`()` for an unpartitioned table's own);
        none when the table is not in the catalog yet."""
        ...

    def publish(self, table: str, layout: Layout, changes: Mapping[Values, str | None]) -> None:
        """Create or update `table` as `layout` says, then point each partition of `changes`
        at its folder (None: the partition goes)."""
        ...


class CatalogError(RuntimeError):
    """The catalog refused part of a change."""


def _chunks(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    return [items[start : start + size] for start in range(0, len(items), size)]


class GlueCatalog:
    """One Glue database, through boto3 (the job's role; the twin's emulator when
    AWS_ENDPOINT_URL names it)."""

    def __init__(self, database: str, glue: Any = None) -> None:
        self.database = database
        self._glue = glue

    @property
    def glue(self) -> Any:
        if self._glue is None:  # made when first used: building settings calls nothing
            import boto3

            self._glue = boto3.client("glue")
        return self._glue

    def _table(self, table: str) -> dict[str, Any] | None:
        try:
            return self.glue.get_table(DatabaseName=self.database, Name=table)["Table"]
        except self.glue.exceptions.EntityNotFoundException:
            return None

    def locations(self, table: str) -> dict[Values, str]:
        found = self._table(table)
        if found is None:
            return {}
        if not found.get("PartitionKeys"):
            return {(): found["StorageDescriptor"]["Location"]}
        return self.partition_locations(table)

    def partition_locations(self, table: str) -> dict[Values, str]:
        """The folder of each partition of a partitioned table known to be there."""
        pages = self.glue.get_paginator("get_partitions").paginate(
            DatabaseName=self.database, TableName=table, ExcludeColumnSchema=True
        )
        return {
            tuple(p["Values"]): p["StorageDescriptor"]["Location"]
            for page in pages
            for p in page["Partitions"]
        }

    def publish(self, table: str, layout: Layout, changes: Mapping[Values, str | None]) -> None:
        if not layout.partition_keys:
            location = changes.get(())
            if not location:  # its root would show a reader every folder kept under it
                raise CatalogError(f"{self.database}.{table}: no folder to point the table at")
            self._ensure_table(table, layout, location)
            return
        self._ensure_table(table, layout, layout.root)
        known = set(self.partition_locations(table))
        descriptor = self._descriptor(layout, layout.root)
        pieces: dict[str, list[dict[str, Any]]] = {
            "create": [
                {"Values": list(v), "StorageDescriptor": {**descriptor, "Location": where}}
                for v, where in sorted(changes.items()) if where and v not in known
            ],
            "update": [
                {"PartitionValueList": list(v), "PartitionInput": {
                    "Values": list(v), "StorageDescriptor": {**descriptor, "Location": where}}}
                for v, where in sorted(changes.items()) if where and v in known
            ],
            "delete": [
                {"Values": list(v)} for v, where in sorted(changes.items())
                if not where and v in known
            ],
        }  # fmt: skip
        calls = {
            "create": lambda batch: self.glue.batch_create_partition(
                DatabaseName=self.database, TableName=table, PartitionInputList=batch),
            "update": lambda batch: self.glue.batch_update_partition(
                DatabaseName=self.database, TableName=table, Entries=batch),
            "delete": lambda batch: self.glue.batch_delete_partition(
                DatabaseName=self.database, TableName=table, PartitionsToDelete=batch),
        }  # fmt: skip
        for kind, entries in pieces.items():
            for batch in _chunks(entries, _BATCH[kind]):
                errors = calls[kind](batch).get("Errors", [])
                if errors:
                    first = errors[0]
                    values = first.get("PartitionValues") or first.get("PartitionValueList")
                    detail = first.get("ErrorDetail", {}).get("ErrorMessage", "refused")
                    raise CatalogError(
                        f"{self.database}.{table}: {kind} of partition {values} failed "
                        f"({len(errors)} of {len(batch)}): {detail}"
                    )

    def _descriptor(self, layout: Layout, location: str) -> dict[str, Any]:
        columns = [{"Name": name, "Type": kind} for name, kind in layout.columns]
        return {"Columns": columns, "Location": location, **_PARQUET}

    def _ensure_table(self, table: str, layout: Layout, location: str) -> None:
        """The table as `layout` says (an unpartitioned one at `location`), its description
        and parameters as Terraform or an earlier run left them."""
        existing = self._table(table)
        wanted: dict[str, Any] = {
            "Name": table,
            "TableType": "EXTERNAL_TABLE",
            "StorageDescriptor": self._descriptor(layout, location),
            "PartitionKeys": [{"Name": key, "Type": "string"} for key in layout.partition_keys],
            "Parameters": {"classification": "parquet", "EXTERNAL": "TRUE"},
        }
        if existing is None:
            self.glue.create_table(DatabaseName=self.database, TableInput=wanted)
            return
        descriptor = existing.get("StorageDescriptor", {})
        same = (
            descriptor.get("Location") == location
            and [(c["Name"], c["Type"]) for c in descriptor.get("Columns", [])]
            == list(layout.columns)
            and [k["Name"] for k in existing.get("PartitionKeys", [])]
            == list(layout.partition_keys)
        )
        if same:
            return
        if existing.get("Description"):
            wanted["Description"] = existing["Description"]
        wanted["Parameters"] = {**existing.get("Parameters", {}), **wanted["Parameters"]}
        self.glue.update_table(DatabaseName=self.database, TableInput=wanted)
