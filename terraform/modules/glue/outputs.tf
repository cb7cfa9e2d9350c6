output "database_names" {
  description = "Catalog database names by layer: raw, staged, analytics."
  value       = { for key, database in aws_glue_catalog_database.this : key => database.name }
}

output "crawler_names" {
  description = "Crawler names by key: raw_sales, raw_inventory, raw_customers."
  value       = { for key, crawler in aws_glue_crawler.this : key => crawler.name }
}

output "job_names" {
  description = "Job names by key: transform_sales, transform_inventory, transform_customers, analytics_aggregation."
  value       = { for key, job in aws_glue_job.this : key => job.name }
}

output "job_storage" {
  description = "What each job reads and writes, by job key: folders by bucket key (\"\" for the whole bucket), catalog tables it writes and reads by layer, and whether it reads the PII HMAC key (the iam module's job_storage)."
  value       = local.job_storage
}

output "workflow_name" {
  description = "Name of the Glue workflow that runs the pipeline."
  value       = aws_glue_workflow.this.name
}

output "trigger_names" {
  description = "Trigger names in workflow order: start, transform_<source>, aggregate."
  value = merge(
    { start = aws_glue_trigger.start.name },
    { for key, trigger in aws_glue_trigger.transform : "transform_${key}" => trigger.name },
    { aggregate = aws_glue_trigger.aggregate.name },
  )
}

output "staged_customers_table_name" {
  description = "Name of the staged customers table (target of the column-level Lake Formation grant)."
  value       = aws_glue_catalog_table.staged_customers.name
}

output "security_configuration_name" {
  description = "Name of the Glue security configuration (KMS for S3, CloudWatch, bookmarks)."
  value       = aws_glue_security_configuration.this.name
}

output "pii_hmac_secret_arn" {
  description = "ARN of the Secrets Manager secret that holds the PII HMAC key (the value is written by the CLI, never by Terraform)."
  value       = aws_secretsmanager_secret.pii_hmac.arn
}

output "scripts_prefix" {
  description = "Key prefix of the ETL scripts in the scripts bucket."
  value       = var.scripts_prefix
}
