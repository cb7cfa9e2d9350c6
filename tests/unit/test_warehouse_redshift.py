"""The Redshift path against a fake connection that records every statement and parameter and
keeps a toy catalog, so a non-idempotent statement fails on the second setup: the exact DDL
sent, IAM credentials over verified TLS, idempotence, and that no secret reaches the output."""

from __future__ import annotations

import inspect
import logging
import re
import socket
from decimal import Decimal

import pytest
import redshift_connector
from typer.testing import CliRunner

from retailake.cli import app
from retailake.config import load_environment
from retailake.outputs import save_outputs
from retailake.warehouse import sql_files

SECRET = "Tmp-Pa55word/with+chars=="
ENDPOINT = "retailake-dev.abc123.eu-west-1.redshift.amazonaws.com:5439"
OUTPUTS = {
    "region": "eu-west-1",
    "name_prefix": "retailake-dev",
    "glue_databases": {"analytics": "retailake_dev_analytics"},
    "role_arns": {"redshift_spectrum": "arn:aws:iam::111122223333:role/retailake-dev-spectrum"},
    "redshift_cluster_identifier": "retailake-dev",
    "redshift_endpoint": ENDPOINT,
    "redshift_database": "retail",
}
_CREATE = re.compile(
    r"^CREATE (OR REPLACE )?(EXTERNAL SCHEMA|SCHEMA|VIEW) (IF NOT EXISTS )?([\w.]+)"
)


