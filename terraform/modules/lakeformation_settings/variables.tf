variable "admin_arns" {
  description = "Data lake administrators (IAM role or user ARNs), e.g. the lake-admin role; the identity running Terraform is always added so it can grant."
  type        = list(string)

  validation {
    condition     = alltrue([for arn in var.admin_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:(role|user)/", arn))])
    error_message = "admin_arns must be IAM role or user ARNs (arn:aws:iam::<account>:role/... or :user/...)."
  }
}
