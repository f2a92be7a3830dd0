# Inputs: names, region, address plan, cluster and database sizes, who may reach what.

variable "name" {
  description = "Prefix of every resource name (lowercase letters, digits and hyphens)."
  type        = string
  default     = "cloudcommerce"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,20}$", var.name))
    error_message = "name must be 2-21 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "subscription_id" {
  description = "Azure subscription to deploy into; null reads ARM_SUBSCRIPTION_ID."
  type        = string
  default     = null
}

variable "location" {
  description = "Azure region; it must offer three availability zones and zone-redundant PostgreSQL HA."
  type        = string
  default     = "westeurope"
}

variable "tags" {
  description = "Tags added to every resource that takes them."
  type        = map(string)
  default     = {}
}

variable "public_hostname" {
  description = "Public DNS name the application is served under (passed through to the overlay)."
  type        = string
}

variable "mail_domain" {
  description = "The domain the notifier mails from (no-reply@<mail_domain>), e.g. shop.example: one the SMTP relay in the secret cc-smtp may send from (SendGrid: an authenticated domain)."
  type        = string

  validation {
    condition     = can(regex("^([a-z0-9]([a-z0-9-]*[a-z0-9])?\\.)+[a-z]{2,}$", var.mail_domain))
    error_message = "mail_domain must be a lower-case DNS name such as shop.example."
  }
}

variable "site_url" {
  description = "The shop's site, where the mails' links lead (/verify-email, /reset-password), e.g. https://shop.example; passed through to the overlay."
  type        = string

  validation {
    condition     = can(regex("^https://[a-z0-9.-]+(:[0-9]+)?(/[^?#]*)?$", var.site_url))
    error_message = "site_url must be an https:// URL without query or fragment, such as https://shop.example."
  }
}

variable "address_space" {
  description = "VNet range (/16); subnets are carved from it: nodes /20, PostgreSQL, gateway and endpoints /24 each."
  type        = string
  default     = "10.40.0.0/16"

  validation {
    condition     = can(cidrhost(var.address_space, 0)) && endswith(var.address_space, "/16")
    error_message = "address_space must be an IPv4 /16."
  }
}

variable "kubernetes_version" {
  description = "AKS minor version (no patch: the patch upgrade channel moves patches)."
  type        = string
  default     = "1.33"
}

variable "private_cluster_enabled" {
  description = "Expose the Kubernetes API on a private IP only. Then CI must run inside the VNet (or use az aks command invoke)."
  type        = bool
  default     = false
}

# No default: who may reach the API is a decision per installation (set [] with a private cluster).
variable "api_server_authorized_ip_ranges" {
  description = "CIDRs allowed to reach the public API server (operators, CI egress); [] only with private_cluster_enabled."
  type        = list(string)
}

variable "cluster_admin_principal_ids" {
  description = "Entra object IDs (users or groups) made Kubernetes cluster admins through Azure RBAC."
  type        = list(string)
  default     = []
}

variable "system_node_vm_size" {
  description = "VM size of the system pool (needs a local temp disk of at least 128 GiB for the ephemeral OS disk)."
  type        = string
  default     = "Standard_D4ds_v5"
}

variable "system_node_min_count" {
  description = "Minimum nodes of the system pool (spread over three zones)."
  type        = number
  default     = 3
}

variable "system_node_max_count" {
  description = "Maximum nodes of the system pool."
  type        = number
  default     = 6
}

variable "app_node_vm_size" {
  description = "VM size of the workload pools (application, Kafka, operators)."
  type        = string
  default     = "Standard_D8ds_v5"
}

variable "app_node_min_count_per_zone" {
  description = "Minimum nodes of each per-zone workload pool."
  type        = number
  default     = 1
}

variable "app_node_max_count_per_zone" {
  description = "Maximum nodes of each per-zone workload pool."
  type        = number
  default     = 5
}

variable "disk_encryption_set_id" {
  description = "Optional Disk Encryption Set for customer-managed keys on node and persistent disks; null keeps platform-managed keys."
  type        = string
  default     = null
}

variable "postgres_sku_name" {
  description = "Flexible Server compute SKU (General Purpose or Memory Optimized: Burstable has no HA)."
  type        = string
  default     = "GP_Standard_D4ds_v5"
}

variable "postgres_storage_mb" {
  description = "Initial Flexible Server storage in MB; it grows automatically."
  type        = number
  default     = 131072
}

# No default: Terraform itself writes the secrets, so its own address must be here (or [] when
# it runs inside the VNet and reaches the vault through the private endpoint).
variable "key_vault_allowed_ip_ranges" {
  description = "Public IPv4 addresses or CIDRs allowed through the Key Vault firewall: where Terraform runs and operators set cc-auth and cc-personal-data from."
  type        = list(string)
}

variable "log_retention_days" {
  description = "Retention of the Log Analytics workspace (container insights, Defender)."
  type        = number
  default     = 30
}
