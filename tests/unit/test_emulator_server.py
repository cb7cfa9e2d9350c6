"""Which requests the emulator snapshots after: writes yes, reads no."""

from __future__ import annotations

import io
import threading
import time

from retailake.local.server import GroupCommit, ReadWriteLock, is_mutating


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


def test_read_write_lock_allows_many_readers():
    lock = ReadWriteLock()
    lock.acquire_read()
    lock.acquire_read()
    lock.release_read()
    lock.release_read()
    lock.acquire_write()
    lock.release_write()


def test_group_commit_makes_every_write_durable_and_shares_snapshots():
    lock = ReadWriteLock()
    state = {"changes": 0, "on_disk": 0, "snapshots": 0}

    def save() -> None:  # a slow snapshot of whatever has changed so far
        seen = state["changes"]
        time.sleep(0.05)
        state["on_disk"] = seen
        state["snapshots"] += 1

    commits = GroupCommit(lock, save)
    durable_at_return: list[tuple[int, int]] = []

    def writer() -> None:
        lock.acquire_write()
        state["changes"] += 1
        mine = state["changes"]
        generation = commits.record_change()
        lock.release_write()
        commits.wait_durable(generation)
        durable_at_return.append((mine, state["on_disk"]))

    threads = [threading.Thread(target=writer) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert len(durable_at_return) == 12
    assert all(on_disk >= mine for mine, on_disk in durable_at_return)
    assert state["on_disk"] == 12
    assert state["snapshots"] < 12
