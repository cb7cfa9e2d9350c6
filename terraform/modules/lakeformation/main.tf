locals {
  glue_database_permissions = ["ALTER", "CREATE_TABLE", "DESCRIBE", "DROP"]
  glue_table_permissions    = ["ALTER", "DELETE", "DESCRIBE", "DROP", "INSERT", "SELECT"]
  read_table_permissions    = ["DESCRIBE", "SELECT"]
}

# The data lake settings (admins, no IAM_ALLOWED_PRINCIPALS defaults) are the
# lakeformation_settings module's, which this one waits for: the identity running Terraform
# must be an admin before it grants.

resource "aws_lakeformation_resource" "this" {
  for_each = var.data_location_arns

  arn      = each.value
  role_arn = var.registration_role_arn
}

################################################################################
# Crawlers: cataloging on all three layers
################################################################################

resource "aws_lakeformation_permissions" "glue_location" {
  for_each = var.data_location_arns

  principal   = var.crawler_role_arn
  permissions = ["DATA_LOCATION_ACCESS"]

  data_location {
    arn = aws_lakeformation_resource.this[each.key].arn
  }
}

resource "aws_lakeformation_permissions" "glue_database" {
  for_each = var.glue_database_names

  principal   = var.crawler_role_arn
  permissions = local.glue_database_permissions

  database {
    name = each.value
  }
}

resource "aws_lakeformation_permissions" "glue_tables" {
  for_each = var.glue_database_names

  principal   = var.crawler_role_arn
  permissions = local.glue_table_permissions

  table {
    database_name = each.value
    wildcard      = true
  }
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
}

resource "aws_lakeformation_permissions" "analytics_tables" {
  for_each = local.analytics_readers

  principal   = each.value
  permissions = local.read_table_permissions

  table {
    database_name = var.glue_database_names["analytics"]
    wildcard      = true
  }
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
}
