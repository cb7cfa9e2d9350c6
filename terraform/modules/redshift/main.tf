locals {
  # Two fixed zones (not a zone lookup) so the created network never shifts when AWS adds a zone.
  availability_zones = length(var.availability_zones) > 0 ? var.availability_zones : [
    "${data.aws_region.current.name}a",
    "${data.aws_region.current.name}b",
  ]

  vpc_id     = var.create_network ? aws_vpc.this[0].id : var.vpc_id
  subnet_ids = var.create_network ? aws_subnet.this[*].id : var.subnet_ids
}

################################################################################
# Network: created only when asked (local twin); otherwise the given VPC/subnets
################################################################################

data "aws_region" "current" {}

resource "aws_vpc" "this" {
  #checkov:skip=CKV2_AWS_11:This VPC exists only for the local twin and sandboxes (create_network); real environments use an existing VPC whose flow logs are managed with it.
  count = var.create_network ? 1 : 0

  cidr_block           = var.vpc_cidr
  enable_dns_support   = true
  enable_dns_hostnames = true

  tags = merge(var.tags, { Name = "${var.name_prefix}-redshift" })
}

resource "aws_default_security_group" "this" {
  count = var.create_network ? 1 : 0

  vpc_id = aws_vpc.this[0].id

  tags = merge(var.tags, { Name = "${var.name_prefix}-default-deny" })
}

resource "aws_subnet" "this" {
  count = var.create_network ? 2 : 0

  vpc_id            = aws_vpc.this[0].id
  cidr_block        = cidrsubnet(var.vpc_cidr, 8, count.index)
  availability_zone = local.availability_zones[count.index]

  tags = merge(var.tags, { Name = "${var.name_prefix}-redshift-${count.index}" })
}

resource "aws_redshift_subnet_group" "this" {
  name        = "${var.name_prefix}-redshift"
  description = "Subnets of the ${var.name_prefix} Redshift cluster"
  subnet_ids  = local.subnet_ids

  tags = var.tags

  lifecycle {
    precondition {
      condition     = var.create_network || (var.vpc_id != null && length(var.subnet_ids) >= 2)
      error_message = "With create_network = false, set vpc_id and at least two subnet_ids."
    }
  }
}

resource "aws_security_group" "this" {
  name        = "${var.name_prefix}-redshift"
  description = "Redshift ${var.cluster_identifier}: 5439 from the allowed CIDRs only"
  vpc_id      = local.vpc_id

  tags = merge(var.tags, { Name = "${var.name_prefix}-redshift" })
}

resource "aws_vpc_security_group_ingress_rule" "this" {
  for_each = toset(var.allowed_cidrs)

  security_group_id = aws_security_group.this.id
  description       = "Redshift from ${each.value}"
  ip_protocol       = "tcp"
  from_port         = 5439
  to_port           = 5439
  cidr_ipv4         = each.value

  tags = var.tags
}

resource "aws_vpc_security_group_egress_rule" "this" {
  security_group_id = aws_security_group.this.id
  description       = "HTTPS to AWS APIs and S3 (Spectrum, COPY, UNLOAD)"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"

  tags = var.tags
}

################################################################################
# Parameters: TLS only, user activity logged
################################################################################

resource "aws_redshift_parameter_group" "this" {
  name        = "${var.name_prefix}-redshift"
  description = "${var.name_prefix}: require_ssl, user activity logging"
  family      = "redshift-1.0"

  parameter {
    name  = "require_ssl"
    value = "true"
  }

  parameter {
    name  = "enable_user_activity_logging"
    value = "true"
  }

  tags = var.tags
}

################################################################################
# Cluster
################################################################################

resource "aws_redshift_cluster" "this" {
  #checkov:skip=CKV_AWS_71:Audit logging is configured with the separate aws_redshift_logging resource (the cluster's logging block is deprecated in provider 5.x).
  cluster_identifier = var.cluster_identifier
  node_type          = var.node_type
  cluster_type       = var.number_of_nodes > 1 ? "multi-node" : "single-node"
  number_of_nodes    = var.number_of_nodes
  database_name      = var.database_name

  master_username                   = var.master_username
  manage_master_password            = true
  master_password_secret_kms_key_id = var.kms_key_arn

  encrypted  = true
  kms_key_id = var.kms_key_arn

  cluster_subnet_group_name    = aws_redshift_subnet_group.this.name
  vpc_security_group_ids       = [aws_security_group.this.id]
  cluster_parameter_group_name = aws_redshift_parameter_group.this.name
  publicly_accessible          = false
  enhanced_vpc_routing         = var.enhanced_vpc_routing

  iam_roles            = [var.spectrum_role_arn]
  default_iam_role_arn = var.spectrum_role_arn

  automated_snapshot_retention_period = var.automated_snapshot_retention_days
  preferred_maintenance_window        = var.preferred_maintenance_window
  allow_version_upgrade               = true

  skip_final_snapshot       = !var.final_snapshot
  final_snapshot_identifier = var.final_snapshot ? "${var.cluster_identifier}-final" : null

  tags = var.tags

  lifecycle {
    precondition {
      condition     = !var.deletion_protection || var.final_snapshot
      error_message = "deletion_protection = true requires final_snapshot = true."
    }
  }
}

# Deletion protection is not an argument of aws_redshift_cluster in provider 5.x;
# it is enforced at plan time instead: a protected cluster cannot be destroyed or replaced.
resource "terraform_data" "deletion_protection" {
  count = var.deletion_protection ? 1 : 0

  triggers_replace = aws_redshift_cluster.this.id

  lifecycle {
    prevent_destroy = true
  }
}

resource "aws_redshift_logging" "this" {
  cluster_identifier   = aws_redshift_cluster.this.cluster_identifier
  log_destination_type = "cloudwatch"
  log_exports          = var.audit_log_exports

  lifecycle {
    precondition {
      condition = alltrue([
        for log in var.audit_log_exports : contains(var.audit_log_group_names, "/aws/redshift/cluster/${var.cluster_identifier}/${log}")
      ])
      error_message = "Every exported audit log needs its log group /aws/redshift/cluster/<cluster>/<log> in audit_log_group_names (created with retention first)."
    }
  }
}
