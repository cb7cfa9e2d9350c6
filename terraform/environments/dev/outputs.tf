# Re-exports the root module's outputs under the same names (the retailake CLI reads them).

output "region" {
  description = "AWS region of the deployment."
  value       = module.retailake.region
}

output "account_id" {
  description = "AWS account id of the deployment."
  value       = module.retailake.account_id
}

output "name_prefix" {
  description = "Prefix of every resource name."
  value       = module.retailake.name_prefix
}

output "buckets" {
  description = "Bucket names by key: raw, staged, analytics, scripts, access_logs."
  value       = module.retailake.buckets
}

output "kms_key_arn" {
  description = "ARN of the lake's customer-managed KMS key."
  value       = module.retailake.kms_key_arn
}

output "glue_databases" {
  description = "Glue catalog database names by layer: raw, staged, analytics."
  value       = module.retailake.glue_databases
}

output "glue_crawlers" {
  description = "Glue crawler names by key: raw_sales, raw_inventory, raw_customers."
  value       = module.retailake.glue_crawlers
}

output "glue_jobs" {
  description = "Glue job names by key: transform_sales, transform_inventory, transform_customers, analytics_aggregation."
  value       = module.retailake.glue_jobs
}

output "glue_workflow" {
  description = "Name of the Glue workflow that runs the pipeline."
  value       = module.retailake.glue_workflow
}

output "scripts_prefix" {
  description = "Key prefix of the ETL scripts in the scripts bucket (\"etl/\")."
  value       = module.retailake.scripts_prefix
}

output "role_arns" {
  description = "Role ARNs by key: glue_crawler, redshift_spectrum, analyst, lake_admin (each Glue job names its own role)."
  value       = module.retailake.role_arns
}

output "redshift_cluster_identifier" {
  description = "Identifier of the Redshift cluster."
  value       = module.retailake.redshift_cluster_identifier
}

output "redshift_endpoint" {
  description = "host:port of the Redshift cluster."
  value       = module.retailake.redshift_endpoint
}

output "redshift_database" {
  description = "Name of the Redshift database."
  value       = module.retailake.redshift_database
}

output "redshift_master_secret_arn" {
  description = "ARN of the Redshift-managed secret holding the admin password (never the value)."
  value       = module.retailake.redshift_master_secret_arn
}

output "sns_topic_arn" {
  description = "ARN of the alert topic."
  value       = module.retailake.sns_topic_arn
}

output "pii_hmac_secret_arn" {
  description = "ARN of the secret holding the customers PII HMAC key (the CLI writes its value)."
  value       = module.retailake.pii_hmac_secret_arn
}

output "dashboard_name" {
  description = "Name of the CloudWatch dashboard."
  value       = module.retailake.dashboard_name
}
