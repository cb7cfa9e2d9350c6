"""The one family of errors a user sees: each carries a message they can act on."""

from typing import Any

EXIT_FAILED = 1
EXIT_USAGE = 2


class RetailakeError(Exception):
    """An operation failed; the message says what and what to do about it. `details` go into
    the error's JSON document under `--format json` (e.g. which files were refused)."""

    exit_code = EXIT_FAILED

    def __init__(self, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.details = details or {}


class ConfigError(RetailakeError):
    """Bad usage or configuration: unknown environment, missing tool, bad variable."""

    exit_code = EXIT_USAGE


class TerraformError(RetailakeError):
    """Terraform ran and failed; the message holds its relevant lines."""


class EmulatorError(RetailakeError):
    """The local twin's emulator could not be started, reached or stopped."""


class PortTakenError(EmulatorError):
    """The twin's port is another program's: a setting to change (RETAILAKE_LOCAL_PORT)."""

    exit_code = EXIT_USAGE


class AwsError(RetailakeError):
    """An AWS (or emulator) call failed."""


class DataError(RetailakeError):
    """Input data breaks the raw contract: the message names the file and the reason."""

    exit_code = EXIT_USAGE
