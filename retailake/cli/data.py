"""`seed-sample` and `ingest`: data into the raw bucket (or, for samples, a local folder)."""

from __future__ import annotations

import datetime as dt
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import JustifyMethod
from rich.markup import escape
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    TextColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from retailake.cli.common import (
    EnvOption,
    FormatOption,
    OutputFormat,
    err,
    handle_errors,
    out,
    print_json,
)

if TYPE_CHECKING:
    from retailake.sample import Sample
    from retailake.sample.upload import UploadCounts


class Preset(StrEnum):
    small = "small"
    medium = "medium"
    large = "large"


class FileFormat(StrEnum):
    csv = "csv"
    jsonl = "jsonl"
    parquet = "parquet"


class Source(StrEnum):
    sales = "sales"
    inventory = "inventory"
    customers = "customers"


def _format_option(source: str, default: str) -> object:
    return typer.Option(
        f"--{source}-format", help=f"File format of {source} (default {default}).",
        show_default=False,
    )


def register(app: typer.Typer) -> None:
    app.command("seed-sample")(seed_sample)
    app.command("ingest")(ingest)


@handle_errors
def seed_sample(
    preset: Annotated[
        Preset,
        typer.Option(
            help="small: 10k sales lines over 92 days from 2025-10-01 (December included); "
            "medium: 1M and large: 10M, over 365 days from 2025-01-01."
        ),
    ] = Preset.small,
    sales_lines: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Sales lines to generate (overrides the preset's; the period stays the "
            "preset's).",
        ),
    ] = None,
    seed: Annotated[int, typer.Option(min=0, help="Same seed, same files, byte for byte.")] = 42,
    dirty_rate: Annotated[
        float, typer.Option(min=0.0, max=0.5, help="Share of rows that break the contract.")
    ] = 0.01,
    start: Annotated[
        dt.datetime | None,
        typer.Option(
            formats=["%Y-%m-%d"],
            help="First day of data (default: the preset's, 2025-10-01 for small, else "
            "2025-01-01).",
            show_default=False,
        ),
    ] = None,
    days: Annotated[
        int | None,
        typer.Option(
            min=1, help="Days of data (default: the preset's, 92 for small, else 365).",
            show_default=False,
        ),
    ] = None,
    sales_format: Annotated[FileFormat, _format_option("sales", "csv")] = FileFormat.csv,
    inventory_format: Annotated[
        FileFormat, _format_option("inventory", "jsonl")
    ] = FileFormat.jsonl,
    customers_format: Annotated[
        FileFormat, _format_option("customers", "csv")
    ] = FileFormat.csv,
    output: Annotated[
        Path | None,
        typer.Option(
            file_okay=False, help="Write the files to this folder instead of uploading them."
        ),
    ] = None,
    replace: Annotated[
        bool,
        typer.Option(
            "--replace",
            help="Remove the objects of an earlier sample of this seed, seeded with other "
            "settings, that this one does not rewrite (else refused).",
        ),
    ] = False,
    allow_prod: Annotated[
        bool,
        typer.Option("--allow-prod", help="Required to seed prod, whose analytics would count "
                     "the made-up sales with the real ones."),
    ] = False,
    env: EnvOption = None,
    output_format: FormatOption = OutputFormat.table,
) -> None:
    """Generate realistic retail sample data with dirty rows and upload it to the raw bucket."""
    from retailake.config import load_environment
    from retailake.outputs import load_outputs
    from retailake.sample import PRESET_WINDOWS, PRESETS, SampleSpec, generate
    from retailake.sample.upload import upload_sample

    first_day, period = PRESET_WINDOWS[preset.value]  # explicit --start / --days win
    spec = SampleSpec(
        sales_lines=sales_lines or PRESETS[preset.value],
        seed=seed,
        dirty_rate=dirty_rate,
        start=start.date() if start is not None else first_day,
        days=days if days is not None else period,
        formats={
            "sales": sales_format.value,
            "inventory": inventory_format.value,
            "customers": customers_format.value,
        },
    )
    if output is not None:
        with _steps() as step:
            sample = generate(spec, output, on_progress=step)
        _seed_summary(sample, spec.seed, str(output.resolve()), None, output_format)
        return
    from retailake.errors import ConfigError

    environment = load_environment(env)
    if environment.name == "prod" and not allow_prod:
        raise ConfigError("refusing to seed prod: its next run would count the sample's made-up "
                          "sales with the real ones (pass --allow-prod if that is what you want)")
    bucket = load_outputs(environment).buckets["raw"]  # fail before generating, not after
    with tempfile.TemporaryDirectory(prefix="retailake-sample-") as folder:
        with _steps() as step:
            sample = generate(spec, Path(folder), on_progress=step)
        total = sum(f.bytes for f in sample.files) + sample.manifest.stat().st_size
        with _bytes_bar(f"uploading to s3://{bucket}", total) as advance:
            counts = upload_sample(environment, bucket, sample, spec.seed, advance, replace)
    _seed_summary(sample, spec.seed, f"s3://{bucket}", counts, output_format)


