"""The local Glue runner end to end against the emulator: a workflow registered with boto3
(crawler -> job -> crawler) over a KMS-encrypted bucket, run with one warm SparkSession,
checked in the catalog, in S3, in the run record; then a failing job that stops its
downstream crawler, and a job whose role may not write its output."""

from __future__ import annotations

import io
import itertools
import json
import socket
import textwrap
import zipfile
from collections.abc import Iterator
from pathlib import Path

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from retailake.config import Environment, load_environment
from retailake.errors import EmulatorError
from retailake.local import emulator
from retailake.local.glue import history, runner
from retailake.local.glue.history import PipelineEvent
from retailake.local.glue.runner import run_workflow
from retailake.local.glue.spark import SparkRuntime

pytestmark = pytest.mark.integration

BUCKET = "glue-runner-test"
NAMESPACE = "Retailake"

OK_SCRIPT = textwrap.dedent("""
    import sys

    import boto3
    from awsglue.context import GlueContext
    from awsglue.job import Job
    from awsglue.utils import getResolvedOptions
    from pyspark.context import SparkContext
    from pyspark.sql import functions as F

    from helpers.names import clean_region

    args = getResolvedOptions(
        sys.argv, ["JOB_NAME", "JOB_RUN_ID", "in_path", "out_path", "metrics_namespace"])
    glue_context = GlueContext(SparkContext.getOrCreate())
    spark = glue_context.spark_session
    job = Job(glue_context)
    job.init(args["JOB_NAME"], args)
    raw = spark.read.option("header", "true").csv(args["in_path"])
    read = raw.count()
    good = (raw.where(F.col("amount").rlike("^[0-9]+$"))
               .withColumn("amount", F.col("amount").cast("int"))
               .withColumn("region", F.udf(clean_region)("region")))
    good.write.mode("overwrite").partitionBy("region").parquet(args["out_path"])
    written = spark.read.parquet(args["out_path"]).count()
    dimensions = [{"Name": "JobName", "Value": args["JOB_NAME"]},
                  {"Name": "JobRunId", "Value": args["JOB_RUN_ID"]}]
    boto3.client("cloudwatch").put_metric_data(Namespace=args["metrics_namespace"], MetricData=[
        {"MetricName": name, "Dimensions": dimensions, "Value": value, "Unit": "Count"}
        for name, value in (("RowsRead", read), ("RowsWritten", written),
                            ("RowsRejected", read - written))
    ])
    print("wrote", written, "rows")
    job.commit()
""")

FAILING_SCRIPT = textwrap.dedent("""
    import sys

    from awsglue.utils import getResolvedOptions
    from helpers.names import explode

    def check(args):
        explode(f"boom in {args['JOB_NAME']}")

    check(getResolvedOptions(sys.argv, ["JOB_NAME"]))
""")

