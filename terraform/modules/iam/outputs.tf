output "role_arns" {
  description = "Role ARNs by key: glue, redshift_spectrum, analyst, lake_admin."
  value = {
    glue              = aws_iam_role.glue.arn
    redshift_spectrum = aws_iam_role.redshift_spectrum.arn
    analyst           = aws_iam_role.analyst.arn
    lake_admin        = aws_iam_role.lake_admin.arn
  }
}

output "role_names" {
  description = "Role names by key: glue, redshift_spectrum, analyst, lake_admin, lf_registration."
  value = {
    glue              = aws_iam_role.glue.name
    redshift_spectrum = aws_iam_role.redshift_spectrum.name
    analyst           = aws_iam_role.analyst.name
    lake_admin        = aws_iam_role.lake_admin.name
    lf_registration   = aws_iam_role.lf_registration.name
  }
}

output "lf_registration_role_arn" {
  description = "ARN of the role Lake Formation uses to access the registered data locations."
  value       = aws_iam_role.lf_registration.arn
}

output "glue_role_ready_arn" {
  description = "ARN of the Glue role, available only once its policies are attached (use it for crawlers and jobs)."
  value       = aws_iam_role.glue.arn

  depends_on = [aws_iam_role_policy.glue]
}
