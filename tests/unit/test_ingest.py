"""ingest: every file checked before any upload; refused files never reach the bucket."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import re
from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from typer.testing import CliRunner

from retailake import ingest
from retailake.aws.s3 import UploadResult
from retailake.cli import app
from retailake.outputs import save_outputs
from retailake.parallel import parallel_map
from retailake.sample import upload as sample_upload

GOOD = "customer_id,email\nC1,a@b.c\nC2,d@e.f\n"
BAD = "id,email\nC1,a@b.c\n"


@pytest.fixture
def bucket(tmp_path, monkeypatch):
    """A deployed-looking local env whose uploads land in a dict (no network)."""
    monkeypatch.setenv("RETAILAKE_HOME", str(tmp_path / "home"))
    from retailake.config import load_environment

    save_outputs(load_environment("local"), {"buckets": {"raw": "lake-raw"}, "region": "us-east-1"})
    stored: dict[str, bytes] = {}

    def fake_upload(_s3, name, key, path, on_bytes=None):
        assert name == "lake-raw"
        unchanged = stored.get(key) == path.read_bytes()
        stored[key] = path.read_bytes()
        return UploadResult(key, path.stat().st_size, uploaded=not unchanged)

    def stored_sha256(_s3, name, key):
        assert name == "lake-raw"
        return hashlib.sha256(stored[key]).hexdigest() if key in stored else None

    monkeypatch.setattr(ingest, "client", lambda env, service: object())
    monkeypatch.setattr(ingest, "remote_sha256", stored_sha256)
    monkeypatch.setattr(ingest, "upload_if_changed", fake_upload)
    monkeypatch.setattr(ingest.emulator, "flush", lambda env: None)
    monkeypatch.setattr(sample_upload, "client", lambda env, service: DictS3(stored))
    return stored


class DictS3:
    """The S3 calls seed-sample makes besides its uploads, over the fixture's objects."""

    def __init__(self, stored: dict[str, bytes]) -> None:
        self.stored = stored

    def get_object(self, Bucket: str, Key: str) -> dict:
        if Key not in self.stored:
            raise ClientError({"Error": {"Code": "NoSuchKey"}}, "GetObject")
        return {"Body": io.BytesIO(self.stored[Key])}

    def get_paginator(self, _operation: str) -> DictS3:
        return self

    def paginate(self, Bucket: str, Prefix: str) -> list[dict]:
        return [{"Contents": [{"Key": k} for k in sorted(self.stored) if k.startswith(Prefix)]}]

    def delete_objects(self, Bucket: str, Delete: dict) -> dict:
        for item in Delete["Objects"]:
            del self.stored[item["Key"]]
        return {}


def run(*args: str):
    return CliRunner().invoke(app, list(args))


def test_find_files_walks_folders(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    for name in ("a/x.csv", "a/b/y.jsonl", "a/b/z.parquet", "a/notes.txt", "w.json"):
        (tmp_path / name).write_text("x")
    found = [p.relative_to(tmp_path).as_posix() for p in ingest.find_files(tmp_path)]
    assert found == ["a/b/y.jsonl", "a/b/z.parquet", "a/x.csv", "w.json"]


def test_find_files_follows_linked_folders_once(tmp_path):
    """A delivery folder often links to where the exports land; a link back up is no loop."""
    (tmp_path / "exports").mkdir()
    (tmp_path / "exports" / "x.csv").write_text("x")
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "today").symlink_to(tmp_path / "exports")
    (tmp_path / "in" / "up").symlink_to(tmp_path / "in")
    found = [p.relative_to(tmp_path).as_posix() for p in ingest.find_files(tmp_path / "in")]
    assert found == ["in/today/x.csv"]


def test_ingest_uploads_to_todays_partition(tmp_path, bucket):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "c1.csv").write_text(GOOD)
    result = run("ingest", str(tmp_path / "in"), "--source", "customers", "-f", "json")
    assert result.exit_code == 0, result.output
    today = dt.datetime.now(dt.UTC).date().isoformat()
    assert list(bucket) == [f"customers/ingest_date={today}/c1.csv"]
    report = json.loads(result.stdout)
    assert report["files"][0]["rows"] == 2 and report["files"][0]["uploaded"] is True
    again = json.loads(run("ingest", str(tmp_path / "in"), "--source", "customers",
                           "-f", "json").stdout)
    assert again["files"][0]["uploaded"] is False


