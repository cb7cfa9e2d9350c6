variable "endpoint_url" {
  description = "URL of the AWS emulator every service endpoint points at (the retailake CLI passes it from RETAILAKE_LOCAL_PORT)."
  type        = string
  default     = "http://127.0.0.1:4599"

  validation {
    condition     = can(regex("^https?://[^/]+$", var.endpoint_url))
    error_message = "endpoint_url must be an http(s) URL with no path, e.g. http://127.0.0.1:4599."
  }
}

variable "region" {
  description = "Region the emulator serves (the local twin always uses us-east-1)."
  type        = string
  default     = "us-east-1"
}

variable "name_prefix" {
  description = "Prefix of every resource name."
  type        = string
  default     = "retailake-local"
}

variable "tags" {
  description = "Extra tags on every resource."
  type        = map(string)
  default     = {}
}

variable "alarm_email" {
  description = "E-mail subscribed to the alert topic; null = none."
  type        = string
  default     = null
}
