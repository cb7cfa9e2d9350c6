"""Each Glue job's deployed role against what the ETL code itself writes and reads: every
object, folder probe and folder marker a Hadoop file system makes for the job's outputs is
allowed to that job's role, and to no other job's; its inputs are readable; the PII key is
the customers job's alone. The places come from `etl_scripts/`, the policies from the
emulator's IAM, as Terraform made them; moto's evaluator decides, as the twin does for S3A's
own requests (which never probe parent folders, as Glue's file system may)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from retailake.aws.clients import client
from retailake.local.access import allowed, applicable_statements
from retailake.outputs import load_outputs

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "etl_scripts"))
from retailake_etl import analytics, analytics_job, jobs

pytestmark = pytest.mark.integration

TRANSFORMS = {f"transform_{source}": source for source in jobs.SPECS}


def _writes(job: str, buckets: dict[str, str]) -> list[tuple[str, str]]:
    """(bucket, folder) of every folder the job writes, as the ETL code names them."""
    if job == "analytics_aggregation":
        folders = [*analytics.TABLES, analytics_job.STATE.rsplit("/", 1)[0]]
        return [(buckets["analytics"], folder) for folder in folders]
    source = TRANSFORMS[job]
    folders = [table.name for table in jobs.SPECS[source].tables]
    folders += [f"_rejects/{source}", f"_state/{source}"]
    return [(buckets["staged"], folder) for folder in folders]


def _reads(job: str, buckets: dict[str, str]) -> list[tuple[str, str]]:
    if job == "analytics_aggregation":
        return [(buckets["staged"], table) for table in analytics_job.INPUTS]
    return [(buckets["raw"], TRANSFORMS[job])]


def _hadoop_keys(folder: str) -> list[str]:
    """The keys a Hadoop file system touches to write `folder`: an object under it, the
    folder's own probes and markers, and those of every folder above it."""
    parts = folder.split("/")
    above = ["/".join(parts[:depth]) for depth in range(1, len(parts) + 1)]
    return [f"{folder}/year=2025/month=01/part-0.parquet",
            *(f"{f}{suffix}" for f in above for suffix in ("", "/", "_$folder$"))]


@pytest.fixture(scope="module")
def job_statements(deployed_local_env) -> dict[str, list[dict]]:
    """Each job's role's statements, found from the job's definition, as the twin reads them."""
    outputs = load_outputs(deployed_local_env)
    glue, iam = client(deployed_local_env, "glue"), client(deployed_local_env, "iam")
    statements = {}
    for job, name in outputs["glue_jobs"].items():
        role = glue.get_job(JobName=name)["Job"]["Role"]
        statements[job] = _role_statements(iam, role)
    assert set(statements) == {*TRANSFORMS, "analytics_aggregation"}
    return statements


def _role_statements(iam, role_arn: str) -> list[dict]:
    """The role's inline policies' statements (it has no managed ones), as the twin reads them."""
    role = role_arn.rsplit("/", 1)[-1]
    documents = [iam.get_role_policy(RoleName=role, PolicyName=policy)["PolicyDocument"]
                 for policy in iam.list_role_policies(RoleName=role)["PolicyNames"]]
    assert not iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"], role
    return applicable_statements([json.dumps(d) for d in documents])


def test_lake_formation_reads_the_layers_with_a_role_that_cannot_write(deployed_local_env):
    """Every grant it vends credentials for reads; the jobs write by path, as themselves."""
    locations = client(deployed_local_env, "lakeformation").list_resources()["ResourceInfoList"]
    (role,) = {location["RoleArn"] for location in locations}
    statements = _role_statements(client(deployed_local_env, "iam"), role)
    buckets = load_outputs(deployed_local_env).buckets
    for layer in ("raw", "staged", "analytics"):
        key = f"arn:aws:s3:::{buckets[layer]}/sales/year=2025/month=01/part-0.parquet"
        assert allowed(statements, "s3:GetObject", key), (layer, role)
        for action in ("s3:PutObject", "s3:DeleteObject"):
            assert not allowed(statements, action, key), (layer, action, role)


