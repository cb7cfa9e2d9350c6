variable "name_prefix" {
  description = "Prefix of every name, e.g. \"retailake-dev\"."
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

variable "kms_key_arn" {
  description = "ARN of the lake's customer-managed KMS key (topic, log groups, trail)."
  type        = string
}

variable "alarm_email" {
  description = "E-mail address subscribed to the alarm topic; null subscribes nobody."
  type        = string
  default     = null

  validation {
    condition     = var.alarm_email == null || can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", var.alarm_email))
    error_message = "alarm_email must be null or an e-mail address."
  }
}

variable "glue_job_names" {
  description = "Glue job names by key; failures are routed to the topic and RowsRejected is alarmed per job."
  type        = map(string)
}

variable "glue_crawler_names" {
  description = "Glue crawler names by key; failed crawls are routed to the topic."
  type        = map(string)
}

variable "glue_job_log_groups" {
  description = "Each Glue job's log group prefix, by job key: its logs go to <prefix>/error and <prefix>/output."
  type        = map(string)
}

variable "redshift_cluster_identifier" {
  description = "Identifier of the Redshift cluster (alarms, dashboard, audit log groups)."
  type        = string
}

variable "redshift_audit_log_exports" {
  description = "Redshift audit logs exported to CloudWatch; a log group with retention is created for each."
  type        = list(string)
  default     = ["connectionlog", "useractivitylog", "userlog"]
}

variable "log_retention_days" {
  description = "Retention of every log group, in days (a value CloudWatch Logs accepts)."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

variable "metrics_namespace" {
  description = "CloudWatch namespace of the jobs' custom metrics (dimension JobName)."
  type        = string
  default     = "Retailake"
}

variable "rows_rejected_threshold" {
  description = "Alarm when a job rejects more rows than this in one 1-hour period."
  type        = number
  default     = 0

  validation {
    condition     = var.rows_rejected_threshold >= 0
    error_message = "rows_rejected_threshold must be >= 0."
  }
}

variable "redshift_cpu_threshold" {
  description = "Alarm when Redshift CPU stays above this percentage."
  type        = number
  default     = 80

  validation {
    condition     = var.redshift_cpu_threshold > 0 && var.redshift_cpu_threshold <= 100
    error_message = "redshift_cpu_threshold must be a percentage in (0, 100]."
  }
}

variable "redshift_disk_threshold" {
  description = "Alarm when Redshift disk use (PercentageDiskSpaceUsed) exceeds this percentage."
  type        = number
  default     = 80

  validation {
    condition     = var.redshift_disk_threshold > 0 && var.redshift_disk_threshold <= 100
    error_message = "redshift_disk_threshold must be a percentage in (0, 100]."
  }
}

variable "redshift_query_duration_threshold_seconds" {
  description = "Alarm when the average duration of long queries exceeds this many seconds."
  type        = number
  default     = 300

  validation {
    condition     = var.redshift_query_duration_threshold_seconds > 0
    error_message = "redshift_query_duration_threshold_seconds must be > 0."
  }
}

variable "trail_name" {
  description = "Name of the CloudTrail trail (the access-log bucket's policy must admit it)."
  type        = string
}

variable "trail_bucket_name" {
  description = "Bucket the trail delivers to (the access-log bucket, under cloudtrail/)."
  type        = string
}

variable "data_event_bucket_arns" {
  description = "ARNs of the buckets whose object-level (data) events the trail records."
  type        = list(string)
}
