data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.name
  partition  = data.aws_partition.current.partition

  # Data and scripts buckets: SSE-KMS with the customer key, access-logged to access_logs.
  kms_buckets  = toset(["raw", "staged", "analytics", "scripts"])
  data_buckets = toset(["raw", "staged", "analytics"])
  all_buckets  = setunion(local.kms_buckets, ["access_logs"])

  bucket_names = {
    for key in local.all_buckets : key => "${var.name_prefix}-${replace(key, "_", "-")}-${local.account_id}"
  }

  trail_arn = var.cloudtrail_trail_name == null ? null : "arn:${local.partition}:cloudtrail:${local.region}:${local.account_id}:trail/${var.cloudtrail_trail_name}"
}

################################################################################
# Customer-managed key: the lake's one key (S3, Glue, Secrets Manager, Redshift,
# SNS, CloudWatch Logs, CloudTrail).
################################################################################

data "aws_iam_policy_document" "kms" {
  #checkov:skip=CKV_AWS_109:A key policy's resource is always the key itself ("*" means this key).
  #checkov:skip=CKV_AWS_111:A key policy's resource is always the key itself ("*" means this key).
  #checkov:skip=CKV_AWS_356:A key policy's resource is always the key itself ("*" means this key).
  statement {
    sid       = "AccountAdministersKeyAndDelegatesToIam"
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }

  statement {
    sid = "CloudWatchLogsOfThisAccount"
    actions = [
      "kms:Encrypt*",
      "kms:Decrypt*",
      "kms:ReEncrypt*",
      "kms:GenerateDataKey*",
      "kms:Describe*",
    ]
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = ["logs.${local.region}.amazonaws.com"]
    }

    condition {
      test     = "ArnLike"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = ["arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:*"]
    }
  }

  statement {
    sid       = "CloudTrailEncryptsLogFiles"
    actions   = ["kms:GenerateDataKey*"]
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = ["cloudtrail.amazonaws.com"]
    }

    condition {
      test     = "StringLike"
      variable = "kms:EncryptionContext:aws:cloudtrail:arn"
      values   = ["arn:${local.partition}:cloudtrail:*:${local.account_id}:trail/*"]
    }
  }

  statement {
    sid       = "CloudTrailDescribesKey"
    actions   = ["kms:DescribeKey"]
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = ["cloudtrail.amazonaws.com"]
    }
  }

  # EventBridge publishing to a topic encrypted with this key: SNS's guide says aws:SourceAccount
  # and aws:SourceArn are not supported here (with them every delivery fails), so no condition;
  # the topic's own policy says which rules may publish.
  statement {
    sid       = "EventsPublishToEncryptedTopic"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey*"]
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }
  }

  statement {
    sid       = "AlarmsPublishToEncryptedTopic"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey*"]
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_kms_key" "this" {
  description             = "${var.name_prefix} data lake key"
  enable_key_rotation     = true
  deletion_window_in_days = var.kms_deletion_window_days
  policy                  = data.aws_iam_policy_document.kms.json

  tags = merge(var.tags, { Name = "${var.name_prefix}-lake" })
}

resource "aws_kms_alias" "this" {
  name          = "alias/${var.name_prefix}-lake"
  target_key_id = aws_kms_key.this.key_id
}

################################################################################
# Buckets
################################################################################

resource "aws_s3_bucket" "this" {
  #checkov:skip=CKV_AWS_144:Single-region lake by design; versioning plus the prod destroy guard protect the data, replication would double the cost.
  #checkov:skip=CKV_AWS_145:Data and scripts buckets use SSE-KMS; the access-log bucket must use SSE-S3 (S3 server access logging cannot deliver to SSE-KMS buckets).
  #checkov:skip=CKV2_AWS_62:No object-event notifications: the pipeline is started by the Glue workflow (schedule or run-pipeline), not per object.
  #checkov:skip=CKV_AWS_18:Every bucket logs to the access-log bucket; the access-log bucket itself is not logged (it would log its own log deliveries).
  for_each = local.bucket_names

  bucket        = each.value
  force_destroy = var.force_destroy

  tags = merge(var.tags, { Name = each.value, Layer = each.key })

  # Destroyed before the key, and only then: a bucket that refuses to go (not empty, in dev)
  # keeps the key its objects are encrypted under, where it was scheduled for deletion.
  depends_on = [aws_kms_key.this]
}

resource "aws_s3_bucket_ownership_controls" "this" {
  for_each = aws_s3_bucket.this

  bucket = each.value.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  for_each = aws_s3_bucket.this

  bucket                  = each.value.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "this" {
  for_each = aws_s3_bucket.this

  bucket = each.value.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  for_each = aws_s3_bucket.this

  bucket = each.value.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = contains(local.kms_buckets, each.key) ? "aws:kms" : "AES256"
      kms_master_key_id = contains(local.kms_buckets, each.key) ? aws_kms_key.this.arn : null
    }
    bucket_key_enabled = contains(local.kms_buckets, each.key)
  }
}

