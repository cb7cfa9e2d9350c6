################################################################################
# Naming and tags
################################################################################

variable "name_prefix" {
  description = "Prefix of every name, e.g. \"retailake-dev\". Buckets are <prefix>-<layer>-<account id>; catalog databases <prefix with underscores>_<layer>."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 3-32 characters of lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen."
  }
}

variable "environment" {
  description = "Deployment environment: local, dev or prod (tagged on every resource)."
  type        = string

  validation {
    condition     = contains(["local", "dev", "prod"], var.environment)
    error_message = "environment must be one of local, dev, prod."
  }
}

variable "tags" {
  description = "Tags merged into every resource's tags."
  type        = map(string)
  default     = {}
}

################################################################################
# Storage
################################################################################

variable "force_destroy_buckets" {
  description = "Let destroy delete buckets that still hold objects (local twin only)."
  type        = bool
  default     = false
}

variable "prevent_destroy_data_buckets" {
  description = "Fail any plan that destroys or replaces the raw, staged or analytics bucket (prod)."
  type        = bool
  default     = false
}

variable "raw_transition_ia_days" {
  description = "Days after which raw objects move to STANDARD_IA (>= 30)."
  type        = number
  default     = 30
}

variable "raw_transition_glacier_days" {
  description = "Days after which raw objects move to GLACIER_IR, Glacier Instant Retrieval (later than raw_transition_ia_days)."
  type        = number
  default     = 90

  validation {
    condition     = var.raw_transition_glacier_days > var.raw_transition_ia_days
    error_message = "raw_transition_glacier_days must be greater than raw_transition_ia_days."
  }
}

variable "noncurrent_version_expiration_days" {
  description = "Days after which noncurrent object versions are deleted."
  type        = number
  default     = 90
}

variable "kms_deletion_window_days" {
  description = "Waiting period (7-30 days) before the lake's KMS key is deleted after a destroy."
  type        = number
  default     = 30
}

################################################################################
# Access
################################################################################

variable "trusted_principal_arns" {
  description = "IAM principals allowed to assume the analyst and lake-admin roles; empty means the account root."
  type        = list(string)
  default     = []
}

variable "lake_admin_arns" {
  description = "Additional Lake Formation administrators (IAM role or user ARNs) besides the lake-admin role and the identity running Terraform."
  type        = list(string)
  default     = []
}

################################################################################
# Glue
################################################################################

variable "glue_worker_type" {
  description = "Glue worker type of every job: G.1X, G.2X, G.4X or G.8X."
  type        = string
  default     = "G.1X"
}

variable "glue_number_of_workers" {
  description = "Number of workers of every Glue job (2-299)."
  type        = number
  default     = 2
}

variable "glue_job_timeout_minutes" {
  description = "Minutes after which a Glue job run is stopped (TIMEOUT)."
  type        = number
  default     = 60
}

variable "workflow_schedule" {
  description = "Glue cron expression that starts the pipeline, e.g. \"cron(0 3 * * ? *)\"; null = on demand only."
  type        = string
  default     = null
}

variable "secret_recovery_window_days" {
  description = "Recovery window of the PII HMAC secret after deletion: 0 or 7-30 days."
  type        = number
  default     = 30
}

################################################################################
# Redshift
################################################################################

variable "create_network" {
  description = "Create a VPC and two subnets for Redshift (local twin); false uses vpc_id and subnet_ids."
  type        = bool
  default     = false
}

variable "vpc_cidr" {
  description = "CIDR of the VPC created when create_network = true."
  type        = string
  default     = "10.42.0.0/16"
}

variable "vpc_id" {
  description = "Existing VPC of the Redshift cluster (create_network = false)."
  type        = string
  default     = null
}

variable "subnet_ids" {
  description = "Existing subnets (two or more AZs) of the Redshift cluster (create_network = false)."
  type        = list(string)
  default     = []
}

variable "allowed_cidrs" {
  description = "CIDR blocks allowed to connect to Redshift on 5439."
  type        = list(string)
  default     = []
}

variable "redshift_node_type" {
  description = "Redshift node type, e.g. ra3.xlplus."
  type        = string
  default     = "ra3.xlplus"
}

variable "redshift_number_of_nodes" {
  description = "Number of Redshift nodes (1 = single-node)."
  type        = number
  default     = 1
}

variable "redshift_database_name" {
  description = "Name of the warehouse database."
  type        = string
  default     = "retail"
}

variable "redshift_master_username" {
  description = "Redshift admin user; its password is managed by Redshift in Secrets Manager."
  type        = string
  default     = "lakeadmin"
}

variable "redshift_snapshot_retention_days" {
  description = "Days automated Redshift snapshots are kept (1-35)."
  type        = number
  default     = 7
}

variable "redshift_maintenance_window" {
  description = "Weekly Redshift maintenance window, lowercase, e.g. \"sun:05:00-sun:05:30\"."
  type        = string
  default     = "sun:05:00-sun:05:30"
}

variable "redshift_deletion_protection" {
  description = "Fail any plan that destroys or replaces the Redshift cluster (prod)."
  type        = bool
  default     = false
}

variable "redshift_final_snapshot" {
  description = "Take a final snapshot when the Redshift cluster is deleted."
  type        = bool
  default     = true
}

variable "redshift_enhanced_vpc_routing" {
  description = "Force Redshift COPY/UNLOAD/Spectrum traffic through the VPC, which then needs endpoints for S3 (gateway) and Glue (interface)."
  type        = bool
  default     = true
}

################################################################################
# Monitoring
################################################################################

variable "alarm_email" {
  description = "E-mail subscribed to the alert topic; null = no subscription."
  type        = string
  default     = null
}

variable "log_retention_days" {
  description = "Retention of every log group, in days (a CloudWatch Logs retention value)."
  type        = number
  default     = 365
}

variable "rows_rejected_threshold" {
  description = "Alarm when a Glue job rejects more rows than this in an hour."
  type        = number
  default     = 0
}
