"""Warehouse: the Redshift cluster's state and size, and what Spectrum needs from outside the
cluster (its role attached, the analytics catalog database present).

Whether the external schema itself exists is only visible by running SQL in the cluster,
which this collector does not do in AWS (`external_schema` stays "unknown" there); on the
twin, the warehouse is DuckDB and its file says "present" or "absent"."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from retailake.aws.clients import error_code
from retailake.status.context import Context
from retailake.status.model import WarehouseStatus


def cluster_status(redshift: Any, identifier: str, spectrum_role: str | None) -> WarehouseStatus:
    try:
        clusters = redshift.describe_clusters(ClusterIdentifier=identifier)["Clusters"]
    except ClientError as error:
        if error_code(error) == "ClusterNotFound":
            return WarehouseStatus(identifier, present=False)
        raise
    cluster = clusters[0]
    endpoint = cluster.get("Endpoint") or {}
    roles = {role.get("IamRoleArn") for role in cluster.get("IamRoles", [])}
    return WarehouseStatus(
        identifier,
        present=True,
        state=cluster.get("ClusterStatus"),
        availability=cluster.get("ClusterAvailabilityStatus"),
        node_type=cluster.get("NodeType"),
        nodes=cluster.get("NumberOfNodes"),
        endpoint=f"{endpoint['Address']}:{endpoint['Port']}" if endpoint.get("Address") else None,
        spectrum_role_attached=spectrum_role in roles if spectrum_role else None,
    )


def database_present(glue: Any, name: str) -> bool:
    try:
        glue.get_database(Name=name)
    except ClientError as error:
        if error_code(error) == "EntityNotFoundException":
            return False
        raise
    return True


def collect_warehouse(context: Context) -> WarehouseStatus:
    outputs = context.outputs
    status = cluster_status(context.client("redshift"), outputs["redshift_cluster_identifier"],
                            outputs["role_arns"].get("redshift_spectrum"))
    status.spectrum_database = outputs["glue_databases"]["analytics"]
    status.spectrum_database_present = database_present(context.client("glue"),
                                                        status.spectrum_database)
    if context.env.is_local:
        from retailake.warehouse.duckdb_local import LocalWarehouse

        present = LocalWarehouse(context.env, outputs).external_schema_present()
        status.external_schema = {True: "present", False: "absent", None: "unknown"}[present]
    return status
