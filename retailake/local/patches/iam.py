"""IAM: look up access keys only in partitions that exist.

moto's ``get_account_id_from`` runs on every request and indexes all six partitions of the
IAM backend, creating five that are never used, each loaded with ~1,500 AWS-managed
policies. They cost memory and, with snapshots, six times the IAM pickling work.
"""

from __future__ import annotations

from moto.core import DEFAULT_ACCOUNT_ID
from moto.iam import models


def get_account_id_from(access_key: str) -> str:
    """The account owning access_key, searching only the partitions already created."""
    for account_id, account in list(models.iam_backends.items()):
        for partition in list(dict.keys(account)):
            if access_key in dict.__getitem__(account, partition).access_keys:
                return account_id
    return DEFAULT_ACCOUNT_ID


def apply() -> None:
    models.get_account_id_from = get_account_id_from
