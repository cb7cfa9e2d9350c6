output "admins" {
  description = "Data lake administrators in effect (the given ARNs plus the identity running Terraform)."
  value       = aws_lakeformation_data_lake_settings.this.admins
}
