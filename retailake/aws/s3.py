"""S3 uploads shared by script deployment, seeding and ingest: multipart, content-hashed."""

from __future__ import annotations

import fnmatch
import functools
import hashlib
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from boto3.s3.transfer import TransferConfig
from botocore.exceptions import BotoCoreError, ClientError

from retailake.aws.clients import aws_error, error_code

HASH_METADATA_KEY = "sha256"
_TRANSFER = TransferConfig(
    multipart_threshold=16 * 1024 * 1024, multipart_chunksize=16 * 1024 * 1024
)


@dataclass(frozen=True)
class UploadResult:
    key: str
    size: int
    uploaded: bool  # False when the object already held these exact bytes


def file_sha256(path: Path) -> str:
    """The file's SHA-256, read once per version of the file in a process: ingest checks every
    file for a name clash before uploading it, and both steps compare this hash."""
    stat = path.stat()
    return _sha256(path.resolve(), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=4096)
def _sha256(path: Path, _mtime_ns: int, _size: int) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def no_such_object(error: ClientError) -> bool:
    """S3's answer for a key that is not there: 404 to a HEAD, NoSuchKey to a GET."""
    return error_code(error) in ("404", "NoSuchKey", "NotFound")


def remote_sha256(s3: Any, bucket: str, key: str) -> str | None:
    """The content hash an object was uploaded with; None when there is no such object, and
    "" for one uploaded without it (by another tool)."""
    try:
        head = s3.head_object(Bucket=bucket, Key=key)
    except ClientError as error:
        if no_such_object(error):
            return None
        doing = f"checking s3://{bucket}/{key}"
        if error_code(error) in ("403", "AccessDenied"):
            # S3's answer for a missing key without ListBucket
            doing += " (needs s3:GetObject, and s3:ListBucket on the bucket)"
        raise aws_error(error, doing) from error
    except BotoCoreError as error:
        raise aws_error(error, f"checking s3://{bucket}/{key}") from error
    return head.get("Metadata", {}).get(HASH_METADATA_KEY, "")


def upload_if_changed(
    s3: Any,
    bucket: str,
    key: str,
    path: Path,
    on_bytes: Callable[[int], None] | None = None,
) -> UploadResult:
    """Upload `path` unless the object already carries the same content hash.

    The hash travels as object metadata, so a rerun (or a second seed with the same seed)
    uploads nothing and duplicates nothing."""
    digest = file_sha256(path)
    size = path.stat().st_size
    try:
        if remote_sha256(s3, bucket, key) == digest:
            if on_bytes:
                on_bytes(size)
            return UploadResult(key, size, uploaded=False)
        s3.upload_file(
            str(path),
            bucket,
            key,
            ExtraArgs={"Metadata": {HASH_METADATA_KEY: digest}},
            Callback=on_bytes,
            Config=_TRANSFER,
        )
    except (ClientError, BotoCoreError) as error:
        raise aws_error(error, f"uploading {path} to s3://{bucket}/{key}") from error
    return UploadResult(key, size, uploaded=True)


def split_s3_url(url: str) -> tuple[str, str]:
    """s3://bucket/a/b/ (or s3a://) -> ("bucket", "a/b/"); a non-empty prefix always ends
    with '/'."""
    if not url.startswith(("s3://", "s3a://")):
        raise ValueError(f"not an S3 URL: {url}")
    bucket, _, prefix = url.split("://", 1)[1].partition("/")
    return bucket, (prefix.rstrip("/") + "/") if prefix.strip("/") else ""


def iter_objects(s3: Any, bucket: str, prefix: str = "") -> Iterator[dict[str, Any]]:
    """Every object under a prefix, across pages."""
    paginator = s3.get_paginator("list_objects_v2")
    try:
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
            yield from page.get("Contents", [])
    except (ClientError, BotoCoreError) as error:
        raise aws_error(error, f"listing s3://{bucket}/{prefix}") from error


def files_under(root: Path, patterns: Iterable[str]) -> list[Path]:
    """Files below `root` whose name matches any glob pattern, in a stable order. Linked
    folders are followed (Python's rglob skipped them, and their files, in silence), each
    real folder once, so a link back up is no loop."""
    patterns = list(patterns)
    found: set[Path] = set()
    seen: set[str] = set()
    for folder, subfolders, names in os.walk(root, followlinks=True):
        real = os.path.realpath(folder)
        if real in seen:
            subfolders.clear()
            continue
        seen.add(real)
        found.update(Path(folder, name) for name in names
                     if any(fnmatch.fnmatch(name, p) for p in patterns))  # fmt: skip
    return sorted(path for path in found if path.is_file())
