"""The one family of errors a user sees: each carries a message they can act on."""

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


class RetailakeError(Exception):
    """An operation failed; the message says what and what to do about it."""

    exit_code = EXIT_FAILED


class ConfigError(RetailakeError):
    """Bad usage or configuration: unknown environment, missing tool, bad variable."""

    exit_code = EXIT_USAGE


class TerraformError(RetailakeError):
    """Terraform ran and failed; the message holds its relevant lines."""


class EmulatorError(RetailakeError):
    """The local twin's emulator could not be started, reached or stopped."""


class AwsError(RetailakeError):
    """An AWS (or emulator) call failed."""


class DataError(RetailakeError):
    """Input data breaks the raw contract: the message names the file and the reason."""

    exit_code = EXIT_USAGE
