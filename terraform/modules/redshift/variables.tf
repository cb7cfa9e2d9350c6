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

variable "cluster_identifier" {
  description = "Identifier of the Redshift cluster (lowercase letters, digits, hyphens)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,62}$", var.cluster_identifier)) && !strcontains(var.cluster_identifier, "--") && !endswith(var.cluster_identifier, "-")
    error_message = "cluster_identifier must be 1-63 lowercase letters, digits or single hyphens, start with a letter and not end with a hyphen."
  }
}

variable "create_network" {
  description = "Create a VPC with two private subnets for the cluster (local twin and sandboxes). false uses vpc_id and subnet_ids."
  type        = bool
  default     = false
}

variable "vpc_cidr" {
  description = "CIDR of the VPC created when create_network = true."
  type        = string
  default     = "10.42.0.0/16"

  validation {
    condition     = can(cidrnetmask(var.vpc_cidr))
    error_message = "vpc_cidr must be an IPv4 CIDR block such as 10.42.0.0/16."
  }
}

variable "availability_zones" {
  description = "Two availability zones for the subnets created when create_network = true; empty means <region>a and <region>b."
  type        = list(string)
  default     = []

  validation {
    condition     = length(var.availability_zones) == 0 || length(var.availability_zones) == 2
    error_message = "availability_zones must be empty or list exactly two zones, e.g. [\"us-east-1a\", \"us-east-1b\"]."
  }
}

variable "vpc_id" {
  description = "Existing VPC of the cluster (required when create_network = false)."
  type        = string
  default     = null

  validation {
    condition     = var.vpc_id == null || can(regex("^vpc-[0-9a-f]+$", var.vpc_id))
    error_message = "vpc_id must be null or a VPC id such as vpc-0123456789abcdef0."
  }
}

variable "subnet_ids" {
  description = "Existing subnets of the cluster's subnet group, in at least two AZs (required when create_network = false)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for id in var.subnet_ids : can(regex("^subnet-[0-9a-f]+$", id))])
    error_message = "subnet_ids must be subnet ids such as subnet-0123456789abcdef0."
  }
}

variable "allowed_cidrs" {
  description = "CIDR blocks allowed to reach the cluster on port 5439 (never 0.0.0.0/0)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for cidr in var.allowed_cidrs : can(cidrnetmask(cidr)) && cidr != "0.0.0.0/0"])
    error_message = "allowed_cidrs must be IPv4 CIDR blocks other than 0.0.0.0/0."
  }
}

variable "node_type" {
  description = "Redshift node type."
  type        = string
  default     = "ra3.xlplus"

  validation {
    condition     = contains(["ra3.large", "ra3.xlplus", "ra3.4xlarge", "ra3.16xlarge", "dc2.large", "dc2.8xlarge"], var.node_type)
    error_message = "node_type must be one of ra3.large, ra3.xlplus, ra3.4xlarge, ra3.16xlarge, dc2.large, dc2.8xlarge."
  }
}

variable "number_of_nodes" {
  description = "Number of nodes; 1 makes a single-node cluster."
  type        = number
  default     = 1

  validation {
    condition     = var.number_of_nodes >= 1 && var.number_of_nodes <= 128 && floor(var.number_of_nodes) == var.number_of_nodes
    error_message = "number_of_nodes must be a whole number between 1 and 128."
  }
}

variable "database_name" {
  description = "Name of the first database of the cluster."
  type        = string
  default     = "retail"

  validation {
    condition     = can(regex("^[a-z][a-z0-9_]{0,63}$", var.database_name))
    error_message = "database_name must be 1-64 lowercase letters, digits or underscores starting with a letter."
  }
}

variable "master_username" {
  description = "Admin user name; its password is generated and kept in Secrets Manager by Redshift (manage_master_password), never in Terraform state."
  type        = string
  default     = "lakeadmin"

  validation {
    condition     = can(regex("^[a-z][a-z0-9_]{0,126}$", var.master_username)) && !contains(["admin", "rdsadmin", "public", "user"], var.master_username)
    error_message = "master_username must be lowercase letters, digits or underscores starting with a letter, and not a reserved name (admin, rdsadmin, public, user)."
  }
}

variable "kms_key_arn" {
  description = "ARN of the lake's customer-managed KMS key (cluster storage and the master password secret)."
  type        = string
}

variable "spectrum_role_arn" {
  description = "Redshift Spectrum role attached to the cluster (and made its default IAM role)."
  type        = string
}

variable "automated_snapshot_retention_days" {
  description = "Days automated snapshots are kept (1-35)."
  type        = number
  default     = 7

  validation {
    condition     = var.automated_snapshot_retention_days >= 1 && var.automated_snapshot_retention_days <= 35
    error_message = "automated_snapshot_retention_days must be between 1 and 35."
  }
}

variable "preferred_maintenance_window" {
  description = "Weekly maintenance window in UTC, lowercase ddd:hh24:mi-ddd:hh24:mi (Redshift reports it lowercase; an uppercase value shows a diff on every plan)."
  type        = string
  default     = "sun:05:00-sun:05:30"

  validation {
    condition     = can(regex("^(mon|tue|wed|thu|fri|sat|sun):[0-2][0-9]:[0-5][0-9]-(mon|tue|wed|thu|fri|sat|sun):[0-2][0-9]:[0-5][0-9]$", var.preferred_maintenance_window))
    error_message = "preferred_maintenance_window must be lowercase ddd:hh24:mi-ddd:hh24:mi with days mon, tue, wed, thu, fri, sat or sun, e.g. \"sun:05:00-sun:05:30\"."
  }
}

variable "deletion_protection" {
  description = "Refuse to delete the cluster (prod: true)."
  type        = bool
  default     = false
}

variable "final_snapshot" {
  description = "Take a final snapshot when the cluster is deleted (prod: true)."
  type        = bool
  default     = true
}

variable "enhanced_vpc_routing" {
  description = "Route COPY/UNLOAD/Spectrum traffic through the VPC: the VPC then needs endpoints for S3 (gateway) and Glue (interface), or Spectrum queries fail."
  type        = bool
  default     = true
}

variable "audit_log_exports" {
  description = "Audit logs Redshift exports to CloudWatch Logs."
  type        = list(string)
  default     = ["connectionlog", "useractivitylog", "userlog"]

  validation {
    condition     = alltrue([for log in var.audit_log_exports : contains(["connectionlog", "useractivitylog", "userlog"], log)])
    error_message = "audit_log_exports may hold connectionlog, useractivitylog and userlog."
  }
}

variable "audit_log_group_names" {
  description = "Pre-created CloudWatch log groups (/aws/redshift/cluster/<id>/<log>) for the exported audit logs; logging is enabled only once they exist, so Redshift does not create them without retention."
  type        = list(string)
  default     = []
}
