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
past S3A's 64 MB part size (a large month of staged customers) failed on the twin.

Listing a prefix looked up every key of the bucket (moto fetches each key's latest version,
then tests the prefix). S3A lists a prefix for nearly every path it touches, so a job's cost
grew with everything else in its bucket, delete markers included: in a twin that had run the
pipeline a few dozen times (34,000 markers in staged, left by S3A's temporary files), those
lookups were 40% of the emulator's busy time. Keys are now matched by name first.

A listing with a delimiter also named a folder whose every key had been deleted (its latest
versions delete markers): moto leaves markers out of the keys it lists, not out of the
folders. S3 lists neither. A pipeline run that emptied a partition (a correction moved its
last rows to another month) left such a folder in staged, which Spark then listed and failed
to read: every later run failed, full refresh included."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from moto.iam import policy_conditions
from moto.iam.access_control import IAMPolicyStatement, PermissionResult
from moto.s3.models import FakeBucket, FakeDeleteMarker, FakeTableStorageBucket, S3Backend
from moto.s3.responses import S3Response

REQUEST_CONTEXT = {"aws:SecureTransport": "true"}


def bool_operation(expected_value: list[str] | str, actual_value: str) -> bool:
    """IAM's Bool operator: case-insensitive true/false, any of a list."""
    values = expected_value if isinstance(expected_value, list) else [expected_value]
    return any(str(value).lower() == str(actual_value).lower() for value in values)


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


def skip_access_log(self: S3Backend, request: Any, bucket_name: str) -> None:
    """No access-log delivery in the twin (see the module docstring)."""


def dispose_marker(_self: FakeDeleteMarker, garbage: bool = False) -> None:
    """A delete marker holds no body: nothing to release."""


_MOTO_ROOT, _S3_ROOT = "CompleteMultipartUploadResponse", "CompleteMultipartUploadResult"


def completion_as_s3_names_it(post: Any) -> Any:
    """Wrap S3Response._key_response_post: S3's root element on a completed upload."""

    def key_response_post(self: S3Response, *args: Any, **kwargs: Any) -> Any:
        status, headers, body = post(self, *args, **kwargs)
        if self.data.get("Action") == "CompleteMultipartUpload":
            if isinstance(body, str):
                body = body.replace(_MOTO_ROOT, _S3_ROOT)
            elif isinstance(body, bytes):
                body = body.replace(_MOTO_ROOT.encode(), _S3_ROOT.encode())
        return status, headers, body

    return key_response_post


class _KeysUnder:
    """The current keys of a bucket under a prefix: names are matched before any lookup, and
    a key whose latest version is a delete marker is not there."""

    def __init__(self, keys: Any, prefix: str) -> None:
        self._keys, self._prefix = keys, prefix

    def items(self) -> Iterator[tuple[str, Any]]:
        names = [name for name in list(dict.keys(self._keys)) if name.startswith(self._prefix)]
        for name in names:
            key = self._keys[name]
            if not isinstance(key, FakeDeleteMarker):
                yield name, key


class _BucketUnder:
    """A bucket whose listing sees only the keys under a prefix (all else is the bucket's)."""

    def __init__(self, bucket: FakeBucket, prefix: str) -> None:
        self._bucket, self.keys = bucket, _KeysUnder(bucket.keys, prefix)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._bucket, name)


def listing_by_name(list_objects: Any) -> Any:
    """Wrap S3Backend.list_objects: a listing looks up only the keys under its prefix, and
    sees only current keys."""

    def list_under(
        self: S3Backend, bucket: Any, prefix: str | None, *args: Any, **kwargs: Any
    ) -> Any:
        if not isinstance(bucket, FakeTableStorageBucket):
            bucket = _BucketUnder(bucket, prefix or "")
        return list_objects(self, bucket, prefix, *args, **kwargs)

    return list_under


def apply() -> None:
    S3Backend.list_objects = listing_by_name(S3Backend.list_objects)
    S3Response._key_response_post = completion_as_s3_names_it(S3Response._key_response_post)
    FakeDeleteMarker.dispose = dispose_marker
    policy_conditions.CONDITION_OPERATIONS["Bool"] = bool_operation
    FakeBucket.get_permission = get_permission
    S3Backend.log_incoming_request = skip_access_log
