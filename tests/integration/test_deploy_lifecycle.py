"""Issue 2 end to end on the local twin: the real CLI, terraform binary, provider and emulator.

deploy the full stack -> plan shows no changes -> emulator stopped / killed and restarted ->
still no changes and every object back -> destroy (in the session fixture's teardown)."""

from __future__ import annotations

import json
import socket

import pytest

from retailake.aws.clients import client
from retailake.aws.workflow_run import job_logs, read_job_setups
from retailake.outputs import load_outputs
from retailake.scripts import built_scripts, scripts_to_upload, upload_scripts
from tests.integration.conftest import free_port, kill_emulator, retailake

pytestmark = pytest.mark.integration


def assert_no_changes() -> None:
    run = retailake("plan")
    assert run.returncode == 0, str(run)
    assert "No changes." in run.stdout, str(run)


def test_deploy_created_the_whole_lake(deployed_local_env):
    outputs = load_outputs(deployed_local_env)
    assert set(outputs.buckets) == {"raw", "staged", "analytics", "scripts", "access_logs"}
    s3 = client(deployed_local_env, "s3")
    names = {bucket["Name"] for bucket in s3.list_buckets()["Buckets"]}
    assert set(outputs.buckets.values()) <= names
    glue = client(deployed_local_env, "glue")
    assert glue.get_workflow(Name=outputs["glue_workflow"])["Workflow"]["Name"]
    log_groups = {group["logGroupName"]: group for group in
                  client(deployed_local_env, "logs").describe_log_groups()["logGroups"]}
    for job in outputs["glue_jobs"].values():
        definition = glue.get_job(JobName=job)["Job"]
        location = definition["Command"]["ScriptLocation"]
        bucket, key = location.removeprefix("s3://").split("/", 1)
        assert s3.head_object(Bucket=bucket, Key=key)["ContentLength"] > 0, location  # uploaded
    # where `run-pipeline` in AWS says a failed job logs (the job's prefix and the folder its
    # encrypting security configuration adds) is a group the deployment made, with retention
    setups = read_job_setups(glue, list(outputs["glue_jobs"].values()))
    prefix = outputs["name_prefix"]
    for key, job in outputs["glue_jobs"].items():
        setup = setups[job]
        assert setup.log_folder == f"/{prefix}-glue-role/{prefix}-job-{key.replace('_', '-')}"
        error_group, _stream = job_logs({"Id": "jr_1"}, setup)
        for group in (error_group, error_group.removesuffix("/error") + "/output"):
            assert log_groups[group]["retentionInDays"] > 0, group
            assert log_groups[group]["kmsKeyId"] == outputs["kms_key_arn"], group
    raw_rules = s3.get_bucket_lifecycle_configuration(Bucket=outputs.buckets["raw"])["Rules"]
    tiering = next(rule for rule in raw_rules if rule["ID"] == "raw-tiering")
    # every tier a job can read without a restore: a rebuild reads old raw objects again
    assert {t["StorageClass"] for t in tiering["Transitions"]} == {"STANDARD_IA", "GLACIER_IR"}
    for bucket in outputs.buckets.values():  # delete markers do not pile up behind versions
        rules = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
        housekeeping = next(rule for rule in rules if rule["ID"] == "housekeeping")
        assert housekeeping["Expiration"] == {"ExpiredObjectDeleteMarker": True}, bucket
        assert housekeeping["NoncurrentVersionExpiration"]["NoncurrentDays"] > 0, bucket
    redshift = client(deployed_local_env, "redshift")
    cluster = redshift.describe_clusters(ClusterIdentifier=outputs["redshift_cluster_identifier"])[
        "Clusters"
    ][0]
    assert cluster["Encrypted"] is True and cluster["PubliclyAccessible"] is False


def test_eventbridge_may_publish_to_the_encrypted_alarm_topic(deployed_local_env):
    """The Glue job-failure rule publishes to a topic under the lake's key. SNS's guide: a key
    policy statement for EventBridge must not test aws:SourceAccount or aws:SourceArn (every
    delivery fails with them), which the emulator does not enforce."""
    outputs = load_outputs(deployed_local_env)
    topic = client(deployed_local_env, "sns").get_topic_attributes(
        TopicArn=outputs["sns_topic_arn"])["Attributes"]
    key_id = outputs["kms_key_arn"].rsplit("/", 1)[1]
    assert topic["KmsMasterKeyId"] in (outputs["kms_key_arn"], key_id), topic
    policy = json.loads(client(deployed_local_env, "kms").get_key_policy(
        KeyId=key_id, PolicyName="default")["Policy"])
    for_events = [s for s in policy["Statement"]
                  if "events.amazonaws.com" in json.dumps(s.get("Principal"))]
    assert any("kms:GenerateDataKey*" in s["Action"] and "kms:Decrypt" in s["Action"]
               for s in for_events), for_events
    tested = {key.lower() for s in for_events for test in s.get("Condition", {}).values()
              for key in test}  # fmt: skip
    assert not tested & {"aws:sourceaccount", "aws:sourcearn"}, for_events


