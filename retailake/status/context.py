"""What every section collector receives, and the one way they fan calls out in parallel."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from retailake.config import Environment
from retailake.outputs import Outputs

T = TypeVar("T")
R = TypeVar("R")

# The services status reads. Clients are made before any thread starts: a boto3 session is
# not safe to create clients from concurrently, a client is safe to share.
SERVICES = ("s3", "glue", "cloudwatch", "redshift")
MAX_WORKERS = 8


@dataclass(frozen=True)
class Context:
    env: Environment
    outputs: Outputs
    clients: dict[str, Any]

    def client(self, service: str) -> Any:
        return self.clients[service]


def parallel_map(function: Callable[[T], R], items: Iterable[T]) -> list[R]:
    """`function` over `items` on a few threads (the calls are network-bound), in order."""
    items = list(items)
    if len(items) <= 1:
        return [function(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(MAX_WORKERS, len(items))) as pool:
        return list(pool.map(function, items))


def iso(value: dt.datetime | str | None) -> str | None:
    """Timestamps in the report: ISO-8601 text in UTC, whatever the source gave (botocore
    gives the machine's zone, the twin's records UTC: the report sorts them as text)."""
    if value is None or isinstance(value, str):
        return value
    return value.astimezone(dt.UTC).isoformat()


def parse_time(value: str | dt.datetime) -> dt.datetime:
    return value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(value)
