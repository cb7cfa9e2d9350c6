"""Which requests the emulator snapshots after: writes yes, reads no."""

from __future__ import annotations

import http.server
import io
import json
import threading
import time
from collections.abc import Callable

import pytest

from retailake.config import load_environment
from retailake.errors import EmulatorError
from retailake.local import emulator
from retailake.local.replies import retried_attempt
from retailake.local.server import (
    FLUSH_PATH,
    EmulatorApp,
    ReadWriteLock,
    Snapshots,
    is_mutating,
)


def _environ(method: str, path: str = "/", body: bytes = b"", **headers: str) -> dict:
    environ = {"REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": "",
               "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body),
               "CONTENT_TYPE": headers.pop("content_type", "")}
    environ.update({f"HTTP_{k.upper()}": v for k, v in headers.items()})
    return environ


def test_reads_are_not_snapshotted():
    assert not is_mutating(_environ("GET", "/bucket/key"))
    assert not is_mutating(_environ("POST", x_amz_target="AWSGlue.GetTables"))
    assert not is_mutating(_environ("POST", "/ListPermissions"))
    form = _environ("POST", body=b"Action=DescribeClusters&Version=2012-12-01",
                    content_type="application/x-www-form-urlencoded")
    assert not is_mutating(form)
    assert form["wsgi.input"].read() == b"Action=DescribeClusters&Version=2012-12-01"


def test_writes_are_snapshotted():
    assert is_mutating(_environ("PUT", "/bucket/key"))
    assert is_mutating(_environ("DELETE", "/bucket"))
    assert is_mutating(_environ("POST", x_amz_target="TrentService.CreateKey"))
    assert is_mutating(_environ("POST", "/GrantPermissions"))
    assert is_mutating(_environ("POST", body=b"Action=CreateCluster",
                                content_type="application/x-www-form-urlencoded"))


def test_a_retried_request_is_told_from_a_first_attempt():
    create = "AWSGlue.CreateCrawler"
    retry = _environ("POST", x_amz_target=create, amz_sdk_request="attempt=2; max=25")
    assert retried_attempt(retry) == "attempt=2; max=25"
    with_ttl = _environ("POST", x_amz_target=create,
                        amz_sdk_request="ttl=20261202T010346Z; attempt=2; max=3")
    assert retried_attempt(with_ttl) == "ttl=20261202T010346Z; attempt=2; max=3"
    assert retried_attempt(_environ("POST", x_amz_target=create,
                                    amz_sdk_request="attempt=1; max=25")) is None
    assert retried_attempt(_environ("POST", x_amz_target=create)) is None


class _Crawlers:
    """A stand-in for moto: CreateCrawler succeeds once per name, then AlreadyExists; with
    `failures` set, it first answers that many server errors."""

    def __init__(self, failures: int = 0, gate: threading.Event | None = None) -> None:
        self.names: list[str] = []
        self.failures = failures
        self.gate = gate

    def __call__(self, environ: dict, start_response: Callable) -> list[bytes]:
        if self.gate:
            self.gate.wait(5)
        if self.failures:
            self.failures -= 1
            start_response("503 Service Unavailable", [])
            return [b"busy"]
        name = environ["wsgi.input"].read().decode()
        if name in self.names:
            start_response("400 Bad Request", [("Content-Type", "application/json")])
            return [b"AlreadyExistsException"]
        self.names.append(name)
        start_response("200 OK", [("Content-Type", "application/json")])
        return [f"created {name}".encode()]


def _create(app: EmulatorApp, name: str, invocation: str, attempt: int) -> tuple[str, bytes]:
    answered: list[str] = []
    environ = _environ("POST", body=name.encode(), x_amz_target="AWSGlue.CreateCrawler",
                       amz_sdk_invocation_id=invocation, amz_sdk_request=f"attempt={attempt}",
                       authorization=f"AWS4-HMAC-SHA256 Credential={app.root_key}/20261205/"
                                     "us-east-1/glue/aws4_request, Signature=0")
    body = b"".join(app(environ, lambda status, headers, *_: answered.append(status)))
    return answered[0], body


def test_a_retried_write_gets_its_first_answer_and_runs_once(tmp_path):
    moto = _Crawlers()
    app = EmulatorApp(moto, None, tmp_path)
    first = _create(app, "analytics", "call-1", attempt=1)
    assert first == ("200 OK", b"created analytics")
    assert _create(app, "analytics", "call-1", attempt=2) == first  # its answer was lost
    assert moto.names == ["analytics"]
    # another call for the same name runs, and fails as a duplicate
    assert _create(app, "analytics", "call-2", attempt=1) == ("400 Bad Request",
                                                              b"AlreadyExistsException")


def test_a_retry_after_a_server_error_runs_again(tmp_path):
    moto = _Crawlers(failures=1)
    app = EmulatorApp(moto, None, tmp_path)
    assert _create(app, "raw", "call-1", attempt=1)[0] == "503 Service Unavailable"
    assert _create(app, "raw", "call-1", attempt=2) == ("200 OK", b"created raw")
    assert _create(app, "raw", "call-1", attempt=3) == ("200 OK", b"created raw")
    assert moto.names == ["raw"]


def test_a_retry_arriving_while_its_first_attempt_runs_waits_for_that_answer(tmp_path):
    gate = threading.Event()
    moto = _Crawlers(gate=gate)
    app = EmulatorApp(moto, None, tmp_path)
    answers: list[tuple[str, bytes]] = []
    first = threading.Thread(target=lambda: answers.append(_create(app, "s", "call-1", 1)))
    retry = threading.Thread(target=lambda: answers.append(_create(app, "s", "call-1", 2)))
    first.start()
    time.sleep(0.1)
    retry.start()
    time.sleep(0.1)
    gate.set()
    first.join(5)
    retry.join(5)
    assert answers == [("200 OK", b"created s")] * 2
    assert moto.names == ["s"]


