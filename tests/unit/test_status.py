"""`retailake status` without a network: the AWS-path collectors against botocore's Stubber,
the orchestration's failure handling, the drift check on the fake terraform, rendering, and the
CLI's exit codes. The emulator path is covered by tests/integration/test_status.py."""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from botocore.exceptions import ClientError
from botocore.stub import ANY, Stubber
from rich.console import Console
from typer.testing import CliRunner

from retailake.cli import app
from retailake.config import load_environment
from retailake.errors import ConfigError
from retailake.outputs import Outputs, load_outputs, save_outputs
from retailake.status import collect
from retailake.status.alarms import read_alarms
from retailake.status.catalog import aws_crawls
from retailake.status.context import Context
from retailake.status.deployment import check_drift
from retailake.status.model import (
    AlarmsStatus,
    AlarmStatus,
    CatalogStatus,
    CrawlStatus,
    DatabaseStatus,
    DeploymentStatus,
    Drift,
    LakeStatus,
    LayerStorage,
    PipelineStatus,
    Problem,
    RejectedRows,
    RunStatus,
    StorageStatus,
    TableStatus,
    Usage,
    WarehouseStatus,
)
from retailake.status.pipeline import collect_pipeline, workflow_state
from retailake.status.render import render
from retailake.status.storage import parquet_rows
from retailake.status.warehouse import cluster_status, collect_warehouse
from tests.unit.conftest import plan_json

T0 = dt.datetime(2026, 11, 27, 10, 0, tzinfo=dt.UTC)
JOBS = {"transform_sales": "rl-dev-transform-sales", "analytics": "rl-dev-analytics"}
OUTPUTS = {
    "region": "us-east-1", "account_id": "111122223333", "name_prefix": "rl-dev",
    "buckets": {"raw": "rl-raw", "staged": "rl-staged", "analytics": "rl-analytics",
                "scripts": "rl-scripts"},
    "glue_databases": {"raw": "rl_raw", "staged": "rl_staged", "analytics": "rl_analytics"},
    "glue_crawlers": {"raw_sales": "rl-dev-raw-sales"},
    "glue_jobs": JOBS, "glue_workflow": "rl-dev-pipeline",
    "redshift_cluster_identifier": "rl-dev-warehouse",
    "role_arns": {"redshift_spectrum": "arn:aws:iam::111122223333:role/spectrum"},
}


def fake_client(service: str) -> Any:
    return boto3.client(service, region_name="us-east-1", aws_access_key_id="x",
                        aws_secret_access_key="x")


@contextmanager
def stubbed(*services: str) -> Iterator[dict[str, tuple[Any, Stubber]]]:
    """Clients whose every answer is queued on a Stubber; all answers must be used."""
    pairs = {s: (client := fake_client(s), Stubber(client)) for s in services}
    for _, stubber in pairs.values():
        stubber.activate()
    yield pairs
    for _, stubber in pairs.values():
        stubber.assert_no_pending_responses()


def dev_context(clients: dict[str, Any]) -> Context:
    return Context(load_environment("dev"), Outputs(OUTPUTS), clients)


