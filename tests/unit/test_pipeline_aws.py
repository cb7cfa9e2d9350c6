"""`run-pipeline` in AWS: StartWorkflowRun, then GetWorkflowRun polled until the run ends.

No AWS account exists here, so Glue and CloudWatch are botocore Stubbers: every request is
still validated against the real API model, and the answers are shaped as Glue documents."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber
from typer.testing import CliRunner

from retailake.aws import workflow_run
from retailake.aws.workflow_run import (
    JobSetup,
    Polling,
    attempts_from_graph,
    run_workflow_in_aws,
)
from retailake.cli import app
from retailake.config import load_environment
from retailake.errors import AwsError
from retailake.local.glue import history
from retailake.outputs import Outputs, save_outputs

WORKFLOW = "rl-dev-pipeline"
CRAWL, SALES, AGG = "rl-dev-raw", "rl-dev-transform-sales", "rl-dev-analytics-aggregation"
T0 = dt.datetime(2026, 11, 27, 3, 0, tzinfo=dt.UTC)
OUTPUTS = {"glue_workflow": WORKFLOW, "name_prefix": "rl-dev", "region": "eu-west-1"}
# what Terraform gives each job (terraform/modules/glue)
JOB_DEFAULTS = {"--metrics_namespace": "Lake", "--custom-logGroup-prefix": "/aws-glue/jobs/rl-dev"}
SECURITY = "rl-dev-glue"  # encrypts the jobs' CloudWatch logs: Glue adds a folder to the group
SALES_LOGS = f"/aws-glue/jobs/rl-dev/{SECURITY}-role/rl-dev-job-transform-sales/error"
TRIGGERS = [
    {"Name": "rl-dev-start", "WorkflowName": WORKFLOW, "Type": "ON_DEMAND",
     "Actions": [{"CrawlerName": CRAWL}]},
    {"Name": "rl-dev-transform", "WorkflowName": WORKFLOW, "Type": "CONDITIONAL",
     "Predicate": {"Logical": "AND", "Conditions": [
         {"LogicalOperator": "EQUALS", "CrawlerName": CRAWL, "CrawlState": "SUCCEEDED"}]},
     "Actions": [{"JobName": SALES}]},
    {"Name": "rl-dev-aggregate", "WorkflowName": WORKFLOW, "Type": "CONDITIONAL",
     "Predicate": {"Logical": "AND", "Conditions": [
         {"LogicalOperator": "EQUALS", "JobName": SALES, "State": "SUCCEEDED"}]},
     "Actions": [{"JobName": AGG}]},
    {"Name": "other-start", "WorkflowName": "another-workflow", "Type": "ON_DEMAND",
     "Actions": [{"JobName": "not-ours"}]},
]  # fmt: skip


def at(minutes: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def crawler(state: str | None, **extra: Any) -> dict:
    crawls = [] if state is None else [{"State": state, "StartedOn": at(0), **extra}]
    return {"Type": "CRAWLER", "Name": CRAWL, "UniqueId": "c1",
            "CrawlerDetails": {"Crawls": crawls}}  # fmt: skip


def job(name: str, *runs: dict) -> dict:
    return {"Type": "JOB", "Name": name, "UniqueId": name, "JobDetails": {"JobRuns": list(runs)}}


def job_run(run_id: str, state: str, start: float, end: float | None = None, **extra) -> dict:
    found = {"Id": run_id, "JobRunState": state, "StartedOn": at(start), **extra}
    return found if end is None else {**found, "CompletedOn": at(end)}


def workflow_answer(status: str, *nodes: dict, completed: float | None = None) -> dict:
    run = {"Name": WORKFLOW, "WorkflowRunId": "wr_1", "Status": status, "StartedOn": at(0),
           "Graph": {"Nodes": [{"Type": "TRIGGER", "Name": "rl-dev-start"}, *nodes]}}
    return {"Run": run if completed is None else {**run, "CompletedOn": at(completed)}}


class Aws:
    """Stubbed Glue and CloudWatch clients handed out by the module's `client` factory."""

    def __init__(self) -> None:
        keys = {"region_name": "eu-west-1", "aws_access_key_id": "k", "aws_secret_access_key": "s"}
        self.clients = {name: boto3.client(name, **keys) for name in ("glue", "cloudwatch")}
        self.stubs = {name: Stubber(c) for name, c in self.clients.items()}

    def glue(self, method: str, answer: dict, expected: dict | None = None) -> None:
        self.stubs["glue"].add_response(method, answer, expected)

    def start(self, full_refresh: str = "false") -> None:
        self.ready_to_start()
        self.glue("start_workflow_run", {"RunId": "wr_1"},
                  {"Name": WORKFLOW, "RunProperties": {"full_refresh": full_refresh}})

    def ready_to_start(self) -> None:
        """What a start reads first: the plan, the jobs' setups, and no run under way."""
        self.glue("get_triggers", {"Triggers": TRIGGERS})
        for name in (SALES, AGG):  # the plan's jobs, in its order
            role = f"arn:aws:iam::123456789012:role/rl-dev-job-{name.split('-', 2)[2]}"
            self.glue("get_job", {"Job": {"Name": name, "DefaultArguments": JOB_DEFAULTS,
                                          "Role": role, "SecurityConfiguration": SECURITY}},
                      {"JobName": name})  # fmt: skip
            if name == SALES:  # read once, for every job that names it
                self.glue("get_security_configuration", {"SecurityConfiguration": {
                    "Name": SECURITY, "EncryptionConfiguration": {"CloudWatchEncryption": {
                        "CloudWatchEncryptionMode": "SSE-KMS", "KmsKeyArn": "arn:k"}}}},
                    {"Name": SECURITY})  # fmt: skip
        self.under_way()

    def under_way(self, *runs: dict) -> None:
        self.glue("get_workflow_runs", {"Runs": list(runs)} if runs else {},
                  {"Name": WORKFLOW, "IncludeGraph": False, "MaxResults": 25})

    def poll(self, answer: dict) -> None:
        self.glue("get_workflow_run", answer,
                  {"Name": WORKFLOW, "RunId": "wr_1", "IncludeGraph": True})

    def metrics(self, job_name: str, run_id: str, sums: dict[str, float]) -> None:
        dims = [{"Name": "JobName", "Value": job_name}, {"Name": "JobRunId", "Value": run_id}]
        for metric in ("RowsRead", "RowsWritten", "RowsRejected", "DuplicatesDropped",
                       "DurationSeconds"):  # fmt: skip
            points = [{"Sum": sums[metric]}] if metric in sums else []
            self.stubs["cloudwatch"].add_response(
                "get_metric_statistics", {"Datapoints": points},
                {"Namespace": "Lake", "MetricName": metric, "Dimensions": dims,
                 "StartTime": ANY, "EndTime": ANY, "Period": ANY, "Statistics": ["Sum"]},
            )  # fmt: skip

    def assert_all_used(self) -> None:
        for stub in self.stubs.values():
            stub.assert_no_pending_responses()


