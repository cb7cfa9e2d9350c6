"""The pipeline end to end on the local twin: seeded raw data -> run-pipeline (real crawlers'
stand-in, the real Glue scripts in local Spark over S3A) -> staged and analytics in the
emulator's S3, checked against an independent computation straight from the raw files."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import hmac
import io
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pyarrow.parquet as pq
import pytest

from retailake.aws.clients import client
from retailake.aws.s3 import iter_objects
from retailake.local import emulator
from retailake.local.glue import history
from retailake.outputs import load_outputs
from tests.etl import kpi_oracle as oracle
from tests.integration import lake_tables
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


def object_bytes(s3, bucket: str, key: str) -> bytes:
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read()


def read_table(s3, bucket: str, prefix: str) -> list[dict]:
    rows = []
    for key in objects(s3, bucket, prefix):
        if key.endswith(".parquet"):
            body = object_bytes(s3, bucket, key)
            rows += pq.read_table(io.BytesIO(body)).to_pylist()
    return rows


def read_layer_table(env, layer: str, table: str) -> list[dict]:
    """A table's rows as a reader finds them, its partition values as numbers (as the
    oracle's)."""
    return [{**row, **{k: int(row[k]) for k in ("year", "month") if k in row}}
            for row in lake_tables.read_layer_table(env, layer, table)]  # fmt: skip


def quarantined(s3, outputs, source: str) -> set[tuple[str, int, str]]:
    """(raw object, row, reason) of every row in staged/_rejects/<source>."""
    rows = read_table(s3, outputs.buckets["staged"], f"_rejects/{source}/")
    return {(r["source_file"], r["row_number"], r["reason"]) for r in rows}


def seed_manifest(s3, outputs) -> dict:
    """What `seed-sample` wrote and which rows it made dirty on purpose (seed 42)."""
    return json.loads(object_bytes(s3, outputs.buckets["raw"], "_manifest/seed-42.json"))


def raw_row_count(s3, bucket: str, manifest: dict, source: str) -> int:
    """Rows in every raw object of `source`: a seeded file's from the manifest, another's
    (ingested by an earlier test) from its lines, a CSV header not counted."""
    seeded = {f["file"]: f["rows"] for f in manifest["files"] if f["source"] == source}
    total = 0
    for key in objects(s3, bucket, f"{source}/"):
        if key in seeded:
            total += seeded[key]
            continue
        text = object_bytes(s3, bucket, key).decode()
        lines = [line for line in text.splitlines() if line.strip()]
        total += len(lines) - (0 if key.endswith(".jsonl") else 1)
    return total


def clean_raw_records(s3, bucket: str, manifest: dict, source: str) -> list[tuple[dict, dict]]:
    """(raw object, row) for every raw row of `source` (CSV or JSON lines) the manifest does not
    list as injected dirt: the rows the pipeline must keep, ingested files included. The
    object is its listing entry (`Key`, `LastModified`); the row carries its `_row` number."""
    dirty = {(d["file"], d["row"]) for d in manifest["dirty_rows"] if d["source"] == source}
    found = []
    for listed in iter_objects(s3, bucket, f"{source}/"):
        key = listed["Key"]
        lines = object_bytes(s3, bucket, key).decode().splitlines()
        header = None if key.endswith(".jsonl") else next(csv.reader([lines.pop(0)]))
        for n, line in enumerate(lines, start=1):
            if (key, n) in dirty:  # perhaps not even parseable
                continue
            record = (json.loads(line) if header is None
                      else dict(zip(header, next(csv.reader([line])), strict=True)))  # fmt: skip
            found.append((listed, {**record, "_row": n}))
    return found


def clean_raw_rows(s3, bucket: str, manifest: dict, source: str) -> list[dict]:
    return [row for _listed, row in clean_raw_records(s3, bucket, manifest, source)]


