"""A plan saved for review, then applied exactly as reviewed: Terraform's plan file and the
digests of the ETL scripts it was shown with, in one owner-only zip.

This is how prod changes without a person at a prompt (CI): `retailake plan --env prod --out
FILE` makes it, someone reviews what it printed, and `retailake deploy --env prod --plan-file
FILE` applies that plan and uploads those very scripts, or refuses: Terraform refuses a plan
whose state has moved on since, and this module refuses scripts that changed since."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Mapping
from pathlib import Path

from retailake.aws.s3 import file_sha256
from retailake.config import Environment
from retailake.errors import ConfigError
from retailake.jsonfile import write_bytes_atomic

_PLAN = "terraform.tfplan"
_ABOUT = "retailake.json"


def save(target: Path, plan_file: Path, env: Environment, scripts: Mapping[str, Path]) -> None:
    """Write the reviewed plan to `target`, readable by its owner only (a Terraform plan holds
    the configuration's values): whole or not at all."""
    about = {"environment": env.name, "scripts": _digests(scripts)}
    content = io.BytesIO()
    with zipfile.ZipFile(content, "w") as archive:
        archive.write(plan_file, _PLAN)
        archive.writestr(_ABOUT, json.dumps(about, indent=2))
    write_bytes_atomic(target, content.getvalue())


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
    now = _digests(scripts)
    reviewed = about.get("scripts", {})
    changed = sorted(name for name in now.keys() | reviewed.keys()
                     if now.get(name) != reviewed.get(name))  # fmt: skip
    if changed:
        raise ConfigError(f"the ETL scripts changed since {source} was planned "
                          f"({', '.join(changed)}): make and review a new plan; nothing was "
                          "applied")  # fmt: skip
    into.write_bytes(plan)  # (Terraform.reviewed made it, owner-only)


def _digests(scripts: Mapping[str, Path]) -> dict[str, str]:
    return {name: file_sha256(path) for name, path in sorted(scripts.items())}
