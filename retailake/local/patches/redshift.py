"""Redshift: the answers `aws_redshift_cluster` and `aws_redshift_parameter_group` wait for.

Unblocks, for Terraform's AWS provider 5.100:
- the create/modify waiters, which poll DescribeClusters until ClusterAvailabilityStatus is
  "Available" and read AvailabilityZoneRelocationStatus and MultiAZ (moto leaves them empty);
- `default_iam_role_arn` (moto drops DefaultIamRoleArn) and `iam_roles` updates
  (ModifyClusterIamRoles is missing);
- parameter groups: ModifyClusterParameterGroup is missing and DescribeClusterParameters
  ignores Source=user, so every `parameter {}` block would show as a diff;
- defaults moto omits (MaintenanceTrackName "current", ManualSnapshotRetentionPeriod -1);
- `manage_master_password`: a MasterPasswordSecretArn backed by a real Secrets Manager secret.
"""

from __future__ import annotations

import contextlib
import json
import secrets
from typing import Any

from moto.core.responses import ActionResult
from moto.redshift.exceptions import ClusterNotFoundError, ClusterParameterGroupNotFoundError
from moto.redshift.models import Cluster, ParameterGroup, RedshiftBackend
from moto.redshift.responses import RedshiftResponse
from moto.secretsmanager.models import secretsmanager_backends

_STATUS_TO_AVAILABILITY = {"available": "Available", "paused": "Unavailable"}


# --- model additions (read by moto's serializer through the snake_case attribute name) ---

def _availability(self: Cluster) -> str:
    return _STATUS_TO_AVAILABILITY.get(self.status, "Maintenance")


def _user_parameters(group: ParameterGroup) -> dict[str, str]:
    return group.__dict__.setdefault("user_parameters", {})


def cluster_parameters(
    backend: RedshiftBackend, group_name: str, source: str | None
) -> list[dict[str, Any]]:
    """Engine defaults overlaid with the values set on the group; Source=user: only those."""
    if group_name not in backend.parameter_groups:
        raise ClusterParameterGroupNotFoundError(group_name)
    user = _user_parameters(backend.parameter_groups[group_name])
    result = []
    for param in backend.describe_default_cluster_parameters():
        name = param["ParameterName"]
        if name in user:
            param = {**param, "ParameterValue": user[name], "Source": "user"}
        if source in (None, param["Source"]):
            result.append(param)
    for name, value in user.items():  # user parameters moto has no default for
        if name not in backend.default_params and source in (None, "user"):
            result.append({"ParameterName": name, "ParameterValue": value, "Source": "user",
                           "DataType": "string", "ApplyType": "static", "IsModifiable": True})
    return result


def _secret_backend(backend: RedshiftBackend) -> Any:
    return secretsmanager_backends[backend.account_id][backend.region_name]


def create_master_secret(backend: RedshiftBackend, cluster: Cluster, kms_key: str | None) -> str:
    """A Secrets Manager secret holding the admin credentials, as Redshift manages them."""
    name = f"redshift!{cluster.cluster_identifier}-{cluster.master_username}"
    value = json.dumps({"username": cluster.master_username,
                        "password": secrets.token_urlsafe(24)})
    created = _secret_backend(backend).create_secret(
        name=name, secret_string=value, secret_binary=None, description="Redshift admin",
        tags=None, kms_key_id=kms_key, client_request_token=None, replica_regions=[],
        force_overwrite=False,
    )
    data = json.loads(created) if isinstance(created, str) else created
    return data["ARN"]


def delete_master_secret(backend: RedshiftBackend, cluster: Cluster) -> None:
    arn = getattr(cluster, "master_password_secret_arn", None)
    if arn:
        with contextlib.suppress(Exception):  # already gone: nothing to clean up
            _secret_backend(backend).delete_secret(arn, None, True)
        cluster.master_password_secret_arn = None


# --- response additions ------------------------------------------------------------------

_original_create = RedshiftResponse.create_cluster
_original_modify = RedshiftResponse.modify_cluster
_original_delete = RedshiftResponse.delete_cluster


def _cluster(self: RedshiftResponse) -> Cluster:
    identifier = self._get_param("ClusterIdentifier")
    cluster = self.redshift_backend.clusters.get(identifier)
    if cluster is None:
        raise ClusterNotFoundError(identifier)
    return cluster