def test_one_bad_file_stops_everything(tmp_path, bucket):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "good.csv").write_text(GOOD)
    (tmp_path / "in" / "bad.csv").write_text(BAD)
    result = run("ingest", str(tmp_path / "in"), "--source", "customers")
    assert result.exit_code == 2
    assert "bad.csv" in result.output and "customer_id" in result.output
    assert bucket == {}


def test_skip_invalid_uploads_only_the_good_files(tmp_path, bucket):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "good.csv").write_text(GOOD)
    (tmp_path / "in" / "bad.csv").write_text(BAD)
    result = run("ingest", str(tmp_path / "in"), "--source", "customers", "--skip-invalid")
    assert result.exit_code == 0, result.output
    assert [key.rsplit("/", 1)[1] for key in bucket] == ["good.csv"]


def test_skip_invalid_with_every_file_refused_fails(tmp_path, bucket):
    """Nothing to upload is no success: a scheduler would see none of the refusals."""
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "bad.csv").write_text(BAD)
    result = run("ingest", str(tmp_path / "in"), "--source", "customers", "--skip-invalid")
    assert result.exit_code == 2, result.output
    assert "1 of 1 files break the customers contract; nothing was uploaded" in " ".join(
        result.stderr.split())
    assert "--skip-invalid uploads the others" not in result.stderr
    assert bucket == {}


def test_ctrl_c_drops_the_uploads_not_yet_begun():
    """Leaving a `with ThreadPoolExecutor` block would have run all 200 first."""
    import threading
    import time

    begun: list[int] = []
    lock = threading.Lock()

    def upload(number: int) -> int:
        with lock:
            begun.append(number)
        if number == 0:
            raise KeyboardInterrupt
        time.sleep(0.05)
        return number

    with pytest.raises(KeyboardInterrupt):
        parallel_map(upload, range(200))
    assert 0 in begun and len(begun) < 50


def test_same_names_in_two_folders_are_refused(tmp_path, bucket):
    for folder in ("in/a", "in/b"):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "same.csv").write_text(GOOD)
    result = run("ingest", str(tmp_path / "in"), "--source", "customers", "-f", "json")
    assert result.exit_code == 2 and "same.csv" in result.stderr
    assert json.loads(result.stdout)["refused"] == [
        {"file": str(tmp_path / folder / "same.csv"),
         "reason": "another file of this ingest has its name"} for folder in ("in/a", "in/b")]
    assert bucket == {}


def test_seed_sample_uploads_once(tmp_path, bucket):
    args = ("seed-sample", "--sales-lines", "500", "--days", "10", "-f", "json")
    first = json.loads(run(*args).stdout)
    assert first["uploaded"] == len(bucket) and first["unchanged"] == 0
    assert "_manifest/seed-42.json" in bucket
    assert sum(s["files"] for s in first["sources"].values()) + 1 == len(bucket)
    second = json.loads(run(*args).stdout)
    assert second["uploaded"] == 0 and second["unchanged"] == len(bucket)


def test_a_seed_reseeded_with_other_settings_is_refused_until_replace(tmp_path, bucket):
    args = ("seed-sample", "--sales-lines", "500", "-f", "json")
    first = json.loads(run(*args, "--days", "10").stdout)
    ten_days = set(bucket)
    assert first["removed"] == 0
    refused = run(*args, "--days", "4")
    assert refused.exit_code == 2, refused.output
    assert "seed 42 is already in s3://lake-raw with other settings" in " ".join(
        refused.stderr.split())
    assert set(bucket) == ten_days  # nothing uploaded
    replaced = run(*args, "--days", "4", "--replace")
    assert replaced.exit_code == 0, replaced.output
    manifest = json.loads(bucket["_manifest/seed-42.json"])
    assert {f["file"] for f in manifest["files"]} | {"_manifest/seed-42.json"} == set(bucket)
    assert json.loads(replaced.stdout)["removed"] == len(ten_days - set(bucket)) > 0
    again = json.loads(run(*args, "--days", "4").stdout)  # the same settings: nothing to do
    assert (again["uploaded"], again["removed"]) == (0, 0)