@handle_errors
def ingest(
    path: Annotated[Path, typer.Argument(help="A file, or a folder searched recursively.")],
    source: Annotated[Source, typer.Option(help="Which raw source the files belong to.")],
    skip_invalid: Annotated[
        bool,
        typer.Option("--skip-invalid", help="Upload the valid files even if some are refused."),
    ] = False,
    replace: Annotated[
        bool,
        typer.Option(
            "--replace",
            help="Replace a different file ingested under the same name today (else refused).",
        ),
    ] = False,
    env: EnvOption = None,
    output_format: FormatOption = OutputFormat.table,
) -> None:
    """Check files against the raw contract, then upload them to the raw bucket."""
    from retailake.config import load_environment
    from retailake.errors import DataError
    from retailake.ingest import check_files, find_files, left_out, refusal
    from retailake.ingest import ingest as upload_checked

    environment = load_environment(env)
    checks = check_files(find_files(path), source.value)
    skipped = [str(p) for p in left_out(path)]
    if skipped:
        files = "a file" if len(skipped) == 1 else f"{len(skipped)} files"
        err.print(f"skipped {files} the pipeline would not read (not CSV, JSON "
                  "lines or Parquet, or named `_x`): " + escape(", ".join(skipped)),
                  highlight=False)  # fmt: skip
    refused = [check for check in checks if not check.ok]
    if refused:
        table = Table(title=f"refused {source.value} files", title_justify="left")
        table.add_column("file", overflow="fold")
        table.add_column("reason", overflow="fold")
        for check in refused:
            table.add_row(escape(str(check.path)), escape(check.reason))
        err.print(table)
    # the JSON document's shape, on success and on refusal alike
    report: dict[str, Any] = {
        "source": source.value,
        "files": [],
        **refusal([(check.path, check.reason) for check in refused]),
        "skipped": skipped,
    }
    if refused and not (skip_invalid and len(refused) < len(checks)):
        others = "" if len(refused) == len(checks) else " (--skip-invalid uploads the others)"
        raise DataError(
            f"{len(refused)} of {len(checks)} files break the {source.value} contract; "
            f"nothing was uploaded{others}",
            report,
        )
    total = sum(check.path.stat().st_size for check in checks if check.ok)
    try:
        with _bytes_bar(f"uploading {source.value}", total) as advance:
            done = upload_checked(environment, checks, source.value, on_bytes=advance,
                                  replace=replace)
    except DataError as taken:  # a name taken: the same document as a contract refusal
        refused_too = [*report["refused"], *taken.details.get("refused", [])]
        raise DataError(str(taken), {**report, "refused": refused_too}) from None
    if output_format is OutputFormat.json:
        report["files"] = [
            {"file": str(f.path), "key": f.key, "rows": f.rows, "bytes": f.bytes,
             "uploaded": f.uploaded}
            for f in done
        ]
        print_json(report)
        return
    table = Table(title=f"ingested {source.value}", title_justify="left")
    columns: tuple[tuple[str, JustifyMethod], ...] = (
        ("file", "left"), ("rows", "right"), ("bytes", "right"), ("object", "left"),
        ("state", "left"))
    for name, justify in columns:
        table.add_column(name, justify=justify, overflow="fold")
    for f in done:
        state = "uploaded" if f.uploaded else "unchanged"
        table.add_row(escape(str(f.path)), f"{f.rows:,}", f"{f.bytes:,}", escape(f.key), state)
    out.print(table)


def _seed_summary(
    sample: Sample,
    seed: int,
    destination: str,
    counts: UploadCounts | None,
    output_format: OutputFormat,
) -> None:
    """Per source: files, rows, bytes, dirty rows; then where it went."""
    from retailake.sample import manifest_key

    summary = sample.summary
    if output_format is OutputFormat.json:
        document: dict[str, Any] = {
            "destination": destination,
            "manifest": manifest_key(seed),
            "sources": {name: vars(totals) for name, totals in summary.items()},
        }
        if counts is not None:
            document.update(uploaded=counts.uploaded, unchanged=counts.unchanged,
                            removed=counts.removed)
        print_json(document)
        return
    table = Table(title=f"sample in {destination}", title_justify="left")
    table.add_column("source")
    for name in ("files", "rows", "bytes", "dirty rows"):
        table.add_column(name, justify="right")
    for name, totals in summary.items():
        figures = (totals.files, totals.rows, totals.bytes, totals.dirty_rows)
        table.add_row(name, *(f"{figure:,}" for figure in figures))
    out.print(table)
    if counts is not None:
        removed = f", {counts.removed} of the earlier sample removed" if counts.removed else ""
        out.print(f"{counts.uploaded} objects uploaded, {counts.unchanged} already there{removed}")


@contextmanager
def _steps() -> Iterator[Callable[[str], None]]:
    """A spinner on stderr naming the generation step under way."""
    columns = (SpinnerColumn(), TextColumn("{task.description}"))
    with _progress(*columns) as bar:
        task = bar.add_task("generating")

        def step(name: str) -> None:
            bar.update(task, description=f"generating: {name}")

        yield step


def _progress(*columns: ProgressColumn) -> Progress:
    """A transient progress display on stderr, shown on a terminal only: into a pipe or a log
    rich would leave a blank line behind (and FORCE_COLOR makes rich take a pipe for one)."""
    return Progress(*columns, console=err, transient=True, disable=not sys.stderr.isatty())


@contextmanager
def _bytes_bar(label: str, total: int) -> Iterator[Callable[[int], None]]:
    """A byte progress bar on stderr; the callback is safe to call from upload threads."""
    columns = (
        TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn()
    )
    with _progress(*columns) as bar:
        task = bar.add_task(label, total=total)
        yield lambda size: bar.advance(task, size)
