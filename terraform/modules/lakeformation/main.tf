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
# Crawlers: cataloging of the raw layer
################################################################################

resource "aws_lakeformation_permissions" "crawler_location" {
  principal   = var.crawler_role_arn
  permissions = ["DATA_LOCATION_ACCESS"]

  data_location {
    arn = aws_lakeformation_resource.this["raw"].arn
  }
}

resource "aws_lakeformation_permissions" "crawler_database" {
  principal   = var.crawler_role_arn
  permissions = local.glue_database_permissions

  database {
    name = var.glue_database_names["raw"]
  }
}

resource "aws_lakeformation_permissions" "crawler_tables" {
  principal   = var.crawler_role_arn
  permissions = local.glue_table_permissions

  table {
    database_name = var.glue_database_names["raw"]
    wildcard      = true
  }
}

################################################################################
# Jobs: each keeps its own staged or analytics tables (a table's creator holds every
# permission on it); the aggregation reads staged's
################################################################################

locals {
  job_writes = merge([
    for job, access in var.job_catalog : {
      for layer in keys(access.write_tables) : "${job}/${layer}" => { role = access.role_arn, layer = layer }
    }
  ]...)
  job_reads = merge([
    for job, access in var.job_catalog : {
      for layer in keys(access.read_tables) : "${job}/${layer}" => { role = access.role_arn, layer = layer }
    }
  ]...)
  # the staged customers table is Terraform's (for the analysts' column grant): its writer
  # needs a grant, not a creator's rights
  customers_writers = {
    for job, access in var.job_catalog : job => access.role_arn
    if contains(lookup(access.write_tables, "staged", []), var.staged_customers_table_name)
  }
}

# Creating a table or partition at a registered location takes the location too.
resource "aws_lakeformation_permissions" "job_location" {
  for_each = local.job_writes

  principal   = each.value.role
  permissions = ["DATA_LOCATION_ACCESS"]

  data_location {
    arn = aws_lakeformation_resource.this[each.value.layer].arn
  }
}

resource "aws_lakeformation_permissions" "job_database" {
  for_each = local.job_writes

  principal   = each.value.role
  permissions = ["CREATE_TABLE", "DESCRIBE"]

  database {
    name = var.glue_database_names[each.value.layer]
  }
}

resource "aws_lakeformation_permissions" "job_staged_customers" {
  for_each = local.customers_writers

  principal   = each.value
  permissions = ["ALTER", "DESCRIBE", "INSERT", "DELETE", "SELECT"]

  table {
    database_name = var.glue_database_names["staged"]
    name          = var.staged_customers_table_name
  }
}

resource "aws_lakeformation_permissions" "job_input_tables" {
  for_each = local.job_reads

  principal   = each.value.role
  permissions = local.read_table_permissions

  table {
    database_name = var.glue_database_names[each.value.layer]
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

# The crawlers' grants on raw, once given for each layer (a deployment made before the jobs
# kept the staged and analytics tables keeps them rather than revoking and granting anew).
moved {
  from = aws_lakeformation_permissions.glue_location["raw"]
  to   = aws_lakeformation_permissions.crawler_location
}

moved {
  from = aws_lakeformation_permissions.glue_database["raw"]
  to   = aws_lakeformation_permissions.crawler_database
}

moved {
  from = aws_lakeformation_permissions.glue_tables["raw"]
  to   = aws_lakeformation_permissions.crawler_tables
}
