"""Environments (local / dev / prod) and where everything lives: one place, read once."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

from retailake.errors import ConfigError
from retailake.jsonfile import read_json_object

ENVIRONMENTS = ("local", "dev", "prod")
DEFAULT_LOCAL_PORT = 4599
_MIRROR_CANDIDATES = (
    Path("/opt/tf-plugins"),
    Path.home() / ".terraform.d" / "plugins",
    Path("/usr/share/terraform/plugins"),
)
_PACKAGE_DIR = Path(__file__).resolve().parent


def bundled_path(name: str) -> Path:
    """A bundled tree (terraform, etl_scripts, sql): the checkout's copy, else the wheel's."""
    for candidate in (_PACKAGE_DIR.parent / name, _PACKAGE_DIR / "_bundled" / name):
        if candidate.is_dir():
            return candidate
    raise ConfigError(f"the bundled '{name}' folder is missing from this installation")


def detect_plugin_mirror() -> Path | None:
    """The Terraform provider mirror: RETAILAKE_TF_PLUGIN_MIRROR, else a known folder that holds
    the AWS provider, else None (Terraform then uses the public registry)."""
    configured = os.environ.get("RETAILAKE_TF_PLUGIN_MIRROR")
    if configured:
        if not Path(configured).is_dir():  # Terraform's own words would not name the variable
            raise ConfigError(f"RETAILAKE_TF_PLUGIN_MIRROR is {configured}, which is no folder: "
                              "point it at a provider mirror, or set it empty to use the "
                              "registry")  # fmt: skip
        return Path(configured)
    if configured is not None:
        return None
    for candidate in _MIRROR_CANDIDATES:
        if (candidate / "registry.terraform.io" / "hashicorp" / "aws").is_dir():
            return candidate
    return None


@dataclass(frozen=True)
class Environment:
    """One deployment target: what the CLI needs to know before Terraform has said anything."""

    name: str
    home: Path
    region: str
    local_port: int

    @property
    def is_local(self) -> bool:
        return self.name == "local"

    @property
    def needs_approval(self) -> bool:
        """Only the local twin applies without a plan shown and approved."""
        return not self.is_local

    @property
    def state_dir(self) -> Path:
        """Per-environment working data: Terraform data dir, local state, caches."""
        return self.home / self.name

    @property
    def endpoint_url(self) -> str | None:
        """The emulator's URL for the local twin; None means real AWS."""
        return f"http://127.0.0.1:{self.local_port}" if self.is_local else None

    @property
    def terraform_dir(self) -> Path:
        return bundled_path("terraform") / "environments" / self.name

    @property
    def outputs_file(self) -> Path:
        """The Terraform outputs the last deploy saved (see `retailake.outputs`)."""
        return self.state_dir / "outputs.json"


def _deployed_region(outputs_file: Path) -> str | None:
    """The region the last deploy went to: Terraform's (its tfvars or a --var-file), which
    neither AWS_REGION nor a profile's region changes."""
    try:
        region = read_json_object(outputs_file).get("region")
    except ValueError:
        return None
    return region if isinstance(region, str) and region else None


def load_environment(name: str | None = None) -> Environment:
    """Resolve --env (or RETAILAKE_ENV, default local) into an Environment."""
    name = name or os.environ.get("RETAILAKE_ENV") or "local"
    if name not in ENVIRONMENTS:
        raise ConfigError(f"unknown environment '{name}': choose one of {', '.join(ENVIRONMENTS)}")
    port_text = os.environ.get("RETAILAKE_LOCAL_PORT", str(DEFAULT_LOCAL_PORT))
    try:
        port = int(port_text)
    except ValueError:
        raise ConfigError(
            f"RETAILAKE_LOCAL_PORT must be a port number, not '{port_text}'"
        ) from None
    if not 1 <= port <= 65535:
        raise ConfigError(f"RETAILAKE_LOCAL_PORT must be between 1 and 65535, not {port}")
    home = Path(os.environ.get("RETAILAKE_HOME", ".retailake")).resolve()
    env = Environment(name=name, home=home, region="us-east-1", local_port=port)
    if env.is_local:
        return env
    # AWS calls go where the lake is; before a first deploy, where the shell says (the
    # bundled tfvars deploy to us-east-1)
    region = (_deployed_region(env.outputs_file) or os.environ.get("AWS_REGION")
              or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1")
    return replace(env, region=region)
