"""The key that pseudonymises customer PII (HMAC-SHA256 of email and phone).

Terraform creates the secret without a value, so the key never enters Terraform state; the
first deploy gives it a random value here, and no code path reads it back or prints it."""

from __future__ import annotations

import secrets

from botocore.exceptions import BotoCoreError, ClientError

from retailake.aws.clients import aws_error, client
from retailake.config import Environment
from retailake.outputs import Outputs

# The first value's idempotency token, the same for every deploy: of two first deploys at
# once, the second's write fails (another value under the same token) instead of replacing the
# key the first one may already have hashed customers with.
FIRST_VALUE_TOKEN = "retailake-pii-hmac-key-first-value-v1"


def ensure_pii_key(env: Environment, outputs: Outputs) -> bool:
    """Set a random key when the secret has none yet. Returns whether one was created."""
    manager = client(env, "secretsmanager")
    secret_id = outputs["pii_hmac_secret_arn"]
    try:
        if manager.describe_secret(SecretId=secret_id).get("VersionIdsToStages"):
            return False
        manager.put_secret_value(SecretId=secret_id, SecretString=secrets.token_hex(32),
                                 ClientRequestToken=FIRST_VALUE_TOKEN)
    except (ClientError, BotoCoreError) as error:
        raise aws_error(error, "setting the PII hashing key") from error
    return True
