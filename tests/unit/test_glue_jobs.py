"""Job argv as Glue builds it, the awsglue shim's semantics, failure descriptions, run records
and the Spark settings (no network, no Spark)."""

from __future__ import annotations

import importlib
import stat
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from retailake.config import load_environment
from retailake.errors import RetailakeError
from retailake.local.glue import history
from retailake.local.glue.jobs import SHIM_DIR, describe_failure, job_arguments, job_argv
from retailake.local.glue.spark import (
    CLIENT_FACTORY,
    DIRECT_COMMITTER,
    fresh_work_dir,
    spark_conf,
)
from retailake.local.root_keys import RootKeys


@pytest.fixture
def awsglue_utils(monkeypatch):
    monkeypatch.syspath_prepend(str(SHIM_DIR))
    yield importlib.import_module("awsglue.utils")
    for name in [m for m in sys.modules if m.split(".")[0] == "awsglue"]:
        del sys.modules[name]


def test_arguments_precedence_and_argv():
    definition = {"DefaultArguments": {"--a": "default", "--b": "default"},
                  "NonOverridableArguments": {"--b": "fixed"}}
    overrides = {"--a": "trigger", "--b": "run", "--full_refresh": "true"}
    arguments = job_arguments(definition, overrides)
    assert arguments == {"--a": "trigger", "--b": "fixed", "--full_refresh": "true"}
    assert job_argv("/x/job.py", "my-job", "jr_1", arguments) == [
        "/x/job.py", "--JOB_NAME", "my-job", "--JOB_RUN_ID", "jr_1",
        "--a", "trigger", "--b", "fixed", "--full_refresh", "true"]


def test_get_resolved_options_returns_named_ignores_others_and_fails_on_missing(awsglue_utils):
    argv = ["job.py", "--JOB_NAME", "j", "--extra-py-files", "s3://b/x.zip", "--raw_bucket", "r"]
    assert awsglue_utils.getResolvedOptions(argv, ["JOB_NAME", "raw_bucket"]) == {
        "JOB_NAME": "j", "raw_bucket": "r"}
    with pytest.raises(awsglue_utils.GlueArgumentError, match="staged_bucket"):
        awsglue_utils.getResolvedOptions(argv, ["JOB_NAME", "staged_bucket"])


def test_glue_context_and_job_shim_import_without_starting_spark(monkeypatch):
    monkeypatch.syspath_prepend(str(SHIM_DIR))
    job_module = importlib.import_module("awsglue.job")
    job = job_module.Job(glue_context=None)
    job.init("j", {"JOB_NAME": "j"})
    job.commit()
    assert (job.name, job.committed) == ("j", True)
    assert importlib.import_module("awsglue.context").GlueContext
    for name in [m for m in sys.modules if m.split(".")[0] == "awsglue"]:
        del sys.modules[name]


def test_describe_failure_points_at_script_and_origin(tmp_path):
    script = tmp_path / "job.py"
    helper = tmp_path / "pkg.zip" / "pkg" / "mod.py"
    script.write_text("def main():\n    fail()\n")
    namespace: dict = {}
    exec(compile("def fail():\n    raise KeyError('order_id')\n", str(helper), "exec"), namespace)
    exec(compile(script.read_text(), str(script), "exec"), namespace)
    try:
        namespace["main"]()
    except KeyError as error:
        described = describe_failure(error, script, tmp_path)
    assert (described.type, described.message) == ("KeyError", "'order_id'")
    assert described.where == "job.py:2 in main"
    assert described.origin == "pkg.zip/pkg/mod.py:2 in fail"
    assert "Traceback" in described.traceback


def test_java_error_message_keeps_the_cause_not_the_stack(tmp_path):
    text = ("An error occurred while calling o12.parquet.\n: java.io.FileNotFoundException: "
            "No such file s3://b/x\n\tat org.apache.A.b(A.java:1)\n\tat org.apache.C.d(C.java:2)")
    described = describe_failure(RuntimeError(text), tmp_path / "job.py", tmp_path)
    assert described.message == ("An error occurred while calling o12.parquet. | "
                                 ": java.io.FileNotFoundException: No such file s3://b/x")


