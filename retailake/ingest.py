"""Ingest: a user's own files into the raw bucket, each checked against the contract first.

Every file is checked before anything is uploaded, so a refused file never leaves half of
a delivery behind in the lake."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from retailake.aws.clients import client
from retailake.aws.s3 import UploadResult, files_under, upload_if_changed
from retailake.config import Environment
from retailake.contract import FORMATS, FileCheck, check_file, contract_for
from retailake.errors import DataError
from retailake.local import emulator
from retailake.outputs import load_outputs

UPLOAD_WORKERS = 8
ByteCallback = Callable[[int], None]


@dataclass(frozen=True)
class IngestedFile:
    path: Path
    key: str
    rows: int
    bytes: int
    uploaded: bool  # False when the bucket already held these exact bytes


def find_files(path: Path) -> list[Path]:
    """PATH itself, or every *.csv, *.json, *.jsonl and *.parquet below it."""
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise DataError(f"{path} does not exist")
    found = files_under(path, [f"*{suffix}" for suffix in FORMATS])
    if not found:
        raise DataError(f"no CSV, JSON lines or Parquet files under {path}")
    return found


def check_files(paths: Sequence[Path], source: str) -> list[FileCheck]:
    """The contract check of every file, in order; nothing is uploaded here."""
    try:
        contract_for(source)
    except ValueError as error:
        raise DataError(str(error)) from None
    return [check_file(path, source) for path in paths]


def raw_key(source: str, path: Path, today: dt.date) -> str:
    return f"{source}/ingest_date={today.isoformat()}/{path.name}"


def ingest(
    env: Environment,
    checks: Sequence[FileCheck],
    source: str,
    today: dt.date | None = None,
    on_bytes: ByteCallback | None = None,
) -> list[IngestedFile]:
    """Upload the files that passed their check to `<source>/ingest_date=<today UTC>/`."""
    today = today or dt.datetime.now(dt.UTC).date()
    good = [check for check in checks if check.ok]
    keys = [raw_key(source, check.path, today) for check in good]
    clashes = sorted({key for key in keys if keys.count(key) > 1})
    if clashes:
        raise DataError(
            "files with the same name would overwrite each other: "
            + ", ".join(key.rsplit("/", 1)[1] for key in clashes)
            + "; rename them or ingest them one folder at a time"
        )
    pairs = [(check.path, key) for check, key in zip(good, keys, strict=True)]
    results = upload_files(env, load_outputs(env).buckets["raw"], pairs, on_bytes)
    return [
        IngestedFile(c.path, r.key, c.rows, r.size, r.uploaded)
        for c, r in zip(good, results, strict=True)
    ]


def upload_files(
    env: Environment,
    bucket: str,
    files: Sequence[tuple[Path, str]],
    on_bytes: ByteCallback | None = None,
) -> list[UploadResult]:
    """Content-hashed uploads, several at a time (many small files are latency-bound);
    results in the order given, durable on the local twin when this returns."""
    s3 = client(env, "s3")
    with ThreadPoolExecutor(max_workers=UPLOAD_WORKERS) as pool:
        futures = [
            pool.submit(upload_if_changed, s3, bucket, key, path, on_bytes) for path, key in files
        ]
        results = [future.result() for future in futures]
    emulator.flush(env)
    return results
