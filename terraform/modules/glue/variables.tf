variable "name_prefix" {
  description = "Prefix of every name, e.g. \"retailake-dev\"; crawlers, jobs and the workflow are named <prefix>-<thing>."
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

variable "database_names" {
  description = "Catalog database names by layer (raw, staged, analytics); underscores, no hyphens."
  type        = map(string)

  validation {
    condition = (
      alltrue([for key in ["raw", "staged", "analytics"] : contains(keys(var.database_names), key)])
      && alltrue([for name in values(var.database_names) : can(regex("^[a-z][a-z0-9_]*$", name))])
    )
    error_message = "database_names must hold the keys raw, staged and analytics, each a lowercase name of letters, digits and underscores."
  }
}

variable "bucket_names" {
  description = "Bucket names by key; must hold raw, staged, analytics and scripts."
  type        = map(string)

  validation {
    condition     = alltrue([for key in ["raw", "staged", "analytics", "scripts"] : contains(keys(var.bucket_names), key)])
    error_message = "bucket_names must hold the keys raw, staged, analytics and scripts."
  }
}

variable "kms_key_arn" {
  description = "ARN of the lake's customer-managed KMS key (security configuration, secret)."
  type        = string
}

variable "crawler_role_arn" {
  description = "ARN of the role the crawlers run as."
  type        = string
}

variable "job_role_arns" {
  description = "ARN of the role each job runs as, by job key (the keys of the job_storage output)."
  type        = map(string)
}

variable "log_group_name" {
  description = "Prefix of the jobs' CloudWatch log groups, <prefix>/error and <prefix>/output (created by the monitoring module)."
  type        = string

  validation {
    condition     = startswith(var.log_group_name, "/aws-glue/")
    error_message = "log_group_name must start with /aws-glue/ (the prefix the Glue roles may write to)."
  }
}

variable "scripts_prefix" {
  description = "Key prefix of the ETL scripts in the scripts bucket; ends with a slash."
  type        = string
  default     = "etl/"

  validation {
    condition     = can(regex("^([a-zA-Z0-9_.-]+/)+$", var.scripts_prefix))
    error_message = "scripts_prefix must be a relative key prefix ending with '/', e.g. \"etl/\"."
  }
}

variable "metrics_namespace" {
  description = "CloudWatch namespace the jobs publish RowsRead/RowsWritten/RowsRejected/DuplicatesDropped/DurationSeconds to (passed as --metrics_namespace)."
  type        = string
  default     = "Retailake"
}

variable "job_worker_type" {
  description = "Glue worker type of every job."
  type        = string
  default     = "G.1X"

  validation {
    condition     = contains(["G.1X", "G.2X", "G.4X", "G.8X"], var.job_worker_type)
    error_message = "job_worker_type must be one of G.1X, G.2X, G.4X, G.8X (Glue 5.0 worker types)."
  }
}

variable "job_number_of_workers" {
  description = "Number of workers of every job (Glue needs at least 2)."
  type        = number
  default     = 2

  validation {
    condition     = var.job_number_of_workers >= 2 && var.job_number_of_workers <= 299 && floor(var.job_number_of_workers) == var.job_number_of_workers
    error_message = "job_number_of_workers must be a whole number between 2 and 299."
  }
}

variable "job_timeout_minutes" {
  description = "Minutes after which a job run is stopped and reported TIMEOUT."
  type        = number
  default     = 60

  validation {
    condition     = var.job_timeout_minutes >= 1 && var.job_timeout_minutes <= 2880
    error_message = "job_timeout_minutes must be between 1 and 2880."
  }
}

variable "workflow_name" {
  description = "Name of the Glue workflow (the IAM module scopes the jobs' GetWorkflowRunProperties to it)."
  type        = string
}

variable "workflow_schedule" {
  description = "Cron expression that starts the workflow, e.g. \"cron(0 3 * * ? *)\"; null makes the start trigger ON_DEMAND (started by `retailake run-pipeline`)."
  type        = string
  default     = null

  validation {
    condition     = var.workflow_schedule == null || can(regex("^cron\\(.+\\)$", var.workflow_schedule))
    error_message = "workflow_schedule must be null or a Glue cron expression such as \"cron(0 3 * * ? *)\"."
  }
}

variable "secret_recovery_window_days" {
  description = "Days Secrets Manager keeps the deleted PII HMAC secret recoverable: 0 (delete at once, for throw-away environments) or 7-30."
  type        = number
  default     = 30

  validation {
    condition     = var.secret_recovery_window_days == 0 || (var.secret_recovery_window_days >= 7 && var.secret_recovery_window_days <= 30)
    error_message = "secret_recovery_window_days must be 0 or between 7 and 30."
  }
}