@pytest.fixture
def aws(monkeypatch) -> Iterator[Aws]:
    fake = Aws()
    monkeypatch.setattr(workflow_run, "client", lambda _env, service: fake.clients[service])
    for stub in fake.stubs.values():
        stub.activate()
    yield fake
    for stub in fake.stubs.values():
        stub.deactivate()


@pytest.fixture
def dev(tmp_path, monkeypatch):
    monkeypatch.setenv("RETAILAKE_HOME", str(tmp_path))
    env = load_environment("dev")
    save_outputs(env, OUTPUTS)
    return env


class Clock:
    """Time that moves only when the code sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def polling(self, timeout: float = 600) -> Polling:
        return Polling(timeout_seconds=timeout, interval_seconds=10, sleep=self.sleep,
                       clock=lambda: self.now)  # fmt: skip


def successful_run(aws: Aws, full_refresh: str = "false") -> None:
    aws.start(full_refresh)
    aws.poll(workflow_answer("RUNNING", crawler("RUNNING"), job(SALES), job(AGG)))
    aws.poll(workflow_answer("RUNNING", crawler("SUCCEEDED", CompletedOn=at(1)),
                             job(SALES, job_run("jr_s", "RUNNING", 1.5)), job(AGG)))
    aws.poll(workflow_answer(
        "COMPLETED", crawler("SUCCEEDED", CompletedOn=at(1)),
        job(SALES, job_run("jr_s", "SUCCEEDED", 1.5, 4)),
        job(AGG, job_run("jr_a", "SUCCEEDED", 4.5, 6)), completed=6.2))
    aws.metrics(SALES, "jr_s", {"RowsRead": 100, "RowsWritten": 95, "RowsRejected": 3,
                                "DuplicatesDropped": 2, "DurationSeconds": 140})
    aws.metrics(AGG, "jr_a", {"RowsRead": 95, "RowsWritten": 40})


def test_a_successful_run_is_followed_to_the_end(aws, dev):
    successful_run(aws, full_refresh="true")
    clock, events = Clock(), []
    run = run_workflow_in_aws(dev, Outputs(OUTPUTS), events.append, full_refresh=True,
                              polling=clock.polling())  # fmt: skip
    aws.assert_all_used()
    assert run.state == "SUCCEEDED" and run.run_id == "wr_1" and run.full_refresh
    assert clock.sleeps == [10, 10]
    assert [(e.kind, e.node.name if e.node else None) for e in events] == [
        ("run_started", None),
        ("node_started", CRAWL),
        ("node_succeeded", CRAWL),
        ("node_started", SALES),
        ("node_succeeded", SALES),
        ("node_succeeded", AGG),  # started and ended between two polls
        ("run_finished", None),
    ]
    sales = run.node("job", SALES)
    assert (sales.run_id, sales.duration_seconds, sales.stage) == ("jr_s", 150.0, 1)
    assert sales.rows == {"rows_read": 100, "rows_written": 95, "rows_rejected": 3,
                          "duplicates_dropped": 2, "duration_seconds": 140}  # fmt: skip
    assert run.node("job", AGG).rows == {"rows_read": 95, "rows_written": 40}
    assert all(type(count) is int for count in sales.rows.values())  # JSON: 100, not 100.0
    assert run.ended_at == "2026-11-27T03:06:12.000+00:00"
    assert history.last_run(dev).to_dict() == run.to_dict()  # what `status` reads back


def test_a_failed_job_names_its_error_and_logs_and_skips_what_follows(aws, dev):
    aws.start()
    aws.poll(workflow_answer(
        "COMPLETED", crawler("SUCCEEDED", CompletedOn=at(1)),
        job(SALES,
            job_run("jr_1st", "FAILED", 1.5, 2, ErrorMessage="first attempt"),
            job_run("jr_retry", "FAILED", 2.5, 3, ErrorMessage="AnalysisException: no col")),
        job(AGG), completed=3))  # fmt: skip
    aws.metrics(SALES, "jr_retry", {"RowsRead": 7})
    run = run_workflow_in_aws(dev, Outputs(OUTPUTS), polling=Clock().polling())
    aws.assert_all_used()
    sales, agg = run.node("job", SALES), run.node("job", AGG)
    assert run.state == "FAILED"
    assert (sales.state, sales.run_id) == ("FAILED", "jr_retry")  # the newest attempt counts
    assert (sales.error.type, sales.error.message) == ("FAILED", "AnalysisException: no col")
    assert (sales.log_group, sales.log_stream) == (SALES_LOGS, "jr_retry-driver")
    assert agg.state == "SKIPPED"


def test_the_wait_is_bounded_and_the_run_is_left_going(aws, dev):
    aws.start()
    running = workflow_answer("RUNNING", crawler("RUNNING"), job(SALES), job(AGG))
    for _ in range(4):
        aws.poll(running)
    clock = Clock()
    run = run_workflow_in_aws(dev, Outputs(OUTPUTS), polling=clock.polling(timeout=25))
    aws.assert_all_used()
    assert run.state == "RUNNING" and run.ended_at is None
    assert clock.sleeps == [10, 10, 5]


def test_a_few_failed_polls_in_a_row_are_asked_again_and_more_stop_the_following(aws, dev):
    aws.start()
    running = workflow_answer("RUNNING", crawler("RUNNING"), job(SALES), job(AGG))
    aws.poll(running)
    for code in ("OperationTimeoutException", "ThrottlingException", "InternalServiceException"):
        aws.stubs["glue"].add_client_error("get_workflow_run", code, "try later")
    aws.poll(running)  # the count starts again after an answer
    for _ in range(workflow_run.FAILED_POLLS_TOLERATED + 1):
        aws.stubs["glue"].add_client_error("get_workflow_run", "OperationTimeoutException", "")
    clock = Clock()
    with pytest.raises(AwsError, match="OperationTimeoutException") as stopped:
        run_workflow_in_aws(dev, Outputs(OUTPUTS), polling=clock.polling())
    aws.assert_all_used()
    assert "workflow run wr_1 goes on in Glue" in str(stopped.value)
    assert clock.sleeps == [10] * 8  # a poll's interval after each answer, failed or not


def test_a_job_whose_counts_cloudwatch_does_not_show_yet_says_so(aws, dev):
    aws.start()
    aws.poll(workflow_answer(
        "COMPLETED", crawler("SUCCEEDED", CompletedOn=at(1)),
        job(SALES, job_run("jr_s", "SUCCEEDED", 1.5, 4)),
        job(AGG, job_run("jr_a", "SUCCEEDED", 4.5, 6)), completed=6.2))  # fmt: skip
    aws.metrics(SALES, "jr_s", {"RowsRead": 100, "RowsWritten": 100})
    aws.metrics(AGG, "jr_a", {})  # published seconds ago
    result = CliRunner().invoke(app, ["run-pipeline", "--env", "dev"])
    aws.assert_all_used()
    assert result.exit_code == 0, result.output
    said = " ".join(result.stderr.split())
    assert (f"job {AGG}: no row counts for run jr_a in CloudWatch yet: `retailake status` "
            "reads them again") in said
    assert f"job {SALES}:" not in said


def test_graph_nodes_map_to_records():
    graph = workflow_answer(
        "RUNNING", crawler("FAILED", ErrorMessage="denied", LogGroup="/aws-glue/crawlers",
                           LogStream=CRAWL),
        job(SALES, job_run("jr_x", "WAITING", 1)), job(AGG))["Run"]["Graph"]
    found = {a.name: a for a in attempts_from_graph(graph)}
    assert set(found) == {CRAWL, SALES, AGG}  # the trigger node is wiring, not work
    assert (found[CRAWL].state, found[CRAWL].error, found[CRAWL].log_stream) == (
        "FAILED", "denied", CRAWL)
    assert (found[SALES].state, found[AGG].state) == ("RUNNING", "PENDING")


def test_cli_on_aws_shows_the_failure_and_exits_1(aws, dev):
    aws.start()
    aws.poll(workflow_answer(
        "COMPLETED", crawler("SUCCEEDED", CompletedOn=at(1)),
        job(SALES, job_run("jr_9", "TIMEOUT", 1, 61, ErrorMessage="Job timed out")),
        job(AGG), completed=61))  # fmt: skip
    aws.metrics(SALES, "jr_9", {})
    result = CliRunner().invoke(app, ["run-pipeline", "--env", "dev", "--format", "json"])
    aws.assert_all_used()
    assert result.exit_code == 1, result.output
    assert "job rl-dev-transform-sales failed: TIMEOUT: Job timed out" in result.stderr
    assert f"CloudWatch log group {SALES_LOGS}, stream jr_9-driver" in result.stderr
    record = json.loads(result.stdout)
    assert [n["state"] for n in record["nodes"]] == ["SUCCEEDED", "FAILED", "SKIPPED"]


def test_cli_on_aws_says_where_an_unfinished_run_goes_on(aws, dev, monkeypatch):
    aws.start()
    aws.poll(workflow_answer("RUNNING", crawler("RUNNING"), job(SALES), job(AGG)))
    monkeypatch.setattr(workflow_run, "Polling", lambda timeout_seconds: Clock().polling(0))
    result = CliRunner().invoke(app, ["run-pipeline", "--env", "dev", "--timeout", "5"])
    assert result.exit_code == 1, result.output
    assert "Still running after 5 s: workflow run wr_1 goes on in Glue" in result.stderr
    assert f"stop-workflow-run --name {WORKFLOW} --run-id wr_1" in result.stderr


@pytest.mark.parametrize("stop", ["poll fails", "ctrl-c"])
def test_following_that_stops_early_says_the_run_goes_on(aws, dev, monkeypatch, stop):
    aws.start()
    aws.poll(workflow_answer("RUNNING", crawler("RUNNING"), job(SALES), job(AGG)))
    if stop == "poll fails":
        aws.stubs["glue"].add_client_error("get_workflow_run", "AccessDeniedException", "no")
        sleep = Clock().sleep
    else:
        def sleep(_seconds: float) -> None:
            raise KeyboardInterrupt
    polling = Polling(timeout_seconds=600, interval_seconds=10, sleep=sleep, clock=lambda: 0.0)
    monkeypatch.setattr(workflow_run, "Polling", lambda timeout_seconds: polling)
    result = CliRunner().invoke(app, ["run-pipeline", "--env", "dev"])
    aws.assert_all_used()
    assert result.exit_code == 1, result.output
    why = "interrupted" if stop == "ctrl-c" else "GetWorkflowRun failed: AccessDeniedException"
    assert "stopped following the run (" in result.stderr and why in result.stderr
    assert "workflow run wr_1 goes on in Glue" in result.stderr
    assert f"stop-workflow-run --name {WORKFLOW} --run-id wr_1" in result.stderr
    assert history.last_run(dev).state == "RUNNING"  # as it is, in Glue


ENCRYPTED = "/sec-role/job-role"  # what an encrypting security configuration adds


@pytest.mark.parametrize(("run", "setup", "expected"), [
    ({"Id": "jr_1"}, JobSetup(), ("/aws-glue/jobs/error", "jr_1-driver")),
    ({"Id": "jr_1"}, JobSetup(log_folder=ENCRYPTED),
     ("/aws-glue/jobs/sec-role/job-role/error", "jr_1-driver")),
    ({"Id": "jr_1", "LogGroupName": "/aws-glue/jobs-role-sec/"}, JobSetup(),
     ("/aws-glue/jobs-role-sec/error", "jr_1-driver")),
    ({"Id": "jr_1", "LogGroupName": "/aws-glue/jobs/"}, JobSetup(JOB_DEFAULTS),
     ("/aws-glue/jobs/rl-dev/error", "jr_1-driver")),
    ({"Id": "jr_1"}, JobSetup(JOB_DEFAULTS, ENCRYPTED),
     ("/aws-glue/jobs/rl-dev/sec-role/job-role/error", "jr_1-driver")),
    ({"Id": "jr_1", "Arguments": {"--custom-logGroup-prefix": "/run/own",
                                  "--custom-logStream-prefix": "nightly"}}, JobSetup(JOB_DEFAULTS),
     ("/run/own/error", "nightly-driver")),
])  # fmt: skip
def test_a_job_runs_logs_are_where_its_arguments_send_them(run, setup, expected):
    assert workflow_run.job_logs(run, setup) == expected


def test_only_a_configuration_that_encrypts_logs_moves_them(aws):
    unencrypted = {"Name": "plain", "EncryptionConfiguration": {"CloudWatchEncryption": {
        "CloudWatchEncryptionMode": "DISABLED"}}}  # fmt: skip
    aws.glue("get_job", {"Job": {"Name": SALES, "Role": "job-role",
                                 "SecurityConfiguration": "plain"}})  # fmt: skip
    aws.glue("get_security_configuration", {"SecurityConfiguration": unencrypted})
    aws.glue("get_job", {"Job": {"Name": AGG, "Role": "arn:aws:iam::1:role/team/agg-role",
                                 "SecurityConfiguration": SECURITY}})  # fmt: skip
    aws.glue("get_security_configuration", {"SecurityConfiguration": {
        "Name": SECURITY, "EncryptionConfiguration": {"CloudWatchEncryption": {
            "CloudWatchEncryptionMode": "SSE-KMS"}}}})  # fmt: skip
    setups = workflow_run.read_job_setups(aws.clients["glue"], [SALES, AGG])
    aws.assert_all_used()
    assert setups == {SALES: JobSetup({}, ""), AGG: JobSetup({}, f"/{SECURITY}-role/agg-role")}


def test_a_workflow_run_glue_refused_says_why(aws, dev):
    aws.start()
    aws.poll(workflow_answer("RUNNING", crawler(None), job(SALES), job(AGG)))
    aws.poll({"Run": {**workflow_answer("ERROR", crawler(None), job(SALES), job(AGG),
                                        completed=0.1)["Run"],
                      "ErrorMessage": "Concurrent runs exceeded for workflow: rl-dev-pipeline"}})
    result = CliRunner().invoke(app, ["run-pipeline", "--env", "dev"])
    aws.assert_all_used()
    assert result.exit_code == 1, result.output
    assert ("run wr_1 failed: workflow run ERROR: Concurrent runs exceeded for workflow: "
            "rl-dev-pipeline") in " ".join(result.stderr.split())
    record = history.last_run(dev)
    assert (record.state, [n.state for n in record.nodes]) == ("FAILED", ["SKIPPED"] * 3)


def test_a_stopped_workflow_run_stops_what_was_running(aws, dev):
    aws.start()
    aws.poll(workflow_answer(
        "STOPPED", crawler("SUCCEEDED", CompletedOn=at(1)),
        job(SALES, job_run("jr_s", "STOPPING", 1.5)), job(AGG), completed=3))
    aws.metrics(SALES, "jr_s", {"RowsRead": 5})
    run = run_workflow_in_aws(dev, Outputs(OUTPUTS), polling=Clock().polling())
    aws.assert_all_used()
    sales = run.node("job", SALES)
    assert (run.state, run.error) == ("FAILED", "workflow run STOPPED")
    assert (sales.state, sales.error.type) == ("FAILED", "STOPPED")
    assert "still running when the workflow run ended STOPPED" in sales.error.message
    assert (sales.rows, run.node("job", AGG).state) == ({"rows_read": 5}, "SKIPPED")


def _enum(shape: str) -> list[str]:
    return boto3.client("glue", region_name="eu-west-1").meta.service_model.shape_for(shape).enum


@pytest.mark.parametrize(("shape", "ended"), [
    ("JobRunState", {"SUCCEEDED": "SUCCEEDED", "FAILED": "FAILED", "ERROR": "FAILED",
                     "TIMEOUT": "FAILED", "STOPPED": "FAILED", "EXPIRED": "FAILED"}),
    ("CrawlState", {"SUCCEEDED": "SUCCEEDED", "FAILED": "FAILED", "ERROR": "FAILED",
                    "CANCELLED": "FAILED"}),
])  # fmt: skip
def test_every_state_glue_documents_is_read_as_ended_or_under_way(shape, ended):
    """Against botocore's model of Glue, so that a state Glue adds shows up here."""
    for state in _enum(shape):
        node = (job(SALES, job_run("jr", state, 1)) if shape == "JobRunState"
                else crawler(state))  # fmt: skip
        (attempt,) = attempts_from_graph({"Nodes": [node]})
        assert attempt.state == ended.get(state, "RUNNING"), state
    assert set(workflow_run._NODE_STATES) <= set(_enum("JobRunState")) | set(_enum("CrawlState"))


