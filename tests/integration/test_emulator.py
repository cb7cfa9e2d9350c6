"""The emulator process end to end: persistence across kill -9 and stop/start, port clashes."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from xml.etree import ElementTree

import boto3
import pytest
from botocore.exceptions import ClientError

from retailake.config import load_environment
from retailake.errors import EmulatorError, PortTakenError
from retailake.local import emulator
from tests.integration.conftest import kill_emulator

pytestmark = pytest.mark.integration


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("RETAILAKE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("RETAILAKE_LOCAL_PORT", str(_free_port()))
    environment = load_environment("local")
    yield environment
    emulator.stop(environment)


def _client(env, service: str):
    return boto3.client(service, endpoint_url=env.endpoint_url, region_name="us-east-1",
                        aws_access_key_id=emulator.twin_keys(env).access_key,
                        aws_secret_access_key=emulator.twin_keys(env).secret_key)


def _seed(env) -> dict[str, str]:
    key_id = _client(env, "kms").create_key()["KeyMetadata"]["KeyId"]
    s3 = _client(env, "s3")
    s3.create_bucket(Bucket="persist-test")
    s3.put_object(Bucket="persist-test", Key="raw/a.bin", Body=os.urandom(200_000))
    glue = _client(env, "glue")
    glue.create_database(DatabaseInput={"Name": "persist_db"})
    vpc_id = _client(env, "ec2").create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    body = s3.get_object(Bucket="persist-test", Key="raw/a.bin")["Body"].read()
    return {"key": key_id, "vpc": vpc_id, "body": body.hex()}


def _check(env, seeded: dict[str, str]) -> None:
    keys = [k["KeyId"] for k in _client(env, "kms").list_keys()["Keys"]]
    assert seeded["key"] in keys
    body = _client(env, "s3").get_object(Bucket="persist-test", Key="raw/a.bin")["Body"].read()
    assert body.hex() == seeded["body"]
    assert _client(env, "glue").get_database(Name="persist_db")["Database"]["Name"] == "persist_db"
    vpcs = [v["VpcId"] for v in _client(env, "ec2").describe_vpcs()["Vpcs"]]
    assert seeded["vpc"] in vpcs


def test_state_survives_kill_9_after_a_flush(env):
    first = emulator.start(env)
    assert first.running and first.pid
    seeded = _seed(env)
    emulator.flush(env)  # what every retailake command does when it has finished writing
    assert not emulator.gone(env)
    kill_emulator(env, first.pid)  # until `gone`, what the runner asks after a failed node
    assert not emulator.status(env).running
    second = emulator.start(env)
    assert second.pid != first.pid
    _check(env, seeded)


def test_unflushed_writes_reach_disk_on_their_own(env):
    """With no flush, the snapshot after a burst of writes still comes: within a second or
    two on a quiet machine, later when the last snapshot was slow (it waits ten times that).
    The wait here is only a bound on a test that would otherwise hang."""
    first = emulator.start(env)
    seeded = _seed(env)
    deadline = time.monotonic() + 60.0
    while emulator.health(env)["pending_changes"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert emulator.health(env)["pending_changes"] == 0
    kill_emulator(env, first.pid)
    emulator.start(env)
    _check(env, seeded)


def test_state_survives_stop_start_and_start_is_idempotent(env):
    first = emulator.start(env)
    assert emulator.start(env).pid == first.pid
    seeded = _seed(env)
    assert emulator.stop(env) is True
    assert emulator.stop(env) is False
    assert not emulator.status(env).running
    emulator.start(env)
    _check(env, seeded)


def test_two_commands_starting_the_emulator_at_once_share_one(env):
    """Without a start lock, the second command took the first's emulator, still loading,
    for a hung one and killed it, or its own server lost the port and it blamed another
    program."""
    command = [sys.executable, "-m", "retailake", "local", "up", "--format", "json"]
    starting = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True) for _ in range(2)]
    said = [process.communicate(timeout=180) for process in starting]
    assert [process.returncode for process in starting] == [0, 0], said
    pids = {json.loads(out)["pid"] for out, _err in said}
    assert len(pids) == 1, said
    assert emulator.status(env).running and emulator.status(env).pid in pids


def test_a_write_whose_answer_was_lost_is_not_run_twice(env):
    """botocore is made to drop CreateCrawler's first answer and retry, as an SDK does when
    a connection fails after the emulator made the change: the retry, same invocation id,
    gets the first answer instead of AlreadyExistsException."""
    emulator.start(env)
    glue = _client(env, "glue")
    glue.create_database(DatabaseInput={"Name": "retry_db"})
    dropped: list[int] = []

    def drop_first_answer(attempts: int, response, **_) -> float | None:
        if attempts > 1:
            return None
        dropped.append(response[1]["ResponseMetadata"]["HTTPStatusCode"])
        return 0  # retry at once

    glue.meta.events.register("needs-retry.glue.CreateCrawler", drop_first_answer)
    glue.create_crawler(Name="analytics", Role="arn:aws:iam::123456789012:role/crawler",
                        DatabaseName="retry_db", Targets={"S3Targets": [{"Path": "s3://b/p"}]})
    assert dropped == [200]
    assert [c["Name"] for c in glue.get_crawlers()["Crawlers"]] == ["analytics"]
    log = emulator.status(env).log_file.read_text()
    assert "answered as its first attempt was: CreateCrawler" in log


def test_a_multipart_upload_completes_with_the_result_s3_sends(env):
    """The AWS SDK for Java (S3A, so every Glue job's large file) reads the completion by the
    root element S3 sends; an answer with another root fails the write."""
    emulator.start(env)
    s3 = _client(env, "s3")
    s3.create_bucket(Bucket="parts")
    answers: list[bytes] = []
    def keep(http_response, **_):
        answers.append(http_response.content)

    s3.meta.events.register("after-call.s3.CompleteMultipartUpload", keep)
    upload = s3.create_multipart_upload(Bucket="parts", Key="big.bin")["UploadId"]
    bodies = [os.urandom(5 * 1024 * 1024), b"tail"]
    parts = [
        {"PartNumber": n, "ETag": s3.upload_part(Bucket="parts", Key="big.bin", UploadId=upload,
                                                 PartNumber=n, Body=body)["ETag"]}
        for n, body in enumerate(bodies, start=1)
    ]  # fmt: skip
    s3.complete_multipart_upload(Bucket="parts", Key="big.bin", UploadId=upload,
                                 MultipartUpload={"Parts": parts})  # fmt: skip
    root = ElementTree.fromstring(answers[0])
    assert root.tag == "{http://s3.amazonaws.com/doc/2006-03-01/}CompleteMultipartUploadResult"
    assert root.findtext("{http://s3.amazonaws.com/doc/2006-03-01/}Key") == "big.bin"
    assert s3.get_object(Bucket="parts", Key="big.bin")["Body"].read() == b"".join(bodies)


def test_only_its_owner_may_read_the_emulators_state(env):
    """The snapshot holds the PII hashing key and the raw customers."""
    emulator.emulator_dir(env).mkdir(parents=True)
    emulator.emulator_dir(env).chmod(0o755)  # made by an older retailake
    emulator.start(env)
    assert stat.S_IMODE(emulator.emulator_dir(env).stat().st_mode) == 0o700


def test_only_the_twins_own_keys_reach_its_secrets_and_objects(env):
    """Another user of the machine reaches the loopback port too: with made-up keys, or an
    unsigned request, it reads neither the PII key nor an object; the twin's keys do."""
    emulator.start(env)
    keys_file = emulator.emulator_dir(env) / "root-keys.json"
    assert stat.S_IMODE(keys_file.stat().st_mode) == 0o600
    s3, secrets = _client(env, "s3"), _client(env, "secretsmanager")
    s3.create_bucket(Bucket="lake")
    s3.put_object(Bucket="lake", Key="customers/a.csv", Body=b"customer_id,email\nC1,a@b.c\n")
    secrets.create_secret(Name="rl/pii-hmac-key", SecretString="the-key")
    made_up = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}
    stranger_s3 = boto3.client("s3", endpoint_url=env.endpoint_url, region_name="us-east-1",
                               **made_up)
    stranger_secrets = boto3.client("secretsmanager", endpoint_url=env.endpoint_url,
                                    region_name="us-east-1", **made_up)
    with pytest.raises(ClientError, match="InvalidAccessKeyId"):
        stranger_s3.get_object(Bucket="lake", Key="customers/a.csv")
    with pytest.raises(ClientError, match="UnrecognizedClientException"):
        stranger_secrets.get_secret_value(SecretId="rl/pii-hmac-key")
    unsigned = urllib.request.Request(f"{env.endpoint_url}/lake/customers/a.csv")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(unsigned, timeout=5)
    assert refused.value.code == 403
    assert secrets.get_secret_value(SecretId="rl/pii-hmac-key")["SecretString"] == "the-key"


