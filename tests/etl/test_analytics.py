"""The analytics tables against an independent plain-Python oracle (`kpi_oracle`), whole
tables at a time: every row, every column, the schema; plus the incremental path.

The staged inputs are small and hand-written so that each rule has a row exercising it: two
stores and months, a return order, discounts whose cents round half-up, anonymous sales,
stockouts, a cost change across months and across stores, a product with no snapshot in a
month (cost carried forward), a category change mid-month, a sale before a product's history
starts, a store missing the last snapshot of the month, repeat customers and ties in RFM."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest
from pyspark.sql import Column, DataFrame, Row, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import StructType
from retailake_etl import analytics, analytics_job, metrics, storage, tables
from retailake_etl.catalog import GlueCatalog
from retailake_etl.jobs import PARTITION

from tests.etl import kpi_oracle as oracle

SALES_SCHEMA = (
    "order_id string, line_number int, order_ts timestamp, order_date date, store_id string, "
    "channel string, customer_id string, product_id string, quantity int, "
    "unit_price decimal(12,2), discount_pct decimal(5,4), currency string, "
    "gross_amount decimal(14,2), discount_amount decimal(14,2), net_amount decimal(14,2), "
    "is_return boolean, year int, month int"
)
SNAPSHOT_SCHEMA = (
    "snapshot_date date, store_id string, product_id string, quantity_on_hand int, "
    "quantity_on_order int, unit_cost decimal(12,2), reorder_point int, year int, month int"
)
PRODUCT_SCHEMA = (
    "product_id string, product_name string, category string, brand string, "
    "unit_cost decimal(12,2), valid_from date, valid_to date, is_current boolean"
)
CUSTOMER_SCHEMA = (
    "customer_id string, email_hash string, phone_hash string, city string, state string, "
    "postal_code string, country string, age_band string, tenure_months int, "
    "loyalty_tier string, segment string"
)

MONEY = "decimal(18,2)"
EXPECTED_SCHEMAS: dict[str, list[tuple[str, str]]] = {
    "daily_store_sales": [
        ("order_date", "date"), ("store_id", "string"), ("channel", "string"),
        ("orders", "bigint"), ("lines", "bigint"), ("units", "bigint"),
        ("returned_units", "bigint"), ("gross_amount", MONEY), ("discount_amount", MONEY),
        ("net_amount", MONEY), ("avg_order_value", MONEY), ("year", "int"), ("month", "int"),
    ],
    "product_performance_monthly": [
        ("year", "int"), ("month", "int"), ("product_id", "string"), ("category", "string"),
        ("units_sold", "bigint"), ("returned_units", "bigint"), ("net_revenue", MONEY),
        ("unit_cost", "decimal(12,2)"), ("cogs", MONEY), ("gross_margin", MONEY),
        ("gross_margin_pct", "double"), ("ending_on_hand", "bigint"),
        ("sell_through_rate", "double"),
    ],
    "customer_segments": [
        ("customer_id", "string"), ("as_of_date", "date"), ("last_order_date", "date"),
        ("recency_days", "int"), ("frequency", "bigint"), ("monetary", MONEY),
        ("r_score", "int"), ("f_score", "int"), ("m_score", "int"), ("rfm_segment", "string"),
        ("age_band", "string"), ("state", "string"),
    ],
    "inventory_health_daily": [
        ("snapshot_date", "date"), ("store_id", "string"), ("category", "string"),
        ("skus", "bigint"), ("stockout_skus", "bigint"), ("stockout_rate", "double"),
        ("below_reorder_skus", "bigint"), ("on_hand", "bigint"), ("inventory_value", MONEY),
        ("units_sold_28d", "bigint"), ("days_of_supply", "double"), ("year", "int"),
        ("month", "int"),
    ],
    "kpi_summary_monthly": [
        ("year", "int"), ("month", "int"), ("revenue", MONEY), ("orders", "bigint"),
        ("avg_order_value", MONEY), ("units", "bigint"), ("units_per_transaction", "double"),
        ("cogs", MONEY), ("gross_margin", MONEY), ("gross_margin_pct", "double"),
        ("customers", "bigint"), ("repeat_customers", "bigint"),
        ("repeat_customer_rate", "double"), ("returned_units", "bigint"),
        ("return_rate", "double"), ("stockout_rate", "double"),
    ],
}  # fmt: skip
KEYS = oracle.KEYS


def _sale(order, line, ts, store, channel, customer, product, qty, price, disc="0"):
    """One staged sales line, its amounts derived as the staged layer does (half-up cents)."""
    when = dt.datetime.fromisoformat(ts)
    price, disc = Decimal(price), Decimal(disc)
    gross = qty * price
    discount = (gross * disc).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return {
        "order_id": order, "line_number": line, "order_ts": when, "order_date": when.date(),
        "store_id": store, "channel": channel, "customer_id": customer, "product_id": product,
        "quantity": qty, "unit_price": price, "discount_pct": disc, "currency": "USD",
        "gross_amount": gross, "discount_amount": discount, "net_amount": gross - discount,
        "is_return": qty < 0, "year": when.year, "month": when.month,
    }  # fmt: skip


SALES = [
    _sale("O1", 1, "2024-01-05T10:00:00", "S1", "store", "C1", "P1", 2, "5.00"),
    # 19.99 * 5% = 0.9995 -> 1.00
    _sale("O1", 2, "2024-01-05T10:00:00", "S1", "store", "C1", "P3", 1, "19.99", "0.05"),
    _sale("O2", 1, "2024-01-20T09:00:00", "S1", "store", "C1", "P1", 1, "5.00"),
    _sale("O3", 1, "2024-01-20T11:00:00", "S1", "store", None, "P2", 3, "2.50"),
    # late on the last day of January (UTC); P4's history only starts on Jan 20
    _sale("O4", 1, "2024-01-31T23:30:00", "S2", "online", "C2", "P4", 1, "12.00"),
    # P5 has no snapshot and no product row; 3.98 * 10% = 0.398 -> 0.40
    _sale("O4", 2, "2024-01-31T23:30:00", "S2", "online", "C2", "P5", 2, "1.99", "0.1"),
    _sale("O5", 1, "2024-01-25T15:00:00", "S1", "store", "C1", "P1", -1, "5.00"),  # a return
    # S1/store on Feb 2: 27.49 over 2 orders = 13.745 -> 13.75 (half-even would give 13.74)
    _sale("O6", 1, "2024-02-02T10:00:00", "S1", "store", "C2", "P1", 4, "5.00"),
    _sale("O6", 2, "2024-02-02T10:00:00", "S1", "store", "C2", "P2", 1, "2.50"),
    _sale("O7", 1, "2024-02-02T12:00:00", "S1", "store", "C3", "P1", 1, "4.99"),
    # 28 days before the Feb 29 snapshot: just outside its window (Feb 2 is just inside)
    _sale("O13", 1, "2024-02-01T12:00:00", "S1", "store", "C3", "P1", 1, "5.00"),
    # 39.98 * 25% = 9.995 -> 10.00
    _sale("O8", 1, "2024-02-10T08:00:00", "S2", "mobile", "C4", "P3", 2, "19.99", "0.25"),
    _sale("O9", 1, "2024-02-15T08:00:00", "S2", "mobile", "C4", "P4", -1, "12.00"),
    _sale("O10", 1, "2024-02-20T18:00:00", "S1", "online", None, "P1", 1, "5.00"),
    _sale("O11", 1, "2024-02-28T13:00:00", "S1", "store", "C5", "P2", 2, "2.50"),
    # the latest order date in the data belongs to an anonymous sale
    _sale("O12", 1, "2024-02-29T17:00:00", "S2", "store", None, "P1", 1, "5.00"),
    # Orders whose lines disagree on day, channel, customer or month each count once wherever
    # their lines fall: C6 has one order in January (in three slices), one in February, two
    # in all, and is a repeat customer in neither month.
    _sale("O14", 1, "2024-01-15T10:00:00", "S3", "store", "C6", "P3", 1, "19.99"),
    _sale("O14", 2, "2024-01-16T10:00:00", "S3", "online", "C6", "P3", 1, "19.99"),
    _sale("O14", 3, "2024-01-16T10:00:00", "S3", "online", None, "P3", 2, "19.99"),
    _sale("O15", 1, "2024-01-31T22:00:00", "S3", "online", None, "P3", 1, "19.99"),
    _sale("O15", 2, "2024-02-01T01:00:00", "S3", "online", "C6", "P3", 1, "19.99"),
]


def _snap(day, store, product, on_hand, cost, reorder=None, on_order=0):
    date = dt.date.fromisoformat(day)
    return {
        "snapshot_date": date, "store_id": store, "product_id": product,
        "quantity_on_hand": on_hand, "quantity_on_order": on_order,
        "unit_cost": Decimal(cost), "reorder_point": reorder,
        "year": date.year, "month": date.month,
    }  # fmt: skip


SNAPSHOTS = [
    # P1: S2's cost differs from S1's in January (lowest store_id wins); cost rises in February
    _snap("2024-01-10", "S1", "P1", 8, "4.00", 5),
    _snap("2024-01-10", "S2", "P1", 6, "4.10", 5),
    _snap("2024-01-31", "S1", "P1", 0, "4.00", 5, on_order=10),  # stockout
    _snap("2024-01-31", "S2", "P1", 6, "4.10", 5),
    _snap("2024-02-03", "S1", "P1", 5, "4.50", 5),
    _snap("2024-02-03", "S2", "P1", 4, "4.50", 5),
    _snap("2024-02-29", "S1", "P1", 3, "4.50", 5),
    _snap("2024-02-29", "S2", "P1", 3, "4.50", 5),
    # P2: S2 misses Jan 31; no February snapshot at all (cost carried forward from January)
    _snap("2024-01-10", "S1", "P2", 12, "2.00", 4),
    _snap("2024-01-10", "S2", "P2", 7, "2.00"),
    _snap("2024-01-31", "S1", "P2", 9, "2.00", 10),
    # P3: category Toys until Feb 10, Games from then on
    _snap("2024-01-10", "S1", "P3", 2, "10.00", 1),
    _snap("2024-02-03", "S1", "P3", 1, "10.00", 1),
    _snap("2024-02-29", "S1", "P3", 0, "10.00", 1),
    # P4: history starts Jan 20; stockout at the end of February
    _snap("2024-01-31", "S2", "P4", 3, "7.25", 2),
    _snap("2024-02-29", "S2", "P4", 0, "7.25", 2),
]


def _product(pid, category, valid_from, valid_to=None, cost="1.00"):
    return {
        "product_id": pid, "product_name": f"{pid} name", "category": category,
        "brand": "Acme", "unit_cost": Decimal(cost),
        "valid_from": dt.date.fromisoformat(valid_from),
        "valid_to": dt.date.fromisoformat(valid_to) if valid_to else None,
        "is_current": valid_to is None,
    }  # fmt: skip


PRODUCTS = [
    _product("P1", "Grocery", "2024-01-10", "2024-02-03", "4.00"),
    _product("P1", "Grocery", "2024-02-03", cost="4.50"),
    _product("P2", "Grocery", "2024-01-10", cost="2.00"),
    _product("P3", "Toys", "2024-01-10", "2024-02-10", "10.00"),
    _product("P3", "Games", "2024-02-10", cost="10.00"),
    _product("P4", "Toys", "2024-01-20", cost="7.25"),
]


def _customer(cid, state, age_band):
    return {
        "customer_id": cid, "email_hash": f"e-{cid}", "phone_hash": None, "city": "Town",
        "state": state, "postal_code": "00000", "country": "US", "age_band": age_band,
        "tenure_months": 12, "loyalty_tier": "gold", "segment": "family",
    }  # fmt: skip


CUSTOMERS = [  # C4 buys but is unknown to the customer table
    _customer("C1", "CA", "35-44"),
    _customer("C2", "NY", "25-34"),
    _customer("C3", "TX", None),
    _customer("C5", "WA", "65+"),
]

def oracle_tables(sales: list[dict], snapshots: list[dict], products: list[dict],
                  customers: list[dict]) -> dict[str, list[dict]]:
    """The five tables as the oracle computes them from the same Python rows."""
    return {
        "daily_store_sales": oracle.daily_store_sales(sales),
        "product_performance_monthly": oracle.product_performance_monthly(
            sales, snapshots, products),
        "customer_segments": oracle.customer_segments(sales, customers),
        "inventory_health_daily": oracle.inventory_health_daily(snapshots, sales, products),
        "kpi_summary_monthly": oracle.kpi_summary_monthly(sales, snapshots, products),
    }


ORACLE = oracle_tables(SALES, SNAPSHOTS, PRODUCTS, CUSTOMERS)


def _frame(spark: SparkSession, rows: list[dict], schema: str) -> DataFrame:
    columns = [field.split()[0] for field in schema.split(", ")]
    return spark.createDataFrame([tuple(row[c] for c in columns) for row in rows], schema)


@pytest.fixture(scope="module")
def inputs(spark: SparkSession) -> Iterator[dict[str, Any]]:  # build_all's keywords
    frames = {
        "sales": _frame(spark, SALES, SALES_SCHEMA),
        "snapshots": _frame(spark, SNAPSHOTS, SNAPSHOT_SCHEMA),
        "products": _frame(spark, PRODUCTS, PRODUCT_SCHEMA),
        "customers": _frame(spark, CUSTOMERS, CUSTOMER_SCHEMA),
    }
    # cached so that every query does not ship the Python rows to the JVM again
    yield {name: frame.cache() for name, frame in frames.items()}
    for frame in frames.values():
        frame.unpersist()


@pytest.fixture(scope="module")
def full(inputs: dict[str, Any]) -> dict[str, DataFrame]:
    return analytics.build_all(**inputs)


@pytest.fixture(scope="module")
def full_rows(full: dict[str, DataFrame]) -> dict[str, list[Row]]:
    """Each table of a full refresh, collected once."""
    return {table: frame.collect() for table, frame in full.items()}


def assert_table(table: str, schema: StructType, rows: list[Row], expected: list[dict]) -> None:
    """Same schema, same rows (as `kpi_oracle.assert_same_rows` compares them)."""
    assert [(f.name, f.dataType.simpleString()) for f in schema] == EXPECTED_SCHEMAS[table]
    oracle.assert_same_rows(table, [row.asDict() for row in rows], expected)


@pytest.mark.parametrize("table", sorted(KEYS))  # the oracle's five, not the ETL's own list
def test_full_refresh_matches_the_oracle(
    full: dict[str, DataFrame], full_rows: dict[str, list[Row]], table: str
) -> None:
    assert_table(table, full[table].schema, full_rows[table], ORACLE[table])


def test_the_data_exercises_the_edge_cases(full_rows: dict[str, list[Row]]) -> None:
    """Guards the fixture: if an edit removed an edge case, the comparisons above would
    still pass while testing less. Values here are worked out by hand."""
    daily = {(r.order_date.isoformat(), r.store_id, r.channel): r
             for r in full_rows["daily_store_sales"]}  # fmt: skip
    assert daily[("2024-02-02", "S1", "store")].avg_order_value == Decimal("13.75")
    perf = {(r.month, r.product_id): r for r in full_rows["product_performance_monthly"]}
    assert perf[(1, "P1")].unit_cost == Decimal("4.00")  # S1's cost, not S2's 4.10
    assert perf[(2, "P1")].unit_cost == Decimal("4.50")
    assert perf[(2, "P2")].unit_cost == Decimal("2.00") and perf[(2, "P2")].ending_on_hand is None
    assert perf[(1, "P2")].ending_on_hand == 16  # S1 on Jan 31 (9) + S2 on Jan 10 (7)
    assert perf[(1, "P4")].category == "Toys" and perf[(2, "P3")].category == "Games"
    assert perf[(1, "P5")].category is None and perf[(1, "P5")].cogs is None
    assert perf[(1, "P1")].units_sold == 2 and perf[(1, "P1")].returned_units == 1
    health = {(r.snapshot_date.isoformat(), r.store_id, r.category): r
              for r in full_rows["inventory_health_daily"]}  # fmt: skip
    assert health[("2024-02-03", "S1", "Toys")].units_sold_28d == 0
    assert health[("2024-02-03", "S1", "Toys")].days_of_supply is None
    assert health[("2024-02-29", "S1", "Games")].stockout_skus == 1
    # Only P1 is in S1's Grocery snapshot in February (P2 has none), so only P1 sales count.
    # Jan 7 .. Feb 3: O2 (1), O13 on Feb 1 (1), O6/O7 on Feb 2 (5); not O1 on Jan 5.
    # Feb 2 .. Feb 29: O6/O7 (5), O10 (1); not O13 (a day too early), not O12 (store S2).
    assert health[("2024-02-03", "S1", "Grocery")].units_sold_28d == 7
    assert health[("2024-02-29", "S1", "Grocery")].units_sold_28d == 6
    segments = {r.customer_id: r for r in full_rows["customer_segments"]}
    assert segments["C2"].recency_days == segments["C3"].recency_days == 27
    assert segments["C2"].r_score == segments["C3"].r_score
    assert segments["C4"].state is None and "anonymous" not in segments
    assert segments["C1"].as_of_date == dt.date(2024, 2, 29)
    assert segments["C6"].frequency == 2
    assert daily[("2024-01-16", "S3", "online")].orders == 1
    kpi = {r.month: r for r in full_rows["kpi_summary_monthly"]}
    assert kpi[1].repeat_customers == 1 and kpi[1].returned_units == 1
    # P4 in February: only a return (-1) and nothing on hand, which the formula calls 1.0
    assert perf[(2, "P4")].units_sold == -1 and perf[(2, "P4")].sell_through_rate is None
    # P5 (3.58 net, no cost) is left out of January's margin, not counted as pure margin
    assert kpi[1].gross_margin == kpi[1].revenue - kpi[1].cogs - perf[(1, "P5")].net_revenue


def test_a_ratio_that_ends_in_five_rounds_half_up(spark: SparkSession) -> None:
    """Ties at the fifth decimal, which a quotient of doubles puts on the wrong side."""
    pairs = [(Decimal("11.79"), Decimal("40.00")), (Decimal("-11.79"), Decimal("40.00")),
             (Decimal("1.00"), Decimal("3.00")), (Decimal("5.00"), Decimal("0.00"))]
    frame = spark.createDataFrame(pairs, "n decimal(18,2), d decimal(18,2)")
    got = [r[0] for r in frame.select(analytics.ratio(F.col("n"), F.col("d"))).collect()]
    assert got == [0.2948, -0.2948, 0.3333, None]
    assert got[:2] == [oracle.ratio(n, d) for n, d in pairs[:2]]


def test_recomputing_one_month_equals_the_full_run(
    inputs: dict[str, Any], full: dict[str, DataFrame], full_rows: dict[str, list[Row]]
) -> None:
    """February alone (with March, its spill-over month) gives exactly February's rows of a
    full refresh: the January sales its 28-day windows need and the January cost P2 carries
    forward are still read, while January's rows are not rewritten."""
    partial = analytics.build_all(**inputs, touched_months={(2024, 2)})
    assert set(partial) == set(KEYS)
    for table in analytics.MONTHLY_TABLES:
        feb = [row for row in full_rows[table] if (row.year, row.month) == (2024, 2)]
        assert feb, table
        assert partial[table].schema == full[table].schema, table
        assert sorted(partial[table].collect(), key=repr) == sorted(feb, key=repr), table
    segments = partial["customer_segments"].collect()
    assert sorted(segments, key=repr) == sorted(full_rows["customer_segments"], key=repr)


