"""The twin holds a Glue role to its IAM policies where the lake's data is: S3 with its KMS key,
and the PII key.

A request signed with session credentials from the emulator's STS (`AssumeRole`, which the
local Glue runner calls for each job and crawler, as Glue does with the role the definition
names) is checked against that role's policies, inline and attached, by IAM's rules (an
explicit Deny wins, else an Allow is needed; `Action`/`NotAction`, `Resource`/`NotResource`
with IAM's wildcards): every S3 request (the action S3 authorizes it as, on the bucket or
object ARN; ListBucket besides to read a key that does not exist, since S3 answers 403, not
404, to a caller that may not list; the KMS rights S3 uses for an SSE-KMS object), and Secrets
Manager's `GetSecretValue` (on the secret's ARN, and Decrypt on its KMS key). A request the
policies do not allow is refused as AWS refuses it, naming the role, the action and the
resource. So a policy that misses a folder a job writes fails that job on the twin, before it
reaches AWS.

Every request must name a key the twin knows (see `root_keys`): its root keys (the CLI,
Terraform), which pass unchecked, or a session of its STS; anything else is refused as AWS
refuses an unknown key, so that no other user of the machine reads the lake through the port.

Not modeled: conditions (a statement applies as if they held), policy variables, signatures
(a request is known by the key it names; the keys are the secret, in an owner-only file),
presigned URLs (refused), and the other services a role calls directly (Glue, CloudWatch, Logs,
KMS)."""

from __future__ import annotations

import functools
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
_READS = ("s3:GetObject", "s3:GetObjectVersion")

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
    statements: list[dict[str, Any]]  # of every policy of the role's, as they apply here
    current: bool = True  # False: an expired session, or another session's token


def refusal(environ: dict[str, Any], body: Callable[[], bytes],
            root_key: str) -> Refusal | None:
    """Why the request must be refused, or None when it may go on to moto."""
    match = _CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
    if match is None:  # unsigned, or signed in its query string (a presigned URL)
        return _not_signed_by_a_known_key(environ, None, "an unsigned request")
    access_key, region, service = match.groups()
    if access_key == root_key:  # the twin's owner: the CLI, Terraform
        return None
    caller = _assumed_role(access_key, region, environ.get("HTTP_X_AMZ_SECURITY_TOKEN", ""))
    if caller is None:
        return _not_signed_by_a_known_key(environ, service, f"access key {access_key}")
    secret = environ.get("HTTP_X_AMZ_TARGET") == _SECRET_TARGET
    if service != "s3" and not secret:
        return None if caller.current else _refused_session(environ, service, caller)
    if secret:
        wanted = secret_permissions(region, body())
    else:
        wanted = s3_permissions(environ, body)
        wanted += implied_permissions(region, environ, wanted)
    for action, resource in wanted:
        if not allowed(caller.statements, action, resource):
            return _refused(service, environ, caller.arn, action, resource)
    return None


def allowed(statements: list[dict[str, Any]], action: str, resource: str) -> bool:
    """IAM's rule: an explicit Deny wins, else some statement must Allow."""
    effects = {_effect(statement, action, resource) for statement in statements}
    return "Deny" not in effects and "Allow" in effects


def applicable_statements(documents: list[str]) -> list[dict[str, Any]]:
    """The statements of policy documents (conditions are not modeled: a statement applies as
    if they held)."""
    statements = []
    for document in documents:
        found = json.loads(document)["Statement"]
        statements += found if isinstance(found, list) else [found]
    return statements


def _effect(statement: dict[str, Any], action: str, resource: str) -> str | None:
    """The statement's Effect when it covers the action on the resource, else None: actions
    match without regard to case, resources with it; `*` and `?` are IAM's only wildcards
    (moto's evaluator reads a pattern as a regular expression, so `_$folder$` matched
    nothing)."""
    if "Action" in statement:
        if not _matches(statement["Action"], action, ignore_case=True):
            return None
    elif _matches(statement.get("NotAction", "*"), action, ignore_case=True):
        return None
    if "Resource" in statement:
        if not _matches(statement["Resource"], resource, ignore_case=False):
            return None
    elif _matches(statement.get("NotResource", "*"), resource, ignore_case=False):
        return None
    return statement.get("Effect")


def _matches(patterns: str | list[str], value: str, *, ignore_case: bool) -> bool:
    return any(_pattern(p, ignore_case).fullmatch(value)
               for p in ([patterns] if isinstance(patterns, str) else patterns))


