# Inputs of the AWS root module. Defaults are production-sized; a staging copy lowers the sizes.

variable "name" {
  description = "Prefix of every resource name (the Secrets Manager names are fixed: the overlay reads them)."
  type        = string
  default     = "cloudcommerce"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}$", var.name))
    error_message = "name: lower-case letters, digits and dashes, 2 to 31 characters, starting with a letter."
  }
}

variable "aws_region" {
  description = "AWS region of every resource, e.g. eu-west-1."
  type        = string
}

variable "public_hostname" {
  description = "The API's public DNS name (e.g. api.shop.example), passed through to the overlay."
  type        = string

  validation {
    condition     = can(regex("^([a-z0-9]([a-z0-9-]*[a-z0-9])?\\.)+[a-z]{2,}$", var.public_hostname))
    error_message = "public_hostname must be a lower-case DNS name such as api.shop.example."
  }
}

variable "mail_domain" {
  description = "The domain the notifier mails from (no-reply@<mail_domain>), verified in SES by DKIM records you add to its DNS, e.g. shop.example."
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

variable "tags" {
  description = "Extra tags on every resource (cost centre, environment, owner)."
  type        = map(string)
  default     = {}
}

# --- network -------------------------------------------------------------------------------------

variable "vpc_cidr" {
  description = "VPC address range; a /16 leaves each zone a /18 of node and pod addresses (the VPC CNI gives pods VPC addresses)."
  type        = string
  default     = "10.40.0.0/16"

  validation {
    condition     = can(cidrnetmask(var.vpc_cidr)) && tonumber(split("/", var.vpc_cidr)[1]) <= 16
    error_message = "vpc_cidr must be an IPv4 CIDR of /16 or larger."
  }
}

variable "availability_zone_suffixes" {
  description = "The three zones, as suffixes of the region name (a, b, c give eu-west-1a, eu-west-1b, eu-west-1c)."
  type        = list(string)
  default     = ["a", "b", "c"]

  validation {
    condition     = length(distinct(var.availability_zone_suffixes)) == 3
    error_message = "availability_zone_suffixes must name exactly three distinct zones."
  }
}

variable "single_nat_gateway" {
  description = "One NAT gateway for all zones instead of one per zone: cheaper, but a zone outage cuts egress for the others."
  type        = bool
  default     = false
}

variable "log_retention_days" {
  description = "Retention of the CloudWatch log groups (flow logs, EKS control plane, RDS, MSK brokers)."
  type        = number
  default     = 365
}

# --- Kubernetes ----------------------------------------------------------------------------------

variable "kubernetes_version" {
  description = "EKS Kubernetes version; the manifests need 1.33 or later."
  type        = string
  default     = "1.33"
}

variable "cluster_endpoint_public_access" {
  description = "Open the EKS API endpoint to the internet, for cluster_public_access_cidrs only. Off (the default), the API is reachable from the VPC alone (bastion, VPN, CI runner)."
  type        = bool
  default     = false
}

variable "cluster_public_access_cidrs" {
  description = "CIDRs allowed to reach the public EKS endpoint (operators' networks)."
  type        = list(string)
  default     = []

  validation {
    condition     = !contains(var.cluster_public_access_cidrs, "0.0.0.0/0")
    error_message = "cluster_public_access_cidrs must not contain 0.0.0.0/0: name the operators' networks."
  }
}

variable "cluster_admin_principal_arns" {
  description = "IAM role or user ARNs given cluster-admin through EKS access entries, besides the identity that creates the cluster."
  type        = list(string)
  default     = []
}

variable "node_instance_types" {
  description = "Instance types of the managed node groups (x86_64, AL2023)."
  type        = list(string)
  default     = ["m7i.large", "m6i.large"]
}

variable "nodes_per_zone" {
  description = "Size of each zone's node group: min, desired and max."
  type = object({
    min     = number
    desired = number
    max     = number
  })
  default = {
    min     = 1
    desired = 2
    max     = 4
  }
}

variable "node_disk_size_gib" {
  description = "Root volume size of each node."
  type        = number
  default     = 50
}

variable "enable_pod_identity_agent" {
  description = "Install the eks-pod-identity-agent addon (this module uses IRSA, so it is optional)."
  type        = bool
  default     = false
}

# --- PostgreSQL ----------------------------------------------------------------------------------

variable "db_instance_class" {
  description = "RDS instance class of the PostgreSQL primary (and its Multi-AZ standby)."
  type        = string
  default     = "db.m7g.large"
}

variable "db_allocated_storage_gib" {
  description = "Initial gp3 storage of the database."
  type        = number
  default     = 100
}

variable "db_max_allocated_storage_gib" {
  description = "Ceiling for RDS storage autoscaling."
  type        = number
  default     = 1000
}

variable "db_monitoring_interval" {
  description = "Enhanced monitoring interval in seconds (0 turns it off; 1, 5, 10, 15, 30 or 60)."
  type        = number
  default     = 60

  validation {
    condition     = contains([0, 1, 5, 10, 15, 30, 60], var.db_monitoring_interval)
    error_message = "db_monitoring_interval must be one of 0, 1, 5, 10, 15, 30, 60."
  }
}

# --- Kafka ---------------------------------------------------------------------------------------

variable "kafka_instance_type" {
  description = "MSK broker instance type."
  type        = string
  default     = "kafka.m7g.large"
}

variable "kafka_volume_size_gib" {
  description = "EBS storage per broker; the event topics keep every event (retention -1), so size for growth."
  type        = number
  default     = 500
}

variable "kafka_acls_ready" {
  description = "false on the first apply (MSK default configuration, so cc-admin can create the first ACLs); set true once infra/aws/kafka has been applied, to switch the brokers to the hardened configuration (allow.everyone.if.no.acl.found=false)."
  type        = bool
  default     = false
}

# --- secrets -------------------------------------------------------------------------------------

variable "secret_recovery_window_days" {
  description = "Days a deleted secret can still be restored."
  type        = number
  default     = 30

  validation {
    condition     = var.secret_recovery_window_days >= 7 && var.secret_recovery_window_days <= 30
    error_message = "secret_recovery_window_days must be between 7 and 30."
  }
}
