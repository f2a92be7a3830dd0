# Inputs of the Kafka module: where the brokers are and the cc-admin SCRAM login.

variable "bootstrap_servers" {
  description = "MSK SASL/SCRAM bootstrap brokers, comma-separated: the kafka_bootstrap_servers output of infra/aws."
  type        = string

  validation {
    condition     = alltrue([for b in split(",", var.bootstrap_servers) : can(regex(":9096$", trimspace(b)))])
    error_message = "bootstrap_servers must be the SASL/SCRAM brokers (port 9096), comma-separated."
  }
}

variable "admin_username" {
  description = "SCRAM user that manages topics and ACLs (the AmazonMSK_cloudcommerce_admin secret)."
  type        = string
  default     = "cc-admin"
}

variable "admin_password" {
  description = "Password of admin_username, from the AmazonMSK_cloudcommerce_admin secret (set TF_VAR_admin_password)."
  type        = string
  sensitive   = true
}
