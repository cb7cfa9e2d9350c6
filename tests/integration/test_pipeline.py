"""The pipeline end to end on the local twin: seeded raw data -> run-pipeline (real crawlers'
stand-in, the real Glue scripts in local Spark over S3A) -> staged and analytics in the
emulator's S3, checked against an independent computation straight from the raw files."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

import pyarrow.parquet as pq
import pytest

from retailake.aws.clients import client
from retailake.aws.s3 import iter_objects
from retailake.outputs import load_outputs
from tests.integration.conftest import retailake

pytestmark = pytest.mark.integration
CENT = Decimal("0.01")


def run_pipeline(*flags: str) -> dict:
    run = retailake("run-pipeline", "--format", "json", *flags, timeout=900)
    assert run.returncode == 0, str(run)
    return json.loads(run.stdout)


def job_rows(record: dict) -> dict[str, dict[str, float]]:
    return {n["name"]: n["rows"] for n in record["nodes"] if n["kind"] == "job"}


def objects(s3, bucket: str, prefix: str = "") -> dict[str, str]:
    return {o["Key"]: o["ETag"] for o in iter_objects(s3, bucket, prefix)}


def read_table(s3, bucket: str, prefix: str) -> list[dict]:
    rows = []
    for key in objects(s3, bucket, prefix):
        if key.endswith(".parquet"):
            body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
            rows += pq.read_table(io.BytesIO(body)).to_pylist()
    return rows


def clean_raw_sales(s3, bucket: str, manifest: dict) -> list[dict]:
    """Every raw sales row the manifest does not list as injected dirt (ingested files too)."""
    dirty = {(d["file"], d["line"]) for d in manifest["dirty_rows"] if d["source"] == "sales"}
    rows = []
    for key in objects(s3, bucket, "sales/"):
        text = s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode()
        lines = text.splitlines()
        header = next(csv.reader([lines[0]]))
        for number, line in enumerate(lines[1:], start=2):
            if (key, number) not in dirty:
                rows.append(dict(zip(header, next(csv.reader([line])), strict=True)))
    return rows


def expected_daily_store_sales(rows: list[dict]) -> dict[tuple, dict]:
    """DESIGN.md's daily_store_sales, computed line by line in Decimal."""
    groups: dict[tuple, dict] = defaultdict(
        lambda: {
            "orders": set(),
            "lines": 0,
            "units": 0,
            "returned_units": 0,
            "gross_amount": Decimal(0),
            "discount_amount": Decimal(0),
            "net_amount": Decimal(0),
        }
    )
    for row in rows:
        stamp = dt.datetime.fromisoformat(row["order_ts"])
        if stamp.tzinfo is not None:
            stamp = stamp.astimezone(dt.UTC)
        quantity = int(row["quantity"])
        gross = quantity * Decimal(row["unit_price"])
        discount_pct = Decimal(row.get("discount_pct") or "0")  # optional columns may be absent
        discount = (gross * discount_pct).quantize(CENT, ROUND_HALF_UP)
        group = groups[(stamp.date(), row["store_id"], row.get("channel") or "store")]
        group["orders"].add(row["order_id"])
        group["lines"] += 1
        group["units"] += max(quantity, 0)
        group["returned_units"] += max(-quantity, 0)
        group["gross_amount"] += gross
        group["discount_amount"] += discount
        group["net_amount"] += gross - discount
    expected = {}
    for key, group in groups.items():
        orders = len(group.pop("orders"))
        aov = (group["net_amount"] / orders).quantize(CENT, ROUND_HALF_UP)
        expected[key] = {**group, "orders": orders, "avg_order_value": aov}
    return expected


@pytest.fixture(scope="module")
def pipeline(pipeline_run):
    return pipeline_run


