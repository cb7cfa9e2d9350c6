"""A plan saved for review, then applied exactly as reviewed: Terraform's plan file and the
digests of the ETL scripts it was shown with, in one owner-only zip.

This is how prod changes without a person at a prompt (CI): `retailake plan --env prod --out
FILE` makes it, someone reviews what it printed, and `retailake deploy --env prod --plan-file
FILE` applies that plan and uploads those very scripts, or refuses: Terraform refuses a plan
whose state has moved on since, and this module refuses scripts that changed since."""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from collections.abc import Mapping
from pathlib import Path

from retailake.aws.s3 import file_sha256
from retailake.config import Environment
from retailake.errors import ConfigError

_PLAN = "terraform.tfplan"
_ABOUT = "retailake.json"


def save(target: Path, plan_file: Path, env: Environment, scripts: Mapping[str, Path]) -> None:
    """Write the reviewed plan to `target`, readable by its owner only (a Terraform plan holds
    the configuration's values): whole or not at all."""
    about = {"environment": env.name,
             "scripts": {name: file_sha256(path) for name, path in sorted(scripts.items())}}
    # a new file of its own (0600, never one already there nor a link's target), renamed
    descriptor, partial = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(descriptor, "wb") as handle, zipfile.ZipFile(handle, "w") as archive:
            archive.write(plan_file, _PLAN)
            archive.writestr(_ABOUT, json.dumps(about, indent=2))
        os.replace(partial, target)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise


def open_reviewed(source: Path, env: Environment, scripts: Mapping[str, Path],
                  into: Path) -> None:
    """Check that `source` is a plan saved for `env` with these very scripts, and write its
    Terraform plan to `into` (owner-only), ready to apply."""
    try:
        with zipfile.ZipFile(source) as archive:
            about = json.loads(archive.read(_ABOUT))
            plan = archive.read(_PLAN)
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as error:
        raise ConfigError(f"{source} is not a plan saved by `retailake plan --out` "
                          f"({error})") from None  # fmt: skip
    if about.get("environment") != env.name:
        raise ConfigError(f"{source} was planned for '{about.get('environment')}', not "
                          f"'{env.name}': nothing was applied")  # fmt: skip
    now = {name: file_sha256(path) for name, path in scripts.items()}
    reviewed = about.get("scripts", {})
    changed = sorted(name for name in now.keys() | reviewed.keys()
                     if now.get(name) != reviewed.get(name))  # fmt: skip
    if changed:
        raise ConfigError(f"the ETL scripts changed since {source} was planned "
                          f"({', '.join(changed)}): make and review a new plan; nothing was "
                          "applied")  # fmt: skip
    into.write_bytes(plan)  # (Terraform.reviewed made it, owner-only)


def digest(path: Path) -> str:
    """What a reviewer compares: the saved file's SHA-256, printed when it is made and when
    it is applied."""
    return file_sha256(path)
