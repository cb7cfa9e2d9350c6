"""A local copy of a table's Parquet files in the emulator's S3, kept in step by ETag.

DuckDB 2.x cannot read s3:// without the httpfs extension, which cannot be downloaded here
and is only shipped on PyPI for an older DuckDB. So the local warehouse reads a mirror: each
sync lists the table's location (one paginated listing), downloads only the objects whose
ETag changed and deletes the local files whose objects are gone. Hidden objects (a path part
starting with `_` or `.`, as Spark and Hive use for markers) are left out, as readers do."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from retailake.aws.clients import aws_error
from retailake.aws.s3 import iter_objects

_ETAGS = ".etags.json"


@dataclass(frozen=True)
class SyncResult:
    folder: Path
    files: int
    downloaded: int
    removed: int


def split_s3_url(url: str) -> tuple[str, str]:
    """(bucket, prefix ending in '/') of an s3:// location."""
    if not url.startswith("s3://"):
        raise ValueError(f"not an s3:// location: {url}")
    bucket, _, prefix = url[len("s3://"):].partition("/")
    return bucket, prefix.rstrip("/") + "/" if prefix else ""


def _visible(relative_key: str) -> bool:
    """What Spark reads of a table's folder: no `_x` or `.x` part. An empty part (`a//b`, a
    key starting with `/`) is no file name either, and would lead the copy outside `root`."""
    return not any(not part or part.startswith(("_", ".")) for part in relative_key.split("/"))


def sync(s3: Any, location: str, root: Path) -> SyncResult:
    """Make `root/<bucket>/<prefix>` hold exactly the visible objects under `location`."""
    bucket, prefix = split_s3_url(location)
    folder = root / bucket / prefix
    folder.mkdir(parents=True, exist_ok=True)
    etags_path = folder / _ETAGS
    known: dict[str, str] = json.loads(etags_path.read_text()) if etags_path.is_file() else {}
    remote = {
        obj["Key"][len(prefix):]: obj["ETag"]
        for obj in iter_objects(s3, bucket, prefix)
        if _visible(obj["Key"][len(prefix):]) and not obj["Key"].endswith("/")
    }
    downloaded = 0
    try:
        for relative, etag in sorted(remote.items()):
            target = folder / relative
            if known.get(relative) == etag and target.is_file():
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(f".{target.name}.part")
            s3.download_file(bucket, prefix + relative, str(partial))
            os.replace(partial, target)
            downloaded += 1
    except (ClientError, BotoCoreError) as error:
        raise aws_error(error, f"copying {location} for the local warehouse") from error
    removed = 0
    for relative in set(known) - set(remote):
        (folder / relative).unlink(missing_ok=True)
        removed += 1
    etags_path.write_text(json.dumps(remote, sort_keys=True))
    return SyncResult(folder, len(remote), downloaded, removed)
