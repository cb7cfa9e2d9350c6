data "aws_region" "current" {}

locals {
  tags = merge(var.tags, {
    Project     = "retailake"
    Environment = var.environment
    ManagedBy   = "terraform"
  })

  # Glue and Athena dislike hyphens in database names.
  database_prefix = replace(var.name_prefix, "-", "_")
  glue_database_names = {
    raw       = "${local.database_prefix}_raw"
    staged    = "${local.database_prefix}_staged"
    analytics = "${local.database_prefix}_analytics"
  }

  # Names several modules agree on, computed once here so no module waits on another.
  glue_log_group_name         = "/aws-glue/jobs/${var.name_prefix}"
  glue_workflow_name          = "${var.name_prefix}-pipeline"
  redshift_cluster_identifier = "${var.name_prefix}-warehouse"
  trail_name                  = "${var.name_prefix}-trail"
  scripts_prefix              = "etl/"
  metrics_namespace           = "Retailake"
  redshift_audit_log_exports  = ["connectionlog", "useractivitylog", "userlog"]
}

# Where each job logs: its security configuration encrypts CloudWatch logs, so Glue 5.0 writes
# under <--custom-logGroup-prefix>/<configuration>-role/<job role name>/{error,output}
# ("Logging for AWS Glue jobs", AWS Glue guide). The monitoring module creates those groups,
# with retention and the lake's key, before a job would create them with neither.
locals {
  glue_job_log_groups = {
    for key, _ in module.glue.job_names : key => join("/", [
      local.glue_log_group_name,
      "${module.glue.security_configuration_name}-role",
      module.iam.role_names["job_${key}"],
    ])
  }
}

module "s3" {
  source = "./modules/s3"

  name_prefix                        = var.name_prefix
  tags                               = local.tags
  force_destroy                      = var.force_destroy_buckets
  prevent_destroy                    = var.prevent_destroy_data_buckets
  raw_transition_ia_days             = var.raw_transition_ia_days
  raw_transition_glacier_days        = var.raw_transition_glacier_days
  noncurrent_version_expiration_days = var.noncurrent_version_expiration_days
  kms_deletion_window_days           = var.kms_deletion_window_days
  cloudtrail_trail_name              = local.trail_name
}

module "iam" {
  source = "./modules/iam"

  name_prefix            = var.name_prefix
  tags                   = local.tags
  bucket_arns            = module.s3.bucket_arns
  kms_key_arn            = module.s3.kms_key_arn
  glue_database_names    = local.glue_database_names
  pii_hmac_secret_arn    = module.glue.pii_hmac_secret_arn
  job_storage            = module.glue.job_storage
  glue_log_group_name    = local.glue_log_group_name
  glue_workflow_name     = local.glue_workflow_name
  trusted_principal_arns = var.trusted_principal_arns
  metrics_namespace      = local.metrics_namespace
}

module "glue" {
  source = "./modules/glue"

  name_prefix                 = var.name_prefix
  tags                        = local.tags
  database_names              = local.glue_database_names
  bucket_names                = module.s3.bucket_names
  kms_key_arn                 = module.s3.kms_key_arn
  crawler_role_arn            = module.iam.crawler_role_ready_arn
  job_role_arns               = module.iam.job_role_ready_arns
  log_group_name              = local.glue_log_group_name
  workflow_name               = local.glue_workflow_name
  scripts_prefix              = local.scripts_prefix
  metrics_namespace           = local.metrics_namespace
  job_worker_type             = var.glue_worker_type
  job_number_of_workers       = var.glue_number_of_workers
  job_timeout_minutes         = var.glue_job_timeout_minutes
  workflow_schedule           = var.workflow_schedule
  secret_recovery_window_days = var.secret_recovery_window_days

  # its catalog databases are created once Lake Formation governs them
  depends_on = [module.lakeformation_settings]
}

module "lakeformation_settings" {
  source = "./modules/lakeformation_settings"

  admin_arns = concat([module.iam.role_arns["lake_admin"]], var.lake_admin_arns)
}

moved {
  from = module.lakeformation.aws_lakeformation_data_lake_settings.this
  to   = module.lakeformation_settings.aws_lakeformation_data_lake_settings.this
}

module "lakeformation" {
  source = "./modules/lakeformation"

  data_location_arns = {
    for key in ["raw", "staged", "analytics"] : key => module.s3.bucket_arns[key]
  }
  glue_database_names         = module.glue.database_names
  staged_customers_table_name = module.glue.staged_customers_table_name
  registration_role_arn       = module.iam.lf_registration_role_arn
  crawler_role_arn            = module.iam.role_arns["glue_crawler"]
  job_catalog = {
    for job, access in module.glue.job_storage : job => {
      role_arn     = module.iam.job_role_ready_arns[job]
      read_tables  = access.read_tables
      write_tables = access.write_tables
    }
  }
  redshift_role_arn = module.iam.role_arns["redshift_spectrum"]
  analyst_role_arn  = module.iam.role_arns["analyst"]

  depends_on = [module.lakeformation_settings]
}

module "redshift" {
  source = "./modules/redshift"

  name_prefix                       = var.name_prefix
  tags                              = local.tags
  cluster_identifier                = local.redshift_cluster_identifier
  create_network                    = var.create_network
  vpc_cidr                          = var.vpc_cidr
  vpc_id                            = var.vpc_id
  subnet_ids                        = var.subnet_ids
  allowed_cidrs                     = var.allowed_cidrs
  node_type                         = var.redshift_node_type
  number_of_nodes                   = var.redshift_number_of_nodes
  database_name                     = var.redshift_database_name
  master_username                   = var.redshift_master_username
  kms_key_arn                       = module.s3.kms_key_arn
  spectrum_role_arn                 = module.iam.role_arns["redshift_spectrum"]
  automated_snapshot_retention_days = var.redshift_snapshot_retention_days
  preferred_maintenance_window      = var.redshift_maintenance_window
  deletion_protection               = var.redshift_deletion_protection
  final_snapshot                    = var.redshift_final_snapshot
  enhanced_vpc_routing              = var.redshift_enhanced_vpc_routing
  audit_log_exports                 = local.redshift_audit_log_exports
  # Created (with retention and KMS) by the monitoring module before logging is enabled.
  audit_log_group_names = [for key, name in module.monitoring.log_group_names : name if startswith(key, "redshift_")]
}

module "monitoring" {
  source = "./modules/monitoring"

  name_prefix                 = var.name_prefix
  tags                        = local.tags
  kms_key_arn                 = module.s3.kms_key_arn
  alarm_email                 = var.alarm_email
  glue_job_names              = module.glue.job_names
  glue_crawler_names          = module.glue.crawler_names
  glue_job_log_groups         = local.glue_job_log_groups
  redshift_cluster_identifier = local.redshift_cluster_identifier
  redshift_audit_log_exports  = local.redshift_audit_log_exports
  log_retention_days          = var.log_retention_days
  metrics_namespace           = local.metrics_namespace
  rows_rejected_threshold     = var.rows_rejected_threshold
  trail_name                  = local.trail_name
  trail_bucket_name           = module.s3.access_logs_bucket_name
  data_event_bucket_arns      = [for key in ["raw", "staged", "analytics"] : module.s3.bucket_arns[key]]
}
