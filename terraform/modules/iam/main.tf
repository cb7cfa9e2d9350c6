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
# Glue roles: one for the crawlers, one per ETL job, each with what it touches
################################################################################

locals {
  # A folder's objects as IAM resources: `<bucket>/<folder>*` covers the folder's objects
  # and the marker and probe keys a Hadoop file system reads and writes beside them
  # (`<folder>`, `<folder>_$folder$`); an empty folder means the whole bucket.
  job_reads = {
    for job, access in var.job_storage : job => flatten([
      for bucket, folders in access.read : [for folder in folders : "${var.bucket_arns[bucket]}/${folder}*"]
    ])
  }
  job_writes = {
    for job, access in var.job_storage : job => flatten([
      for bucket, folders in access.write : [for folder in folders : "${var.bucket_arns[bucket]}/${folder}*"]
    ])
  }
  # The folders above a nested output (`_rejects` above `_rejects/sales`): a Hadoop file
  # system probes them, and may mark them, when it makes the folder (`<parent>`, `<parent>/`,
  # `<parent>_$folder$`). Their marker keys only, never what lies under them.
  job_parent_markers = {
    for job, access in var.job_storage : job => distinct(flatten([
      for bucket, folders in access.write : [
        for folder in folders : [
          for depth in range(1, length(split("/", folder))) : [
            for suffix in ["", "/", "_$folder$"] :
            "${var.bucket_arns[bucket]}/${join("/", slice(split("/", folder), 0, depth))}${suffix}"
          ]
        ]
      ]
    ]))
  }
  job_buckets = {
    for job, access in var.job_storage : job => distinct([
      for bucket in concat(keys(access.read), keys(access.write)) : var.bucket_arns[bucket]
    ])
  }
  # A catalog table as IAM resources: its database (and the catalog) with it, as Glue asks.
  job_table_reads = {
    for job, access in var.job_storage : job => flatten([
      for layer, tables in access.read_tables : [for table in tables : "arn:${local.partition}:glue:${local.region}:${local.account_id}:table/${var.glue_database_names[layer]}/${table}"]
    ])
  }
  job_table_writes = {
    for job, access in var.job_storage : job => flatten([
      for layer, tables in access.write_tables : [for table in tables : "arn:${local.partition}:glue:${local.region}:${local.account_id}:table/${var.glue_database_names[layer]}/${table}"]
    ])
  }
  job_databases = {
    for job, access in var.job_storage : job => [
      for layer in distinct(concat(keys(access.read_tables), keys(access.write_tables))) : local.database_arns[layer]
    ]
  }
  glue_log_groups = "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:/aws-glue/*"
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

# No AWS-managed AWSGlueServiceRole on any Glue role: it grants glue:* on every resource of
# the account (any job's script, any table, the catalog's resource policy) and objects of any
# bucket whose key holds "aws-glue-". What it gave that the lake uses is in the two documents
# below: Glue's log groups, Glue's own job metrics, reading the security configuration.
data "aws_iam_policy_document" "glue_service" {
  statement {
    sid = "GlueLogs"
    # The jobs' <prefix>/error and /output, the crawlers' /aws-glue/crawlers, under the names
    # Glue gives them when a security configuration encrypts them (/aws-glue/crawlers-role/...)
    actions   = ["logs:CreateLogGroup", "logs:AssociateKmsKey", "logs:CreateLogStream", "logs:PutLogEvents"]
    resources = [local.glue_log_groups]
  }

  statement {
    sid       = "ReadSecurityConfiguration"
    actions   = ["glue:GetSecurityConfiguration"]
    resources = ["*"] # no resource-level scoping for security configurations
  }
}

# For the roles that read through the catalog: Lake Formation vends their S3 credentials.
data "aws_iam_policy_document" "lake_formation_data_access" {
  statement {
    sid       = "LakeFormationCredentialVending"
    actions   = ["lakeformation:GetDataAccess"]
    resources = ["*"] # GetDataAccess supports no resource-level scoping; Lake Formation grants do the scoping.
  }
}

resource "aws_iam_role" "glue_crawler" {
  name               = "${var.name_prefix}-glue-crawler"
  description        = "Glue crawlers of ${var.name_prefix}: read the raw layer, catalog what they find"
  assume_role_policy = data.aws_iam_policy_document.assume_glue.json

  tags = var.tags
}

data "aws_iam_policy_document" "glue_crawler" {
  source_policy_documents = [
    data.aws_iam_policy_document.glue_service.json,
    data.aws_iam_policy_document.lake_formation_data_access.json,
  ]

  statement {
    sid       = "ListRawBucket"
    actions   = ["s3:ListBucket", "s3:GetBucketLocation"]
    resources = [var.bucket_arns["raw"]]
  }

  statement {
    sid       = "ReadRaw"
    actions   = ["s3:GetObject"]
    resources = ["${var.bucket_arns["raw"]}/*"]
  }

  statement {
    sid       = "DecryptWithLakeKey"
    actions   = ["kms:Decrypt", "kms:DescribeKey"]
    resources = [var.kms_key_arn]
  }

  statement {
    sid = "CatalogOfRaw"
    actions = concat(local.catalog_read_actions, [
      # tables and partitions added and updated; nothing deleted (delete_behavior is LOG)
      "glue:CreateTable",
      "glue:UpdateTable",
      "glue:BatchCreatePartition",
      "glue:CreatePartition",
      "glue:UpdatePartition",
      "glue:BatchUpdatePartition",
    ])
    resources = [local.catalog_arn, local.database_arns["raw"], local.table_arns["raw"]]
  }
}

resource "aws_iam_role_policy" "glue_crawler" {
  name   = "crawl-raw"
  role   = aws_iam_role.glue_crawler.id
  policy = data.aws_iam_policy_document.glue_crawler.json
}

resource "aws_iam_role" "glue_job" {
  for_each = var.job_storage

  name               = "${var.name_prefix}-job-${replace(each.key, "_", "-")}"
  description        = "Glue job ${each.key} of ${var.name_prefix}"
  assume_role_policy = data.aws_iam_policy_document.assume_glue.json

  tags = var.tags
}

# A job reads and writes S3 by path; the catalog tells readers which folder of a table is
# current, so a job keeps its own tables there (and the aggregation reads staged's).
data "aws_iam_policy_document" "glue_job" {
  for_each = var.job_storage

  source_policy_documents = [data.aws_iam_policy_document.glue_service.json]

  statement {
    sid       = "ListItsBuckets"
    actions   = ["s3:ListBucket", "s3:GetBucketLocation"]
    resources = concat(local.job_buckets[each.key], [var.bucket_arns["scripts"]])
  }

  statement {
    sid       = "ReadItsInputsAndScripts"
    actions   = ["s3:GetObject", "s3:GetObjectVersion"]
    resources = concat(local.job_reads[each.key], ["${var.bucket_arns["scripts"]}/*"])
  }

  statement {
    sid = "WriteItsOutputsAndTemp"
    actions = [
      "s3:GetObject", "s3:PutObject", "s3:DeleteObject",
      # a failed task's committer cleans up its unfinished uploads
      "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts",
    ]
    resources = concat(local.job_writes[each.key], ["${var.bucket_arns["scripts"]}/tmp*"])
  }

  dynamic "statement" {
    for_each = length(local.job_parent_markers[each.key]) > 0 ? [local.job_parent_markers[each.key]] : []

    content {
      sid       = "MarkItsParentFolders"
      actions   = ["s3:GetObject", "s3:PutObject"]
      resources = statement.value
    }
  }

  statement {
    sid       = "UseLakeKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"]
    resources = [var.kms_key_arn]
  }

  dynamic "statement" {
    for_each = each.value.pii_secret ? [var.pii_hmac_secret_arn] : []

    content {
      sid       = "ReadPiiHmacKey"
      actions   = ["secretsmanager:GetSecretValue"]
      resources = [statement.value]
    }
  }

  dynamic "statement" {
    for_each = length(local.job_table_writes[each.key]) > 0 ? [local.job_table_writes[each.key]] : []

    content {
      sid = "KeepItsTablesInTheCatalog"
      actions = concat(local.catalog_read_actions, [
        "glue:CreateTable",
        "glue:UpdateTable",
        "glue:BatchCreatePartition",
        "glue:BatchUpdatePartition",
        "glue:BatchDeletePartition",
      ])
      resources = concat([local.catalog_arn], local.job_databases[each.key], statement.value)
    }
  }

  dynamic "statement" {
    for_each = length(local.job_table_reads[each.key]) > 0 ? [local.job_table_reads[each.key]] : []

    content {
      sid       = "FindItsInputTables"
      actions   = local.catalog_read_actions
      resources = concat([local.catalog_arn], local.job_databases[each.key], statement.value)
    }
  }

  statement {
    sid       = "ReadOwnWorkflowRunProperties"
    actions   = ["glue:GetWorkflowRunProperties"]
    resources = ["arn:${local.partition}:glue:${local.region}:${local.account_id}:workflow/${var.glue_workflow_name}"]
  }

  statement {
    sid       = "JobMetrics"
    actions   = ["cloudwatch:PutMetricData"]
    resources = ["*"] # PutMetricData supports no resource-level scoping; the condition pins the namespace.

    condition {
      test     = "StringEquals"
      variable = "cloudwatch:namespace"
      values   = [var.metrics_namespace, "Glue"] # the jobs' rows; Glue's own (--enable-metrics)
    }
  }
}

resource "aws_iam_role_policy" "glue_job" {
  for_each = var.job_storage

  name   = "job-access"
  role   = aws_iam_role.glue_job[each.key].id
  policy = data.aws_iam_policy_document.glue_job[each.key].json
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
  source_policy_documents = [data.aws_iam_policy_document.lake_formation_data_access.json]

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

  # Read only: every Lake Formation grant it vends credentials for reads (the crawlers', the
  # analysts', Spectrum's); the jobs write by path with their own roles.
  statement {
    sid     = "ReadDataLocations"
    actions = ["s3:GetObject"]
    resources = [
      "${var.bucket_arns["raw"]}/*",
      "${var.bucket_arns["staged"]}/*",
      "${var.bucket_arns["analytics"]}/*",
    ]
  }

  statement {
    sid       = "DecryptWithLakeKey"
    actions   = ["kms:Decrypt", "kms:DescribeKey"]
    resources = [var.kms_key_arn]
  }
}

resource "aws_iam_role_policy" "lf_registration" {
  name   = "data-locations"
  role   = aws_iam_role.lf_registration.id
  policy = data.aws_iam_policy_document.lf_registration.json
}
