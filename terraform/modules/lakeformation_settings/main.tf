data "aws_caller_identity" "current" {}

# The identity running Terraform must stay a data lake admin, or it cannot grant.
data "aws_iam_session_context" "current" {
  arn = data.aws_caller_identity.current.arn
}

locals {
  admins = distinct(concat(var.admin_arns, [data.aws_iam_session_context.current.issuer_arn]))
}

# Lake Formation only: no create_*_default_permissions blocks, so a database or table created
# after this gets no IAM_ALLOWED_PRINCIPALS grant and the lakeformation module's grants are
# what counts. Hence its own module, which the catalog's waits for: a database created first,
# under the account's default, would keep that grant (and every table in it), and IAM alone
# would govern it.
resource "aws_lakeformation_data_lake_settings" "this" {
  admins = local.admins
}