def test_every_workflow_status_but_running_ends_the_wait():
    statuses = set(_enum("WorkflowRunStatus"))
    assert statuses - set(workflow_run.WORKFLOW_ENDED) == {"RUNNING", "STOPPING"}


def test_a_retry_that_succeeds_clears_the_failed_attempts_error(aws, dev):
    aws.start()
    first = job_run("jr_1st", "FAILED", 1.5, 2, ErrorMessage="lost an executor")
    aws.poll(workflow_answer("RUNNING", crawler("SUCCEEDED", CompletedOn=at(1)),
                             job(SALES, first), job(AGG)))
    aws.poll(workflow_answer("RUNNING", crawler("SUCCEEDED", CompletedOn=at(1)),
                             job(SALES, first, job_run("jr_2nd", "RUNNING", 2.5)), job(AGG)))
    aws.poll(workflow_answer(
        "COMPLETED", crawler("SUCCEEDED", CompletedOn=at(1)),
        job(SALES, first, job_run("jr_2nd", "SUCCEEDED", 2.5, 4)),
        job(AGG, job_run("jr_a", "SUCCEEDED", 4.5, 5)), completed=5))
    aws.metrics(SALES, "jr_2nd", {})
    aws.metrics(AGG, "jr_a", {})
    run = run_workflow_in_aws(dev, Outputs(OUTPUTS), polling=Clock().polling())
    aws.assert_all_used()
    sales = run.node("job", SALES)
    assert (run.state, sales.state, sales.run_id, sales.error) == (
        "SUCCEEDED", "SUCCEEDED", "jr_2nd", None)
    assert sales.duration_seconds == 90.0


