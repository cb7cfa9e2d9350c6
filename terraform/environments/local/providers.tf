# The local twin: every AWS call goes to the emulator on loopback.
provider "aws" {
  # Credentials: the twin's own random root keys, from AWS_ACCESS_KEY_ID and
  # AWS_SECRET_ACCESS_KEY, which the CLI sets for Terraform (the emulator refuses others).
  region = var.region

  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  skip_requesting_account_id  = false # STS works in the emulator (account 123456789012)
  s3_use_path_style           = true

  # A call the emulator lacks answers HTTP 500 at once: a few retries ride out a busy
  # emulator without retrying an unimplemented call for minutes.
  max_retries = 3

  endpoints {
    cloudtrail     = var.endpoint_url
    cloudwatch     = var.endpoint_url
    ec2            = var.endpoint_url
    events         = var.endpoint_url
    glue           = var.endpoint_url
    iam            = var.endpoint_url
    kms            = var.endpoint_url
    lakeformation  = var.endpoint_url
    logs           = var.endpoint_url
    redshift       = var.endpoint_url
    s3             = var.endpoint_url
    secretsmanager = var.endpoint_url
    sns            = var.endpoint_url
    sts            = var.endpoint_url
  }

  default_tags {
    tags = {
      Twin = "local"
    }
  }
}
