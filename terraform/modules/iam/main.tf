data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.name
  partition  = data.aws_partition.current.partition

  catalog_arn = "arn:${local.partition}:glue:${local.region}:${local.account_id}:catalog"
  database_arns = {
    for key, name in var.glue_database_names : key => "arn:${local.partition}:glue:${local.region}:${local.account_id}:database/${name}"
  }
  table_arns = {
    for key, name in var.glue_database_names : key => "arn:${local.partition}:glue:${local.region}:${local.account_id}:table/${name}/*"
  }

  human_principals = length(var.trusted_principal_arns) > 0 ? var.trusted_principal_arns : ["arn:${local.partition}:iam::${local.account_id}:root"]

  catalog_read_actions = [
    "glue:GetDatabase",
    "glue:GetDatabases",
    "glue:GetTable",
    "glue:GetTables",
    "glue:GetPartition",
    "glue:GetPartitions",
    "glue:BatchGetPartition",
  ]
}

data "aws_iam_policy_document" "assume_glue" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["glue.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "assume_redshift" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["redshift.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "assume_humans" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "AWS"
      identifiers = local.human_principals
    }
  }
}

data "aws_iam_policy_document" "assume_lakeformation" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lakeformation.amazonaws.com"]
    }
  }
}

################################################################################
# Glue service role: crawlers and ETL jobs
################################################################################

resource "aws_iam_role" "glue" {
  name               = "${var.name_prefix}-glue"
  description        = "Glue crawlers and ETL jobs of ${var.name_prefix}"
  assume_role_policy = data.aws_iam_policy_document.assume_glue.json

  tags = var.tags
}

# No AWS-managed AWSGlueServiceRole: it grants glue:* on every resource of the account (any
# job's script, any table, the catalog's resource policy) and objects of any bucket whose key
# holds "aws-glue-". What it gave that the lake uses is below: Glue's log groups, Glue's own
# job metrics, reading the security configuration.
data "aws_iam_policy_document" "glue" {
  statement {
    sid     = "ListLakeBuckets"
    actions = ["s3:ListBucket", "s3:GetBucketLocation"]
    resources = [
      var.bucket_arns["raw"],
      var.bucket_arns["staged"],
      var.bucket_arns["analytics"],
      var.bucket_arns["scripts"],
    ]
  }

  statement {
    sid     = "ReadRawAndScripts"
    actions = ["s3:GetObject", "s3:GetObjectVersion"]
    resources = [
      "${var.bucket_arns["raw"]}/*",
      "${var.bucket_arns["scripts"]}/*",
    ]
  }

  statement {
    sid     = "WriteStagedAnalyticsAndTemp"
    actions = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = [
      "${var.bucket_arns["staged"]}/*",
      "${var.bucket_arns["analytics"]}/*",
      "${var.bucket_arns["scripts"]}/tmp/*",
    ]
  }

  statement {
    sid = "UseLakeKey"
    actions = [
      "kms:Decrypt",
      "kms:GenerateDataKey",
      "kms:DescribeKey",
    ]
    resources = [var.kms_key_arn]
  }

  statement {
    sid = "CatalogOfTheLake"
    actions = concat(local.catalog_read_actions, [
      # the crawlers add and update tables and partitions; they delete nothing (their
      # delete_behavior is LOG), and the jobs write no catalog entries
      "glue:CreateTable",
      "glue:UpdateTable",
      "glue:BatchCreatePartition",
      "glue:CreatePartition",
      "glue:UpdatePartition",
      "glue:BatchUpdatePartition",
    ])
    resources = concat(
      [local.catalog_arn],
      values(local.database_arns),
      values(local.table_arns),
    )
  }

  statement {
    sid       = "ReadPiiHmacKey"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [var.pii_hmac_secret_arn]
  }

  statement {
    sid       = "ReadOwnWorkflowRunProperties"
    actions   = ["glue:GetWorkflowRunProperties"]
    resources = ["arn:${local.partition}:glue:${local.region}:${local.account_id}:workflow/${var.glue_workflow_name}"]
  }

  statement {
    sid = "GlueLogs"
    # The jobs' <prefix>/error and /output, the crawlers' /aws-glue/crawlers, under the names
    # Glue gives them when a security configuration encrypts them (/aws-glue/crawlers-role/...)
    actions   = ["logs:CreateLogGroup", "logs:AssociateKmsKey", "logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:/aws-glue/*"]
  }

  statement {
    sid       = "ReadSecurityConfiguration"
    actions   = ["glue:GetSecurityConfiguration"]
    resources = ["*"] # no resource-level scoping for security configurations
  }

  statement {
    sid       = "LakeFormationCredentialVending"
    actions   = ["lakeformation:GetDataAccess"]
    resources = ["*"] # GetDataAccess supports no resource-level scoping; Lake Formation grants do the scoping.
  }

  statement {
    sid       = "CustomJobMetrics"
    actions   = ["cloudwatch:PutMetricData"]
    resources = ["*"] # PutMetricData supports no resource-level scoping; the condition pins the namespace.

    condition {
      test     = "StringEquals"
      variable = "cloudwatch:namespace"
      values   = [var.metrics_namespace, "Glue"] # the jobs' rows; Glue's own (--enable-metrics)
    }
  }
}

resource "aws_iam_role_policy" "glue" {
  name   = "lake-access"
  role   = aws_iam_role.glue.id
  policy = data.aws_iam_policy_document.glue.json
}

################################################################################
# Redshift Spectrum role: read the analytics layer
################################################################################