def test_each_job_may_write_its_outputs_and_no_other_jobs(deployed_local_env, job_statements):
    buckets = load_outputs(deployed_local_env).buckets
    for job, statements in job_statements.items():
        for bucket, folder in _writes(job, buckets):
            keys = _hadoop_keys(folder)
            for key in keys:
                assert allowed(statements, "s3:PutObject", f"arn:aws:s3:::{bucket}/{key}"), (
                    job, bucket, key)
            assert allowed(statements, "s3:DeleteObject", f"arn:aws:s3:::{bucket}/{keys[0]}")
        for other in set(job_statements) - {job}:
            for bucket, folder in _writes(other, buckets):
                arn = f"arn:aws:s3:::{bucket}/{_hadoop_keys(folder)[0]}"
                assert not allowed(statements, "s3:PutObject", arn), (job, arn)


def test_each_job_reads_its_inputs_and_no_raw_source_of_another(deployed_local_env,
                                                                 job_statements):
    outputs = load_outputs(deployed_local_env)
    buckets = outputs.buckets
    for job, statements in job_statements.items():
        for bucket, folder in _reads(job, buckets):
            arn = f"arn:aws:s3:::{bucket}/{folder}/ingest_date=2025-01-01/part.csv"
            assert allowed(statements, "s3:GetObject", arn), (job, arn)
            assert allowed(statements, "s3:ListBucket", f"arn:aws:s3:::{bucket}"), job
        for source in jobs.SPECS:
            arn = f"arn:aws:s3:::{buckets['raw']}/{source}/ingest_date=2025-01-01/part.csv"
            readable = allowed(statements, "s3:GetObject", arn)
            assert readable == (TRANSFORMS.get(job) == source), (job, arn)
        assert allowed(statements, "kms:Decrypt", outputs["kms_key_arn"]), job
        pii = allowed(statements, "secretsmanager:GetSecretValue", outputs["pii_hmac_secret_arn"])
        assert pii == (job == "transform_customers"), job


# The Glue calls `retailake_etl.catalog.GlueCatalog` makes for a table a job writes.
CATALOG_CALLS = ("glue:GetTable", "glue:GetPartitions", "glue:CreateTable", "glue:UpdateTable",
                 "glue:BatchCreatePartition", "glue:BatchUpdatePartition",
                 "glue:BatchDeletePartition")  # fmt: skip


def _tables(job: str) -> list[tuple[str, str]]:
    """(layer, table) of every catalog table the job writes, as the ETL code names them."""
    if job == "analytics_aggregation":
        return [("analytics", table) for table in analytics.TABLES]
    spec = jobs.SPECS[TRANSFORMS[job]]
    names = [table.name for table in spec.tables if not table.name.startswith("_")]
    return [("staged", name) for name in [*names, *(["products"] if spec.finish else [])]]


def test_each_job_keeps_its_own_tables_in_the_catalog_and_no_other_jobs(deployed_local_env,
                                                                         job_statements):
    outputs = load_outputs(deployed_local_env)
    region, account = outputs["kms_key_arn"].split(":")[3:5]
    databases = outputs["glue_databases"]

    def arns(layer: str, table: str) -> list[str]:
        """What Glue authorizes a table's call on: the catalog, the database, the table."""
        base = f"arn:aws:glue:{region}:{account}"
        return [f"{base}:catalog", f"{base}:database/{databases[layer]}",
                f"{base}:table/{databases[layer]}/{table}"]  # fmt: skip

    for job, statements in job_statements.items():
        for layer, table in _tables(job):
            for action in CATALOG_CALLS:
                for arn in arns(layer, table):
                    assert allowed(statements, action, arn), (job, action, arn)
        for other in set(job_statements) - {job}:
            for layer, table in _tables(other):
                table_arn = arns(layer, table)[-1]
                assert not allowed(statements, "glue:BatchUpdatePartition", table_arn), (job,
                                                                                       table)
    for table in analytics_job.INPUTS:  # the aggregation finds its inputs' folders
        for arn in arns("staged", table):
            for action in ("glue:GetTable", "glue:GetPartitions"):
                assert allowed(job_statements["analytics_aggregation"], action, arn), arn
