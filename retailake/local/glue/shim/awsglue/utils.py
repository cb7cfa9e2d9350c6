"""getResolvedOptions with the real one's semantics: named options are required, others are
ignored, and a missing one raises GlueArgumentError."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import NoReturn


class GlueArgumentError(Exception):
    pass


class GlueArgumentParser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise GlueArgumentError(message)


def getResolvedOptions(args: Sequence[str], options: Sequence[str]) -> dict[str, str]:
    """The values of `--<option>` for each named option, from a Glue-style argv."""
    parser = GlueArgumentParser(add_help=False)
    for option in options:
        parser.add_argument(f"--{option}", dest=option, required=True)
    parsed, _ = parser.parse_known_args(list(args[1:]))
    return {option: getattr(parsed, option) for option in options}
