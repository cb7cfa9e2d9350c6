"""Pipeline: the workflow's last run and each job's last run with its row counts.

Runs come from Glue in AWS (GetWorkflowRuns, GetJobRuns) and, on the twin, from the
runner's run records (moto keeps every workflow run RUNNING and runs no job). Row counts come
from the same place either way: the CloudWatch metrics each job published for its run."""

from __future__ import annotations

import datetime as dt
from typing import Any

from retailake.aws.workflow_run import recent_runs
from retailake.local.glue.metrics import job_metrics, namespace
from retailake.parallel import parallel_map
from retailake.status.context import Context, iso, parse_time
from retailake.status.model import PipelineStatus, RunStatus


def _seconds(started: str | None, ended: str | None) -> float | None:
    if not started or not ended:
        return None
    return round((parse_time(ended) - parse_time(started)).total_seconds(), 3)


def workflow_state(run: dict[str, Any]) -> str:
    """Glue calls a workflow run COMPLETED even when actions in it failed: say FAILED then."""
    status = run.get("Status", "UNKNOWN")
    statistics = run.get("Statistics", {})
    broken = sum(statistics.get(k, 0) for k in ("FailedActions", "TimeoutActions",
                                                   "ErroredActions"))
    if status == "COMPLETED":
        return "FAILED" if broken else "SUCCEEDED"
    return status


_LONG_AGO = dt.datetime.min.replace(tzinfo=dt.UTC)


def aws_workflow_run(glue: Any, workflow: str) -> RunStatus | None:
    """The workflow's latest run, passing over runs that ended in ERROR: Glue's ERROR is a
    start it refused ("Concurrent runs exceeded", its only message), which a scheduled start
    during a manual run makes; the run that goes on is the one to show."""
    runs = sorted(recent_runs(glue, workflow), key=lambda run: run.get("StartedOn") or _LONG_AGO,
                  reverse=True)  # fmt: skip
    if not runs:
        return None
    last = next((run for run in runs if run.get("Status") != "ERROR"), runs[0])
    started, ended = iso(last.get("StartedOn")), iso(last.get("CompletedOn"))
    return RunStatus(workflow, workflow_state(last), last.get("WorkflowRunId"), started, ended,
                     _seconds(started, ended), last.get("ErrorMessage"))


def aws_job_run(glue: Any, job: str) -> RunStatus:
    """The job's newest run (GetJobRuns documents newest first). Its duration is wall time,
    as `run-pipeline` shows it: ExecutionTime is the time it was billed for."""
    runs = glue.get_job_runs(JobName=job, MaxResults=1).get("JobRuns", [])
    if not runs:
        return RunStatus(job, None)
    run = runs[0]
    started, ended = iso(run.get("StartedOn")), iso(run.get("CompletedOn"))
    return RunStatus(job, run.get("JobRunState"), run.get("Id"), started, ended,
                     _seconds(started, ended), run.get("ErrorMessage"))


_ABANDONED = ("its process ended mid-run (killed?); `retailake run-pipeline` finishes the work")


def local_runs(env: Any, workflow: str, jobs: list[str]) -> tuple[RunStatus | None,
                                                                     list[RunStatus]]:
    """The last workflow run, and each job's last run (which may be in an earlier workflow
    run, when the last one skipped it), from the twin's run records."""
    from retailake.local.glue.history import (
        FAILED,
        PENDING,
        RUNNING,
        SKIPPED,
        list_runs,
        run_under_way,
    )

    runs = [run for run in list_runs(env) if run.workflow == workflow]
    # A record still RUNNING with no run under way: its process was killed (kill -9).
    abandoned = bool(runs) and runs[-1].state == RUNNING and not run_under_way(env)
    last = None
    if runs:
        newest = runs[-1]
        last = RunStatus(workflow, FAILED if abandoned else newest.state, newest.run_id,
                         newest.started_at, newest.ended_at,
                         _seconds(newest.started_at, newest.ended_at),
                         _ABANDONED if abandoned else newest.error)
    found: dict[str, RunStatus] = {}
    for run in reversed(runs):
        for node in run.nodes:
            if node.kind != "job" or node.name in found or node.state in (PENDING, SKIPPED):
                continue
            stopped = abandoned and run is runs[-1] and node.state == RUNNING
            error = f"{node.error.type}: {node.error.message}" if node.error else None
            found[node.name] = RunStatus(
                node.name, FAILED if stopped else node.state, node.run_id, node.started_at,
                node.ended_at, node.duration_seconds, _ABANDONED if stopped else error)
    return last, [found.get(job, RunStatus(job, None)) for job in jobs]


def _namespace(glue: Any, job: str) -> str:
    return namespace(glue.get_job(JobName=job)["Job"].get("DefaultArguments", {}))


def with_rows(glue: Any, cloudwatch: Any, run: RunStatus) -> RunStatus:
    """The run with the row counts its job published to CloudWatch for that run id."""
    if not run.run_id or not run.started_at:
        return run
    started = parse_time(run.started_at)
    ended = parse_time(run.ended_at) if run.ended_at else dt.datetime.now(dt.UTC)
    rows = job_metrics(cloudwatch, _namespace(glue, run.name), run.name, run.run_id, started,
                       ended)
    for key in ("rows_read", "rows_written", "rows_rejected", "duplicates_dropped"):
        if key in rows:
            setattr(run, key, int(rows[key]))
    return run


def collect_pipeline(context: Context) -> PipelineStatus:
    glue, cloudwatch = context.client("glue"), context.client("cloudwatch")
    workflow = context.outputs["glue_workflow"]
    jobs = sorted(context.outputs["glue_jobs"].values())
    if context.env.is_local:
        last, job_runs = local_runs(context.env, workflow, jobs)
    else:
        last = aws_workflow_run(glue, workflow)
        job_runs = parallel_map(lambda job: aws_job_run(glue, job), jobs)
    job_runs = parallel_map(lambda run: with_rows(glue, cloudwatch, run), job_runs)
    # in the order they last ran (the workflow's order, after a full run); never-run ones last
    job_runs.sort(key=lambda run: (run.started_at is None, run.started_at or "", run.name))
    return PipelineStatus(workflow, last, job_runs)