def test_port_taken_by_another_program(env):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", env.local_port))
        sock.listen(1)
        with pytest.raises(EmulatorError) as error:
            emulator.start(env)
    message = str(error.value)
    assert message == (f"port {env.local_port} on 127.0.0.1 is in use by another program; "
                       "free it or set RETAILAKE_LOCAL_PORT to another port")


def test_a_port_taken_elsewhere_is_not_blamed_on_this_homes_emulator_on_another_port(
    env, monkeypatch
):
    ours = emulator.start(env)
    monkeypatch.setenv("RETAILAKE_LOCAL_PORT", str(_free_port()))
    moved = load_environment("local")  # the same home, another port
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", moved.local_port))
        sock.listen(1)
        with pytest.raises(PortTakenError) as error:
            emulator.start(moved)
    assert f"port {moved.local_port} on 127.0.0.1 is in use by another program" in str(error.value)
    assert emulator.status(env).running and emulator.status(env).pid == ours.pid
    # `local status` on the new port says where the home's emulator is, not only "no"
    assert emulator.why_silent(moved) == (
        f"the emulator (pid {ours.pid}) listens on port {env.local_port}, not "
        f"{moved.local_port} (RETAILAKE_LOCAL_PORT changed since it started): the next "
        f"command restarts it on {moved.local_port}, with its state")
    assert emulator.why_silent(env) is None


