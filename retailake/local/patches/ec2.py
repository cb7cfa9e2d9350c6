"""EC2: revoking a rule by an ID its security group does not hold answers
InvalidSecurityGroupRuleId.NotFound, as AWS does; moto answers InvalidPermission.NotFound.

Unblocks `aws_default_security_group`: on create the provider revokes, by rule ID, every rule
of the VPC's default group and skips InvalidSecurityGroupRuleId.NotFound (a rule already
gone). With moto's answer a fresh deploy failed now and then with "revoking Security Group
(sg-...) Rule (sgr-...): InvalidPermission.NotFound".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from moto.ec2.exceptions import InvalidSecurityGroupRuleIdNotFoundError
from moto.ec2.models.security_groups import SecurityGroup, SecurityGroupBackend

Revoke = Callable[..., None]


def _checking_rule_ids(revoke: Revoke, rules: Callable[[SecurityGroup], list[Any]]) -> Revoke:
    """`revoke`, refusing first, as AWS does, a rule ID that the group does not hold."""

    def revoke_rules(self: SecurityGroupBackend, **args: Any) -> None:
        group = self.get_security_group_by_name_or_id(args["group_name_or_id"], args.get("vpc_id"))
        if group is not None and args.get("security_rule_ids"):
            held = {rule.id for rule in rules(group)}
            for rule_id in args["security_rule_ids"]:
                if rule_id not in held:
                    raise InvalidSecurityGroupRuleIdNotFoundError(rule_id)
        revoke(self, **args)

    return revoke_rules


def apply() -> None:
    backend = SecurityGroupBackend
    backend.revoke_security_group_egress = _checking_rule_ids(
        backend.revoke_security_group_egress, lambda group: group.egress_rules
    )
    backend.revoke_security_group_ingress = _checking_rule_ids(
        backend.revoke_security_group_ingress, lambda group: group.ingress_rules
    )
