locals {
  sources = ["sales", "inventory", "customers"]

  # The staged and analytics tables, which the jobs that write them keep in the catalog
  # (each rewrite of a partition is a new folder the catalog is then pointed at, so readers
  # never see a partition half replaced): crawlers catalog the raw layer only.
  staged_tables    = ["sales", "inventory_snapshots", "products", "customers"]
  analytics_tables = ["daily_store_sales", "product_performance_monthly", "customer_segments", "inventory_health_daily", "kpi_summary_monthly"]

  crawlers = {
    for source in local.sources : "raw_${source}" => {
      database = var.database_names["raw"]
      paths    = ["s3://${var.bucket_names["raw"]}/${source}/"]
    }
  }

  scripts_base = "s3://${var.bucket_names["scripts"]}/${var.scripts_prefix}"

  common_job_arguments = {
    "--job-language"   = "python"
    "--enable-metrics" = "true"
    # Glue 5.0 logs every job as it runs, to <prefix>/error (the driver's, Spark's and the
    # Glue logger's lines) and <prefix>/output (stdout, stderr); streams <run id>-driver and
    # <run id>-executor<N>. (Glue 4.0's continuous-log arguments do not apply to 5.0.)
    "--custom-logGroup-prefix" = var.log_group_name
    "--job-bookmark-option"    = "job-bookmark-disable"
    "--TempDir"                = "s3://${var.bucket_names["scripts"]}/tmp/"
    "--extra-py-files"         = "${local.scripts_base}retailake_etl.zip"
    "--raw_bucket"             = var.bucket_names["raw"]
    "--staged_bucket"          = var.bucket_names["staged"]
    "--analytics_bucket"       = var.bucket_names["analytics"]
    "--raw_database"           = var.database_names["raw"]
    "--staged_database"        = var.database_names["staged"]
    "--analytics_database"     = var.database_names["analytics"]
    "--metrics_namespace"      = var.metrics_namespace
    # Incremental by default; `retailake run-pipeline --full-refresh` overrides it per run.
    "--full_refresh" = "false"
  }

  jobs = {
    # The three transforms share one script; --source says which raw source it cleans.
    transform_sales = {
      description = "raw sales -> staged sales (clean, derive, deduplicate, partition)"
      script      = "transform_raw"
      arguments   = { "--source" = "sales" }
    }
    transform_inventory = {
      description = "raw inventory -> staged inventory_snapshots and products"
      script      = "transform_raw"
      arguments   = { "--source" = "inventory" }
    }
    transform_customers = {
      description = "raw customers -> staged customers (PII hashed with the HMAC key, normalized)"
      script      = "transform_raw"
      arguments = {
        "--source"              = "customers"
        "--pii_hmac_secret_arn" = aws_secretsmanager_secret.pii_hmac.arn
      }
    }
    analytics_aggregation = {
      description = "staged -> analytics tables (daily store sales, product performance, segments, inventory health, KPIs)"
      script      = "analytics_aggregation"
      arguments   = {}
    }
  }
}

locals {
  # What each job reads and writes (see etl_scripts/): folders by bucket, and the catalog
  # tables whose partitions it points at new folders (`write_tables`) or reads
  # (`read_tables`), by layer. Its role gets exactly these. The customers job alone reads the
  # PII HMAC key.
  job_storage = {
    transform_sales = {
      read         = { raw = ["sales"] }
      write        = { staged = ["sales", "_rejects/sales", "_state/sales"] }
      read_tables  = {}
      write_tables = { staged = ["sales"] }
      pii_secret   = false
    }
    transform_inventory = {
      read         = { raw = ["inventory"] }
      write        = { staged = ["inventory_snapshots", "products", "_rejects/inventory", "_state/inventory"] }
      read_tables  = {}
      write_tables = { staged = ["inventory_snapshots", "products"] }
      pii_secret   = false
    }
    transform_customers = {
      read         = { raw = ["customers"] }
      write        = { staged = ["customers", "_rejects/customers", "_state/customers"] }
      read_tables  = {}
      write_tables = { staged = ["customers"] }
      pii_secret   = true
    }
    analytics_aggregation = {
      read         = { staged = local.staged_tables }
      write        = { analytics = [""] }
      read_tables  = { staged = local.staged_tables }
      write_tables = { analytics = local.analytics_tables }
      pii_secret   = false
    }
  }
}

