"""The moto patches' logic, driven on backend objects directly (no network)."""

from __future__ import annotations

import pytest
from moto.cloudtrail.models import cloudtrail_backends
from moto.ec2.exceptions import InvalidSecurityGroupRuleIdNotFoundError
from moto.ec2.models import ec2_backends
from moto.iam import models as iam_models
from moto.lakeformation.exceptions import InvalidInput
from moto.lakeformation.models import (
    ListPermissionsResource,
    ListPermissionsResourceTable,
    lakeformation_backends,
)
from moto.redshift.models import redshift_backends
from moto.s3.models import s3_backends

from retailake.local import patches
from retailake.local.patches import redshift as redshift_patch

ACCOUNT = "222233334444"
ROLE = {"DataLakePrincipalIdentifier": "arn:aws:iam::222233334444:role/analyst"}


@pytest.fixture(autouse=True, scope="module")
def _patched():
    patches.apply_all()


def test_redshift_parameters_honour_source_user():
    backend = redshift_backends[ACCOUNT]["us-east-1"]
    backend.create_cluster_parameter_group("params", "redshift-1.0", "d", "us-east-1", [])
    redshift_patch._user_parameters(backend.parameter_groups["params"])["require_ssl"] = "true"
    user = redshift_patch.cluster_parameters(backend, "params", "user")
    assert [(p["ParameterName"], p["ParameterValue"]) for p in user] == [("require_ssl", "true")]
    everything = redshift_patch.cluster_parameters(backend, "params", None)
    assert len(everything) == len(backend.default_params)


def test_redshift_cluster_reports_availability_by_its_status():
    from moto.redshift.models import Cluster

    assert Cluster.multi_az == "Disabled"
    assert Cluster.availability_zone_relocation_status == "disabled"
    cluster = Cluster.__new__(Cluster)  # the property reads `status` alone
    for status, availability in (("available", "Available"), ("paused", "Unavailable"),
                                 ("modifying", "Maintenance"), ("creating", "Maintenance")):
        cluster.status = status
        assert cluster.cluster_availability_status == availability, status


def _table_filter() -> ListPermissionsResource:
    table = ListPermissionsResourceTable(
        catalog_id=None, database_name="db", name="sales", table_wildcard=None
    )
    return ListPermissionsResource(
        catalog=None,
        database=None,
        table=table,
        table_with_columns=None,
        data_location=None,
        data_cells_filter=None,
        lf_tag=None,
        lf_tag_policy=None,
    )


def test_lakeformation_lists_column_grants_under_their_table():
    backend = lakeformation_backends[ACCOUNT]["us-east-1"]
    resource = {
        "TableWithColumns": {"DatabaseName": "db", "Name": "sales", "ColumnNames": ["order_id"]}
    }
    backend.grant_permissions(ACCOUNT, ROLE, resource, ["SELECT"], [])
    listed = backend.list_permissions(ACCOUNT, principal=ROLE, resource=_table_filter())
    assert [p["Resource"] for p in listed] == [resource]


def test_lakeformation_revoking_a_missing_grant_fails_like_aws():
    backend = lakeformation_backends[ACCOUNT]["us-east-1"]
    resource = {"Database": {"Name": "gone"}}
    backend.grant_permissions(ACCOUNT, ROLE, resource, ["DESCRIBE"], [])
    backend.revoke_permissions(ACCOUNT, ROLE, resource, ["DESCRIBE"], [])
    with pytest.raises(InvalidInput, match="No permissions revoked"):
        backend.revoke_permissions(ACCOUNT, ROLE, resource, ["DESCRIBE"], [])


def test_cloudtrail_start_stop_delete_by_arn():
    s3_backends[ACCOUNT]["aws"].create_bucket("trail-bucket", "us-east-1")
    backend = cloudtrail_backends[ACCOUNT]["us-east-1"]
    trail = backend.create_trail(
        "trail-one", "trail-bucket", None, None, False, False, False, False, None, None, None, []
    )
    backend.start_logging(trail.arn)
    assert backend.get_trail_status("trail-one").is_logging
    backend.stop_logging(trail.arn)
    assert not backend.get_trail_status("trail-one").is_logging
    backend.delete_trail(trail.arn)
    assert "trail-one" not in backend.trails


def test_iam_account_lookup_creates_no_partitions():
    iam_models.iam_backends[ACCOUNT]["aws"]
    iam_models.get_account_id_from("AKIDNOTKNOWN")
    assert set(dict.keys(iam_models.iam_backends[ACCOUNT])) == {"aws"}


def test_glue_workflow_tags_are_readable_by_arn_and_dropped_with_it():
    from moto.glue.models import glue_backends

    from retailake.local.patches.glue import workflow_arn

    backend = glue_backends[ACCOUNT]["us-east-1"]
    backend.create_workflow("nightly", None, "d", None, {"Owner": "data"})
    arn = workflow_arn(backend, "nightly")
    assert arn == f"arn:aws:glue:us-east-1:{ACCOUNT}:workflow/nightly"
    assert backend.get_tags(arn) == {"Owner": "data"}
    backend.delete_workflow("nightly")
    assert backend.get_tags(arn) == {}


