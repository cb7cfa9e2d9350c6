"""`retailake local up | down | status`: the local twin's AWS emulator."""

from __future__ import annotations

from dataclasses import asdict

import typer
from rich.markup import escape
from rich.table import Table

from retailake.cli.common import FormatOption, OutputFormat, err, handle_errors, out, print_json
from retailake.config import load_environment

app = typer.Typer(help="The local twin's AWS emulator (moto on 127.0.0.1).", no_args_is_help=True)


@app.command()
@handle_errors
def up(output_format: FormatOption = OutputFormat.table) -> None:
    """Start the emulator (a no-op when it is running). The lake's state is restored."""
    from retailake.local import emulator

    env = load_environment("local")
    with err.status("Starting the local twin's emulator"):
        state = emulator.start(env)
    if output_format is OutputFormat.json:
        print_json(asdict(state))
    err.print(f"Emulator running at {state.endpoint_url} (pid {state.pid}).")


@app.command()
@handle_errors
def down(output_format: FormatOption = OutputFormat.table) -> None:
    """Stop the emulator. Its state is kept on disk; `local up` brings it all back."""
    from retailake.local import emulator

    env = load_environment("local")
    stopped = emulator.stop(env)
    if output_format is OutputFormat.json:  # what `local status` now says, and what it was
        print_json({**asdict(emulator.status(env)), "was_running": stopped})
    err.print("Emulator stopped." if stopped else "Emulator was not running.")


@app.command()
@handle_errors
def status(output_format: FormatOption = OutputFormat.table) -> None:
    """Whether the emulator runs, where, and where it keeps its state."""
    from retailake.local import emulator

    env = load_environment("local")
    state = emulator.status(env)
    silent = None if state.running else emulator.why_silent(env)
    if output_format is OutputFormat.json:
        print_json(asdict(state))
    else:
        table = Table(show_header=False)
        for name, value in asdict(state).items():
            table.add_row(name, _shown(value))
        out.print(table)
    if silent:  # its process lives, though it does not answer here: say why
        err.print(f"[yellow]{escape(silent)}[/]", highlight=False)


def _shown(value: object) -> str:
    """A value as a person reads it: yes / no, and a dash for nothing."""
    if isinstance(value, bool):
        return "[green]yes[/]" if value else "no"
    return "-" if value is None else str(value)
