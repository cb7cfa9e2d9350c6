"""The emulator process: moto's WSGI app, patched, with state that survives restarts.

Run as ``python -m retailake.local.server --port N --state-dir DIR``. It binds 127.0.0.1 only,
applies ``retailake.local.patches``, restores the last snapshot, then serves. Changes reach
disk within half a second, and at once when a command flushes (see `Snapshots`).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from retailake.local import access
from retailake.local.replies import WriteReplies, retried_attempt
from retailake.local.root_keys import root_keys

# moto reads its settings at import time: set them before anything imports it.
os.environ.setdefault("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")

HEALTH_PATH = "/_retailake/health"
FLUSH_PATH = "/_retailake/flush"
SNAPSHOT_DELAY = 0.5
SERVICE_NAME = "retailake-emulator"
EXIT_PORT_IN_USE = 3
EXIT_STATE_UNREADABLE = 4

log = logging.getLogger("retailake.emulator")


def code_fingerprint() -> str:
    """What the emulator runs: its own sources and moto's version. A running emulator whose
    fingerprint differs from the installed code is restarted (its state is on disk)."""
    from importlib.metadata import version

    digest = hashlib.sha256(version("moto").encode())
    for path in sorted(Path(__file__).parent.rglob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]

# Actions that only read state: no snapshot after them. Anything else is treated as a write.
_READ_PREFIXES = (
    "Describe", "List", "Get", "Head", "Search", "Lookup", "BatchGet", "Simulate",
    "Validate", "Decrypt", "Encrypt", "GenerateDataKey", "GenerateRandom", "ReEncrypt",
    "Sign", "Verify", "Query", "Scan", "Select", "Filter",
)
_READ_METHODS = ("GET", "HEAD", "OPTIONS")


class ReadWriteLock:
    """Many readers or one writer: a snapshot must not iterate dicts another request changes.

    `acquire_write(yield_to_writers=True)` is the snapshot's way in: it waits until no
    request is queued to write, so writes that arrive together land in one snapshot."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writer = False
        self._queued_writers = 0

    def acquire_read(self) -> None:
        with self._cond:
            while self._writer:
                self._cond.wait()
            self._readers += 1

    def release_read(self) -> None:
        with self._cond:
            self._readers -= 1
            if not self._readers:
                self._cond.notify_all()

    def acquire_write(self, yield_to_writers: bool = False) -> None:
        with self._cond:
            self._queued_writers += 0 if yield_to_writers else 1
            while self._writer or (yield_to_writers and self._queued_writers):
                self._cond.wait()
            self._queued_writers -= 0 if yield_to_writers else 1
            self._writer = True
            while self._readers:
                self._cond.wait()

    def release_write(self) -> None:
        with self._cond:
            self._writer = False
            self._cond.notify_all()


