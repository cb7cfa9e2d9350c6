"""The README's local commands, run as written, in order, on the session's twin (deployed,
seeded, pipeline run): a walkthrough or example that stops working fails the suite.

A command is an indented README line that starts with `retailake ` or `$ retailake ` (the
`$` form is followed by its documented output). An example whose documented output starts
with `error:` must fail (exit 1 or 2); every other command must succeed, and a documented
JSON document must have the fields, and their types, that the command prints (a CSV its
header). Not run here:
`--env dev|prod` (no AWS account) and `destroy`, which the session fixture runs at its end
and test_deploy_lifecycle checks."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.integration.conftest import DEPLOY, README, SEED

pytestmark = pytest.mark.integration
_COMMAND = re.compile(r"^ {4}(?:\$ )?(retailake .*)$")
_TRAILING_COMMENT = re.compile(r"\s+#\s.*$")


@dataclass(frozen=True)
class Example:
    line: int
    command: str
    must_fail: bool
    documented: str  # the output shown under a `$ retailake` line


def examples(text: str) -> list[Example]:
    """Every README command in document order, its comment cut off."""
    lines = text.splitlines()
    found = []
    for index, line in enumerate(lines):
        match = _COMMAND.match(line)
        if not match:
            continue
        shown = _shown_under(lines, index) if line.startswith("    $ ") else ""
        found.append(Example(index + 1, _TRAILING_COMMENT.sub("", match.group(1)).strip(),
                             shown.startswith("error:"), shown))  # fmt: skip
    return found


def _shown_under(lines: list[str], index: int) -> str:
    """The indented lines after a `$` command, up to the next command or the block's end."""
    shown = []
    for line in lines[index + 1 :]:
        if not line.startswith("    ") or _COMMAND.match(line):
            break
        shown.append(line.strip())
    return "\n".join(shown)


def _fields(document: dict) -> dict[str, str]:
    return {key: type(value).__name__ for key, value in document.items()}


def runnable(example: Example) -> bool:
    words = shlex.split(example.command.split("&&")[0])
    return "destroy" not in words and not {"dev", "prod"} & set(words)


def test_the_readme_parser_sees_the_walkthrough():
    commands = [e.command for e in examples(README.read_text())]
    for expected in ("retailake deploy --auto-approve", "retailake seed-sample --preset small",
                     "retailake run-pipeline"):  # fmt: skip
        assert expected in commands


def test_the_readme_shows_what_a_first_deploy_prints(first_deploy):
    """Its resource count and script uploads: the walkthrough's example output."""
    documented = {line.strip() for line in README.read_text().splitlines()}
    printed = [line for line in first_deploy.stderr.splitlines()  # what a person reads
               if line.startswith(("Plan: ", "Applied to ", "ETL scripts: "))]
    assert len(printed) == 3 and set(printed) <= documented, printed


def test_every_local_readme_command_works_as_documented(pipeline_run):
    venv_bin = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '')}"}
    already_run = {shlex.join(("retailake", *words)) for words in (DEPLOY, SEED)}
    for example in filter(runnable, examples(README.read_text())):
        if example.command in already_run:
            continue
        already_run.add(example.command)
        done = subprocess.run(["bash", "-c", example.command], env=env, capture_output=True,
                              text=True, timeout=900, stdin=subprocess.DEVNULL)  # fmt: skip
        shown = f"README line {example.line}: {example.command}\n{done.stdout}\n{done.stderr}"
        if example.must_fail:
            assert done.returncode in (1, 2), shown
            assert "error:" in done.stderr, shown
        else:
            assert done.returncode == 0, shown
            if "--format json" in example.command and example.documented.startswith("{"):
                documented = json.loads(example.documented)
                assert _fields(json.loads(done.stdout)) == _fields(documented), shown
            if "--format csv" in example.command and example.documented:  # its header
                assert done.stdout.splitlines()[0] == example.documented.splitlines()[0], shown