def test_ctrl_c_after_the_run_ended_does_not_say_it_goes_on(aws, dev, monkeypatch):
    aws.start()
    aws.poll(workflow_answer("COMPLETED", crawler("SUCCEEDED", CompletedOn=at(1)),
                             job(SALES, job_run("jr_s", "SUCCEEDED", 1.5, 4)),
                             job(AGG, job_run("jr_a", "SUCCEEDED", 4.5, 6)), completed=6))

    def interrupted(*_args) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(workflow_run, "read_job_metrics", interrupted)
    result = CliRunner().invoke(app, ["run-pipeline", "--env", "dev"])
    aws.assert_all_used()
    assert result.exit_code != 0, result.output
    assert "interrupted" in result.stderr and "goes on in Glue" not in result.stderr


def refused_as_concurrent(aws: Aws, *under_way: dict) -> None:
    """A start Glue refuses as beyond its one run at a time, and the runs then under way."""
    aws.stubs["glue"].add_client_error("start_workflow_run", "ConcurrentRunsExceededException",
                                       "Concurrent runs exceeded for workflow")  # fmt: skip
    aws.under_way(*under_way)


def test_a_run_while_one_is_under_way_says_so(aws, dev):
    aws.glue("get_triggers", {"Triggers": TRIGGERS})
    for name in (SALES, AGG):
        aws.glue("get_job", {"Job": {"Name": name, "DefaultArguments": JOB_DEFAULTS}})
    aws.under_way()
    refused_as_concurrent(aws, {"Name": WORKFLOW, "WorkflowRunId": "wr_9", "Status": "RUNNING",
                                "WorkflowRunProperties": {"full_refresh": "true"}})  # not ours
    result = CliRunner().invoke(app, ["run-pipeline", "--env", "dev"])
    aws.assert_all_used()
    assert result.exit_code == 1, result.output
    assert (f"workflow '{WORKFLOW}' is already running (run wr_9), and it allows one run at a "
            "time") in " ".join(result.stderr.split())


