"""Lifecycle of the local twin's emulator process: start, stop, status, flush.

The emulator runs detached (its own session) so it outlives the CLI command that started
it; its pid file, log and state live in `env.state_dir/emulator/`. A health endpoint that
names the service and its state dir tells our emulator apart from any other program on
the port.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from retailake.config import Environment
from retailake.errors import EmulatorError, PortTakenError
from retailake.local import file_lock
from retailake.local.root_keys import RootKeys, root_keys
from retailake.local.server import (
    EXIT_PORT_IN_USE,
    EXIT_STATE_UNREADABLE,
    FLUSH_PATH,
    HEALTH_PATH,
    SERVICE_NAME,
    code_fingerprint,
)

START_TIMEOUT = 15.0
STOP_TIMEOUT = 60.0  # SIGTERM writes a final snapshot: a large lake on a busy machine takes a while
# The longest another command may hold the start lock: stop a hung emulator (SIGTERM, then
# SIGKILL), start one, and stop that one too when it does not answer in time.
_START_LOCK_WAIT = 2 * (STOP_TIMEOUT + 10) + START_TIMEOUT + 10
_LOG_TAIL_LINES = 15


@dataclass(frozen=True)
class EmulatorStatus:
    """What `retailake local status` shows."""

    running: bool
    pid: int | None
    endpoint_url: str
    state_dir: Path
    log_file: Path


def emulator_dir(env: Environment) -> Path:
    return env.state_dir / "emulator"


def twin_keys(env: Environment) -> RootKeys:
    """The credentials the twin's emulator answers (see `root_keys`)."""
    return root_keys(emulator_dir(env))


def _pid_file(env: Environment) -> Path:
    return emulator_dir(env) / "emulator.pid"


def _log_file(env: Environment) -> Path:
    return emulator_dir(env) / "emulator.log"


def _endpoint(env: Environment) -> str:
    return f"http://127.0.0.1:{env.local_port}"


def _read_pid(env: Environment) -> int | None:
    return _pid_record(env)[0]


def _pid_record(env: Environment) -> tuple[int | None, int | None]:
    """The pid file's process and the port it was started on (None: unknown; a file from
    an older retailake holds no port)."""
    try:
        fields = _pid_file(env).read_text().split()
        return int(fields[0]), int(fields[1]) if len(fields) > 1 else None
    except (OSError, ValueError, IndexError):
        return None, None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie counts as dead: reap it if it is our child, else its parent will
    with contextlib.suppress(ChildProcessError):
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    return not _zombie(pid)


def _zombie(pid: int) -> bool:
    """Whether the process has exited but not been reaped."""
    return _process_state(pid) == "Z"


def _process_state(pid: int) -> str | None:
    """The process's state letter: R, S, T (stopped), Z... (Linux /proc; None elsewhere)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[-1].split()[0]


def health(env: Environment, timeout: float = 1.0) -> dict[str, Any] | None:
    """The emulator's identity answer, or None when nothing (or something else) answers."""
    try:
        with urllib.request.urlopen(_endpoint(env) + HEALTH_PATH, timeout=timeout) as response:
            info = json.loads(response.read())
    except (OSError, ValueError, urllib.error.URLError):
        return None
    return info if isinstance(info, dict) and info.get("service") == SERVICE_NAME else None


