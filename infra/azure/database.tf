# PostgreSQL Flexible Server 17: VNet-integrated (no public address), zone-redundant HA,
# 14 days of point-in-time restore, geo-redundant backups, TLS enforced, delete-locked.

# The admin's and the four application roles' passwords. Letters, digits and the URL-unreserved
# "-_.~" only: the pods build a connection URL from them, which then needs no escaping.
resource "random_password" "db" {
  for_each = toset(["admin", "writer", "projector", "reader", "notifier"])

  length           = 32
  special          = true
  override_special = "-_.~"
  min_lower        = 2
  min_upper        = 2
  min_numeric      = 2
}

resource "azurerm_postgresql_flexible_server" "main" {
  name                = "${var.name}-pg-${random_string.suffix.result}"
  location            = azurerm_resource_group.main.location
  resource_group_name = azurerm_resource_group.main.name
  version             = "17"
  sku_name            = var.postgres_sku_name
  storage_mb          = var.postgres_storage_mb
  auto_grow_enabled   = true
  zone                = "1"
  tags                = var.tags

  # checkov:skip=CKV2_AZURE_57: VNet-integrated server (delegated subnet, private DNS); private endpoints exist only for public-access-mode servers, and this one has no public endpoint at all
  delegated_subnet_id           = azurerm_subnet.postgres.id
  private_dns_zone_id           = azurerm_private_dns_zone.postgres.id
  public_network_access_enabled = false

  administrator_login    = "cc_admin"
  administrator_password = random_password.db["admin"].result

  authentication {
    password_auth_enabled         = true
    active_directory_auth_enabled = false
  }

  high_availability {
    mode                      = "ZoneRedundant"
    standby_availability_zone = "2"
  }

  backup_retention_days        = 14
  geo_redundant_backup_enabled = true

  maintenance_window {
    day_of_week  = 0
    start_hour   = 3
    start_minute = 0
  }

  lifecycle {
    prevent_destroy = true
    # After a failover the standby's zone is the primary's: do not fail back on the next apply.
    ignore_changes = [zone, high_availability[0].standby_availability_zone]
  }

  # The server registers its A record in the zone, which must already be linked to the VNet.
  depends_on = [
    azurerm_private_dns_zone_virtual_network_link.postgres,
    azurerm_subnet_network_security_group_association.postgres,
  ]
}

resource "azurerm_postgresql_flexible_server_database" "cloudcommerce" {
  name      = "cloudcommerce"
  server_id = azurerm_postgresql_flexible_server.main.id
  charset   = "UTF8"
  collation = "en_US.utf8"

  lifecycle {
    prevent_destroy = true
  }
}

# Deletion protection outside Terraform too (portal, CLI, a different state): Azure refuses to
# delete the server until this lock is removed.
resource "azurerm_management_lock" "postgres" {
  name       = "${var.name}-pg-no-delete"
  scope      = azurerm_postgresql_flexible_server.main.id
  lock_level = "CanNotDelete"
  notes      = "Holds the event store. Remove this lock deliberately before deleting the server."
}

resource "azurerm_postgresql_flexible_server_configuration" "require_secure_transport" {
  name      = "require_secure_transport"
  server_id = azurerm_postgresql_flexible_server.main.id
  value     = "on"
}

resource "azurerm_postgresql_flexible_server_configuration" "ssl_min_protocol_version" {
  name      = "ssl_min_protocol_version"
  server_id = azurerm_postgresql_flexible_server.main.id
  value     = "TLSv1.2"
}

resource "azurerm_postgresql_flexible_server_configuration" "log_connections" {
  name      = "log_connections"
  server_id = azurerm_postgresql_flexible_server.main.id
  value     = "on"
}

resource "azurerm_postgresql_flexible_server_configuration" "log_disconnections" {
  name      = "log_disconnections"
  server_id = azurerm_postgresql_flexible_server.main.id
  value     = "on"
}

resource "azurerm_postgresql_flexible_server_configuration" "log_checkpoints" {
  name      = "log_checkpoints"
  server_id = azurerm_postgresql_flexible_server.main.id
  value     = "on"
}
