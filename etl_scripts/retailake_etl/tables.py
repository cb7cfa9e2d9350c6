"""The staged and analytics tables: every rewrite of a partition is a folder of its own, a
generation, `<table>/<key>=<value>/.../gen=<id>/`, and the catalog is then pointed at it.

A reader finds a partition's folder in the catalog and reads it whole, so it sees the old
rows or the new ones, never both and never a part (one catalog entry changes at once; a job's
partitions change one after another, each whole). A job killed before the catalog names its
new folders leaves them unnamed: nobody reads them, and the table's next write deletes them.

A folder the catalog stops naming is kept until the table's next write, so a query that found
it just before the change can read it to the end. That write deletes every folder the catalog
names neither now nor named just before it."""

from __future__ import annotations

import datetime as dt
import functools
import secrets
from collections.abc import Iterable, Sequence

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from retailake_etl import storage
from retailake_etl.catalog import Catalog, Layout, Values

GENERATION = "gen"


def new_generation() -> str:
    """A folder name no other write takes: its time (for people reading a listing), then
    random hex."""
    return f"{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}-{secrets.token_hex(4)}"


def layout(frame: DataFrame, root: str, partition_keys: Sequence[str]) -> Layout:
    """The catalog's view of a table holding `frame`'s columns (partition keys as text)."""
    columns = tuple(
        (field.name, field.dataType.simpleString())
        for field in frame.schema.fields
        if field.name not in partition_keys and field.name != GENERATION
    )
    return Layout(root.rstrip("/") + "/", columns, tuple(partition_keys))


def partitions(catalog: Catalog, table: str) -> set[Values]:
    return set(catalog.locations(table))


def read(spark: SparkSession, catalog: Catalog, table: str, root: str) -> DataFrame | None:
    """The rows the catalog names for `table` (under `root`), partition keys as zero-padded
    text as the folders spell them; None when it names none yet."""
    locations = catalog.locations(table)
    if not locations:
        return None
    # Spark checks the folders on many threads at once. Made here first, on this one, the
    # file system is cached for them: S3A made by several threads at once from one
    # configuration now and then found no credentials in it (seen on the twin, once).
    storage.exists(spark, root)
    # A partition a crawler cataloged (a lake deployed by an earlier version) is a folder of
    # no generation: its own files are read (not the generations a write puts below it, named
    # or not yet), apart from the others, which give Spark a `gen` column they have not.
    named = sorted(f for f in locations.values() if f"/{GENERATION}=" in f)
    plain = [name for folder in sorted(set(locations.values()) - set(named))
             for name in storage.files_in(spark, folder)]  # fmt: skip
    frames = [spark.read.option("basePath", root.rstrip("/")).parquet(*paths).drop(GENERATION)
              for paths in (named, plain) if paths]  # fmt: skip
    if not frames:
        return None
    frame = functools.reduce(DataFrame.unionByName, frames)
    if "year" in frame.columns:
        frame = frame.withColumn("year", F.lpad(F.col("year").cast("string"), 4, "0"))
    if "month" in frame.columns:
        frame = frame.withColumn("month", F.lpad(F.col("month").cast("string"), 2, "0"))
    return frame


def replace(
    spark: SparkSession,
    catalog: Catalog,
    table: str,
    root: str,
    frame: DataFrame,
    partition_keys: Sequence[str],
    wanted: Iterable[Values],
    *,
    plain: Sequence[str] = (),
) -> int:
    """Make each partition of `wanted` hold exactly `frame`'s rows for it (none: it leaves the
    catalog), as a new generation; `()` alone for an unpartitioned table. `frame` is evaluated
    once, by the write. Returns the rows written (see `storage.write_parquet` for `plain`)."""
    wanted = sorted(set(wanted))
    if not wanted:
        return 0
    root = root.rstrip("/")
    generation = new_generation()
    before = catalog.locations(table)
    if partition_keys:
        rows = storage.write_parquet(
            spark, storage.in_partitions(frame, partition_keys, wanted).withColumn(
                GENERATION, F.lit(generation)),
            root, [*partition_keys, GENERATION], plain=plain, rebalance=partition_keys,
        )  # fmt: skip
    else:
        rows = storage.write_parquet(spark, frame, f"{root}/{GENERATION}={generation}", [],
                                     plain=plain)  # fmt: skip
    listed = storage.files_under(spark, root)  # one listing: what was written, what goes
    written = {_parent(name) for name in listed if f"/{GENERATION}={generation}/" in name}
    changes: dict[Values, str | None] = {}
    for values in wanted:
        folder = "/".join(p for p in (storage.partition_folder(spark, partition_keys, values),
                                      f"{GENERATION}={generation}") if p)  # fmt: skip
        location = f"{root}/{folder}/"  # a folder, as Hive and the crawlers spell it
        changes[values] = location if storage.qualified(spark, location) in written else None
    catalog.publish(table, layout(frame, root, partition_keys), changes)
    kept = {*before.values(), *(where for where in changes.values() if where)}
    _delete_all_but(spark, root, listed, kept)
    return rows


def _parent(name: str) -> str:
    return name.rsplit("/", 1)[0]


def _delete_all_but(spark: SparkSession, root: str, listed: list[str], kept: set[str]) -> None:
    """Delete the files `listed` below `root` that lie in no folder of `kept` (the table's own
    markers, straight under `root`, stay): older generations, and those a killed write left
    unnamed."""
    keep = {storage.qualified(spark, folder) for folder in kept} | {storage.qualified(spark, root)}
    gone: set[str] = set()
    for name in listed:
        parent = _parent(name)
        if parent in keep or parent in gone:
            continue
        if parent.rsplit("/", 1)[-1].startswith(f"{GENERATION}="):
            storage.delete(spark, parent, recursive=True)  # a generation: all of it goes
            gone.add(parent)
        else:
            storage.delete(spark, name)