def test_every_row_is_accounted_for_and_dirt_is_rejected(deployed_local_env, pipeline):
    assert pipeline["state"] == "SUCCEEDED"
    outputs = load_outputs(deployed_local_env)
    s3 = client(deployed_local_env, "s3")
    raw = outputs.buckets["raw"]
    manifest = json.loads(s3.get_object(Bucket=raw, Key="_manifest/seed-42.json")["Body"].read())
    rows = job_rows(pipeline)
    for source in ("sales", "inventory", "customers"):
        counts = rows[outputs["glue_jobs"][f"transform_{source}"]]
        assert counts["rows_read"] == (
            counts["rows_written"] + counts["rows_rejected"] + counts["duplicates_dropped"]
        ), (source, counts)
        injected = [d for d in manifest["dirty_rows"] if d["source"] == source]
        rejected = [d for d in injected if d["reason"] != "DUPLICATE_KEY"]
        assert counts["rows_rejected"] == len(rejected), (source, counts)
    sales = rows[outputs["glue_jobs"]["transform_sales"]]
    assert sales["duplicates_dropped"] == sum(
        1
        for d in manifest["dirty_rows"]
        if d["source"] == "sales" and d["reason"] == "DUPLICATE_KEY"
    )


def test_daily_store_sales_match_an_independent_computation(deployed_local_env, pipeline):
    outputs = load_outputs(deployed_local_env)
    s3 = client(deployed_local_env, "s3")
    raw = outputs.buckets["raw"]
    manifest = json.loads(s3.get_object(Bucket=raw, Key="_manifest/seed-42.json")["Body"].read())
    expected = expected_daily_store_sales(clean_raw_sales(s3, raw, manifest))
    actual = {
        (r["order_date"], r["store_id"], r["channel"]): r
        for r in read_table(s3, outputs.buckets["analytics"], "daily_store_sales/")
    }
    assert set(actual) == set(expected)
    for key, want in expected.items():
        got = {name: actual[key][name] for name in want}
        assert got == want, key


def test_no_clear_text_pii_outside_raw(deployed_local_env, pipeline):
    outputs = load_outputs(deployed_local_env)
    s3 = client(deployed_local_env, "s3")
    pii: set[str] = set()
    for key in objects(s3, outputs.buckets["raw"], "customers/"):
        text = s3.get_object(Bucket=outputs.buckets["raw"], Key=key)["Body"].read().decode()
        for record in csv.DictReader(io.StringIO(text)):
            pii |= {(record.get(c) or "").strip() for c in ("email", "phone", "street")}
    pii.discard("")
    assert len(pii) > 1000
    for layer in ("staged", "analytics"):
        for row in read_table(s3, outputs.buckets[layer], ""):
            assert not {"first_name", "last_name", "email", "phone", "street"} & set(row)
            leaked = {str(v).strip() for v in row.values() if v is not None} & pii
            assert not leaked, (layer, leaked)


def test_a_rerun_with_nothing_new_changes_nothing(deployed_local_env, pipeline):
    outputs = load_outputs(deployed_local_env)
    s3 = client(deployed_local_env, "s3")
    before = {layer: objects(s3, outputs.buckets[layer]) for layer in ("staged", "analytics")}
    again = run_pipeline()
    assert again["state"] == "SUCCEEDED"
    for name, counts in job_rows(again).items():
        assert counts.get("rows_written", 0) == 0, (name, counts)
    after = {layer: objects(s3, outputs.buckets[layer]) for layer in ("staged", "analytics")}
    assert after == before


def test_one_new_file_rewrites_only_the_partitions_it_touches(
    deployed_local_env, pipeline, tmp_path
):
    outputs = load_outputs(deployed_local_env)
    s3 = client(deployed_local_env, "s3")
    staged = outputs.buckets["staged"]
    before = objects(s3, staged, "sales/")
    late = tmp_path / "late-sales.csv"
    late.write_text(
        "order_id,line_number,order_ts,store_id,product_id,quantity,unit_price\n"
        "LATE-1,1,2025-11-15T12:00:00,S001,P00001,3,19.99\n"
    )
    ingested = retailake("ingest", str(late), "--source", "sales")
    assert ingested.returncode == 0, str(ingested)
    run = run_pipeline()
    sales_job = outputs["glue_jobs"]["transform_sales"]
    assert job_rows(run)[sales_job]["rows_read"] >= 1
    after = objects(s3, staged, "sales/")
    changed = {key for key in set(before) | set(after) if before.get(key) != after.get(key)}
    assert changed, "the new sale reached no staged partition"
    assert all("/year=2025/month=11/" in key for key in changed), sorted(changed)
