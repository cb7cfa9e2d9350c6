"""What every command shares: the --env and --format options, consoles, error handling."""

from __future__ import annotations

import errno
import functools
import json
import os
import sys
from collections.abc import Callable
from enum import StrEnum
from typing import Annotated, Any, NoReturn, ParamSpec, TextIO, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from retailake.errors import EXIT_FAILED, EXIT_USAGE, RetailakeError


def _width(stream: TextIO) -> int | None:
    """Terminal width for people; for a pipe or a log (rich's default would be 80, truncating
    tables) room enough that nothing is cut."""
    return None if stream.isatty() or "COLUMNS" in os.environ else 200


# Data goes to stdout; progress, logs and errors to stderr. An error stays one line.
out = Console(soft_wrap=True, width=_width(sys.stdout))
err = Console(stderr=True, soft_wrap=True, width=_width(sys.stderr))

_NOT_A_USABLE_PATH = {errno.ENOTDIR, errno.EISDIR, errno.ENOENT, errno.EEXIST, errno.EACCES,
                      errno.EPERM, errno.EROFS, errno.ENAMETOOLONG, errno.ELOOP}
P = ParamSpec("P")
R = TypeVar("R")


class OutputFormat(StrEnum):
    table = "table"
    json = "json"


class Settings:
    """Process-wide flags set by the root callback."""

    debug = False


EnvOption = Annotated[
    str | None,
    typer.Option(
        "--env",
        "-e",
        envvar="RETAILAKE_ENV",
        help="Environment: local (the default, the local twin), dev or prod.",
        show_default=False,
    ),
]
FormatOption = Annotated[
    OutputFormat,
    typer.Option("--format", "-f", help="table for people, json for machines."),
]
AutoApproveOption = Annotated[
    bool,
    typer.Option("--auto-approve", help="Apply without asking (for automation)."),
]


def handle_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn RetailakeError into one red line and its exit code; anything unexpected into one
    line too. --debug adds the traceback and keeps the exit code. Under --format json the
    error is also one JSON document on stdout, so that a machine always gets one."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        as_json = kwargs.get("output_format") == OutputFormat.json  # also query's own format
        try:
            return command(*args, **kwargs)
        except RetailakeError as error:
            # Messages quote user input (SQL, paths) whose brackets are not rich markup.
            _fail(f"[bold red]error:[/] {escape(str(error))}", error, error.exit_code, as_json)
        except (typer.Exit, typer.Abort, BrokenPipeError):  # a closed pipe: Click exits quietly
            raise
        except KeyboardInterrupt:  # commands with more to say catch it themselves
            say_interrupted(as_json)
            raise typer.Exit(EXIT_FAILED) from None
        except OSError as error:
            if error.filename is None:  # not a path: a socket, say
                _unexpected(error, as_json)
            # a path the user chose (RETAILAKE_HOME, --output) that cannot be used
            words = f"cannot use {error.filename}: {error.strerror or error}"
            # a path that cannot be: the user's to change; a full disk, an I/O error: a failure
            code = EXIT_USAGE if error.errno in _NOT_A_USABLE_PATH else EXIT_FAILED
            _fail(f"[bold red]error:[/] {escape(words)}", RetailakeError(words), code, as_json)
        except Exception as error:
            _unexpected(error, as_json)

    return wrapper


def say_interrupted(as_json: bool) -> None:
    words = "interrupted: nothing half-done counts as done; run the command again to finish"
    _say(f"[bold red]{words}[/]", RetailakeError(words), EXIT_FAILED, as_json)


def _unexpected(error: Exception, as_json: bool) -> NoReturn:
    hint = "" if Settings.debug else " (run with --debug for the traceback)"
    line = f"[bold red]unexpected error:[/] {type(error).__name__}: {escape(str(error))}"
    _fail(line + hint, error, EXIT_FAILED, as_json)


def _fail(line: str, error: Exception, exit_code: int, as_json: bool) -> NoReturn:
    _say(line, error, exit_code, as_json)
    raise typer.Exit(exit_code) from None


def _say(line: str, error: Exception, exit_code: int, as_json: bool) -> None:
    if Settings.debug:
        err.print_exception()
    err.print(line, highlight=False)
    if as_json:
        details = error.details if isinstance(error, RetailakeError) else {}
        print_json({**details, "error": str(error), "exit_code": exit_code})


def print_json(data: Any) -> None:
    """Machine output: one JSON document on stdout, plain text whatever the terminal (rich
    would colour it when FORCE_COLOR is set, even into a pipe)."""
    sys.stdout.write(json.dumps(data, default=str, indent=2) + "\n")
    sys.stdout.flush()
