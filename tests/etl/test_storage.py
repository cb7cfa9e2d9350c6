"""Writing a table's partitions: what a partition holds after a write, in how many files, and
how their columns are encoded; what a reader of a job's own folders finds."""

from __future__ import annotations

import threading
from collections import Counter

from retailake_etl import storage, tables
from retailake_etl.jobs import PARTITION

from tests.etl.raw import has_dictionary

ADVISORY = "spark.sql.adaptive.advisoryPartitionSizeInBytes"


def _files_by_partition(spark, catalog) -> Counter:
    """Data files in the folder the catalog names for each partition of table `t`."""
    return Counter({
        "-".join(values): sum(n.endswith(".parquet") for n in storage.files_under(spark, where))
        for values, where in catalog.locations("t").items()
    })  # fmt: skip


def _rows(spark, catalog, uri: str) -> list[tuple]:
    table = tables.read(spark, catalog, "t", uri)
    assert table is not None, uri
    return sorted(tuple(r) for r in table.select("n", *PARTITION).collect())


def test_a_month_far_larger_than_the_rest_is_split_over_files_then_replaced_whole(
    spark, tmp_path, catalog
):
    """A folder's rows go to one task, unless the folder is far larger than the target size:
    then to several, each writing its own file (so one core does not write it alone). A
    later replace leaves exactly the new rows, whatever number of files was there."""
    rows = [(n, "2025", "01") for n in range(5000)] + [(n, "2025", "02") for n in range(10)]
    frame = spark.createDataFrame(rows, "n long, year string, month string").repartition(4)
    uri = f"file://{tmp_path}/table"
    months = {("2025", "01"), ("2025", "02")}
    spark.conf.set(ADVISORY, "4k")  # what 64 MB is to a 10M-line month
    try:
        written = tables.replace(spark, catalog, "t", uri, frame, PARTITION, months)
    finally:
        spark.conf.unset(ADVISORY)
    assert written == 5010
    assert _files_by_partition(spark, catalog)["2025-01"] > 1
    assert _rows(spark, catalog, uri) == sorted(rows)

    again = frame.where("n % 2 = 0")
    written = tables.replace(spark, catalog, "t", uri, again, PARTITION, months)
    assert written == 2505
    assert _files_by_partition(spark, catalog) == {"2025-01": 1, "2025-02": 1}
    assert _rows(spark, catalog, uri) == sorted(r for r in rows if r[0] % 2 == 0)


def test_a_write_that_finds_no_rows_at_run_time_counts_none_without_waiting(
    spark, tmp_path, catalog
):
    """No row of the frame lies in the listed month, which only running the filter shows: the
    rebalance's shuffle stage ends up empty and adaptive execution drops it. The write's
    count must not have been observed below it: Spark 3.5.4 (Glue 5.0's) waits forever."""
    frame = spark.createDataFrame([(n, "2025", "01") for n in range(50)],
                                  "n long, year string, month string")  # fmt: skip
    uri = f"file://{tmp_path}/table"
    written: list[int] = []
    writer = threading.Thread(target=lambda: written.append(tables.replace(
        spark, catalog, "t", uri, frame, PARTITION, {("2025", "02")})), daemon=True)  # fmt: skip
    writer.start()
    writer.join(timeout=120)
    assert written == [0], "the write's row count never came"
    assert tables.read(spark, catalog, "t", uri) is None


def test_plain_columns_are_written_without_a_dictionary_and_the_others_with_one(
    spark, tmp_path, catalog
):
    """Ids that repeat a little (an order's lines) would get a dictionary, as would a store."""
    rows = [(n, f"order-{n // 2}", "store-1", "2025", "01") for n in range(200)]
    schema = "n long, id string, store string, year string, month string"
    frame = spark.createDataFrame(rows, schema)
    tables.replace(spark, catalog, "t", f"file://{tmp_path}/t", frame, PARTITION,
                   {("2025", "01")}, plain=("id",))  # fmt: skip
    files = list(tmp_path.rglob("*.parquet"))
    assert files
    for path in files:
        assert not has_dictionary(path, "id")
        assert has_dictionary(path, "store")


def test_a_table_whose_only_files_are_a_killed_writes_temporary_ones_has_no_data(spark, tmp_path):
    """What a kill in the first write leaves with a committer that renames (Glue's): the next
    run must see no table yet, not fail on one Spark cannot infer a schema for."""
    table = tmp_path / "_state" / "inventory" / "product_observations"  # a hidden root is fine
    spark.range(3).coalesce(1).write.parquet(str(tmp_path / "written"))
    part = next((tmp_path / "written").glob("*.parquet"))
    pending = table / "_temporary" / "0" / "_temporary" / "attempt_1" / "year=2025" / "month=01"
    pending.mkdir(parents=True)
    part.rename(pending / part.name)
    assert storage.read_table(spark, table.as_uri()) is None
    done = table / "year=2025" / "month=01"
    done.mkdir(parents=True)
    (pending / part.name).rename(done / part.name)
    frame = storage.read_table(spark, table.as_uri())
    assert frame is not None and frame.count() == 3


def test_an_object_copied_anew_has_another_fingerprint_though_its_etag_is_the_same():
    """Its upload time orders the day's deliveries: the keys it holds must be judged again."""

    class Status:  # what S3A's listing gives, for the calls made of it
        def getEtag(self) -> str:
            return '"abc"'

        def getLen(self) -> int:
            return 10

    assert storage._fingerprint(Status(), 1) == storage._fingerprint(Status(), 1)
    assert storage._fingerprint(Status(), 1) != storage._fingerprint(Status(), 2)
    assert '"abc"' in storage._fingerprint(Status(), 1)
