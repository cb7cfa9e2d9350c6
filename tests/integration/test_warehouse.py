"""The warehouse on the local twin after the shared pipeline run: `warehouse setup` builds the
external schema from the emulator's catalog and the BI views from sql/, and every named query
returns what an independent computation over the analytics Parquet (plain Python, Decimal)
expects. Real CLI subprocesses, real emulator, real DuckDB."""

from __future__ import annotations

import datetime as dt
import io
import json
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pyarrow.parquet as pq
import pytest

from retailake.aws.clients import client
from retailake.outputs import load_outputs
from retailake.warehouse import sql_files
from tests.integration.conftest import retailake
from tests.integration.lake_tables import current_folders, current_objects, read_layer_table

pytestmark = pytest.mark.integration
TABLES = (
    "customer_segments",
    "daily_store_sales",
    "inventory_health_daily",
    "kpi_summary_monthly",
    "product_performance_monthly",
)
VIEWS = ("customer_segments", "daily_revenue", "inventory_alerts", "monthly_kpis", "top_products")


def cli_json(*args: str) -> Any:
    run = retailake(*args)
    assert run.returncode == 0, str(run)
    return json.loads(run.stdout)


@pytest.fixture(scope="module")
def setup_record(pipeline_run) -> list[dict]:
    return cli_json("warehouse", "setup", "--format", "json")["steps"]


@pytest.fixture(scope="module")
def analytics(deployed_local_env, setup_record) -> dict[str, list[dict]]:
    """Every analytics table's rows as plain Python, as the catalog names its files."""
    tables = {name: read_layer_table(deployed_local_env, "analytics", name) for name in TABLES}
    assert all(tables.values()), {name: len(rows) for name, rows in tables.items()}
    return tables


def query(name: str) -> list[dict]:
    return cli_json("query", name, "--format", "json")["rows"]


