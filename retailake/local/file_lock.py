"""Locks on a file, the OS's (`flock`): they die with their process, so a command that was
killed leaves no lock to clear. A lock is tried for a while, not once: another command may
hold it for an instant only (`status` asking whether a pipeline run holds the run lock)."""

from __future__ import annotations

import fcntl
import time
from typing import IO, Any

RETRY_INTERVAL = 0.05


def acquire(handle: IO[Any], within: float) -> bool:
    """Take `handle`'s file exclusively, trying for up to `within` seconds; False if another
    process held it throughout."""
    deadline = time.monotonic() + within
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(RETRY_INTERVAL)


def release(handle: IO[Any]) -> None:
    fcntl.flock(handle, fcntl.LOCK_UN)