class Snapshots:
    """When changes reach disk: within `delay` seconds of a write, off the request path, one
    snapshot per burst of writes; and at once on `flush()`, which every retailake command
    calls when it has finished writing, so a command's effects are durable when it returns.

    Why not before every response: a pipeline run makes thousands of small S3 writes, and a
    snapshot of the whole lake per write (or per batch of concurrent writes) made one small
    job take minutes. A kill -9 now loses at most the last few seconds of a command that
    had not finished, and every command is safe to rerun.

    The wait after a write is `delay`, or `COST_FACTOR` times the last snapshot's duration
    when that is longer: a snapshot holds every request up and grows with the lake (300 ms
    at a million sales lines), and every half second it took a third of the emulator's time
    during a pipeline run."""

    COST_FACTOR = 10
    RETRY_AFTER_FAILURE = 5.0  # a full disk: try again, without a failed save every 0.5 s

    def __init__(self, lock: ReadWriteLock, save: Callable[[], None], delay: float) -> None:
        self._lock = lock
        self._save = save
        self._delay = delay
        self._last_seconds = 0.0
        self._cond = threading.Condition()
        self._changed = 0
        self._durable = 0
        self._saving = False
        self.error: str | None = None  # the last save's failure; None once one succeeds
        threading.Thread(target=self._background, name="snapshots", daemon=True).start()

    def record_change(self) -> None:
        """Call with the write lock held, after the change."""
        with self._cond:
            self._changed += 1
            self._cond.notify_all()

    @property
    def pending(self) -> int:
        with self._cond:
            return self._changed - self._durable

    def flush(self) -> bool:
        """Whether every change made so far is on disk, once a snapshot covering them was
        taken (False: the save failed, a full disk say; they stay pending)."""
        with self._cond:
            target = self._changed
        self._ensure(target)
        with self._cond:
            return self._durable >= target

    def _background(self) -> None:
        while True:
            with self._cond:
                while self._changed <= self._durable:
                    self._cond.wait()
            # let the rest of a burst of writes join this snapshot
            pause = max(self._delay, self.COST_FACTOR * self._last_seconds)
            time.sleep(max(pause, self.RETRY_AFTER_FAILURE) if self.error else pause)
            self.flush()

    def _ensure(self, target: int) -> None:
        """Take a snapshot covering `target` unless one that does is done or under way (then
        wait for it, and take another if it fell short)."""
        with self._cond:
            while self._saving and self._durable < target:
                self._cond.wait()
            if self._durable >= target:
                return
            self._saving = True
        covered = None
        try:
            covered = self._snapshot()
        finally:
            with self._cond:
                if covered is not None:
                    self._durable = max(self._durable, covered)
                self._saving = False
                self._cond.notify_all()

    def _snapshot(self) -> int | None:
        """The changes the snapshot covers; None when it could not be saved (a full disk: the
        request that asked must not fail for it, but the flush says so, with `error`)."""
        self._lock.acquire_write(yield_to_writers=True)
        started = time.monotonic()
        try:
            with self._cond:
                target = self._changed
            try:
                self._save()
            except Exception as error:
                log.exception("snapshot failed: state since the last snapshot is not persisted")
                self.error = f"{type(error).__name__}: {error}"
                return None
            self.error = None
            return target
        finally:
            self._last_seconds = time.monotonic() - started
            self._lock.release_write()