def _apply_extras(self: RedshiftResponse, cluster: Cluster) -> None:
    """DefaultIamRoleArn and ManageMasterPassword, which moto's handlers ignore."""
    default_role = self._get_param("DefaultIamRoleArn")
    if default_role is not None:
        cluster.default_iam_role_arn = default_role or None
    track = self._get_param("MaintenanceTrackName")
    if track:
        cluster.maintenance_track_name = track
    retention = self._get_int_param("ManualSnapshotRetentionPeriod")
    if retention is not None:
        cluster.manual_snapshot_retention_period = retention
    manage = self._get_bool_param("ManageMasterPassword")
    if manage and not getattr(cluster, "master_password_secret_arn", None):
        kms_key = self._get_param("MasterPasswordSecretKmsKeyId")
        cluster.master_password_secret_arn = create_master_secret(
            self.redshift_backend, cluster, kms_key)
        cluster.master_password_secret_kms_key_id = kms_key
    elif manage is False:
        delete_master_secret(self.redshift_backend, cluster)


def create_cluster(self: RedshiftResponse) -> ActionResult:
    result = _original_create(self)
    _apply_extras(self, _cluster(self))
    return result


def modify_cluster(self: RedshiftResponse) -> ActionResult:
    result = _original_modify(self)
    identifier = self._get_param("NewClusterIdentifier") or self._get_param("ClusterIdentifier")
    cluster = self.redshift_backend.clusters[identifier]
    _apply_extras(self, cluster)
    return ActionResult({"Cluster": cluster}) if result is None else result


def delete_cluster(self: RedshiftResponse) -> ActionResult:
    cluster = self.redshift_backend.clusters.get(self._get_param("ClusterIdentifier"))
    result = _original_delete(self)
    if cluster is not None:
        delete_master_secret(self.redshift_backend, cluster)
    return result


def modify_cluster_iam_roles(self: RedshiftResponse) -> ActionResult:
    cluster = _cluster(self)
    roles = [r for r in cluster.iam_roles_arn if r not in self._get_param("RemoveIamRoles", [])]
    roles += [r for r in self._get_param("AddIamRoles", []) if r not in roles]
    cluster.iam_roles_arn = roles
    default_role = self._get_param("DefaultIamRoleArn")
    if default_role is not None:
        cluster.default_iam_role_arn = default_role or None
    return ActionResult({"Cluster": cluster})


def modify_cluster_parameter_group(self: RedshiftResponse) -> ActionResult:
    name = self._get_param("ParameterGroupName")
    group = self.redshift_backend.parameter_groups.get(name)
    if group is None:
        raise ClusterParameterGroupNotFoundError(name)
    user = _user_parameters(group)
    for param in self._get_param("Parameters", []):
        user[param["ParameterName"]] = param.get("ParameterValue", "")
    return ActionResult({"ParameterGroupName": name,
                         "ParameterGroupStatus": "Your parameter group has been updated."})


def reset_cluster_parameter_group(self: RedshiftResponse) -> ActionResult:
    name = self._get_param("ParameterGroupName")
    group = self.redshift_backend.parameter_groups.get(name)
    if group is None:
        raise ClusterParameterGroupNotFoundError(name)
    user = _user_parameters(group)
    if self._get_bool_param("ResetAllParameters"):
        user.clear()
    for param in self._get_param("Parameters", []):
        user.pop(param["ParameterName"], None)
    return ActionResult({"ParameterGroupName": name, "ParameterGroupStatus": "reset"})


def describe_cluster_parameters(self: RedshiftResponse) -> ActionResult:
    params = cluster_parameters(self.redshift_backend, self._get_param("ParameterGroupName"),
                                self._get_param("Source"))
    return ActionResult({"Parameters": params})


def apply() -> None:
    Cluster.cluster_availability_status = property(_availability)
    Cluster.availability_zone_relocation_status = "disabled"
    Cluster.multi_az = "Disabled"
    Cluster.maintenance_track_name = "current"
    Cluster.manual_snapshot_retention_period = -1
    Cluster.default_iam_role_arn = None
    Cluster.master_password_secret_arn = None
    Cluster.master_password_secret_kms_key_id = None
    RedshiftResponse.create_cluster = create_cluster
    RedshiftResponse.modify_cluster = modify_cluster
    RedshiftResponse.delete_cluster = delete_cluster
    RedshiftResponse.modify_cluster_iam_roles = modify_cluster_iam_roles
    RedshiftResponse.modify_cluster_parameter_group = modify_cluster_parameter_group
    RedshiftResponse.reset_cluster_parameter_group = reset_cluster_parameter_group
    RedshiftResponse.describe_cluster_parameters = describe_cluster_parameters
