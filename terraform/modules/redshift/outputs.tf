output "cluster_identifier" {
  description = "Identifier of the Redshift cluster."
  value       = aws_redshift_cluster.this.cluster_identifier
}

output "endpoint" {
  description = "host:port of the cluster."
  value       = aws_redshift_cluster.this.endpoint
}

output "database_name" {
  description = "Name of the cluster's first database."
  value       = aws_redshift_cluster.this.database_name
}

output "master_password_secret_arn" {
  description = "ARN of the Secrets Manager secret Redshift manages for the admin password (the ARN only, never the value)."
  value       = aws_redshift_cluster.this.master_password_secret_arn
}

output "security_group_id" {
  description = "Security group of the cluster."
  value       = aws_security_group.this.id
}

output "subnet_group_name" {
  description = "Subnet group of the cluster."
  value       = aws_redshift_subnet_group.this.name
}

output "vpc_id" {
  description = "VPC of the cluster (created or given)."
  value       = local.vpc_id
}