def sales_lines(rows: list[dict]) -> list[dict]:
    """DESIGN.md's derived line fields, computed in Decimal from the raw strings."""
    lines = []
    for row in rows:
        stamp = dt.datetime.fromisoformat(row["order_ts"])
        if stamp.tzinfo is not None:
            stamp = stamp.astimezone(dt.UTC)
        quantity = int(row["quantity"])
        gross = quantity * Decimal(row["unit_price"])
        discount_pct = Decimal(row.get("discount_pct") or "0")  # optional columns may be absent
        discount = (gross * discount_pct).quantize(CENT, ROUND_HALF_UP)
        lines.append({
            "order_id": row["order_id"], "order_date": stamp.date(),
            "store_id": row["store_id"], "channel": row.get("channel") or "store",
            "customer_id": row.get("customer_id") or None, "product_id": row["product_id"],
            "quantity": quantity, "gross_amount": gross, "discount_amount": discount,
            "net_amount": gross - discount,
        })  # fmt: skip
    return lines


def snapshots(rows: list[dict]) -> list[dict]:
    return [{
        "snapshot_date": dt.date.fromisoformat(row["snapshot_date"]),
        "store_id": row["store_id"], "product_id": row["product_id"],
        "category": row["category"], "quantity_on_hand": int(row["quantity_on_hand"]),
        "unit_cost": Decimal(str(row["unit_cost"])),
        "reorder_point": None if row.get("reorder_point") is None else int(row["reorder_point"]),
    } for row in rows]  # fmt: skip


def product_versions(snaps: list[dict]) -> list[dict]:
    """A version per product each time its category changes, from the day it was first seen."""
    versions: list[dict] = []
    current: dict[str, str] = {}
    for snap in sorted(snaps, key=lambda s: (s["snapshot_date"], s["store_id"])):
        if current.get(snap["product_id"]) != snap["category"]:
            current[snap["product_id"]] = snap["category"]
            versions.append({"product_id": snap["product_id"], "category": snap["category"],
                             "valid_from": snap["snapshot_date"]})  # fmt: skip
    return versions


def expected_analytics(env) -> dict[str, list[dict]]:
    """All five tables from the raw files alone (plus the staged customers' age band and
    state: their normalization is the customers transform's, unit-tested on its own)."""
    outputs, s3 = load_outputs(env), client(env, "s3")
    raw = outputs.buckets["raw"]
    manifest = seed_manifest(s3, outputs)
    sales = sales_lines(clean_raw_rows(s3, raw, manifest, "sales"))
    snaps = snapshots(clean_raw_rows(s3, raw, manifest, "inventory"))
    products = product_versions(snaps)
    customers = read_layer_table(env, "staged", "customers")
    return {
        "daily_store_sales": oracle.daily_store_sales(sales),
        "product_performance_monthly": oracle.product_performance_monthly(
            sales, snaps, products),
        "customer_segments": oracle.customer_segments(sales, customers),
        "inventory_health_daily": oracle.inventory_health_daily(snaps, sales, products),
        "kpi_summary_monthly": oracle.kpi_summary_monthly(sales, snaps, products),
    }


def assert_analytics_match_raw(env) -> None:
    for table, want in expected_analytics(env).items():
        got = read_layer_table(env, "analytics", table)
        oracle.assert_same_rows(table, got, want)


@pytest.fixture(scope="module")
def pipeline(pipeline_run):
    return pipeline_run


def test_every_row_is_accounted_for_and_dirt_is_rejected(deployed_local_env, pipeline):
    assert pipeline["state"] == "SUCCEEDED"
    outputs = load_outputs(deployed_local_env)
    s3 = client(deployed_local_env, "s3")
    manifest = seed_manifest(s3, outputs)
    rows = job_rows(pipeline)
    for source in ("sales", "inventory", "customers"):
        counts = rows[outputs["glue_jobs"][f"transform_{source}"]]
        raw_rows = raw_row_count(s3, outputs.buckets["raw"], manifest, source)
        assert counts["rows_read"] == raw_rows, (source, counts)
        assert counts["rows_read"] == (
            counts["rows_written"] + counts["rows_rejected"] + counts["duplicates_dropped"]
        ), (source, counts)
        injected = [d for d in manifest["dirty_rows"] if d["source"] == source]
        rejected = [d for d in injected if d["reason"] != "DUPLICATE_KEY"]
        assert counts["rows_rejected"] == len(rejected), (source, counts)
        # and they are the very rows the seed made dirty, each quarantined for its reason
        stored = quarantined(s3, outputs, source)
        assert {q for q in stored if q[2] != "DUPLICATE_KEY"} == {
            (d["file"], d["row"], d["reason"]) for d in rejected}, source
        dropped = {(file, row) for file, row, reason in stored if reason == "DUPLICATE_KEY"}
        copies = [d for d in injected if d["reason"] == "DUPLICATE_KEY"]
        if source != "customers":  # there a later delivery's row also supersedes an earlier
            assert len(dropped) == len(copies), source
        for d in copies:  # one of the two copies, whichever the dedupe rule keeps
            assert {(d["file"], d["row"]), (d["file"], d["duplicate_of_row"])} & dropped, d
    sales = rows[outputs["glue_jobs"]["transform_sales"]]
    assert sales["duplicates_dropped"] == sum(
        1
        for d in manifest["dirty_rows"]
        if d["source"] == "sales" and d["reason"] == "DUPLICATE_KEY"
    )


