variable "name_prefix" {
  description = "Prefix of every name, e.g. \"retailake-dev\"; roles are named <prefix>-<role>."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 3-32 characters of lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen."
  }
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}

variable "bucket_arns" {
  description = "Bucket ARNs by key; must hold raw, staged, analytics and scripts."
  type        = map(string)

  validation {
    condition     = alltrue([for key in ["raw", "staged", "analytics", "scripts"] : contains(keys(var.bucket_arns), key)])
    error_message = "bucket_arns must hold the keys raw, staged, analytics and scripts."
  }
}

variable "kms_key_arn" {
  description = "ARN of the lake's customer-managed KMS key."
  type        = string
}

variable "glue_database_names" {
  description = "Glue catalog database names by layer; must hold raw, staged and analytics."
  type        = map(string)

  validation {
    condition     = alltrue([for key in ["raw", "staged", "analytics"] : contains(keys(var.glue_database_names), key)])
    error_message = "glue_database_names must hold the keys raw, staged and analytics."
  }
}

variable "pii_hmac_secret_arn" {
  description = "ARN of the Secrets Manager secret holding the customers PII HMAC key (read by the Glue role only)."
  type        = string
}

variable "glue_log_group_name" {
  description = "Prefix of the CloudWatch log groups the Glue jobs log to (must start with /aws-glue/)."
  type        = string

  validation {
    condition     = startswith(var.glue_log_group_name, "/aws-glue/")
    error_message = "glue_log_group_name must start with /aws-glue/."
  }
}

variable "glue_workflow_name" {
  description = "Name of the Glue workflow whose run properties (e.g. full_refresh) the jobs read."
  type        = string
}

variable "trusted_principal_arns" {
  description = "IAM principals allowed to assume the analyst and lake-admin roles; empty means the account root (any IAM principal of the account that IAM policy allows)."
  type        = list(string)
  default     = []
}

variable "metrics_namespace" {
  description = "CloudWatch namespace the Glue jobs publish their custom metrics to."
  type        = string
  default     = "Retailake"
}
