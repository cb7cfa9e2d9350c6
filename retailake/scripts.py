"""Ship the Glue ETL scripts to the scripts bucket, uploading only what changed.

Top-level `*.py` files are the jobs' entry points; each package folder beside them is zipped
(deterministically, so an unchanged package hashes the same) for `--extra-py-files`."""

from __future__ import annotations

import tempfile
import zipfile
from pathlib import Path

from retailake.aws.clients import client
from retailake.aws.s3 import UploadResult, upload_if_changed
from retailake.config import Environment
from retailake.outputs import Outputs

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


def script_artifacts(scripts_dir: Path, workdir: Path) -> dict[str, Path]:
    """Object name -> local file for everything the Glue jobs load."""
    artifacts = {path.name: path for path in sorted(scripts_dir.glob("*.py"))}
    for package in sorted(scripts_dir.iterdir()):
        if package.is_dir() and (package / "__init__.py").is_file():
            artifacts[f"{package.name}.zip"] = zip_package(package, workdir / f"{package.name}.zip")
    return artifacts


def upload_etl_scripts(env: Environment, outputs: Outputs, scripts_dir: Path) -> list[UploadResult]:
    """Upload the job scripts under the scripts bucket's prefix; unchanged ones are skipped."""
    s3 = client(env, "s3")
    bucket, prefix = outputs.buckets["scripts"], outputs["scripts_prefix"]
    with tempfile.TemporaryDirectory(prefix="retailake-scripts-") as workdir:
        artifacts = script_artifacts(scripts_dir, Path(workdir))
        return [
            upload_if_changed(s3, bucket, f"{prefix}{name}", path)
            for name, path in artifacts.items()
        ]
