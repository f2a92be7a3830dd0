# AKS: Azure CNI Overlay powered by Cilium (enforces NetworkPolicy), OIDC issuer and workload
# identity, Entra ID + Azure RBAC only, a system pool over three zones and one workload pool
# per zone.

resource "azurerm_kubernetes_cluster" "main" {
  name                = "${var.name}-aks"
  location            = azurerm_resource_group.main.location
  resource_group_name = azurerm_resource_group.main.name
  dns_prefix          = var.name
  kubernetes_version  = var.kubernetes_version
  node_resource_group = "${var.name}-aks-nodes-rg"
  sku_tier            = "Standard" # the uptime SLA; Free has none
  tags                = var.tags

  # Patches and node images move by themselves inside the maintenance windows below; a minor
  # upgrade stays a reviewed change of kubernetes_version.
  automatic_upgrade_channel = "patch"
  node_os_upgrade_channel   = "NodeImage"

  oidc_issuer_enabled       = true
  workload_identity_enabled = true

  # Who may do what is decided by Entra ID and Azure RBAC alone: no static admin kubeconfig.
  local_account_disabled            = true
  role_based_access_control_enabled = true

  azure_active_directory_role_based_access_control {
    azure_rbac_enabled = true
    tenant_id          = data.azurerm_client_config.current.tenant_id
  }

  private_cluster_enabled = var.private_cluster_enabled

  # checkov:skip=CKV_AZURE_115: private API is opt-in (private_cluster_enabled) since it needs the deploy runner inside the VNet; the public endpoint is limited to api_server_authorized_ip_ranges
  # checkov:skip=CKV_AZURE_6: the ranges are a required input with no default (checkov cannot see a value); the precondition below refuses a public API server without them
  api_server_access_profile {
    authorized_ip_ranges = var.api_server_authorized_ip_ranges
  }

  # checkov:skip=CKV_AZURE_117: customer-managed disk keys are optional (disk_encryption_set_id); disks are encrypted at rest with platform keys and host encryption covers temp and cache disks
  disk_encryption_set_id = var.disk_encryption_set_id

  # checkov:skip=CKV_AZURE_172: no Secrets Store CSI driver here; External Secrets Operator syncs Key Vault into Kubernetes Secrets on its own refresh interval
  azure_policy_enabled         = true
  image_cleaner_enabled        = true
  image_cleaner_interval_hours = 48

  identity {
    type         = "UserAssigned"
    identity_ids = [azurerm_user_assigned_identity.cluster.id]
  }

  default_node_pool {
    name                         = "system"
    vm_size                      = var.system_node_vm_size
    vnet_subnet_id               = azurerm_subnet.nodes.id
    zones                        = ["1", "2", "3"]
    orchestrator_version         = var.kubernetes_version
    auto_scaling_enabled         = true
    min_count                    = var.system_node_min_count
    max_count                    = var.system_node_max_count
    max_pods                     = 110
    only_critical_addons_enabled = true # application pods go to the workload pools
    os_sku                       = "AzureLinux"
    os_disk_type                 = "Ephemeral"
    os_disk_size_gb              = 128
    host_encryption_enabled      = true
    temporary_name_for_rotation  = "systemtmp"

    upgrade_settings {
      max_surge                     = "33%"
      drain_timeout_in_minutes      = 30
      node_soak_duration_in_minutes = 0
    }
  }

  network_profile {
    network_plugin      = "azure"
    network_plugin_mode = "overlay"
    network_data_plane  = "cilium"
    network_policy      = "cilium"
    pod_cidr            = local.pod_cidr
    service_cidr        = local.service_cidr
    dns_service_ip      = local.dns_service_ip
    load_balancer_sku   = "standard"
    outbound_type       = "loadBalancer"
  }

  auto_scaler_profile {
    # The per-zone workload pools are identical but for the zone: keep them level so that
    # zone spreading (and Kafka's zonal volumes) always find room.
    balance_similar_node_groups = true
    expander                    = "least-waste"
  }

  oms_agent {
    log_analytics_workspace_id      = azurerm_log_analytics_workspace.main.id
    msi_auth_for_monitoring_enabled = true
  }

  microsoft_defender {
    log_analytics_workspace_id = azurerm_log_analytics_workspace.main.id
  }

  maintenance_window_auto_upgrade {
    frequency   = "Weekly"
    interval    = 1
    duration    = 4
    day_of_week = "Sunday"
    start_time  = "02:00"
    utc_offset  = "+00:00"
  }

  maintenance_window_node_os {
    frequency   = "Weekly"
    interval    = 1
    duration    = 4
    day_of_week = "Saturday"
    start_time  = "02:00"
    utc_offset  = "+00:00"
  }

  lifecycle {
    # The autoscaler owns the node count.
    ignore_changes = [default_node_pool[0].node_count]

    precondition {
      condition     = var.private_cluster_enabled || length(var.api_server_authorized_ip_ranges) > 0
      error_message = "Set api_server_authorized_ip_ranges, or private_cluster_enabled = true: a public API server open to every address is not allowed."
    }

    # AKS rejects authorized ranges on a private API server.
    precondition {
      condition     = !var.private_cluster_enabled || length(var.api_server_authorized_ip_ranges) == 0
      error_message = "A private cluster takes no api_server_authorized_ip_ranges: set it to []."
    }
  }

  depends_on = [azurerm_role_assignment.cluster_network]
}

# One pool per zone rather than one pool over three: Kafka's disks are zonal, and the
# autoscaler can only add a node in the zone a pending pod needs when that zone has its own pool.
resource "azurerm_kubernetes_cluster_node_pool" "apps" {
  for_each = toset(local.zones)

  name                        = "apps${each.key}"
  kubernetes_cluster_id       = azurerm_kubernetes_cluster.main.id
  mode                        = "User"
  vm_size                     = var.app_node_vm_size
  vnet_subnet_id              = azurerm_subnet.nodes.id
  zones                       = [each.key]
  orchestrator_version        = var.kubernetes_version
  auto_scaling_enabled        = true
  min_count                   = var.app_node_min_count_per_zone
  max_count                   = var.app_node_max_count_per_zone
  max_pods                    = 110
  os_sku                      = "AzureLinux"
  os_disk_type                = "Ephemeral"
  os_disk_size_gb             = 128
  host_encryption_enabled     = true
  temporary_name_for_rotation = "apps${each.key}tmp"
  tags                        = var.tags

  upgrade_settings {
    max_surge                     = "1"
    drain_timeout_in_minutes      = 30
    node_soak_duration_in_minutes = 0
  }

  lifecycle {
    ignore_changes = [node_count]
  }
}
