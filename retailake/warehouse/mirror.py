"""A local copy of a table's Parquet files in the emulator's S3, kept in step by ETag.

DuckDB 2.x cannot read s3:// without the httpfs extension, which cannot be downloaded here
and is only shipped on PyPI for an older DuckDB. So the local warehouse reads a mirror: each
sync lists the table's folder (one paginated listing), downloads only the objects whose ETag
changed in the folders the catalog names now, and deletes the local files that are not
there (gone, or in a folder the catalog no longer names). Hidden objects (a path part
starting with `_` or `.`, as Spark and Hive use for markers) are left out, as readers do."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from retailake.aws.clients import aws_error
from retailake.aws.s3 import iter_objects, split_s3_url
from retailake.jsonfile import read_json_object, write_json_atomic

_ETAGS = ".etags.json"


@dataclass(frozen=True)
class SyncResult:
    folder: Path
    files: int
    downloaded: int
    removed: int


def _visible(relative_key: str) -> bool:
    """What Spark reads of a table's folder: no `_x` or `.x` part. An empty part (`a//b`, a
    key starting with `/`) is no file name either, and would lead the copy outside `root`."""
    return not any(not part or part.startswith(("_", ".")) for part in relative_key.split("/"))


def sync(s3: Any, location: str, root: Path, within: Iterable[str] | None = None) -> SyncResult:
    """Make `root/<bucket>/<prefix>` hold exactly the visible objects under `location`, or
    only those in the folders `within` names (s3:// URLs below `location`).

    What is gone is told from the files on disk, not from the ETags noted: a sync that
    stopped part-way leaves files it had not noted yet, and one left behind after its object
    went would be read beside its replacement, its rows counted twice. The ETags of what was
    copied are saved even then (atomically), so the next sync does not copy it again."""
    bucket, prefix = split_s3_url(location)
    folder = root / bucket / prefix
    folder.mkdir(parents=True, exist_ok=True)
    etags_path = folder / _ETAGS
    copied = _noted_etags(etags_path)
    folders = None if within is None else tuple(split_s3_url(url)[1] for url in within)
    remote = {
        obj["Key"][len(prefix):]: obj["ETag"]
        for obj in iter_objects(s3, bucket, prefix)
        if _visible(obj["Key"][len(prefix):]) and not obj["Key"].endswith("/")
        and (folders is None or obj["Key"].startswith(folders))
    }
    downloaded = 0
    try:
        for relative, etag in sorted(remote.items()):
            target = folder / relative
            if copied.get(relative) == etag and target.is_file():
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(f".{target.name}.part")
            s3.download_file(bucket, prefix + relative, str(partial))
            os.replace(partial, target)
            copied[relative] = etag
            downloaded += 1
    except (ClientError, BotoCoreError) as error:
        raise aws_error(error, f"copying {location} for the local warehouse") from error
    finally:
        write_json_atomic(etags_path, {k: v for k, v in copied.items() if k in remote})
    removed = _remove_all_but(folder, set(remote))
    return SyncResult(folder, len(remote), downloaded, removed)


def _noted_etags(path: Path) -> dict[str, str]:
    """The ETags of the files copied so far; none when the file is missing or unreadable
    (everything is then copied again, which costs time, not rows)."""
    if not path.is_file():
        return {}
    try:
        return {str(k): str(v) for k, v in read_json_object(path).items()}
    except ValueError:
        return {}


def _remove_all_but(folder: Path, keep: set[str]) -> int:
    """Delete the visible files under `folder` but `keep` (relative keys), and a killed sync's
    partial downloads; hidden files (the ETags noted here or in a folder below) stay.
    Counts the visible ones removed."""
    removed = 0
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder).as_posix()
        visible = _visible(relative)
        partial = path.name.startswith(".") and path.name.endswith(".part")
        if path.is_file() and relative not in keep and (visible or partial):
            path.unlink()
            removed += visible
    return removed
