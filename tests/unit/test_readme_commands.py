"""The README's command headings (`### retailake deploy [--auto-approve] ...`) name exactly
the options each command takes: a user reads them as the command's synopsis."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer.main
from typer._click.core import Context

from retailake.cli import app

README = Path(__file__).resolve().parents[2] / "README.md"
# Taken by every command, and said once in the README rather than in each heading.
EVERYWHERE = {"--env", "--help"}


def _commands(command: Any, context: Any, path: tuple[str, ...] = ()) -> Iterator[tuple]:
    """(name path, long options) of every leaf command."""
    if hasattr(command, "list_commands"):
        for name in command.list_commands(context):
            yield from _commands(command.get_command(context, name), context, (*path, name))
    else:
        yield path, {o for p in command.params for o in p.opts if o.startswith("--")}


def _headings() -> dict[tuple[str, ...], set[str]]:
    """Each heading's command (`local up | down | status` names three) and its options, with
    `--{a,b}-format` spelled out."""
    found: dict[tuple[str, ...], set[str]] = {}
    for line in README.read_text().splitlines():
        match = re.match(r"### `retailake ([^`]*)`", line)
        if not match:
            continue
        words: list[str] = []
        for token in match.group(1).split():
            if token != "|" and not re.fullmatch(r"[a-z][a-z-]*", token):
                break
            words.append(token)
        options: set[str] = set()
        for option in re.findall(r"--[\w{},-]+", match.group(1)):
            spelled = re.match(r"--\{([\w,]+)\}(.*)", option)
            options |= ({f"--{name}{spelled.group(2)}" for name in spelled.group(1).split(",")}
                        if spelled else {option})  # fmt: skip
        if "|" in words:  # one heading for several subcommands of a group
            group, *alternatives = [w for w in words if w != "|"]
            found.update({(group, name): options for name in alternatives})
        else:
            found[tuple(words)] = options
    return found


def test_every_command_has_a_heading_naming_exactly_its_options():
    group = typer.main.get_command(app)
    commands = dict(_commands(group, Context(group)))
    headings = _headings()
    assert set(headings) == set(commands)
    for path, options in commands.items():
        assert headings[path] == options - EVERYWHERE, path
