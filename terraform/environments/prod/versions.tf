terraform {
  # 1.11: the S3 backend's own state lock (use_lockfile, in backend.hcl.example) is GA there
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }

  # Partial configuration: terraform init -backend-config=backend.hcl
  backend "s3" {}
}
