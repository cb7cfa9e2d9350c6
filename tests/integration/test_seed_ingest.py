"""Seeding and ingest against the deployed local twin: objects and manifest land in the raw
bucket, a second seed uploads nothing, a refused file leaves nothing behind."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from retailake.aws.clients import client
from retailake.aws.s3 import iter_objects
from retailake.cli import app
from retailake.outputs import load_outputs

pytestmark = pytest.mark.integration


def run(env, *args: str):
    return CliRunner().invoke(app, [*args, "--env", env.name])


def test_seed_twice_then_refuse_a_bad_file(deployed_local_env, tmp_path):
    """A seed of its own, so that the first upload is a first whatever ran before."""
    env = deployed_local_env
    s3 = client(env, "s3")
    bucket = load_outputs(env).buckets["raw"]
    args = ("seed-sample", "--seed", "8", "--sales-lines", "300", "--start", "2024-06-01",
            "--days", "3", "-f", "json")  # fmt: skip
    try:
        first = run(env, *args)
        assert first.exit_code == 0, first.output
        seeded = json.loads(first.stdout)
        keys = {o["Key"] for o in iter_objects(s3, bucket)}
        manifest = json.loads(s3.get_object(Bucket=bucket, Key="_manifest/seed-8.json")["Body"]
                              .read())  # fmt: skip
        assert {f["file"] for f in manifest["files"]} <= keys
        assert (seeded["uploaded"], seeded["unchanged"]) == (len(manifest["files"]) + 1, 0)
        assert {e["file"] for e in manifest["dirty_rows"]} <= keys

        second = json.loads(run(env, *args).stdout)
        assert (second["uploaded"], second["unchanged"]) == (0, seeded["uploaded"])
        assert {o["Key"] for o in iter_objects(s3, bucket)} == keys
    finally:  # leave the shared twin's raw layer as the seed of 42 made it
        for key, version in _versions_of_seed(s3, bucket, 8):
            s3.delete_object(Bucket=bucket, Key=key, VersionId=version)

    bad = tmp_path / "broken_sales.csv"
    bad.write_text("order_id,quantity\nO1,3\n")
    refused = run(env, "ingest", str(bad), "--source", "sales")
    assert refused.exit_code == 2
    assert not [k for k in (o["Key"] for o in iter_objects(s3, bucket)) if "broken_sales" in k]


def test_a_name_used_today_keeps_its_object_until_replace(deployed_local_env, tmp_path):
    env = deployed_local_env
    s3 = client(env, "s3")
    bucket = load_outputs(env).buckets["raw"]
    own = tmp_path / "own_customers.csv"
    own.write_text("customer_id,email\nC-OWN-1,a@b.c\n")
    first = run(env, "ingest", str(own), "--source", "customers", "-f", "json")
    assert first.exit_code == 0, first.output
    key = json.loads(first.stdout)["files"][0]["key"]
    try:
        own.write_text("customer_id,email\nC-OWN-2,d@e.f\n")
        clash = run(env, "ingest", str(own), "--source", "customers")
        assert clash.exit_code == 2
        assert f"s3://{bucket}/{key}" in clash.stderr
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode()
        assert "C-OWN-1" in body

        replaced = run(env, "ingest", str(own), "--source", "customers", "--replace")
        assert replaced.exit_code == 0, replaced.output
        assert "C-OWN-2" in s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode()
    finally:  # leave the shared twin's raw layer as the seed made it
        versions = s3.list_object_versions(Bucket=bucket, Prefix=key)
        for version in versions.get("Versions", []) + versions.get("DeleteMarkers", []):
            s3.delete_object(Bucket=bucket, Key=key, VersionId=version["VersionId"])


def test_reseeding_with_other_settings_replaces_the_earlier_sample(deployed_local_env):
    """The refusal, and --replace, against the emulator's versioned raw bucket."""
    env = deployed_local_env
    s3 = client(env, "s3")
    bucket = load_outputs(env).buckets["raw"]
    args = ("seed-sample", "--seed", "7", "--sales-lines", "300", "--start", "2024-03-01")

    def seeded() -> set[str]:
        return {o["Key"] for o in iter_objects(s3, bucket) if "seed7." in o["Key"]}

    try:
        assert run(env, *args, "--days", "6").exit_code == 0
        six_days = seeded()
        refused = run(env, *args, "--days", "3")
        assert refused.exit_code == 2 and "seed 7 is already in" in refused.stderr
        assert seeded() == six_days
        replaced = run(env, *args, "--days", "3", "--replace", "-f", "json")
        assert replaced.exit_code == 0, replaced.output
        manifest = json.loads(s3.get_object(Bucket=bucket, Key="_manifest/seed-7.json")["Body"]
                              .read())  # fmt: skip
        assert {f["file"] for f in manifest["files"]} == seeded()
        assert json.loads(replaced.stdout)["removed"] == len(six_days - seeded()) > 0
    finally:  # leave the shared twin's raw layer as the seed of 42 made it
        for key, version in _versions_of_seed(s3, bucket, 7):
            s3.delete_object(Bucket=bucket, Key=key, VersionId=version)


def _versions_of_seed(s3, bucket: str, seed: int) -> list[tuple[str, str]]:
    """(key, version id) of every version and delete marker of that seed's objects."""
    found = []
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        for version in page.get("Versions", []) + page.get("DeleteMarkers", []):
            if f"seed{seed}." in version["Key"] or version["Key"] == f"_manifest/seed-{seed}.json":
                found.append((version["Key"], version["VersionId"]))
    return found
