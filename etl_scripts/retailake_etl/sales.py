"""Sales lines: contract checks, derived amounts, one row per (order_id, line_number).

Money is decimal throughout (never float): gross = quantity * unit_price (exact),
discount = round(gross * discount_pct, 2) half-up (Spark's `round` on decimals; -0.005 rounds
to -0.01, symmetric for returns), net = gross - discount."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from retailake_etl.common import Cleaned, year_month
from retailake_etl.contract import CONTRACTS
from retailake_etl.validate import check, deduplicate

CONTRACT = CONTRACTS["sales"]
AMOUNT = "decimal(18,2)"
COLUMNS = (
    "order_id", "line_number", "order_ts", "order_date", "store_id", "channel", "customer_id",
    "product_id", "quantity", "unit_price", "discount_pct", "currency", "gross_amount",
    "discount_amount", "net_amount", "is_return", "year", "month",
)  # fmt: skip
# Too many distinct values (per order, per line, per customer) for a Parquet dictionary: see
# storage.replace_partitions.
NEARLY_UNIQUE = ("order_id", "order_ts", "customer_id")


def derive(valid: DataFrame) -> DataFrame:
    """Amounts, UTC order date and partition columns; keeps the lineage columns for dedupe.
    Assumes a UTC session time zone (the job sets it) for `order_date`."""
    gross = (F.col("quantity").cast("decimal(10,0)") * F.col("unit_price")).cast(AMOUNT)
    discount = F.round(gross * F.col("discount_pct"), 2).cast(AMOUNT)
    order_date = F.to_date("order_ts")
    return valid.select(
        "order_id",
        "line_number",
        "order_ts",
        order_date.alias("order_date"),
        "store_id",
        "channel",
        "customer_id",
        "product_id",
        "quantity",
        "unit_price",
        "discount_pct",
        F.upper("currency").alias("currency"),
        gross.alias("gross_amount"),
        discount.alias("discount_amount"),
        (gross - discount).cast(AMOUNT).alias("net_amount"),
        (F.col("quantity") < 0).alias("is_return"),
        *year_month(order_date),
        "_source_file",
        "_row_number",
        "_ingest_date",
        "_uploaded_ms",
    )


def transform_sales(raw: DataFrame) -> Cleaned:
    """Raw sales text (read.read_raw) -> checked, derived, deduplicated lines and rejects."""
    checked = check(raw, CONTRACT)
    valid = derive(checked.valid)
    deduplicated = deduplicate(valid, CONTRACT)
    return Cleaned.of(
        checked,
        deduplicated,
        valid=valid,
        rows=deduplicated.kept.select(*COLUMNS, "_source_file", "_row_number", "_ingest_date"),
        rejects=checked.rejects.unionByName(deduplicated.dropped),
    )
