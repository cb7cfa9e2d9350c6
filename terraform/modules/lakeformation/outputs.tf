output "registered_location_arns" {
  description = "S3 ARNs registered with Lake Formation, by layer."
  value       = { for key, resource in aws_lakeformation_resource.this : key => resource.arn }
}