def _in_thread(step: Callable[[], None]) -> threading.Event:
    """Run `step` in a thread; the event is set once it has returned (got the lock)."""
    done = threading.Event()

    def run() -> None:
        step()
        done.set()

    threading.Thread(target=run, daemon=True).start()
    return done


def test_read_write_lock_lets_readers_share_and_a_writer_wait_for_them():
    lock = ReadWriteLock()
    lock.acquire_read()
    assert _in_thread(lock.acquire_read).wait(5)  # a second reader gets in beside the first
    writer = _in_thread(lock.acquire_write)
    assert not writer.wait(0.2)  # the writer waits while readers hold the lock
    lock.release_read()
    assert not writer.wait(0.2)
    lock.release_read()
    assert writer.wait(5)  # the last reader out lets it in
    reader = _in_thread(lock.acquire_read)
    assert not reader.wait(0.2)  # and no reader gets in while it writes
    lock.release_write()
    assert reader.wait(5)


def _recording_save(state: dict) -> Callable[[], None]:
    def save() -> None:  # a slow snapshot of whatever has changed so far
        seen = state["changes"]
        time.sleep(0.05)
        state["on_disk"] = seen
        state["snapshots"] += 1

    return save


def _write(lock: ReadWriteLock, snapshots: Snapshots, state: dict) -> None:
    lock.acquire_write()
    state["changes"] += 1
    snapshots.record_change()
    lock.release_write()


def test_writes_reach_disk_on_their_own_in_few_snapshots():
    lock, state = ReadWriteLock(), {"changes": 0, "on_disk": 0, "snapshots": 0}
    snapshots = Snapshots(lock, _recording_save(state), delay=0.1)
    threads = [threading.Thread(target=_write, args=(lock, snapshots, state)) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=5)
    deadline = time.monotonic() + 5
    while snapshots.pending and time.monotonic() < deadline:
        time.sleep(0.02)
    assert snapshots.pending == 0
    assert state["on_disk"] == 20
    assert 1 <= state["snapshots"] < 20


def test_flush_returns_only_when_everything_is_on_disk():
    lock, state = ReadWriteLock(), {"changes": 0, "on_disk": 0, "snapshots": 0}
    snapshots = Snapshots(lock, _recording_save(state), delay=60)  # background never fires
    for _ in range(3):
        _write(lock, snapshots, state)
    assert state["on_disk"] == 0 and snapshots.pending == 3
    snapshots.flush()
    assert state["on_disk"] == 3 and snapshots.pending == 0
    snapshots.flush()
    assert state["snapshots"] == 1  # nothing new: no second snapshot


def test_a_costly_snapshot_spaces_out_the_next_ones():
    lock, state = ReadWriteLock(), {"changes": 0, "on_disk": 0, "snapshots": 0}
    snapshots = Snapshots(lock, _recording_save(state), delay=0.01)  # each save takes 50 ms
    deadline = time.monotonic() + 1.5
    while time.monotonic() < deadline:  # a steady stream of writes, as a pipeline makes
        _write(lock, snapshots, state)
        time.sleep(0.005)
    # Every 10 ms plus 50 ms of saving would be ~25 snapshots; waiting 10x the save is ~3.
    assert 1 <= state["snapshots"] <= 5
    snapshots.flush()
    assert state["on_disk"] == state["changes"]


class _FullDisk:
    """A store whose saves fail until there is room again."""

    count, last_ms = 0, None

    def __init__(self) -> None:
        self.room = False

    def save(self) -> None:
        if not self.room:
            raise OSError(28, "No space left on device")
        self.count += 1


def _post(app: EmulatorApp, path: str) -> tuple[str, dict]:
    answered: list[str] = []
    body = b"".join(app(_environ("POST", path), lambda status, *_: answered.append(status)))
    return answered[0], json.loads(body)


def test_a_flush_whose_save_fails_says_so_and_the_changes_stay_pending(tmp_path):
    """A full disk: the command that flushed must not report its writes as durable."""
    store = _FullDisk()
    app = EmulatorApp(_Crawlers(), store, tmp_path)
    app.snapshots = Snapshots(app.lock, app.snapshot, delay=60)  # no background snapshot
    assert _create(app, "raw", "call-1", attempt=1)[0] == "200 OK"
    status, info = _post(app, FLUSH_PATH)
    assert status.startswith("507")
    assert "No space left on device" in info["snapshot_error"] and info["pending_changes"] == 1
    store.room = True  # space freed: the next flush saves what was pending
    status, info = _post(app, FLUSH_PATH)
    assert (status, info["snapshot_error"], info["pending_changes"]) == ("200 OK", None, 0)
    assert store.count == 1


def test_a_command_whose_flush_fails_stops_with_what_to_do(monkeypatch):
    class FullDisk(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.dumps({"snapshot_error": "OSError: [Errno 28] No space left"}).encode()
            self.send_response(507)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), FullDisk)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("RETAILAKE_LOCAL_PORT", str(server.server_address[1]))
    try:
        with pytest.raises(EmulatorError, match=r"could not save its state .*No space left.*"
                                                r"not durable.*make room"):
            emulator.flush(load_environment("local"))
    finally:
        server.shutdown()
