"""A job run's row counts, read back from the CloudWatch metrics the job itself published.

Jobs put `RowsRead`, `RowsWritten`, `RowsRejected`, `DuplicatesDropped` and `DurationSeconds`
in the lake's namespace with exactly the dimensions JobName and JobRunId. AWS matches the
dimension set exactly (moto matches a subset), so a job must not add other dimensions."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from retailake_etl.metrics import METRICS as PUBLISHED

from retailake.aws.clients import describe_error
from retailake.local.glue.history import SUCCEEDED, NodeRun

DEFAULT_NAMESPACE = "Retailake"
METRICS = {name: field for name, (field, _unit) in PUBLISHED.items()}  # name -> run record key
_MARGIN = dt.timedelta(minutes=5)
# CloudWatch keeps data older than 15 days only at 5-minute, and past 63 days hourly, periods:
# a finer one answers no data points at all.
_PERIOD_UNITS = ((dt.timedelta(days=15), 60), (dt.timedelta(days=63), 300))


def namespace(arguments: Mapping[str, str]) -> str:
    """Where a job publishes its counts: its `--metrics_namespace` argument, else the default."""
    return arguments.get("--metrics_namespace", DEFAULT_NAMESPACE)


def query_period(start: dt.datetime, end: dt.datetime, now: dt.datetime) -> int:
    """One period over the whole window, in the unit data that old is kept at: a run of weeks
    ago still has its counts, and a day-long run does not ask for more than 1,440 points."""
    age = now - start
    unit = next((seconds for limit, seconds in _PERIOD_UNITS if age < limit), 3600)
    return max(1, math.ceil((end - start).total_seconds() / unit)) * unit


def read_rows(cloudwatch: Any, record: NodeRun, arguments: Mapping[str, str], run_id: str,
              started: dt.datetime, ended: dt.datetime) -> None:
    """A job run's record gets its row counts from the metrics it published, or a warning
    saying why they could not be read (the run's own state stands either way)."""
    try:
        record.rows = job_metrics(cloudwatch, namespace(arguments), record.name, run_id,
                                  started, ended)
    except (ClientError, BotoCoreError) as error:
        record.warnings.append(f"metrics not read: {describe_error(error)}")
        return
    if not record.rows and record.state == SUCCEEDED:  # CloudWatch may take minutes to show
        record.warnings.append(f"no row counts for run {run_id} in CloudWatch yet: "
                               "`retailake status` reads them again")  # fmt: skip


def job_metrics(cloudwatch: Any, namespace: str, job_name: str, run_id: str,
                started: dt.datetime, ended: dt.datetime) -> dict[str, float]:
    """Metric key (rows_read, ...) -> its sum over the run; metrics never published are absent.
    CloudWatch answers in floats; a whole number is given back as an int (a row count)."""
    dimensions = [{"Name": "JobName", "Value": job_name}, {"Name": "JobRunId", "Value": run_id}]
    start, end = started - _MARGIN, ended + _MARGIN
    period = query_period(start, end, dt.datetime.now(dt.UTC))
    found: dict[str, float] = {}
    for metric, key in METRICS.items():
        answer = cloudwatch.get_metric_statistics(
            Namespace=namespace, MetricName=metric, Dimensions=dimensions,
            StartTime=start, EndTime=end, Period=period, Statistics=["Sum"],
        )
        points = answer.get("Datapoints", [])
        if points:
            total = float(sum(p["Sum"] for p in points))
            found[key] = int(total) if total.is_integer() else total
    return found
