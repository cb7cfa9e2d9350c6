"""What a job reports (CloudWatch datums, its log line), its arguments and its PII key, with
no network."""

from __future__ import annotations

import json

import pytest
from retailake_etl import metrics
from retailake_etl.arguments import optional_argument
from retailake_etl.jobs import fetch_hmac_key, settings_from_args
from retailake_etl.metrics import RunCounts, metric_data


def test_each_metric_per_job_and_per_run():
    counts = RunCounts(rows_read=10, rows_written=7, rows_rejected=2, duplicates_dropped=1,
                       duration_seconds=3.5)  # fmt: skip
    data = metric_data(counts, "rl-transform-sales", "jr_1")
    job = [{"Name": "JobName", "Value": "rl-transform-sales"}]
    run = [*job, {"Name": "JobRunId", "Value": "jr_1"}]
    assert data == [
        {"MetricName": name, "Dimensions": dims, "Value": value, "Unit": unit}
        for name, value, unit in (
            ("RowsRead", 10.0, "Count"), ("RowsWritten", 7.0, "Count"),
            ("RowsRejected", 2.0, "Count"), ("DuplicatesDropped", 1.0, "Count"),
            ("DurationSeconds", 3.5, "Seconds"),
        )
        for dims in (job, run)
    ]  # fmt: skip
    assert len(metric_data(counts, "j", None)) == 5


def test_a_run_whose_metrics_cloudwatch_refuses_still_logs_its_counts(monkeypatch, capsys):
    def refuse(*_args: object) -> None:
        raise RuntimeError("AccessDenied: cloudwatch:PutMetricData")

    monkeypatch.setattr(metrics, "publish", refuse)
    counts = RunCounts(rows_read=5, rows_written=4, rows_rejected=1)
    with pytest.raises(RuntimeError, match="PutMetricData"):
        metrics.report(counts, {"JOB_NAME": "rl-transform-sales", "metrics_namespace": "N"},
                       ["x.py", "--JOB_RUN_ID", "jr_1"])  # fmt: skip
    logged = json.loads(capsys.readouterr().out)
    assert logged["job"] == "rl-transform-sales"
    assert (logged["rows_read"], logged["rows_written"], logged["rows_rejected"]) == (5, 4, 1)


def test_job_arguments():
    args = {"source": "sales", "raw_bucket": "r", "staged_bucket": "s", "staged_database": "d"}
    assert settings_from_args(args, ["x.py", "--full_refresh", "true"]).full_refresh
    assert not settings_from_args(args, ["x.py", "--full_refresh=false"]).full_refresh
    settings = settings_from_args(args, ["x.py"])
    assert (settings.raw_root, settings.staged_root, settings.full_refresh) == (
        "s3://r",
        "s3://s",
        False,
    )
    assert settings.catalog.database == "d"  # the staged tables' catalog database
    assert optional_argument(["--JOB_RUN_ID", "jr_9"], "JOB_RUN_ID") == "jr_9"
    assert optional_argument(["--JOB_RUN_ID"], "JOB_RUN_ID") is None


@pytest.mark.parametrize(("secret", "key"), [
    ({"SecretString": "k3y-text"}, b"k3y-text"),
    ({"SecretBinary": b"\x00\xffraw"}, b"\x00\xffraw"),
])
def test_the_hmac_key_is_the_secret_as_stored(monkeypatch, secret, key):
    asked: list[str] = []

    class Secrets:
        def get_secret_value(self, SecretId: str) -> dict:
            asked.append(SecretId)
            return {"ARN": SecretId, **secret}

    monkeypatch.setattr("boto3.client", lambda service: {"secretsmanager": Secrets()}[service])
    assert fetch_hmac_key("arn:aws:secretsmanager:us-east-1:1:secret:pii") == key
    assert asked == ["arn:aws:secretsmanager:us-east-1:1:secret:pii"]
