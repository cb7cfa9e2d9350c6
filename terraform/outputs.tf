# The retailake CLI reads these names; every environment re-exports them unchanged.
# None of them holds a secret value (secret outputs are ARNs only).

output "region" {
  description = "AWS region of the deployment."
  value       = data.aws_region.current.name
}

output "account_id" {
  description = "AWS account id of the deployment."
  value       = module.s3.account_id
}

output "name_prefix" {
  description = "Prefix of every resource name."
  value       = var.name_prefix
}

output "buckets" {
  description = "Bucket names by key: raw, staged, analytics, scripts, access_logs."
  value       = module.s3.bucket_names
}

output "kms_key_arn" {
  description = "ARN of the lake's customer-managed KMS key."
  value       = module.s3.kms_key_arn
}

output "glue_databases" {
  description = "Glue catalog database names by layer: raw, staged, analytics."
  value       = module.glue.database_names
}

output "glue_crawlers" {
  description = "Glue crawler names by key: raw_sales, raw_inventory, raw_customers."
  value       = module.glue.crawler_names
}

output "glue_jobs" {
  description = "Glue job names by key: transform_sales, transform_inventory, transform_customers, analytics_aggregation."
  value       = module.glue.job_names
}

output "glue_workflow" {
  description = "Name of the Glue workflow that runs the pipeline."
  value       = module.glue.workflow_name
}

output "scripts_prefix" {
  description = "Key prefix of the ETL scripts in the scripts bucket (\"etl/\")."
  value       = module.glue.scripts_prefix
}

output "role_arns" {
  description = "Role ARNs by key: glue_crawler, redshift_spectrum, analyst, lake_admin (each Glue job names its own role)."
  value       = module.iam.role_arns
}

output "redshift_cluster_identifier" {
  description = "Identifier of the Redshift cluster."
  value       = module.redshift.cluster_identifier
}

output "redshift_endpoint" {
  description = "host:port of the Redshift cluster."
  value       = module.redshift.endpoint
}

output "redshift_database" {
  description = "Name of the Redshift database."
  value       = module.redshift.database_name
}

output "redshift_master_secret_arn" {
  description = "ARN of the Redshift-managed secret holding the admin password (never the value)."
  value       = module.redshift.master_password_secret_arn
}

output "sns_topic_arn" {
  description = "ARN of the alert topic."
  value       = module.monitoring.sns_topic_arn
}

output "pii_hmac_secret_arn" {
  description = "ARN of the secret holding the customers PII HMAC key (the CLI writes its value)."
  value       = module.glue.pii_hmac_secret_arn
}

output "dashboard_name" {
  description = "Name of the CloudWatch dashboard."
  value       = module.monitoring.dashboard_name
}
