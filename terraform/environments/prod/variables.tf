variable "region" {
  description = "AWS region of the deployment."
  type        = string
  default     = "us-east-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.region))
    error_message = "region must be an AWS region name such as us-east-1 or eu-west-1."
  }
}

variable "name_prefix" {
  description = "Prefix of every resource name."
  type        = string
}

variable "tags" {
  description = "Extra tags on every resource (e.g. Owner, CostCenter)."
  type        = map(string)
  default     = {}
}

variable "vpc_id" {
  description = "Existing VPC the Redshift cluster lives in."
  type        = string
}

variable "subnet_ids" {
  description = "Existing private subnets (at least two AZs) for the Redshift subnet group."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "subnet_ids must list at least two subnets in different availability zones."
  }
}

variable "allowed_cidrs" {
  description = "CIDR blocks allowed to connect to Redshift on 5439 (VPN, BI tools)."
  type        = list(string)
}

variable "alarm_email" {
  description = "E-mail subscribed to the alert topic; null = none."
  type        = string
  default     = null
}

variable "trusted_principal_arns" {
  description = "IAM principals (e.g. SSO roles) allowed to assume the analyst and lake-admin roles. Required in prod."
  type        = list(string)
  default     = []

  # Trusting the account root would let any principal of the account allowed sts:AssumeRole
  # become a Lake Formation admin, and grant itself the raw customers.
  validation {
    condition     = length(var.trusted_principal_arns) > 0 && alltrue([for arn in var.trusted_principal_arns : !endswith(arn, ":root")])
    error_message = "prod needs trusted_principal_arns in your tfvars: the roles (e.g. SSO roles) that may assume the analyst and lake-admin roles, not the account root."
  }
}

variable "lake_admin_arns" {
  description = "Additional Lake Formation administrators (IAM role or user ARNs)."
  type        = list(string)
  default     = []
}

variable "workflow_schedule" {
  description = "Glue cron expression that starts the pipeline; null = on demand only."
  type        = string
  default     = null
}

variable "glue_worker_type" {
  description = "Glue worker type of every job: G.1X, G.2X, G.4X or G.8X."
  type        = string
}

variable "glue_number_of_workers" {
  description = "Number of workers of every Glue job."
  type        = number
}

variable "redshift_node_type" {
  description = "Redshift node type."
  type        = string
}

variable "redshift_number_of_nodes" {
  description = "Number of Redshift nodes."
  type        = number
}
