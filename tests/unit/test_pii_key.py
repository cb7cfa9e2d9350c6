"""The PII hashing key is given a value once, and never twice by two deploys at once."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import ANY, Stubber

from retailake.config import load_environment
from retailake.errors import AwsError
from retailake.outputs import Outputs
from retailake.pii_key import FIRST_VALUE_TOKEN, ensure_pii_key

ARN = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:rl-dev/pii-hmac-key-AbCdEf"


@pytest.fixture
def manager(monkeypatch) -> Stubber:
    client = boto3.client("secretsmanager", region_name="eu-west-1", aws_access_key_id="k",
                          aws_secret_access_key="s")
    monkeypatch.setattr("retailake.pii_key.client", lambda env, service: client)
    with Stubber(client) as stubber:
        yield stubber
    stubber.assert_no_pending_responses()


def ensure() -> bool:
    return ensure_pii_key(load_environment("dev"), Outputs({"pii_hmac_secret_arn": ARN}))


def test_a_secret_without_a_value_gets_one_under_the_fixed_first_token(manager):
    manager.add_response("describe_secret", {"ARN": ARN}, {"SecretId": ARN})
    manager.add_response("put_secret_value", {"ARN": ARN}, {
        "SecretId": ARN, "SecretString": ANY, "ClientRequestToken": FIRST_VALUE_TOKEN})
    assert ensure() is True
    assert 32 <= len(FIRST_VALUE_TOKEN) <= 64  # the API's bounds


def test_a_secret_with_a_value_is_left_alone(manager):
    manager.add_response("describe_secret", {
        "ARN": ARN, "VersionIdsToStages": {FIRST_VALUE_TOKEN: ["AWSCURRENT"]}}, {"SecretId": ARN})
    assert ensure() is False


def test_a_second_deploy_racing_the_first_fails_rather_than_replace_the_key(manager):
    manager.add_response("describe_secret", {"ARN": ARN}, {"SecretId": ARN})
    manager.add_client_error("put_secret_value", "ResourceExistsException",
                             "You can't modify an existing version")
    with pytest.raises(AwsError, match=r"setting the PII hashing key: .*ResourceExists"):
        ensure()
