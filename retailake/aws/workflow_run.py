"""Run the deployed Glue workflow in AWS and follow it to the end.

StartWorkflowRun (with `full_refresh` as a run property, which the jobs read back), then
GetWorkflowRun with its graph every few seconds until the run ends or the timeout passes.
Each answer becomes the same PipelineRun record the local twin writes, so `run-pipeline`
shows one view in both places and `status` reads one format. The jobs' definitions are read
once, before the start: their arguments and security configuration say where a run logs,
and which namespace holds its row counts. On timeout the run goes on in
Glue: the record stays RUNNING and says so. So it does when the following stops early (Ctrl-C,
or GetWorkflowRun failing): the error then says how to follow or stop the run."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from retailake.aws.clients import client, describe_error, error_code
from retailake.config import Environment
from retailake.errors import AwsError, ConfigError
from retailake.local.glue import history, metrics
from retailake.local.glue.history import (
    FAILED,
    NODE_FAILED,
    NODE_SKIPPED,
    NODE_STARTED,
    NODE_SUCCEEDED,
    PENDING,
    RUN_FINISHED,
    RUN_STARTED,
    RUNNING,
    SKIPPED,
    SUCCEEDED,
    EventHandler,
    NodeError,
    NodeRun,
    PipelineRun,
)
from retailake.local.glue.workflow import CRAWLER, JOB, build_plan, read_triggers, run_properties
from retailake.outputs import Outputs

WORKFLOW_ENDED = ("COMPLETED", "STOPPED", "ERROR")
# JobRunState and CrawlState -> the record's states; anything else is still under way.
_NODE_STATES = {
    "SUCCEEDED": SUCCEEDED,
    "FAILED": FAILED, "ERROR": FAILED, "TIMEOUT": FAILED, "STOPPED": FAILED,
    "EXPIRED": FAILED, "CANCELLED": FAILED,
}  # fmt: skip
# Glue 5.0 logs a job run to <group>/error, stream <run id>-driver (stdout to <group>/output).
# The group is `--custom-logGroup-prefix` when the run or its job sets it (ours do), else the
# run's LogGroupName, else the default; a security configuration that encrypts CloudWatch logs
# adds /<its name>-role/<the job's role name> to the prefix or default ("Logging for AWS Glue
# jobs", AWS Glue guide). `--custom-logStream-prefix` takes the run id's place.
DEFAULT_JOB_LOG_GROUP = "/aws-glue/jobs"
LOG_GROUP_ARGUMENT, LOG_STREAM_ARGUMENT = "--custom-logGroup-prefix", "--custom-logStream-prefix"


@dataclass(frozen=True)
class JobSetup:
    """What following a run needs of a job's definition: its arguments (where it logs, the
    namespace of its row counts) and the folder its security configuration adds to its log
    group ("" when the configuration leaves logs unencrypted, or there is none)."""

    arguments: Mapping[str, str] = field(default_factory=dict)
    log_folder: str = ""


JobSetups = Mapping[str, JobSetup]  # by job name


@dataclass(frozen=True)
class Polling:
    """How often to ask and how long to wait; `sleep` and `clock` are swapped in tests."""

    timeout_seconds: float = 3600.0
    interval_seconds: float = 15.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic


@dataclass
class _Attempt:
    """The latest run of one graph node, as Glue reports it."""

    kind: str
    name: str
    state: str
    run_id: str | None = None
    started: dt.datetime | None = None
    ended: dt.datetime | None = None
    error: str | None = None
    log_group: str | None = None
    log_stream: str | None = None
    raw_state: str = ""


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds") if moment else None


def _latest(runs: list[dict[str, Any]]) -> dict[str, Any] | None:
    """A retried job has several runs in one workflow run: the newest one counts."""
    dated = [r for r in runs if r.get("StartedOn")]
    return max(dated, key=lambda r: r["StartedOn"]) if dated else (runs[-1] if runs else None)


def job_logs(run: Mapping[str, Any], setup: JobSetup) -> tuple[str, str]:
    """The log group and stream of a job run's driver (the run's arguments over its job's)."""
    arguments = {**setup.arguments, **(run.get("Arguments") or {})}
    prefix = arguments.get(LOG_GROUP_ARGUMENT)
    if prefix or not run.get("LogGroupName"):
        group = (prefix or DEFAULT_JOB_LOG_GROUP).rstrip("/") + setup.log_folder
    else:  # the name Glue reports, as it is
        group = run["LogGroupName"].rstrip("/")
    stream = arguments.get(LOG_STREAM_ARGUMENT) or run.get("Id")
    return f"{group}/error", f"{stream}-driver"