def _read_body(environ: dict[str, Any]) -> bytes:
    """Read the request body and put it back, so moto still sees it."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length <= 0:
        return b""
    body = environ["wsgi.input"].read(length)
    environ["wsgi.input"] = io.BytesIO(body)
    return body


def request_action(environ: dict[str, Any]) -> str | None:
    """The API action a request names (JSON target, query Action, or a REST path's verb)."""
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return target.rsplit(".", 1)[-1]
    query = parse_qs(environ.get("QUERY_STRING", ""))
    if "Action" in query:
        return query["Action"][0]
    content_type = environ.get("CONTENT_TYPE", "")
    if content_type.startswith("application/x-www-form-urlencoded"):
        body = _read_body(environ)
        form = parse_qs(body.decode("utf-8", "replace"))
        if "Action" in form:
            return form["Action"][0]
    last = environ.get("PATH_INFO", "").rstrip("/").rsplit("/", 1)[-1]
    if last[:1].isupper() and last.isalpha():
        return last  # REST-JSON services such as Lake Formation: POST /ListPermissions
    return None


def is_mutating(environ: dict[str, Any]) -> bool:
    """Whether a request may change emulator state (and so must be snapshotted)."""
    if environ.get("REQUEST_METHOD", "GET").upper() in _READ_METHODS:
        return False
    action = request_action(environ)
    return not (action and action.startswith(_READ_PREFIXES))


class EmulatorApp:
    """WSGI wrapper: identity and flush endpoints, the caller's keys and a Glue role's access
    checked (`access`), request locking, snapshots of every write."""

    def __init__(self, inner: Callable[..., Iterable[bytes]], store: Any, state_dir: Path):
        self.inner = inner
        self.store = store
        self.state_dir = state_dir
        self.lock = ReadWriteLock()
        self.snapshots = Snapshots(self.lock, self.snapshot, SNAPSHOT_DELAY)
        self.replies = WriteReplies()
        self.started = time.time()
        self.code = code_fingerprint()
        self.root_key = root_keys(state_dir).access_key

    def health(self) -> bytes:
        info = {
            "service": SERVICE_NAME,
            "pid": os.getpid(),
            "state_dir": str(self.state_dir),
            "started": self.started,
            "code": self.code,
            "snapshots": self.store.count if self.store else 0,
            "last_snapshot_ms": self.store.last_ms if self.store else None,
            "pending_changes": self.snapshots.pending,
            "snapshot_error": self.snapshots.error,
        }
        return json.dumps(info).encode()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        path = environ.get("PATH_INFO")
        if path in (HEALTH_PATH, FLUSH_PATH):
            durable = self.snapshots.flush() if path == FLUSH_PATH else True
            info = self.health()
            status = "200 OK" if durable else "507 Insufficient Storage"
            start_response(status, [("Content-Type", "application/json"),
                                    ("Content-Length", str(len(info)))])
            return [info]
        if not is_mutating(environ):
            self.lock.acquire_read()
            try:
                return self._run(environ, start_response)
            finally:
                self.lock.release_read()
        body, replayed = self.replies(self._write, environ, start_response)
        retried = retried_attempt(environ)
        if retried:
            log.warning("write retried by its client (%s), %s: %s %s", retried,
                        "answered as its first attempt was" if replayed else "run again",
                        request_action(environ) or environ.get("REQUEST_METHOD"), path)
        return body

    def _write(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        self.lock.acquire_write()
        try:
            body = self._run(environ, start_response)
            self.snapshots.record_change()
        finally:
            self.lock.release_write()
        return body

    def _run(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        """Run moto to completion, so all its state changes happen inside the lock (and a
        role's access is read from IAM under it too)."""
        refused = access.refusal(environ, lambda: _read_body(environ), self.root_key)
        if refused is not None:
            start_response(refused.status, refused.headers)
            return [refused.body]
        result = self.inner(environ, start_response)
        try:
            return [b"".join(result)]
        finally:
            close = getattr(result, "close", None)
            if close:
                close()

    def snapshot(self) -> None:
        if self.store is not None:
            self.store.save()


def build_app(state_dir: Path, persist: bool = True) -> EmulatorApp:
    """Patch moto, restore the last snapshot, and wrap moto's dispatcher."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    from retailake.local import patches, persistence

    patches.apply_all()
    store = None
    if persist:
        store = persistence.SnapshotStore(state_dir)
        restored = store.restore()
        log.info("restored snapshot: %s", restored)
    return EmulatorApp(DomainDispatcherApplication(create_backend_app), store, state_dir)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="retailake.local.server")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--state-dir", type=Path, required=True)
    parser.add_argument("--no-persist", action="store_true", help="keep state in memory only")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    os.environ.setdefault("MOTO_PORT", str(args.port))
    args.state_dir.mkdir(parents=True, exist_ok=True)

    from werkzeug.serving import make_server

    from retailake.local.persistence import SnapshotUnreadable

    try:
        app = build_app(args.state_dir.resolve(), persist=not args.no_persist)
    except SnapshotUnreadable as error:
        log.error("cannot load the saved state %s", error)
        return EXIT_STATE_UNREADABLE
    try:
        server = make_server("127.0.0.1", args.port, app, threaded=True)
    except (OSError, SystemExit) as error:  # werkzeug exits(1) when the port is taken
        log.error("cannot listen on 127.0.0.1:%s: %s", args.port, error)
        return EXIT_PORT_IN_USE

    def shutdown(signum: int, _frame: Any) -> None:
        log.info("signal %s: final snapshot and exit", signum)
        app.lock.acquire_write()
        app.snapshot()
        os._exit(0)

    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)
    log.info("serving on http://127.0.0.1:%s (pid %s, state %s)",
             args.port, os.getpid(), args.state_dir)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