resource "aws_iam_role" "redshift_spectrum" {
  name               = "${var.name_prefix}-redshift-spectrum"
  description        = "Redshift Spectrum access to the analytics layer of ${var.name_prefix}"
  assume_role_policy = data.aws_iam_policy_document.assume_redshift.json

  tags = var.tags
}

data "aws_iam_policy_document" "analytics_read" {
  statement {
    sid       = "ListAnalytics"
    actions   = ["s3:ListBucket", "s3:GetBucketLocation"]
    resources = [var.bucket_arns["analytics"]]
  }

  statement {
    sid       = "ReadAnalytics"
    actions   = ["s3:GetObject"]
    resources = ["${var.bucket_arns["analytics"]}/*"]
  }

  statement {
    sid       = "DecryptWithLakeKey"
    actions   = ["kms:Decrypt", "kms:DescribeKey"]
    resources = [var.kms_key_arn]
  }

  statement {
    sid     = "ReadAnalyticsCatalog"
    actions = local.catalog_read_actions
    resources = [
      local.catalog_arn,
      local.database_arns["analytics"],
      local.table_arns["analytics"],
    ]
  }

  statement {
    sid       = "LakeFormationCredentialVending"
    actions   = ["lakeformation:GetDataAccess"]
    resources = ["*"] # GetDataAccess supports no resource-level scoping; Lake Formation grants do the scoping.
  }
}

resource "aws_iam_role_policy" "redshift_spectrum" {
  name   = "analytics-read"
  role   = aws_iam_role.redshift_spectrum.id
  policy = data.aws_iam_policy_document.analytics_read.json
}

################################################################################
# Analyst role: read analytics, and staged customers through Lake Formation
# (column grants there leave the hashed PII out)
################################################################################

resource "aws_iam_role" "analyst" {
  name               = "${var.name_prefix}-analyst"
  description        = "Analysts of ${var.name_prefix}: read the analytics layer and governed staged tables"
  assume_role_policy = data.aws_iam_policy_document.assume_humans.json

  tags = var.tags
}

data "aws_iam_policy_document" "analyst" {
  source_policy_documents = [data.aws_iam_policy_document.analytics_read.json]

  statement {
    sid     = "DescribeStagedCatalog"
    actions = local.catalog_read_actions
    resources = [
      local.database_arns["staged"],
      "arn:${local.partition}:glue:${local.region}:${local.account_id}:table/${var.glue_database_names["staged"]}/customers",
    ]
  }
}

resource "aws_iam_role_policy" "analyst" {
  name   = "analyst-read"
  role   = aws_iam_role.analyst.id
  policy = data.aws_iam_policy_document.analyst.json
}

################################################################################
# Data-lake admin role: administers Lake Formation for the lake
################################################################################

resource "aws_iam_role" "lake_admin" {
  name               = "${var.name_prefix}-lake-admin"
  description        = "Lake Formation administrator of ${var.name_prefix}"
  assume_role_policy = data.aws_iam_policy_document.assume_humans.json

  tags = var.tags
}

data "aws_iam_policy_document" "lake_admin" {
  statement {
    sid = "AdministerLakeFormation"
    actions = [
      "lakeformation:GetDataLakeSettings",
      "lakeformation:ListPermissions",
      "lakeformation:GrantPermissions",
      "lakeformation:RevokePermissions",
      "lakeformation:BatchGrantPermissions",
      "lakeformation:BatchRevokePermissions",
      "lakeformation:ListResources",
      "lakeformation:DescribeResource",
      "lakeformation:GetDataAccess",
    ]
    resources = ["*"] # Lake Formation permission APIs support no resource-level scoping.
  }

  statement {
    sid = "ManageLakeCatalog"
    actions = concat(local.catalog_read_actions, [
      "glue:CreateTable",
      "glue:UpdateTable",
      "glue:DeleteTable",
      "glue:UpdateDatabase",
    ])
    resources = concat(
      [local.catalog_arn],
      values(local.database_arns),
      values(local.table_arns),
    )
  }
}

resource "aws_iam_role_policy" "lake_admin" {
  name   = "lake-admin"
  role   = aws_iam_role.lake_admin.id
  policy = data.aws_iam_policy_document.lake_admin.json
}

################################################################################
# Lake Formation registration role: the role Lake Formation assumes to vend
# credentials for the registered data locations (raw, staged, analytics)
################################################################################

resource "aws_iam_role" "lf_registration" {
  name               = "${var.name_prefix}-lf-registration"
  description        = "Lake Formation data-location access for ${var.name_prefix}"
  assume_role_policy = data.aws_iam_policy_document.assume_lakeformation.json

  tags = var.tags
}

data "aws_iam_policy_document" "lf_registration" {
  statement {
    sid     = "ListDataLocations"
    actions = ["s3:ListBucket", "s3:GetBucketLocation"]
    resources = [
      var.bucket_arns["raw"],
      var.bucket_arns["staged"],
      var.bucket_arns["analytics"],
    ]
  }

  statement {
    sid     = "ReadWriteDataLocations"
    actions = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = [
      "${var.bucket_arns["raw"]}/*",
      "${var.bucket_arns["staged"]}/*",
      "${var.bucket_arns["analytics"]}/*",
    ]
  }

  statement {
    sid       = "UseLakeKey"
    actions   = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"]
    resources = [var.kms_key_arn]
  }
}

resource "aws_iam_role_policy" "lf_registration" {
  name   = "data-locations"
  role   = aws_iam_role.lf_registration.id
  policy = data.aws_iam_policy_document.lf_registration.json
}
