"""The one boto3 client factory: retries, timeouts, and the emulator endpoint for local."""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError

from retailake.config import Environment
from retailake.errors import AwsError
from retailake.local.root_keys import RootKeys


@cache
def _session(region: str, twin_keys: RootKeys | None) -> boto3.session.Session:
    """The twin's root keys for the local twin (never real ones); else the AWS SDK's chain."""
    if twin_keys is not None:
        return boto3.session.Session(region_name=region, aws_access_key_id=twin_keys.access_key,
                                     aws_secret_access_key=twin_keys.secret_key)
    return boto3.session.Session(region_name=region)


@cache
def _emulator_running(env: Environment) -> bool:
    """Start the local twin's emulator if it is down (once per process and environment), so
    every command that talks to the twin works after a `local down` or a reboot."""
    from retailake.local import emulator

    return emulator.start(env).running


def client(env: Environment, service: str) -> Any:
    """A boto3 client for `service` in `env`, pointed at the emulator for the local twin."""
    keys = None
    if env.is_local:
        from retailake.local import emulator

        _emulator_running(env)
        keys = emulator.twin_keys(env)
    config = Config(
        retries={"mode": "standard", "max_attempts": 2 if env.is_local else 5},
        connect_timeout=5,
        read_timeout=60,
        s3={"addressing_style": "path"} if env.is_local else None,
    )
    return _session(env.region, keys).client(
        service, endpoint_url=env.endpoint_url, config=config
    )


def error_code(error: ClientError) -> str:
    """The AWS error code of a refused call ("" when the answer names none)."""
    return str(error.response.get("Error", {}).get("Code", ""))


def describe_error(error: Exception) -> str:
    """A one-line account of a botocore failure."""
    if isinstance(error, ClientError):
        info = error.response.get("Error", {})
        operation = error.operation_name
        return f"{operation} failed: {info.get('Code', 'Error')}: {info.get('Message', '')}".strip()
    if isinstance(error, EndpointConnectionError) and "//127.0.0.1:" in str(error):
        return (f"{error}: the local twin's emulator is not answering; run `retailake local "
                "up`, then the command again")
    return str(error)


def aws_error(error: ClientError | BotoCoreError, doing: str) -> AwsError:
    """Turn a botocore exception into the AwsError a user sees."""
    return AwsError(f"{doing}: {describe_error(error)}")