def test_every_failed_job_run_and_crawl_reaches_the_alarm_topic(deployed_local_env):
    outputs = load_outputs(deployed_local_env)
    events = client(deployed_local_env, "events")
    watched = {}
    for rule in events.list_rules(NamePrefix=outputs["name_prefix"])["Rules"]:
        targets = events.list_targets_by_rule(Rule=rule["Name"])["Targets"]
        if [target["Arn"] for target in targets] == [outputs["sns_topic_arn"]]:
            pattern = json.loads(rule["EventPattern"])
            assert pattern["source"] == ["aws.glue"], rule
            (kind,) = pattern["detail-type"]
            watched[kind] = pattern["detail"]
    assert watched == {
        "Glue Job State Change": {"jobName": sorted(outputs["glue_jobs"].values()),
                                  "state": ["FAILED", "TIMEOUT"]},
        "Glue Crawler State Change": {"crawlerName": sorted(outputs["glue_crawlers"].values()),
                                      "state": ["Failed"]},
    }


def test_second_deploy_changes_nothing(deployed_local_env):
    run = retailake("deploy", "--auto-approve", "--format", "json")
    assert run.returncode == 0, str(run)
    result = json.loads(run.stdout)
    assert result["applied"] is False
    assert result["plan"]["create"] == result["plan"]["update"] == 0
    assert result["scripts"]["uploaded"] == 0


def test_plan_shows_no_changes(deployed_local_env):
    assert_no_changes()


def test_a_reviewed_plan_is_applied_as_it_is_and_a_stale_one_is_refused(
    deployed_local_env, tmp_path
):
    """`plan --out` with a change (an alarm address: one subscription), `deploy --plan-file`
    applies that plan, not a new one; the same file again is stale (the state moved on) and
    refused. A plain deploy then puts the twin back as it was."""
    var_file = tmp_path / "alarm.tfvars"
    var_file.write_text('alarm_email = "oncall@example.com"\n')
    saved = tmp_path / "alarm.plan"
    sns = client(deployed_local_env, "sns")
    topic = load_outputs(deployed_local_env)["sns_topic_arn"]
    try:
        run = retailake("plan", "--var-file", str(var_file), "--out", str(saved), "-f", "json")
        assert run.returncode == 0, str(run)
        planned = json.loads(run.stdout)
        assert (planned["create"], planned["saved_to"]) == (1, str(saved)), planned
        assert_no_changes()  # saving a plan changed nothing
        run = retailake("deploy", "--plan-file", str(saved), "--format", "json")
        assert run.returncode == 0, str(run)
        assert json.loads(run.stdout)["plan"]["changes"] == planned["changes"]
        endpoints = [s["Endpoint"] for s in
                     sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]]
        assert "oncall@example.com" in endpoints
        run = retailake("deploy", "--plan-file", str(saved))
        assert run.returncode == 1, str(run)
        assert "changed since this plan was made" in run.stderr, str(run)
    finally:
        assert retailake("deploy", "--auto-approve").returncode == 0
    assert_no_changes()


def test_state_survives_emulator_down_and_up(deployed_local_env):
    outputs = load_outputs(deployed_local_env)
    s3 = client(deployed_local_env, "s3")
    s3.put_object(Bucket=outputs.buckets["raw"], Key="probe/down-up.txt", Body=b"kept")
    down = retailake("local", "down", "--format", "json")
    assert down.returncode == 0, str(down)
    assert json.loads(down.stdout) == {
        "running": False, "pid": None, "was_running": True,
        "endpoint_url": deployed_local_env.endpoint_url,
        "state_dir": str(deployed_local_env.state_dir / "emulator"),
        "log_file": str(deployed_local_env.state_dir / "emulator" / "emulator.log")}
    up = retailake("local", "up", "--format", "json")
    assert up.returncode == 0, str(up)
    started = json.loads(up.stdout)
    assert started["running"] is True
    assert started == json.loads(retailake("local", "status", "--format", "json").stdout)
    body = s3.get_object(Bucket=outputs.buckets["raw"], Key="probe/down-up.txt")["Body"].read()
    assert body == b"kept"
    assert_no_changes()


def test_state_survives_the_emulator_being_killed(deployed_local_env, tmp_path):
    outputs = load_outputs(deployed_local_env)
    sales = tmp_path / "sales.csv"
    sales.write_text(
        "order_id,line_number,order_ts,store_id,product_id,quantity,unit_price\n"
        "O1,1,2025-10-01T10:00:00,S1,P1,2,9.99\n"
    )
    ingested = retailake("ingest", str(sales), "--source", "sales", "--format", "json")
    assert ingested.returncode == 0, str(ingested)
    key = json.loads(ingested.stdout)["files"][0]["key"]
    status = json.loads(retailake("local", "status", "--format", "json").stdout)
    kill_emulator(deployed_local_env, status["pid"])
    assert_no_changes()  # plan starts the emulator again by itself
    s3 = client(deployed_local_env, "s3")
    body = s3.get_object(Bucket=outputs.buckets["raw"], Key=key)["Body"].read()
    assert body == sales.read_bytes()  # what a finished command wrote survives a kill -9