def test_run_record_round_trip_and_last_run(tmp_path, monkeypatch):
    monkeypatch.setenv("RETAILAKE_HOME", str(tmp_path))
    env = load_environment("local")
    first = history.PipelineRun("wr_1", "wf", started_at="2025-01-01T00:00:00+00:00")
    second = history.PipelineRun("wr_2", "wf", started_at="2025-01-02T00:00:00+00:00", nodes=[
        history.NodeRun("job", "j", 1, state="FAILED", rows={"rows_read": 3.0},
                        error=history.NodeError("ValueError", "boom", "job.py:1 in <module>"))])
    for run in (second, first):
        history.save_run(env, run)
    assert [r.run_id for r in history.list_runs(env)] == ["wr_1", "wr_2"]
    loaded = history.last_run(env)
    assert loaded == second
    assert loaded.failed_nodes[0].error.message == "boom"
    assert not list(history.runs_dir(env).glob(".*"))  # no temp files left behind


@pytest.mark.parametrize("text", ["{", "[]", '{"workflow": "wf"}', '{"run_id": 1, "nodes": 3}'])
def test_a_damaged_record_is_named_not_skipped(tmp_path, monkeypatch, text):
    """Skipped, a failed last run whose record was damaged read as a clean history."""
    monkeypatch.setenv("RETAILAKE_HOME", str(tmp_path))
    env = load_environment("local")
    history.save_run(env, history.PipelineRun("wr_1", "wf"))
    broken = history.runs_dir(env) / "wr_2.json"
    broken.write_text(text)
    with pytest.raises(RetailakeError, match=f"record {broken} cannot be read .*move it aside"):
        history.list_runs(env)


@pytest.mark.parametrize("text", ["{", "[]"])
def test_a_damaged_crawl_state_is_named_not_skipped(tmp_path, monkeypatch, text):
    monkeypatch.setenv("RETAILAKE_HOME", str(tmp_path))
    env = load_environment("local")
    history.save_crawl_state(env, "raw", {"state": "SUCCEEDED"})
    assert history.load_crawl_states(env) == {"raw": {"state": "SUCCEEDED"}}
    broken = history.crawler_state_path(env, "raw")
    broken.write_text(text)
    with pytest.raises(RetailakeError, match=f"record {broken} cannot be read"):
        history.load_crawl_states(env)


def test_sparks_scratch_folder_starts_empty_and_owner_only(tmp_path):
    left = tmp_path / "work" / "blockmgr-killed-run"  # a killed run's spilled rows
    left.mkdir(parents=True)
    (left / "shuffle_0_0_0.data").write_bytes(b"raw customer rows")
    work = fresh_work_dir(tmp_path)
    assert work == tmp_path / "work" and list(work.iterdir()) == []
    assert stat.S_IMODE(work.stat().st_mode) == 0o700


