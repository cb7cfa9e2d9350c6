"""Ship the Glue ETL scripts to the scripts bucket, uploading only what changed.

Top-level `*.py` files are the jobs' entry points; each package folder beside them is zipped
(deterministically, so an unchanged package hashes the same) for `--extra-py-files`. The
scripts are code the lake runs, so deploy counts the ones to upload as changes: shown with
the plan, approved with it (outside local), and uploaded from the very files approved."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

from retailake.aws.clients import client
from retailake.aws.s3 import UploadResult, file_sha256, remote_sha256, upload_if_changed
from retailake.config import Environment
from retailake.errors import ConfigError
from retailake.outputs import Outputs, load_outputs

Artifacts = dict[str, Path]  # object name below the scripts prefix -> local file

_FIXED_TIME = (2020, 1, 1, 0, 0, 0)


def zip_package(package: Path, target: Path) -> Path:
    """A zip of `package` whose bytes depend only on the files' names and contents."""
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(package.rglob("*.py")):
            info = zipfile.ZipInfo(str(path.relative_to(package.parent)), _FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, path.read_bytes())
    return target


@contextlib.contextmanager
def built_scripts(scripts_dir: Path) -> Iterator[Artifacts]:
    """Everything the Glue jobs load, copied (packages zipped) into a folder that lives as long
    as the block: what is compared, shown and uploaded is one set of files, whatever happens
    to the sources meanwhile (an apply can take many minutes)."""
    with tempfile.TemporaryDirectory(prefix="retailake-scripts-") as workdir:
        artifacts = {path.name: Path(shutil.copy(path, workdir))
                     for path in sorted(scripts_dir.glob("*.py"))}  # fmt: skip
        for package in sorted(scripts_dir.iterdir()):
            if package.is_dir() and (package / "__init__.py").is_file():
                zipped = zip_package(package, Path(workdir) / f"{package.name}.zip")
                artifacts[zipped.name] = zipped
        yield artifacts


def scripts_to_upload(env: Environment, artifacts: Artifacts) -> tuple[str, ...]:
    """The artifacts the deployed scripts bucket does not hold byte for byte (every one
    before the first deploy)."""
    try:
        outputs = load_outputs(env)
    except ConfigError:
        return tuple(artifacts)
    s3 = client(env, "s3")
    bucket, prefix = outputs.buckets["scripts"], outputs["scripts_prefix"]
    # (remote_sha256 names the object in any error of its own)
    return tuple(name for name, path in artifacts.items()
                 if remote_sha256(s3, bucket, f"{prefix}{name}") != file_sha256(path))


def upload_scripts(env: Environment, outputs: Outputs, artifacts: Artifacts) -> list[UploadResult]:
    """Upload the artifacts under the scripts bucket's prefix; unchanged ones are skipped."""
    s3 = client(env, "s3")
    bucket, prefix = outputs.buckets["scripts"], outputs["scripts_prefix"]
    return [upload_if_changed(s3, bucket, f"{prefix}{name}", path)
            for name, path in artifacts.items()]
