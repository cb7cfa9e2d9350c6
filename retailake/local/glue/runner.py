"""Run the deployed Glue workflow on the local twin: the API `retailake run-pipeline` calls.

The plan comes from the triggers Terraform registered (read back from the emulator); each
crawler is emulated against the emulator's S3 and catalog, each job runs its own script in one
warm SparkSession (started lazily, at the first job). Progress goes to `on_event` and to the
run record under `state_dir/pipeline/runs/`, rewritten as every node starts and ends.

In the emulator, the run is opened with StartWorkflowRun (its id is the run's id) and its
outcome written with PutWorkflowRunProperties; moto keeps the run's Status RUNNING regardless,
as StopWorkflowRun changes nothing there."""

from __future__ import annotations

import contextlib
import os
import time
from collections import deque
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from retailake.aws.clients import client, describe_error
from retailake.config import Environment
from retailake.errors import AwsError, ConfigError, EmulatorError, RetailakeError
from retailake.local import emulator, file_lock
from retailake.local.glue import history, metrics, roles
from retailake.local.glue.crawler import run_crawler
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
from retailake.local.glue.jobs import new_run_id, run_job
from retailake.local.glue.spark import SparkRuntime
from retailake.local.glue.workflow import (
    CRAWLER,
    Action,
    TriggerEngine,
    WorkflowPlan,
    build_plan,
    read_triggers,
    run_properties,
)
from retailake.outputs import Outputs


def load_plan(env: Environment, workflow: str) -> WorkflowPlan:
    """The workflow's stages as its registered triggers define them (AWS or the emulator)."""
    try:
        glue = client(env, "glue")
        glue.get_workflow(Name=workflow)
        triggers = read_triggers(glue, workflow)
    except (ClientError, BotoCoreError) as error:
        raise AwsError(f"reading workflow '{workflow}': {describe_error(error)}") from None
    return build_plan(workflow, triggers)


class _Run:
    """State of one pipeline run while it executes: clients, record, events."""

    def __init__(self, env: Environment, plan: WorkflowPlan, run: PipelineRun,
                 runtime: SparkRuntime, on_event: EventHandler | None) -> None:
        self.env, self.plan, self.run, self.runtime = env, plan, run, runtime
        self.on_event = on_event
        self.glue, self.sts = client(env, "glue"), client(env, "sts")
        self.cloudwatch = client(env, "cloudwatch")

    def emit(self, kind: str, node: NodeRun | None = None) -> None:
        history.record_event(self.env, self.run, self.on_event, kind, node)

    def execute(self, action: Action) -> str:
        record = self.run.node_or_added(action.node.kind, action.node.name)
        record.state, record.started_at = RUNNING, history.now_iso()
        record.error, record.rows, record.warnings = None, {}, []
        if action.node.kind == CRAWLER:
            work = partial(self._crawl, record)
        else:
            run_id = record.run_id = new_run_id()
            log_file = history.logs_dir(self.env, self.run.run_id) / f"{record.name}.log"
            record.log_file = str(log_file)
            work = partial(self._job, record, action, run_id, log_file)
        began = time.monotonic()
        self.emit(NODE_STARTED, record)
        try:
            work()
        except KeyboardInterrupt:  # in a crawler, or in Spark's start: before Spark watches
            self.runtime.interrupted = True
        except Exception as error:  # the node fails, with its reason; the run goes on to its end
            record.state, record.error = FAILED, NodeError(type(error).__name__,
                                                           self._reason(error, action))
        record.ended_at = history.now_iso()
        record.duration_seconds = round(time.monotonic() - began, 3)
        if self.runtime.interrupted:
            record.state = FAILED
            record.error = NodeError("KeyboardInterrupt", "interrupted by the user")
        if action.node.kind == CRAWLER:
            self._save_crawl_state(record)
        self.run.spark_startup_seconds = self.runtime.startup_seconds
        if self.runtime.interrupted:  # Ctrl-C inside a node: stop here, as outside one
            self.emit(NODE_FAILED, record)
            raise KeyboardInterrupt
        self.emit(NODE_SUCCEEDED if record.state == SUCCEEDED else NODE_FAILED, record)
        return record.state

    def _reason(self, error: Exception, action: Action) -> str:
        if isinstance(error, ClientError | BotoCoreError):
            return describe_error(error)
        if isinstance(error, RetailakeError) or action.node.kind == CRAWLER:
            return str(error)
        # outside the job's script (which run_job reports): Spark's start, say, whose log
        # holds the JVM's own words
        return f"{error} (Spark's log: {self.runtime.log_file})"

    def _crawl(self, record: NodeRun) -> None:
        result = run_crawler(self.glue, self._s3_as, record.name)
        record.tables_created = result.tables_created
        record.tables_updated = result.tables_updated
        record.partitions_added = result.partitions_added
        record.warnings = result.warnings
        record.state = SUCCEEDED

    def _s3_as(self, role: str) -> Any:
        """S3 as a crawler's role: a session of it, as Glue's crawler uses."""
        session = roles.assume(self.sts, role, roles.CRAWLER_SESSION)
        return session.client("s3", self.runtime.endpoint_url, self.runtime.region)

    def _save_crawl_state(self, record: NodeRun) -> None:
        history.save_crawl_state(self.env, record.name, {
            "crawler": record.name, "state": record.state, "pipeline_run_id": self.run.run_id,
            "started_at": record.started_at, "ended_at": record.ended_at,
            "tables_created": record.tables_created, "tables_updated": record.tables_updated,
            "partitions_added": record.partitions_added, "warnings": record.warnings,
            "error": record.error.message if record.error else None,
        })

    def _job(self, record: NodeRun, action: Action, run_id: str, log_file: Path) -> None:
        # as Glue does: the job finds `full_refresh` in the workflow run's properties
        overrides = {
            "--WORKFLOW_NAME": self.plan.workflow,
            "--WORKFLOW_RUN_ID": self.run.run_id,
            **dict(action.arguments),
        }
        result = run_job(self.glue, self.sts, self.runtime, record.name,
                         run_id=run_id, overrides=overrides, log_file=log_file)
        record.state, record.error = result.state, result.error
        metrics.read_rows(self.cloudwatch, record, result.arguments, run_id, result.started,
                          result.ended)


