variable "name_prefix" {
  description = "Prefix of every name, e.g. \"retailake-dev\"; buckets are named <prefix>-<layer>-<account id>."
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

variable "force_destroy" {
  description = "Let `terraform destroy` delete buckets that still hold objects. Only for throw-away environments (local); never in prod."
  type        = bool
  default     = false
}

variable "prevent_destroy" {
  description = "Guard the data buckets (raw, staged, analytics) against destruction or replacement: any plan that would destroy one fails. See README for how this works."
  type        = bool
  default     = false
}

variable "raw_transition_ia_days" {
  description = "Days after which raw objects move to STANDARD_IA."
  type        = number
  default     = 30

  validation {
    condition     = var.raw_transition_ia_days >= 30 && floor(var.raw_transition_ia_days) == var.raw_transition_ia_days
    error_message = "raw_transition_ia_days must be a whole number >= 30 (S3's minimum for STANDARD_IA)."
  }
}

variable "raw_transition_glacier_days" {
  description = "Days after which raw objects move to GLACIER_IR (readable at once, as a rebuild needs); must be later than raw_transition_ia_days."
  type        = number
  default     = 90

  validation {
    condition     = var.raw_transition_glacier_days >= 60 && floor(var.raw_transition_glacier_days) == var.raw_transition_glacier_days
    error_message = "raw_transition_glacier_days must be a whole number >= 60."
  }
}

variable "noncurrent_version_expiration_days" {
  description = "Days after which noncurrent object versions are deleted (all buckets)."
  type        = number
  default     = 90

  validation {
    condition     = var.noncurrent_version_expiration_days >= 1
    error_message = "noncurrent_version_expiration_days must be at least 1."
  }
}

variable "abort_incomplete_multipart_days" {
  description = "Days after which incomplete multipart uploads are aborted (all buckets)."
  type        = number
  default     = 7

  validation {
    condition     = var.abort_incomplete_multipart_days >= 1
    error_message = "abort_incomplete_multipart_days must be at least 1."
  }
}

variable "access_log_expiration_days" {
  description = "Days after which access logs and CloudTrail files in the access-log bucket are deleted."
  type        = number
  default     = 365

  validation {
    condition     = var.access_log_expiration_days >= 1
    error_message = "access_log_expiration_days must be at least 1."
  }
}

variable "cloudtrail_trail_name" {
  description = "Name of the CloudTrail trail allowed to write to the access-log bucket (under cloudtrail/); null adds no CloudTrail statements."
  type        = string
  default     = null
}

variable "kms_deletion_window_days" {
  description = "Waiting period before the customer key is deleted after a destroy (7-30 days)."
  type        = number
  default     = 30

  validation {
    condition     = var.kms_deletion_window_days >= 7 && var.kms_deletion_window_days <= 30
    error_message = "kms_deletion_window_days must be between 7 and 30."
  }
}
