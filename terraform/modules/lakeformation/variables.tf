variable "data_location_arns" {
  description = "S3 ARNs of the data buckets to register with Lake Formation, by layer; must hold raw, staged and analytics."
  type        = map(string)

  validation {
    condition     = alltrue([for key in ["raw", "staged", "analytics"] : contains(keys(var.data_location_arns), key)])
    error_message = "data_location_arns must hold the keys raw, staged and analytics."
  }
}

variable "glue_database_names" {
  description = "Glue catalog database names by layer; must hold raw, staged and analytics."
  type        = map(string)

  validation {
    condition     = alltrue([for key in ["raw", "staged", "analytics"] : contains(keys(var.glue_database_names), key)])
    error_message = "glue_database_names must hold the keys raw, staged and analytics."
  }
}

variable "staged_customers_table_name" {
  description = "Name of the staged customers table in the staged database (column-level grant to analysts)."
  type        = string
  default     = "customers"
}

variable "pii_hash_columns" {
  description = "Columns of the staged customers table analysts must not see (keyed hashes of PII)."
  type        = list(string)
  default     = ["email_hash", "phone_hash"]
}

variable "registration_role_arn" {
  description = "Role Lake Formation assumes to access the registered data locations."
  type        = string
}

variable "crawler_role_arn" {
  description = "The Glue crawlers' role: cataloging rights on the raw database and data location (the jobs keep the staged and analytics tables)."
  type        = string
}

variable "redshift_role_arn" {
  description = "Redshift Spectrum role: read on the analytics database."
  type        = string
}

variable "analyst_role_arn" {
  description = "Analyst role: read on analytics, column-restricted read on staged customers."
  type        = string
}

variable "job_catalog" {
  description = "Per Glue job (by key): its role ARN, and the catalog tables it writes (creates, alters, repartitions) and reads, by layer (keys of glue_database_names). A job owns the tables it creates; a table declared beforehand (staged customers) is granted to its writer here."
  type = map(object({
    role_arn     = string
    read_tables  = map(list(string))
    write_tables = map(list(string))
  }))
}
