"""A table's partitions replaced atomically for its readers: a rewrite is a new folder the
catalog is pointed at; the folder it replaces stays one write longer; a write that dies before
the catalog changes leaves readers the old rows and its own folder to the next write."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from retailake_etl import storage, tables
from retailake_etl.catalog import CatalogError, GlueCatalog
from retailake_etl.jobs import PARTITION

SCHEMA = "n long, label string, year string, month string"


def _frame(spark, rows: list[tuple]):
    return spark.createDataFrame(rows, SCHEMA)


def _read_folder(spark, folder: str) -> list[tuple]:
    """What a reader that found `folder` in the catalog reads there."""
    return sorted((r.n, r.label) for r in spark.read.parquet(folder).collect())


def _read(spark, catalog: GlueCatalog, uri: str) -> list[tuple]:
    frame = tables.read(spark, catalog, "t", uri)
    assert frame is not None
    return sorted(tuple(r) for r in frame.select("n", "label", *PARTITION).collect())


def _data_folders(root: Path) -> set[str]:
    return {p.parent.relative_to(root).as_posix() for p in root.rglob("*.parquet")}


def test_a_rewrite_moves_the_catalog_to_a_new_folder_and_the_old_one_goes_a_write_later(
    spark, tmp_path: Path, catalog: GlueCatalog
) -> None:
    uri = f"file://{tmp_path}/t"
    jan, feb = ("2025", "01"), ("2025", "02")
    first = [(1, "a", *jan), (2, "b", *feb)]
    tables.replace(spark, catalog, "t", uri, _frame(spark, first), PARTITION, {jan, feb})
    one = catalog.locations("t")
    assert set(one) == {jan, feb} and one[jan].startswith(f"{uri}/year=2025/month=01/gen=")

    second = [(3, "c", *jan)]
    tables.replace(spark, catalog, "t", uri, _frame(spark, second), PARTITION, {jan})
    two = catalog.locations("t")
    assert two[feb] == one[feb] and two[jan] != one[jan]
    assert _read(spark, catalog, uri) == [(2, "b", *feb), (3, "c", *jan)]
    # a query that found January's folder before the change still reads all of it
    assert _read_folder(spark, one[jan]) == [(1, "a")]

    tables.replace(spark, catalog, "t", uri, _frame(spark, [(4, "d", *feb)]), PARTITION, {feb})
    three = catalog.locations("t")
    assert _read(spark, catalog, uri) == [(3, "c", *jan), (4, "d", *feb)]
    kept = {where.removeprefix(f"{uri}/").rstrip("/") for where in (*three.values(), one[feb])}
    assert _data_folders(tmp_path / "t") == kept  # January's first folder is gone


def test_a_write_that_dies_before_the_catalog_changes_leaves_readers_the_old_rows(
    spark, tmp_path: Path, catalog: GlueCatalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    uri = f"file://{tmp_path}/t"
    jan = ("2025", "01")
    tables.replace(spark, catalog, "t", uri, _frame(spark, [(1, "a", *jan)]), PARTITION, {jan})
    before = catalog.locations("t")

    def refused(*_args: object) -> None:
        raise CatalogError("the catalog refused the change")

    with monkeypatch.context() as patch:
        patch.setattr(catalog, "publish", refused)
        with pytest.raises(CatalogError):
            tables.replace(spark, catalog, "t", uri, _frame(spark, [(2, "b", *jan)]), PARTITION,
                           {jan})  # fmt: skip
    assert catalog.locations("t") == before
    assert _read(spark, catalog, uri) == [(1, "a", *jan)]
    assert len(_data_folders(tmp_path / "t")) == 2  # the dead write's folder, named nowhere

    tables.replace(spark, catalog, "t", uri, _frame(spark, [(3, "c", *jan)]), PARTITION, {jan})
    now = catalog.locations("t")
    assert _read(spark, catalog, uri) == [(3, "c", *jan)]
    assert _data_folders(tmp_path / "t") == {
        where.removeprefix(f"{uri}/").rstrip("/") for where in (now[jan], before[jan])
    }


def test_a_partition_left_without_rows_leaves_the_catalog(
    spark, tmp_path: Path, catalog: GlueCatalog
) -> None:
    uri = f"file://{tmp_path}/t"
    jan, feb = ("2025", "01"), ("2025", "02")
    rows = [(1, "a", *jan), (2, "b", *feb)]
    tables.replace(spark, catalog, "t", uri, _frame(spark, rows), PARTITION, {jan, feb})
    written = tables.replace(spark, catalog, "t", uri, _frame(spark, rows[:1]), PARTITION,
                             {jan, feb})  # fmt: skip
    assert written == 1
    assert set(catalog.locations("t")) == {jan}
    assert tables.partitions(catalog, "t") == {jan}


def test_an_unpartitioned_table_moves_its_own_location(
    spark, tmp_path: Path, catalog: GlueCatalog
) -> None:
    uri = f"file://{tmp_path}/whole"
    frame = spark.createDataFrame([(1, "a"), (2, "b")], "n long, label string")
    assert tables.replace(spark, catalog, "whole", uri, frame, (), [()]) == 2
    first = catalog.locations("whole")[()]
    tables.replace(spark, catalog, "whole", uri, frame.where("n = 2"), (), [()])
    second = catalog.locations("whole")[()]
    assert first != second and second.startswith(f"{uri}/gen=")
    back = tables.read(spark, catalog, "whole", uri)
    assert back is not None and sorted(tuple(r) for r in back.collect()) == [(2, "b")]
    assert _read_folder(spark, first) == [(1, "a"), (2, "b")]


def test_the_catalog_table_describes_the_files(
    spark, tmp_path: Path, catalog: GlueCatalog, glue
) -> None:
    """Columns typed as Hive types them, partition keys as text, Parquet's formats; a table
    declared beforehand (by Terraform) keeps its description."""
    glue.create_table(DatabaseName=catalog.database, TableInput={
        "Name": "t", "Description": "declared by Terraform",
        "StorageDescriptor": {"Columns": [{"Name": "n", "Type": "bigint"}],
                              "Location": f"file://{tmp_path}/t"},
        "PartitionKeys": [{"Name": "year", "Type": "string"}, {"Name": "month", "Type": "string"}],
    })  # fmt: skip
    frame = spark.createDataFrame([(1, "a", Decimal("2.50"), "2025", "01")],
                                  "n long, label string, x decimal(12,2), year string, "
                                  "month string")  # fmt: skip
    tables.replace(spark, catalog, "t", f"file://{tmp_path}/t", frame, PARTITION,
                   {("2025", "01")})  # fmt: skip
    table = glue.get_table(DatabaseName=catalog.database, Name="t")["Table"]
    descriptor = table["StorageDescriptor"]
    assert [(c["Name"], c["Type"]) for c in descriptor["Columns"]] == [
        ("n", "bigint"), ("label", "string"), ("x", "decimal(12,2)")]
    assert [(k["Name"], k["Type"]) for k in table["PartitionKeys"]] == [
        ("year", "string"), ("month", "string")]
    assert descriptor["InputFormat"].endswith("MapredParquetInputFormat")
    assert table["Description"] == "declared by Terraform"
    (partition,) = glue.get_partitions(DatabaseName=catalog.database, TableName="t")["Partitions"]
    assert storage.files_under(spark, partition["StorageDescriptor"]["Location"])


def test_a_table_a_crawler_cataloged_reads_whole_beside_the_new_generations(
    spark, tmp_path: Path, catalog: GlueCatalog, glue
) -> None:
    """A lake deployed before the jobs kept their tables: its partitions are plain folders
    (`year=/month=`) a crawler cataloged, and a month rewritten since is a generation; a read
    takes both, and the plain folder a month left goes with the table's next write."""
    uri = f"file://{tmp_path}/t"
    jan, feb = ("2025", "01"), ("2025", "02")
    _frame(spark, [(1, "a", *jan), (2, "b", *feb)]).write.partitionBy(*PARTITION).parquet(uri)
    glue.create_table(DatabaseName=catalog.database, TableInput={
        "Name": "t", "StorageDescriptor": {"Location": f"{uri}/"},
        "PartitionKeys": [{"Name": "year", "Type": "string"}, {"Name": "month", "Type": "string"}],
    })  # fmt: skip
    glue.batch_create_partition(DatabaseName=catalog.database, TableName="t", PartitionInputList=[
        {"Values": list(month), "StorageDescriptor": {
            "Location": f"{uri}/year={month[0]}/month={month[1]}/"}} for month in (jan, feb)])
    # a write killed before the catalog named its folder, inside a plain one: not read
    stray = f"{uri}/year=2025/month=01/gen=killed"
    spark.createDataFrame([(9, "z")], "n long, label string").write.parquet(stray)
    assert _read(spark, catalog, uri) == [(1, "a", *jan), (2, "b", *feb)]
    tables.replace(spark, catalog, "t", uri, _frame(spark, [(3, "c", *feb)]), PARTITION, {feb})
    assert _read(spark, catalog, uri) == [(1, "a", *jan), (3, "c", *feb)]
    tables.replace(spark, catalog, "t", uri, _frame(spark, [(4, "d", *jan)]), PARTITION, {jan})
    assert _read(spark, catalog, uri) == [(3, "c", *feb), (4, "d", *jan)]
    assert not any(folder.endswith("month=02") for folder in _data_folders(tmp_path / "t"))
