"""Benchmark: `retailake run-pipeline` on the local twin against DuckDB doing the same
transforms on the same raw files (`bench/duckdb_reference.py`).

A throw-away twin (its own home and port) is deployed and seeded with a preset (untimed);
then timed: a full pipeline run (crawlers, three transforms, aggregation, final crawl, Spark
start included, as a user waits for it), a rerun with nothing new, and the DuckDB reference
over a local copy of the same seed (byte-identical files). One run each, as the issue asks:
the pipeline takes minutes, and the load on the machine is printed beside the figures.

Targets (issue acceptance): within 8x of the reference at 1M sales lines (medium), 4x at 10M
(large); the rerun under 10% of the full run.
Run: python bench/bench_pipeline.py [--preset medium|large]"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import duckdb_reference

TARGETS = {"medium": 8.0, "large": 4.0}
RERUN_TARGET = 0.10


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def retailake(env: dict[str, str], *args: str) -> tuple[float, str]:
    """Run the CLI as a user does; seconds taken and its stdout. Fails loudly."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "retailake", *args], env=env,
                          capture_output=True, text=True)  # fmt: skip
    took = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"retailake {' '.join(args)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return took, done.stdout


def job_seconds(record: dict) -> str:
    jobs = [n for n in record["nodes"] if n["kind"] == "job"]
    return ", ".join(f"{n['name'].split('-', 2)[-1]} {n['duration_seconds']:.0f} s" for n in jobs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--preset", choices=sorted(TARGETS), default="medium")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-pipeline-") as folder:
        tmp = Path(folder)
        env = {**os.environ, "RETAILAKE_HOME": str(tmp / "home"),
               "RETAILAKE_LOCAL_PORT": str(free_port())}  # fmt: skip
        env.pop("RETAILAKE_ENV", None)
        try:
            print(f"deploying a throw-away twin and seeding '{args.preset}' (untimed) ...",
                  file=sys.stderr)  # fmt: skip
            retailake(env, "deploy", "--auto-approve")
            retailake(env, "seed-sample", "--preset", args.preset)
            retailake(env, "seed-sample", "--preset", args.preset, "--output", str(tmp / "raw"))
            load = "/".join(f"{x:.2f}" for x in os.getloadavg())
            full_s, full_out = retailake(env, "run-pipeline", "--format", "json")
            rerun_s, rerun_out = retailake(env, "run-pipeline", "--format", "json")
            started = time.perf_counter()
            steps = duckdb_reference.run(tmp / "raw", tmp / "reference")
            reference_s = time.perf_counter() - started
        finally:
            subprocess.run([sys.executable, "-m", "retailake", "local", "down"], env=env,
                           capture_output=True)  # fmt: skip
    full, rerun = json.loads(full_out), json.loads(rerun_out)
    ratio, rerun_share = full_s / reference_s, rerun_s / full_s
    target = TARGETS[args.preset]
    print(f"pipeline benchmark, preset {args.preset}, load before the runs {load}")
    print(f"  DuckDB reference       {reference_s:8.1f} s   "
          + ", ".join(f"{step} {value:.1f} s" for step, value in steps.items()))
    print(f"  run-pipeline (full)    {full_s:8.1f} s   {ratio:.1f}x the reference "
          f"(target <= {target:.0f}x: {'met' if ratio <= target else 'MISSED'})"
          f"; {job_seconds(full)}")
    print(f"  run-pipeline (nothing new) {rerun_s:4.1f} s   {rerun_share:.0%} of the full run "
          f"(target < {RERUN_TARGET:.0%}: {'met' if rerun_share < RERUN_TARGET else 'MISSED'})"
          f"; {job_seconds(rerun)}")


if __name__ == "__main__":
    main()
