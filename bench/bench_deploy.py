"""Benchmark: `retailake deploy` on the local twin against bare Terraform on the same config.

Two fresh local twins (own home folder, own emulator port) run side by side in one process:
one driven by bare `terraform init/apply/plan`, one by `retailake deploy`. Reported: a fresh
deploy against `init + apply`, and a no-change deploy against `plan`, with the ratio.
Targets: retailake adds at most 15% to bare Terraform; a no-change deploy under 20 s.

A fresh deploy runs once (it takes minutes, and a twin is fresh only once). The no-change
case takes about 11 s, where one run moves by a second (1.04x to 1.22x on one afternoon), so
it runs NOOP_RUNS times, alternated, and the medians count."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from statistics import median

from rich.console import Console
from rich.table import Table

from retailake.config import load_environment
from retailake.local import emulator
from retailake.terraform import cli_config_file, terraform_binary


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def twin(home: Path) -> dict[str, str]:
    """Environment variables selecting a twin of its own."""
    return {"RETAILAKE_HOME": str(home), "RETAILAKE_LOCAL_PORT": str(free_port())}


def timed(*actions: Callable[[], None]) -> float:
    """Wall time of `actions`, run one after another."""
    started = time.perf_counter()
    for action in actions:
        action()
    return time.perf_counter() - started


def run(argv: list[str], environ: dict[str, str], cwd: Path | None = None) -> None:
    done = subprocess.run(argv, env=environ, cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"{' '.join(argv)} failed:\n{done.stdout}\n{done.stderr}")


NOOP_RUNS = 3
MAX_RATIO = 1.15  # retailake's time over bare Terraform's, both cases
MAX_NOOP_SECONDS = 20


def main() -> None:
    console = Console(stderr=True)
    with tempfile.TemporaryDirectory(prefix="retailake-bench-") as scratch:
        root = Path(scratch)
        bare_vars, tool_vars = twin(root / "bare"), twin(root / "tool")
        bare_env_vars = {**os.environ, **bare_vars}
        tool_env_vars = {**os.environ, **tool_vars}

        os.environ.update(bare_vars)
        bare_env = load_environment("local")
        emulator.start(bare_env)
        os.environ.update(tool_vars)
        tool_env = load_environment("local")
        emulator.start(tool_env)
        try:
            tf_dir = bare_env.terraform_dir
            bare_state = bare_env.state_dir / "terraform.tfstate"
            bare_env.state_dir.mkdir(parents=True, exist_ok=True)
            terraform_environ = {
                **bare_env_vars,
                "TF_DATA_DIR": str(bare_env.state_dir / "tfdata"),
                "TF_IN_AUTOMATION": "1",
            }
            config = cli_config_file(bare_env.home)
            if config:
                terraform_environ["TF_CLI_CONFIG_FILE"] = str(config)
            terraform = terraform_binary()
            var = f"-var=endpoint_url={bare_env.endpoint_url}"
            retailake = [sys.executable, "-m", "retailake", "deploy", "--auto-approve"]

            console.print("fresh deploy: bare terraform init + apply ...")
            bare_fresh = timed(
                lambda: run(
                    [terraform, "init", "-input=false", f"-backend-config=path={bare_state}"],
                    terraform_environ,
                    tf_dir,
                ),
                lambda: run(
                    [terraform, "apply", "-auto-approve", "-input=false", var],
                    terraform_environ,
                    tf_dir,
                ),
            )
            console.print("fresh deploy: retailake deploy ...")
            tool_fresh = timed(lambda: run(retailake, tool_env_vars))
            plan = [terraform, "plan", "-input=false", var]
            bare_noops, tool_noops = [], []
            for attempt in range(1, NOOP_RUNS + 1):
                console.print(f"no-change {attempt}/{NOOP_RUNS}: bare terraform plan ...")
                bare_noops.append(timed(lambda: run(plan, terraform_environ, tf_dir)))
                console.print(f"no-change {attempt}/{NOOP_RUNS}: retailake deploy ...")
                tool_noops.append(timed(lambda: run(retailake, tool_env_vars)))
        finally:
            emulator.stop(bare_env)
            emulator.stop(tool_env)

    bare_noop, tool_noop = median(bare_noops), median(tool_noops)
    table = Table(title="retailake deploy vs bare terraform (local twin)")
    for column in ("case", "bare terraform s", "retailake s", "ratio", "target", "met"):
        table.add_column(column)
    table.add_row(
        "fresh deploy",
        f"{bare_fresh:.1f}",
        f"{tool_fresh:.1f}",
        f"{tool_fresh / bare_fresh:.2f}",
        f"<= {MAX_RATIO}",
        "yes" if tool_fresh <= MAX_RATIO * bare_fresh else "no",
    )
    table.add_row(
        f"no-change deploy (median of {NOOP_RUNS})",
        f"{bare_noop:.1f} ({_span(bare_noops)})",
        f"{tool_noop:.1f} ({_span(tool_noops)})",
        f"{tool_noop / bare_noop:.2f}",
        f"<= {MAX_RATIO} and < {MAX_NOOP_SECONDS} s",
        "yes" if tool_noop <= MAX_RATIO * bare_noop and tool_noop < MAX_NOOP_SECONDS else "no",
    )
    Console().print(table)


def _span(seconds: list[float]) -> str:
    return f"{min(seconds):.1f}..{max(seconds):.1f}"


if __name__ == "__main__":
    main()
