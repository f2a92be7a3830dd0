# Tool and provider versions, the provider configuration and the (partial) remote state backend.

terraform {
  required_version = ">= 1.9"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "~> 7.0"
    }
    random = {
      source  = "hashicorp/random"
      version = "~> 3.6"
    }
  }

  # State holds the database passwords (random_password results and the secret versions), so it
  # lives in a GCS bucket (encrypted at rest, versioned, access limited to the operators), never on
  # a laptop. Partial configuration: the values are given at init, e.g.
  #   tofu init -backend-config="bucket=my-tofu-state" -backend-config="prefix=cloudcommerce/gcp"
  # Add -backend-config="kms_encryption_key=projects/.../cryptoKeys/..." to encrypt it with a CMEK.
  backend "gcs" {}
}

provider "google" {
  project        = var.project_id
  region         = var.region
  default_labels = local.labels
}
