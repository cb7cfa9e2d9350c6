"""What every section collector receives (they fan calls out with retailake.parallel)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from retailake.config import Environment
from retailake.outputs import Outputs

# The services status reads. Clients are made before any thread starts: a boto3 session is
# not safe to create clients from concurrently, a client is safe to share.
SERVICES = ("s3", "glue", "cloudwatch", "redshift")


@dataclass(frozen=True)
class Context:
    env: Environment
    outputs: Outputs
    clients: dict[str, Any]

    def client(self, service: str) -> Any:
        return self.clients[service]


def iso(value: dt.datetime | str | None) -> str | None:
    """Timestamps in the report: ISO-8601 text in UTC, whatever the source gave (botocore
    gives the machine's zone, the twin's records UTC: the report sorts them as text)."""
    if value is None or isinstance(value, str):
        return value
    return value.astimezone(dt.UTC).isoformat()


def parse_time(value: str | dt.datetime) -> dt.datetime:
    return value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(value)
