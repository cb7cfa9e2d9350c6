"""Glue runs each crawler and job as the role its definition names, and so does the twin: a
session from the emulator's STS, whose S3 and PII-key requests the emulator holds to that
role's policies (retailake.local.access). A policy that misses what a job touches fails the
job here, as it would in AWS."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# the session names Glue gives its own sessions of a job's and a crawler's role
JOB_SESSION = "GlueJobRunnerSession"
CRAWLER_SESSION = "AWS-Crawler"


@dataclass(frozen=True)
class RoleSession:
    role_arn: str
    access_key: str
    secret_key: str = field(repr=False)
    token: str = field(repr=False)

    def client(self, service: str, endpoint_url: str, region: str) -> Any:
        """A boto3 client of the twin's `service` signing as this session."""
        import boto3
        from botocore.config import Config

        return boto3.client(
            service, endpoint_url=endpoint_url, region_name=region,
            aws_access_key_id=self.access_key, aws_secret_access_key=self.secret_key,
            aws_session_token=self.token, config=Config(s3={"addressing_style": "path"}),
        )  # fmt: skip

    def environment(self) -> dict[str, str]:
        """The variables boto3 (and the AWS CLI) read credentials from."""
        return {"AWS_ACCESS_KEY_ID": self.access_key, "AWS_SECRET_ACCESS_KEY": self.secret_key,
                "AWS_SESSION_TOKEN": self.token}


# Glue renews its sessions; the twin's cannot be, so a local job of many hours keeps its own.
SESSION_SECONDS = 12 * 3600


def assume(sts: Any, role: str, session_name: str) -> RoleSession:
    """A session of `role`, an ARN or, as Glue also takes it, a role's name in the caller's
    account (`sts`: a client of the twin's root keys)."""
    if not role.startswith("arn:"):
        account = sts.get_caller_identity()["Account"]
        role = f"arn:aws:iam::{account}:role/{role}"
    answer = sts.assume_role(RoleArn=role, RoleSessionName=session_name,
                             DurationSeconds=SESSION_SECONDS)["Credentials"]
    return RoleSession(role, answer["AccessKeyId"], answer["SecretAccessKey"],
                       answer["SessionToken"])
