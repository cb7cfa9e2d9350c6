"""The analytics_aggregation job's I/O around `analytics.build_all`: read the staged tables,
find the months that changed since the last run, rewrite only those months' partitions (or
everything on a full refresh), and report RowsRead / RowsWritten / DurationSeconds.

Which months changed: the staged writers replace a partition by writing a new folder and
pointing the catalog at it (`tables`), so a partition's catalog location changes whenever it
is rewritten. `<analytics_root>/_state/analytics_aggregation.json`, written last, keeps those
locations per staged table and partition as of the last successful run. A sales,
inventory_snapshots or products partition that appeared, changed or disappeared touches the
months `changes` says; any change (customers included) rebuilds customer_segments. Nothing
changed: nothing is written, so a rerun changes nothing. The state is marked unfinished before
the first write: a run that stopped while writing makes the next one a full refresh, as its
partial writes (a month it added, say, whose staged rows are gone by then) are in no
fingerprint.

Layout: `<analytics_root>/<table>/year=YYYY/month=MM/gen=<id>/` (zero-padded text, as in the
staged layer; inventory_health_daily by its snapshot_date), customer_segments unpartitioned
(`<table>/gen=<id>/`); each table is in the analytics catalog database."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from retailake_etl import analytics, storage, tables
from retailake_etl.arguments import (
    full_refresh_requested,
    workflow_run_properties,
)
from retailake_etl.catalog import Catalog, GlueCatalog
from retailake_etl.metrics import RunCounts, report

PARTITION = ("year", "month")
STATE = "_state/analytics_aggregation.json"
# 2: the months a change touches widened (see `changes`); 3: partitions known by their catalog
# locations, not file names. A state of another version was left by other rules (whose
# incremental results may differ from a full refresh's), so it is not trusted.
STATE_VERSION = 3
MONTHLY_INPUTS = ("sales", "inventory_snapshots", "products")
INPUTS = (*MONTHLY_INPUTS, "customers")

# The staged columns the analytics read; an input with no data yet is an empty frame of these.
STAGED_SCHEMAS = {
    "sales": (
        "order_id string, line_number int, order_ts timestamp, order_date date, "
        "store_id string, channel string, customer_id string, product_id string, quantity int, "
        "unit_price decimal(12,2), discount_pct decimal(5,4), currency string, "
        "gross_amount decimal(18,2), discount_amount decimal(18,2), net_amount decimal(18,2), "
        "is_return boolean, year string, month string"
    ),
    "inventory_snapshots": (
        "snapshot_date date, store_id string, product_id string, quantity_on_hand int, "
        "quantity_on_order int, unit_cost decimal(12,2), reorder_point int, "
        "year string, month string"
    ),
    "products": (
        "product_id string, product_name string, category string, brand string, "
        "unit_cost decimal(12,2), valid_from date, valid_to date, is_current boolean, "
        "year string, month string"
    ),
    "customers": (
        "customer_id string, email_hash string, phone_hash string, city string, state string, "
        "postal_code string, country string, age_band string, tenure_months int, "
        "loyalty_tier string, segment string"
    ),
}

Fingerprints = dict[str, dict[str, str]]  # staged table -> "YYYY-MM" (or "") -> location


@dataclass(frozen=True)
class Settings:
    """What an aggregation run needs, as plain values (the entry point builds it)."""

    staged_root: str  # e.g. s3://<staged bucket>; file:// in tests
    analytics_root: str  # e.g. s3://<analytics bucket>
    staged: Catalog = field(repr=False)  # the catalog databases naming each layer's files
    analytics: Catalog = field(repr=False)
    full_refresh: bool = False


def _uri(root: str, name: str) -> str:
    return f"{root.rstrip('/')}/{name}"


def staged_fingerprints(catalog: Catalog) -> Fingerprints:
    """Per staged input and partition ("YYYY-MM", "" when unpartitioned), its location."""
    return {
        table: {"-".join(values): location
                for values, location in catalog.locations(table).items()}
        for table in INPUTS
    }  # fmt: skip


def changes(before: Fingerprints, now: Fingerprints) -> tuple[set[analytics.Month] | None, bool]:
    """(the months the monthly tables must recompute, None for every month; whether anything
    at all changed). What a changed partition of each monthly input reaches:

    * sales: its month (`months_to_recompute` adds the next, for the 28-day windows);
    * inventory_snapshots: its month and every later one, as a product's unit cost is carried
      forward into the months after its last snapshot;
    * products: every month, as a version gives a product its category up to the next
      version, and the first version back to the beginning of time."""
    differing = {
        table: {p for p in old.keys() | new.keys() if old.get(p) != new.get(p)}
        for table in INPUTS
        for old, new in [(before.get(table, {}), now.get(table, {}))]
    }
    anything = any(differing.values())
    if differing["products"]:
        return None, anything
    present = {_month(p) for fingerprints in (before, now) for table in MONTHLY_INPUTS
               for p in fingerprints.get(table, {}) if p}  # fmt: skip
    touched = {_month(p) for p in differing["sales"] if p}
    for start in (_month(p) for p in differing["inventory_snapshots"] if p):
        touched |= {month for month in present if month >= start}
    return touched, anything


def _month(partition: str) -> analytics.Month:
    return int(partition[:4]), int(partition[5:7])


def _read(spark: SparkSession, settings: Settings, table: str) -> DataFrame:
    frame = tables.read(spark, settings.staged, table, _uri(settings.staged_root, table))
    return frame if frame is not None else spark.createDataFrame([], STAGED_SCHEMAS[table])


def _as_partition_text(frame: DataFrame) -> DataFrame:
    """year/month as the zero-padded text the partition folders use."""
    return frame.withColumn("year", F.lpad(F.col("year").cast("string"), 4, "0")).withColumn(
        "month", F.lpad(F.col("month").cast("string"), 2, "0")
    )


def _write_monthly(
    spark: SparkSession, settings: Settings, name: str, frame: DataFrame,
    months: set[analytics.Month] | None,
) -> tuple[int, int]:  # fmt: skip
    """Replace the partitions of `months` (None: every partition, old and new) with `frame`'s
    rows (a month without rows loses its partition). Returns (rows, partitions) written."""
    frame = _as_partition_text(frame)
    if months is None:
        produced = {tuple(r) for r in frame.select(*PARTITION).distinct().collect()}
        partitions = produced | tables.partitions(settings.analytics, name)
    else:
        partitions = {(f"{y:04d}", f"{m:02d}") for y, m in months}
    rows = tables.replace(spark, settings.analytics, name, _uri(settings.analytics_root, name),
                          frame, PARTITION, partitions)  # fmt: skip
    return rows, len(partitions)


def _write_whole(
    spark: SparkSession, settings: Settings, name: str, frame: DataFrame
) -> tuple[int, int]:
    rows = tables.replace(spark, settings.analytics, name, _uri(settings.analytics_root, name),
                          frame, (), [()])  # fmt: skip
    return rows, 1


def run_aggregation(spark: SparkSession, settings: Settings) -> RunCounts:
    """One run: recompute what changed in staged since the last run (everything on a full
    refresh) and write it. rows_read counts the rows of the four staged inputs."""
    started = time.monotonic()
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    state_uri = _uri(settings.analytics_root, STATE)
    now = staged_fingerprints(settings.staged)
    state = json.loads(storage.read_text(spark, state_uri) or "{}")
    # A run that stopped while writing left partitions no fingerprint accounts for: redo all.
    untrusted = bool(state) and (state.get("unfinished") or state.get("version") != STATE_VERSION)
    full_refresh = settings.full_refresh or untrusted
    before: Fingerprints = {} if full_refresh else state.get("staged", {})
    touched, anything = changes(before, now)
    if not (anything or full_refresh):
        return RunCounts(duration_seconds=round(time.monotonic() - started, 3))

    inputs = {table: _read(spark, settings, table) for table in INPUTS}
    rows_read = sum(frame.count() for frame in inputs.values())
    touched_months = None if full_refresh else touched
    shared: list[DataFrame] = []  # what several tables read: cached until they are written

    def cached(frame: DataFrame) -> DataFrame:
        shared.append(frame.persist())
        return frame

    built = analytics.build_all(
        inputs["sales"],
        inputs["inventory_snapshots"],
        inputs["products"],
        inputs["customers"],
        touched_months,
        share=cached,
    )
    months = None if touched_months is None else analytics.months_to_recompute(touched_months)
    written = rewritten = 0
    # A full refresh reads each table's months before writing it, and kpi_summary_monthly is
    # built on two others: cached (they are small), each is computed once. So are the order
    # slices three tables read (`shared`, about a row per order). The writes count the rows
    # they write as they go.
    for frame in built.values():
        frame.persist()
    storage.write_text(spark, state_uri, json.dumps({**state, "unfinished": True}))
    try:
        for name, frame in built.items():
            if name in analytics.MONTHLY_TABLES:
                rows, partitions = _write_monthly(spark, settings, name, frame, months)
            else:
                rows, partitions = _write_whole(spark, settings, name, frame)
            written, rewritten = written + rows, rewritten + partitions
    finally:
        for frame in [*built.values(), *shared]:
            frame.unpersist()
    written_at = dt.datetime.now(dt.UTC).isoformat()
    document = {"version": STATE_VERSION, "written_at": written_at, "staged": now}
    storage.write_text(spark, state_uri, json.dumps(document, indent=1, sort_keys=True))
    return RunCounts(
        rows_read=rows_read,
        rows_written=written,
        duration_seconds=round(time.monotonic() - started, 3),
        partitions_rewritten=rewritten,
    )


def settings_from_args(
    args: dict[str, str], argv: Sequence[str], run_properties: Mapping[str, str] | None = None
) -> Settings:
    """Glue job arguments -> Settings; full refresh as `full_refresh_requested` decides."""
    full = full_refresh_requested(argv, run_properties or {})
    return Settings(
        staged_root=f"s3://{args['staged_bucket']}",
        analytics_root=f"s3://{args['analytics_bucket']}",
        staged=GlueCatalog(args["staged_database"]),
        analytics=GlueCatalog(args["analytics_database"]),
        full_refresh=full,
    )


def run_glue_job(spark: SparkSession, args: dict[str, str], argv: Sequence[str]) -> RunCounts:
    """What the Glue entry point calls: the run, then its report (`metrics.report`)."""
    settings = settings_from_args(args, argv, workflow_run_properties(argv))
    counts = run_aggregation(spark, settings)
    report(counts, args, argv)
    return counts
