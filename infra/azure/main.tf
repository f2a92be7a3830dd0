# The resource group, the caller's identity, the shared name suffix and the address plan.

data "azurerm_client_config" "current" {}

resource "azurerm_resource_group" "main" {
  name     = "${var.name}-rg"
  location = var.location
  tags     = var.tags
}

# Key Vault and PostgreSQL names are global DNS labels; the suffix keeps two environments
# (or a re-create while the old vault sits soft-deleted) from colliding.
resource "random_string" "suffix" {
  length  = 6
  lower   = true
  upper   = false
  numeric = true
  special = false
}

locals {
  nodes_cidr     = cidrsubnet(var.address_space, 4, 0)  # x.x.0.0/20: nodes only, pods use the overlay
  postgres_cidr  = cidrsubnet(var.address_space, 8, 16) # x.x.16.0/24
  gateway_cidr   = cidrsubnet(var.address_space, 8, 17) # x.x.17.0/24: AGC needs a whole /24
  endpoints_cidr = cidrsubnet(var.address_space, 8, 18) # x.x.18.0/24: private endpoints

  # Overlay ranges are never routed in the VNet, but must not overlap it or anything peered.
  pod_cidr       = "192.168.0.0/16"
  service_cidr   = "172.16.0.0/16"
  dns_service_ip = "172.16.0.10"

  zones = ["1", "2", "3"]
}
