"""`retailake status` on the local twin, through the real CLI: a lake never deployed, the
deployed lake after the session's pipeline run (each section checked against the emulator
read independently), an alarm in ALARM, and a job broken for real (with the drift that
breaking it caused), until a redeploy and a good rerun make status pass again."""

from __future__ import annotations

import io
import json
import re
from typing import Any

import pyarrow.parquet as pq
import pytest
from retailake_etl.metrics import METRICS

from retailake.aws.clients import client
from retailake.aws.s3 import iter_objects
from retailake.config import load_environment
from retailake.local import emulator
from retailake.local.glue import history
from retailake.outputs import load_outputs
from tests.integration.conftest import CliRun, free_port, retailake

pytestmark = pytest.mark.integration
BROKEN_KEY = "etl/broken_by_test_status.py"
BROKEN_MESSAGE = "broken on purpose by test_status"


def status(*flags: str) -> tuple[CliRun, dict[str, Any]]:
    run = retailake("status", "--format", "json", *flags)
    return run, json.loads(run.stdout)


def test_a_lake_never_deployed_is_a_clear_failure_that_starts_nothing(tmp_path, monkeypatch):
    port = free_port()
    monkeypatch.setenv("RETAILAKE_HOME", str(tmp_path / "never"))
    monkeypatch.setenv("RETAILAKE_LOCAL_PORT", str(port))
    shown = retailake("status")
    assert shown.returncode == 1, str(shown)
    assert "'local' is not deployed" in shown.stdout and "retailake deploy" in shown.stdout
    assert (shown.stdout + shown.stderr).count("is not deployed") == 1  # said once
    run, report = status()
    assert run.returncode == 1, str(run)
    assert report["deployment"]["deployed"] is False and report["failing"] is True
    assert report["endpoint_url"] == f"http://127.0.0.1:{port}"
    assert [p["section"] for p in report["problems"]] == ["deployment"]
    env = load_environment("local")
    assert not emulator.status(env).running
    assert not emulator.emulator_dir(env).exists()


def reject_rows(s3: Any, bucket: str) -> dict[str, int]:
    """Rows of every reject file, read whole by pyarrow (not by status's footer reader)."""
    rows: dict[str, int] = {}
    for item in iter_objects(s3, bucket, "_rejects/"):
        if item["Key"].endswith(".parquet"):
            body = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
            source = item["Key"].split("/")[1]
            rows[source] = rows.get(source, 0) + pq.read_table(io.BytesIO(body)).num_rows
    return rows


def test_status_after_a_pipeline_run_matches_the_lake(pipeline_run, deployed_local_env):
    env = deployed_local_env
    run, report = status()
    assert run.returncode == 0, str(run)
    assert report["schema_version"] == 1 and report["problems"] == []
    outputs = load_outputs(env)
    assert report["endpoint_url"] == env.endpoint_url
    assert report["deployment"]["buckets"] == outputs.buckets

    s3 = client(env, "s3")
    layers = {layer["layer"]: layer for layer in report["storage"]["layers"]}
    for name, layer in layers.items():
        listed = list(iter_objects(s3, outputs.buckets[name]))
        assert layer["total"] == {"objects": len(listed),
                                  "bytes": sum(o["Size"] for o in listed)}
    assert {"sales", "inventory", "customers"} <= set(layers["raw"]["prefixes"])
    rejected = {r["source"]: r["rows"] for r in report["storage"]["rejected"]}
    assert rejected == reject_rows(s3, outputs.buckets["staged"])
    assert set(rejected) == {"sales", "inventory", "customers"}

    databases = {d["layer"]: d for d in report["catalog"]["databases"]}
    assert {t["name"] for t in databases["raw"]["tables"]} == {"sales", "inventory", "customers"}
    assert len(databases["analytics"]["tables"]) == 5
    staged_sales = next(t for t in databases["staged"]["tables"] if t["name"] == "sales")
    months = {found.group() for o in iter_objects(s3, outputs.buckets["staged"], "sales/")
              if (found := re.search(r"/year=\d+/month=\d+/", o["Key"]))}  # fmt: skip
    assert staged_sales["partitions"] == len(months) > 0
    assert {c["state"] for c in report["catalog"]["crawlers"]} == {"SUCCEEDED"}

    pipeline, last = report["pipeline"], history.last_run(env)
    assert pipeline["last_run"]["run_id"] == last.run_id
    assert pipeline["last_run"]["state"] == "SUCCEEDED"
    recorded = {n.name: n for n in last.nodes if n.kind == "job"}
    assert {job["name"] for job in pipeline["jobs"]} == set(outputs["glue_jobs"].values())
    transforms = {name for key, name in outputs["glue_jobs"].items() if key.startswith("transform")}
    for job in pipeline["jobs"]:
        node = recorded[job["name"]]
        assert (job["state"], job["run_id"]) == ("SUCCEEDED", node.run_id)
        assert job["rows_read"] == node.rows["rows_read"]
        if job["name"] in transforms:  # every row read is written, rejected or a duplicate
            assert job["rows_read"] == (job["rows_written"] + job["rows_rejected"]
                                        + job["duplicates_dropped"])

    warehouse = report["warehouse"]
    assert (warehouse["present"], warehouse["state"]) == (True, "available")
    assert warehouse["spectrum_role_attached"] and warehouse["spectrum_database_present"]
    assert warehouse["external_schema"] in ("present", "absent")  # test_warehouse pins it
    assert report["alarms"]["counts"] == {"OK": len(outputs["glue_jobs"]) + 3}

    shown = retailake("status")
    assert shown.returncode == 0, str(shown)
    assert "Lake 'local': OK" in shown.stdout
    for title in ("Deployment", "Storage", "Catalog", "Pipeline", "Warehouse", "Alarms"):
        assert title in shown.stdout