@functools.cache
def _pattern(wildcards: str, ignore_case: bool) -> re.Pattern[str]:
    regex = "".join({"*": ".*", "?": "."}.get(c, re.escape(c)) for c in wildcards)
    return re.compile(regex, re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def s3_permissions(environ: dict[str, Any], body: Callable[[], bytes]) -> list[tuple[str, str]]:
    """(action, resource ARN) pairs S3 authorizes a path-style request as: moto's own map of
    method and subresource to action, a multi-object delete as a DeleteObject per key, and a
    copy's source as a read."""
    from moto.s3.responses import ACTION_MAP

    path = environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8", "replace")
    bucket, _, key = path.lstrip("/").partition("/")
    query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    method = environ.get("REQUEST_METHOD", "GET").upper()
    if not key and method == "POST" and "delete" in query:
        keys = [element.text or "" for element in ElementTree.fromstring(body()).iter()
                if element.tag.rsplit("}", 1)[-1] == "Key"]
        return [("s3:DeleteObject", f"arn:aws:s3:::{bucket}/{k}") for k in keys]
    actions = ACTION_MAP["KEY" if key else "BUCKET"].get(method, {})
    action = actions.get("DEFAULT") or method
    for subresource, named in actions.items():  # as moto picks: the last one present
        if subresource in query:
            action = named
    resource = f"arn:aws:s3:::{bucket}/{key}" if key else f"arn:aws:s3:::{bucket}"
    wanted = [(f"s3:{_IAM_ACTION.get(action, action)}", resource)]
    source = environ.get("HTTP_X_AMZ_COPY_SOURCE")
    if source:
        source_path, _, source_query = source.partition("?")
        read = "s3:GetObjectVersion" if "versionId" in source_query else "s3:GetObject"
        wanted.append((read, f"arn:aws:s3:::{unquote(source_path).lstrip('/')}"))
    return wanted


def implied_permissions(region: str, environ: dict[str, Any],
                        s3: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """What S3 also checks on the caller's behalf. ListBucket for a GET or HEAD of a key that
    does not exist: without it S3 answers 403 rather than 404, which Hadoop's file systems
    take as a failure, not as "no such file". And the KMS rights it uses for SSE-KMS objects:
    Decrypt to read one (a GET, or a copy's source; a HEAD needs none), GenerateDataKey to
    write one (with the key the request names, its multipart upload's, else the bucket's
    default), and Decrypt too to complete a multipart upload. An object under S3's own keys
    (SSE-S3, aws/s3) needs nothing."""
    method = environ.get("REQUEST_METHOD", "GET").upper()
    query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    upload = query.get("uploadId", [""])[0]
    wanted = []
    for action, resource in s3:
        bucket_name, _, key = resource.removeprefix("arn:aws:s3:::").partition("/")
        bucket = _s3_bucket(bucket_name)
        if action in _READS and bucket is not None:
            if key not in bucket.keys:
                if method in ("GET", "HEAD"):
                    wanted.append(("s3:ListBucket", f"arn:aws:s3:::{bucket_name}"))
            elif method != "HEAD":
                found = bucket.keys.get(key)  # the current version (or a delete marker)
                if getattr(found, "encryption", None) == "aws:kms" and found.kms_key_id:
                    wanted.append(("kms:Decrypt", _key_arn(region, found.kms_key_id)))
        elif action == "s3:PutObject":
            key_id = _write_key_id(environ, bucket, upload)
            if key_id:
                wanted.append(("kms:GenerateDataKey", _key_arn(region, key_id)))
                if method == "POST" and upload:
                    wanted.append(("kms:Decrypt", _key_arn(region, key_id)))
    return wanted


def _s3_bucket(name: str) -> Any:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.s3.models import s3_backends

    return s3_backends[DEFAULT_ACCOUNT_ID]["aws"].buckets.get(name)


def _write_key_id(environ: dict[str, Any], bucket: Any, upload: str) -> str | None:
    """The KMS key a write is encrypted with: the request's own choice, its multipart upload's
    (chosen when it started), else the bucket's default; None for SSE-S3."""
    if upload:
        multipart = bucket.multiparts.get(upload) if bucket is not None else None
        if multipart is not None:
            return multipart.kms_key_id if multipart.sse_encryption == "aws:kms" else None
    algorithm = environ.get("HTTP_X_AMZ_SERVER_SIDE_ENCRYPTION")
    if algorithm:
        named = environ.get("HTTP_X_AMZ_SERVER_SIDE_ENCRYPTION_AWS_KMS_KEY_ID")
        return named or (_default_key_id(bucket) if algorithm == "aws:kms" else None)
    return _default_key_id(bucket)


def _default_key_id(bucket: Any) -> str | None:
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
    expired, carries another token, or whose role was deleted since may do nothing."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.core.utils import utcnow
    from moto.sts.models import sts_backends
    from moto.utilities.utils import get_partition

    partition = get_partition(region)
    session = sts_backends[DEFAULT_ACCOUNT_ID][partition].get_assumed_role_from_access_key(
        access_key)
    if session is None:
        if not access_key.startswith(_SESSION_KEY_PREFIX):
            return None  # not a role session
        return _Caller(f"session {access_key} (which has expired)", [], current=False)
    if session.session_token != token:
        return _Caller(f"{session.arn} (with another session's token)", [], current=False)
    if session.expiration <= utcnow():
        return _Caller(f"{session.arn} (which has expired)", [], current=False)
    return _Caller(session.arn, applicable_statements(
        _role_documents(DEFAULT_ACCOUNT_ID, partition, session.role_arn.rsplit("/", 1)[-1])))


def _role_documents(account: str, partition: str, role_name: str) -> list[str]:
    """The role's inline policies and its attached ones' default versions (none for a role
    deleted since)."""
    from moto.iam.models import iam_backends

    role = next((r for r in iam_backends[account][partition].roles.values()
                 if r.name == role_name), None)
    if role is None:
        return []
    return [*role.policies.values(), *(_default_version(p) for p in role.managed_policies.values())]


def _default_version(policy: Any) -> str:
    return next(v.document for v in policy.versions if v.is_default)


def _refused(service: str, environ: dict[str, Any], caller: str, action: str,
             resource: str) -> Refusal:
    message = (f"User: {caller} is not authorized to perform: {action} on resource: "
               f"{resource} because no identity-based policy allows the {action} action")
    log.warning("refused: %s", message)  # a HEAD's refusal has no body to say it in
    protocol = "s3" if service == "s3" else "json"  # S3, or GetSecretValue
    return _error(environ, protocol, {"s3": "AccessDenied", "json": "AccessDeniedException"},
                  message, json_status="400 Bad Request")


def _not_signed_by_a_known_key(environ: dict[str, Any], service: str | None,
                               what: str) -> Refusal:
    """AWS's answer to a key it does not know: the twin knows its root keys and its STS's
    sessions, nothing else."""
    message = f"{what} is not the twin's: sign with its keys, or a session of its STS"
    _log_refused(environ, message)
    codes = {"s3": "InvalidAccessKeyId", "json": "UnrecognizedClientException",
             "query": "InvalidClientTokenId"}  # fmt: skip
    return _error(environ, _protocol(environ, service), codes, message)


def _refused_session(environ: dict[str, Any], service: str, caller: _Caller) -> Refusal:
    message = f"the security token of {caller.arn} is no longer valid"
    _log_refused(environ, message)
    codes = {"s3": "InvalidToken", "json": "ExpiredTokenException", "query": "ExpiredToken"}
    return _error(environ, _protocol(environ, service), codes, message)


def _log_refused(environ: dict[str, Any], message: str) -> None:
    log.warning("refused: %s %s: %s", environ.get("REQUEST_METHOD"), environ.get("PATH_INFO"),
                message)


def _protocol(environ: dict[str, Any], service: str | None) -> str:
    """How the caller reads an error: S3's XML, a JSON document, or a query service's
    ErrorResponse (an unsigned request's service is told from its shape)."""
    form = "Action=" in environ.get("QUERY_STRING", "") or environ.get(
        "CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded")
    if environ.get("HTTP_X_AMZ_TARGET") or (service not in (None, "s3") and not form):
        return "json"
    return "query" if form else "s3"


def _error(environ: dict[str, Any], protocol: str, codes: dict[str, str], message: str,
           json_status: str = "403 Forbidden") -> Refusal:
    """The error in `protocol` ("s3", "json" or "query"), with that protocol's code."""
    code, text = codes[protocol], _xml_text(message)
    status = json_status if protocol == "json" else "403 Forbidden"
    if protocol == "json":
        body = json.dumps({"__type": code, "message": message}).encode()
        kind = "application/x-amz-json-1.1"
    elif protocol == "query":
        body = (f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>"
                f"<Message>{text}</Message></Error></ErrorResponse>").encode()
        kind = "text/xml"
    else:
        body = b"" if environ.get("REQUEST_METHOD") == "HEAD" else (
            f"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code>"
            f"<Message>{text}</Message></Error>").encode()
        kind = "application/xml"
    return Refusal(status, [("Content-Type", kind), ("Content-Length", str(len(body)))], body)


def _xml_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
