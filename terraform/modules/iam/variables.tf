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
  description = "ARN of the Secrets Manager secret holding the customers PII HMAC key (read by the jobs whose job_storage says pii_secret only)."
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

variable "job_storage" {
  description = "Per Glue job (by key), the folders it reads and writes, as prefixes by bucket key (raw, staged, analytics; \"\" for the whole bucket); the catalog tables it writes (creates, alters, repartitions) and reads, by layer (the database keys of glue_database_names); and whether it reads the PII HMAC key. Each job gets a role of its own with exactly these, plus the scripts bucket."
  type = map(object({
    read         = map(list(string))
    write        = map(list(string))
    read_tables  = optional(map(list(string)), {})
    write_tables = optional(map(list(string)), {})
    pii_secret   = optional(bool, false)
  }))

  validation {
    condition = alltrue(flatten([
      for access in values(var.job_storage) : [
        for bucket in concat(keys(access.read), keys(access.write)) : contains(["raw", "staged", "analytics"], bucket)
      ]
    ]))
    error_message = "job_storage may name the buckets raw, staged and analytics only."
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
