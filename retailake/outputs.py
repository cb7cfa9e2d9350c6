"""The deployment's Terraform outputs, as the rest of the CLI reads them.

`deploy` saves them beside the environment's state after every apply, so commands that
only need names (seed, ingest, status) do not pay for a Terraform run."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from retailake.config import Environment
from retailake.errors import ConfigError
from retailake.jsonfile import read_json_object, write_json_atomic


@dataclass(frozen=True)
class Outputs:
    """Names and ARNs of a deployed lake (never secret values)."""

    values: dict[str, Any]
    origin: Environment | None = None  # whose saved outputs, for the error a missing one gives

    def __getitem__(self, name: str) -> Any:
        try:
            return self.values[name]
        except KeyError:
            if self.origin is None:
                raise
            raise ConfigError(
                f"the outputs at {self.origin.outputs_file} lack '{name}' (saved by an older "
                f"retailake, or edited): {_deploy_again(self.origin)}"
            ) from None

    @property
    def buckets(self) -> dict[str, str]:
        return self["buckets"]

    @property
    def region(self) -> str:
        return self["region"]


def save_outputs(env: Environment, values: dict[str, Any]) -> None:
    """Written whole or not at all: a deploy killed while saving leaves the previous outputs."""
    write_json_atomic(env.outputs_file, values)


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
    try:
        return Outputs(read_json_object(path), env)
    except ValueError as error:
        raise _unreadable(env, str(error)) from None


def _unreadable(env: Environment, reason: str) -> ConfigError:
    return ConfigError(
        f"the outputs the last deploy saved at {env.outputs_file} cannot be read ({reason}): "
        f"{_deploy_again(env)}"
    )


def _deploy_again(env: Environment) -> str:
    return f"run `retailake deploy --env {env.name}` again to save them afresh"
