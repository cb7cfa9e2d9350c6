"""Integration fixtures: the real `retailake` CLI, the real terraform binary and the emulator
on a free loopback port, all under a throw-away RETAILAKE_HOME. Everything started is stopped."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from retailake.config import Environment, load_environment
from retailake.local import emulator

pytestmark = pytest.mark.integration
README = Path(__file__).resolve().parents[2] / "README.md"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class CliRun:
    returncode: int
    stdout: str
    stderr: str

    def __str__(self) -> str:
        return f"exit {self.returncode}\n--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}"


def retailake(*args: str, timeout: float = 600) -> CliRun:
    """Run the CLI as a user does, in a subprocess, with the session's environment."""
    done = subprocess.run(
        [sys.executable, "-m", "retailake", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    return CliRun(done.returncode, done.stdout, done.stderr)


def kill_emulator(env: Environment, pid: int, seconds: float = 30.0) -> None:
    """SIGKILL the twin's emulator, then wait until it is gone (no answer, no process): a
    killed process is not dead the moment the signal is sent."""
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + seconds
    while not emulator.gone(env):
        assert time.monotonic() < deadline, f"emulator {pid} still there {seconds} s after kill -9"
        time.sleep(0.05)


@pytest.fixture(scope="session")
def local_env(tmp_path_factory) -> Iterator[Environment]:
    """A local twin of its own: home folder and emulator port nobody else uses."""
    saved = {key: os.environ.get(key) for key in ("RETAILAKE_HOME", "RETAILAKE_LOCAL_PORT")}
    os.environ["RETAILAKE_HOME"] = str(tmp_path_factory.mktemp("retailake-home"))
    os.environ["RETAILAKE_LOCAL_PORT"] = str(free_port())
    os.environ.pop("RETAILAKE_ENV", None)
    env = load_environment("local")
    try:
        yield env
    finally:
        retailake("local", "down")
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


# The README walkthrough's first steps, which the session fixtures run exactly as written.
DEPLOY = ("deploy", "--auto-approve")
SEED = ("seed-sample", "--preset", "small")


@pytest.fixture(scope="session")
def first_deploy(local_env) -> Iterator[CliRun]:
    """The README's first deploy on the session's twin (what it printed, for the README's
    example of it); the stack is destroyed at the session's end."""
    run = retailake(*DEPLOY)
    assert run.returncode == 0, str(run)
    yield run
    destroyed = retailake("destroy", "--auto-approve")
    assert destroyed.returncode == 0, str(destroyed)
    # the README's walkthrough ends with the line this destroy prints
    documented = re.search(r"# (Destroyed 'local': \d+ resources\.)", README.read_text())
    assert documented and documented.group(1) in destroyed.stderr.splitlines(), str(destroyed)


@pytest.fixture(scope="session")
def deployed_local_env(local_env, first_deploy) -> Environment:
    """The full stack deployed on the local twin for the whole session."""
    return local_env


@pytest.fixture(scope="session")
def pipeline_run(deployed_local_env) -> dict:
    """The small sample seeded and the pipeline run once, shared by every module that needs
    analytics: the `run-pipeline --format json` record of that first run."""
    seeded = retailake(*SEED)
    assert seeded.returncode == 0, str(seeded)
    run = retailake("run-pipeline", "--format", "json", timeout=900)
    assert run.returncode == 0, str(run)
    return json.loads(run.stdout)
