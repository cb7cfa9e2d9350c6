"""Optional Glue job arguments: getResolvedOptions knows only required ones."""

from __future__ import annotations

from collections.abc import Sequence


def optional_argument(argv: Sequence[str], name: str) -> str | None:
    """The value of `--name value` or `--name=value` in a Glue argv, or None."""
    for index, arg in enumerate(argv):
        if arg == f"--{name}" and index + 1 < len(argv):
            return argv[index + 1]
        if arg.startswith(f"--{name}="):
            return arg.split("=", 1)[1]
    return None


def full_refresh_requested(argv: Sequence[str]) -> bool:
    """`--full_refresh true|false` (absent: false): rebuild everything instead of increments."""
    value = optional_argument(argv, "full_refresh") or "false"
    return value.strip().lower() in ("true", "1", "yes")
