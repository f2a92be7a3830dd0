# Managed identities and role assignments: the cluster's control plane, External Secrets
# Operator (reads exactly the application's secrets), the ALB controller, cluster admins.

# A user-assigned control-plane identity can be granted rights on the subnet before the
# cluster exists; a system-assigned one would only exist after.
resource "azurerm_user_assigned_identity" "cluster" {
  name                = "${var.name}-aks"
  location            = azurerm_resource_group.main.location
  resource_group_name = azurerm_resource_group.main.name
  tags                = var.tags
}

resource "azurerm_role_assignment" "cluster_network" {
  scope                = azurerm_subnet.nodes.id
  role_definition_name = "Network Contributor"
  principal_id         = azurerm_user_assigned_identity.cluster.principal_id
}

# External Secrets Operator: its SecretStore authenticates as the ServiceAccount
# cc-external-secrets in namespace cloudcommerce, exchanged for this identity's token.
resource "azurerm_user_assigned_identity" "external_secrets" {
  name                = "${var.name}-external-secrets"
  location            = azurerm_resource_group.main.location
  resource_group_name = azurerm_resource_group.main.name
  tags                = var.tags
}

resource "azurerm_federated_identity_credential" "external_secrets" {
  name                      = "cc-external-secrets"
  user_assigned_identity_id = azurerm_user_assigned_identity.external_secrets.id
  issuer                    = azurerm_kubernetes_cluster.main.oidc_issuer_url
  subject                   = "system:serviceaccount:cloudcommerce:cc-external-secrets"
  audience                  = ["api://AzureADTokenExchange"]
}

# Least privilege: "Key Vault Secrets User" on each application secret, not on the vault, so
# anything else stored there later stays unreadable to the cluster. cc-auth, cc-personal-data and
# cc-smtp are scoped by name because the operator creates them after apply.
resource "azurerm_role_assignment" "external_secrets" {
  for_each = toset([
    "cc-db-admin",
    "cc-db-writer",
    "cc-db-projector",
    "cc-db-reader",
    "cc-db-notifier",
    "cc-auth",
    "cc-personal-data",
    "cc-smtp",
  ])

  scope                = "${azurerm_key_vault.main.id}/secrets/${each.key}"
  role_definition_name = "Key Vault Secrets User"
  principal_id         = azurerm_user_assigned_identity.external_secrets.principal_id
  principal_type       = "ServicePrincipal"

  depends_on = [
    azurerm_key_vault_secret.db_admin,
    azurerm_key_vault_secret.db_writer,
    azurerm_key_vault_secret.db_projector,
    azurerm_key_vault_secret.db_reader,
    azurerm_key_vault_secret.db_notifier,
  ]
}

# ALB controller of Application Gateway for Containers ("managed by ALB controller" mode: it
# creates the gateway in the cluster's node resource group and joins it to the gateway subnet).
resource "azurerm_user_assigned_identity" "alb_controller" {
  name                = "${var.name}-alb-controller"
  location            = azurerm_resource_group.main.location
  resource_group_name = azurerm_resource_group.main.name
  tags                = var.tags
}

resource "azurerm_federated_identity_credential" "alb_controller" {
  name                      = "alb-controller"
  user_assigned_identity_id = azurerm_user_assigned_identity.alb_controller.id
  issuer                    = azurerm_kubernetes_cluster.main.oidc_issuer_url
  subject                   = "system:serviceaccount:azure-alb-system:alb-controller-sa"
  audience                  = ["api://AzureADTokenExchange"]
}

resource "azurerm_role_assignment" "alb_controller_reader" {
  scope                = azurerm_kubernetes_cluster.main.node_resource_group_id
  role_definition_name = "Reader"
  principal_id         = azurerm_user_assigned_identity.alb_controller.principal_id
  principal_type       = "ServicePrincipal"
}

resource "azurerm_role_assignment" "alb_controller_config_manager" {
  scope                = azurerm_kubernetes_cluster.main.node_resource_group_id
  role_definition_name = "AppGw for Containers Configuration Manager"
  principal_id         = azurerm_user_assigned_identity.alb_controller.principal_id
  principal_type       = "ServicePrincipal"
}

resource "azurerm_role_assignment" "alb_controller_subnet" {
  scope                = azurerm_subnet.gateway.id
  role_definition_name = "Network Contributor"
  principal_id         = azurerm_user_assigned_identity.alb_controller.principal_id
  principal_type       = "ServicePrincipal"
}

# Operators: fetch a kubeconfig (Cluster User) and act as cluster-admin inside Kubernetes
# (RBAC Cluster Admin). The deploy pipeline's identity should instead get "Azure Kubernetes
# Service RBAC Writer" scoped to the namespace cloudcommerce.
resource "azurerm_role_assignment" "cluster_user" {
  for_each = toset(var.cluster_admin_principal_ids)

  scope                = azurerm_kubernetes_cluster.main.id
  role_definition_name = "Azure Kubernetes Service Cluster User Role"
  principal_id         = each.value
}

resource "azurerm_role_assignment" "cluster_admin" {
  for_each = toset(var.cluster_admin_principal_ids)

  scope                = azurerm_kubernetes_cluster.main.id
  role_definition_name = "Azure Kubernetes Service RBAC Cluster Admin"
  principal_id         = each.value
}