def test_months_to_recompute_adds_the_next_month() -> None:
    assert analytics.months_to_recompute({(2024, 2), (2024, 12)}) == {
        (2024, 2), (2024, 3), (2024, 12), (2025, 1),
    }  # fmt: skip


def test_no_touched_month_rebuilds_only_the_global_table(inputs: dict[str, Any]) -> None:
    assert set(analytics.build_all(**inputs, touched_months=set())) == {"customer_segments"}


@pytest.fixture
def lake(tmp_path: Path, new_catalog: Any) -> analytics_job.Settings:
    """Staged and analytics roots under tmp_path, each with a catalog database of its own."""
    return analytics_job.Settings((tmp_path / "staged").as_uri(),
                                  (tmp_path / "analytics").as_uri(), new_catalog(), new_catalog())


def _stage(spark: SparkSession, lake: analytics_job.Settings, table: str, frame: DataFrame,
           day: Column, months: set[tuple[str, str]] | None = None) -> None:  # fmt: skip
    """Staged partitions as the transforms write them: year=YYYY/month=MM of `day`, zero-padded
    (those of `frame`, or `months`: one left without rows leaves the catalog)."""
    frame = frame.drop("year", "month")
    frame = frame.withColumn("year", F.date_format(day, "yyyy"))
    frame = frame.withColumn("month", F.date_format(day, "MM"))
    if months is None:
        months = {(r.year, r.month) for r in frame.select(*PARTITION).distinct().collect()}
    tables.replace(spark, lake.staged, table, f"{lake.staged_root}/{table}", frame, PARTITION,
                   months)  # fmt: skip