def client_error(code: str, operation: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": f"{code}!"}}, operation)


# -- pipeline (AWS path) ---------------------------------------------------------------------


def test_a_completed_workflow_run_with_a_failed_action_is_failed():
    assert workflow_state({"Status": "COMPLETED", "Statistics": {"FailedActions": 1}}) == "FAILED"
    assert workflow_state({"Status": "COMPLETED", "Statistics": {"SucceededActions": 5}}) == (
        "SUCCEEDED")
    assert workflow_state({"Status": "RUNNING"}) == "RUNNING"


def queue_metrics(stubber: Stubber, sums: dict[str, float]) -> None:
    for metric in ("RowsRead", "RowsWritten", "RowsRejected", "DuplicatesDropped",
                   "DurationSeconds"):
        points = [{"Sum": sums[metric], "Timestamp": T0}] if metric in sums else []
        stubber.add_response("get_metric_statistics", {"Datapoints": points}, {
            "Namespace": "Custom", "MetricName": metric, "Dimensions": ANY, "StartTime": ANY,
            "EndTime": ANY, "Period": ANY, "Statistics": ["Sum"]})


def test_aws_pipeline_reads_last_runs_and_each_runs_published_rows(monkeypatch):
    # a Stubber answers in the order calls arrive: one thread, so that order is the queue's
    monkeypatch.setattr("retailake.status.pipeline.parallel_map",
                        lambda function, items: [function(item) for item in items])
    with stubbed("glue", "cloudwatch") as stubs:
        glue, cloudwatch = stubs["glue"][1], stubs["cloudwatch"][1]
        refused = {"Name": "rl-dev-pipeline", "WorkflowRunId": "wr_2", "Status": "ERROR",
                   "StartedOn": T0 + dt.timedelta(minutes=1),  # a schedule, during wr_1
                   "ErrorMessage": "Concurrent runs exceeded for workflow: rl-dev-pipeline"}
        glue.add_response("get_workflow_runs", {"Runs": [refused, {
            "Name": "rl-dev-pipeline", "WorkflowRunId": "wr_1", "Status": "COMPLETED",
            "StartedOn": T0, "CompletedOn": T0 + dt.timedelta(minutes=5),
            "Statistics": {"FailedActions": 1, "SucceededActions": 3}}]},
            {"Name": "rl-dev-pipeline", "IncludeGraph": False, "MaxResults": 25})
        glue.add_response("get_job_runs", {"JobRuns": []},
                          {"JobName": "rl-dev-analytics", "MaxResults": 1})
        glue.add_response("get_job_runs", {"JobRuns": [{
            "Id": "jr_7", "JobRunState": "FAILED", "ExecutionTime": 30,  # billed, not wall
            "StartedOn": T0.astimezone(dt.timezone(dt.timedelta(hours=-5))),  # botocore: local
            "CompletedOn": T0 + dt.timedelta(seconds=42), "ErrorMessage": "boom"}]},
            {"JobName": "rl-dev-transform-sales", "MaxResults": 1})
        arguments = {"--metrics_namespace": "Custom"}
        glue.add_response("get_job", {"Job": {"Name": "rl-dev-transform-sales",
                                              "DefaultArguments": arguments}},
                          {"JobName": "rl-dev-transform-sales"})
        queue_metrics(cloudwatch, {"RowsRead": 10, "RowsWritten": 7, "RowsRejected": 2,
                                   "DuplicatesDropped": 1})
        context = dev_context({s: pair[0] for s, pair in stubs.items()})
        status = collect_pipeline(context)
    assert status.last_run.state == "FAILED" and status.last_run.duration_seconds == 300
    sales, never = status.jobs  # in the order they last ran; never-run ones last
    assert never.name == "rl-dev-analytics" and never.state is None and not never.failed
    assert (sales.state, sales.run_id, sales.duration_seconds) == ("FAILED", "jr_7", 42.0)
    assert sales.started_at == "2026-11-27T10:00:00+00:00"
    assert (sales.rows_read, sales.rows_written, sales.rows_rejected,
            sales.duplicates_dropped) == (10, 7, 2, 1)
    assert status.problems() == ["last workflow run wr_1 FAILED",
                                 "job rl-dev-transform-sales last run FAILED: boom"]


# -- catalog, warehouse, alarms (AWS path) ---------------------------------------------------


def test_a_failed_last_crawl_and_a_missing_crawler_are_problems_a_crawler_never_run_is_not():
    with stubbed("glue") as stubs:
        client, stubber = stubs["glue"]
        stubber.add_response("batch_get_crawlers", {"Crawlers": [
            {"Name": "a", "LastCrawl": {"Status": "FAILED", "ErrorMessage": "denied",
                                        "StartTime": T0}},
            {"Name": "b"}], "CrawlersNotFound": ["c"]}, {"CrawlerNames": ["a", "b", "c"]})
        crawls = aws_crawls(client, ["a", "b", "c"])
    assert [(c.name, c.state) for c in crawls] == [("a", "FAILED"), ("b", None), ("c", "MISSING")]
    assert crawls[0].started_at == T0.isoformat()
    assert CatalogStatus([], crawls).problems() == [
        "crawler a last crawl FAILED: denied",
        "crawler c: not in Glue (deleted outside Terraform?): `retailake deploy` makes it again"]


def test_warehouse_reports_cluster_size_and_what_spectrum_needs():
    with stubbed("redshift", "glue") as stubs:
        stubs["redshift"][1].add_response("describe_clusters", {"Clusters": [{
            "ClusterIdentifier": "rl-dev-warehouse", "ClusterStatus": "available",
            "ClusterAvailabilityStatus": "Available", "NodeType": "ra3.xlplus",
            "NumberOfNodes": 2, "Endpoint": {"Address": "wh.example", "Port": 5439},
            "IamRoles": [{"IamRoleArn": OUTPUTS["role_arns"]["redshift_spectrum"]}]}]},
            {"ClusterIdentifier": "rl-dev-warehouse"})
        stubs["glue"][1].add_client_error("get_database", "EntityNotFoundException")
        status = collect_warehouse(dev_context({s: pair[0] for s, pair in stubs.items()}))
    assert (status.state, status.nodes, status.endpoint) == ("available", 2, "wh.example:5439")
    assert status.spectrum_role_attached is True
    assert status.spectrum_database_present is False
    assert status.external_schema == "unknown"
    assert status.problems() == []


def test_a_missing_cluster_is_a_problem():
    with stubbed("redshift") as stubs:
        client, stubber = stubs["redshift"]
        stubber.add_client_error("describe_clusters", "ClusterNotFound")
        status = cluster_status(client, "gone", None)
    assert not status.present
    assert status.problems() == ["cluster gone does not exist"]


def test_alarms_in_alarm_come_first_and_are_problems():
    with stubbed("cloudwatch") as stubs:
        client, stubber = stubs["cloudwatch"]
        stubber.add_response("describe_alarms", {"MetricAlarms": [
            {"AlarmName": "rl-dev-cpu", "StateValue": "OK"},
            {"AlarmName": "rl-dev-rejects", "StateValue": "ALARM", "StateReason": "12 > 0",
             "MetricName": "RowsRejected"}]},
            {"AlarmNamePrefix": "rl-dev-", "AlarmTypes": ["MetricAlarm", "CompositeAlarm"]})
        status = read_alarms(client, "rl-dev-")
    assert [a.name for a in status.alarms] == ["rl-dev-rejects", "rl-dev-cpu"]
    assert status.counts == {"ALARM": 1, "OK": 1}
    assert status.problems() == ["alarm rl-dev-rejects is in ALARM: 12 > 0"]


# -- storage ---------------------------------------------------------------------------------


def parquet_bytes(table: pa.Table, **options: Any) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink, **options)
    return sink.getvalue()


