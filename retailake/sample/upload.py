"""A generated sample into the raw bucket: data files first, the manifest last, so a
manifest in the bucket always describes files that are all there."""

from __future__ import annotations

from dataclasses import dataclass

from retailake.config import Environment
from retailake.ingest import ByteCallback, upload_files
from retailake.sample.build import Sample, manifest_key


@dataclass(frozen=True)
class UploadCounts:
    uploaded: int
    unchanged: int


def upload_sample(
    env: Environment, bucket: str, sample: Sample, seed: int, on_bytes: ByteCallback | None = None
) -> UploadCounts:
    results = upload_files(env, bucket, [(f.path, f.key) for f in sample.files], on_bytes)
    results += upload_files(env, bucket, [(sample.manifest, manifest_key(seed))], on_bytes)
    uploaded = sum(result.uploaded for result in results)
    return UploadCounts(uploaded=uploaded, unchanged=len(results) - uploaded)
