module "retailake" {
  source = "../.."

  name_prefix            = var.name_prefix
  environment            = "dev"
  tags                   = var.tags
  alarm_email            = var.alarm_email
  trusted_principal_arns = var.trusted_principal_arns
  lake_admin_arns        = var.lake_admin_arns

  force_destroy_buckets        = false
  prevent_destroy_data_buckets = false
  # deleted at once on destroy: a window would refuse the same secret name to a deploy of dev
  # again until it passed ("scheduled for deletion"); prod keeps its 30 days
  secret_recovery_window_days = 0

  glue_worker_type       = var.glue_worker_type
  glue_number_of_workers = var.glue_number_of_workers
  workflow_schedule      = var.workflow_schedule

  create_network                   = false
  vpc_id                           = var.vpc_id
  subnet_ids                       = var.subnet_ids
  allowed_cidrs                    = var.allowed_cidrs
  redshift_node_type               = var.redshift_node_type
  redshift_number_of_nodes         = var.redshift_number_of_nodes
  redshift_snapshot_retention_days = 1
  redshift_deletion_protection     = false
  redshift_final_snapshot          = false
}