def _port_in_use(port: int) -> bool:
    """Whether binding the port fails, as it would for the server (which sets SO_REUSEADDR)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def _port_taken_error(env: Environment) -> EmulatorError:
    """The port is taken: by another program, or by our own emulator not answering."""
    return _silent_on_its_port(env) or PortTakenError(
        f"port {env.local_port} on 127.0.0.1 is in use by another program; "
        "free it or set RETAILAKE_LOCAL_PORT to another port"
    )


def _silent_on_its_port(env: Environment) -> EmulatorError | None:
    """Our emulator's process, alive on the environment's port, that does not answer."""
    pid = _live_pid(env)
    if pid is None or _pid_record(env)[1] not in (None, env.local_port):
        return None  # none, or ours listens on another port (RETAILAKE_LOCAL_PORT changed)
    if _process_state(pid) == "T":
        return EmulatorError(
            f"the emulator (pid {pid}) is suspended (stopped by a signal, or Ctrl-Z in its "
            f"terminal): `kill -CONT {pid}` resumes it, `retailake local down` stops it (its "
            "state is on disk)"
        )
    return EmulatorError(
        f"the emulator (pid {pid}) holds port {env.local_port} but does not answer (busy "
        "with a large snapshot, or hung): run the command again in a while, or `retailake "
        "local down` and then again"
    )


def why_silent(env: Environment) -> str | None:
    """Why this home's emulator, its process alive, does not answer on the environment's
    port: what `local status` says beside its "no"."""
    pid, port = _pid_record(env)
    if _live_pid(env) is None or status(env).running:
        return None
    if port not in (None, env.local_port):
        return (f"the emulator (pid {pid}) listens on port {port}, not {env.local_port} "
                "(RETAILAKE_LOCAL_PORT changed since it started): the next command restarts "
                f"it on {env.local_port}, with its state")  # fmt: skip
    silent = _silent_on_its_port(env)
    return str(silent) if silent else None


def status(env: Environment) -> EmulatorStatus:
    """Whether our emulator answers on the environment's port, and with which pid."""
    info = health(env)
    pid = info.get("pid") if info else None
    if info and Path(info.get("state_dir", "")) != emulator_dir(env).resolve():
        info = None  # an emulator of another RETAILAKE_HOME: not ours to report as running
    return EmulatorStatus(
        running=info is not None,
        pid=pid if info else _live_pid(env),
        endpoint_url=_endpoint(env),
        state_dir=emulator_dir(env),
        log_file=_log_file(env),
    )


def gone(env: Environment) -> bool:
    """Whether the emulator has stopped: no answer, and no process of it left. One that is
    busy (a large snapshot) answers late but still runs."""
    return health(env, timeout=5.0) is None and _live_pid(env) is None


def stopped_error(env: Environment) -> EmulatorError:
    """What a command says when the emulator stopped under it, and what to do."""
    return EmulatorError(
        f"the emulator at {env.endpoint_url} stopped while the command ran: its state up to "
        "its last save is on disk; run `retailake local up`, then the command again"
    )


def _live_pid(env: Environment) -> int | None:
    """The pid file's process if it still runs; a stale pid file is removed."""
    pid = _read_pid(env)
    if pid is not None and not _alive(pid):
        _pid_file(env).unlink(missing_ok=True)
        return None
    return pid


def _log_tail(env: Environment) -> str:
    try:
        lines = _log_file(env).read_text(errors="replace").splitlines()
    except OSError:
        return "(no log)"
    return "\n".join(lines[-_LOG_TAIL_LINES:])


def _last_logged(env: Environment) -> str:
    """The log's last message, without its time and level (the server's log format)."""
    lines = _log_tail(env).splitlines()
    return lines[-1].split(" ", 3)[-1] if lines else "cannot load its saved state (no log)"


def start(env: Environment) -> EmulatorStatus:
    """Start the emulator unless it already runs current code; wait until it answers.

    One left running by an older retailake (or older patches) is restarted: its state is
    on disk, and a stale emulator would silently answer with yesterday's behaviour.
    Commands starting it at once take turns (a lock beside its state): the second then finds
    the first's emulator answering, where it would have taken one still starting for a hung
    one and killed it."""
    state_dir = emulator_dir(env)
    state_dir.mkdir(parents=True, exist_ok=True)
    state_dir.chmod(0o700)  # it holds the PII key's value and the raw layer's customers
    with (state_dir / "start.lock").open("a") as handle:
        if not file_lock.acquire(handle, within=_START_LOCK_WAIT):
            raise EmulatorError(
                f"another retailake command has been starting the emulator for over "
                f"{_START_LOCK_WAIT:.0f} s; see {_log_file(env)}"
            )
        try:
            return _start(env, state_dir)
        finally:
            file_lock.release(handle)


