"""Inventory snapshots: contract checks, one row per (snapshot_date, store_id, product_id),
and a products dimension with history.

Product history is built from *observations*: one row per (product_id, snapshot_date) with
the attributes reported that day. When stores disagree on a day, the latest reported row
wins (the later delivery, `validate.delivery_order`, then the later row in the file). A new
version starts whenever name, category, brand or unit cost differs from the previous
observation in snapshot order (A -> B -> A makes three versions). `valid_from` is the first
snapshot date of a version, `valid_to` the next version's `valid_from` (exclusive; null while
current)."""

from __future__ import annotations

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from retailake_etl.common import Cleaned, year_month
from retailake_etl.contract import CONTRACTS
from retailake_etl.validate import check, deduplicate, delivery_order

CONTRACT = CONTRACTS["inventory"]
SNAPSHOT_COLUMNS = (
    "snapshot_date", "store_id", "product_id", "quantity_on_hand", "quantity_on_order",
    "unit_cost", "reorder_point", "year", "month",
)  # fmt: skip
ATTRIBUTES = ("product_name", "category", "brand", "unit_cost")
OBSERVATION_COLUMNS = ("product_id", "snapshot_date", *ATTRIBUTES, "year", "month")
PRODUCT_COLUMNS = (
    "product_id", "product_name", "category", "brand", "unit_cost", "valid_from", "valid_to",
    "is_current", "year", "month",
)  # fmt: skip


def transform_inventory(raw: DataFrame) -> Cleaned:
    """Raw inventory text -> checked, deduplicated snapshot rows (with product attributes
    and lineage, for `snapshots` and `observations`) and rejects."""
    checked = check(raw, CONTRACT)
    valid = checked.valid.select("*", *year_month(F.col("snapshot_date")))
    deduplicated = deduplicate(valid, CONTRACT)
    rejects = checked.rejects.unionByName(deduplicated.dropped)
    return Cleaned.of(
        checked,
        deduplicated,
        valid=valid,
        rows=deduplicated.kept,
        rejects=rejects,
    )


def snapshots(rows: DataFrame) -> DataFrame:
    """The staged inventory_snapshots table (metrics only; product attributes live in products)."""
    return rows.select(*SNAPSHOT_COLUMNS)


def observations(rows: DataFrame) -> DataFrame:
    """One row per (product_id, snapshot_date): the latest reported attributes that day."""
    latest = Window.partitionBy("product_id", "snapshot_date").orderBy(
        *delivery_order(), F.col("_row_number").desc()
    )
    return (
        rows.select("*", F.row_number().over(latest).alias("_rank"))
        .where(F.col("_rank") == 1)
        .select(*OBSERVATION_COLUMNS)
    )


def product_history(observed: DataFrame) -> DataFrame:
    """Type-2 history from all observations, partitioned by the year/month of `valid_from`."""
    by_date = Window.partitionBy("product_id").orderBy("snapshot_date")
    changed = F.lit(False)
    for name in ATTRIBUTES:
        changed = changed | ~F.col(name).eqNullSafe(F.lag(name).over(by_date))
    starts = observed.select("*", changed.alias("_start")).where(F.col("_start"))
    next_start = F.lead("snapshot_date").over(by_date)
    return starts.select(
        "product_id",
        *ATTRIBUTES,
        F.col("snapshot_date").alias("valid_from"),
        next_start.alias("valid_to"),
        next_start.isNull().alias("is_current"),
        *year_month(F.col("snapshot_date")),
    ).select(*PRODUCT_COLUMNS)
