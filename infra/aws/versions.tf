# Tool and provider versions, the state backend, and the provider settings shared by every file.

terraform {
  # OpenTofu 1.9+ and Terraform 1.9+ both read this module; nothing newer is used.
  required_version = ">= 1.9"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.0"
    }
    random = {
      source  = "hashicorp/random"
      version = "~> 3.6"
    }
  }

  # Partial backend: the values are given at init, so no account id or bucket name lives in git.
  # State holds the generated database and Kafka passwords: keep the bucket encrypted with KMS,
  # versioned and private, e.g.
  #   tofu init \
  #     -backend-config="bucket=<state-bucket>" \
  #     -backend-config="key=cloudcommerce/aws.tfstate" \
  #     -backend-config="region=<region>" \
  #     -backend-config="encrypt=true" \
  #     -backend-config="kms_key_id=<state-kms-key-arn>" \
  #     -backend-config="use_lockfile=true"
  backend "s3" {}
}

provider "aws" {
  region = var.aws_region

  default_tags {
    tags = merge({ "app.kubernetes.io/part-of" = var.name }, var.tags)
  }
}
