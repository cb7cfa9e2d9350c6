output "bucket_names" {
  description = "Bucket names by key: raw, staged, analytics, scripts, access_logs."
  value       = { for key, bucket in aws_s3_bucket.this : key => bucket.id }
}

output "bucket_arns" {
  description = "Bucket ARNs by key: raw, staged, analytics, scripts, access_logs."
  value       = { for key, bucket in aws_s3_bucket.this : key => bucket.arn }
}

output "access_logs_bucket_name" {
  description = "Name of the access-log bucket, available only once its bucket policy (which admits CloudTrail) is in place."
  value       = aws_s3_bucket.this["access_logs"].id

  depends_on = [aws_s3_bucket_policy.this]
}

output "kms_key_arn" {
  description = "ARN of the lake's customer-managed KMS key."
  value       = aws_kms_key.this.arn
}

output "kms_key_id" {
  description = "Key id of the lake's customer-managed KMS key."
  value       = aws_kms_key.this.key_id
}

output "account_id" {
  description = "AWS account id the buckets live in."
  value       = local.account_id
}
