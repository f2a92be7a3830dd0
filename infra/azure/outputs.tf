# Outputs. Their UPPER_SNAKE names are the keys of k8s/overlays/azure/cloud.env: renaming one
# breaks the overlay.

output "azure_tenant_id" {
  description = "Entra tenant of the vault and the workload identities (SecretStore tenantId)."
  value       = data.azurerm_client_config.current.tenant_id
}

output "resource_group" {
  description = "Resource group holding everything here."
  value       = azurerm_resource_group.main.name
}

output "cluster_name" {
  description = "AKS cluster name (az aks get-credentials -g RESOURCE_GROUP -n CLUSTER_NAME)."
  value       = azurerm_kubernetes_cluster.main.name
}

output "key_vault_url" {
  description = "Key Vault URI for the SecretStore (vaultUrl)."
  value       = azurerm_key_vault.main.vault_uri
}

output "key_vault_name" {
  description = "Key Vault name, for az keyvault commands (setting cc-auth and cc-personal-data)."
  value       = azurerm_key_vault.main.name
}

output "external_secrets_client_id" {
  description = "Client ID of the External Secrets identity: annotation azure.workload.identity/client-id on ServiceAccount cc-external-secrets."
  value       = azurerm_user_assigned_identity.external_secrets.client_id
}

output "database_host" {
  description = "PostgreSQL server FQDN; resolves to its private address inside the VNet."
  value       = azurerm_postgresql_flexible_server.main.fqdn
}

output "database_subnet_cidr" {
  description = "PostgreSQL subnet, for the NetworkPolicy egress ipBlock to port 5432."
  value       = local.postgres_cidr
}

output "gateway_subnet_cidr" {
  description = "Application Gateway for Containers subnet: the source of client traffic to the API pods (NetworkPolicy ingress ipBlock)."
  value       = local.gateway_cidr
}

output "gateway_subnet_id" {
  description = "Application Gateway for Containers subnet ID (ApplicationLoadBalancer spec.associations)."
  value       = azurerm_subnet.gateway.id
}

output "public_hostname" {
  description = "Public DNS name of the application (passed through from the variable)."
  value       = var.public_hostname
}

output "mail_from" {
  description = "The notifier's sender (CC_MAIL__FROM): an address of mail_domain, which the SMTP relay must accept."
  value       = "CloudCommerce <no-reply@${var.mail_domain}>"
}

output "site_url" {
  description = "The shop's site the mails link to (CC_MAIL__LINK_BASE_URL), as given."
  value       = var.site_url
}

output "alb_controller_client_id" {
  description = "Client ID of the ALB controller identity (Helm value albController.podIdentity.clientID)."
  value       = azurerm_user_assigned_identity.alb_controller.client_id
}

output "key_vault_subnet_cidr" {
  description = "Subnet of the Key Vault private endpoint: where the External Secrets Operator's namespace must be able to reach on 443, if it has egress policies of its own."
  value       = local.endpoints_cidr
}

output "oidc_issuer_url" {
  description = "The cluster's OIDC issuer (for further federated credentials)."
  value       = azurerm_kubernetes_cluster.main.oidc_issuer_url
}
