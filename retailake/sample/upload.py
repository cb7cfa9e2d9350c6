"""A generated sample into the raw bucket: data files first, the manifest last, so a
manifest in the bucket always describes files that are all there.

A seed already in the bucket with other settings (more days, another start) would leave the
earlier sample's objects outside the new one beside it: the pipeline would read both, their
order ids overlapping, and the manifest would describe only one. That is refused unless
`replace`, which removes those objects after the new files are in and before the new
manifest, so an interrupted run is finished by running it again (the earlier manifest still
names what is left to remove)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from retailake.aws.clients import aws_error, client
from retailake.aws.s3 import iter_objects, no_such_object
from retailake.config import Environment
from retailake.contract import SOURCES
from retailake.errors import AwsError, DataError
from retailake.ingest import ByteCallback, upload_files
from retailake.sample.build import Sample, manifest_key

_DELETE_BATCH = 1000  # DeleteObjects' limit


@dataclass(frozen=True)
class UploadCounts:
    uploaded: int
    unchanged: int
    removed: int = 0  # objects of an earlier sample of the same seed, with --replace


def upload_sample(
    env: Environment,
    bucket: str,
    sample: Sample,
    seed: int,
    on_bytes: ByteCallback | None = None,
    replace: bool = False,
) -> UploadCounts:
    s3 = client(env, "s3")
    stale = left_behind(s3, bucket, sample, seed)
    if stale and not replace:
        raise DataError(
            f"seed {seed} is already in s3://{bucket} with other settings: {len(stale)} of its "
            f"objects ({stale[0]}{', ...' if len(stale) > 1 else ''}) are not part of this "
            "sample and would stay beside it, and the pipeline would read both samples. Seed "
            "with another --seed, or pass --replace to remove those objects; nothing was "
            "uploaded"
        )
    results = upload_files(env, bucket, [(f.path, f.key) for f in sample.files], on_bytes)
    _remove(s3, bucket, stale)
    results += upload_files(env, bucket, [(sample.manifest, manifest_key(seed))], on_bytes)
    uploaded = sum(result.uploaded for result in results)
    return UploadCounts(uploaded=uploaded, unchanged=len(results) - uploaded,
                        removed=len(stale))  # fmt: skip


def left_behind(s3: Any, bucket: str, sample: Sample, seed: int) -> list[str]:
    """The objects the bucket's manifest for `seed` lists that this sample does not write and
    that are still there (none when the bucket has no such manifest)."""
    key = manifest_key(seed)
    try:
        earlier = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    except ClientError as error:
        if no_such_object(error):
            return []
        raise aws_error(error, f"reading s3://{bucket}/{key}") from error
    except BotoCoreError as error:
        raise aws_error(error, f"reading s3://{bucket}/{key}") from error
    writes = {f.key for f in sample.files}
    listed = {entry["file"] for entry in earlier.get("files", [])} - writes
    if not listed:
        return []
    there = {o["Key"] for source in SOURCES for o in iter_objects(s3, bucket, f"{source}/")}
    return sorted(listed & there)


def _remove(s3: Any, bucket: str, keys: list[str]) -> None:
    for start in range(0, len(keys), _DELETE_BATCH):
        batch = keys[start : start + _DELETE_BATCH]
        try:
            answer = s3.delete_objects(
                Bucket=bucket, Delete={"Objects": [{"Key": k} for k in batch], "Quiet": True})
        except (ClientError, BotoCoreError) as error:
            raise aws_error(error, f"removing an earlier sample from s3://{bucket}") from error
        if answer.get("Errors"):
            first = answer["Errors"][0]
            raise AwsError(f"removing s3://{bucket}/{first['Key']}: {first['Code']} "
                            f"({len(answer['Errors'])} objects not removed)")  # fmt: skip
