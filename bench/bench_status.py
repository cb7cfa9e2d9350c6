"""Benchmark: how fast the CLI answers.

- `retailake --help` against `aws --version` (the AWS CLI, a Python program too, doing next to
  nothing): target under half its time.
- `retailake status` on a deployed local twin that has run the pipeline: target under 2 s.

Each command runs `--repeat` times, interleaved; the table shows the median wall-clock time
(min..max) and the machine's load, since two cores shared with Spark make single runs noisy.
Without `--home`, a twin of its own is deployed, seeded (small preset) and run first (a few
minutes) and stopped at the end; `--home DIR --port N` times an existing deployed twin instead.
Run: python bench/bench_status.py [--repeat N] [--home DIR --port N]"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

HELP_RATIO_TARGET = 0.5
STATUS_TARGET_SECONDS = 2.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def timed(argv: list[str], environ: dict[str, str], expect: tuple[int, ...] = (0,)) -> float:
    started = time.perf_counter()
    done = subprocess.run(argv, env=environ, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode not in expect:
        sys.exit(f"{' '.join(argv)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return elapsed


def prepare_twin(environ: dict[str, str], console: Console) -> None:
    """Deploy, seed and run the pipeline once: status then has every section to read."""
    for step in (["deploy", "--auto-approve"], ["seed-sample", "--preset", "small"],
                 ["run-pipeline"]):
        console.print(f"twin: retailake {' '.join(step)} ...")
        timed([sys.executable, "-m", "retailake", *step], environ)


def summary(times: list[float]) -> str:
    return f"{statistics.median(times):.3f} ({min(times):.3f}..{max(times):.3f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--home", type=Path, help="an already deployed twin's RETAILAKE_HOME")
    parser.add_argument("--port", type=int, help="that twin's RETAILAKE_LOCAL_PORT")
    args = parser.parse_args()
    console = Console(stderr=True)
    aws = shutil.which("aws")
    if aws is None:
        sys.exit("the AWS CLI (`aws`) is the reference and is not on PATH")
    retailake = [sys.executable, "-m", "retailake"]
    with tempfile.TemporaryDirectory(prefix="retailake-bench-status-") as scratch:
        home, port = (args.home, args.port) if args.home else (Path(scratch), free_port())
        environ = {**os.environ, "RETAILAKE_HOME": str(home), "RETAILAKE_LOCAL_PORT": str(port)}
        environ.pop("RETAILAKE_ENV", None)
        try:
            if not args.home:
                prepare_twin(environ, console)
            # status exits 1 when the lake has a problem: still an answer, and as fast
            answered = (0, 1)
            timed([*retailake, "status"], environ, answered)  # warm: emulator up, caches filled
            times: dict[str, list[float]] = {"aws": [], "help": [], "status": []}
            for _ in range(args.repeat):
                times["aws"].append(timed([aws, "--version"], environ))
                times["help"].append(timed([*retailake, "--help"], environ))
                times["status"].append(timed([*retailake, "status", "--format", "json"],
                                             environ, answered))
        finally:
            if not args.home:
                subprocess.run([*retailake, "local", "down"], env=environ, capture_output=True)
    aws_median = statistics.median(times["aws"])
    help_ratio = statistics.median(times["help"]) / aws_median
    status_median = statistics.median(times["status"])
    table = Table(title=f"retailake answers (median of {args.repeat} runs, seconds; "
                        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    for column in ("command", "median (min..max)", "ratio to aws --version", "target", "met"):
        table.add_column(column)
    table.add_row("aws --version", summary(times["aws"]), "1.00", "reference", "")
    table.add_row("retailake --help", summary(times["help"]), f"{help_ratio:.2f}",
                  f"< {HELP_RATIO_TARGET}", "yes" if help_ratio < HELP_RATIO_TARGET else "NO")
    table.add_row("retailake status", summary(times["status"]),
                  f"{status_median / aws_median:.2f}", f"< {STATUS_TARGET_SECONDS:.0f} s",
                  "yes" if status_median < STATUS_TARGET_SECONDS else "NO")
    Console(width=120).print(table)


if __name__ == "__main__":
    main()