def num(value: Decimal | int | None) -> float | int | None:
    """As the JSON output carries a decimal: a number."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def ratio(numerator: Decimal | int, denominator: Decimal | int, places: int = 4) -> float | None:
    if not denominator:
        return None
    return float((Decimal(numerator) / Decimal(denominator)).quantize(
        Decimal(1).scaleb(-places), ROUND_HALF_UP))


def assert_rows(got: list[dict], expected: list[dict], tolerance: dict[str, float]) -> None:
    """Whole rows in order; a float column may differ by its tolerance (a ratio computed in
    binary floating point may round the other way at a tie, or a money quotient by a cent)."""
    assert [list(row) for row in got] == [list(row) for row in expected]
    mismatches = []
    for index, (g, e) in enumerate(zip(got, expected, strict=True)):
        for column, want in e.items():
            have = g[column]
            if isinstance(want, float) and isinstance(have, int | float):
                if abs(have - want) > tolerance.get(column, 0) + 1e-9:
                    mismatches.append((index, column, have, want))
            elif have != want:
                mismatches.append((index, column, have, want))
    assert not mismatches, mismatches[:10]


def sum_known(values: list[Decimal | None]) -> Decimal | None:
    known = [v for v in values if v is not None]
    return sum(known, Decimal(0)) if known else None


def test_setup_builds_the_external_schema_from_the_catalog_and_the_views(
    deployed_local_env, setup_record
):
    outputs = load_outputs(deployed_local_env)
    assert [(s["kind"], s["name"]) for s in setup_record] == [
        ("external schema", "spectrum_analytics"),
        *(("external table", f"spectrum_analytics.{t}") for t in TABLES),
        ("schema", "retail_bi"),
        *(("view", f"retail_bi.{v}") for v in VIEWS),
    ]
    assert setup_record[0]["detail"] == f"Glue database {outputs['glue_databases']['analytics']}"
    bucket = outputs.buckets["analytics"]
    # a table's location: the folder its partitions are under, or (customer_segments,
    # unpartitioned) the one its rows are in now
    assert [s["detail"].split(" (")[0] for s in setup_record[1:6]] == [
        current_folders(deployed_local_env, "analytics", table).get((),
                                                                     f"s3://{bucket}/{table}/")
        for table in TABLES
    ]  # fmt: skip


def test_setup_again_changes_nothing(setup_record):
    assert cli_json("warehouse", "setup", "--format", "json") == {"steps": setup_record}


def test_status_sees_the_external_schema(setup_record):
    shown = retailake("status", "--format", "json")
    assert json.loads(shown.stdout)["warehouse"]["external_schema"] == "present", str(shown)


def test_a_query_reads_the_lake_as_it_is_now_without_setup_again(deployed_local_env,
                                                                  setup_record):
    """As Spectrum reads S3 when it runs a query: an object added to a table after setup
    counts in the next query, and stops counting once it is removed."""
    s3 = client(deployed_local_env, "s3")
    bucket = load_outputs(deployed_local_env).buckets["analytics"]
    statement = "select count(*) as n from spectrum_analytics.customer_segments"

    def count() -> int:
        return cli_json("query", "--sql", statement, "--format", "json")["rows"][0]["n"]

    before = count()
    part = next(iter(current_objects(deployed_local_env, "analytics", "customer_segments")))
    rows = pq.read_table(io.BytesIO(s3.get_object(Bucket=bucket, Key=part)["Body"].read()))
    added = part.rsplit("/", 1)[0] + "/added-after-setup.parquet"
    s3.copy_object(Bucket=bucket, Key=added, CopySource={"Bucket": bucket, "Key": part})
    try:
        assert count() == before + rows.num_rows > before
    finally:  # leave the shared twin's analytics layer as the pipeline wrote it
        versions = s3.list_object_versions(Bucket=bucket, Prefix=added)
        for version in versions.get("Versions", []) + versions.get("DeleteMarkers", []):
            s3.delete_object(Bucket=bucket, Key=added, VersionId=version["VersionId"])
    assert count() == before


def test_top_products(analytics):
    per_product: dict[str, dict] = defaultdict(lambda: {"rows": []})
    for row in analytics["product_performance_monthly"]:
        per_product[row["product_id"]]["rows"].append(row)
    totals = []
    for product, group in per_product.items():
        rows = group["rows"]
        latest = max(rows, key=lambda r: (r["year"], r["month"]))
        revenue = sum(r["net_revenue"] for r in rows)
        margin = sum_known([r["gross_margin"] for r in rows])
        costed = sum_known([r["net_revenue"] for r in rows if r["cogs"] is not None])
        totals.append({
            "product_id": product,
            "category": latest["category"],
            "units_sold": sum(r["units_sold"] for r in rows),
            "net_revenue": revenue,
            "gross_margin": margin,
            "gross_margin_pct": None if margin is None else ratio(margin, costed),
        })
    expected = []
    for row in totals:
        rank = 1 + sum(other["net_revenue"] > row["net_revenue"] for other in totals)
        if rank <= 10:
            expected.append({"revenue_rank": rank, **{k: num(v) for k, v in row.items()}})
    expected.sort(key=lambda r: (r["revenue_rank"], r["product_id"]))
    assert_rows(query("top_products"), expected, {"gross_margin_pct": 1e-4})


def test_revenue_by_channel(analytics):
    revenue: dict[tuple, Decimal] = defaultdict(Decimal)
    for row in analytics["daily_store_sales"]:
        revenue[(int(row["year"]), int(row["month"]), row["channel"])] += row["net_amount"]
    month_total: dict[tuple, Decimal] = defaultdict(Decimal)
    for (year, month, _), amount in revenue.items():
        month_total[(year, month)] += amount
    expected = [
        {"year": y, "month": m, "channel": c, "net_revenue": num(amount),
         "revenue_share": ratio(amount, month_total[(y, m)])}
        for (y, m, c), amount in sorted(revenue.items())
    ]
    assert_rows(query("revenue_by_channel"), expected, {"revenue_share": 1e-4})


def test_store_leaderboard(analytics):
    stores: dict[str, dict] = defaultdict(lambda: defaultdict(Decimal))
    for row in analytics["daily_store_sales"]:
        store = stores[row["store_id"]]
        for column in ("orders", "net_amount", "returned_units", "units"):
            store[column] += row[column]
    expected = sorted(
        (
            {
                "store_id": store_id,
                "orders": num(s["orders"]),
                "net_revenue": num(s["net_amount"]),
                "avg_order_value": ratio(s["net_amount"], s["orders"], places=2),
                "return_rate": ratio(s["returned_units"], s["units"]),
            }
            for store_id, s in stores.items()
        ),
        key=lambda r: (-r["net_revenue"], r["store_id"]),
    )
    # DuckDB divides decimals in double precision: a quotient on a half cent may round down.
    assert_rows(query("store_leaderboard"), expected,
                {"avg_order_value": 0.01, "return_rate": 1e-4})


def _nulls_last(value: str | None) -> tuple[bool, str]:
    return (value is None, value or "")


def test_stockout_hotspots(analytics):
    health = analytics["inventory_health_daily"]
    last = max(r["year"] + r["month"] for r in health)
    pairs: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    for row in health:
        if row["year"] + row["month"] == last:
            pair = pairs[(row["store_id"], row["category"])]
            pair[0] += row["stockout_skus"]
            pair[1] += row["skus"]
    expected = sorted(
        (
            {"store_id": store, "category": category, "stockout_sku_days": out,
             "sku_days": skus, "stockout_rate": ratio(out, skus)}
            for (store, category), (out, skus) in pairs.items() if out > 0
        ),
        key=lambda r: (-r["stockout_rate"], r["store_id"], _nulls_last(r["category"])),
    )[:10]
    assert expected  # the sample's last month has stockouts: an empty answer would not pass
    assert_rows(query("stockout_hotspots"), expected, {"stockout_rate": 1e-4})


def test_customer_segments(analytics):
    customers = analytics["customer_segments"]
    segments: dict[str, list[dict]] = defaultdict(list)
    for row in customers:
        segments[row["rfm_segment"]].append(row)
    expected = []
    for name, rows in segments.items():
        monetary = sum(r["monetary"] for r in rows)
        expected.append({
            "rfm_segment": name,
            "customers": len(rows),
            "customer_share": ratio(len(rows), len(customers)),
            "avg_recency_days": ratio(sum(r["recency_days"] for r in rows), len(rows), 1),
            "avg_orders": ratio(sum(r["frequency"] for r in rows), len(rows), 2),
            "monetary": num(monetary),
            "avg_monetary": ratio(monetary, len(rows), 2),
        })
    expected.sort(key=lambda r: (-r["monetary"], r["rfm_segment"]))
    assert_rows(query("customer_segments"), expected, {
        "customer_share": 1e-4, "avg_recency_days": 0.1, "avg_orders": 0.01,
        "avg_monetary": 0.01,
    })


def test_monthly_kpis(analytics):
    months = sorted(analytics["kpi_summary_monthly"], key=lambda r: (r["year"], r["month"]))
    expected = []
    previous = None
    for row in months:
        growth = None
        if previous is not None:
            growth = ratio(row["revenue"] - previous, previous)
        previous = row["revenue"]
        expected.append({
            "year": int(row["year"]), "month": int(row["month"]), "revenue": num(row["revenue"]),
            "revenue_growth": growth,
            **{c: num(row[c]) for c in (
                "orders", "avg_order_value", "gross_margin_pct", "repeat_customer_rate",
                "return_rate", "stockout_rate",
            )},
        })
    assert_rows(query("monthly_kpis"), expected, {"revenue_growth": 1e-4})


def test_restock_now(analytics):
    health = analytics["inventory_health_daily"]
    latest: dict[str, dt.date] = {}
    for row in health:
        latest[row["store_id"]] = max(latest.get(row["store_id"], row["snapshot_date"]),
                                      row["snapshot_date"])
    expected = []
    for row in health:
        supply = row["days_of_supply"]
        low = supply is not None and supply < 7
        if row["snapshot_date"] != latest[row["store_id"]]:
            continue
        if not (row["stockout_skus"] or row["below_reorder_skus"] or low):
            continue
        alert = ("stockout" if row["stockout_skus"] else
                 "below reorder point" if row["below_reorder_skus"] else "under 7 days of supply")
        expected.append({
            "store_id": row["store_id"], "category": row["category"], "alert": alert,
            "stockout_skus": row["stockout_skus"],
            "below_reorder_skus": row["below_reorder_skus"],
            "days_of_supply": supply, "snapshot_date": row["snapshot_date"].isoformat(),
        })
    expected.sort(key=lambda r: (-r["stockout_skus"], -r["below_reorder_skus"],
                                 r["days_of_supply"] or 0, r["store_id"],
                                 _nulls_last(r["category"])))
    assert expected
    assert_rows(query("restock_now"), expected, {})


def test_weekday_sales(analytics):
    days: dict[int, list] = defaultdict(lambda: [0, Decimal(0)])
    for row in analytics["daily_store_sales"]:
        day = days[row["order_date"].isoweekday() % 7]  # Redshift's dow: Sunday is 0
        day[0] += row["orders"]
        day[1] += row["net_amount"]
    names = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    expected = [
        {"day_of_week": d, "day_name": names[d], "orders": orders, "net_revenue": num(net)}
        for d, (orders, net) in sorted(days.items())
    ]
    assert_rows(query("weekday_sales"), expected, {})


def test_every_named_query_is_checked_here():
    checked = {name.removeprefix("test_") for name in globals() if name.startswith("test_")}
    assert set(sql_files.named_queries()) <= checked


def test_ad_hoc_sql_as_csv(analytics):
    run = retailake("query", "--sql",
                    "select count(*) as n, sum(orders) as orders "
                    "from spectrum_analytics.daily_store_sales", "--format", "csv")
    assert run.returncode == 0, str(run)
    rows = analytics["daily_store_sales"]
    assert run.stdout == f"n,orders\n{len(rows)},{sum(r['orders'] for r in rows)}\n"
    assert run.stderr.strip().startswith("1 row in ")


def test_an_unknown_query_lists_the_known_ones(setup_record):
    run = retailake("query", "top_product")
    assert run.returncode == 2, str(run)
    assert run.stdout == ""
    known = ", ".join(sql_files.named_queries())
    assert f"no query named 'top_product': known queries are {known}" in run.stderr


def test_a_sql_error_shows_the_statement_and_the_database_message(setup_record):
    statement = "select nope from spectrum_analytics.daily_store_sales"
    run = retailake("query", "--sql", statement)
    assert run.returncode == 1, str(run)
    assert run.stdout == ""
    lines = run.stderr.splitlines()
    assert lines[0].startswith('error: Binder Error: Referenced column "nope" not found'), str(run)
    assert lines[-2:] == ["  in the statement:", f"    {statement}"]