def attempts_from_graph(graph: Mapping[str, Any],
                        job_setups: JobSetups | None = None) -> list[_Attempt]:
    """Every job and crawler node of a GetWorkflowRun graph with its latest run (triggers are
    left out: they are the wiring, not the work)."""
    job_setups = job_setups or {}
    found = []
    for node in graph.get("Nodes", []):
        if node.get("Type") == "JOB":
            run = _latest((node.get("JobDetails") or {}).get("JobRuns") or [])
            if run is None:
                found.append(_Attempt(JOB, node["Name"], PENDING))
                continue
            raw = run.get("JobRunState", "")
            log_group, log_stream = job_logs(run, job_setups.get(node["Name"], JobSetup()))
            found.append(_Attempt(
                JOB, node["Name"], _NODE_STATES.get(raw, RUNNING), run_id=run.get("Id"),
                started=run.get("StartedOn"), ended=run.get("CompletedOn"),
                error=run.get("ErrorMessage"), raw_state=raw,
                log_group=log_group, log_stream=log_stream,
            ))  # fmt: skip
        elif node.get("Type") == "CRAWLER":
            crawl = _latest((node.get("CrawlerDetails") or {}).get("Crawls") or [])
            if crawl is None:
                found.append(_Attempt(CRAWLER, node["Name"], PENDING))
                continue
            raw = crawl.get("State", "")
            found.append(_Attempt(
                CRAWLER, node["Name"], _NODE_STATES.get(raw, RUNNING),
                started=crawl.get("StartedOn"), ended=crawl.get("CompletedOn"),
                error=crawl.get("ErrorMessage"), raw_state=raw,
                log_group=crawl.get("LogGroup"), log_stream=crawl.get("LogStream"),
            ))  # fmt: skip
    return found


def _apply(record: NodeRun, attempt: _Attempt) -> str | None:
    """Copy what Glue said into the record; the event kind if the node changed state."""
    before = record.state
    record.state, record.run_id = attempt.state, attempt.run_id or record.run_id
    record.started_at, record.ended_at = _iso(attempt.started), _iso(attempt.ended)
    record.duration_seconds = (round((attempt.ended - attempt.started).total_seconds(), 3)
                               if attempt.started and attempt.ended else None)  # fmt: skip
    record.log_group, record.log_stream = attempt.log_group, attempt.log_stream
    # a retry's attempt replaces the failed one's error, or clears it
    record.error = (NodeError(attempt.raw_state, attempt.error or "Glue gave no error message")
                    if attempt.state == FAILED else None)  # fmt: skip
    if record.state == before:
        return None
    if record.state == RUNNING:
        return NODE_STARTED
    return {SUCCEEDED: NODE_SUCCEEDED, FAILED: NODE_FAILED}.get(record.state)


# Failed answers to a poll that the next poll may not repeat, and how many in a row are let
# pass ("connection": botocore's own errors, a network that dropped past its retries).
_ASK_AGAIN = frozenset({"OperationTimeoutException", "InternalServiceException",
                        "ThrottlingException", "connection"})
FAILED_POLLS_TOLERATED = 3


