"""State files the CLI keeps (saved outputs, run records, caches as JSON; saved plans):
written whole or not at all, owner-only; JSON read back as an object or refused with the
reason."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def write_json_atomic(path: Path, data: Any) -> None:
    """A file beside, then renamed over `path`: a kill mid-write leaves the previous file, not
    half a document every later reader trips on."""
    write_bytes_atomic(path, _encoded(data))


def write_bytes_atomic(path: Path, content: bytes) -> None:
    """`content` written as `write_json_atomic` writes a document: whole, owner-only (mkstemp
    makes a new file, never one already there nor a link's target), renamed over `path`."""
    with _written_beside(path, content) as temp:
        os.replace(temp, path)


def create_json_once(path: Path, data: Any) -> None:
    """Write `path` only if it does not exist, whole (owner-only, as mkstemp makes it): of
    writers racing to make it, the first wins and the others leave it as it is."""
    with _written_beside(path, _encoded(data)) as temp, contextlib.suppress(FileExistsError):
        os.link(temp, path)


def _encoded(data: Any) -> bytes:
    return json.dumps(data, indent=2, sort_keys=True, default=str).encode()


@contextlib.contextmanager
def _written_beside(path: Path, content: bytes) -> Iterator[str]:
    """`content` in a temporary file beside `path` (so a rename or link to it stays on one
    file system), removed afterwards unless renamed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        yield temp
    finally:
        with contextlib.suppress(OSError):
            os.unlink(temp)


def read_json_object(path: Path) -> dict[str, Any]:
    """The JSON object in `path`; ValueError saying why not (unreadable, not JSON, not an
    object), for the caller to word or to pass over."""
    try:
        data = json.loads(path.read_text())
    except OSError as error:
        raise ValueError(str(error)) from None
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    return data