def test_a_suspended_emulator_is_named_and_local_down_still_stops_it_with_its_state(env):
    first = emulator.start(env)
    seeded = _seed(env)
    emulator.flush(env)
    os.kill(first.pid, signal.SIGSTOP)
    try:
        with pytest.raises(EmulatorError) as error:
            emulator.start(env)
        assert str(error.value).startswith(f"the emulator (pid {first.pid}) is suspended"), error
        assert f"`kill -CONT {first.pid}`" in str(error.value)
        assert emulator.why_silent(env) == str(error.value)  # what `local status` adds
        began = time.monotonic()
        assert emulator.stop(env) is True
        assert time.monotonic() - began < 10, "waited for SIGKILL, not the emulator's own exit"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(first.pid, signal.SIGCONT)
    assert "signal 15: final snapshot and exit" in emulator.status(env).log_file.read_text()
    assert emulator.start(env).pid != first.pid
    _check(env, seeded)


@pytest.mark.parametrize("damage", [b"", b"not a pickle", b"\x80\x04\x95"])
def test_saved_state_that_cannot_be_read_is_named_with_what_to_do(env, damage):
    emulator.start(env)
    emulator.stop(env)
    snapshot = emulator.emulator_dir(env) / "snapshot.pickle"
    snapshot.write_bytes(damage)
    with pytest.raises(EmulatorError) as error:
        emulator.start(env)
    said = str(error.value)
    assert said.startswith(f"the emulator cannot load the saved state {snapshot}: "), said
    assert said.endswith("or move it aside to start an empty twin (then `retailake deploy` and "
                         "seed again)"), said
    assert "Traceback" not in said and not emulator.status(env).running


def test_status_when_not_running_and_stale_pid_file(env):
    state = emulator.status(env)
    assert not state.running and state.pid is None
    assert state.endpoint_url == env.endpoint_url
    pid_file = emulator.emulator_dir(env) / "emulator.pid"
    pid_file.parent.mkdir(parents=True)
    pid_file.write_text("999999\n")
    assert emulator.status(env).pid is None
    assert not pid_file.exists()
    assert emulator.stop(env) is False


def test_an_emulator_running_older_code_is_restarted_with_its_state(env, monkeypatch):
    first = emulator.start(env)
    seeded = _seed(env)
    assert emulator.start(env).pid == first.pid  # same code: left alone
    monkeypatch.setattr(emulator, "code_fingerprint", lambda: "code-of-another-release")
    second = emulator.start(env)
    assert second.running and second.pid != first.pid
    _check(env, seeded)
