"""sql/: every file is one statement of valid Redshift SQL, the DDL renders from the outputs,
and the Redshift -> DuckDB translation and the local external tables work on real DuckDB."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel

from retailake.errors import ConfigError
from retailake.outputs import Outputs
from retailake.warehouse import sql_files
from retailake.warehouse.base import SqlError
from retailake.warehouse.duckdb_local import external_view_sql, to_duckdb

SQL = sql_files.sql_root()
OUTPUTS = Outputs({
    "region": "eu-west-1",
    "glue_databases": {"analytics": "retailake_dev_analytics"},
    "role_arns": {"redshift_spectrum": "arn:aws:iam::111122223333:role/retailake-dev-spectrum"},
})


@pytest.mark.parametrize(
    "path", sorted(p.relative_to(SQL) for p in SQL.rglob("*.sql")), ids=str
)
def test_every_sql_file_is_one_redshift_statement(path):
    text = (SQL / path).read_text()
    if path.name == "external_schema.sql":
        # sqlglot has no model of CREATE EXTERNAL SCHEMA (it keeps it as an opaque command),
        # so its form is checked here: the whole statement, placeholders and all.
        statement = sql_files._statement(text)
        assert statement == (
            "CREATE EXTERNAL SCHEMA IF NOT EXISTS spectrum_analytics\n"
            "FROM DATA CATALOG\n"
            "DATABASE '${analytics_database}'\n"
            "IAM_ROLE '${spectrum_role_arn}'\n"
            "REGION '${region}';"
        )
        return
    statements = sqlglot.parse(text, read="redshift", error_level=ErrorLevel.RAISE)
    assert len([s for s in statements if s is not None]) == 1
    tree = statements[0]
    if path.parts[0] == "queries":
        assert isinstance(tree, exp.Query)
        assert sql_files.named_queries()[path.stem].question.endswith("?")
    elif isinstance(tree, exp.Create) and tree.args["kind"] == "VIEW":
        # Redshift refuses a view over external tables without late binding, and CREATE OR
        # REPLACE keeps grants on a rerun.
        assert tree.args["no_schema_binding"] and tree.args["replace"], path
        assert tree.this.db == "retail_bi"
    else:
        assert sql_files._statement(text) == "CREATE SCHEMA IF NOT EXISTS retail_bi;"


def test_the_external_schema_renders_from_the_outputs():
    assert sql_files.render_external_schema(OUTPUTS) == (
        "CREATE EXTERNAL SCHEMA IF NOT EXISTS spectrum_analytics\n"
        "FROM DATA CATALOG\n"
        "DATABASE 'retailake_dev_analytics'\n"
        "IAM_ROLE 'arn:aws:iam::111122223333:role/retailake-dev-spectrum'\n"
        "REGION 'eu-west-1';"
    )
    assert sql_files.external_schema_name() == "spectrum_analytics"


def test_a_value_that_could_escape_its_literal_is_refused():
    bad = Outputs({**OUTPUTS.values, "glue_databases": {"analytics": "x'; DROP TABLE t; --"}})
    with pytest.raises(ConfigError, match="not a plain name or ARN"):
        sql_files.render_external_schema(bad)


def test_at_least_six_named_queries_each_with_a_question():
    queries = sql_files.named_queries()
    assert len(queries) >= 6
    assert all(q.question and not q.sql.startswith("--") for q in queries.values())
    with pytest.raises(ConfigError) as raised:
        sql_files.named_query("top_product")
    assert str(raised.value).startswith(
        "no query named 'top_product': known queries are customer_segments, monthly_kpis,"
    )


def test_translation_drops_late_binding_and_keeps_redshift_semantics():
    view = "CREATE OR REPLACE VIEW s.v AS SELECT NVL(a, 0) AS a FROM t WITH NO SCHEMA BINDING"
    assert to_duckdb(view) == "CREATE OR REPLACE VIEW s.v AS SELECT COALESCE(a, 0) AS a FROM t"
    con = duckdb.connect()
    # Redshift sorts NULL as the largest value; DATEADD and DECODE have no DuckDB namesakes.
    got = con.execute(to_duckdb(
        "SELECT DATEADD(day, 3, d)::DATE AS later, DECODE(x, 1, 'one', 'other') AS word "
        "FROM (SELECT '2025-12-30'::DATE AS d, 1 AS x UNION ALL SELECT NULL, 2) t "
        "ORDER BY later DESC"
    )).fetchall()
    assert got == [(None, "other"), (dt.date(2026, 1, 2), "one")]


def test_unaliased_aggregates_take_redshift_names():
    cursor = duckdb.connect().execute(to_duckdb(
        "SELECT COUNT(*), SUM(x), MAX(x) AS top, x + 1 FROM (SELECT 1 AS x) t GROUP BY x"
    ))
    assert [d[0] for d in cursor.description] == ["count", "sum", "top", "(x + 1)"]


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("SELECT (1 FROM t", "not valid Redshift SQL: Expecting ) at line 1, column 14 "
         "(near 'FROM')"),
        ("SELECT 1; SELECT 2", "expected one statement, found 2"),
        ("select 'abc", "not valid Redshift SQL: Error tokenizing 'select 'ab'"),
        ("selec * fro x", "not a Redshift query: the local warehouse runs SELECT statements "
         "(a WITH or a UNION of them) only"),
        ("pragma version", "not a Redshift query: the local warehouse runs SELECT statements "
         "(a WITH or a UNION of them) only"),
        ("copy (select 1) to '/tmp/x.csv'", "not a Redshift query: the local warehouse runs "
         "SELECT statements (a WITH or a UNION of them) only"),
        ("select * from read_csv('/etc/hostname')", "READ_CSV('/etc/hostname') is not a table "
         "of the lake: the local warehouse reads its tables only"),
        ("select * from t, lateral read_csv('/etc/hostname')", "READ_CSV('/etc/hostname') is "
         "not a table of the lake: the local warehouse reads its tables only"),
        ("select 1 as x into newtab", "not a Redshift query: the local warehouse runs SELECT "
         "statements (a WITH or a UNION of them) only"),
    ],
)
def test_bad_or_multiple_statements_are_refused_with_the_statement(sql, message):
    with pytest.raises(SqlError) as raised:
        to_duckdb(sql, query_only=True)
    assert str(raised.value) == f"{message}\n  in the statement:\n    {sql}"
    assert raised.value.exit_code == 2  # bad input, refused before any database sees it


def _catalog_table(partitioned: bool) -> dict:
    columns = [
        {"Name": "order_date", "Type": "date"},
        {"Name": "orders", "Type": "bigint"},
        {"Name": "net_amount", "Type": "decimal(18,2)"},
    ]
    keys = [{"Name": "year", "Type": "string"}, {"Name": "month", "Type": "string"}]
    return {
        "Name": "daily_store_sales",
        "StorageDescriptor": {"Columns": columns},
        "PartitionKeys": keys if partitioned else [],
    }


def test_an_external_table_is_typed_by_the_catalog_partitions_included(tmp_path):
    """Only the folders the catalog names are read: September's older generation is not."""
    folder = tmp_path / "daily_store_sales"
    current = []
    for month, day, generation in (("09", 30, "g2"), ("10", 1, "g1"), ("09", 29, "g1")):
        part = folder / "year=2025" / f"month={month}" / f"gen={generation}"
        part.mkdir(parents=True)
        pq.write_table(
            pa.table({
                "order_date": [dt.date(2025, int(month), day)],
                "orders": pa.array([3], pa.int32()),  # the catalog's bigint wins
                "net_amount": pa.array([Decimal("12.50")], pa.decimal128(18, 2)),
            }),
            part / "part-0.snappy.parquet",
        )
        current += [part] if (month, generation) != ("09", "g1") else []
    con = duckdb.connect()
    con.execute("CREATE SCHEMA spectrum_analytics")
    con.execute(external_view_sql("spectrum_analytics", _catalog_table(True), current, True))
    cursor = con.execute(
        "SELECT * FROM spectrum_analytics.daily_store_sales ORDER BY order_date"
    )
    assert [(d[0], str(d[1])) for d in cursor.description] == [
        ("order_date", "DATE"),
        ("orders", "BIGINT"),
        ("net_amount", "DECIMAL(18,2)"),
        ("year", "VARCHAR"),
        ("month", "VARCHAR"),
    ]
    assert cursor.fetchall() == [
        (dt.date(2025, 9, 30), 3, Decimal("12.50"), "2025", "09"),
        (dt.date(2025, 10, 1), 3, Decimal("12.50"), "2025", "10"),
    ]


def test_an_external_table_without_files_is_empty_but_typed(tmp_path):
    con = duckdb.connect()
    con.execute("CREATE SCHEMA spectrum_analytics")
    con.execute(external_view_sql("spectrum_analytics", _catalog_table(False), [], False))
    cursor = con.execute("SELECT * FROM spectrum_analytics.daily_store_sales")
    assert [d[0] for d in cursor.description] == ["order_date", "orders", "net_amount"]
    assert cursor.fetchall() == []