class _Follower:
    """One workflow run being followed: the record, the events, the clients."""

    def __init__(self, env: Environment, glue: Any, run: PipelineRun,
                 on_event: EventHandler | None, job_setups: JobSetups) -> None:
        self.env, self.glue, self.run, self.on_event = env, glue, run, on_event
        self.job_setups = job_setups
        self.failed_polls = 0  # in a row

    def emit(self, kind: str, node: NodeRun | None = None) -> None:
        history.record_event(self.env, self.run, self.on_event, kind, node)

    def poll(self) -> dict[str, Any] | None:
        """The run as Glue reports it now, or None for a failed answer worth asking again at
        the next poll: an hour's wait should not end on one of Glue's time-outs (HTTP 400,
        which botocore does not retry) or on throttling that outlasted botocore's retries."""
        try:
            answer = self.glue.get_workflow_run(
                Name=self.run.workflow, RunId=self.run.run_id, IncludeGraph=True)
        except (ClientError, BotoCoreError) as error:
            code = error_code(error) if isinstance(error, ClientError) else "connection"
            if code in _ASK_AGAIN and self.failed_polls < FAILED_POLLS_TOLERATED:
                self.failed_polls += 1
                return None
            raise AwsError(f"reading workflow run {self.run.run_id}: "
                           f"{describe_error(error)}") from None
        self.failed_polls = 0
        workflow_run = answer["Run"]
        for attempt in attempts_from_graph(workflow_run.get("Graph") or {}, self.job_setups):
            if attempt.state == PENDING:
                continue
            record = self.run.node_or_added(attempt.kind, attempt.name)
            changed = _apply(record, attempt)
            if changed:
                self.emit(changed, record)
        return workflow_run

    def finish(self, workflow_run: Mapping[str, Any]) -> None:
        """The run has ended: what never ran was skipped, and what Glue last saw running was
        stopped with it (a stopped workflow run ends with its jobs STOPPING)."""
        status = workflow_run.get("Status", "")
        for record in self.run.nodes:
            if record.state == PENDING:
                record.state = SKIPPED
                self.emit(NODE_SKIPPED, record)
            elif record.state == RUNNING:
                record.state = FAILED
                record.error = NodeError(status, f"still running when the workflow run ended "
                                                 f"{status}")  # fmt: skip
                self.emit(NODE_FAILED, record)
        all_ok = all(n.state == SUCCEEDED for n in self.run.nodes)
        completed = status == "COMPLETED"
        self.run.state = SUCCEEDED if completed and all_ok else FAILED
        if not completed:  # ERROR: Glue's reason, such as "Concurrent runs exceeded"
            reason = workflow_run.get("ErrorMessage")
            self.run.error = f"workflow run {status}" + (f": {reason}" if reason else "")
        self.run.ended_at = _iso(workflow_run.get("CompletedOn")) or history.now_iso()


def read_job_setups(glue: Any, jobs: list[str]) -> dict[str, JobSetup]:
    """Each job's setup (GetJob, and GetSecurityConfiguration once per configuration)."""
    encrypts_logs: dict[str, bool] = {}
    setups = {}
    for name in jobs:
        job = glue.get_job(JobName=name)["Job"]
        config = job.get("SecurityConfiguration")
        if config and config not in encrypts_logs:
            encrypts_logs[config] = _encrypts_logs(glue, config)
        role = job.get("Role", "").rsplit("/", 1)[-1]  # a name, or an ARN ending in one
        folder = f"/{config}-role/{role}" if config and encrypts_logs[config] else ""
        setups[name] = JobSetup(job.get("DefaultArguments") or {}, folder)
    return setups


def _encrypts_logs(glue: Any, configuration: str) -> bool:
    found = glue.get_security_configuration(Name=configuration)["SecurityConfiguration"]
    cloudwatch = found.get("EncryptionConfiguration", {}).get("CloudWatchEncryption", {})
    return cloudwatch.get("CloudWatchEncryptionMode", "DISABLED") != "DISABLED"


def read_job_metrics(cloudwatch: Any, run: PipelineRun, job_setups: JobSetups) -> None:
    """Rows in / out / rejected per job run, from the metrics each job published."""
    for record in run.nodes:
        if record.kind != JOB or not (record.run_id and record.started_at):
            continue
        started = dt.datetime.fromisoformat(record.started_at)
        ended = dt.datetime.fromisoformat(record.ended_at) if record.ended_at else started
        arguments = job_setups.get(record.name, JobSetup()).arguments
        metrics.read_rows(cloudwatch, record, arguments, record.run_id, started, ended)