TLS_ONLY = """{"Version": "2012-10-17", "Statement": [{
  "Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
  "Resource": ["arn:aws:s3:::lake", "arn:aws:s3:::lake/*"],
  "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}"""


def test_tls_only_bucket_policy_admits_the_twins_requests_but_still_denies():
    from moto.iam.access_control import PermissionResult

    backend = s3_backends[ACCOUNT]["aws"]
    bucket = backend.create_bucket("lake", "us-east-1")
    bucket.policy = TLS_ONLY.encode()
    assert bucket.get_permission("s3:GetObject", "arn:aws:s3:::lake/k") is PermissionResult.NEUTRAL
    bucket.policy = TLS_ONLY.replace('"false"', '"true"').encode()
    assert bucket.get_permission("s3:GetObject", "arn:aws:s3:::lake/k") is PermissionResult.DENIED


def test_access_logs_are_not_delivered():
    backend = s3_backends[ACCOUNT]["aws"]
    backend.create_bucket("logged", "us-east-1")
    backend.create_bucket("logs", "us-east-1")
    backend.get_bucket("logged").logging = {"TargetBucket": "logs", "TargetPrefix": "s3/"}

    class Request:
        method, url, headers = "GET", "http://127.0.0.1/logged/key", {}

    backend.log_incoming_request(Request(), "logged")
    assert not list(backend.get_bucket("logs").keys)


def test_a_key_with_a_delete_marker_can_be_deleted_once_versioning_is_suspended():
    # what `terraform destroy` does: versioning resource first (Suspended), then the bucket's
    # force_destroy empties it
    backend = s3_backends[ACCOUNT]["aws"]
    backend.create_bucket("versioned", "us-east-1")
    backend.put_bucket_versioning("versioned", "Enabled")
    backend.put_object("versioned", "part.parquet", b"one")
    backend.delete_object("versioned", "part.parquet")  # leaves a delete marker
    backend.put_bucket_versioning("versioned", "Suspended")
    backend.delete_object("versioned", "part.parquet")
    assert not backend.get_bucket("versioned").keys.getlist("part.parquet", [])


def test_a_prefixed_listing_looks_up_only_the_keys_under_its_prefix(monkeypatch):
    from moto.s3.utils import _VersionedKeyStore

    backend = s3_backends[ACCOUNT]["aws"]
    backend.create_bucket("listed", "us-east-1")
    for key in ("raw/a/1.csv", "raw/a/2.csv", "raw/b/1.csv", "staged/x.parquet"):
        backend.put_object("listed", key, b"x")
    looked_up: list[str] = []
    original = _VersionedKeyStore.__getitem__

    def recording(self, key):
        looked_up.append(key)
        return original(self, key)

    monkeypatch.setattr(_VersionedKeyStore, "__getitem__", recording)
    bucket = backend.get_bucket("listed")
    keys, folders, _, _ = backend.list_objects(bucket, "raw/", "/", None, None)
    assert (keys, folders) == ([], ["raw/a/", "raw/b/"])
    keys, _truncated, _token = backend.list_objects_v2(bucket, "raw/a/", None, None, None, 1000)
    assert [k.name for k in keys] == ["raw/a/1.csv", "raw/a/2.csv"]
    assert set(looked_up) <= {"raw/a/1.csv", "raw/a/2.csv", "raw/b/1.csv"}
    keys, _, _, _ = backend.list_objects(bucket, "", None, None, None)  # no prefix: all keys
    assert len(keys) == 4


def test_a_folder_whose_keys_were_all_deleted_is_not_listed():
    backend = s3_backends[ACCOUNT]["aws"]
    backend.create_bucket("emptied", "us-east-1")
    backend.put_bucket_versioning("emptied", "Enabled")
    for key in ("sales/month=10/a.parquet", "sales/month=11/b.parquet", "top/c.parquet"):
        backend.put_object("emptied", key, b"x")
    backend.delete_object("emptied", "sales/month=11/b.parquet")  # leaves a delete marker
    backend.delete_object("emptied", "top/c.parquet")
    bucket = backend.get_bucket("emptied")
    assert backend.list_objects(bucket, "sales/", "/", None, None)[:2] == ([], ["sales/month=10/"])
    assert backend.list_objects(bucket, None, "/", None, None)[:2] == ([], ["sales/"])
    keys, _truncated, _token = backend.list_objects_v2(bucket, "sales/", None, None, None, 1000)
    assert [k.name for k in keys] == ["sales/month=10/a.parquet"]


