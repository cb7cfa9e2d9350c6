"""The AWS warehouse: Redshift, reached with IAM authentication.

Temporary database credentials come from the Redshift API through the CLI's one boto3 client
factory (GetClusterCredentialsWithIAM, or GetClusterCredentials for a named `db_user`), for
15 minutes; the connection requires TLS and verifies the server's certificate and host name.
The password lives only in the call to `connect`: it is never printed, logged or put in an
error (an error that happens to quote it has it masked)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from retailake.aws.clients import aws_error, client
from retailake.config import Environment
from retailake.errors import AwsError, ConfigError
from retailake.outputs import Outputs
from retailake.warehouse import sql_files
from retailake.warehouse.base import QueryResult, SetupStep, SqlError

CREDENTIALS_SECONDS = 900
CONNECT_TIMEOUT_SECONDS = 30


def _connect(**kwargs: Any) -> Any:
    """The driver's connect (its import is slow: only when a connection is made)."""
    import redshift_connector

    return redshift_connector.connect(**kwargs)


def _database_errors() -> tuple[type[Exception], ...]:
    import redshift_connector

    return (redshift_connector.Error,)


def _bound_connect_only(connection: Any) -> None:
    """The driver keeps `timeout` on its socket for the connection's life: a statement whose
    first rows take longer (a Spectrum scan, a cluster resuming) would fail with it. It is
    meant for the connect (an unreachable cluster in a private subnet), so it ends there."""
    sock = getattr(connection, "_usock", None)
    if sock is not None:
        sock.settimeout(None)


def _masked(text: str, secret: str) -> str:
    return text.replace(secret, "****") if secret else text


class RedshiftWarehouse:
    """`warehouse setup` and `query` against the deployment's Redshift cluster."""

    def __init__(self, env: Environment, outputs: Outputs, db_user: str | None = None) -> None:
        self.env = env
        self.outputs = outputs
        self.db_user = db_user

    def setup(self) -> list[SetupStep]:
        schema = sql_files.external_schema_name()
        database = self.outputs["glue_databases"]["analytics"]
        statements = [sql_files.render_external_schema(self.outputs), *sql_files.view_statements()]
        steps = [SetupStep("external schema", schema, f"Glue database {database}")]
        steps += [sql_files.describe(s) for s in statements[1:]]
        with self._session() as session:
            for statement in statements:
                session.execute(statement)
        return steps

    def run(self, sql: str) -> QueryResult:
        with self._session() as session:
            session.execute(sql)
            return session.result()

    def _credentials(self) -> dict[str, Any]:
        """Temporary user and password for the cluster's database."""
        redshift = client(self.env, "redshift")
        cluster = self.outputs["redshift_cluster_identifier"]
        database = self.outputs["redshift_database"]
        try:
            if self.db_user:
                return redshift.get_cluster_credentials(
                    ClusterIdentifier=cluster, DbName=database, DbUser=self.db_user,
                    DurationSeconds=CREDENTIALS_SECONDS, AutoCreate=False,
                )
            return redshift.get_cluster_credentials_with_iam(
                ClusterIdentifier=cluster, DbName=database, DurationSeconds=CREDENTIALS_SECONDS
            )
        except (ClientError, BotoCoreError) as error:
            doing = f"getting temporary credentials for Redshift {cluster}"
            raise aws_error(error, doing) from error

    def _session(self) -> _Session:
        endpoint = self.outputs["redshift_endpoint"] or ""
        host, _, port = endpoint.rpartition(":")
        if not host or not port.isdigit():
            raise ConfigError(f"the redshift_endpoint output '{endpoint}' is not host:port")
        credentials = self._credentials()
        user, password = credentials["DbUser"], credentials["DbPassword"]
        try:
            connection = _connect(
                host=host,
                port=int(port),
                database=self.outputs["redshift_database"],
                user=user,
                password=password,
                ssl=True,
                sslmode="verify-full",
                timeout=CONNECT_TIMEOUT_SECONDS,
                application_name="retailake",
            )
        except Exception as error:  # the driver raises socket, TLS and protocol errors alike
            raise AwsError(
                f"connecting to Redshift at {endpoint} as {user}: {_masked(str(error), password)}"
            ) from None
        _bound_connect_only(connection)
        return _Session(connection, password)


class _Session:
    """A connection and its cursor, closed on exit. Autocommit: each setup statement commits
    on its own (all of them are idempotent, so a rerun after a failure finishes the work)."""

    def __init__(self, connection: Any, secret: str) -> None:
        self._connection = connection
        self._secret = secret

    def __enter__(self) -> _Session:
        self._connection.autocommit = True
        self._cursor = self._connection.cursor()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._cursor.close()
        self._connection.close()

    def execute(self, statement: str) -> None:
        try:
            self._cursor.execute(statement)
        except _database_errors() as error:
            raise SqlError(_masked(str(error), self._secret), statement) from None

    def result(self) -> QueryResult:
        columns = [d[0] for d in self._cursor.description or []]
        rows = [tuple(row) for row in self._cursor.fetchall()] if columns else []
        return QueryResult(columns, rows)