resource "aws_s3_bucket_logging" "this" {
  for_each = { for key, bucket in aws_s3_bucket.this : key => bucket if key != "access_logs" }

  bucket        = each.value.id
  target_bucket = aws_s3_bucket.this["access_logs"].id
  target_prefix = "s3/${each.key}/"

  # The access-log bucket's policy must admit the logging service first.
  depends_on = [aws_s3_bucket_policy.this]
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  for_each = aws_s3_bucket.this

  bucket = each.value.id

  rule {
    id     = "housekeeping"
    status = "Enabled"

    filter {}

    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_expiration_days
    }

    # A pipeline run replaces partitions by deleting objects: in a versioned bucket each
    # delete leaves a marker, and once its noncurrent versions expire the marker is all that
    # is left. Removing those keeps listings of the layers from slowing down over time.
    expiration {
      expired_object_delete_marker = true
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = var.abort_incomplete_multipart_days
    }
  }

  dynamic "rule" {
    for_each = each.key == "raw" ? [1] : []

    content {
      id     = "raw-tiering"
      status = "Enabled"

      filter {}

      transition {
        days          = var.raw_transition_ia_days
        storage_class = "STANDARD_IA"
      }

      # Instant Retrieval, not GLACIER (Flexible Retrieval): a full refresh, a replaced raw
      # object or a late delivery makes a job read old raw objects again, and Glue fails on an
      # object that must be restored first ("not valid for the object's storage class").
      transition {
        days          = var.raw_transition_glacier_days
        storage_class = "GLACIER_IR"
      }
    }
  }

  dynamic "rule" {
    for_each = each.key == "access_logs" ? [1] : []

    content {
      id     = "log-expiration"
      status = "Enabled"

      filter {}

      expiration {
        days = var.access_log_expiration_days
      }
    }
  }

  depends_on = [aws_s3_bucket_versioning.this]
}

################################################################################
# Bucket policies: TLS only everywhere; the access-log bucket also admits S3
# server access logging and (optionally) the CloudTrail trail.
################################################################################

data "aws_iam_policy_document" "bucket" {
  for_each = aws_s3_bucket.this

  # One statement per logged bucket: each may write only under its own prefix.
  # (Listed before the "*"-principal deny: moto's PutBucketLogging check reads the
  # statements in order and fails on a string Principal.)
  dynamic "statement" {
    for_each = each.key == "access_logs" ? sort(tolist(local.kms_buckets)) : []

    content {
      sid       = "S3ServerAccessLogsFrom${replace(title(replace(statement.value, "_", " ")), " ", "")}"
      actions   = ["s3:PutObject"]
      resources = ["${each.value.arn}/s3/${statement.value}/*"]

      principals {
        type        = "Service"
        identifiers = ["logging.s3.amazonaws.com"]
      }

      condition {
        test     = "StringEquals"
        variable = "aws:SourceAccount"
        values   = [local.account_id]
      }

      condition {
        test     = "ArnLike"
        variable = "aws:SourceArn"
        values   = [aws_s3_bucket.this[statement.value].arn]
      }
    }
  }

  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      each.value.arn,
      "${each.value.arn}/*",
    ]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }

  dynamic "statement" {
    for_each = each.key == "access_logs" && local.trail_arn != null ? [1] : []

    content {
      sid       = "CloudTrailAclCheck"
      actions   = ["s3:GetBucketAcl"]
      resources = [each.value.arn]

      principals {
        type        = "Service"
        identifiers = ["cloudtrail.amazonaws.com"]
      }

      condition {
        test     = "StringEquals"
        variable = "aws:SourceArn"
        values   = [local.trail_arn]
      }
    }
  }

  dynamic "statement" {
    for_each = each.key == "access_logs" && local.trail_arn != null ? [1] : []

    content {
      sid       = "CloudTrailWrite"
      actions   = ["s3:PutObject"]
      resources = ["${each.value.arn}/cloudtrail/AWSLogs/${local.account_id}/*"]

      principals {
        type        = "Service"
        identifiers = ["cloudtrail.amazonaws.com"]
      }

      condition {
        test     = "StringEquals"
        variable = "aws:SourceArn"
        values   = [local.trail_arn]
      }
    }
  }
}

resource "aws_s3_bucket_policy" "this" {
  for_each = aws_s3_bucket.this

  bucket = each.value.id
  policy = data.aws_iam_policy_document.bucket[each.key].json

  depends_on = [aws_s3_bucket_public_access_block.this]
}

################################################################################
# Destroy guard (prod): lifecycle meta-arguments cannot read variables, so the
# guard is a separate resource that exists only when var.prevent_destroy is true.
# It carries prevent_destroy and is replaced whenever a data bucket's identity
# changes, so any plan that destroys or replaces a data bucket (including
# `terraform destroy`) fails at plan time. See README.
################################################################################

resource "terraform_data" "data_bucket_guard" {
  count = var.prevent_destroy ? 1 : 0

  triggers_replace = { for key in sort(tolist(local.data_buckets)) : key => aws_s3_bucket.this[key].arn }

  lifecycle {
    prevent_destroy = true
  }
}
