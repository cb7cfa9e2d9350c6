"""Benchmark: sales lines generated and written, against pyarrow alone writing the same
finished Arrow table to the same per-day CSV files (the floor for this output).

The reference does the same file work as the generator: one CSV per day at the same keys
(`sales/ingest_date=.../sales-...-seed42.csv`, folders created as it goes), written by
`pyarrow.csv.write_csv` from zero-copy slices of the finished table (dirt included). It leaves
out only what pyarrow alone cannot do: generating the table, splicing the malformed lines in
and the manifest. Every case runs `--repeat` times, interleaved, each into a fresh folder;
the table shows the median wall-clock time (min..max) and its ratio to the reference's, then
the median CPU time of the process (all threads) and its ratio: less sensitive to other load
on the machine, which the first line reports.

Target (issue acceptance): sales within 3x of pyarrow alone, all sources under 10 s.
Run: python bench/bench_sample.py [--lines N] [--repeat N]"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow.csv as pacsv

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from retailake.sample import SampleSpec, generate
from retailake.sample.build import finished_tables
from retailake.sample.writer import object_key


def timed(action: Callable[[], object]) -> tuple[float, float]:
    """Wall-clock and CPU seconds (all threads of this process) of one action."""
    started, cpu = time.perf_counter(), time.process_time()
    action()
    return time.perf_counter() - started, time.process_time() - cpu


def pyarrow_alone(spec: SampleSpec) -> Callable[[Path], None]:
    """Build the finished sales table once (untimed); the returned action writes it with
    pyarrow alone into the generator's per-day CSV files below a folder."""
    sales = finished_tables(spec, ("sales",))["sales"]
    bounds = np.append(sales.starts, sales.table.num_rows)

    def write(out_dir: Path) -> None:
        for index, day in enumerate(sales.days):
            path = out_dir / object_key("sales", day, spec.seed, "csv")
            path.parent.mkdir(parents=True, exist_ok=True)
            start, stop = int(bounds[index]), int(bounds[index + 1])
            pacsv.write_csv(sales.table.slice(start, stop - start), path)

    return write


def load() -> str:
    return "/".join(f"{figure:.2f}" for figure in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    # A year, as the medium preset (1M lines) has it.
    spec = SampleSpec(sales_lines=args.lines, start=dt.date(2025, 1, 1), days=365)
    cases: dict[str, Callable[[Path], object]] = {
        "pyarrow alone: write the sales table": pyarrow_alone(spec),
        "retailake: generate + write sales": lambda out: generate(spec, out, ("sales",)),
        "retailake: generate + write all sources": lambda out: generate(spec, out),
    }
    times: dict[str, list[float]] = {name: [] for name in cases}
    cpu: dict[str, list[float]] = {name: [] for name in cases}
    load_before = load()
    work = Path(tempfile.mkdtemp(prefix="retailake-bench-"))
    try:
        for run in range(args.repeat):
            for number, (name, action) in enumerate(cases.items()):
                out = work / f"{run}-{number}"
                wall, used = timed(lambda: action(out))  # noqa: B023 (called at once)
                times[name].append(wall)
                cpu[name].append(used)
                shutil.rmtree(out)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    median = {name: statistics.median(values) for name, values in times.items()}
    median_cpu = {name: statistics.median(values) for name, values in cpu.items()}
    floor = median["pyarrow alone: write the sales table"]
    floor_cpu = median_cpu["pyarrow alone: write the sales table"]
    print(f"{args.lines:,} sales lines over {spec.days} days, median of {args.repeat} runs; "
          f"load average (1/5/15 min) {load_before} before, {load()} after")
    print(f"{'case':<42}{'median s':>9}{'min..max s':>14}{'ratio':>7}{'cpu s':>8}{'ratio':>7}")
    for name, values in times.items():
        spread = f"{min(values):.2f}..{max(values):.2f}"
        print(f"{name:<42}{median[name]:>9.2f}{spread:>14}{median[name] / floor:>7.2f}"
              f"{median_cpu[name]:>8.2f}{median_cpu[name] / floor_cpu:>7.2f}")
    sales_ratio = median["retailake: generate + write sales"] / floor
    full = median["retailake: generate + write all sources"]
    verdict = "ok" if sales_ratio <= 3 and full < 10 else "MISSED"
    print(f"target: sales within 3x of pyarrow alone ({sales_ratio:.2f}x), "
          f"all sources under 10 s ({full:.2f} s): {verdict}")


if __name__ == "__main__":
    main()