def test_every_analytics_table_matches_an_independent_computation_from_raw(
    deployed_local_env, pipeline
):
    assert_analytics_match_raw(deployed_local_env)


def keyed_hash(key: bytes, text: str | None) -> str | None:
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest() if text else None


def test_staged_customers_hash_their_latest_delivery_with_the_deployed_key(
    deployed_local_env, pipeline
):
    """Every customer's email and phone hashes are HMAC-SHA256 under the key deploy put in the
    emulator's Secrets Manager, of the latest delivery's values (DESIGN: e-mail trimmed and
    lower-cased, phone digits only), computed here from the raw files alone."""
    outputs = load_outputs(deployed_local_env)
    s3 = client(deployed_local_env, "s3")
    secrets = client(deployed_local_env, "secretsmanager")
    key = secrets.get_secret_value(SecretId=outputs["pii_hmac_secret_arn"])["SecretString"]
    raw = outputs.buckets["raw"]
    latest: dict[str, tuple[tuple, dict]] = {}
    for listed, row in clean_raw_records(s3, raw, seed_manifest(s3, outputs), "customers"):
        ingest_date = listed["Key"].split("ingest_date=", 1)[1][:10]
        # the later delivery wins (ingest date, upload, key); within a file the first row
        rank = (ingest_date, listed["LastModified"], listed["Key"], -row["_row"])
        if row["customer_id"] not in latest or rank > latest[row["customer_id"]][0]:
            latest[row["customer_id"]] = (rank, row)
    want = {
        customer: (keyed_hash(key.encode(), (row.get("email") or "").strip(" ").lower()),
                   keyed_hash(key.encode(), "".join(c for c in row.get("phone") or ""
                                                   if c in "0123456789")))
        for customer, (_rank, row) in latest.items()
    }  # fmt: skip
    staged = read_layer_table(deployed_local_env, "staged", "customers")
    got = {row["customer_id"]: (row["email_hash"], row["phone_hash"]) for row in staged}
    assert len(staged) == len(got) == len(want) > 1000
    assert got == want


def test_no_clear_text_pii_outside_raw(deployed_local_env, pipeline):
    outputs = load_outputs(deployed_local_env)
    s3 = client(deployed_local_env, "s3")
    pii: set[str] = set()
    for key in objects(s3, outputs.buckets["raw"], "customers/"):
        text = object_bytes(s3, outputs.buckets["raw"], key).decode()
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


def staged_sales_keys(env) -> list[tuple[str, int]]:
    rows = read_layer_table(env, "staged", "sales")
    return sorted((r["order_id"], r["line_number"]) for r in rows)


def raw_sales_keys(s3, outputs) -> list[tuple[str, int]]:
    raw = outputs.buckets["raw"]
    manifest = seed_manifest(s3, outputs)
    return sorted((r["order_id"], int(r["line_number"]))
                  for r in clean_raw_rows(s3, raw, manifest, "sales"))  # fmt: skip


def assert_staged_sales_are_raws(env) -> None:
    """Every clean raw sales line is staged once: none lost, none twice."""
    assert staged_sales_keys(env) == raw_sales_keys(client(env, "s3"), load_outputs(env))