################################################################################
# Catalog
################################################################################

resource "aws_glue_catalog_database" "this" {
  for_each = var.database_names

  name        = each.value
  description = "${var.name_prefix} ${each.key} layer"

  tags = var.tags
}

# The staged customers table is declared here (transform_customers keeps its schema and
# partitions up to date afterwards) so that the column-level Lake Formation grant
# that hides the PII hashes from analysts has a table to refer to from day one.
resource "aws_glue_catalog_table" "staged_customers" {
  name          = "customers"
  database_name = aws_glue_catalog_database.this["staged"].name
  description   = "Staged customers: hashed PII, normalized address without street, derived bands and segment."
  table_type    = "EXTERNAL_TABLE"

  parameters = {
    classification = "parquet"
  }

  storage_descriptor {
    location      = "s3://${var.bucket_names["staged"]}/customers/"
    input_format  = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
    output_format = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"

    ser_de_info {
      serialization_library = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
    }

    dynamic "columns" {
      for_each = [
        ["customer_id", "string"],
        ["email_hash", "string"],
        ["phone_hash", "string"],
        ["city", "string"],
        ["state", "string"],
        ["postal_code", "string"],
        ["country", "string"],
        ["age_band", "string"],
        ["tenure_months", "int"],
        ["loyalty_tier", "string"],
        ["segment", "string"],
      ]

      content {
        name = columns.value[0]
        type = columns.value[1]
      }
    }
  }

  partition_keys {
    name = "year"
    type = "string"
  }

  partition_keys {
    name = "month"
    type = "string"
  }

  lifecycle {
    # transform_customers owns the schema and location after creation.
    ignore_changes = [parameters, storage_descriptor, partition_keys]
  }
}

################################################################################
# Encryption of everything Glue writes
################################################################################

resource "aws_glue_security_configuration" "this" {
  name = "${var.name_prefix}-glue"

  encryption_configuration {
    cloudwatch_encryption {
      cloudwatch_encryption_mode = "SSE-KMS"
      kms_key_arn                = var.kms_key_arn
    }

    job_bookmarks_encryption {
      job_bookmarks_encryption_mode = "CSE-KMS"
      kms_key_arn                   = var.kms_key_arn
    }

    s3_encryption {
      s3_encryption_mode = "SSE-KMS"
      kms_key_arn        = var.kms_key_arn
    }
  }
}

################################################################################
# PII HMAC key: the secret only. The CLI writes the value, so it never enters
# Terraform state.
################################################################################

resource "aws_secretsmanager_secret" "pii_hmac" {
  #checkov:skip=CKV2_AWS_57:Rotating the HMAC key would change every customer hash and break joins across runs; it is rotated deliberately by the operator, not on a schedule.
  name                    = "${var.name_prefix}/pii-hmac-key"
  description             = "HMAC-SHA256 key for hashing customer PII (email, phone) in the staged layer; value written by the retailake CLI."
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = var.secret_recovery_window_days

  tags = var.tags
}

################################################################################
# Crawlers
################################################################################