WIDE = pa.table({f"c{i}": list(range(40_000)) for i in range(20)})  # 20 > 15 schema elements
NESTED = pa.table({
    "ts": pa.array([T0] * 5, pa.timestamp("us", tz="UTC")),  # logical type with a bool
    "amount": pa.array([1] * 5, pa.decimal128(12, 2)),
    "tags": pa.array([["a", "b"]] * 5, pa.list_(pa.string())),
    "address": pa.array([{"city": "x", "zip": 1}] * 5),
    "flag": pa.array([True, False, None, True, True]),
}).replace_schema_metadata({"written_by": "spark"})


@pytest.mark.parametrize(("table", "options"), [
    (WIDE, {"row_group_size": 10_000}),
    (NESTED, {}),
    (pa.table({"reason": pa.array([], pa.string())}), {}),
])
def test_rows_come_from_the_footer_alone(table: pa.Table, options: dict[str, Any]):
    data = parquet_bytes(table, **options)
    assert parquet_rows(data) == table.num_rows
    footer = int.from_bytes(data[-8:-4], "little") + 8
    assert parquet_rows(data[-footer:]) == table.num_rows  # the footer alone is enough
    with pytest.raises(ValueError):
        parquet_rows(data[-(footer - 1):])


def test_what_is_not_a_parquet_footer_is_refused():
    with pytest.raises(ValueError):
        parquet_rows(b"not parquet at all")
    with pytest.raises(ValueError):
        parquet_rows(b"\x15\x02" + (2).to_bytes(4, "little") + b"PAR1")  # truncated


