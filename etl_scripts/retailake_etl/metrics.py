"""Run counts and their CloudWatch metrics. The client is created plainly: region and
endpoint come from the environment (Glue's role in AWS, the runner's variables locally)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

import boto3

from retailake_etl.arguments import optional_argument

METRICS = {
    "RowsRead": ("rows_read", "Count"),
    "RowsWritten": ("rows_written", "Count"),
    "RowsRejected": ("rows_rejected", "Count"),
    "DuplicatesDropped": ("duplicates_dropped", "Count"),
    "DurationSeconds": ("duration_seconds", "Seconds"),
}


@dataclass(frozen=True)
class RunCounts:
    """What one run did. For a transform job rows_read = rows_written + rows_rejected +
    duplicates_dropped, where rows_read counts every row of the raw objects read this run (new
    ones and the ones re-read to recompute the partitions they share); the aggregation job
    counts the staged rows it read and the analytics rows it wrote."""

    rows_read: int = 0
    rows_written: int = 0
    rows_rejected: int = 0
    duplicates_dropped: int = 0
    duration_seconds: float = 0.0
    files_read: int = 0
    new_files: int = 0
    partitions_rewritten: int = 0

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def metric_data(counts: RunCounts, job_name: str, run_id: str | None) -> list[dict]:
    """Each metric twice: per job (for alarms and trends) and per job run (for one run's report)."""
    dimension_sets = [[{"Name": "JobName", "Value": job_name}]]
    if run_id:
        dimension_sets.append([*dimension_sets[0], {"Name": "JobRunId", "Value": run_id}])
    return [
        {
            "MetricName": name,
            "Dimensions": dimensions,
            "Value": float(getattr(counts, field)),
            "Unit": unit,
        }
        for name, (field, unit) in METRICS.items()
        for dimensions in dimension_sets
    ]


def report(counts: RunCounts, args: Mapping[str, str], argv: Sequence[str]) -> None:
    """The end of a Glue job: its counts as one JSON line in its log, then as CloudWatch
    metrics (dimensions [JobName] and [JobName, JobRunId]). The line comes first: the job's
    writes are committed by now, and if CloudWatch refuses the metrics (the job then fails)
    its log still says what the run did."""
    summary = {"job": args["JOB_NAME"], "at": dt.datetime.now(dt.UTC).isoformat()}
    print(json.dumps({**summary, **counts.as_dict()}), flush=True)
    run_id = args.get("JOB_RUN_ID") or optional_argument(argv, "JOB_RUN_ID")
    publish(counts, args["metrics_namespace"], args["JOB_NAME"], run_id)


def publish(counts: RunCounts, namespace: str, job_name: str, run_id: str | None) -> None:
    boto3.client("cloudwatch").put_metric_data(
        Namespace=namespace, MetricData=metric_data(counts, job_name, run_id)
    )
