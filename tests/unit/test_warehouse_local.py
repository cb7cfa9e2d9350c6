"""The local warehouse's refusals, with the emulator's Glue replaced by a stub: an empty
analytics catalog, a database file locked by another process, a warehouse never set up; and
`query` without a name, which lists the named queries and opens no warehouse."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import duckdb
import pytest
from typer.testing import CliRunner

from retailake.cli import app
from retailake.config import load_environment
from retailake.errors import RetailakeError
from retailake.outputs import save_outputs
from retailake.warehouse import sql_files
from retailake.warehouse.duckdb_local import LocalWarehouse


class EmptyGlue:
    def get_paginator(self, name: str) -> EmptyGlue:
        assert name == "get_tables"
        return self

    def paginate(self, DatabaseName: str):
        yield {"TableList": []}


@pytest.fixture
def local(monkeypatch):
    env = load_environment("local")
    save_outputs(env, {"glue_databases": {"analytics": "retailake_local_analytics"}})
    monkeypatch.setattr("retailake.warehouse.duckdb_local.client", lambda env, name: EmptyGlue())
    return env


def invoke(*args: str):
    result = CliRunner().invoke(app, list(args))
    return result, f"exit {result.exit_code}\n{result.output}"


def test_setup_before_the_pipeline_ran_says_what_to_run(local):
    result, shown = invoke("warehouse", "setup")
    assert result.exit_code == 2, shown
    assert result.output == (
        "error: the analytics catalog database retailake_local_analytics has no tables yet: "
        "run `retailake run-pipeline --env local` first\n"
    )


def test_a_query_before_setup_says_to_set_up(local):
    result, shown = invoke("query", "top_products")
    assert result.exit_code == 2, shown
    assert result.output == (
        "error: the warehouse of 'local' is not set up: "
        "run `retailake warehouse setup --env local` first\n"
    )


def test_a_database_locked_by_another_process_is_reported_as_busy(local, tmp_path):
    database = local.state_dir / "warehouse" / "warehouse.duckdb"
    database.parent.mkdir(parents=True)
    holder = tmp_path / "hold.py"
    holder.write_text(
        "import duckdb, sys\n"
        f"con = duckdb.connect({str(database)!r})\n"
        "print('locked', flush=True)\n"
        "sys.stdin.read()\n"
    )
    with subprocess.Popen([sys.executable, str(holder)], stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, text=True) as other:
        try:
            assert other.stdout.readline() == "locked\n"
            result, shown = invoke("query", "--sql", "select 1")
        finally:
            other.stdin.close()
    assert result.exit_code == 1, shown
    assert result.output.startswith(f"error: the local warehouse {database} is busy: IO Error")
    assert duckdb.connect(str(database)).execute("select 1").fetchall() == [(1,)]


def test_a_damaged_database_says_to_set_up_again_not_busy(local):
    from retailake.outputs import load_outputs

    database = local.state_dir / "warehouse" / "warehouse.duckdb"
    database.parent.mkdir(parents=True)
    database.write_bytes(b"not a database" * 500)
    result, shown = invoke("query", "--sql", "select 1")
    assert result.exit_code == 1, shown
    assert result.output.startswith(f"error: the local warehouse {database} cannot be opened")
    assert "delete it and run `retailake warehouse setup` again" in result.output
    assert "busy" not in result.output
    with pytest.raises(RetailakeError, match="cannot be opened"):  # status says so too
        LocalWarehouse(local, load_outputs(local)).external_schema_present()


def test_status_learns_whether_setup_built_the_external_schema(local):
    from retailake.outputs import load_outputs
    from retailake.warehouse.duckdb_local import LocalWarehouse

    warehouse = LocalWarehouse(local, load_outputs(local))
    assert warehouse.external_schema_present() is False  # never set up: no file
    warehouse.database.parent.mkdir(parents=True)
    with duckdb.connect(str(warehouse.database)) as con:
        con.execute("CREATE SCHEMA retail_bi")
    assert warehouse.external_schema_present() is False  # a file, but not that schema
    with duckdb.connect(str(warehouse.database)) as con:
        con.execute("CREATE SCHEMA spectrum_analytics")
    assert warehouse.external_schema_present() is True


def test_query_without_a_name_lists_the_named_queries_and_opens_no_warehouse():
    result, shown = invoke("query", "--format", "json")
    assert result.exit_code == 0, shown
    document = json.loads(result.output)
    assert document["columns"] == ["name", "question"]
    listed = document["rows"]
    assert [item["name"] for item in listed] == list(sql_files.named_queries())
    assert all(item["question"].endswith("?") for item in listed)


def test_query_list_with_an_unknown_env_is_an_error_in_json_too():
    result, shown = invoke("query", "--env", "qa", "--format", "json")
    assert result.exit_code == 2, shown
    assert json.loads(result.stdout) == {
        "error": "unknown environment 'qa': choose one of local, dev, prod", "exit_code": 2}


def test_an_empty_statement_is_refused_not_taken_for_no_statement():
    result, shown = invoke("query", "--sql", "  ", "-f", "json")
    assert result.exit_code == 2, shown
    assert json.loads(result.stdout)["error"] == "--sql is empty: give the statement to run"


def test_query_refuses_a_name_and_a_statement_together():
    result, shown = invoke("query", "top_products", "--sql", "select 1")
    assert result.exit_code == 2, shown
    assert result.output == "error: give a query name or --sql, not both\n"


def test_a_query_of_a_view_that_is_gone_says_how_to_make_it_again(local, monkeypatch):
    database = local.state_dir / "warehouse" / "warehouse.duckdb"
    database.parent.mkdir(parents=True)
    with duckdb.connect(str(database)) as con:
        con.execute("CREATE SCHEMA retail_bi")  # and no view in it
    monkeypatch.setattr(LocalWarehouse, "_refresh_external_schema", lambda self, con: [])
    result, shown = invoke("query", "--sql", "SELECT * FROM retail_bi.v_dropped")
    assert result.exit_code == 1, shown
    assert "Table with name v_dropped does not exist" in result.output
    assert "(the BI views and external tables are made anew by `retailake warehouse setup " \
        "--env local`)\n  in the statement:\n    SELECT * FROM retail_bi.v_dropped" in result.output
    result, shown = invoke("query", "--sql", "SELECT nosuchfunction(1)")  # not a relation
    assert result.exit_code == 1, shown
    assert "nosuchfunction" in result.output and "warehouse setup" not in result.output


def test_a_query_reads_no_file_outside_the_warehouse_copy(local, monkeypatch, tmp_path):
    database = local.state_dir / "warehouse" / "warehouse.duckdb"
    database.parent.mkdir(parents=True)
    duckdb.connect(str(database)).close()
    monkeypatch.setattr(LocalWarehouse, "_refresh_external_schema", lambda self, con: [])
    outside = tmp_path / "elsewhere.csv"
    outside.write_text("secret\nvalue-from-outside-the-lake\n")  # text no temp path holds
    # a quoted path is a table name to sqlglot, and a file to DuckDB's replacement scan
    result, shown = invoke("query", "--sql", f"SELECT * FROM '{outside}'")
    assert result.exit_code == 1, shown
    assert "value-from-outside-the-lake" not in result.output


def test_json_rows_keep_every_column_and_stay_valid_json(local, monkeypatch):
    """`SELECT SUM(a), SUM(b)` names both columns `sum`; an infinite float is no JSON number.
    The session is UTC, as Redshift's are, whatever this machine's zone."""
    database = local.state_dir / "warehouse" / "warehouse.duckdb"
    database.parent.mkdir(parents=True)
    duckdb.connect(str(database)).close()
    monkeypatch.setattr(LocalWarehouse, "_refresh_external_schema", lambda self, con: [])
    monkeypatch.setenv("TZ", "America/New_York")
    result, shown = invoke("query", "-f", "json", "--sql",
                           "SELECT 1 AS s, 2 AS s, 'inf'::DOUBLE AS x, "
                           "current_setting('TimeZone') AS tz")  # fmt: skip
    assert result.exit_code == 0, shown
    document = json.loads(result.stdout)  # Infinity would not parse
    assert document == {"columns": ["s", "s_2", "x", "tz"],
                        "rows": [{"s": 1, "s_2": 2, "x": None, "tz": "UTC"}]}


def test_a_query_answers_as_redshift_would_integer_division_and_names(local, monkeypatch):
    """Redshift divides integers as integers (toward zero) and folds names to lower case."""
    database = local.state_dir / "warehouse" / "warehouse.duckdb"
    database.parent.mkdir(parents=True)
    duckdb.connect(str(database)).close()
    monkeypatch.setattr(LocalWarehouse, "_refresh_external_schema", lambda self, con: [])
    result, shown = invoke("query", "-f", "json", "--sql",
                           'SELECT 7 / 2 AS Half, -7 / 2 AS "Minus", 7.0 / 2 AS exact')
    assert result.exit_code == 0, shown
    assert json.loads(result.stdout)["rows"] == [{"half": 3, "minus": -3, "exact": 3.5}]


def test_a_query_table_on_a_narrow_terminal_cuts_no_value():
    from decimal import Decimal

    from rich.console import Console

    from retailake.cli.warehouse import _result_table
    from retailake.warehouse.base import QueryResult

    result = QueryResult(
        ["year", "month", "revenue", "avg_order_value", "gross_margin_pct", "top_store_name"],
        [(2025, 11, Decimal("116031.45"), Decimal("94.03"), 0.4123456, "Downtown Flagship"),
         (2025, 12, Decimal("166995.10"), None, 0.3987654, None)],
    )  # fmt: skip
    console = Console(file=io.StringIO(), width=60, soft_wrap=True)  # as cli.common's `out`
    console.print(_result_table(result, "monthly_kpis"))
    shown = console.file.getvalue()
    assert "…" not in shown
    for value in ("116031.45", "166995.10", "94.03", "0.4123456", "0.3987654"):
        assert value in shown, shown
    assert "Downtown" in shown and "Flagship" in shown


@pytest.mark.parametrize(("location", "mirrored"), [
    ("s3://lake/customer_segments/gen=20261205T224914-50e399e7/", "s3://lake/customer_segments"),
    # a table a crawler cataloged: its own folder, not the whole bucket above it
    ("s3://lake/customer_segments/", "s3://lake/customer_segments"),
])
def test_an_unpartitioned_table_mirrors_its_own_folder(location, mirrored):
    from retailake.warehouse.duckdb_local import LocalWarehouse

    table = {"Name": "customer_segments", "StorageDescriptor": {"Location": location}}
    assert LocalWarehouse._current_folders(None, "db", table) == (mirrored,
                                                                  [location.rstrip("/")])