def _start(env: Environment, state_dir: Path) -> EmulatorStatus:
    current = status(env)
    if current.running:
        info = health(env)
        if info and info.get("code") == code_fingerprint():
            return current
        stop(env)
    if health(env) is not None or _port_in_use(env.local_port):
        raise _port_taken_error(env)
    root_keys(state_dir)  # made before the server reads them
    stale = _live_pid(env)
    if stale is not None:  # alive but not answering: a hung emulator of ours
        _terminate(stale)
    process = _spawn(env, state_dir)
    _pid_file(env).write_text(f"{process.pid} {env.local_port}\n")
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            _pid_file(env).unlink(missing_ok=True)
            if process.returncode == EXIT_PORT_IN_USE:
                raise _port_taken_error(env)
            if process.returncode == EXIT_STATE_UNREADABLE:
                raise EmulatorError(
                    f"the emulator {_last_logged(env)}: restore {state_dir} from a backup, or "
                    "move it aside to start an empty twin (then `retailake deploy` and seed again)"
                )
            raise EmulatorError(
                f"the emulator exited during start (code {process.returncode}); "
                f"last lines of {_log_file(env)}:\n{_log_tail(env)}"
            )
        info = health(env, timeout=0.5)
        if info and info.get("pid") == process.pid:
            return status(env)
        time.sleep(0.1)
    _terminate(process.pid)
    _pid_file(env).unlink(missing_ok=True)
    raise EmulatorError(
        f"the emulator did not answer within {START_TIMEOUT:.0f} s; "
        f"last lines of {_log_file(env)}:\n{_log_tail(env)}"
    )


def _spawn(env: Environment, state_dir: Path) -> subprocess.Popen[bytes]:
    child_env = dict(os.environ)
    child_env["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"
    command = [sys.executable, "-m", "retailake.local.server",
               "--port", str(env.local_port), "--state-dir", str(state_dir.resolve())]
    with open(_log_file(env), "ab") as log:
        return subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            env=child_env, start_new_session=True, close_fds=True,
        )


def _terminate(pid: int, timeout: float = STOP_TIMEOUT) -> None:
    """SIGTERM (the server snapshots and exits; resumed first if suspended, or it would only
    act on it when resumed), then SIGKILL if it does not."""
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 10.0)):
        try:
            os.kill(pid, sig)
            os.kill(pid, signal.SIGCONT)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if not _alive(pid):
                return
            time.sleep(0.05)
    raise EmulatorError(f"the emulator (pid {pid}) did not stop, even after SIGKILL")


def stop(env: Environment) -> bool:
    """Stop our emulator; True if one was running."""
    pid = status(env).pid
    if pid is not None:
        _terminate(pid)
    _pid_file(env).unlink(missing_ok=True)
    return pid is not None


def flush(env: Environment) -> None:
    """Make every change so far durable: commands call this when they have finished writing,
    so what a command did survives even a kill -9 of the emulator right after it returns."""
    if not env.is_local:
        return
    request = urllib.request.Request(_endpoint(env) + FLUSH_PATH, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            response.read()
    except urllib.error.HTTPError as error:  # 507: the save failed, a full disk say
        try:
            failure = json.loads(error.read()).get("snapshot_error") or str(error)
        except (ValueError, AttributeError):
            failure = str(error)
        raise EmulatorError(
            f"the emulator could not save its state under {emulator_dir(env)} ({failure}): what "
            "this command wrote is not durable and goes if the emulator stops; make room, "
            "then run the command again"
        ) from None
    except (OSError, urllib.error.URLError) as error:
        if gone(env):
            raise stopped_error(env) from None
        raise EmulatorError(f"could not flush the emulator's state to disk: {error}") from None