def test_reject_counts_are_fetched_once_per_file_version(tmp_path):
    from retailake.status.storage import rejected_rows

    body = parquet_bytes(NESTED)
    files = [{"Key": "_rejects/sales/ingest_month=2026-11/part-0.parquet",
              "Size": len(body), "ETag": '"v1"'},
             {"Key": "_rejects/sales/_SUCCESS", "Size": 0, "ETag": '"e"'}]
    cache = tmp_path / "reject-counts.json"
    with stubbed("s3") as stubs:
        client, stubber = stubs["s3"]
        stubber.add_response("get_object", {"Body": io.BytesIO(body)},
                             {"Bucket": "staged", "Key": files[0]["Key"], "Range": ANY})
        first = rejected_rows(client, "staged", files, cache)
        again = rejected_rows(client, "staged", files, cache)  # no answer queued: no GET
        stubber.add_response("get_object", {"Body": io.BytesIO(body)},
                             {"Bucket": "staged", "Key": files[0]["Key"], "Range": ANY})
        rewritten = rejected_rows(client, "staged", [{**files[0], "ETag": '"v2"'}], cache)
    assert first == again == rewritten == [RejectedRows("sales", 1, NESTED.num_rows)]


def test_reject_counts_are_reported_when_their_cache_cannot_be_written(tmp_path):
    from retailake.status.storage import rejected_rows

    body = parquet_bytes(NESTED)
    files = [{"Key": "_rejects/sales/ingest_month=2026-11/part-0.parquet",
              "Size": len(body), "ETag": '"v1"'}]
    (tmp_path / "afile").write_text("")
    with stubbed("s3") as stubs:
        client, stubber = stubs["s3"]
        stubber.add_response("get_object", {"Body": io.BytesIO(body)},
                             {"Bucket": "staged", "Key": files[0]["Key"], "Range": ANY})
        counted = rejected_rows(client, "staged", files, tmp_path / "afile" / "counts.json")
    assert counted == [RejectedRows("sales", 1, NESTED.num_rows)]


# -- orchestration, drift, rendering, CLI ----------------------------------------------------


def test_a_never_deployed_lake_is_reported_without_touching_aws(monkeypatch):
    def no_client(*args: object) -> None:
        raise AssertionError("no client (nor emulator) may be started for a lake never deployed")

    monkeypatch.setattr(collect, "client", no_client)
    report = collect.collect_status(load_environment("local"))
    assert not report.deployment.deployed and report.failing
    assert report.storage is None and report.pipeline is None
    assert [p.section for p in report.problems] == ["deployment"]
    assert "retailake deploy" in report.problems[0].message


def test_a_collector_that_fails_costs_only_its_own_section(monkeypatch):
    env = load_environment("dev")
    save_outputs(env, OUTPUTS)
    monkeypatch.setattr(collect, "client", lambda env, service: object())

    def broken(context: Context) -> None:
        raise client_error("AccessDenied", "ListObjectsV2")

    monkeypatch.setattr(collect, "COLLECTORS", {"storage": broken,
                                                "alarms": lambda c: AlarmsStatus([], {})})
    report = collect.collect_status(env)
    assert report.storage is None and report.alarms is not None
    assert report.problems == [Problem("storage", "could not be read: ListObjectsV2 failed: "
                                                  "AccessDenied: AccessDenied!")]

    def unreadable(context: Context) -> None:  # a run record this user may not read, say
        raise PermissionError(13, "Permission denied", "/home/x/.retailake/local/pipeline")

    monkeypatch.setattr(collect, "COLLECTORS", {"pipeline": unreadable})
    report = collect.collect_status(env)
    assert report.problems == [Problem("pipeline", "could not be read: [Errno 13] Permission "
                                                   "denied: '/home/x/.retailake/local/pipeline'")]


def test_drift_is_what_terraform_plan_would_change(fake_terraform, tmp_path, monkeypatch):
    backend = tmp_path / "backend.hcl"
    backend.write_text('bucket = "state"\n')
    monkeypatch.setenv("RETAILAKE_BACKEND_CONFIG", str(backend))
    fake_terraform.answer("plan", exit=2)
    fake_terraform.answer("show", stdout=plan_json(
        ("module.glue.aws_glue_job.this[\"sales\"]", "aws_glue_job", ["update"])))
    drift = check_drift(load_environment("dev"))
    assert drift.drifted
    assert drift.changes == [{"address": 'module.glue.aws_glue_job.this["sales"]',
                              "type": "aws_glue_job", "action": "update"}]
    assert "apply" not in fake_terraform.commands()


