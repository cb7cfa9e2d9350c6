"""What both warehouses (Redshift, local DuckDB) answer, and the error a failed statement gives."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from retailake.errors import EXIT_USAGE, RetailakeError


class SqlError(RetailakeError):
    """The database refused a statement: its message, then the statement itself."""

    def __init__(self, message: str, statement: str) -> None:
        self.message = message.strip()
        self.statement = statement.strip()
        indented = "\n".join(f"    {line}" for line in self.statement.splitlines())
        super().__init__(f"{self.message}\n  in the statement:\n{indented}")


class SqlInputError(SqlError):
    """A statement refused before any database sees it: not valid SQL, or not one statement."""

    exit_code = EXIT_USAGE


@dataclass(frozen=True)
class SetupStep:
    """One object that `warehouse setup` created or refreshed."""

    kind: str  # "external schema", "external table", "schema", "view"
    name: str
    detail: str = ""


@dataclass(frozen=True)
class QueryResult:
    columns: list[str]
    rows: list[tuple[Any, ...]]


class Warehouse(Protocol):
    """One SQL engine behind `warehouse setup` and `query`."""

    def setup(self) -> list[SetupStep]:
        """Create the external schema and the views; running it again changes nothing."""
        ...

    def run(self, sql: str) -> QueryResult:
        """Run one Redshift-dialect statement and return its rows."""
        ...
