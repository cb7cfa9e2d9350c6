output "admins" {
  description = "Data lake administrators in effect (the given ARNs plus the identity running Terraform)."
  value       = aws_lakeformation_data_lake_settings.this.admins
}

output "registered_location_arns" {
  description = "S3 ARNs registered with Lake Formation, by layer."
  value       = { for key, resource in aws_lakeformation_resource.this : key => resource.arn }
}
