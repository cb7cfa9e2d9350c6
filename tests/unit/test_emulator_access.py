"""What the emulator lets a caller do: the twin's root keys anything; a Glue role's session S3
requests as IAM authorizes them, and the PII key, checked against the role's policies; any
other key, or none, nothing."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from retailake.local import access
from retailake.local.access import Refusal, allowed, s3_permissions

REGION = "us-east-1"
ROOT = "AKIATWINROOTKEY00001"  # the twin's root access key, in these tests


def refusal(environ: dict, body) -> Refusal | None:
    return access.refusal(environ, body, ROOT)


def _environ(method: str, path: str, query: str = "", body: bytes = b"",
             access_key: str = ROOT, token: str = "", service: str = "s3",
             **headers: str) -> dict:
    environ = {"REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": query,
               "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body),
               "HTTP_AUTHORIZATION": (f"AWS4-HMAC-SHA256 Credential={access_key}/20261205/"
                                      f"{REGION}/{service}/aws4_request, SignedHeaders=host, "
                                      "Signature=0")}
    if token:
        environ["HTTP_X_AMZ_SECURITY_TOKEN"] = token
    environ.update({f"HTTP_{k.upper()}": v for k, v in headers.items()})
    return environ


def _permissions(environ: dict) -> list[tuple[str, str]]:
    return s3_permissions(environ, lambda: environ["wsgi.input"].getvalue())


@pytest.mark.parametrize(("method", "path", "query", "action", "resource"), [
    ("GET", "/b/k", "", "s3:GetObject", "b/k"),
    ("HEAD", "/b/folder/part-0.parquet", "", "s3:GetObject", "b/folder/part-0.parquet"),
    ("GET", "/b/k", "versionId=3", "s3:GetObjectVersion", "b/k"),
    ("PUT", "/b/k", "", "s3:PutObject", "b/k"),
    ("POST", "/b/k", "uploads", "s3:PutObject", "b/k"),
    ("PUT", "/b/k", "partNumber=1&uploadId=u", "s3:PutObject", "b/k"),
    ("POST", "/b/k", "uploadId=u", "s3:PutObject", "b/k"),
    ("DELETE", "/b/k", "uploadId=u", "s3:AbortMultipartUpload", "b/k"),
    ("DELETE", "/b/k", "", "s3:DeleteObject", "b/k"),
    ("GET", "/b", "list-type=2&prefix=sales%2F&delimiter=%2F", "s3:ListBucket", "b"),
    ("GET", "/b/", "list-type=2", "s3:ListBucket", "b"),
    ("HEAD", "/b", "", "s3:ListBucket", "b"),  # HeadBucket is authorized as ListBucket
    ("GET", "/b", "location", "s3:GetBucketLocation", "b"),
    ("GET", "/b", "versions&prefix=x", "s3:ListBucketVersions", "b"),
    ("GET", "/b/caf\xc3\xa9 au lait.csv", "", "s3:GetObject", "b/café au lait.csv"),
])
def test_an_s3_request_is_authorized_as_iam_names_it(method, path, query, action, resource):
    assert _permissions(_environ(method, path, query)) == [(action, f"arn:aws:s3:::{resource}")]


def test_a_copy_also_reads_its_source():
    copy = _environ("PUT", "/b/to", x_amz_copy_source="/src/from%20here%3F.csv?versionId=7")
    assert _permissions(copy) == [("s3:PutObject", "arn:aws:s3:::b/to"),
                                  ("s3:GetObjectVersion", "arn:aws:s3:::src/from here?.csv")]


def test_a_multi_object_delete_deletes_each_key():
    body = (b'<?xml version="1.0" encoding="UTF-8"?><Delete xmlns="http://s3.amazonaws.com/'
            b'doc/2006-03-01/"><Object><Key>sales/a</Key></Object><Object><Key>_state/b'
            b'</Key><VersionId>1</VersionId></Object><Quiet>true</Quiet></Delete>')
    assert _permissions(_environ("POST", "/b", "delete", body)) == [
        ("s3:DeleteObject", "arn:aws:s3:::b/sales/a"),
        ("s3:DeleteObject", "arn:aws:s3:::b/_state/b"),
    ]


ACCESS = [
    {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::lake"},
    {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"],
     "Resource": "arn:aws:s3:::lake/sales*"},
]
GUARD = [  # a second policy of the role's
    {"Effect": "Deny", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::lake/sales/frozen/*"},
]


@pytest.fixture
def aws() -> Iterator[dict]:
    """In-process moto: the `lake` bucket, SSE-KMS by default, holding one object; the PII
    secret under the same key; a role with ACCESS, the secret and the key ("reader"), one
    with ACCESS alone ("other"), and a session of each."""
    with mock_aws():
        iam, sts = boto3.client("iam", region_name=REGION), boto3.client("sts", region_name=REGION)
        key = boto3.client("kms", region_name=REGION).create_key()["KeyMetadata"]["Arn"]
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket="lake")
        s3.put_bucket_encryption(Bucket="lake", ServerSideEncryptionConfiguration={"Rules": [
            {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms",
                                                    "KMSMasterKeyID": key}}]})
        s3.put_object(Bucket="lake", Key="sales/part-0", Body=b"rows")
        secrets = boto3.client("secretsmanager", region_name=REGION)
        secret = secrets.create_secret(Name="pii-key", SecretString="k", KmsKeyId=key)["ARN"]
        trust = json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "glue.amazonaws.com"},
            "Action": "sts:AssumeRole"}]})
        sessions = {}
        for name, extra in (("reader", [{"Effect": "Allow", "Resource": secret,
                                         "Action": "secretsmanager:GetSecretValue"},
                                        {"Effect": "Allow", "Resource": key,
                                         "Action": ["kms:Decrypt", "kms:GenerateDataKey"]}]),
                            ("other", [])):
            arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust)["Role"]["Arn"]
            iam.put_role_policy(RoleName=name, PolicyName="access", PolicyDocument=json.dumps(
                {"Version": "2012-10-17", "Statement": ACCESS + extra}))
            iam.put_role_policy(RoleName=name, PolicyName="guard", PolicyDocument=json.dumps(
                {"Version": "2012-10-17", "Statement": GUARD}))
            credentials = sts.assume_role(RoleArn=arn, RoleSessionName="job")["Credentials"]
            sessions[name] = {"access_key": credentials["AccessKeyId"],
                              "token": credentials["SessionToken"]}
        yield {"sessions": sessions, "secret": secret, "iam": iam, "key": key}


def test_a_role_may_do_what_its_policies_allow(aws):
    reader = aws["sessions"]["reader"]
    assert refusal(_environ("PUT", "/lake/sales/part-0", **reader), bytes) is None
    assert refusal(_environ("HEAD", "/lake/sales", **reader), bytes) is None
    assert refusal(_environ("GET", "/lake", "list-type=2", **reader), bytes) is None


def test_a_role_is_refused_what_they_do_not_allow_in_aws_words(aws):
    reader = aws["sessions"]["reader"]
    refused = refusal(_environ("PUT", "/lake/customers/part-0", **reader), bytes)
    assert refused is not None and refused.status == "403 Forbidden"
    assert (b"<Code>AccessDenied</Code><Message>User: arn:aws:sts::123456789012:assumed-role/"
            b"reader/job is not authorized to perform: s3:PutObject on resource: "
            b"arn:aws:s3:::lake/customers/part-0 because no identity-based policy allows the "
            b"s3:PutObject action</Message>") in refused.body
    head = refusal(_environ("HEAD", "/lake/customers/part-0", **reader), bytes)
    assert head is not None and (head.status, head.body) == ("403 Forbidden", b"")
    # an explicit Deny, in another of the role's policies, wins over the Allow
    assert refusal(_environ("PUT", "/lake/sales/frozen/x", **reader), bytes) is not None


def test_an_encrypted_object_needs_its_key_to_be_read_or_written(aws):
    other, key = aws["sessions"]["other"], aws["key"]
    read = refusal(_environ("GET", "/lake/sales/part-0", **other), bytes)
    assert read is not None and f"kms:Decrypt on resource: {key}".encode() in read.body
    write = refusal(_environ("PUT", "/lake/sales/part-1", **other), bytes)  # the bucket's key
    assert write is not None and f"kms:GenerateDataKey on resource: {key}".encode() in write.body
    assert refusal(_environ("HEAD", "/lake/sales/part-0", **other), bytes) is None
    complete = refusal(_environ("POST", "/lake/sales/big", "uploadId=u",
                                **aws["sessions"]["reader"]), bytes)
    assert complete is None  # GenerateDataKey and Decrypt: the reader has both


def test_reading_a_missing_key_needs_the_listing_too(aws):
    # S3 answers 403, not 404, to a caller that may not list: Hadoop then fails the job
    other = aws["sessions"]["other"]
    assert refusal(_environ("HEAD", "/lake/sales/not-yet", **other), bytes) is None
    _put_policy(aws, "other", "access", [s for s in ACCESS if s["Action"] != "s3:ListBucket"])
    refused = refusal(_environ("GET", "/lake/sales/not-yet", **other), bytes)
    assert refused is not None
    assert b"s3:ListBucket on resource: arn:aws:s3:::lake because" in refused.body


def test_completing_a_multipart_upload_needs_decrypt_as_well(aws):
    _put_policy(aws, "other", "key", [{"Effect": "Allow", "Action": "kms:GenerateDataKey",
                                       "Resource": aws["key"]}])
    other = aws["sessions"]["other"]
    assert refusal(_environ("PUT", "/lake/sales/big", "partNumber=1&uploadId=u", **other),
                   bytes) is None
    complete = refusal(_environ("POST", "/lake/sales/big", "uploadId=u", **other), bytes)
    assert complete is not None and b"kms:Decrypt" in complete.body
    # SSE-S3 asked for by the request: no KMS key is used
    assert refusal(_environ("PUT", "/lake/sales/plain", x_amz_server_side_encryption="AES256",
                            **aws["sessions"]["other"]), bytes) is None


def test_conditions_are_taken_as_met(aws):
    conditional = [{"Effect": "Allow", "Action": "s3:PutObject",
                    "Resource": "arn:aws:s3:::lake/customers/*",
                    "Condition": {"StringEquals": {"s3:x-amz-acl": "private"}}}]
    _put_policy(aws, "other", "conditional", conditional)
    assert refusal(_environ("PUT", "/lake/customers/part-0", x_amz_server_side_encryption=
                            "AES256", **aws["sessions"]["other"]), bytes) is None


@pytest.mark.parametrize(("statement", "action", "resource", "expected"), [
    # `$` is no regular expression's end: EMRFS's folder markers are named `<folder>_$folder$`
    ({"Action": "s3:PutObject", "Resource": "arn:aws:s3:::b/_state_$folder$"},
     "s3:PutObject", "arn:aws:s3:::b/_state_$folder$", True),
    ({"Action": "s3:PutObject", "Resource": "arn:aws:s3:::b/a.c"},
     "s3:PutObject", "arn:aws:s3:::b/abc", False),
    ({"Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/p?rt-*"},
     "s3:GetObject", "arn:aws:s3:::b/part-0/x", True),
    ({"Action": "S3:getobject", "Resource": "*"}, "s3:GetObject", "arn:aws:s3:::b/k", True),
    ({"Action": "s3:GetObject", "Resource": "arn:aws:s3:::B/*"},
     "s3:GetObject", "arn:aws:s3:::b/k", False),
    ({"NotAction": "s3:Delete*", "Resource": "*"}, "s3:PutObject", "arn:aws:s3:::b/k", True),
    ({"NotAction": "s3:Delete*", "Resource": "*"}, "s3:DeleteObject", "arn:aws:s3:::b/k", False),
    ({"Action": "s3:*", "NotResource": "arn:aws:s3:::lake/*"},
     "s3:DeleteObject", "arn:aws:s3:::lake/k", False),
    ({"Action": "s3:*", "NotResource": "arn:aws:s3:::lake/*"},
     "s3:DeleteObject", "arn:aws:s3:::scratch/k", True),
])
def test_statements_match_as_iam_matches_them(statement, action, resource, expected):
    assert allowed([{"Effect": "Allow", **statement}], action, resource) is expected
    # and a Deny of the same covers exactly the same
    denied = [{"Effect": "Allow", "Action": "*", "Resource": "*"}, {"Effect": "Deny", **statement}]
    assert allowed(denied, action, resource) is not expected


def _put_policy(aws: dict, role: str, name: str, statements: list[dict]) -> None:
    aws["iam"].put_role_policy(RoleName=role, PolicyName=name, PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": statements}))


def test_only_the_role_allowed_reads_the_secret(aws):
    body = json.dumps({"SecretId": "pii-key"}).encode()  # by name: its ARN is what is checked
    target = {"x_amz_target": "secretsmanager.GetSecretValue", "service": "secretsmanager"}
    reader, other = aws["sessions"]["reader"], aws["sessions"]["other"]
    assert refusal(_environ("POST", "/", body=body, **target, **reader), lambda: body) is None
    refused = refusal(_environ("POST", "/", body=body, **target, **other), lambda: body)
    assert refused is not None and refused.status == "400 Bad Request"
    answer = json.loads(refused.body)
    assert answer["__type"] == "AccessDeniedException"
    assert f"secretsmanager:GetSecretValue on resource: {aws['secret']}" in answer["message"]
    # the secret is encrypted with the lake's key: reading it needs that key too
    _put_policy(aws, "other", "secret", [{"Effect": "Allow", "Resource": aws["secret"],
                                          "Action": "secretsmanager:GetSecretValue"}])
    refused = refusal(_environ("POST", "/", body=body, **target, **other), lambda: body)
    assert refused is not None
    assert f"kms:Decrypt on resource: {aws['key']}" in json.loads(refused.body)["message"]


def test_the_root_keys_and_a_roles_other_services_pass(aws):
    # the twin's root keys (the CLI, Terraform), and what a role asks of Glue or CloudWatch
    assert refusal(_environ("PUT", "/lake/customers/part-0"), bytes) is None
    glue = _environ("POST", "/", service="glue", x_amz_target="AWSGlue.DeleteTable",
                    **aws["sessions"]["other"])
    assert refusal(glue, bytes) is None


@pytest.mark.parametrize(("headers", "code"), [
    ({}, b"<Code>InvalidAccessKeyId</Code>"),  # S3's XML
    ({"x_amz_target": "AWSGlue.GetTables"}, b'"UnrecognizedClientException"'),
    ({"content_type": "application/x-www-form-urlencoded"}, b"<Code>InvalidClientTokenId</Code>"),
])
def test_a_request_not_signed_with_a_key_the_twin_knows_is_refused(aws, headers, code):
    """Another user of the machine reaches the port too: made-up keys, or none, read nothing."""
    made_up = _environ("GET", "/lake/customers/part-0", access_key="AKIAMADEUP0000000000",
                       **headers)
    unsigned = dict(made_up)
    del unsigned["HTTP_AUTHORIZATION"]
    for environ in (made_up, unsigned):
        environ["CONTENT_TYPE"] = environ.pop("HTTP_CONTENT_TYPE", "")
        refused = refusal(environ, bytes)
        assert refused is not None and refused.status == "403 Forbidden"
        assert code in refused.body, refused.body
    forged = _environ("POST", "/", service="secretsmanager", access_key="ASIAFORGEDSESSION001",
                      x_amz_target="secretsmanager.ListSecrets")  # not GetSecretValue
    assert refusal(forged, bytes) is not None  # a session its STS never gave, for any service


def test_a_session_with_a_wrong_token_an_expired_one_or_a_deleted_role_may_do_nothing(aws):
    reader = dict(aws["sessions"]["reader"], token="forged")
    assert refusal(_environ("GET", "/lake/sales/part-0", **reader), bytes) is not None
    forgotten = {"access_key": "ASIAEXPIREDSESSION01", "token": "t"}  # STS dropped it
    refused = refusal(_environ("GET", "/lake/sales/part-0", **forgotten), bytes)
    assert refused is not None
    assert b"session ASIAEXPIREDSESSION01 (which has expired)" in refused.body
    from moto.sts.models import sts_backends  # expired, not dropped yet (no AssumeRole since)

    session = sts_backends["123456789012"]["aws"].get_assumed_role_from_access_key(
        aws["sessions"]["reader"]["access_key"])
    session.expiration = session.expiration.replace(year=2000)
    refused = refusal(_environ("GET", "/lake/sales/part-0", **aws["sessions"]["reader"]), bytes)
    assert refused is not None and b"(which has expired)" in refused.body
    for policy in aws["iam"].list_role_policies(RoleName="other")["PolicyNames"]:
        aws["iam"].delete_role_policy(RoleName="other", PolicyName=policy)
    aws["iam"].delete_role(RoleName="other")
    other = aws["sessions"]["other"]
    assert refusal(_environ("GET", "/lake/sales/part-0", **other), bytes) is not None
