# The regional GKE cluster (Dataplane V2, private nodes, Workload Identity), its node pool
# across the three zones and the node service account.

resource "google_container_cluster" "main" {
  # checkov:skip=CKV_GCP_65: needs a Workspace group gke-security-groups@DOMAIN; RBAC binds IAM principals.
  name           = var.name
  location       = var.region
  node_locations = var.zones

  network         = google_compute_network.main.id
  subnetwork      = google_compute_subnetwork.nodes.id
  networking_mode = "VPC_NATIVE"

  # The default pool cannot be changed without re-creating the cluster; the pool below is
  # managed on its own.
  remove_default_node_pool = true
  initial_node_count       = 1

  # Only for the default pool's few minutes of life: without it those nodes would run as the
  # Compute Engine default account, which hardened projects disable (and creation would fail).
  node_config {
    service_account = google_service_account.nodes.email
    oauth_scopes    = ["https://www.googleapis.com/auth/cloud-platform"]

    workload_metadata_config {
      mode = "GKE_METADATA"
    }

    shielded_instance_config {
      enable_secure_boot          = true
      enable_integrity_monitoring = true
    }
  }

  deletion_protection = true
  min_master_version  = "1.33"
  resource_labels     = local.labels

  release_channel {
    channel = "REGULAR"
  }

  # Dataplane V2 (eBPF) enforces NetworkPolicy itself; the Calico add-on must stay off with it.
  datapath_provider = "ADVANCED_DATAPATH"

  network_policy {
    enabled  = false
    provider = "PROVIDER_UNSPECIFIED"
  }

  ip_allocation_policy {
    cluster_secondary_range_name  = "pods"
    services_secondary_range_name = "services"
  }

  private_cluster_config {
    enable_private_nodes    = true
    enable_private_endpoint = false
    master_ipv4_cidr_block  = var.master_ipv4_cidr
  }

  # The public endpoint answers only the listed networks; an empty list closes it to everyone
  # outside Google Cloud.
  master_authorized_networks_config {
    gcp_public_cidrs_access_enabled = false

    dynamic "cidr_blocks" {
      for_each = var.master_authorized_networks
      content {
        cidr_block   = cidr_blocks.value.cidr_block
        display_name = cidr_blocks.value.display_name
      }
    }
  }

  workload_identity_config {
    workload_pool = "${var.project_id}.svc.id.goog"
  }

  # The overlay's Gateway runs on Envoy Gateway, which installs its own Gateway API CRDs: GKE's
  # managed copies would fight them. CHANNEL_STANDARD is for GKE's own Gateway classes.
  gateway_api_config {
    channel = var.gke_gateway_api_channel
  }

  addons_config {
    http_load_balancing {
      disabled = false
    }
    network_policy_config {
      disabled = true
    }
    gce_persistent_disk_csi_driver_config {
      enabled = true
    }
  }

  enable_shielded_nodes       = true
  enable_legacy_abac          = false
  enable_intranode_visibility = true

  master_auth {
    client_certificate_config {
      issue_client_certificate = false
    }
  }

  # Enforces the project's Binary Authorization policy; it admits every image until the
  # operators tighten it (e.g. to attestations of the signed digests CI deploys).
  binary_authorization {
    evaluation_mode = "PROJECT_SINGLETON_POLICY_ENFORCE"
  }

  logging_config {
    enable_components = ["SYSTEM_COMPONENTS", "WORKLOADS"]
  }

  monitoring_config {
    enable_components = ["SYSTEM_COMPONENTS"]
  }

  # Control-plane and node upgrades only in the weekend night (UTC), when traffic is lowest.
  maintenance_policy {
    recurring_window {
      start_time = "2025-01-04T01:00:00Z"
      end_time   = "2025-01-04T07:00:00Z"
      recurrence = "FREQ=WEEKLY;BYDAY=SA,SU"
    }
  }

  # node_config only describes the default pool, gone after creation; a change to it would
  # re-create the whole cluster.
  lifecycle {
    ignore_changes = [node_config]
  }

  # The nodes must be allowed to write logs and metrics from their first boot.
  depends_on = [google_project_iam_member.nodes]
}

resource "google_container_node_pool" "general" {
  name           = "${var.name}-general"
  cluster        = google_container_cluster.main.id
  location       = var.region
  node_locations = var.zones

  # Per zone; only read at creation (changing it would re-create the pool), the autoscaler
  # moves the count afterwards.
  initial_node_count = var.node_min_per_zone

  autoscaling {
    min_node_count  = var.node_min_per_zone
    max_node_count  = var.node_max_per_zone
    location_policy = "BALANCED"
  }

  management {
    auto_repair  = true
    auto_upgrade = true
  }

  # One extra node at a time and none taken away before its replacement is Ready: the
  # PodDisruptionBudgets (maxUnavailable 1) and Kafka's min.insync.replicas 2 hold throughout.
  upgrade_settings {
    strategy        = "SURGE"
    max_surge       = 1
    max_unavailable = 0
  }

  node_config {
    machine_type    = var.node_machine_type
    image_type      = "COS_CONTAINERD"
    disk_type       = "pd-balanced"
    disk_size_gb    = var.node_disk_size_gb
    service_account = google_service_account.nodes.email
    oauth_scopes    = ["https://www.googleapis.com/auth/cloud-platform"]
    resource_labels = local.labels

    metadata = {
      disable-legacy-endpoints = "true"
    }

    # Pods see the GKE metadata server, which hands out their Workload Identity, never the
    # node's own credentials.
    workload_metadata_config {
      mode = "GKE_METADATA"
    }

    shielded_instance_config {
      enable_secure_boot          = true
      enable_integrity_monitoring = true
    }
  }

  lifecycle {
    ignore_changes = [initial_node_count]
  }
}

# The nodes run as this account rather than the Compute Engine default (Editor on the project):
# it may only write logs and metrics and read what GKE nodes need.
resource "google_service_account" "nodes" {
  account_id   = "${var.name}-nodes"
  display_name = "GKE nodes of ${var.name}"

  depends_on = [google_project_service.enabled]
}

resource "google_project_iam_member" "nodes" {
  project = var.project_id
  role    = "roles/container.defaultNodeServiceAccount"
  member  = "serviceAccount:${google_service_account.nodes.email}"
}
