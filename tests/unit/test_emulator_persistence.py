"""Snapshots: IDs and object bytes survive a dump and restore; bodies are blobs, written once."""

from __future__ import annotations

import hashlib
import os
import pickle
from pathlib import Path
from typing import Any

import pytest
from moto.core.base_backend import BackendDict
from moto.kms.models import kms_backends
from moto.s3.models import s3_backends

from retailake.local import persistence

ACCOUNT = "555566667777"


def _forget(account: str) -> None:
    for backend_dict in list(BackendDict._instances):  # type: ignore[misc]  # moto's registry
        dict.pop(backend_dict, account, None)


def test_snapshot_restores_ids_and_bytes(tmp_path: Path):
    store = persistence.SnapshotStore(tmp_path)
    key = kms_backends[ACCOUNT]["us-east-1"].create_key(
        None, "ENCRYPT_DECRYPT", "RSA_2048", "rsa key", None)
    s3 = s3_backends[ACCOUNT]["aws"]
    s3.create_bucket("snap-bucket", "us-east-1")
    data = os.urandom(50_000)
    s3.put_object("snap-bucket", "raw/x.bin", data)
    assert store.save() > 0
    blobs = list((tmp_path / "blobs").iterdir())
    assert len(blobs) == 1 and blobs[0].read_bytes() == data
    assert data not in (tmp_path / "snapshot.pickle").read_bytes()

    _forget(ACCOUNT)
    assert persistence.SnapshotStore(tmp_path).restore() > 0
    restored = kms_backends[ACCOUNT]["us-east-1"].keys[key.id]
    assert restored.id == key.id and restored.private_key is not None
    body = s3_backends[ACCOUNT]["aws"].get_object("snap-bucket", "raw/x.bin")
    assert body is not None and body.value == data


def test_restore_reads_a_body_only_when_it_is_used(tmp_path: Path):
    store = persistence.SnapshotStore(tmp_path)
    s3 = s3_backends[ACCOUNT]["aws"]
    s3.create_bucket("lazy-bucket", "us-east-1")
    data = os.urandom(70_000)
    s3.put_object("lazy-bucket", "kept.bin", data)
    s3.put_object("lazy-bucket", "deleted.bin", b"never read again")
    store.save()
    digests = [hashlib.sha256(body).hexdigest() for body in (data, b"never read again")]
    assert all((tmp_path / "blobs" / digest).exists() for digest in digests)

    _forget(ACCOUNT)
    restored_store = persistence.SnapshotStore(tmp_path)
    restored_store.restore()
    s3 = s3_backends[ACCOUNT]["aws"]
    kept = s3.get_object("lazy-bucket", "kept.bin")
    deleted = s3.get_object("lazy-bucket", "deleted.bin")
    assert kept is not None and deleted is not None
    unread: list[Any] = [k._value_buffer for k in (kept, deleted)]
    assert all(isinstance(b, persistence._BlobBuffer) and b._buffer is None for b in unread)
    assert kept.size == len(data)  # from the snapshot, not the body

    s3.delete_object("lazy-bucket", "deleted.bin")
    assert unread[1]._buffer is None  # disposed of without reading it
    assert kept.etag == f'"{hashlib.md5(data).hexdigest()}"'
    assert kept.value == data and unread[0]._buffer is not None
    restored_store.save()  # a restored body is referenced, never rewritten
    assert [(tmp_path / "blobs" / digest).exists() for digest in digests] == [True, False]


def test_overwritten_bodies_are_collected(tmp_path: Path):
    store = persistence.SnapshotStore(tmp_path)
    s3 = s3_backends[ACCOUNT]["aws"]
    s3.create_bucket("gc-bucket", "us-east-1")
    s3.put_object("gc-bucket", "k", b"first")
    store.save()
    s3.put_object("gc-bucket", "k", b"second")
    store.save()
    bodies = {p.read_bytes() for p in (tmp_path / "blobs").iterdir()}
    assert b"second" in bodies and b"first" not in bodies


def test_aws_managed_policy_documents_are_not_stored():
    from moto.iam.models import PolicyVersion

    name, document = next(iter(persistence._aws_policy_documents().items()))
    version = PolicyVersion(f"arn:aws:iam::aws:policy/{name}", document)
    data = persistence.dumps(version)
    assert len(data) < len(document) or len(document) < 200
    assert pickle.loads(data).document == document


@pytest.mark.parametrize(
    "arn", ["arn:aws:iam::123456789012:policy/team-reader", "arn:aws:iam::aws:policy/changed"]
)
def test_other_policy_versions_are_stored_whole(arn: str):
    """A customer-managed policy, or an AWS-managed one whose document is not moto's: the
    version is pickled as it is, document included."""
    from moto.iam.models import PolicyVersion

    document = '{"Version": "2012-10-17", "Statement": []}'
    restored = pickle.loads(persistence.dumps(PolicyVersion(arn, document, True, "v2")))
    assert (restored.policy_arn, restored.document, restored.version_id) == (arn, document, "v2")
