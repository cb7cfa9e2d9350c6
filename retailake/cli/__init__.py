"""The `retailake` command: a root Typer app whose commands each hand off to one core function.

Heavy modules (boto3, python_terraform, pyarrow) are imported inside the commands, so
`retailake --help` stays instant."""

from __future__ import annotations

import signal
import sys
from types import FrameType
from typing import Annotated

import typer

from retailake import __version__
from retailake.cli import data, deploy, local, pipeline, status, warehouse
from retailake.cli.common import Settings, print_json, say_interrupted
from retailake.errors import EXIT_FAILED

app = typer.Typer(
    name="retailake",
    help="Deploy and run a retail analytics lake on AWS, or on the local twin (--env local).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"retailake {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """retailake: a governed retail lake in minutes."""
    Settings.debug = debug


deploy.register(app)
data.register(app)
pipeline.register(app)
warehouse.register(app)
status.register(app)
app.add_typer(local.app, name="local")


def main() -> None:
    """The console script. A usage error (a bad option or value) is Click's, reported before
    any command runs: under `--format json` it is also one JSON document on stdout. SIGTERM
    (a `kill`, a CI runner's timeout) and SIGHUP (the terminal closed) are taken as Ctrl-C:
    Terraform is stopped and waited for, a pipeline run is recorded as it ended, and the
    command says what a rerun finishes."""
    for stop in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(stop, _as_ctrl_c)
    try:
        app()
    except SystemExit as stop:
        usage = stop.__context__  # typer exits from inside its handler of (its) Click's error
        # Ctrl-C before any command began: Typer exits 130 silently; say it as a command does
        if isinstance(usage, typer.Exit) and isinstance(usage.__cause__, KeyboardInterrupt):
            say_interrupted(_wants_json(sys.argv[1:]))
            raise SystemExit(EXIT_FAILED) from None
        if isinstance(usage, typer.TyperException) and _wants_json(sys.argv[1:]):
            words = usage.format_message() if hasattr(usage, "format_message") else str(usage)
            print_json({"error": words, "exit_code": stop.code})
        raise


def _as_ctrl_c(_signum: int, frame: FrameType | None) -> None:
    """Run whichever Ctrl-C handler is in place at the time; none (a background job of a
    script ignores SIGINT) means Python's own, which raises KeyboardInterrupt."""
    handler = signal.getsignal(signal.SIGINT)
    if not callable(handler):
        raise KeyboardInterrupt
    handler(signal.SIGINT, frame)


def _wants_json(argv: list[str]) -> bool:
    pairs = zip(argv, [*argv[1:], ""], strict=True)
    return any(
        (flag in ("--format", "-f") and value == "json") or flag in ("--format=json", "-fjson")
        for flag, value in pairs
    )
