"""STS: a role session is forgotten once it has expired.

moto keeps every AssumeRole session (and its temporary access key) forever, and finds a
request's session by a scan of all of them. The twin's runner assumes a role for each job
and crawler of every pipeline run, and the snapshot keeps them, so a long-lived twin's list
grew by eight a run, and with it the work of checking every request a role makes
(retailake.local.access). An expired session is refused by AWS; here it is dropped when the
next one is made.
"""

from __future__ import annotations

from moto.core.utils import utcnow
from moto.iam.models import iam_backends
from moto.sts.models import AssumedRole, STSBackend

_assume_role = STSBackend.assume_role


def assume_role(self: STSBackend, region_name: str, role_session_name: str, role_arn: str,
                policy: str, duration: int, external_id: str) -> AssumedRole:
    now = utcnow()
    expired = [role for role in self.assumed_roles if role.expiration <= now]
    if expired:
        self.assumed_roles = [role for role in self.assumed_roles if role.expiration > now]
        keys = iam_backends[self.account_id][self.partition].access_keys
        for role in expired:
            keys.pop(role.access_key_id, None)
    return _assume_role(self, region_name, role_session_name, role_arn, policy, duration,
                        external_id)


def apply() -> None:
    STSBackend.assume_role = assume_role
