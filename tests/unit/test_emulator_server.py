"""Which requests the emulator snapshots after: writes yes, reads no."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable

from retailake.local.server import ReadWriteLock, Snapshots, is_mutating, retried_attempt


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
    assert retried_attempt(_environ("POST", x_amz_target=create,
                                    amz_sdk_request="attempt=1; max=25")) is None
    assert retried_attempt(_environ("POST", x_amz_target=create)) is None


def test_read_write_lock_allows_many_readers():
    lock = ReadWriteLock()
    lock.acquire_read()
    lock.acquire_read()
    lock.release_read()
    lock.release_read()
    lock.acquire_write()
    lock.release_write()


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