class FakeRedshiftApi:
    """The Redshift control-plane calls that hand out temporary database credentials."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict]] = []

    def get_cluster_credentials_with_iam(self, **kwargs) -> dict:
        self.calls.append(("get_cluster_credentials_with_iam", kwargs))
        return {"DbUser": "IAMR:analyst", "DbPassword": SECRET}

    def get_cluster_credentials(self, **kwargs) -> dict:
        self.calls.append(("get_cluster_credentials", kwargs))
        return {"DbUser": f"IAM:{kwargs['DbUser']}", "DbPassword": SECRET}


class FakeDatabase:
    """Connections and statements as the driver would see them, over a toy catalog that
    refuses to create an object twice unless the statement says IF NOT EXISTS / OR REPLACE."""

    def __init__(self) -> None:
        self.connects: list[dict] = []
        self.statements: list[tuple[str, object]] = []
        self.objects: set[str] = set()
        self.result: tuple[list[str], list[tuple]] = ([], [])
        self.fail_with: str | None = None
        self.refuse_connection: str | None = None
        self.closed = 0

    def connect(self, **kwargs) -> FakeConnection:
        self.connects.append(kwargs)
        if self.refuse_connection:
            raise redshift_connector.InterfaceError(self.refuse_connection)
        self.connection = FakeConnection(self, kwargs.get("timeout"))
        return self.connection


class FakeConnection:
    def __init__(self, database: FakeDatabase, timeout: float | None) -> None:
        self.database = database
        self.autocommit = False
        self._usock, peer = socket.socketpair()  # as the driver keeps it, with its timeout
        self._usock.settimeout(timeout)
        peer.close()

    def cursor(self) -> FakeCursor:
        assert self.autocommit, "setup statements must each commit"
        return FakeCursor(self.database)

    def close(self) -> None:
        self.database.closed += 1
        self._usock.close()


class FakeCursor:
    def __init__(self, database: FakeDatabase) -> None:
        self.database = database
        self.description: list[tuple] | None = None

    def execute(self, operation: str, args: object = None) -> None:
        db = self.database
        db.statements.append((operation, args))
        if db.fail_with:
            raise redshift_connector.ProgrammingError(db.fail_with)
        created = _CREATE.match(operation)
        if created:
            replace, kind, if_not_exists, name = created.groups()
            if f"{kind} {name}" in db.objects and not (replace or if_not_exists):
                raise redshift_connector.ProgrammingError(f"{kind.lower()} {name} already exists")
            db.objects.add(f"{kind} {name}")
            return
        columns, _ = db.result
        self.description = [(c, 1043, None, None, None, None, None) for c in columns]

    def fetchall(self) -> list[tuple]:
        return list(self.database.result[1])

    def close(self) -> None:
        pass


@pytest.fixture
def redshift(monkeypatch) -> tuple[FakeDatabase, FakeRedshiftApi]:
    save_outputs(load_environment("dev"), OUTPUTS)
    database, api = FakeDatabase(), FakeRedshiftApi()
    monkeypatch.setattr("retailake.warehouse.redshift._connect", database.connect)
    monkeypatch.setattr("retailake.warehouse.redshift.client", lambda env, service: api)
    return database, api


def invoke(*args: str):
    result = CliRunner().invoke(app, list(args))
    return result, f"exit {result.exit_code}\n{result.output}"


def test_setup_sends_exactly_the_external_schema_and_the_views_over_verified_tls(redshift):
    database, api = redshift
    result, shown = invoke("warehouse", "setup", "--env", "dev")
    assert result.exit_code == 0, shown
    sent = [sql for sql, _ in database.statements]
    assert sent[0] == (
        "CREATE EXTERNAL SCHEMA IF NOT EXISTS spectrum_analytics\n"
        "FROM DATA CATALOG\n"
        "DATABASE 'retailake_dev_analytics'\n"
        "IAM_ROLE 'arn:aws:iam::111122223333:role/retailake-dev-spectrum'\n"
        "REGION 'eu-west-1';"
    )
    assert sent[1] == "CREATE SCHEMA IF NOT EXISTS retail_bi;"
    assert sent[2:] == sql_files.view_statements()[1:]
    assert [s.split(" AS\n")[0] for s in sent[2:]] == [
        "CREATE OR REPLACE VIEW retail_bi.customer_segments",
        "CREATE OR REPLACE VIEW retail_bi.daily_revenue",
        "CREATE OR REPLACE VIEW retail_bi.inventory_alerts",
        "CREATE OR REPLACE VIEW retail_bi.monthly_kpis",
        "CREATE OR REPLACE VIEW retail_bi.top_products",
    ]
    assert all(args is None for _, args in database.statements)
    assert api.calls == [(
        "get_cluster_credentials_with_iam",
        {"ClusterIdentifier": "retailake-dev", "DbName": "retail", "DurationSeconds": 900},
    )]
    assert database.connects == [{
        "host": "retailake-dev.abc123.eu-west-1.redshift.amazonaws.com",
        "port": 5439,
        "database": "retail",
        "user": "IAMR:analyst",
        "password": SECRET,
        "ssl": True,
        "sslmode": "verify-full",
        "timeout": 30,
        "application_name": "retailake",
    }]
    assert database.closed == 1
    assert "retail_bi.top_products" in result.stdout


def test_the_connect_timeout_does_not_bound_the_statements(redshift):
    """redshift-connector sets `timeout` on its socket (`_usock`) and leaves it there: a
    Spectrum scan slower than the connect timeout would fail unless it is lifted."""
    database, _ = redshift
    assert "self._usock.settimeout(timeout)" in inspect.getsource(
        redshift_connector.core.Connection.__init__)  # the driver still works this way
    result, shown = invoke("query", "--sql", "SELECT 1", "--env", "dev")
    assert result.exit_code == 0, shown
    assert database.connects[0]["timeout"] == 30
    assert database.connection._usock.gettimeout() is None


def test_setup_twice_succeeds_and_sends_the_same_statements(redshift):
    database, _ = redshift
    first, shown = invoke("warehouse", "setup", "--env", "dev")
    assert first.exit_code == 0, shown
    once = list(database.statements)
    again, shown = invoke("warehouse", "setup", "--env", "dev")
    assert again.exit_code == 0, shown
    assert database.statements == once + once
    assert again.stdout == first.stdout


def test_the_toy_catalog_would_catch_a_statement_that_is_not_idempotent(redshift):
    database, _ = redshift
    connection = FakeConnection(database, timeout=None)
    connection.autocommit = True
    plain = connection.cursor()
    plain.execute("CREATE VIEW retail_bi.v AS SELECT 1")
    with pytest.raises(redshift_connector.ProgrammingError, match="already exists"):
        plain.execute("CREATE VIEW retail_bi.v AS SELECT 1")


def test_a_named_query_prints_csv_and_json_from_the_rows(redshift):
    database, _ = redshift
    database.result = (["product_id", "net_revenue", "day"], [("P001", Decimal("12.50"), None)])
    csv_run, shown = invoke("query", "top_products", "--env", "dev", "--format", "csv")
    assert csv_run.exit_code == 0, shown
    assert csv_run.stdout == "product_id,net_revenue,day\nP001,12.50,\n"
    assert database.statements[-1] == (sql_files.named_query("top_products").sql, None)
    json_run, shown = invoke("query", "--sql", "select 1", "--env", "dev", "--format", "json")
    assert json_run.exit_code == 0, shown
    assert json_run.stdout.replace(" ", "").replace("\n", "") == (
        '{"columns":["product_id","net_revenue","day"],'
        '"rows":[{"product_id":"P001","net_revenue":12.5,"day":null}]}'
    )


def test_a_named_db_user_gets_its_own_temporary_credentials(redshift):
    database, api = redshift
    result, shown = invoke("query", "--sql", "select 1", "--env", "dev", "--db-user", "etl")
    assert result.exit_code == 0, shown
    assert api.calls == [("get_cluster_credentials", {
        "ClusterIdentifier": "retailake-dev", "DbName": "retail", "DbUser": "etl",
        "DurationSeconds": 900, "AutoCreate": False,
    })]
    assert database.connects[0]["user"] == "IAM:etl"


def test_a_sql_error_shows_the_statement_and_the_message_and_exits_1(redshift):
    database, _ = redshift
    database.fail_with = 'column "nope" does not exist in daily_store_sales'
    result, shown = invoke("query", "--sql", "select nope\nfrom spectrum_analytics.x", "--env",
                           "dev")
    assert result.exit_code == 1, shown
    assert result.stdout == ""
    assert result.output.endswith(
        "error: column \"nope\" does not exist in daily_store_sales\n"
        "  in the statement:\n"
        "    select nope\n"
        "    from spectrum_analytics.x\n"
    ), shown


def test_brackets_in_a_statement_are_shown_verbatim_not_read_as_markup(redshift):
    database, _ = redshift
    database.fail_with = "syntax error at or near \"[\""
    result, shown = invoke("query", "--sql", "select '[/b]', [bold] x", "--env", "dev")
    assert result.exit_code == 1, shown
    assert result.output == (
        'error: syntax error at or near "["\n'
        "  in the statement:\n"
        "    select '[/b]', [bold] x\n"
    )


def test_no_secret_reaches_the_output_or_the_logs_even_when_the_driver_quotes_it(
    redshift, caplog
):
    database, _ = redshift
    caplog.set_level(logging.DEBUG)
    runs = [invoke("warehouse", "setup", "--env", "dev")]
    database.result = (["n"], [(1,)])
    runs.append(invoke("query", "--sql", "select 1", "--env", "dev", "--format", "json"))
    database.fail_with = f"password authentication failed (password '{SECRET}')"
    runs.append(invoke("query", "weekday_sales", "--env", "dev"))
    database.refuse_connection = f"SSL handshake failed for user IAMR:analyst/{SECRET}"
    runs.append(invoke("warehouse", "setup", "--env", "dev"))
    assert [r.exit_code for r, _ in runs] == [0, 0, 1, 1], [s for _, s in runs]
    assert "****" in runs[2][0].output and "****" in runs[3][0].output
    assert not [shown for _, shown in runs if SECRET in shown]
    assert SECRET not in caplog.text
    assert len(database.connects) == 4  # the secret did reach the driver, and only it


def test_an_endpoint_that_is_not_host_port_is_a_configuration_error(redshift):
    save_outputs(load_environment("dev"), {**OUTPUTS, "redshift_endpoint": None})
    result, shown = invoke("query", "--sql", "select 1", "--env", "dev")
    assert result.exit_code == 2, shown
    assert "the redshift_endpoint output '' is not host:port" in shown
