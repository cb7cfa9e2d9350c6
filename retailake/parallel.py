"""Network-bound calls fanned out on a few threads: status's reads, ingest's checks and
uploads."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

MAX_WORKERS = 8


def parallel_map(function: Callable[[T], R], items: Iterable[T],
                 workers: int = MAX_WORKERS) -> list[R]:
    """`function` over `items` on up to `workers` threads, results in order. On Ctrl-C or a
    failure the calls not yet begun are dropped: `Executor.map` cancels them as its results
    stop being read (futures submitted one by one and awaited in a `with` block would all run
    first: an interrupted ingest went on uploading)."""
    items = list(items)
    if len(items) <= 1:
        return [function(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(workers, len(items))) as pool:
        return list(pool.map(function, items))