def start_pipeline_inside(
    env, job: str, tmp_path, after_seconds: float = 0.0, until: Callable[[], bool] = lambda: True
) -> subprocess.Popen:
    """`retailake run-pipeline` in its own process group (its output in `killed-run.log`),
    returned still running `after_seconds` into `job`, once `until()` holds."""
    log = (tmp_path / "killed-run.log").open("w")
    process = subprocess.Popen([sys.executable, "-m", "retailake", "run-pipeline"],
                               stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                               start_new_session=True)  # fmt: skip
    known = {run.run_id for run in history.list_runs(env)}
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and process.poll() is None:
        run = history.last_run(env)
        node = run.node("job", job) if run and run.run_id not in known else None
        if node is not None and node.state == "RUNNING":
            time.sleep(after_seconds)
            while not until() and time.monotonic() < deadline and process.poll() is None:
                time.sleep(0.1)
            break
        time.sleep(0.5)
    assert process.poll() is None, "the run ended before it got there"
    return process


def start_pipeline_and_kill_it_inside(env, job: str, tmp_path, **when: Any) -> None:
    """The same, then killed with SIGKILL (no cleanup of any kind)."""
    process = start_pipeline_inside(env, job, tmp_path, **when)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=60)


def ingest_sales(path, lines: list[str]) -> None:
    """Sales lines (order_id ... unit_price, as CSV) ingested from `path` as a user would."""
    path.write_text("order_id,line_number,order_ts,store_id,channel,customer_id,product_id,"
                    "quantity,unit_price\n" + "".join(f"{line}\n" for line in lines))
    assert retailake("ingest", str(path), "--source", "sales").returncode == 0


def sales_ledger(s3, outputs) -> dict:
    key = "_state/sales/processed.json"
    return json.loads(object_bytes(s3, outputs.buckets["staged"], key))


def test_one_new_file_run_killed_inside_a_job_then_rerun_touches_only_its_partitions(
    deployed_local_env, pipeline, tmp_path
):
    """A new raw file, a run killed while the job reads it (before its first write), then a
    rerun: the outputs equal a clean run's, and only the staged partitions the new rows fall
    in were rewritten (the killed run and the rerun are both incremental runs)."""
    outputs = load_outputs(deployed_local_env)
    s3 = client(deployed_local_env, "s3")
    before = objects(s3, outputs.buckets["staged"], "sales/")
    # DEC-1 is on 1 December in Paris and on 30 November in UTC, whose date counts
    stamps = ["2025-12-01T00:30:00+01:00",
              *(f"2025-12-{n:02d}T18:30:00+01:00" for n in range(2, 21))]  # fmt: skip
    ingest_sales(tmp_path / "december-sales.csv",
                 [f"DEC-{n},1,{stamp},S002,online,C00007,P00002,2,4.50"
                  for n, stamp in enumerate(stamps, start=1)])  # fmt: skip
    sales_job = outputs["glue_jobs"]["transform_sales"]
    scratch = deployed_local_env.home / "cache" / "spark" / "work"
    start_pipeline_and_kill_it_inside(  # once the job has its code, in the scratch folder
        deployed_local_env, sales_job, tmp_path, after_seconds=3,
        until=lambda: any(scratch.glob("job-*/*.py")),
    )  # fmt: skip
    assert not sales_ledger(s3, outputs).get("unfinished"), "killed in its writes, not before"
    left = {folder.name for folder in scratch.glob("job-*")}
    assert left, "the killed job's code stays in the twin's scratch folder, not in /tmp"
    rerun = run_pipeline()
    assert rerun["state"] == "SUCCEEDED"
    assert not left & {folder.name for folder in scratch.glob("job-*")}  # the rerun's start
    after = objects(s3, outputs.buckets["staged"], "sales/")
    changed = {key for key in set(before) | set(after) if before.get(key) != after.get(key)}
    months = {key.split("/year=2025/", 1)[1].split("/", 1)[0] for key in changed}
    assert months == {"month=11", "month=12"}, sorted(changed)
    assert_staged_sales_are_raws(deployed_local_env)
    assert_analytics_match_raw(deployed_local_env)


