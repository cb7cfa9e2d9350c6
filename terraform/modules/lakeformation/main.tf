data "aws_caller_identity" "current" {}

# The identity running Terraform must stay a data lake admin, or it cannot grant.
data "aws_iam_session_context" "current" {
  arn = data.aws_caller_identity.current.arn
}

locals {
  admins = distinct(concat(var.admin_arns, [data.aws_iam_session_context.current.issuer_arn]))

  glue_database_permissions = ["ALTER", "CREATE_TABLE", "DESCRIBE", "DROP"]
  glue_table_permissions    = ["ALTER", "DELETE", "DESCRIBE", "DROP", "INSERT", "SELECT"]
  read_table_permissions    = ["DESCRIBE", "SELECT"]

  # Lake Formation only: no create_*_default_permissions blocks, so new databases and
  # tables get no IAM_ALLOWED_PRINCIPALS grant and the grants below are what counts.
}

resource "aws_lakeformation_data_lake_settings" "this" {
  admins = local.admins
}

resource "aws_lakeformation_resource" "this" {
  for_each = var.data_location_arns

  arn      = each.value
  role_arn = var.registration_role_arn

  depends_on = [aws_lakeformation_data_lake_settings.this]
}

################################################################################
# Glue role: processing on all three layers
################################################################################

resource "aws_lakeformation_permissions" "glue_location" {
  for_each = var.data_location_arns

  principal   = var.glue_role_arn
  permissions = ["DATA_LOCATION_ACCESS"]

  data_location {
    arn = aws_lakeformation_resource.this[each.key].arn
  }
}

resource "aws_lakeformation_permissions" "glue_database" {
  for_each = var.glue_database_names

  principal   = var.glue_role_arn
  permissions = local.glue_database_permissions

  database {
    name = each.value
  }

  depends_on = [aws_lakeformation_data_lake_settings.this]
}

resource "aws_lakeformation_permissions" "glue_tables" {
  for_each = var.glue_database_names

  principal   = var.glue_role_arn
  permissions = local.glue_table_permissions

  table {
    database_name = each.value
    wildcard      = true
  }

  depends_on = [aws_lakeformation_data_lake_settings.this]
}

################################################################################
# Readers of the analytics layer: Redshift Spectrum and analysts
################################################################################

locals {
  analytics_readers = {
    redshift = var.redshift_role_arn
    analyst  = var.analyst_role_arn
  }
}

resource "aws_lakeformation_permissions" "analytics_database" {
  for_each = local.analytics_readers

  principal   = each.value
  permissions = ["DESCRIBE"]

  database {
    name = var.glue_database_names["analytics"]
  }

  depends_on = [aws_lakeformation_data_lake_settings.this]
}

resource "aws_lakeformation_permissions" "analytics_tables" {
  for_each = local.analytics_readers

  principal   = each.value
  permissions = local.read_table_permissions

  table {
    database_name = var.glue_database_names["analytics"]
    wildcard      = true
  }

  depends_on = [aws_lakeformation_data_lake_settings.this]
}

################################################################################
# Analysts on staged customers: every column but the hashed PII
################################################################################

resource "aws_lakeformation_permissions" "analyst_staged_database" {
  principal   = var.analyst_role_arn
  permissions = ["DESCRIBE"]

  database {
    name = var.glue_database_names["staged"]
  }

  depends_on = [aws_lakeformation_data_lake_settings.this]
}

resource "aws_lakeformation_permissions" "analyst_staged_customers" {
  principal   = var.analyst_role_arn
  permissions = ["SELECT"]

  table_with_columns {
    database_name         = var.glue_database_names["staged"]
    name                  = var.staged_customers_table_name
    wildcard              = true                 # all columns ...
    excluded_column_names = var.pii_hash_columns # ... except the hashed PII
  }

  depends_on = [aws_lakeformation_data_lake_settings.this]
}
