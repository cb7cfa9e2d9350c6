"""The twin holds a Glue role to its IAM policies where the lake's data is: S3 with its KMS key,
and the PII key.

A request signed with session credentials from the emulator's STS (`AssumeRole`, which the
local Glue runner calls for each job and crawler, as Glue does with the role the definition
names) is checked against that role's policies, inline and attached, with moto's own policy
evaluator: every S3 request (the action S3 authorizes it as, on the bucket or object ARN, and
the KMS rights S3 uses for an SSE-KMS object), and Secrets Manager's `GetSecretValue` (on the
secret's ARN, and Decrypt on its KMS key). A request the policies do not allow is refused as
AWS refuses it, naming the role, the action and the resource. So a policy that misses a
folder a job writes fails that job on the twin, before it reaches AWS.

Everything else passes unchecked: the emulator's root keys (the CLI, Terraform), and the other
services a role calls directly (Glue, CloudWatch, Logs, KMS). Signatures are not verified:
this tests what a role may do, not who signed."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote
from xml.etree import ElementTree

_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/[^/]+/([^/]+)/([^/]+)/")
_SECRET_TARGET = "secretsmanager.GetSecretValue"
_SESSION_KEY_PREFIX = "ASIA"  # STS's temporary keys (an expired one is no longer known)
# moto's names for two requests that IAM authorizes as other actions
_IAM_ACTION = {"HeadBucket": "ListBucket", "SelectObject": "GetObject"}

log = logging.getLogger("retailake.emulator")


@dataclass(frozen=True)
class Refusal:
    """A WSGI answer: status line, headers, body."""

    status: str
    headers: list[tuple[str, str]]
    body: bytes


@dataclass(frozen=True)
class _Caller:
    arn: str  # arn:aws:sts::<account>:assumed-role/<role>/<session>
    policies: list[Any]  # policy documents (text) and attached managed policies


def refusal(environ: dict[str, Any], body: Callable[[], bytes]) -> Refusal | None:
    """Why the request must be refused, or None when it may go on to moto."""
    match = _CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
    if match is None:
        return None
    access_key, region, service = match.groups()
    if service == "s3":
        wanted = s3_permissions(environ, body)
        wanted += key_permissions(region, environ, wanted)
    elif environ.get("HTTP_X_AMZ_TARGET") == _SECRET_TARGET:
        wanted = secret_permissions(region, body())
    else:
        return None
    caller = _assumed_role(access_key, region, environ.get("HTTP_X_AMZ_SECURITY_TOKEN", ""))
    if caller is None:
        return None
    for action, resource in wanted:
        if not allowed(caller.policies, action, resource):
            return _refused(service, environ, caller.arn, action, resource)
    return None


def allowed(policies: list[Any], action: str, resource: str) -> bool:
    """IAM's rule: an explicit Deny wins, else some statement must Allow."""
    from moto.iam.access_control import IAMPolicy, PermissionResult

    permitted = False
    for policy in policies:
        result = IAMPolicy(policy).is_action_permitted(action, resource)
        if result == PermissionResult.DENIED:
            return False
        permitted = permitted or result == PermissionResult.PERMITTED
    return permitted


def s3_permissions(environ: dict[str, Any], body: Callable[[], bytes]) -> list[tuple[str, str]]:
    """(action, resource ARN) pairs S3 authorizes a path-style request as: moto's own map of
    method and subresource to action, a multi-object delete as a DeleteObject per key, and a
    copy's source as a read."""
    from moto.s3.responses import ACTION_MAP

    path = environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8")
    bucket, _, key = path.lstrip("/").partition("/")
    query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    method = environ.get("REQUEST_METHOD", "GET").upper()
    if not key and method == "POST" and "delete" in query:
        keys = [element.text or "" for element in ElementTree.fromstring(body()).iter()
                if element.tag.rsplit("}", 1)[-1] == "Key"]
        return [("s3:DeleteObject", f"arn:aws:s3:::{bucket}/{k}") for k in keys]
    actions = ACTION_MAP["KEY" if key else "BUCKET"].get(method, {})
    action = next((a for sub, a in actions.items() if sub in query), actions.get("DEFAULT"))
    resource = f"arn:aws:s3:::{bucket}/{key}" if key else f"arn:aws:s3:::{bucket}"
    action = action or method
    wanted = [(f"s3:{_IAM_ACTION.get(action, action)}", resource)]
    source = environ.get("HTTP_X_AMZ_COPY_SOURCE")
    if source:
        source_path, _, source_query = unquote(source).lstrip("/").partition("?")
        read = "s3:GetObjectVersion" if "versionId" in source_query else "s3:GetObject"
        wanted.append((read, f"arn:aws:s3:::{source_path}"))
    return wanted