def upload_etl_scripts(env, outputs, folder) -> list:
    with built_scripts(folder) as artifacts:
        return upload_scripts(env, outputs, artifacts)


def test_scripts_upload_only_what_changed(deployed_local_env, tmp_path):
    outputs = load_outputs(deployed_local_env)
    (tmp_path / "job_a.py").write_text("print('a')\n")
    (tmp_path / "job_b.py").write_text("print('b')\n")
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "__init__.py").write_text("VALUE = 1\n")
    first = upload_etl_scripts(deployed_local_env, outputs, tmp_path)
    assert sorted((r.key, r.uploaded) for r in first) == [
        ("etl/job_a.py", True),
        ("etl/job_b.py", True),
        ("etl/shared.zip", True),
    ]
    assert [r.uploaded for r in upload_etl_scripts(deployed_local_env, outputs, tmp_path)] == [
        False,
        False,
        False,
    ]
    (tmp_path / "job_b.py").write_text("print('b2')\n")
    with built_scripts(tmp_path) as artifacts:  # what deploy shows with its plan
        assert scripts_to_upload(deployed_local_env, artifacts) == ("job_b.py",)
    again = {r.key: r.uploaded for r in upload_etl_scripts(deployed_local_env, outputs, tmp_path)}
    assert again == {"etl/job_a.py": False, "etl/job_b.py": True, "etl/shared.zip": False}
    s3 = client(deployed_local_env, "s3")
    body = s3.get_object(Bucket=outputs.buckets["scripts"], Key="etl/job_b.py")["Body"].read()
    assert body == b"print('b2')\n"


def test_no_secret_in_state_or_outputs(deployed_local_env):
    state = json.loads((deployed_local_env.state_dir / "terraform.tfstate").read_text())
    for resource in state["resources"]:
        for instance in resource["instances"]:
            attributes = instance.get("attributes", {})
            for name in ("master_password", "secret_string", "secret_binary"):
                assert not attributes.get(name), f"{resource['type']}.{resource['name']}: {name}"
    outputs = (deployed_local_env.state_dir / "outputs.json").read_text().lower()
    assert 'password":' not in outputs


def test_pii_key_is_set_once_and_never_shown(deployed_local_env):
    outputs = load_outputs(deployed_local_env)
    manager = client(deployed_local_env, "secretsmanager")
    key = manager.get_secret_value(SecretId=outputs["pii_hmac_secret_arn"])["SecretString"]
    assert len(key) == 64
    run = retailake("deploy", "--auto-approve", "--format", "json")
    assert run.returncode == 0, str(run)
    again = manager.get_secret_value(SecretId=outputs["pii_hmac_secret_arn"])["SecretString"]
    assert again == key
    assert key not in run.stdout + run.stderr
    assert key not in (deployed_local_env.state_dir / "terraform.tfstate").read_text()


def test_misspelt_variable_is_refused_and_changes_nothing(deployed_local_env, tmp_path):
    var_file = tmp_path / "mine.tfvars"
    var_file.write_text('name_prefx = "typo"\n')
    run = retailake("plan", "--var-file", str(var_file))
    assert run.returncode == 2, str(run)
    assert f"undeclared variable 'name_prefx' in {var_file}" in run.stderr
    assert "(did you mean 'name_prefix'?)" in run.stderr
    assert run.stderr.count("\n") <= 3, str(run)  # one actionable line, not a dump
    var_file.write_text("name_prefix =\n")  # a syntax error: input to fix, exit 2 too
    run = retailake("plan", "--var-file", str(var_file))
    assert run.returncode == 2, str(run)
    assert f"error: variables file {var_file} is not valid" in run.stderr
    assert "Invalid expression" in run.stderr
    assert_no_changes()


def test_port_taken_by_another_program(tmp_path, monkeypatch):
    with socket.socket() as squatter:
        port = free_port()
        squatter.bind(("127.0.0.1", port))
        squatter.listen()
        monkeypatch.setenv("RETAILAKE_HOME", str(tmp_path))
        monkeypatch.setenv("RETAILAKE_LOCAL_PORT", str(port))
        run = retailake("deploy", "--auto-approve")
    assert run.returncode == 2, str(run)  # a setting to change: RETAILAKE_LOCAL_PORT
    assert f"port {port} on 127.0.0.1 is in use by another program" in run.stderr
    assert not (tmp_path / "local" / "terraform.tfstate").exists()


def test_no_terraform_on_path(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("RETAILAKE_TERRAFORM_BIN", raising=False)
    monkeypatch.setenv("RETAILAKE_HOME", str(tmp_path))
    run = retailake("plan", "--env", "dev")
    assert run.returncode == 2, str(run)
    assert "'terraform' was not found on PATH" in run.stderr