def rendered(report: LakeStatus) -> str:
    console = Console(record=True, width=160, force_terminal=True, color_system="standard")
    console.print(render(report))
    return console.export_text(styles=True)


def test_failing_things_are_red_and_the_verdict_says_so():
    report = LakeStatus("dev", "us-east-1", None, "now", 0.5,
                        DeploymentStatus("dev", "us-east-1", True, None, "rl-dev"))
    report.pipeline = PipelineStatus("wf", RunStatus("wf", "SUCCEEDED", "wr_1"), [
        RunStatus("job-a", "FAILED", "jr_1", error="ValueError: boom")])
    report.problems = [Problem("pipeline", m) for m in report.pipeline.problems()]
    text = rendered(report)
    assert "Lake 'dev': FAILING" in text and "(1 problem)" in text
    assert "\x1b[1;31mFAILED" in text  # bold red
    assert "\x1b[32mSUCCEEDED" in text  # green
    assert "job-a: ValueError: boom" in text


def test_cli_on_a_never_deployed_lake_says_so_and_exits_1():
    runner = CliRunner()
    result = runner.invoke(app, ["status"])
    assert result.exit_code == 1, result.output
    assert "not deployed" in result.output and "retailake deploy" in result.output
    assert result.output.count("is not deployed (no outputs at") == 1  # said once, not thrice
    machine = runner.invoke(app, ["status", "--format", "json"])
    assert machine.exit_code == 1, machine.output
    assert "is not deployed" in machine.stderr  # beside the document, for a person
    document = json.loads(machine.stdout)
    assert document["schema_version"] == 1 and document["failing"] is True
    assert document["deployment"]["deployed"] is False
    assert document["storage"] is None
    assert set(document) == {"schema_version", "failing", "environment", "region",
                             "endpoint_url", "generated_at", "elapsed_seconds", "deployment",
                             "storage", "catalog", "pipeline", "warehouse", "alarms",
                             "problems"}


def test_on_the_twin_a_job_skipped_by_the_last_run_shows_its_earlier_run():
    from retailake.local.glue.history import NodeError, NodeRun, PipelineRun, save_run
    from retailake.status.pipeline import local_runs

    env = load_environment("local")
    save_run(env, PipelineRun("wr_1", "wf", "SUCCEEDED", "2026-11-27T10:00:00+00:00",
                              "2026-11-27T10:01:00+00:00", nodes=[
                                  NodeRun("job", "a", 1, "SUCCEEDED", "jr_a1"),
                                  NodeRun("job", "b", 2, "SUCCEEDED", "jr_b1")]))
    save_run(env, PipelineRun("wr_2", "wf", "FAILED", "2026-11-27T11:00:00+00:00",
                              "2026-11-27T11:00:30+00:00", nodes=[
                                  NodeRun("job", "a", 1, "FAILED", "jr_a2",
                                          error=NodeError("ValueError", "bad")),
                                  NodeRun("job", "b", 2, "SKIPPED")]))
    last, jobs = local_runs(env, "wf", ["a", "b", "c"])
    assert (last.run_id, last.state, last.duration_seconds) == ("wr_2", "FAILED", 30.0)
    assert [(j.name, j.state, j.run_id) for j in jobs] == [
        ("a", "FAILED", "jr_a2"), ("b", "SUCCEEDED", "jr_b1"), ("c", None, None)]
    assert jobs[0].error == "ValueError: bad"


def test_a_run_failed_outside_its_nodes_says_why():
    from retailake.local.glue.history import NodeRun, PipelineRun, save_run
    from retailake.status.model import PipelineStatus
    from retailake.status.pipeline import local_runs

    env = load_environment("local")
    save_run(env, PipelineRun("wr_3", "wf", "FAILED", "2026-11-27T12:00:00+00:00",
                              "2026-11-27T12:00:10+00:00",
                              nodes=[NodeRun("job", "a", 1, "SUCCEEDED", "jr_a3")],
                              error="could not flush the emulator's state to disk"))
    last, jobs = local_runs(env, "wf", ["a"])
    assert PipelineStatus("wf", last, jobs).problems() == [
        "last workflow run wr_3 FAILED: could not flush the emulator's state to disk"]