def key_permissions(region: str, environ: dict[str, Any],
                    s3: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The KMS rights S3 uses on the caller's behalf for SSE-KMS objects: Decrypt to read one
    (a GET, or a copy's source; a HEAD needs none), GenerateDataKey to write one (the key the
    request names, else the bucket's default), and Decrypt too to complete a multipart upload.
    An object under S3's own key (aws/s3), or no KMS at all, needs nothing."""
    method = environ.get("REQUEST_METHOD", "GET").upper()
    wanted = []
    for action, resource in s3:
        bucket, _, key = resource.removeprefix("arn:aws:s3:::").partition("/")
        if action in ("s3:GetObject", "s3:GetObjectVersion") and method != "HEAD":
            key_id = _object_key_id(bucket, key)
            wanted += [("kms:Decrypt", _key_arn(region, key_id))] if key_id else []
        elif action == "s3:PutObject":
            named = environ.get("HTTP_X_AMZ_SERVER_SIDE_ENCRYPTION_AWS_KMS_KEY_ID")
            key_id = named or _default_key_id(bucket)
            if key_id:
                wanted.append(("kms:GenerateDataKey", _key_arn(region, key_id)))
                if method == "POST" and "uploadId" in environ.get("QUERY_STRING", ""):
                    wanted.append(("kms:Decrypt", _key_arn(region, key_id)))
    return wanted


def _s3_bucket(name: str) -> Any:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.s3.models import s3_backends

    return s3_backends[DEFAULT_ACCOUNT_ID]["aws"].buckets.get(name)


def _object_key_id(bucket_name: str, key: str) -> str | None:
    """The KMS key of the object's current version (None: no such object, or not SSE-KMS)."""
    bucket = _s3_bucket(bucket_name)
    found = bucket.keys.get(key) if bucket is not None else None
    if found is None or getattr(found, "encryption", None) != "aws:kms":
        return None
    return found.kms_key_id


def _default_key_id(bucket_name: str) -> str | None:
    bucket = _s3_bucket(bucket_name)
    rule = ((bucket.encryption or {}).get("Rule") or {}) if bucket is not None else {}
    default = rule.get("ApplyServerSideEncryptionByDefault") or {}
    return default.get("KMSMasterKeyID") if default.get("SSEAlgorithm") == "aws:kms" else None


def _key_arn(region: str, key_id: str) -> str:
    """A key's ARN from its id, alias or ARN, as IAM policies name keys."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.kms.models import kms_backends

    try:
        return kms_backends[DEFAULT_ACCOUNT_ID][region].describe_key(key_id).arn
    except Exception:  # no such key in the twin: as named (S3 then fails the request itself)
        return key_id


def secret_permissions(region: str, body: bytes) -> list[tuple[str, str]]:
    """GetSecretValue on the secret's ARN (its SecretId may be a name), and Decrypt on the KMS
    key it is encrypted with. No such secret: its id as given, and moto then answers
    ResourceNotFound, as AWS does to a caller that may read it."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.secretsmanager.models import secretsmanager_backends

    secret_id = json.loads(body or b"{}").get("SecretId", "")
    secret = secretsmanager_backends[DEFAULT_ACCOUNT_ID][region].secrets.get(secret_id)
    if secret is None:
        return [("secretsmanager:GetSecretValue", secret_id)]
    wanted = [("secretsmanager:GetSecretValue", secret.arn)]
    key_id = getattr(secret, "kms_key_id", None)
    return wanted + ([("kms:Decrypt", _key_arn(region, key_id))] if key_id else [])


def _assumed_role(access_key: str, region: str, token: str) -> _Caller | None:
    """The role whose session signed the request; None for any other key. A session that
    expired, or whose role was deleted since, has no policies, so it may do nothing."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.iam.access_control import AssumedRoleAccessKey, CreateAccessKeyFailure
    from moto.iam.models import iam_backends
    from moto.utilities.utils import get_partition

    partition = get_partition(region)
    try:
        key = AssumedRoleAccessKey(DEFAULT_ACCOUNT_ID, partition, access_key,
                                   {"X-Amz-Security-Token": token})
    except CreateAccessKeyFailure as failure:
        if failure.reason == "InvalidId" and not access_key.startswith(_SESSION_KEY_PREFIX):
            return None  # not a role session: the emulator's root keys
        problem = "has expired" if failure.reason == "InvalidId" else "has another token"
        return _Caller(f"session {access_key} (which {problem})", [])
    role = key.arn.split("/")[1]
    if not any(r.name == role for r in iam_backends[DEFAULT_ACCOUNT_ID][partition].roles.values()):
        return _Caller(key.arn, [])
    return _Caller(key.arn, key.collect_policies())


def _refused(service: str, environ: dict[str, Any], caller: str, action: str,
             resource: str) -> Refusal:
    message = (f"User: {caller} is not authorized to perform: {action} on resource: "
               f"{resource} because no identity-based policy allows the {action} action")
    log.warning("refused: %s", message)  # a HEAD's refusal has no body to say it in
    if service == "s3":
        body = b"" if environ.get("REQUEST_METHOD") == "HEAD" else (
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied</Code>"
            f"<Message>{_xml_text(message)}</Message></Error>").encode()
        return Refusal("403 Forbidden", [("Content-Type", "application/xml"),
                                         ("Content-Length", str(len(body)))], body)
    body = json.dumps({"__type": "AccessDeniedException", "message": message}).encode()
    return Refusal("400 Bad Request", [("Content-Type", "application/x-amz-json-1.1"),
                                       ("Content-Length", str(len(body)))], body)


def _xml_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