def _output(spark: SparkSession, lake: analytics_job.Settings, table: str) -> DataFrame:
    """An analytics table as a reader finds it, year and month as numbers (as build_all)."""
    frame = tables.read(spark, lake.analytics, table, f"{lake.analytics_root}/{table}")
    assert frame is not None, table
    for column in PARTITION:
        if column in frame.columns:
            frame = frame.withColumn(column, F.col(column).cast("int"))
    return frame


def _files(root: Path) -> dict[str, float]:
    return {str(p.relative_to(root)): p.stat().st_mtime_ns for p in root.rglob("*.parquet")}


def _as_dicts(rows: list[Row]) -> list[dict]:
    return sorted(({**r.asDict(), "year": int(r.year)} if "year" in r else r.asDict()
                   for r in rows), key=lambda d: repr(sorted(d.items())))  # fmt: skip


def test_the_job_writes_changed_months_only_and_reruns_change_nothing(
    spark: SparkSession,
    inputs: dict[str, Any],
    full_rows: dict[str, list[Row]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    lake: analytics_job.Settings,
) -> None:
    out = tmp_path / "analytics"
    _stage(spark, lake, "sales", inputs["sales"], F.col("order_date"))
    _stage(spark, lake, "inventory_snapshots", inputs["snapshots"], F.col("snapshot_date"))
    _stage(spark, lake, "products", inputs["products"], F.col("valid_from"))
    _stage(spark, lake, "customers", inputs["customers"], F.lit("2023-06-15").cast("date"))
    calls: list[dict] = []

    class FakeCloudWatch:
        def put_metric_data(self, **kwargs: object) -> None:
            calls.append(kwargs)

    monkeypatch.setattr(metrics.boto3, "client", lambda name: FakeCloudWatch())
    args = {
        "JOB_NAME": "rl-analytics_aggregation", "staged_bucket": "s", "analytics_bucket": "a",
        "staged_database": "rl_staged", "analytics_database": "rl_analytics",
        "metrics_namespace": "Retailake",
    }  # fmt: skip
    settings = analytics_job.settings_from_args(args, ["--full_refresh", "false"])
    assert (settings.staged_root, settings.full_refresh) == ("s3://s", False)
    assert isinstance(settings.staged, GlueCatalog) and isinstance(settings.analytics, GlueCatalog)
    assert (settings.staged.database, settings.analytics.database) == ("rl_staged", "rl_analytics")
    settings = lake
    monkeypatch.setattr(analytics_job, "settings_from_args", lambda _a, _v, _p: settings)

    first = analytics_job.run_glue_job(spark, args, ["--JOB_RUN_ID", "jr_1"])
    inputs_rows = len(SALES) + len(SNAPSHOTS) + len(PRODUCTS) + len(CUSTOMERS)
    assert first.rows_read == inputs_rows
    assert first.rows_written == sum(len(rows) for rows in full_rows.values())
    for table in analytics.TABLES:
        back = _output(spark, lake, table).collect()
        assert _as_dicts(back) == _as_dicts(full_rows[table]), table
    assert ("2024", "01") in lake.analytics.locations("daily_store_sales")
    assert ("2024", "02") in lake.analytics.locations("inventory_health_daily")
    assert list(lake.analytics.locations("customer_segments")) == [()]
    (data,) = calls
    assert data["Namespace"] == "Retailake"
    published = {(m["MetricName"], tuple(d["Value"] for d in m["Dimensions"])): m["Value"]
                 for m in data["MetricData"]}  # fmt: skip
    assert published[("RowsRead", ("rl-analytics_aggregation",))] == inputs_rows
    assert published[("RowsWritten", ("rl-analytics_aggregation", "jr_1"))] == first.rows_written
    assert ("DurationSeconds", ("rl-analytics_aggregation", "jr_1")) in published

    before = _files(out)
    again = analytics_job.run_aggregation(spark, settings)
    assert (again.rows_read, again.rows_written) == (0, 0)
    assert _files(out) == before

    # A later delivery rewrites February's sales partition: January's files stay as they are.
    extra = _sale("O14", 1, "2024-02-12T10:00:00", "S2", "store", "C1", "P3", 1, "19.99")
    sales = inputs["sales"].unionByName(_frame(spark, [extra], SALES_SCHEMA))
    _stage(spark, lake, "sales", sales.where("month = 2"), F.col("order_date"))
    third = analytics_job.run_aggregation(spark, settings)
    after = _files(out)
    january = {k for k in before if "month=01" in k}
    assert january and all(after.get(k) == before[k] for k in january)
    assert any(k not in before for k in after if "daily_store_sales/year=2024/month=02" in k)
    _assert_job_output_is(spark, lake,
                          oracle_tables([*SALES, extra], SNAPSHOTS, PRODUCTS, CUSTOMERS))
    assert third.partitions_rewritten == 2 * len(analytics.MONTHLY_TABLES) + 1  # Feb, Mar; segments


def test_changes_reach_the_months_each_input_decides() -> None:
    before = {"sales": {"2024-01": "a", "2024-02": "b", "2024-05": "c"},
              "inventory_snapshots": {"2024-01": "d", "2024-03": "e"},
              "products": {"2024-01": "f"}, "customers": {"": "g"}}  # fmt: skip
    assert analytics_job.changes(before, before) == (set(), False)

    def changed(table: str, partition: str) -> dict[str, dict[str, str]]:
        return {**before, table: {**before[table], partition: "new"}}

    assert analytics_job.changes(before, changed("customers", "")) == (set(), True)
    assert analytics_job.changes(before, changed("sales", "2024-02")) == ({(2024, 2)}, True)
    # a cost is carried forward: the month and every later month there is data for
    assert analytics_job.changes(before, changed("inventory_snapshots", "2024-02")) == (
        {(2024, 2), (2024, 3), (2024, 5)}, True)
    gone = {**before, "sales": {"2024-01": "a", "2024-02": "b"}}
    assert analytics_job.changes(before, gone) == ({(2024, 5)}, True)
    # a category reaches both ways from its version: every month
    assert analytics_job.changes(before, changed("products", "2023-12")) == (None, True)


LATE_SALES = [_sale(f"L{m}", 1, f"2024-0{m}-10T10:00:00", "S1", "store", "C1", "P9", 2, "9.00")
              for m in range(1, 6)]  # fmt: skip
LATE_SNAPSHOTS = [_snap("2024-05-01", "S1", "P9", 4, "3.00")]
LATE_PRODUCTS = [_product("P9", "Kitchen", "2024-05-01", cost="3.00")]


def _late_history_case(spark: SparkSession, lake: analytics_job.Settings) -> None:
    """P9 sold every month Jan-May, its history starting in May (Kitchen, 3.00): staged."""
    _stage(spark, lake, "sales", _frame(spark, LATE_SALES, SALES_SCHEMA), F.col("order_date"))
    _stage(spark, lake, "inventory_snapshots", _frame(spark, LATE_SNAPSHOTS, SNAPSHOT_SCHEMA),
           F.col("snapshot_date"))  # fmt: skip
    _stage(spark, lake, "products", _frame(spark, LATE_PRODUCTS, PRODUCT_SCHEMA),
           F.col("valid_from"))  # fmt: skip
    _stage(spark, lake, "customers", _frame(spark, CUSTOMERS, CUSTOMER_SCHEMA),
           F.lit("2023-06-15").cast("date"))  # fmt: skip


def _assert_job_output_is(
    spark: SparkSession, lake: analytics_job.Settings, expected: dict[str, list[dict]]
) -> None:
    """Every table the job wrote, read back whole, against the oracle's."""
    for table in KEYS:
        back = _output(spark, lake, table).collect()
        oracle.assert_same_rows(table, _as_dicts(back), expected[table])


def test_a_late_early_snapshot_updates_every_month_its_history_reaches(
    spark: SparkSession, lake: analytics_job.Settings
) -> None:
    """Inventory delivered late for January gives P9 a first version (Home, 1.50) covering
    January to May: February-April take its category and cost too, not only January and the
    month after it, as an incremental run did."""
    _late_history_case(spark, lake)
    analytics_job.run_aggregation(spark, lake)
    late = _snap("2024-01-01", "S1", "P9", 5, "1.50")
    _stage(spark, lake, "inventory_snapshots", _frame(spark, [late], SNAPSHOT_SCHEMA),
           F.col("snapshot_date"))  # fmt: skip
    first = _product("P9", "Home", "2024-01-01", "2024-05-01", "1.50")
    # the May version is unchanged: its partition stays
    _stage(spark, lake, "products", _frame(spark, [first], PRODUCT_SCHEMA), F.col("valid_from"))
    analytics_job.run_aggregation(spark, lake)
    _assert_job_output_is(spark, lake, oracle_tables(
        LATE_SALES, [*LATE_SNAPSHOTS, late], [*LATE_PRODUCTS, first], CUSTOMERS))
    april = _output(spark, lake, "product_performance_monthly").where("month = 4").first()
    assert april is not None and (april.category, april.unit_cost) == ("Home", Decimal("1.50"))


def test_a_run_stopped_while_writing_leaves_nothing_the_next_run_keeps(
    spark: SparkSession, lake: analytics_job.Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """June written, then the run dies before its state; June's sales go (their raw object
    removed): the next run must not keep June's rows, which no fingerprint knows of."""
    _late_history_case(spark, lake)
    analytics_job.run_aggregation(spark, lake)
    june = _frame(spark, [_sale("L6", 1, "2024-06-10T10:00:00", "S1", "store", "C1", "P9", 2,
                                "9.00")], SALES_SCHEMA)  # fmt: skip
    _stage(spark, lake, "sales", june, F.col("order_date"))

    def killed(*_args: object) -> tuple[int, int]:
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(analytics_job, "_write_whole", killed)  # after the monthly tables
        with pytest.raises(KeyboardInterrupt):
            analytics_job.run_aggregation(spark, lake)
    assert ("2024", "06") in lake.analytics.locations("daily_store_sales")
    _stage(spark, lake, "sales", june.where("false"), F.col("order_date"), {("2024", "06")})
    analytics_job.run_aggregation(spark, lake)
    _assert_job_output_is(spark, lake, oracle_tables(LATE_SALES, LATE_SNAPSHOTS, LATE_PRODUCTS,
                                                     CUSTOMERS))


def test_a_state_left_by_an_older_rule_is_not_trusted(
    spark: SparkSession, tmp_path: Path, lake: analytics_job.Settings
) -> None:
    """Its months may hold what the narrower incremental rule got wrong: one full refresh."""
    out = lake.analytics_root
    _late_history_case(spark, lake)
    settings = lake
    analytics_job.run_aggregation(spark, settings)
    state = tmp_path / "analytics" / analytics_job.STATE
    document = json.loads(state.read_text())
    assert document["version"] == analytics_job.STATE_VERSION
    older = json.dumps({**document, "version": 1})
    storage.write_text(spark, f"{out}/{analytics_job.STATE}", older)
    assert analytics_job.run_aggregation(spark, settings).partitions_rewritten > 0
    assert analytics_job.run_aggregation(spark, settings).partitions_rewritten == 0