def run_workflow_in_aws(
    env: Environment,
    outputs: Outputs,
    on_event: EventHandler | None = None,
    *,
    full_refresh: bool = False,
    polling: Polling | None = None,
) -> PipelineRun:
    """Start one run of the deployment's workflow in Glue and follow it until it ends or the
    timeout passes (then the returned record is still RUNNING; the run goes on in Glue)."""
    polling = polling or Polling()
    workflow = outputs["glue_workflow"]
    if not workflow:
        raise ConfigError("no Glue workflow named: deploy first (`retailake deploy`)")
    glue = client(env, "glue")
    try:
        plan = build_plan(workflow, read_triggers(glue, workflow))
        job_setups = read_job_setups(glue, [n.name for n in plan.nodes if n.kind == JOB])
        if under_way := _runs_under_way(glue, workflow):
            raise _already_running(workflow, f" (run {under_way[0]['WorkflowRunId']})")
        try:
            run_id = glue.start_workflow_run(Name=workflow,
                                             RunProperties=run_properties(full_refresh))["RunId"]
        except ClientError as error:
            if error_code(error) != "ConcurrentRunsExceededException":
                raise
            run_id = _own_run_or_refuse(glue, workflow, full_refresh)
    except (ClientError, BotoCoreError) as error:
        raise AwsError(f"starting workflow '{workflow}': {describe_error(error)}") from None
    run = PipelineRun(
        run_id=run_id, workflow=workflow, full_refresh=full_refresh,
        nodes=[NodeRun(n.kind, n.name, stage=plan.stage_of(n)) for n in plan.nodes],
    )
    follower = _Follower(env, glue, run, on_event, job_setups)
    follower.emit(RUN_STARTED)
    try:
        ended = _follow(follower, polling)
    except (AwsError, KeyboardInterrupt) as stopped:  # the run is Glue's: it does not stop
        why = "interrupted" if isinstance(stopped, KeyboardInterrupt) else str(stopped)
        raise AwsError(f"stopped following the run ({why}); {goes_on(run)}") from None
    if ended:  # (a Ctrl-C from here on stops no run: it has ended)
        read_job_metrics(client(env, "cloudwatch"), run, job_setups)
    follower.emit(RUN_FINISHED)
    return run


def recent_runs(glue: Any, workflow: str) -> list[dict[str, Any]]:
    """The workflow's latest runs (GetWorkflowRuns' first page, graphs left out)."""
    answer = glue.get_workflow_runs(Name=workflow, IncludeGraph=False, MaxResults=25)
    return answer.get("Runs", [])  # absent, not empty, before the first run (min length 1)


def _runs_under_way(glue: Any, workflow: str) -> list[dict[str, Any]]:
    """The workflow's runs under way. Asked before starting one: Glue may answer a start
    beyond its one run at a time with a new run that ends in ERROR, which would be followed
    as a failure and would hide the run that goes on."""
    return [r for r in recent_runs(glue, workflow) if r.get("Status") in ("RUNNING", "STOPPING")]


def _own_run_or_refuse(glue: Any, workflow: str, full_refresh: bool) -> str:
    """The run Glue counted against its one at a time when it refused this start. None was
    under way a moment before, so one now began since: this command's own when it has this
    start's properties (the SDK retries a start whose answer was lost, and Glue refuses the
    retry), followed then; anyone else's otherwise, named in the refusal."""
    under_way = _runs_under_way(glue, workflow)
    wanted = run_properties(full_refresh).items()
    for found in under_way:
        if wanted <= (found.get("WorkflowRunProperties") or {}).items():
            return str(found["WorkflowRunId"])
    raise _already_running(workflow, f" (run {under_way[0]['WorkflowRunId']})" if under_way else "")


def _already_running(workflow: str, which: str = "") -> AwsError:
    return AwsError(f"workflow '{workflow}' is already running{which}, and it allows one run "
                    "at a time: follow that run with `retailake status`, or run this again "
                    "when it ends")  # fmt: skip


def _follow(follower: _Follower, polling: Polling) -> bool:
    """Poll until the run ends (True) or the timeout passes (False)."""
    deadline = polling.clock() + polling.timeout_seconds
    while True:
        workflow_run = follower.poll()
        if workflow_run is not None and workflow_run.get("Status") in WORKFLOW_ENDED:
            follower.finish(workflow_run)
            return True
        if polling.clock() >= deadline:
            return False
        polling.sleep(min(polling.interval_seconds, max(0.0, deadline - polling.clock())))


def goes_on(run: PipelineRun) -> str:
    """What a user can do about a run this command no longer follows."""
    return (f"workflow run {run.run_id} goes on in Glue. Follow it with `retailake status`; "
            f"stop it with `aws glue stop-workflow-run --name {run.workflow} "
            f"--run-id {run.run_id}`.")
