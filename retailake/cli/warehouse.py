"""`retailake warehouse setup` and `retailake query`: the Spectrum external schema and BI views,
then named or ad hoc SQL printed as a table, CSV or JSON (data on stdout, the rest on stderr)."""

from __future__ import annotations

import csv
import math
import sys
import time
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from retailake.cli.common import (
    EnvOption,
    FormatOption,
    OutputFormat,
    err,
    handle_errors,
    out,
    print_json,
)
from retailake.errors import ConfigError

if TYPE_CHECKING:
    from retailake.warehouse.base import QueryResult, Warehouse
    from retailake.warehouse.sql_files import NamedQuery

app = typer.Typer(help="The warehouse: Redshift Spectrum on AWS, DuckDB on the local twin.",
                  no_args_is_help=True)


class QueryFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


DbUserOption = Annotated[
    str | None,
    typer.Option(
        "--db-user",
        help="AWS only: the Redshift user to get temporary credentials for (default: your "
        "IAM identity, through GetClusterCredentialsWithIAM).",
        show_default=False,
    ),
]


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="warehouse")
    root.command("query")(query)


def _open(env: str | None, db_user: str | None) -> Warehouse:
    from retailake.config import load_environment
    from retailake.outputs import load_outputs
    from retailake.warehouse import open_warehouse

    environment = load_environment(env)
    return open_warehouse(environment, load_outputs(environment), db_user=db_user)


@app.command()
@handle_errors
def setup(
    env: EnvOption = None,
    db_user: DbUserOption = None,
    output_format: FormatOption = OutputFormat.table,
) -> None:
    """Create the Spectrum external schema over the analytics catalog and the BI views of
    sql/views. Safe to run again: it changes nothing that is already right."""
    warehouse = _open(env, db_user)
    with err.status("Setting up the warehouse"):
        steps = warehouse.setup()
    if output_format is OutputFormat.json:
        print_json({"steps": [{"kind": s.kind, "name": s.name, "detail": s.detail}
                              for s in steps]})  # fmt: skip
        return
    table = Table(title="Warehouse", title_justify="left")
    for column in ("kind", "name", "detail"):
        table.add_column(column, no_wrap=column == "name")
    for step in steps:
        table.add_row(step.kind, step.name, escape(step.detail))
    out.print(table)


@handle_errors
def query(
    name: Annotated[
        str | None,
        typer.Argument(help="A named query of sql/queries; without one, the list of them.",
                       show_default=False),
    ] = None,
    sql: Annotated[
        str | None,
        typer.Option("--sql", help="Run this statement (Redshift SQL) instead.",
                     show_default=False),
    ] = None,
    output_format: Annotated[
        QueryFormat,
        typer.Option("--format", "-f", help="table for people, csv or json for machines."),
    ] = QueryFormat.table,
    env: EnvOption = None,
    db_user: DbUserOption = None,
) -> None:
    """Run a named query of sql/queries, or any statement with --sql, on the warehouse."""
    from retailake.config import load_environment
    from retailake.warehouse import sql_files

    if name and sql is not None:
        raise ConfigError("give a query name or --sql, not both")
    if sql is not None and not sql.strip():  # a script's empty variable: no list in its place
        raise ConfigError("--sql is empty: give the statement to run")
    named: NamedQuery | None = None
    if name:
        named = sql_files.named_query(name)
        statement = named.sql
    elif sql is not None:
        statement = sql
    else:
        load_environment(env)  # a wrong --env is an error here too, not a list
        _list_queries(sql_files.named_queries(), output_format)
        return
    warehouse = _open(env, db_user)
    started = time.monotonic()
    with err.status(f"Running {name or 'the statement'}"):
        result = warehouse.run(statement)
    _print_result(result, output_format, title=named.question if named else None)
    rows = len(result.rows)
    err.print(f"{rows:,} row{'s' if rows != 1 else ''} in {time.monotonic() - started:.1f} s",
              highlight=False)


def _list_queries(queries: dict[str, NamedQuery], output_format: QueryFormat) -> None:
    listing = [{"name": q.name, "question": q.question} for q in queries.values()]
    if output_format is QueryFormat.json:  # shaped as a query's result: a table of its own
        print_json({"columns": ["name", "question"], "rows": listing})
    elif output_format is QueryFormat.csv:
        _write_csv(["name", "question"], [(q["name"], q["question"]) for q in listing])
    else:
        table = Table(title="Named queries (retailake query NAME)", title_justify="left")
        table.add_column("name", no_wrap=True)
        table.add_column("question")
        for item in listing:
            table.add_row(item["name"], escape(item["question"]))
        out.print(table)


def _json_value(value: Any) -> Any:
    """Decimals as JSON numbers (exact integers stay integers); an infinite or NaN float as
    null (JSON has no such number: json.dumps would write `Infinity`); dates and the rest as
    text."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def unique_names(columns: list[str]) -> list[str]:
    """Column names as JSON keys: `SELECT SUM(a), SUM(b)` names both `sum`, and a JSON object
    keeps only the last of two equal keys, so the second becomes `sum_2`, and so on."""
    names: list[str] = []
    for column in columns:
        name, count = column, 1
        while name in names:
            count += 1
            name = f"{column}_{count}"
        names.append(name)
    return names


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _write_csv(columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([_text(v) for v in row] for row in rows)


def _result_table(result: QueryResult, title: str | None) -> Table:
    """The rows as a table that shows every character of them on a narrow terminal: a number
    keeps its whole width (a cut `116031.…` reads as another figure), and headers and text fold
    onto more lines rather than end in an ellipsis."""
    table = Table(title=title, title_justify="left")
    for i, column in enumerate(result.columns):
        values = [row[i] for row in result.rows]
        numeric = bool(values) and all(isinstance(v, int | float | Decimal) or v is None
                                       for v in values)  # fmt: skip
        widest = max((len(_text(v)) for v in values), default=0) if numeric else None
        table.add_column(column, justify="right" if numeric else "left", min_width=widest,
                         overflow="fold")  # fmt: skip
    for row in result.rows:
        table.add_row(*(escape(_text(v)) for v in row))
    return table


def _print_result(result: QueryResult, output_format: QueryFormat, title: str | None) -> None:
    if output_format is QueryFormat.json:
        names = unique_names(result.columns)
        print_json({
            "columns": names,
            "rows": [
                {c: _json_value(v) for c, v in zip(names, row, strict=True)}
                for row in result.rows
            ],
        })
    elif output_format is QueryFormat.csv:
        _write_csv(result.columns, result.rows)
    else:
        out.print(_result_table(result, title))
