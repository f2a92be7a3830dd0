# Inputs of the GCP root module (defaults sized for production) and the values derived from them.

variable "project_id" {
  description = "ID of the Google Cloud project everything is created in."
  type        = string
}

variable "region" {
  description = "Region of the VPC subnet, the regional GKE cluster and the Cloud SQL instance."
  type        = string
  default     = "europe-west1"
}

variable "zones" {
  description = "The three zones of var.region the nodes run in (change them together with the region)."
  type        = list(string)
  default     = ["europe-west1-b", "europe-west1-c", "europe-west1-d"]

  validation {
    condition     = length(var.zones) == 3 && length(distinct(var.zones)) == 3
    error_message = "Give exactly three distinct zones: Kafka, the APIs and the PDBs spread over three."
  }
}

variable "name" {
  description = "Prefix of every resource name."
  type        = string
  default     = "cloudcommerce"

  validation {
    # Service account IDs (name + "-nodes") must stay within 30 characters.
    condition     = can(regex("^[a-z][a-z0-9-]{2,22}[a-z0-9]$", var.name))
    error_message = "Use 4 to 24 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "labels" {
  description = "Extra labels put on every resource that takes labels."
  type        = map(string)
  default     = {}
}

variable "public_hostname" {
  description = "Public DNS name the Gateway serves (e.g. shop.example.com); passed to the overlay."
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

variable "subnet_cidr" {
  description = "Primary range of the node subnet."
  type        = string
  default     = "10.10.0.0/20"
}

variable "pods_cidr" {
  description = "Secondary range of the subnet for pod IPs (a /24 per node at 110 pods per node)."
  type        = string
  default     = "10.16.0.0/14"
}

variable "services_cidr" {
  description = "Secondary range of the subnet for ClusterIP Services."
  type        = string
  default     = "10.20.0.0/20"
}

variable "master_ipv4_cidr" {
  description = "The /28 the GKE control plane's private endpoint gets; must not overlap the other ranges."
  type        = string
  default     = "172.16.0.0/28"
}

variable "private_services_address" {
  description = "First address of the range reserved for Private Services Access (Cloud SQL private IPs)."
  type        = string
  default     = "10.60.0.0"
}

variable "private_services_prefix_length" {
  description = "Prefix length of the Private Services Access range."
  type        = number
  default     = 16
}

variable "master_authorized_networks" {
  description = "CIDR blocks allowed to reach the cluster's public control-plane endpoint (CI runners, admin VPN). Empty: none."
  default     = []

  type = list(object({
    cidr_block   = string
    display_name = string
  }))
}

variable "master_webhook_ports" {
  description = "Node ports the control plane may call besides 443 and 10250: KEDA's metrics API server (6443) and operator admission webhooks (9443)."
  type        = list(string)
  default     = ["6443", "9443"]
}

variable "gke_gateway_api_channel" {
  description = "GKE-managed Gateway API CRDs: CHANNEL_DISABLED while Envoy Gateway installs its own; CHANNEL_STANDARD only for GKE's Gateway classes."
  type        = string
  default     = "CHANNEL_DISABLED"

  validation {
    condition     = contains(["CHANNEL_DISABLED", "CHANNEL_STANDARD"], var.gke_gateway_api_channel)
    error_message = "Use CHANNEL_DISABLED or CHANNEL_STANDARD."
  }
}

variable "node_machine_type" {
  description = "Machine type of the node pool (Kafka brokers, the three services and the operators share it)."
  type        = string
  default     = "n2-standard-4"
}

variable "node_disk_size_gb" {
  description = "Boot disk size of each node in GB."
  type        = number
  default     = 100
}

variable "node_min_per_zone" {
  description = "Minimum nodes per zone (the autoscaler never goes below it)."
  type        = number
  default     = 1
}

variable "node_max_per_zone" {
  description = "Maximum nodes per zone."
  type        = number
  default     = 5
}

variable "database_tier" {
  description = "Cloud SQL machine tier (Enterprise edition: db-custom-<vCPU>-<MB>)."
  type        = string
  default     = "db-custom-2-8192"
}

variable "database_disk_size_gb" {
  description = "Initial SSD size of the Cloud SQL instance in GB; it grows automatically."
  type        = number
  default     = 50
}

variable "database_max_connections" {
  description = "PostgreSQL max_connections: command-api 12 x 16 + query-api 24 x 10 + projector 6 x 4 at the autoscaling maxima, plus headroom."
  type        = number
  default     = 600
}

locals {
  labels = merge({ part-of = "cloudcommerce", managed-by = "opentofu" }, var.labels)
}
