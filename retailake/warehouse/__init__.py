"""The warehouse: Redshift Spectrum on AWS, DuckDB on the local twin, both fed by the SQL in
`sql/` (the Spectrum external schema, the BI views, the named queries)."""

from __future__ import annotations

from pathlib import Path

from retailake.config import Environment
from retailake.outputs import Outputs
from retailake.warehouse.base import Warehouse


def local_copy_dir(env: Environment) -> Path:
    """Where the twin's DuckDB warehouse and its copy of the analytics layer live."""
    return env.state_dir / "warehouse"


def open_warehouse(env: Environment, outputs: Outputs, db_user: str | None = None) -> Warehouse:
    """The environment's SQL engine: DuckDB for the local twin, Redshift elsewhere."""
    if env.is_local:
        from retailake.warehouse.duckdb_local import LocalWarehouse

        return LocalWarehouse(env, outputs)
    from retailake.warehouse.redshift import RedshiftWarehouse

    return RedshiftWarehouse(env, outputs, db_user=db_user)