def test_seed_sample_to_a_folder(tmp_path):
    result = run("seed-sample", "--sales-lines", "300", "--days", "5", "--output",
                 str(tmp_path / "out"), "--inventory-format", "parquet")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out/_manifest/seed-42.json").is_file()
    assert list((tmp_path / "out/inventory").rglob("*.parquet"))


def test_seed_sample_rejects_a_bad_rate(tmp_path):
    assert run("seed-sample", "--dirty-rate", "0.9", "--output", str(tmp_path)).exit_code == 2


def test_a_different_file_under_a_name_used_today_is_refused_unless_replace(tmp_path, bucket):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "c.csv").write_text(GOOD)
    (tmp_path / "b" / "c.csv").write_text("customer_id,email\nC3,g@h.i\n")
    (tmp_path / "b" / "new.csv").write_text(GOOD)
    assert run("ingest", str(tmp_path / "a"), "--source", "customers").exit_code == 0
    first = dict(bucket)

    refused = run("ingest", str(tmp_path / "b"), "--source", "customers", "-f", "json")
    assert refused.exit_code == 2
    assert "1 of 2 files would replace a different file" in refused.stderr
    assert "customers/ingest_date=" in refused.stderr and "--replace" in refused.stderr
    document = json.loads(refused.stdout)
    assert document["exit_code"] == 2
    assert (document["source"], document["files"], document["skipped"]) == ("customers", [], [])
    [taken] = [key for key in bucket if key.endswith("/c.csv")]
    assert document["refused"] == [{
        "file": str(tmp_path / "b" / "c.csv"),
        "reason": f"would replace a different file ingested today as s3://lake-raw/{taken}"}]
    assert bucket == first  # nothing of the delivery was uploaded, new.csv neither

    (tmp_path / "b" / "bad.csv").write_text(BAD)  # refused by the contract: in the list too
    both = run("ingest", str(tmp_path / "b"), "--source", "customers", "--skip-invalid", "-f",
               "json")  # fmt: skip
    assert both.exit_code == 2, both.output
    assert [r["file"] for r in json.loads(both.stdout)["refused"]] == [
        str(tmp_path / "b" / "bad.csv"), str(tmp_path / "b" / "c.csv")]
    (tmp_path / "b" / "bad.csv").unlink()
    assert bucket == first

    same = run("ingest", str(tmp_path / "a"), "--source", "customers")
    assert same.exit_code == 0, same.output  # the same bytes again: nothing to replace

    replaced = run("ingest", str(tmp_path / "b"), "--source", "customers", "--replace")
    assert replaced.exit_code == 0, replaced.output
    assert sorted(v.decode() for v in bucket.values()) == sorted(
        [(tmp_path / "b" / "c.csv").read_text(), GOOD])


def test_refused_files_are_listed_in_json_too(tmp_path, bucket):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "good.csv").write_text(GOOD)
    (tmp_path / "in" / "bad.csv").write_text(BAD)
    (tmp_path / "in" / "notes.txt").write_text("not data")
    (tmp_path / "in" / ".hidden.csv.swp").write_text("")
    result = run("ingest", str(tmp_path / "in"), "--source", "customers", "-f", "json")
    assert result.exit_code == 2
    report = json.loads(result.stdout)
    assert report["error"].startswith("1 of 2 files break the customers contract")
    assert report["files"] == [] and report["exit_code"] == 2
    assert [r["file"] for r in report["refused"]] == [str(tmp_path / "in" / "bad.csv")]
    assert report["skipped"] == [str(tmp_path / "in" / "notes.txt")]
    assert "skipped a file the pipeline would not read" in result.stderr


def test_debug_keeps_the_exit_code_and_adds_the_traceback(tmp_path):
    result = run("--debug", "ingest", str(tmp_path / "nope.csv"), "--source", "sales")
    assert result.exit_code == 2
    assert "Traceback" in result.stderr
    assert f"{tmp_path / 'nope.csv'} does not exist" in result.stderr


