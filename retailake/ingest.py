"""Ingest: a user's own files into the raw bucket, each checked against the contract first.

Every file is checked before anything is uploaded, so a refused file never leaves half of
a delivery behind in the lake."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from retailake_etl.contract import skipped_name

from retailake.aws.clients import client
from retailake.aws.s3 import (
    UploadResult,
    file_sha256,
    files_under,
    remote_sha256,
    upload_if_changed,
)
from retailake.config import Environment
from retailake.contract import FORMATS, FileCheck, check_file, contract_for
from retailake.errors import DataError
from retailake.local import emulator
from retailake.outputs import load_outputs
from retailake.parallel import parallel_map

ByteCallback = Callable[[int], None]


@dataclass(frozen=True)
class IngestedFile:
    path: Path
    key: str
    rows: int
    bytes: int
    uploaded: bool  # False when the bucket already held these exact bytes


def _hidden(name: str) -> bool:
    return name.startswith(".")


def _taken(found: Path, root: Path) -> bool:
    """A data file whose name the pipeline reads (it lands in raw under its name alone, so
    only the name counts), not in a hidden folder (`.ipynb_checkpoints/` holds copies)."""
    folders = found.relative_to(root).parts[:-1]
    return (found.suffix.lower() in FORMATS and not skipped_name(found.name)
            and not any(map(_hidden, folders)))  # fmt: skip


def find_files(path: Path) -> list[Path]:
    """PATH itself, or every *.csv, *.json, *.jsonl and *.parquet below it whose name the
    pipeline reads (not `_draft.csv`), hidden folders aside."""
    if path.is_file():
        if skipped_name(path.name):
            raise DataError(f"{path}: the pipeline skips a file whose name starts with "
                            f"'{path.name[0]}'; rename it first")  # fmt: skip
        return [path]
    if not path.is_dir():
        raise DataError(f"{path} does not exist")
    found = [p for p in files_under(path, ["*"]) if _taken(p, path)]
    if not found:
        raise DataError(f"no CSV, JSON lines or Parquet files under {path}")
    return found


def left_out(path: Path) -> list[Path]:
    """The files below a folder that `find_files` does not take (hidden ones aside): named
    to the user, so that a misnamed delivery (`sales.txt`, `_draft.csv`) is not missed in
    silence."""
    if not path.is_dir():
        return []
    return [
        found for found in files_under(path, ["*"])
        if not _taken(found, path) and not any(map(_hidden, found.relative_to(path).parts))
    ]  # fmt: skip


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
    replace: bool = False,
) -> list[IngestedFile]:
    """Upload the files that passed their check to `<source>/ingest_date=<today UTC>/`.

    A file whose name an earlier ingest of the same day used for other bytes is refused
    unless `replace`: the raw layer keeps one object per name, and the earlier one would
    silently drop out of every later run."""
    today = today or dt.datetime.now(dt.UTC).date()
    good = [check for check in checks if check.ok]
    keys = [raw_key(source, check.path, today) for check in good]
    clashes = sorted({key for key in keys if keys.count(key) > 1})
    if clashes:
        raise DataError(
            "files with the same name would overwrite each other: "
            + ", ".join(key.rsplit("/", 1)[1] for key in clashes)
            + "; rename them or ingest them one folder at a time",
            refusal([(check.path, "another file of this ingest has its name")
                      for check, key in zip(good, keys, strict=True) if key in clashes]),
        )  # fmt: skip
    pairs = [(check.path, key) for check, key in zip(good, keys, strict=True)]
    bucket = load_outputs(env).buckets["raw"]
    if not replace:
        _refuse_replacing(env, bucket, pairs)
    results = upload_files(env, bucket, pairs, on_bytes)
    return [
        IngestedFile(c.path, r.key, c.rows, r.size, r.uploaded)
        for c, r in zip(good, results, strict=True)
    ]


def _refuse_replacing(env: Environment, bucket: str, files: Sequence[tuple[Path, str]]) -> None:
    """Fail, before any upload, if an object of one of these names holds other bytes."""
    s3 = client(env, "s3")

    def holds_other_bytes(path: Path, key: str) -> bool:
        found = remote_sha256(s3, bucket, key)
        return found is not None and found != file_sha256(path)

    taken = parallel_map(lambda pair: holds_other_bytes(*pair), files)
    replaced = [pair for pair, other in zip(files, taken, strict=True) if other]
    if replaced:
        objects = [f"s3://{bucket}/{key}" for _path, key in replaced]
        raise DataError(
            f"{len(replaced)} of {len(files)} files would replace a different file ingested "
            f"under the same name today: {', '.join(objects)}; nothing was uploaded. Rename "
            "them, or pass --replace to keep only the new files",
            refusal([(path, f"would replace a different file ingested today as {uri}")
                      for (path, _key), uri in zip(replaced, objects, strict=True)]),
        )  # fmt: skip


def refusal(files: Sequence[tuple[Path, str]]) -> dict[str, Any]:
    """The `refused` files of an ingest's JSON document, each with its reason: the contract's
    refusals and the names already taken alike."""
    return {"refused": [{"file": str(path), "reason": reason} for path, reason in files]}


def upload_files(
    env: Environment,
    bucket: str,
    files: Sequence[tuple[Path, str]],
    on_bytes: ByteCallback | None = None,
) -> list[UploadResult]:
    """Content-hashed uploads, several at a time (many small files are latency-bound);
    results in the order given, durable on the local twin when this returns."""
    s3 = client(env, "s3")
    try:  # on Ctrl-C, an upload under way ends whole (S3 keeps a PUT whole or not at all)
        return parallel_map(
            lambda pair: upload_if_changed(s3, bucket, pair[1], pair[0], on_bytes), files)
    finally:  # what did upload is kept, even when Ctrl-C stopped the rest
        emulator.flush(env)
