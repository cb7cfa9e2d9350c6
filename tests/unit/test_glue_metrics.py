"""Reading a job run's row counts back from CloudWatch: the query CloudWatch accepts for runs
of any age and length, checked against the API model by botocore's Stubber."""

from __future__ import annotations

import datetime as dt

import boto3
import pytest
from botocore.stub import ANY, Stubber

from retailake.local.glue.metrics import METRICS, job_metrics, query_period

NOW = dt.datetime(2026, 12, 5, tzinfo=dt.UTC)
MINUTE, DAY = dt.timedelta(minutes=1), dt.timedelta(days=1)


@pytest.mark.parametrize(("age", "length", "period"), [
    (DAY, 3 * MINUTE, 180),  # recent: minutes
    (DAY, 90 * MINUTE + dt.timedelta(seconds=1), 91 * 60),  # rounded up, never short
    (DAY, 30 * 60 * MINUTE, 30 * 3600),  # a 30-hour run: one point, not 1,800
    (20 * DAY, 7 * MINUTE, 600),  # 15 to 63 days old: multiples of 5 minutes
    (100 * DAY, 7 * MINUTE, 3600),  # older: hours
])
def test_one_period_covers_the_window_in_the_unit_its_age_allows(age, length, period):
    start = NOW - age
    assert query_period(start, start + length, NOW) == period


def test_a_weeks_old_run_is_asked_in_five_minute_periods_and_its_points_summed():
    """13 minutes with the margins, 20 days ago: one period of 15 minutes."""
    cloudwatch = boto3.client("cloudwatch", region_name="eu-west-1", aws_access_key_id="k",
                              aws_secret_access_key="s")
    started = dt.datetime.now(dt.UTC) - 20 * DAY
    with Stubber(cloudwatch) as stub:
        for metric in METRICS:
            points = [{"Sum": 40.0}, {"Sum": 2.0}] if metric == "RowsRead" else []
            stub.add_response("get_metric_statistics", {"Datapoints": points}, {
                "Namespace": "Lake", "MetricName": metric, "Dimensions": ANY,
                "StartTime": started - 5 * MINUTE, "EndTime": started + 8 * MINUTE,
                "Period": 900, "Statistics": ["Sum"]})
        rows = job_metrics(cloudwatch, "Lake", "job", "jr_1", started, started + 3 * MINUTE)
    assert rows == {"rows_read": 42}


def test_metrics_that_cannot_be_read_leave_a_warning_not_a_failure():
    from retailake.local.glue.history import NodeRun
    from retailake.local.glue.metrics import read_rows

    cloudwatch = boto3.client("cloudwatch", region_name="us-east-1")
    record = NodeRun("job", "rl-transform-sales", 1, state="SUCCEEDED")
    with Stubber(cloudwatch) as stubber:
        stubber.add_client_error("get_metric_statistics", "AccessDenied", "not allowed")
        read_rows(cloudwatch, record, {}, "jr_1", NOW - MINUTE, NOW)
    assert record.state == "SUCCEEDED" and record.rows == {}
    assert record.warnings == ["metrics not read: GetMetricStatistics failed: AccessDenied: "
                               "not allowed"]