def test_a_run_killed_while_a_job_writes_is_finished_by_the_rerun(
    deployed_local_env, pipeline, tmp_path
):
    """Killed once the sales job has marked its ledger unfinished (its writes under way, some
    partitions half replaced): the rerun rebuilds sales from raw, and every staged key and
    analytics table equals what raw holds."""
    outputs = load_outputs(deployed_local_env)
    s3 = client(deployed_local_env, "s3")
    ingest_sales(tmp_path / "january-sales.csv",
                 [f"JAN-{n},1,2026-01-{n:02d}T10:00:00Z,S001,store,C00003,P00004,1,7.25"
                  for n in range(1, 29)])  # fmt: skip
    sales_job = outputs["glue_jobs"]["transform_sales"]
    start_pipeline_and_kill_it_inside(
        deployed_local_env, sales_job, tmp_path,
        until=lambda: sales_ledger(s3, outputs).get("unfinished", False),
    )  # fmt: skip
    assert sales_ledger(s3, outputs).get("unfinished"), "killed before or after its writes"
    rerun = run_pipeline()
    assert rerun["state"] == "SUCCEEDED"
    assert not sales_ledger(s3, outputs).get("unfinished")
    assert_staged_sales_are_raws(deployed_local_env)
    assert_analytics_match_raw(deployed_local_env)


def test_an_emulator_killed_mid_run_fails_it_at_once_and_the_next_run_finishes(
    deployed_local_env, pipeline, tmp_path
):
    """The twin's emulator dies (SIGKILL) inside the sales job: the run fails within S3A's
    few retries, not the SDK's ten minutes, saying to bring the twin up. A second run asked
    for while the first is under way is refused. The next run starts the emulator again
    (its state as saved, at most the last half second lost) and finishes the work."""
    outputs = load_outputs(deployed_local_env)
    ingest_sales(tmp_path / "march-sales.csv",
                 [f"MAR-{n},1,2026-03-{n:02d}T10:00:00Z,S002,online,C00005,P00003,3,2.10"
                  for n in range(1, 29)])  # fmt: skip
    sales_job = outputs["glue_jobs"]["transform_sales"]
    process = start_pipeline_inside(deployed_local_env, sales_job, tmp_path)
    try:
        second = retailake("run-pipeline")
        assert second.returncode == 1, str(second)
        assert f"already under way on this twin (pid {process.pid})" in second.stderr
        os.kill(emulator.status(deployed_local_env).pid, signal.SIGKILL)
        process.wait(timeout=180)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    said = (tmp_path / "killed-run.log").read_text()
    assert process.returncode == 1, said
    assert "stopped while the command ran" in said and "retailake local up" in said, said
    failed = history.last_run(deployed_local_env)
    jobs = {node.name: node.state for node in failed.nodes if node.kind == "job"}
    # the sales job's siblings of the same trigger would only fail on a dead emulator too
    assert (failed.state, jobs) == ("FAILED", {
        sales_job: "FAILED", outputs["glue_jobs"]["transform_inventory"]: "SKIPPED",
        outputs["glue_jobs"]["transform_customers"]: "SKIPPED",
        outputs["glue_jobs"]["analytics_aggregation"]: "SKIPPED"})
    rerun = run_pipeline()  # brings the emulator up by itself
    assert rerun["state"] == "SUCCEEDED"
    assert_staged_sales_are_raws(deployed_local_env)
    assert_analytics_match_raw(deployed_local_env)


def files_readers_see(env) -> dict[str, str]:
    """Every file in a folder the catalog names for an analytics table, with its ETag."""
    return {key: etag for table in oracle.KEYS
            for key, etag in lake_tables.current_objects(env, "analytics", table).items()}


def test_full_refresh_rebuilds_everything_from_raw(deployed_local_env, pipeline):
    """Every analytics partition moves to a new folder; the folders readers were in stay whole
    until the next rewrite, so a query under way during the run still reads them."""
    outputs = load_outputs(deployed_local_env)
    s3 = client(deployed_local_env, "s3")
    before = files_readers_see(deployed_local_env)
    run = run_pipeline("--full-refresh")
    assert run["state"] == "SUCCEEDED" and run["full_refresh"]
    sales = job_rows(run)[outputs["glue_jobs"]["transform_sales"]]
    assert sales["rows_written"] == len(raw_sales_keys(s3, outputs))  # every raw file read again
    after = files_readers_see(deployed_local_env)
    written = {k for k in after if k.endswith(".parquet")}
    assert {k.split("/", 1)[0] for k in written} == set(oracle.KEYS)
    assert not set(after) & set(before)  # every table rewritten, each in a new folder
    still = objects(s3, outputs.buckets["analytics"])
    assert {key: still.get(key) for key in before} == before  # the old folders, whole
    assert_staged_sales_are_raws(deployed_local_env)
    assert_analytics_match_raw(deployed_local_env)
