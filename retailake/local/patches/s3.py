"""S3: bucket policies are evaluated as AWS does, with aws:SecureTransport = true; access
logs are configured but not delivered.

The lake's buckets carry AWS's standard TLS-only policy (Deny s3:* when aws:SecureTransport
is false). moto 5.2.1 evaluates bucket policies with no request context, ignores every
condition operator but StringEquals, and turns a statement whose condition does not hold
into DENIED whatever its Effect. So that Deny matched every object request and the local
twin answered 403 to its own CLI. Here a statement applies only when its action, resource
and conditions all match; Deny wins over Allow. The emulator listens on loopback only, which
the twin treats as its secure transport; the policies stay exactly as deployed to AWS.

moto delivers a server access log object for every request to a logged bucket, reads
included: thousands of objects for one seed, each a state change made under a read (so
never persisted, and racing the snapshot). AWS itself delivers access logs best effort and
late; the twin keeps the logging configuration Terraform reads back and delivers none.

Deleting the last version of a key whose history holds a delete marker (what Spark's S3A
commits leave behind in a versioned bucket) crashed DeleteObjects with HTTP 500: moto
disposes of every version and delete markers have no `dispose`. Emptying the staged and
analytics buckets on destroy failed that way.

CompleteMultipartUpload answered with a `CompleteMultipartUploadResponse` root element where
S3 sends `CompleteMultipartUploadResult`. boto3 does not mind; the AWS SDK for Java v1 under
S3A finds no result and fails with a NullPointerException, so every file a Glue job wrote
past S3A's 64 MB part size (a large month of staged customers) failed on the twin."""

from __future__ import annotations

import json
from typing import Any

from moto.iam import policy_conditions
from moto.iam.access_control import IAMPolicyStatement, PermissionResult
from moto.s3.models import FakeBucket, FakeDeleteMarker, S3Backend
from moto.s3.responses import S3Response

REQUEST_CONTEXT = {"aws:SecureTransport": "true"}


def bool_operation(expected: list[str] | str, actual: str) -> bool:
    """IAM's Bool operator: case-insensitive true/false, any of a list."""
    values = expected if isinstance(expected, list) else [expected]
    return any(str(value).lower() == str(actual).lower() for value in values)


def statement_result(statement: dict[str, Any], action: str, resource: str) -> PermissionResult:
    """What one statement says about an anonymous-principal (`*`) request."""
    evaluated = IAMPolicyStatement(statement)
    if "NotAction" in statement:
        concerned = not evaluated._check_element_matches("NotAction", action)
    else:
        concerned = bool(evaluated._check_element_matches("Action", action))
    applies = (
        concerned
        and not evaluated.is_unknown_principal(statement.get("Principal"))
        and "Resource" in statement
        and evaluated._check_element_matches("Resource", resource)
        and evaluated._check_conditions(REQUEST_CONTEXT)
    )
    if not applies:
        return PermissionResult.NEUTRAL
    return PermissionResult.PERMITTED if statement["Effect"] == "Allow" else PermissionResult.DENIED


def get_permission(self: FakeBucket, action: str, resource: str) -> Any:
    if self.policy is None:
        return PermissionResult.NEUTRAL
    statements = json.loads(self.policy.decode())["Statement"]
    if isinstance(statements, dict):
        statements = [statements]
    results = {statement_result(statement, action, resource) for statement in statements}
    for verdict in (PermissionResult.DENIED, PermissionResult.PERMITTED):
        if verdict in results:
            return verdict
    return PermissionResult.NEUTRAL


def skip_access_log(_self: S3Backend, _request: Any, _bucket_name: str) -> None:
    """No access-log delivery in the twin (see the module docstring)."""


def dispose_marker(_self: FakeDeleteMarker, garbage: bool = False) -> None:
    """A delete marker holds no body: nothing to release."""


_MOTO_ROOT, _S3_ROOT = "CompleteMultipartUploadResponse", "CompleteMultipartUploadResult"


def completion_as_s3_names_it(post: Any) -> Any:
    """Wrap S3Response._key_response_post: S3's root element on a completed upload."""

    def key_response_post(self: S3Response, *args: Any, **kwargs: Any) -> Any:
        status, headers, body = post(self, *args, **kwargs)
        if self.data.get("Action") == "CompleteMultipartUpload" and isinstance(body, str | bytes):
            old, new = (_MOTO_ROOT, _S3_ROOT) if isinstance(body, str) else (
                _MOTO_ROOT.encode(), _S3_ROOT.encode())  # fmt: skip
            body = body.replace(old, new)
        return status, headers, body

    return key_response_post


def apply() -> None:
    S3Response._key_response_post = completion_as_s3_names_it(S3Response._key_response_post)
    FakeDeleteMarker.dispose = dispose_marker
    policy_conditions.CONDITION_OPERATIONS["Bool"] = bool_operation
    FakeBucket.get_permission = get_permission
    S3Backend.log_incoming_request = skip_access_log
