"""Lake Formation: column-level grants that survive a refresh, and revokes that terminate.

Unblocks `aws_lakeformation_permissions` with `table_with_columns` in Terraform's AWS
provider 5.100:
- the provider reads a column grant with ListPermissions filtered by *Table* (the API
  cannot filter by TableWithColumns); moto's filter skips TableWithColumns grants, so the
  grant vanished from state on every refresh and was re-created on every apply;
- after RevokePermissions the provider revokes again until AWS answers InvalidInputException
  "No permissions revoked. Grantee has no ..."; moto answers 200, which the provider treats
  as an empty retryable error and fails (or loops until its timeout).
"""

from __future__ import annotations

from typing import Any

from moto.lakeformation.exceptions import InvalidInput
from moto.lakeformation.models import (
    LakeFormationBackend,
    ListPermissionsResource,
    Permission,
    RessourceType,
)

NOTHING_REVOKED = (
    "No permissions revoked. Grantee has no permissions and no grantable permissions "
    "on resource"
)

_original_list = LakeFormationBackend.list_permissions
_original_revoke = LakeFormationBackend.revoke_permissions


def _same_table(columns: dict[str, Any], table: Any) -> bool:
    """Whether a TableWithColumns resource is on the table a ListPermissions filter names."""
    if columns.get("DatabaseName") != table.database_name:
        return False
    if table.catalog_id is not None and columns.get("CatalogId") not in (None, table.catalog_id):
        return False
    return table.table_wildcard is not None or columns.get("Name") == table.name


def list_permissions(
    self: LakeFormationBackend,
    catalog_id: str,
    principal: dict[str, str] | None = None,
    resource: ListPermissionsResource | None = None,
    resource_type: RessourceType | None = None,
) -> list[dict[str, Any]]:
    """moto's listing plus the column grants on the filtered table."""
    result = _original_list(self, catalog_id, principal, resource, resource_type)
    if (resource is None or resource.table is None or resource.database is not None
            or catalog_id not in self.grants):
        return result
    table = resource.table
    for permission in list(self.grants[catalog_id].permissions):
        columns = permission.resource.get("TableWithColumns")
        if columns is None or (principal is not None and permission.principal != principal):
            continue
        if _same_table(columns, table):
            entry = permission.to_external_form()
            if entry not in result:
                result.append(entry)
    return result


def _held(self: LakeFormationBackend, catalog_id: str, principal: dict[str, str],
          resource: dict[str, Any]) -> Permission | None:
    catalog = self.grants.get(catalog_id)
    if catalog is None:
        return None
    for permission in catalog.permissions:
        if permission.principal == principal and permission.resource == resource:
            return permission
    return None


def revoke_permissions(
    self: LakeFormationBackend,
    catalog_id: str,
    principal: dict[str, str],
    resource: dict[str, Any],
    permissions_to_revoke: list[str],
    permissions_with_grant_options_to_revoke: list[str],
) -> None:
    """Revoke as moto does, but fail like AWS when the grantee holds none of them."""
    held = _held(self, catalog_id, principal, resource)
    wanted = set(permissions_to_revoke or []) | set(permissions_with_grant_options_to_revoke or [])
    if held is None or not wanted & (
        set(held.permissions) | set(held.permissions_with_grant_options)
    ):
        raise InvalidInput(NOTHING_REVOKED)
    _original_revoke(self, catalog_id, principal, resource, permissions_to_revoke,
                     permissions_with_grant_options_to_revoke)


def apply() -> None:
    LakeFormationBackend.list_permissions = list_permissions
    LakeFormationBackend.revoke_permissions = revoke_permissions