@pytest.mark.parametrize("failing", ["context", "session"])
def test_a_spark_start_that_fails_takes_its_jvm_with_it(tmp_path, monkeypatch, failing):
    """pyspark keeps the gateway of a context that failed to start, and a Ctrl-C after the
    context but before the session left `stop` nothing to end the JVM by: it lived on (here
    a `cat`, which also ends when its stdin closes) beside every later job's new one."""
    import pyspark
    import pyspark.java_gateway
    import pyspark.sql

    from retailake.local.glue import spark

    jvm = subprocess.Popen(["cat"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
    gateway = SimpleNamespace(proc=jvm, shutdown=lambda: None)

    class FakeContext:
        _gateway: object = None
        _jvm: object = None
        _active_spark_context = None

        def __init__(self, conf: object, gateway: object) -> None:
            FakeContext._gateway = gateway  # as pyspark's __init__ sets it, before it may fail
            if failing == "context":
                raise RuntimeError("Java gateway process exited before sending its port number")

        def setLogLevel(self, level: str) -> None:
            pass

        def stop(self) -> None:
            pass

    def no_session(context: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(pyspark, "SparkContext", FakeContext)
    monkeypatch.setattr(pyspark.sql, "SparkSession", no_session)
    monkeypatch.setattr(pyspark.java_gateway, "launch_gateway", lambda conf, **kw: gateway)
    monkeypatch.setattr(spark, "find_s3a_jars", lambda: [])
    monkeypatch.setattr(spark, "compile_twin_classes", lambda jars, cache: None)
    runtime = spark.SparkRuntime("http://127.0.0.1:1", "us-east-1", tmp_path / "spark.log",
                                 keys=RootKeys("AKIATEST", "secret"), cache_dir=tmp_path)
    try:
        with pytest.raises(RuntimeError if failing == "context" else KeyboardInterrupt):
            runtime.session()
        assert jvm.wait(timeout=10) == 0
        assert FakeContext._gateway is None
    finally:
        jvm.kill()
        runtime.stop()


def test_spark_conf_points_s3_and_s3a_at_the_emulator():
    jars = [Path("/j/hadoop-aws-3.3.1.jar"), Path("/j/aws-java-sdk-bundle-1.11.901.jar")]
    keys = RootKeys("AKIATWINROOTKEY00001", "its-secret")
    conf = spark_conf("http://127.0.0.1:4599", "us-east-1", keys, jars, Path("/c/classes"),
                      Path("/home/.retailake/cache/spark/work"))
    assert conf["spark.hadoop.fs.s3.impl"] == conf["spark.hadoop.fs.s3a.impl"]
    assert (conf["spark.hadoop.fs.s3a.access.key"], conf["spark.hadoop.fs.s3a.secret.key"]) == (
        "AKIATWINROOTKEY00001", "its-secret")  # the twin's keys: the emulator refuses others
    assert conf["spark.local.dir"] == "/home/.retailake/cache/spark/work"  # not /tmp
    assert conf["spark.hadoop.fs.s3a.endpoint"] == "http://127.0.0.1:4599"
    assert conf["spark.hadoop.fs.s3a.path.style.access"] == "true"
    assert conf["spark.hadoop.fs.s3a.s3.client.factory.impl"] == CLIENT_FACTORY
    assert conf["spark.sql.parquet.output.committer.class"] == DIRECT_COMMITTER
    assert conf["spark.driver.extraClassPath"].split(":") == [*map(str, jars), "/c/classes"]
    assert "spark.jars" not in conf
    # a dead emulator fails a job in seconds (checked by hand: 12 s after a kill -9), not
    # after the SDK's 20 attempts under S3A's 7 retries (over 10 minutes)
    assert int(conf["spark.hadoop.fs.s3a.attempts.maximum"]) <= 3
    assert int(conf["spark.hadoop.fs.s3a.retry.limit"]) <= 3
    assert "-XX:-DontCompileHugeMethods" in conf["spark.driver.extraJavaOptions"].split()
    assert (conf["spark.sql.shuffle.partitions"], conf["spark.sql.session.timeZone"]) == ("4",
                                                                                         "UTC")


def test_a_job_or_crawler_role_is_assumed_by_arn_or_by_name_for_a_long_session():
    import datetime as dt

    import boto3
    from moto import mock_aws

    from retailake.local.glue import roles

    with mock_aws():
        sts = boto3.client("sts", region_name="us-east-1")
        by_name = roles.assume(sts, "job-role", roles.JOB_SESSION)
        assert by_name.role_arn == "arn:aws:iam::123456789012:role/job-role"
        by_arn = roles.assume(sts, "arn:aws:iam::123456789012:role/other", roles.CRAWLER_SESSION)
        assert by_arn.role_arn == "arn:aws:iam::123456789012:role/other"
        identity = by_arn.client("sts", "https://sts.amazonaws.com", "us-east-1")  # mocked
        assert identity.get_caller_identity()["Arn"] == (
            "arn:aws:sts::123456789012:assumed-role/other/AWS-Crawler")
        from moto.sts.models import sts_backends

        session = sts_backends["123456789012"]["aws"].get_assumed_role_from_access_key(
            by_name.access_key)
        assert session.expiration - dt.datetime.now(dt.UTC).replace(tzinfo=None) > dt.timedelta(
            hours=11)
        assert "token" not in repr(by_name) and by_name.secret_key not in repr(by_name)
