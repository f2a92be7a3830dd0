# Tool and provider versions, the state backend, and the Kafka admin connection to MSK.

terraform {
  required_version = ">= 1.9"

  required_providers {
    kafka = {
      source  = "Mongey/kafka"
      version = "~> 0.8"
    }
  }

  # Partial backend, values given at init (see ../versions.tf); use another key than the root
  # module's, e.g. -backend-config="key=cloudcommerce/aws-kafka.tfstate".
  backend "s3" {}
}

# SASL/SCRAM-SHA-512 over TLS on MSK's 9096 listener, as cc-admin. The brokers' certificates
# chain to a public CA, so the system trust store verifies them.
provider "kafka" {
  bootstrap_servers = split(",", var.bootstrap_servers)
  tls_enabled       = true
  sasl_mechanism    = "scram-sha512"
  sasl_username     = var.admin_username
  sasl_password     = var.admin_password
}
