module "retailake" {
  source = "../.."

  name_prefix = var.name_prefix
  environment = "local"
  tags        = var.tags
  alarm_email = var.alarm_email

  # Throw-away twin: destroy empties buckets and deletes the secret and key at once-ish.
  force_destroy_buckets        = true
  prevent_destroy_data_buckets = false
  kms_deletion_window_days     = 7
  secret_recovery_window_days  = 0

  glue_worker_type       = "G.1X"
  glue_number_of_workers = 2
  workflow_schedule      = null # run-pipeline starts the workflow on demand

  # The emulator has no VPC to reuse: create one with two subnets.
  create_network                = true
  allowed_cidrs                 = ["10.42.0.0/16"]
  redshift_node_type            = "ra3.xlplus"
  redshift_number_of_nodes      = 1
  redshift_deletion_protection  = false
  redshift_final_snapshot       = false
  redshift_enhanced_vpc_routing = false
}
