terraform {
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }

  # The retailake CLI passes -backend-config=path=<abs path under .retailake/local/> at init.
  backend "local" {}
}
