"""The deployment's Terraform outputs, as the rest of the CLI reads them.

`deploy` saves them beside the environment's state after every apply, so commands that
only need names (seed, ingest, status) do not pay for a Terraform run."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from retailake.config import Environment
from retailake.errors import ConfigError


@dataclass(frozen=True)
class Outputs:
    """Names and ARNs of a deployed lake (never secret values)."""

    values: dict[str, Any]

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    @property
    def buckets(self) -> dict[str, str]:
        return self.values["buckets"]

    @property
    def region(self) -> str:
        return self.values["region"]


def save_outputs(env: Environment, values: dict[str, Any]) -> None:
    env.state_dir.mkdir(parents=True, exist_ok=True)
    env.outputs_file.write_text(json.dumps(values, indent=2, sort_keys=True))


def forget_outputs(env: Environment) -> None:
    env.outputs_file.unlink(missing_ok=True)


def load_outputs(env: Environment) -> Outputs:
    """The outputs saved by the last deploy; a clear error when there was none."""
    path = env.outputs_file
    if not path.is_file():
        raise ConfigError(
            f"environment '{env.name}' is not deployed (no outputs at {path}): "
            f"run `retailake deploy --env {env.name}` first"
        )
    return Outputs(json.loads(path.read_text()))
