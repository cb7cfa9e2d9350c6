"""What a Terraform plan would do, in the terms an operator approves: creates, updates, and
above all deletes and replacements of things that hold data."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Resource types whose deletion or replacement loses data or breaks what reads it. Lake
# Formation's settings are the account's: deleting them leaves it with no data lake admin.
DATA_BEARING_TYPES = frozenset(
    {
        "aws_lakeformation_data_lake_settings",
        "aws_s3_bucket",
        "aws_glue_catalog_database",
        "aws_glue_catalog_table",
        "aws_redshift_cluster",
        "aws_kms_key",
        "aws_secretsmanager_secret",
        "aws_cloudwatch_log_group",
    }
)

_ACTIONS = {
    ("create",): "create",
    ("update",): "update",
    ("delete",): "delete",
    ("delete", "create"): "replace",
    ("create", "delete"): "replace",
    ("forget",): "forget",  # a `removed` block: out of the state, left in the account
}
# Actions in the order a plan shows them: the destructive first.
ORDER = ("delete", "replace", "forget", "update", "move", "import", "create")


@dataclass(frozen=True)
class ResourceChange:
    address: str
    type: str
    action: str  # one of ORDER

    @property
    def destructive(self) -> bool:
        return self.action in ("delete", "replace")

    @property
    def data_bearing(self) -> bool:
        return self.type in DATA_BEARING_TYPES


@dataclass(frozen=True)
class PlanSummary:
    changes: tuple[ResourceChange, ...]
    # Root outputs the plan adds, changes or removes: a release that only adds an output
    # must still be applied, or the outputs saved for the other commands never gain it.
    outputs: tuple[str, ...] = ()
    # ETL scripts whose bytes the scripts bucket does not hold yet: code the lake will run,
    # approved with the plan like any resource.
    scripts: tuple[str, ...] = ()

    @classmethod
    def empty(cls) -> PlanSummary:
        return cls(())

    def count(self, action: str) -> int:
        return sum(1 for change in self.changes if change.action == action)

    @property
    def terraform_changes(self) -> bool:
        return bool(self.changes or self.outputs)

    @property
    def has_changes(self) -> bool:
        return self.terraform_changes or bool(self.scripts)

    @property
    def destructive(self) -> tuple[ResourceChange, ...]:
        return tuple(change for change in self.changes if change.destructive)

    @property
    def data_loss(self) -> tuple[ResourceChange, ...]:
        """Deletes and replacements of data-bearing resources: what approval is really about."""
        return tuple(change for change in self.destructive if change.data_bearing)

    def as_dict(self) -> dict[str, Any]:
        return {
            "create": self.count("create"),
            "update": self.count("update"),
            "replace": self.count("replace"),
            "delete": self.count("delete"),
            **{action: self.count(action) for action in ("move", "import", "forget")},
            "outputs": list(self.outputs),
            "scripts": list(self.scripts),
            "data_loss": [change.address for change in self.data_loss],
            "changes": [
                {"address": change.address, "type": change.type, "action": change.action}
                for change in self.changes
            ],
        }


def summarize_plan(plan_json: dict[str, Any]) -> PlanSummary:
    """Reduce `terraform show -json <plan>` to the managed resources and the root outputs
    that would change. A `moved` or `import` block's resource changes nothing else but the
    state ("no-op" beside a previous address or an import), and still has to be applied:
    until it is, the state keeps the old address, and a release that drops the block would
    destroy and recreate the resource."""
    changes = []
    for item in plan_json.get("resource_changes", []):
        if item.get("mode") != "managed":
            continue
        change = item["change"]
        action = _ACTIONS.get(tuple(change["actions"]))
        if action is None and change["actions"] == ["no-op"]:
            action = ("import" if change.get("importing") else
                      "move" if item.get("previous_address") else None)  # fmt: skip
        if action:
            changes.append(ResourceChange(item["address"], item["type"], action))
    changes.sort(key=lambda change: (ORDER.index(change.action), change.address))
    outputs = sorted(
        name for name, change in plan_json.get("output_changes", {}).items()
        if change.get("actions") != ["no-op"]
    )  # fmt: skip
    return PlanSummary(tuple(changes), tuple(outputs))