resource "aws_glue_crawler" "this" {
  for_each = local.crawlers

  name                   = "${var.name_prefix}-${replace(each.key, "_", "-")}"
  description            = "Catalogs ${join(", ", each.value.paths)}"
  database_name          = each.value.database
  role                   = var.crawler_role_arn
  security_configuration = aws_glue_security_configuration.this.name

  dynamic "s3_target" {
    for_each = each.value.paths

    content {
      path       = s3_target.value
      exclusions = ["**/_SUCCESS", "**/_temporary/**", "**/.*"]
    }
  }

  schema_change_policy {
    update_behavior = "UPDATE_IN_DATABASE"
    delete_behavior = "LOG"
  }

  configuration = jsonencode({
    Version = 1
    CrawlerOutput = {
      Partitions = { AddOrUpdateBehavior = "InheritFromTable" }
      Tables     = { AddOrUpdateBehavior = "MergeNewColumns" }
    }
    Grouping = { TableGroupingPolicy = "CombineCompatibleSchemas" }
  })

  tags = var.tags
}

################################################################################
# Jobs
################################################################################

resource "aws_glue_job" "this" {
  for_each = local.jobs

  name                   = "${var.name_prefix}-${replace(each.key, "_", "-")}"
  description            = each.value.description
  role_arn               = var.job_role_arns[each.key]
  glue_version           = "5.0"
  worker_type            = var.job_worker_type
  number_of_workers      = var.job_number_of_workers
  timeout                = var.job_timeout_minutes
  max_retries            = 0
  execution_class        = "STANDARD"
  security_configuration = aws_glue_security_configuration.this.name

  command {
    name            = "glueetl"
    python_version  = "3"
    script_location = "${local.scripts_base}${each.value.script}.py"
  }

  default_arguments = merge(local.common_job_arguments, each.value.arguments)

  execution_property {
    max_concurrent_runs = 1
  }

  tags = var.tags
}

################################################################################
# Workflow: start -> raw crawlers -> transforms (parallel) -> analytics_aggregation
# (each job keeps its own tables in the catalog: no crawl of staged or analytics)
################################################################################

resource "aws_glue_workflow" "this" {
  name        = var.workflow_name
  description = "raw crawl -> transform jobs -> analytics aggregation"

  max_concurrent_runs = 1

  tags = var.tags
}

# One start trigger: SCHEDULED when a cron is given, else ON_DEMAND. An ON_DEMAND
# trigger never reads back as activated, so it is declared enabled = false (any
# other value shows a diff on every plan); start_workflow_run fires it either way.
resource "aws_glue_trigger" "start" {
  name              = "${var.name_prefix}-start"
  description       = "Starts the raw crawlers"
  workflow_name     = aws_glue_workflow.this.name
  type              = var.workflow_schedule == null ? "ON_DEMAND" : "SCHEDULED"
  schedule          = var.workflow_schedule
  enabled           = var.workflow_schedule != null
  start_on_creation = var.workflow_schedule == null ? null : true

  dynamic "actions" {
    for_each = local.sources

    content {
      crawler_name = aws_glue_crawler.this["raw_${actions.value}"].name
    }
  }

  tags = var.tags
}

resource "aws_glue_trigger" "transform" {
  for_each = toset(local.sources)

  name              = "${var.name_prefix}-transform-${each.key}"
  description       = "Runs transform_${each.key} once the raw ${each.key} crawl succeeded"
  workflow_name     = aws_glue_workflow.this.name
  type              = "CONDITIONAL"
  start_on_creation = true

  predicate {
    conditions {
      crawler_name = aws_glue_crawler.this["raw_${each.key}"].name
      crawl_state  = "SUCCEEDED"
    }
  }

  actions {
    job_name = aws_glue_job.this["transform_${each.key}"].name
  }

  tags = var.tags
}

resource "aws_glue_trigger" "aggregate" {
  name              = "${var.name_prefix}-aggregate"
  description       = "Runs analytics_aggregation once all three transforms succeeded"
  workflow_name     = aws_glue_workflow.this.name
  type              = "CONDITIONAL"
  start_on_creation = true

  predicate {
    logical = "AND"

    dynamic "conditions" {
      for_each = local.sources

      content {
        job_name = aws_glue_job.this["transform_${conditions.value}"].name
        state    = "SUCCEEDED"
      }
    }
  }

  actions {
    job_name = aws_glue_job.this["analytics_aggregation"].name
  }

  tags = var.tags
}