def test_the_dashboard_and_alarms_use_the_metrics_the_jobs_publish(pipeline_run,
                                                                   deployed_local_env):
    cloudwatch = client(deployed_local_env, "cloudwatch")
    outputs = load_outputs(deployed_local_env)
    published = {(m["MetricName"], tuple(sorted((d["Name"], d["Value"]) for d in m["Dimensions"])))
                 for page in cloudwatch.get_paginator("list_metrics").paginate(
                     Namespace="Retailake") for m in page["Metrics"]}
    per_job = {(name, dims[0][1]) for name, dims in published if len(dims) == 1}
    jobs = set(outputs["glue_jobs"].values())
    for metric in METRICS:  # every metric a job publishes
        assert {(metric, job) for job in jobs} <= per_job
    body = json.loads(cloudwatch.get_dashboard(DashboardName=outputs["dashboard_name"])
                      ["DashboardBody"])
    charted = {(line[1], line[3]) for widget in body["widgets"]
               for line in widget["properties"]["metrics"] if line[0] == "Retailake"}
    assert {metric for metric, _ in charted} == set(METRICS)
    assert charted <= per_job  # every line of the dashboard is a series the jobs publish
    alarms = cloudwatch.describe_alarms(AlarmNamePrefix=f"{outputs['name_prefix']}-")
    custom = [a for a in alarms["MetricAlarms"] if a["Namespace"] == "Retailake"]
    assert len(custom) == len(jobs)
    for alarm in custom:
        dims = alarm["Dimensions"]
        assert [d["Name"] for d in dims] == ["JobName"]
        assert (alarm["MetricName"], dims[0]["Value"]) in per_job


def test_an_alarm_in_alarm_fails_status(pipeline_run, deployed_local_env):
    cloudwatch = client(deployed_local_env, "cloudwatch")
    name = load_outputs(deployed_local_env)["name_prefix"] + "-redshift-cpu"
    cloudwatch.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="set by a test")
    try:
        run, report = status()
        assert run.returncode == 1, str(run)
        assert report["alarms"]["alarms"][0]["name"] == name
        assert report["problems"] == [{"section": "alarms",
                                       "message": f"alarm {name} is in ALARM: set by a test"}]
        shown = retailake("status")
        assert shown.returncode == 1 and f"ALARM {name}: set by a test" in shown.stdout
    finally:
        cloudwatch.set_alarm_state(AlarmName=name, StateValue="OK", StateReason="reset")
    assert status()[0].returncode == 0


def break_job(glue: Any, s3: Any, job: str, bucket: str) -> None:
    """Point the job at a script that raises: a real failure, and real drift for Terraform."""
    s3.put_object(Bucket=bucket, Key=BROKEN_KEY,
                  Body=f"raise RuntimeError({BROKEN_MESSAGE!r})\n".encode())
    definition = glue.get_job(JobName=job)["Job"]
    fields = glue.meta.service_model.shape_for("JobUpdate").members
    update = {key: value for key, value in definition.items() if key in fields}
    update["Command"] = {**definition["Command"], "ScriptLocation": f"s3://{bucket}/{BROKEN_KEY}"}
    glue.update_job(JobName=job, JobUpdate=update)


def test_a_failing_job_fails_status_until_redeployed_and_rerun(pipeline_run, deployed_local_env):
    env = deployed_local_env
    outputs = load_outputs(env)
    job, bucket = outputs["glue_jobs"]["analytics_aggregation"], outputs.buckets["scripts"]
    glue, s3 = client(env, "glue"), client(env, "s3")
    break_job(glue, s3, job, bucket)
    try:
        failed = retailake("run-pipeline", timeout=900)
        assert failed.returncode == 1, str(failed)
        run, report = status("--check-drift")
        assert run.returncode == 1, str(run)
        jobs = {j["name"]: j for j in report["pipeline"]["jobs"]}
        assert jobs[job]["state"] == "FAILED"
        assert jobs[job]["error"] == f"RuntimeError: {BROKEN_MESSAGE}"
        assert report["pipeline"]["last_run"]["state"] == "FAILED"
        assert {j["state"] for name, j in jobs.items() if name != job} == {"SUCCEEDED"}
        drift = report["deployment"]["drift"]
        assert drift["drifted"] is True
        assert [(c["type"], c["action"]) for c in drift["changes"]] == [("aws_glue_job", "update")]
        assert "analytics_aggregation" in drift["changes"][0]["address"]
        sections = sorted({p["section"] for p in report["problems"]})
        assert sections == ["deployment", "pipeline"]
        shown = retailake("status")
        assert shown.returncode == 1
        assert "FAILING" in shown.stdout and f"RuntimeError: {BROKEN_MESSAGE}" in shown.stdout
    finally:
        redeployed = retailake("deploy", "--auto-approve")
        s3.delete_object(Bucket=bucket, Key=BROKEN_KEY)
        rerun = retailake("run-pipeline", timeout=900)
    assert redeployed.returncode == 0, str(redeployed)
    assert rerun.returncode == 0, str(rerun)
    run, report = status()
    assert run.returncode == 0, str(run)
    assert {j["state"] for j in report["pipeline"]["jobs"]} == {"SUCCEEDED"}