def test_a_run_whose_process_was_killed_is_a_failure_not_running_forever():
    import fcntl

    from retailake.local.glue.history import NodeRun, PipelineRun, run_lock, save_run
    from retailake.status.model import PipelineStatus
    from retailake.status.pipeline import local_runs

    env = load_environment("local")
    save_run(env, PipelineRun("wr_4", "wf", "RUNNING", "2026-11-27T13:00:00+00:00", nodes=[
        NodeRun("job", "a", 1, "SUCCEEDED", "jr_a4"), NodeRun("job", "b", 2, "RUNNING", "jr_b4"),
        NodeRun("job", "c", 3, "PENDING")]))
    run_lock(env).write_text("pid 12345")  # left by the killed run, held by nobody
    last, jobs = local_runs(env, "wf", ["a", "b", "c"])
    assert [(j.name, j.state) for j in [last, *jobs]] == [
        ("wf", "FAILED"), ("a", "SUCCEEDED"), ("b", "FAILED"), ("c", None)]
    assert PipelineStatus("wf", last, jobs).problems()[0].startswith(
        "last workflow run wr_4 FAILED: its process ended mid-run (killed?); `retailake "
        "run-pipeline` finishes the work")
    with run_lock(env).open("a") as held:  # a run really under way: it is RUNNING
        fcntl.flock(held, fcntl.LOCK_EX)
        last, jobs = local_runs(env, "wf", ["a", "b", "c"])
        assert (last.state, jobs[1].state) == ("RUNNING", "RUNNING")


def test_the_json_schema_is_what_the_readme_documents():
    """Version 1's fields, pinned: changing one must come with a new schema_version."""
    deployment = DeploymentStatus("dev", "us-east-1", True, None, drift=Drift(False, []))
    report = LakeStatus("dev", "us-east-1", None, "now", 0.1, deployment,
                        StorageStatus([LayerStorage("raw", "b", Usage(), {"sales": Usage()})],
                                      [RejectedRows("sales", 1, 2)]),
                        CatalogStatus([DatabaseStatus("raw", "db", True, [TableStatus("t", 1)])],
                                      [CrawlStatus("c", None)]),
                        PipelineStatus("wf", RunStatus("wf", None), [RunStatus("j", None)]),
                        WarehouseStatus("wh", True),
                        AlarmsStatus([AlarmStatus("a", "OK")], {"OK": 1}))
    document = json.loads(json.dumps(report.to_dict()))
    run = {"name", "state", "run_id", "started_at", "ended_at", "duration_seconds", "error",
           "rows_read", "rows_written", "rows_rejected", "duplicates_dropped"}
    assert document["schema_version"] == 1
    assert set(document["deployment"]) == {"environment", "region", "deployed", "endpoint_url",
                                           "name_prefix", "account_id", "buckets", "outputs",
                                           "drift", "message"}
    assert set(document["deployment"]["drift"]) == {"drifted", "changes"}
    layer = document["storage"]["layers"][0]
    assert set(layer) == {"layer", "bucket", "total", "prefixes"}
    assert layer["prefixes"]["sales"] == layer["total"] == {"objects": 0, "bytes": 0}
    assert document["storage"]["rejected"] == [{"source": "sales", "files": 1, "rows": 2}]
    assert set(document["catalog"]["databases"][0]) == {"layer", "name", "present", "tables"}
    assert document["catalog"]["databases"][0]["tables"] == [{"name": "t", "partitions": 1}]
    assert set(document["catalog"]["crawlers"][0]) == {"name", "state", "started_at",
                                                       "ended_at", "error"}
    assert set(document["pipeline"]) == {"workflow", "last_run", "jobs"}
    assert set(document["pipeline"]["last_run"]) == set(document["pipeline"]["jobs"][0]) == run
    assert set(document["warehouse"]) == {
        "cluster_identifier", "present", "state", "availability", "node_type", "nodes",
        "endpoint", "spectrum_role_attached", "spectrum_database", "spectrum_database_present",
        "external_schema"}
    assert set(document["alarms"]) == {"alarms", "counts"}
    assert set(document["alarms"]["alarms"][0]) == {"name", "state", "reason", "metric",
                                                    "updated_at"}