RAW_CSV = {
    "raw/orders/day=2025-01-01/a.csv": "order_id,region,amount\n1,north,10\n2,south,20\n",
    "raw/orders/day=2025-01-02/b.csv": "order_id,region,amount\n3,North ,30\n4,south,oops\n",
    "raw/orders/day=2025-01-02/_SUCCESS": "",
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def env(tmp_path_factory) -> Iterator[Environment]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RETAILAKE_HOME", str(tmp_path_factory.mktemp("glue-home")))
        patch.setenv("RETAILAKE_LOCAL_PORT", str(_free_port()))
        environment = load_environment("local")
        emulator.start(environment)
        try:
            yield environment
        finally:
            emulator.stop(environment)


@pytest.fixture(scope="module")
def runtime(env) -> Iterator[SparkRuntime]:
    spark = SparkRuntime(env.endpoint_url, env.region, env.state_dir / "spark-test.log",
                         keys=emulator.twin_keys(env))
    yield spark
    spark.stop()


def _client(env, service: str):
    return boto3.client(service, endpoint_url=env.endpoint_url, region_name=env.region,
                        aws_access_key_id=emulator.twin_keys(env).access_key,
                        aws_secret_access_key=emulator.twin_keys(env).secret_key)


def _helpers_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("helpers/__init__.py", "")
        archive.writestr("helpers/names.py",
                         "def clean_region(value):\n    return value.strip().lower()\n\n\n"
                         "def explode(message):\n    raise ValueError(message)\n")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def lake(env) -> dict[str, str]:
    s3, glue = _client(env, "s3"), _client(env, "glue")
    s3.create_bucket(Bucket=BUCKET)
    # as the lake's buckets: versioned, and SSE-KMS by default, which S3A's requests must cope
    # with over the emulator's HTTP
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    key_arn = _client(env, "kms").create_key()["KeyMetadata"]["Arn"]
    s3.put_bucket_encryption(Bucket=BUCKET, ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms",
                                                "KMSMasterKeyID": key_arn}}]})
    for key, body in RAW_CSV.items():
        s3.put_object(Bucket=BUCKET, Key=key, Body=body.encode())
    s3.put_object(Bucket=BUCKET, Key="scripts/ok.py", Body=OK_SCRIPT.encode())
    s3.put_object(Bucket=BUCKET, Key="scripts/fail.py", Body=FAILING_SCRIPT.encode())
    s3.put_object(Bucket=BUCKET, Key="scripts/helpers.zip", Body=_helpers_zip())
    for code in (0, 2):  # a script may end itself, as Glue scripts do
        s3.put_object(Bucket=BUCKET, Key=f"scripts/exit{code}.py",
                      Body=f"import sys\n\nsys.exit({code})\n".encode())  # fmt: skip
    glue.create_database(DatabaseInput={"Name": "test_raw"})
    glue.create_database(DatabaseInput={"Name": "test_out"})
    uses_key = {"Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                "Resource": key_arn}
    role = _role(env, "glue-job", [uses_key, *JOB_ACCESS])
    crawler_role = _role(env, "glue-crawler", [uses_key, *CRAWLER_ACCESS])
    s3.put_object(Bucket=BUCKET, Key="broken/orders/part-0.parquet", Body=b"not parquet at all")
    for name, database, path in (("raw-orders", "test_raw", "raw/orders/"),
                                 ("out", "test_out", "out/orders/"),
                                 ("never", "test_out", "never/"),
                                 ("broken", "test_raw", "broken/")):
        glue.create_crawler(Name=name, Role=crawler_role, DatabaseName=database, Targets={
            "S3Targets": [{"Path": f"s3://{BUCKET}/{path}", "Exclusions": ["**/_SUCCESS"]}]})
    defaults = {
        "--in_path": f"s3://{BUCKET}/raw/orders/",
        "--out_path": f"s3://{BUCKET}/out/orders/",
        "--metrics_namespace": NAMESPACE,
        "--extra-py-files": f"s3://{BUCKET}/scripts/helpers.zip",
    }
    # the same job as a role that may not write its output folder
    short = _role(env, "glue-job-short", [uses_key, *JOB_ACCESS[:-1]])
    for name, script, job_role in (("ok-job", "ok.py", role), ("fail-job", "fail.py", role),
                                   ("short-job", "ok.py", short), ("exit0-job", "exit0.py", role),
                                   ("exit2-job", "exit2.py", role)):
        glue.create_job(Name=name, Role=job_role, DefaultArguments=defaults, GlueVersion="5.0",
                        Command={"Name": "glueetl",
                                 "ScriptLocation": f"s3://{BUCKET}/scripts/{script}"})
    _workflow(glue, "good", [("crawler", "raw-orders"), ("job", "ok-job"), ("crawler", "out")])
    _workflow(glue, "bad", [("crawler", "raw-orders"), ("job", "fail-job"), ("crawler", "never")])
    _workflow(glue, "unreadable", [("crawler", "broken"), ("job", "ok-job")])
    _workflow(glue, "short", [("job", "short-job")])
    glue.create_workflow(Name="siblings")  # two jobs of one trigger: the second runs after
    glue.create_trigger(Name="siblings-start", WorkflowName="siblings", Type="ON_DEMAND",
                        Actions=[{"JobName": "fail-job"}, {"JobName": "ok-job"}])
    glue.create_workflow(Name="exits")
    glue.create_trigger(Name="exits-start", WorkflowName="exits", Type="ON_DEMAND",
                        Actions=[{"JobName": "exit0-job"}, {"JobName": "exit2-job"}])
    return {"bucket": BUCKET}


# What the jobs and crawlers may do in S3, as IAM statements (with the bucket's key besides):
# the runner runs each as its role, and the emulator holds the role's requests to them.
JOB_ACCESS: list[dict[str, object]] = [
    {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{BUCKET}"},
    {"Effect": "Allow", "Action": "s3:GetObject",
     "Resource": [f"arn:aws:s3:::{BUCKET}/raw/*", f"arn:aws:s3:::{BUCKET}/scripts/*"]},
    {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
     "Resource": f"arn:aws:s3:::{BUCKET}/out*"},
]
CRAWLER_ACCESS: list[dict[str, object]] = [
    {"Effect": "Allow", "Action": ["s3:ListBucket", "s3:GetObject"],
     "Resource": [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"]},
]


def _role(env, name: str, statements: list[dict[str, object]]) -> str:
    iam = _client(env, "iam")
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "glue.amazonaws.com"},
        "Action": "sts:AssumeRole"}]}
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    iam.put_role_policy(RoleName=name, PolicyName="access", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": statements}))
    return arn


def _workflow(glue, name: str, chain: list[tuple[str, str]]) -> None:
    """A linear workflow: an ON_DEMAND start, then one CONDITIONAL trigger per later node."""
    glue.create_workflow(Name=name)

    def action(kind: str, node: str) -> dict[str, str]:
        return {"CrawlerName": node} if kind == "crawler" else {"JobName": node}

    glue.create_trigger(Name=f"{name}-start", WorkflowName=name, Type="ON_DEMAND",
                        Actions=[action(*chain[0])])
    for index, (previous, current) in enumerate(itertools.pairwise(chain)):
        kind, node = previous
        condition = ({"CrawlerName": node, "CrawlState": "SUCCEEDED"} if kind == "crawler"
                     else {"JobName": node, "State": "SUCCEEDED"})
        glue.create_trigger(
            Name=f"{name}-step-{index}", WorkflowName=name, Type="CONDITIONAL",
            StartOnCreation=True, Actions=[action(*current)],
            Predicate={"Logical": "AND",
                       "Conditions": [{"LogicalOperator": "EQUALS", **condition}]})


def test_workflow_crawls_runs_the_job_and_records_metrics(env, runtime, lake):
    events: list[tuple[str, str | None]] = []

    def on_event(event: PipelineEvent) -> None:
        events.append((event.kind, event.node.name if event.node else None))

    run = run_workflow(env, None, on_event, workflow="good", runtime=runtime)

    assert run.state == "SUCCEEDED", run
    assert [(n.kind, n.name, n.stage, n.state) for n in run.nodes] == [
        ("crawler", "raw-orders", 0, "SUCCEEDED"),
        ("job", "ok-job", 1, "SUCCEEDED"),
        ("crawler", "out", 2, "SUCCEEDED"),
    ]
    assert events[0] == ("run_started", None) and events[-1] == ("run_finished", None)
    assert [e for e in events if e[1] == "ok-job"] == [("node_started", "ok-job"),
                                                      ("node_succeeded", "ok-job")]

    glue = _client(env, "glue")
    raw = glue.get_table(DatabaseName="test_raw", Name="orders")["Table"]
    columns = [(c["Name"], c["Type"]) for c in raw["StorageDescriptor"]["Columns"]]
    assert columns == [("order_id", "string"), ("region", "string"), ("amount", "string")]
    assert raw["PartitionKeys"] == [{"Name": "day", "Type": "string"}]
    assert raw["Parameters"]["classification"] == "csv"
    partitions = glue.get_partitions(DatabaseName="test_raw", TableName="orders")["Partitions"]
    assert sorted(p["Values"][0] for p in partitions) == ["2025-01-01", "2025-01-02"]

    out = glue.get_table(DatabaseName="test_out", Name="orders")["Table"]
    out_columns = [(c["Name"], c["Type"]) for c in out["StorageDescriptor"]["Columns"]]
    assert out_columns == [("order_id", "string"), ("amount", "int"), ("day", "date")]
    assert out["PartitionKeys"] == [{"Name": "region", "Type": "string"}]
    assert out["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"].endswith(
        "ParquetHiveSerDe")

    s3 = _client(env, "s3")
    rows = []
    for item in s3.list_objects_v2(Bucket=BUCKET, Prefix="out/orders/")["Contents"]:
        if item["Key"].endswith(".parquet"):
            region = item["Key"].split("region=")[1].split("/")[0]
            body = s3.get_object(Bucket=BUCKET, Key=item["Key"])["Body"].read()
            for row in pq.read_table(io.BytesIO(body)).to_pylist():
                rows.append((row["order_id"], region, row["amount"]))
    assert sorted(rows) == [("1", "north", 10), ("2", "south", 20), ("3", "north", 30)]
    # Parquet lands on its final key: no object of the job's ever passed through _temporary
    # (with a rename commit each would have left a version and a delete marker there)
    versions = s3.list_object_versions(Bucket=BUCKET, Prefix="out/")
    keys = [v["Key"] for v in versions.get("Versions", []) + versions.get("DeleteMarkers", [])]
    assert any(k.endswith(".parquet") for k in keys)
    assert [k for k in keys if "/_temporary/" in k or k.endswith("/_SUCCESS")] == []

    job = run.node("job", "ok-job")
    assert job.rows == {"rows_read": 4.0, "rows_written": 3.0, "rows_rejected": 1.0}
    assert job.run_id and job.run_id.startswith("jr_")
    assert "wrote 3 rows" in Path(job.log_file).read_text()
    saved = history.last_run(env)
    assert saved is not None and saved.run_id == run.run_id and saved.state == "SUCCEEDED"
    assert saved.node("job", "ok-job").rows == job.rows
    crawl = history.load_crawl_states(env)["out"]
    assert crawl["state"] == "SUCCEEDED" and crawl["tables_created"] == ["orders"]
    emulator_run = glue.get_workflow_run(Name="good", RunId=run.run_id)["Run"]
    assert emulator_run["WorkflowRunProperties"]["retailake_state"] == "SUCCEEDED"


def test_failing_job_is_reported_and_stops_downstream(env, runtime, lake):
    run = run_workflow(env, None, workflow="bad", runtime=runtime)

    assert run.state == "FAILED"
    states = {n.name: n.state for n in run.nodes}
    assert states == {"raw-orders": "SUCCEEDED", "fail-job": "FAILED", "never": "SKIPPED"}
    error = run.node("job", "fail-job").error
    assert error.type == "ValueError"
    assert error.message == "boom in fail-job"
    assert error.where == "fail.py:8 in check"
    assert error.origin == "helpers.zip/helpers/names.py:6 in explode"
    assert "Traceback" in Path(run.node("job", "fail-job").log_file).read_text()
    saved = history.load_run(env, run.run_id)
    assert saved.node("job", "fail-job").error.message == "boom in fail-job"
    assert saved.node("crawler", "never").state == "SKIPPED"
    with pytest.raises(Exception, match="EntityNotFound"):
        _client(env, "glue").get_table(DatabaseName="test_out", Name="never")


def test_a_job_runs_as_its_role_and_fails_on_what_the_role_may_not_do(env, runtime, lake):
    run = run_workflow(env, None, workflow="short", runtime=runtime)

    assert (run.state, run.node("job", "short-job").state) == ("FAILED", "FAILED")
    message = run.node("job", "short-job").error.message
    # S3A's words (a HEAD's refusal has no body), then which role, and where the rest is
    assert f"AccessDeniedException: s3://{BUCKET}/out/orders" in message, message
    assert "the job ran as arn:aws:iam::123456789012:role/glue-job-short" in message, message
    refusal = (f"refused: User: arn:aws:sts::123456789012:assumed-role/glue-job-short/"
               f"GlueJobRunnerSession is not authorized to perform: s3:GetObject on resource: "
               f"arn:aws:s3:::{BUCKET}/out/orders because")
    assert refusal in emulator.status(env).log_file.read_text()
    # the role's session stayed with the job: the runner's own reads after it are its own,
    # here of a folder the job's role may not read
    broken = f"s3a://{BUCKET}/broken/orders/part-0.parquet"
    assert runtime.session().read.text(broken).collect()[0].value == "not parquet at all"


def test_a_failed_job_does_not_stop_its_sibling(env, runtime, lake):
    # As in Glue, a job's failure does not stop its sibling of the same trigger (with the
    # emulator gone it does: test_pipeline kills the emulator in a job and checks)
    run = run_workflow(env, None, workflow="siblings", runtime=runtime)
    assert {n.name: n.state for n in run.nodes} == {"fail-job": "FAILED", "ok-job": "SUCCEEDED"}


def test_a_script_that_exits_succeeds_with_code_0_and_fails_with_another(env, runtime, lake):
    run = run_workflow(env, None, workflow="exits", runtime=runtime)
    assert (run.state, {n.name: n.state for n in run.nodes}) == (
        "FAILED", {"exit0-job": "SUCCEEDED", "exit2-job": "FAILED"})
    error = run.node("job", "exit2-job").error
    assert (error.type, error.message) == ("SystemExit", "the script exited with code 2")


def test_a_crawler_that_cannot_read_its_data_fails_with_the_reason(env, runtime, lake):
    run = run_workflow(env, None, workflow="unreadable", runtime=runtime)

    assert (run.state, {n.name: n.state for n in run.nodes}) == (
        "FAILED", {"broken": "FAILED", "ok-job": "SKIPPED"})
    error = run.node("crawler", "broken").error
    assert (error.type, error.message) == ("ValueError", "not a Parquet file (no PAR1 footer)")
    assert history.load_run(env, run.run_id).node("crawler", "broken").error.type == "ValueError"


def test_a_run_whose_state_cannot_be_saved_still_finishes_its_record(
    env, runtime, lake, monkeypatch
):
    def dead(_env: object) -> None:
        raise EmulatorError("could not flush the emulator's state to disk: connection refused")

    monkeypatch.setattr(runner.emulator, "flush", dead)
    run = run_workflow(env, None, workflow="good", runtime=runtime)

    assert all(n.state == "SUCCEEDED" for n in run.nodes)
    assert (run.state, run.error) == ("FAILED", "could not flush the emulator's state to disk: "
                                                "connection refused")
    saved = history.load_run(env, run.run_id)
    assert (saved.state, saved.error) == ("FAILED", run.error)
    assert saved.ended_at is not None


def test_spark_reads_a_table_whose_partition_was_emptied(env, runtime, lake):
    # A run that moves a month's last rows elsewhere deletes that partition's files; in a
    # versioned bucket their delete markers stay. The folder must not be listed any more
    # (S3 does not), or Spark lists it, finds nothing there and fails every later read.
    s3 = _client(env, "s3")
    for month, count in (("10", 2), ("11", 1)):
        sink = io.BytesIO()
        pq.write_table(pa.table({"n": list(range(count))}), sink)
        s3.put_object(Bucket=BUCKET, Key=f"emptied/month={month}/part-0.parquet",
                      Body=sink.getvalue())
    s3.delete_object(Bucket=BUCKET, Key="emptied/month=11/part-0.parquet")
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix="emptied/", Delimiter="/")
    assert [p["Prefix"] for p in listed["CommonPrefixes"]] == ["emptied/month=10/"]
    table = runtime.session().read.parquet(f"s3a://{BUCKET}/emptied/")
    assert sorted(tuple(r) for r in table.collect()) == [(0, 10), (1, 10)]