def test_files_the_pipeline_would_skip_are_not_taken_and_the_visible_ones_are_named(
    tmp_path, bucket
):
    root = tmp_path / "in"
    for name in (".ipynb_checkpoints/x.csv", ".hidden.csv", "_draft.csv", "_tmp/y.csv",
                 "day=1/z.csv", "ok.csv"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(GOOD)
    found = [p.relative_to(root).as_posix() for p in ingest.find_files(root)]
    # a local folder's name does not reach raw (a file lands under its name alone)
    assert found == ["_tmp/y.csv", "day=1/z.csv", "ok.csv"]
    assert [p.relative_to(root).as_posix() for p in ingest.left_out(root)] == ["_draft.csv"]
    result = run("ingest", str(root / "_draft.csv"), "--source", "customers")
    assert result.exit_code == 2
    assert "the pipeline skips a file whose name starts with '_'; rename it first" in (
        result.output)
    (root / "[v2] q.csv").write_text(GOOD)  # no rich markup: shown as named
    shown = run("ingest", str(root / "[v2] q.csv"), "--source", "customers")
    assert shown.exit_code == 0, shown.output
    assert "[v2] q.csv" in shown.stdout


def test_upper_case_extensions_are_found_in_a_folder(tmp_path):
    (tmp_path / "B.CSV").write_text(GOOD)
    (tmp_path / "c.JsonL").write_text("{}")
    assert [p.name for p in ingest.find_files(tmp_path)] == ["B.CSV", "c.JsonL"]
    assert ingest.left_out(tmp_path) == []


def test_a_file_is_hashed_once_per_version(tmp_path, monkeypatch):
    from retailake.aws import s3

    path = tmp_path / "c.csv"
    path.write_text(GOOD)
    reads = []
    real_open = Path.open
    monkeypatch.setattr(Path, "open", lambda self, *a, **k: reads.append(self) or real_open(
        self, *a, **k))
    first = s3.file_sha256(path)
    assert s3.file_sha256(path) == first and len(reads) == 1  # the clash check, then upload
    path.write_text(GOOD + "C3,g@h.i\n")
    assert s3.file_sha256(path) == hashlib.sha256(path.read_bytes()).hexdigest() != first


@pytest.mark.parametrize(("code", "words"), [
    ("404", None),
    ("403", "checking s3://lake-raw/k.csv (needs s3:GetObject, and s3:ListBucket on the bucket)"),
    ("500", "checking s3://lake-raw/k.csv"),
])  # fmt: skip
def test_a_missing_object_is_none_and_any_other_answer_an_error_naming_it(code, words):
    import boto3
    from botocore.stub import Stubber

    from retailake.aws.s3 import remote_sha256
    from retailake.errors import AwsError

    s3 = boto3.client("s3", region_name="us-east-1", aws_access_key_id="k",
                      aws_secret_access_key="s")  # fmt: skip
    with Stubber(s3) as stub:
        stub.add_client_error("head_object", service_error_code=code, http_status_code=int(code))
        if words is None:
            assert remote_sha256(s3, "lake-raw", "k.csv") is None
            return
        with pytest.raises(AwsError, match="^" + re.escape(words)):
            remote_sha256(s3, "lake-raw", "k.csv")


def test_a_folder_without_data_files_or_a_csv_without_a_header_is_refused(tmp_path, bucket):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "notes.txt").write_text("not data")
    empty = run("ingest", str(tmp_path / "in"), "--source", "sales")
    assert empty.exit_code == 2, empty.output
    assert f"no CSV, JSON lines or Parquet files under {tmp_path / 'in'}" in empty.output
    (tmp_path / "in" / "headless.csv").write_text("\nO1,1,2025-01-01T10:00:00,S1,P1,2,9.99\n")
    headless = run("ingest", str(tmp_path / "in"), "--source", "sales")
    assert headless.exit_code == 2, headless.output
    assert "headless.csv" in headless.output and "no header line" in headless.output
    assert bucket == {}