def test_an_emulator_that_cannot_save_its_state_is_a_problem(monkeypatch):
    monkeypatch.setattr("retailake.status.collect.emulator.health",
                        lambda env: {"snapshot_error": "OSError: [Errno 28] No space left"})
    report = collect.collect_status(load_environment("local"))
    assert [(p.section, p.message.split(" (")[0]) for p in report.problems][-1] == (
        "deployment", f"the emulator cannot save its state under "
                      f"{load_environment('local').state_dir / 'emulator'}")
    monkeypatch.setattr("retailake.status.collect.emulator.health", lambda env: {})
    assert [p.message for p in collect.collect_status(load_environment("local")).problems
            if "cannot save" in p.message] == []


def test_every_job_run_state_glue_documents_as_ended_badly_is_a_failure():
    """Against botocore's model of Glue: a state added there must be placed here."""
    states = boto3.client("glue", region_name="eu-west-1").meta.service_model.shape_for(
        "JobRunState").enum
    failed = {s for s in states if RunStatus("j", s).failed}
    assert failed == {"FAILED", "ERROR", "TIMEOUT", "EXPIRED"}
    assert set(states) - failed == {"STARTING", "RUNNING", "STOPPING", "STOPPED", "SUCCEEDED",
                                    "WAITING"}


@pytest.mark.parametrize(("text", "said"), [
    ('{"buckets":', "saved at {} cannot be read (Expecting value"),
    ("[]", "saved at {} cannot be read (not a JSON object)"),
    ("{}", "outputs at {} lack 'buckets'"),
])
def test_damaged_saved_outputs_are_named_by_every_command_not_a_traceback(text, said):
    env = load_environment("local")
    env.state_dir.mkdir(parents=True, exist_ok=True)
    env.outputs_file.write_text(text)
    said = said.format(env.outputs_file)
    runner = CliRunner()
    commands = [(["seed-sample"], 2), (["status"], 1)]
    if text != "{}":  # readable outputs: run-pipeline starts the emulator before it needs one
        commands.append((["run-pipeline"], 2))
    for command, code in commands:
        result = runner.invoke(app, [*command, "--format", "json"])
        assert result.exit_code == code, (command, result.output)
        assert said in result.stderr and "retailake deploy --env local` again" in result.stderr
        assert "Traceback" not in result.output


def test_outputs_saved_by_an_older_deploy_name_the_output_they_lack():
    env = load_environment("local")
    save_outputs(env, {"buckets": {"raw": "r"}, "region": "us-east-1"})
    with pytest.raises(ConfigError, match=f"outputs at {env.outputs_file} lack 'glue_workflow'"):
        load_outputs(env)["glue_workflow"]
    with pytest.raises(KeyError):  # outputs not read from a file: the plain error
        Outputs({"buckets": {}})["glue_workflow"]
    assert not list(env.state_dir.glob(".*"))  # saved whole: no partial file left beside


def test_drift_check_on_a_stopped_twin_says_to_bring_it_up(monkeypatch):
    """Not Terraform's screens of refused connections, as plan and deploy say it."""
    from retailake import deploy
    from retailake.errors import EmulatorError, TerraformError
    from retailake.local import emulator

    def refused(env):
        raise TerraformError("terraform plan failed:\nError: dial tcp 127.0.0.1: connect: "
                             "connection refused")

    monkeypatch.setattr(deploy, "plan", refused)
    monkeypatch.setattr(emulator, "gone", lambda env: True)
    with pytest.raises(EmulatorError, match=r"stopped while the command ran.*retailake local up"):
        check_drift(load_environment("local"))


def test_a_nested_output_missing_names_the_deploy_to_run():
    said = collect._describe(KeyError("transform_sales"), "prod")
    assert said == ("the deployment's outputs lack 'transform_sales': run `retailake deploy "
                    "--env prod` again")