def test_the_service_of_a_request_is_found_without_scanning_motos_folder(monkeypatch):
    import os.path

    from moto import backends

    expected = {"s3", "glue", "iam", "redshift"}
    monkeypatch.setattr(os.path, "isdir", lambda _path: pytest.fail("moto's folder scanned"))
    assert expected <= set(backends.list_of_moto_modules())


@pytest.fixture
def glue(monkeypatch):
    """A Glue client of in-process moto, patched."""
    import boto3
    from moto import mock_aws

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    with mock_aws():
        yield boto3.client("glue", region_name="us-east-1")


def test_update_job_replaces_the_whole_definition(glue):
    glue.create_job(
        Name="etl",
        Role="r",
        Command={"Name": "glueetl", "ScriptLocation": "s3://b/a.py"},
        DefaultArguments={"--source": "sales"},
        WorkerType="G.1X",
        NumberOfWorkers=2,
    )
    glue.update_job(
        JobName="etl",
        JobUpdate={
            "Role": "r",
            "Command": {"Name": "glueetl", "ScriptLocation": "s3://b/b.py"},
            "DefaultArguments": {"--source": "customers"},
        },
    )
    job = glue.get_job(JobName="etl")["Job"]
    assert job["Command"]["ScriptLocation"] == "s3://b/b.py"
    assert job["DefaultArguments"] == {"--source": "customers"}
    assert "WorkerType" not in job and "NumberOfWorkers" not in job


def test_update_crawler_changes_only_the_fields_it_names(glue):
    glue.create_crawler(Name="raw", Role="old-role", DatabaseName="raw_db",
                        Description="d", Targets={"S3Targets": [{"Path": "s3://b/raw/"}]})
    glue.update_crawler(Name="raw", Role="arn:aws:iam::123456789012:role/crawler",
                        Targets={"S3Targets": [{"Path": "s3://b/raw/",
                                                "Exclusions": ["**/_SUCCESS"]}]})
    crawler = glue.get_crawler(Name="raw")["Crawler"]
    assert crawler["Role"] == "arn:aws:iam::123456789012:role/crawler"
    assert crawler["Targets"]["S3Targets"][0]["Exclusions"] == ["**/_SUCCESS"]
    assert (crawler["DatabaseName"], crawler["Description"], crawler["Version"]) == (
        "raw_db", "d", 2)


def test_update_trigger_changes_only_the_fields_it_names(glue):
    glue.create_trigger(Name="start", Type="SCHEDULED", Schedule="cron(0 3 * * ? *)",
                        Actions=[{"CrawlerName": "raw"}], Description="nightly")
    glue.update_trigger(Name="start", TriggerUpdate={"Schedule": "cron(0 5 * * ? *)"})
    glue.update_trigger(Name="start", TriggerUpdate={"Actions": [{"JobName": "sales"}]})
    trigger = glue.get_trigger(Name="start")["Trigger"]
    assert (trigger["Schedule"], trigger["Description"]) == ("cron(0 5 * * ? *)", "nightly")
    assert trigger["Actions"] == [{"JobName": "sales"}]


def test_revoking_a_rule_id_the_group_does_not_hold_is_rule_id_not_found():
    """As AWS answers, and what the provider skips (aws_default_security_group revokes every
    default rule by ID); moto alone says InvalidPermission.NotFound. A held ID is revoked."""
    backend = ec2_backends[ACCOUNT]["us-east-1"]
    group = backend.create_security_group("patched-revoke", "test", vpc_id=backend.default_vpc.id)
    (default_egress,) = group.egress_rules
    revoke = {"group_name_or_id": group.id, "ip_protocol": None, "from_port": None,
              "to_port": None, "ip_ranges": []}  # fmt: skip
    with pytest.raises(InvalidSecurityGroupRuleIdNotFoundError):
        backend.revoke_security_group_egress(**revoke, security_rule_ids=["sgr-0123456789abcdef0"])
    backend.revoke_security_group_egress(**revoke, security_rule_ids=[default_egress.id])
    assert group.egress_rules == []


def test_sts_forgets_expired_sessions_when_the_next_is_made():
    from moto.sts.models import sts_backends

    backend = sts_backends[ACCOUNT]["aws"]
    keys = iam_models.iam_backends[ACCOUNT]["aws"].access_keys
    role = f"arn:aws:iam::{ACCOUNT}:role/job"
    old = backend.assume_role(region_name="us-east-1", role_session_name="old", role_arn=role,
                              policy="", duration=900, external_id="")
    live = backend.assume_role(region_name="us-east-1", role_session_name="live",
                               role_arn=role, policy="", duration=3600, external_id="")
    assert {r.session_name for r in backend.assumed_roles} >= {"old", "live"}
    old.expiration = live.expiration.replace(year=2000)
    backend.assume_role(region_name="us-east-1", role_session_name="next", role_arn=role,
                        policy="", duration=3600, external_id="")
    names = {r.session_name for r in backend.assumed_roles}
    assert "old" not in names and {"live", "next"} <= names
    assert old.access_key_id not in keys and live.access_key_id in keys
