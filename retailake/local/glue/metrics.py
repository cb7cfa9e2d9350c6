"""A job run's row counts, read back from the CloudWatch metrics the job itself published.

Jobs put `RowsRead`, `RowsWritten`, `RowsRejected`, `DuplicatesDropped` and `DurationSeconds`
in the lake's namespace with exactly the dimensions JobName and JobRunId. AWS matches the
dimension set exactly (moto matches a subset), so a job must not add other dimensions."""

from __future__ import annotations

import datetime as dt
from typing import Any

DEFAULT_NAMESPACE = "Retailake"
METRICS = {
    "RowsRead": "rows_read",
    "RowsWritten": "rows_written",
    "RowsRejected": "rows_rejected",
    "DuplicatesDropped": "duplicates_dropped",
    "DurationSeconds": "duration_seconds",
}
_MARGIN = dt.timedelta(minutes=5)


def job_metrics(cloudwatch: Any, namespace: str, job_name: str, run_id: str,
                started: dt.datetime, ended: dt.datetime) -> dict[str, float]:
    """Metric key (rows_read, ...) -> its sum over the run; metrics never published are absent.
    CloudWatch answers in floats; a whole number is given back as an int (a row count)."""
    dimensions = [{"Name": "JobName", "Value": job_name}, {"Name": "JobRunId", "Value": run_id}]
    found: dict[str, float] = {}
    for metric, key in METRICS.items():
        answer = cloudwatch.get_metric_statistics(
            Namespace=namespace, MetricName=metric, Dimensions=dimensions,
            StartTime=started - _MARGIN, EndTime=ended + _MARGIN, Period=60,
            Statistics=["Sum"],
        )
        points = answer.get("Datapoints", [])
        if points:
            total = float(sum(p["Sum"] for p in points))
            found[key] = int(total) if total.is_integer() else total
    return found