def test_a_start_refused_as_its_own_retry_follows_the_run_it_began(aws, dev):
    """The SDK retried a start whose answer was lost; Glue refused the retry: the run under
    way, begun since nothing was, with this start's properties, is followed."""
    aws.ready_to_start()
    refused_as_concurrent(aws, {"Name": WORKFLOW, "WorkflowRunId": "wr_1", "Status": "RUNNING",
                                "WorkflowRunProperties": {"full_refresh": "false"}})
    aws.poll(workflow_answer(
        "COMPLETED", crawler("SUCCEEDED", CompletedOn=at(1)),
        job(SALES, job_run("jr_s", "SUCCEEDED", 1.5, 4)),
        job(AGG, job_run("jr_a", "SUCCEEDED", 4.5, 6)), completed=6.2))
    aws.metrics(SALES, "jr_s", {"RowsRead": 100, "RowsWritten": 100})
    aws.metrics(AGG, "jr_a", {"RowsRead": 100, "RowsWritten": 40})
    run = run_workflow_in_aws(dev, Outputs(OUTPUTS), polling=Clock().polling())
    aws.assert_all_used()
    assert (run.state, run.run_id, run.node("job", SALES).rows["rows_written"]) == (
        "SUCCEEDED", "wr_1", 100)


def test_a_run_under_way_is_named_and_none_is_started_beside_it(aws, dev):
    aws.glue("get_triggers", {"Triggers": TRIGGERS})
    for name in (SALES, AGG):
        aws.glue("get_job", {"Job": {"Name": name, "DefaultArguments": JOB_DEFAULTS}})
    aws.under_way({"Name": WORKFLOW, "WorkflowRunId": "wr_0", "Status": "RUNNING"},
                  {"Name": WORKFLOW, "WorkflowRunId": "wr_old", "Status": "COMPLETED"})
    result = CliRunner().invoke(app, ["run-pipeline", "--env", "dev"])
    aws.assert_all_used()  # and no StartWorkflowRun: the stub would refuse an unexpected call
    assert result.exit_code == 1, result.output
    assert (f"workflow '{WORKFLOW}' is already running (run wr_0), and it allows one run at a "
            "time: follow that run with `retailake status`") in " ".join(result.stderr.split())