def _open_emulator_run(glue: Any, workflow: str, full_refresh: bool) -> str:
    """The emulator's workflow run: its id and properties are what the jobs read back."""
    try:
        answer = glue.start_workflow_run(Name=workflow,
                                         RunProperties=run_properties(full_refresh))
    except (ClientError, BotoCoreError) as error:
        raise AwsError(f"starting workflow '{workflow}': {describe_error(error)}") from None
    return answer["RunId"]


def _close_emulator_run(glue: Any, run: PipelineRun) -> None:
    properties = {"retailake_state": run.state, "retailake_ended_at": run.ended_at or ""}
    # the local record is the source of truth; the emulator's copy is a courtesy
    with contextlib.suppress(ClientError, BotoCoreError):
        glue.put_workflow_run_properties(Name=run.workflow, RunId=run.run_id,
                                         RunProperties=properties)


@contextlib.contextmanager
def one_run_at_a_time(env: Environment) -> Iterator[None]:
    """Hold the twin's run lock: as Glue refuses a second concurrent run of the workflow
    (max_concurrent_runs = 1), two local runs would rewrite the same partitions and ledgers.
    The lock is the OS's, so it dies with its process (a killed run leaves nothing to clear)."""
    path = history.run_lock(env)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+") as handle:
        # `status` may be holding it for an instant (history.run_under_way): tried for a moment
        if not file_lock.acquire(handle, within=history.PROBE_SECONDS * 2):
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise RetailakeError(f"a pipeline run is already under way on this twin ({holder}): "
                                 "wait for it to end, or stop it") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        try:
            yield
        finally:
            handle.truncate(0)
            file_lock.release(handle)


def run_workflow(
    env: Environment,
    outputs: Outputs | None,
    on_event: EventHandler | None = None,
    *,
    full_refresh: bool = False,
    workflow: str | None = None,
    runtime: SparkRuntime | None = None,
) -> PipelineRun:
    """Run the workflow once on the local twin and return its record (also saved on disk).

    `workflow` defaults to the deployment's; pass `runtime` to reuse a warm Spark across runs
    (it is then left running), otherwise Spark starts at the first job and stops at the end."""
    if not env.is_local:
        raise ConfigError("the local Glue runner serves --env local only; on AWS the workflow "
                          "runs in Glue itself")
    workflow = workflow or (outputs["glue_workflow"] if outputs else None)
    if not workflow:
        raise ConfigError("no Glue workflow named: deploy first (`retailake deploy`)")
    with one_run_at_a_time(env):
        return _run_workflow(env, workflow, on_event, full_refresh, runtime)


def _run_workflow(env: Environment, workflow: str, on_event: EventHandler | None,
                  full_refresh: bool, runtime: SparkRuntime | None) -> PipelineRun:
    plan = load_plan(env, workflow)
    glue = client(env, "glue")
    run = PipelineRun(
        run_id=_open_emulator_run(glue, workflow, full_refresh), workflow=workflow,
        full_refresh=full_refresh,
        nodes=[NodeRun(n.kind, n.name, stage=plan.stage_of(n)) for n in plan.nodes],
    )
    own_runtime = runtime is None
    if runtime is None:
        log = history.logs_dir(env, run.run_id) / "spark.log"
        runtime = SparkRuntime(env.endpoint_url or "", env.region, log,
                               keys=emulator.twin_keys(env), cache_dir=env.home / "cache" / "spark")
    run.spark_log = str(runtime.log_file)
    state = _Run(env, plan, run, runtime, on_event)
    state.emit(RUN_STARTED)
    try:
        _drive(state, plan)
    except BaseException:
        run.state = FAILED
        raise
    finally:
        for record in run.nodes:
            if record.state in (PENDING, RUNNING):
                record.state = SKIPPED if record.state == PENDING else FAILED
                if record.state == SKIPPED:
                    state.emit(NODE_SKIPPED, record)
        if run.state == RUNNING:
            all_ok = all(n.state == SUCCEEDED for n in run.nodes)
            run.state = SUCCEEDED if all_ok else FAILED
        run.ended_at = history.now_iso()
        try:
            if own_runtime:
                runtime.stop()
        finally:  # the record is finished whatever the clean-up meets
            _close_emulator_run(glue, run)
            try:
                emulator.flush(env)
            except EmulatorError as error:  # what the run wrote may not survive the emulator
                run.state, run.error = FAILED, str(error)
            state.emit(RUN_FINISHED)
    return run


def _drive(state: _Run, plan: WorkflowPlan) -> None:
    """Fire the start trigger, then run nodes one at a time in firing order (stage order).

    A node that failed because the emulator went away ends the drive: every later node would
    only fail on it too, each after S3A's retries. They are skipped, and the run's record
    says the emulator stopped (see `emulator.flush`)."""
    engine = TriggerEngine(plan)
    queue = deque(engine.start())
    while queue:
        action = queue.popleft()
        if action.node in engine.states:
            continue
        final = state.execute(action)
        if final != SUCCEEDED and emulator.gone(state.env):
            return
        queue.extend(engine.finished(action.node, final))

