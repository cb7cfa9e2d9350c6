"""One sample end to end: dimensions, sales, customers, inventory, dirt, files, manifest."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from retailake.contract import SOURCES
from retailake.sample import dirty
from retailake.sample.catalog import build_catalog
from retailake.sample.customers import build_customers, customer_base
from retailake.sample.inventory import build_inventory
from retailake.sample.sales import build_sales
from retailake.sample.spec import SampleSpec
from retailake.sample.writer import WrittenFile, write_source

Progress = Callable[[str], None]
# One random stream per part, so a part does not change when another is skipped or reworked.
_STREAMS = {"catalog": 0, "customer_base": 1, "sales": 2, "customers": 3, "inventory": 4}
_DIRT_STREAMS = {"sales": 10, "inventory": 11, "customers": 12}


def manifest_key(seed: int) -> str:
    return f"_manifest/seed-{seed}.json"


@dataclass(frozen=True)
class SourceSummary:
    files: int
    rows: int
    bytes: int
    dirty_rows: int


@dataclass(frozen=True)
class Sample:
    """What was written: every data file, the manifest, and per-source totals."""

    files: list[WrittenFile]
    manifest: Path
    summary: dict[str, SourceSummary]


@dataclass(frozen=True)
class Finished:
    """One source ready to write: the table with its dirt, where each file starts, and what
    was injected where."""

    table: pa.Table
    starts: np.ndarray
    days: list[dt.date]
    injection: dirty.Injection


def finished_tables(
    spec: SampleSpec, sources: Sequence[str] = SOURCES, on_progress: Progress | None = None
) -> dict[str, Finished]:
    """Every requested source as a finished Arrow table, nothing written yet."""
    report = on_progress or (lambda _step: None)

    def rng(stream: int) -> np.random.Generator:
        return np.random.default_rng([spec.seed, stream])

    dates = spec.dates()
    report("catalog and customers")
    catalog = build_catalog(rng(_STREAMS["catalog"]), spec.stores, spec.products)
    base = customer_base(rng(_STREAMS["customer_base"]), spec.customers, spec.days)
    report("sales")
    sales = build_sales(rng(_STREAMS["sales"]), spec.sales_lines, dates, catalog, base.weights)
    tables: dict[str, tuple[pa.Table, np.ndarray]] = {"sales": (sales.table, sales.day)}
    if "customers" in sources:
        report("customers")
        customers = build_customers(
            rng(_STREAMS["customers"]), base, sales.first_order_day, spec.start, spec.days
        )
        tables["customers"] = (customers.table, customers.day)
    if "inventory" in sources:
        report("inventory")
        tables["inventory"] = build_inventory(rng(_STREAMS["inventory"]), sales, catalog, dates)

    finished = {}
    for source in (s for s in SOURCES if s in sources):
        report(f"{source}: dirty rows")
        table, day = tables[source]
        starts = np.flatnonzero(np.diff(day, prepend=-1))
        injection = dirty.plan(
            rng(_DIRT_STREAMS[source]), source, starts, table.num_rows, spec.dirty_rate,
            spec.formats[source],
        )
        table = dirty.apply(rng(_DIRT_STREAMS[source] + 100), table, injection)
        finished[source] = Finished(table, starts, [dates[d] for d in day[starts]], injection)
    return finished


def generate(
    spec: SampleSpec,
    out_dir: Path,
    sources: Sequence[str] = SOURCES,
    on_progress: Progress | None = None,
) -> Sample:
    """Write the sample below `out_dir` in the raw bucket's layout, with its manifest."""
    report = on_progress or (lambda _step: None)
    files: list[WrittenFile] = []
    entries: list[str] = []
    summary: dict[str, SourceSummary] = {}
    for source, done in finished_tables(spec, sources, on_progress).items():
        report(f"{source}: files")
        fmt = spec.formats[source]
        malformed = done.injection.positions[done.injection.of("malformed_line")]
        written = write_source(
            out_dir, source, done.table, done.starts, done.days, fmt, spec.seed,
            malformed, dirty.malformed_lines(done.table, malformed, fmt),
        )
        entries += _entries(done.injection, done.starts, written, fmt)
        files += written
        summary[source] = SourceSummary(
            files=len(written),
            rows=done.table.num_rows,
            bytes=sum(f.bytes for f in written),
            dirty_rows=len(done.injection.positions),
        )
    manifest = out_dir / manifest_key(spec.seed)
    manifest.parent.mkdir(parents=True, exist_ok=True)
    manifest.write_text(_manifest_text(spec, files, entries, summary))
    return Sample(files, manifest, summary)


def _entries(
    injection: dirty.Injection, starts: np.ndarray, written: list[WrittenFile], fmt: str
) -> list[str]:
    """One manifest entry per dirty row, as JSON text: which file, which row, what kind, which
    reason. Written from a template (keys sorted, as `json.dumps(..., sort_keys=True)` gives
    them), with each distinct string encoded once: there can be hundreds of thousands."""
    file_index = np.searchsorted(starts, injection.positions, side="right") - 1
    row = injection.positions - starts[file_index] + 1
    files = [json.dumps(f.key) for f in written]
    kinds = [
        (json.dumps(kind.name), json.dumps(str(kind.reason)), kind.name == "duplicate_key")
        for kind in injection.kinds
    ]
    columns = {name: json.dumps(name) if name else "null" for name in set(injection.column)}
    line_offset = {"csv": 1, "jsonl": 0}.get(fmt)
    source = json.dumps(injection.source)
    entries = []
    for f, r, k, column in zip(
        file_index.tolist(), row.tolist(), injection.kind.tolist(), injection.column.tolist(),
        strict=True,
    ):
        kind, reason, duplicate = kinds[k]
        line = "null" if line_offset is None else r + line_offset
        entries.append(
            f'{{"column": {columns[column]}, "duplicate_of_row": {r - 1 if duplicate else "null"}, '
            f'"file": {files[f]}, "kind": {kind}, "line": {line}, "reason": {reason}, '
            f'"row": {r}, "source": {source}}}'
        )
    return entries


def _manifest_text(
    spec: SampleSpec,
    files: list[WrittenFile],
    entries: list[str],
    summary: dict[str, SourceSummary],
) -> str:
    """JSON with one file or dirty row per line: easy to diff and grep, quick to write."""
    head = {
        "generator": "retailake seed-sample",
        "spec": {
            "seed": spec.seed,
            "sales_lines": spec.sales_lines,
            "start": str(spec.start),
            "days": spec.days,
            "dirty_rate": spec.dirty_rate,
            "formats": spec.formats,
        },
        "sources": {name: vars(totals) for name, totals in summary.items()},
    }
    listed = [
        json.dumps({"source": f.source, "file": f.key, "format": f.format, "rows": f.rows},
                   sort_keys=True)
        for f in files
    ]
    text = json.dumps(head, indent=1, sort_keys=True)[:-2]
    for name, items in (("files", listed), ("dirty_rows", entries)):
        lines = ",\n  ".join(items)
        text += f',\n "{name}": [\n  {lines}\n ]' if items else f',\n "{name}": []'
    return text + "\n}\n"
