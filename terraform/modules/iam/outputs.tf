output "role_arns" {
  description = "Role ARNs by key: glue_crawler, redshift_spectrum, analyst, lake_admin."
  value = {
    glue_crawler      = aws_iam_role.glue_crawler.arn
    redshift_spectrum = aws_iam_role.redshift_spectrum.arn
    analyst           = aws_iam_role.analyst.arn
    lake_admin        = aws_iam_role.lake_admin.arn
  }
}

output "role_names" {
  description = "Role names by key: glue_crawler, job_<job key>, redshift_spectrum, analyst, lake_admin, lf_registration."
  value = merge(
    {
      glue_crawler      = aws_iam_role.glue_crawler.name
      redshift_spectrum = aws_iam_role.redshift_spectrum.name
      analyst           = aws_iam_role.analyst.name
      lake_admin        = aws_iam_role.lake_admin.name
      lf_registration   = aws_iam_role.lf_registration.name
    },
    { for key, role in aws_iam_role.glue_job : "job_${key}" => role.name },
  )
}

output "lf_registration_role_arn" {
  description = "ARN of the role Lake Formation uses to access the registered data locations."
  value       = aws_iam_role.lf_registration.arn
}

output "crawler_role_ready_arn" {
  description = "ARN of the crawlers' role, available only once its policy is attached."
  value       = aws_iam_role.glue_crawler.arn

  depends_on = [aws_iam_role_policy.glue_crawler]
}

output "job_role_ready_arns" {
  description = "The jobs' role ARNs by job key, available only once their policies are attached."
  value       = { for key, role in aws_iam_role.glue_job : key => role.arn }

  depends_on = [aws_iam_role_policy.glue_job]
}
