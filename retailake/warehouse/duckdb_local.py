"""The local twin's warehouse: DuckDB standing in for Redshift Spectrum.

Like Spectrum, the external schema is read from the Glue catalog (the emulator's) whenever it
is used: one view per analytics table, over a local mirror of the folders the catalog names
for it now (its partitions' locations, or its own; see `mirror`), typed as the catalog types
it, partition columns included. The BI views and the
queries are the very files of `sql/`, translated from Redshift to DuckDB by sqlglot. The
database file lives under the environment's state folder."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import duckdb
import sqlglot
from botocore.exceptions import BotoCoreError, ClientError
from retailake_etl.catalog import GlueCatalog
from sqlglot import exp
from sqlglot.errors import ErrorLevel, ParseError, SqlglotError, TokenError
from sqlglot.optimizer.normalize_identifiers import normalize_identifiers

from retailake.aws.clients import aws_error, client
from retailake.aws.s3 import split_s3_url
from retailake.config import Environment
from retailake.errors import ConfigError, RetailakeError
from retailake.outputs import Outputs
from retailake.warehouse import local_copy_dir, mirror, sql_files
from retailake.warehouse.base import QueryResult, SetupStep, SqlError, SqlInputError


def _locked(error: duckdb.IOException) -> bool:
    """Whether another process holds the database file (DuckDB allows one writer)."""
    return "Could not set lock" in str(error)


_PARQUET_INPUT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
_SIMPLE_TYPES = {
    "string": "VARCHAR",
    "boolean": "BOOLEAN",
    "tinyint": "TINYINT",
    "smallint": "SMALLINT",
    "int": "INTEGER",
    "integer": "INTEGER",
    "bigint": "BIGINT",
    "float": "FLOAT",
    "double": "DOUBLE",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "binary": "BLOB",
}
_PARAMETERIZED = re.compile(r"^(decimal\(\d+,\s*\d+\)|varchar\(\d+\)|char\(\d+\))$")


def to_duckdb(sql: str, query_only: bool = False) -> str:
    """One Redshift statement in DuckDB's dialect. `WITH NO SCHEMA BINDING` (late-binding
    views, which Redshift needs over external tables) has no DuckDB meaning and is dropped.
    `query_only`: a user's statement, which must be a query of the lake's tables (what passes
    here would pass in Redshift too, not DuckDB's own PRAGMA, COPY or read_csv())."""
    try:
        statements = [s for s in sqlglot.parse(sql, read="redshift") if s is not None]
    except ParseError as error:
        raise SqlInputError(f"not valid Redshift SQL: {_where(error)}", sql) from None
    except TokenError as error:
        raise SqlInputError(f"not valid Redshift SQL: {error}", sql) from None
    if len(statements) != 1:
        raise SqlInputError(f"expected one statement, found {len(statements)}", sql)
    tree = statements[0]
    if query_only:
        _refuse_all_but_a_query(tree, sql)
    for create in tree.find_all(exp.Create):
        create.set("no_schema_binding", False)
    # Redshift folds every identifier to lower case, quoted or not (`SELECT 1 AS Foo` gives a
    # column `foo`); DuckDB keeps the case it is given.
    tree = normalize_identifiers(tree, dialect="redshift")
    if isinstance(tree, exp.Select):
        _name_aggregates_as_redshift_does(tree)
    try:
        return tree.sql("duckdb", unsupported_level=ErrorLevel.RAISE)
    except SqlglotError as error:
        raise SqlError(f"cannot translate to the local warehouse: {error}", sql) from None


def _refuse_all_but_a_query(tree: exp.Expr, sql: str) -> None:
    if not isinstance(tree, exp.Query) or tree.find(exp.Into):  # SELECT INTO makes a table
        raise SqlInputError("not a Redshift query: the local warehouse runs SELECT statements "
                            "(a WITH or a UNION of them) only", sql)  # fmt: skip
    for source in tree.find_all(exp.Table, exp.Lateral):
        if isinstance(source.this, exp.Func):
            raise SqlInputError(f"{source.this.sql('duckdb')} is not a table of the lake: the "
                                "local warehouse reads its tables only", sql)  # fmt: skip


def _where(error: ParseError) -> str:
    """sqlglot's first complaint with its place, without the terminal escapes it underlines
    the culprit with."""
    if not error.errors:
        return str(error)
    first = error.errors[0]
    return (f"{first['description']} at line {first['line']}, column {first['col']} "
            f"(near '{first['highlight']}')")


def _name_aggregates_as_redshift_does(select: exp.Select) -> None:
    """An unaliased aggregate column is called `count`, `sum`... by Redshift but `count_star()`,
    `sum(x)` by DuckDB: give it Redshift's name, so output and scripts agree on both."""
    for projection in select.expressions:
        if isinstance(projection, exp.AggFunc):
            projection.replace(exp.alias_(projection.copy(), projection.key))


def duckdb_type(glue_type: str) -> str:
    """The DuckDB type of a Glue (Hive) column type."""
    name = glue_type.strip().lower()
    if name in _SIMPLE_TYPES:
        return _SIMPLE_TYPES[name]
    if _PARAMETERIZED.match(name):
        return name.upper()
    raise ConfigError(f"the local warehouse cannot read Glue type '{glue_type}'")


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def external_view_sql(
    schema: str, table: dict[str, Any], folders: list[Path], has_files: bool
) -> str:
    """CREATE OR REPLACE VIEW <schema>.<table> over the Parquet in `folders`, one column per
    catalog column (partition keys from the folder names, as text, like the catalog types
    them). A table without files is an empty view of the same columns."""
    partition_keys = table.get("PartitionKeys", [])
    columns = [*table["StorageDescriptor"]["Columns"], *partition_keys]
    select = ", ".join(
        f"CAST({_quote(c['Name'])} AS {duckdb_type(c['Type'])}) AS {_quote(c['Name'])}"
        if has_files
        else f"CAST(NULL AS {duckdb_type(c['Type'])}) AS {_quote(c['Name'])}"
        for c in columns
    )
    name = f"{_quote(schema)}.{_quote(table['Name'])}"
    if not has_files:
        return f"CREATE OR REPLACE VIEW {name} AS SELECT {select} WHERE false"
    pattern = "[" + ", ".join(_literal(str(f / "*.parquet")) for f in sorted(folders)) + "]"
    options = "union_by_name = true"
    if partition_keys:
        options += ", hive_partitioning = true, hive_types_autocast = false"
    source = f"read_parquet({pattern}, {options})"
    return f"CREATE OR REPLACE VIEW {name} AS SELECT {select} FROM {source}"


class LocalWarehouse:
    """DuckDB over the emulator's analytics layer, for `warehouse setup` and `query`."""

    def __init__(self, env: Environment, outputs: Outputs) -> None:
        self.env = env
        self.outputs = outputs
        self.folder = local_copy_dir(env)
        self.database = self.folder / "warehouse.duckdb"

    def setup(self) -> list[SetupStep]:
        self.folder.mkdir(parents=True, exist_ok=True)
        with self._connect() as con:
            steps = self._refresh_external_schema(con)
            for statement in sql_files.view_statements():
                _execute(con, statement)
                steps.append(sql_files.describe(statement))
        return steps

    def run(self, sql: str) -> QueryResult:
        if not self.database.is_file():
            raise ConfigError(
                f"the warehouse of '{self.env.name}' is not set up: "
                f"run `retailake warehouse setup --env {self.env.name}` first"
            )
        with self._connect() as con:
            self._refresh_external_schema(con)
            # the user's statement reads the warehouse's copy of the lake and nothing else
            con.execute("SET allowed_directories = ?", [[str(self.folder)]])
            con.execute("SET enable_external_access = false")
            cursor = _execute(con, sql, query_only=True, missing=(
                f"the BI views and external tables are made anew by "
                f"`retailake warehouse setup --env {self.env.name}`"))  # fmt: skip
            columns = [d[0] for d in cursor.description or []]
            return QueryResult(columns, cursor.fetchall() if columns else [])

    def external_schema_present(self) -> bool | None:
        """Whether `warehouse setup` built the external schema here (for `status`); None
        while another retailake command holds the database file."""
        if not self.database.is_file():
            return False
        try:
            with duckdb.connect(str(self.database), read_only=True) as con:
                found = con.execute(
                    "SELECT count(*) FROM information_schema.schemata WHERE schema_name = ?",
                    [sql_files.external_schema_name()],
                ).fetchone()
        except duckdb.IOException as error:
            if _locked(error):
                return None
            raise self._unusable(error) from None
        return bool(found and found[0])

    def _connect(self) -> duckdb.DuckDBPyConnection:
        try:
            con = duckdb.connect(str(self.database))
        except duckdb.IOException as error:
            if not _locked(error):
                raise self._unusable(error) from None
            raise RetailakeError(
                f"the local warehouse {self.database} is busy: {error}; run again when the "
                "other retailake command is done"
            ) from None
        con.execute("SET TimeZone = 'UTC'")  # Redshift's sessions are UTC, not this machine's
        con.execute("SET integer_division = true")  # 7 / 2 is 3 in Redshift, 3.5 in DuckDB
        return con

    def _unusable(self, error: duckdb.Error) -> RetailakeError:
        return RetailakeError(
            f"the local warehouse {self.database} cannot be opened ({error}): delete it and run "
            "`retailake warehouse setup` again (it holds the views only; the data is the lake's)"
        )

    def _catalog_tables(self) -> list[dict[str, Any]]:
        database = self.outputs["glue_databases"]["analytics"]
        glue = client(self.env, "glue")
        try:
            pages = glue.get_paginator("get_tables").paginate(DatabaseName=database)
            return [table for page in pages for table in page["TableList"]]
        except (ClientError, BotoCoreError) as error:
            raise aws_error(error, f"reading the Glue catalog database {database}") from error

    @staticmethod
    def _current_folders(glue: Any, database: str, table: dict[str, Any]) -> tuple[str, list[str]]:
        """(the folder to mirror, the folders in it the catalog names now): a partitioned
        table's location and its partitions' folders; an unpartitioned table's folder, and when
        it is a generation the one above it (where the folders it named before are)."""
        location = table["StorageDescriptor"]["Location"].rstrip("/")
        if not table.get("PartitionKeys"):
            generation = location.rsplit("/", 1)[-1].startswith("gen=")
            return location.rsplit("/", 1)[0] if generation else location, [location]
        name = table["Name"]
        try:
            partitions = GlueCatalog(database, glue).partition_locations(name)
        except (ClientError, BotoCoreError) as error:
            raise aws_error(error, f"reading the partitions of {database}.{name}") from error
        return location, [folder.rstrip("/") for folder in partitions.values()]

    def _refresh_external_schema(self, con: duckdb.DuckDBPyConnection) -> list[SetupStep]:
        """The external schema as the catalog has it now: Spectrum reads the catalog and S3 at
        query time, so this runs before every query too (downloading only changed files)."""
        schema = sql_files.external_schema_name()
        database = self.outputs["glue_databases"]["analytics"]
        tables = self._catalog_tables()
        glue = client(self.env, "glue")
        if not tables:
            raise ConfigError(
                f"the analytics catalog database {database} has no tables yet: "
                f"run `retailake run-pipeline --env {self.env.name}` first"
            )
        s3 = client(self.env, "s3")
        steps = [SetupStep("external schema", schema, f"Glue database {database}")]
        con.execute("BEGIN")
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {_quote(schema)}")
        for table in sorted(tables, key=lambda t: t["Name"]):
            descriptor = table["StorageDescriptor"]
            if descriptor.get("InputFormat") != _PARQUET_INPUT:
                raise ConfigError(
                    f"catalog table {database}.{table['Name']} is not Parquet: "
                    "the local warehouse reads Parquet tables only"
                )
            root, current = self._current_folders(glue, database, table)
            synced = mirror.sync(s3, root, self.folder / "s3", within=current)
            local = [self.folder / "s3" / "/".join(split_s3_url(url)).rstrip("/")
                     for url in current]  # fmt: skip
            con.execute(external_view_sql(schema, table, local, synced.files > 0))
            steps.append(
                SetupStep(
                    "external table",
                    f"{schema}.{table['Name']}",
                    f"{descriptor['Location']} ({synced.files} file"
                    f"{'' if synced.files == 1 else 's'})",
                )
            )
        wanted = {t["Name"] for t in tables}
        stale = con.execute(
            "SELECT view_name FROM duckdb_views() WHERE schema_name = ? AND NOT internal",
            [schema],
        ).fetchall()
        for (name,) in stale:
            if name not in wanted:
                con.execute(f"DROP VIEW {_quote(schema)}.{_quote(name)}")
        con.execute("COMMIT")
        return steps


def _execute(
    con: duckdb.DuckDBPyConnection, statement: str, *, query_only: bool = False,
    missing: str = "",
) -> duckdb.DuckDBPyConnection:
    """Run one statement (`query_only`: see `to_duckdb`); `missing` is said after an error
    naming an object that is not there (a view someone dropped, say)."""
    translated = to_duckdb(statement, query_only=query_only)
    try:
        return con.execute(translated)
    except duckdb.CatalogException as error:
        text = str(error)
        a_relation = any(f"{kind} with name" in text for kind in ("Table", "View", "Schema"))
        said = f"{text}\n({missing})" if missing and a_relation else text
        raise SqlError(said, statement) from None
    except duckdb.Error as error:
        raise SqlError(str(error), statement) from None

