# Key Vault (RBAC, purge protection, firewall + private endpoint) and the five database
# secrets. cc-auth, cc-personal-data and cc-smtp are created by the operator after apply, never by
# Terraform. Purge protection matters most for cc-personal-data: it wraps every user's data key,
# so a purged master key leaves every sealed personal field unreadable.

resource "azurerm_key_vault" "main" {
  # Vault names are global and at most 24 characters.
  name                = "${substr(var.name, 0, 14)}-kv-${random_string.suffix.result}"
  location            = azurerm_resource_group.main.location
  resource_group_name = azurerm_resource_group.main.name
  tenant_id           = data.azurerm_client_config.current.tenant_id
  sku_name            = "standard"
  tags                = var.tags

  rbac_authorization_enabled = true
  purge_protection_enabled   = true
  soft_delete_retention_days = 90

  # checkov:skip=CKV_AZURE_189: the public endpoint stays on for Terraform and operators writing secrets from key_vault_allowed_ip_ranges only (default Deny); the cluster reads through the private endpoint
  public_network_access_enabled = true

  network_acls {
    default_action = "Deny"
    bypass         = "None"
    ip_rules       = var.key_vault_allowed_ip_ranges
  }
}

# The cluster reaches the vault privately: External Secrets' traffic stays in the VNet and the
# firewall never has to know the cluster's egress address.
resource "azurerm_private_endpoint" "key_vault" {
  name                = "${var.name}-kv-pe"
  location            = azurerm_resource_group.main.location
  resource_group_name = azurerm_resource_group.main.name
  subnet_id           = azurerm_subnet.endpoints.id
  tags                = var.tags

  private_service_connection {
    name                           = "${var.name}-kv"
    private_connection_resource_id = azurerm_key_vault.main.id
    subresource_names              = ["vault"]
    is_manual_connection           = false
  }

  private_dns_zone_group {
    name                 = "key-vault"
    private_dns_zone_ids = [azurerm_private_dns_zone.key_vault.id]
  }
}

# Whoever runs Terraform writes the secret values below (and, as operator, cc-auth and
# cc-personal-data).
resource "azurerm_role_assignment" "deployer_secrets_officer" {
  scope                = azurerm_key_vault.main.id
  role_definition_name = "Key Vault Secrets Officer"
  principal_id         = data.azurerm_client_config.current.object_id
}

# Each secret is one JSON object {"username", "password"}, the shape External Secrets expands
# into a kubernetes.io/basic-auth Secret. The admin's is read by the migration Job, which
# creates the four application roles with the other four passwords.

resource "azurerm_key_vault_secret" "db_admin" {
  # checkov:skip=CKV_AZURE_41: Key Vault does not enforce exp on reads, so a date would only go stale; rotation is replacing random_password.db["admin"]
  name         = "cc-db-admin"
  key_vault_id = azurerm_key_vault.main.id
  content_type = "application/json"
  value        = jsonencode({
    username = "cc_admin"
    password = random_password.db["admin"].result
  })

  depends_on = [azurerm_role_assignment.deployer_secrets_officer]
}

resource "azurerm_key_vault_secret" "db_writer" {
  # checkov:skip=CKV_AZURE_41: Key Vault does not enforce exp on reads, so a date would only go stale; rotation is replacing random_password.db["writer"]
  name         = "cc-db-writer"
  key_vault_id = azurerm_key_vault.main.id
  content_type = "application/json"
  value        = jsonencode({
    username = "cc_writer"
    password = random_password.db["writer"].result
  })

  depends_on = [azurerm_role_assignment.deployer_secrets_officer]
}

resource "azurerm_key_vault_secret" "db_projector" {
  # checkov:skip=CKV_AZURE_41: Key Vault does not enforce exp on reads, so a date would only go stale; rotation is replacing random_password.db["projector"]
  name         = "cc-db-projector"
  key_vault_id = azurerm_key_vault.main.id
  content_type = "application/json"
  value        = jsonencode({
    username = "cc_projector"
    password = random_password.db["projector"].result
  })

  depends_on = [azurerm_role_assignment.deployer_secrets_officer]
}

resource "azurerm_key_vault_secret" "db_reader" {
  # checkov:skip=CKV_AZURE_41: Key Vault does not enforce exp on reads, so a date would only go stale; rotation is replacing random_password.db["reader"]
  name         = "cc-db-reader"
  key_vault_id = azurerm_key_vault.main.id
  content_type = "application/json"
  value        = jsonencode({
    username = "cc_reader"
    password = random_password.db["reader"].result
  })

  depends_on = [azurerm_role_assignment.deployer_secrets_officer]
}

resource "azurerm_key_vault_secret" "db_notifier" {
  # checkov:skip=CKV_AZURE_41: Key Vault does not enforce exp on reads, so a date would only go stale; rotation is replacing random_password.db["notifier"]
  name         = "cc-db-notifier"
  key_vault_id = azurerm_key_vault.main.id
  content_type = "application/json"
  value        = jsonencode({
    username = "cc_notifier"
    password = random_password.db["notifier"].result
  })

  depends_on = [azurerm_role_assignment.deployer_secrets_officer]
}
