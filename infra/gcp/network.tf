# The VPC: node subnet with pod/service ranges, Cloud NAT, firewall rules, the Private Services
# Access range Cloud SQL takes its private IP from, and the Gateway's static address.

resource "google_compute_network" "main" {
  name                    = var.name
  auto_create_subnetworks = false
  routing_mode            = "REGIONAL"

  depends_on = [google_project_service.enabled]
}

resource "google_compute_subnetwork" "nodes" {
  name          = "${var.name}-nodes"
  network       = google_compute_network.main.id
  region        = var.region
  ip_cidr_range = var.subnet_cidr

  # Private nodes have no external IP: Google APIs (Secret Manager, logging, image layers on
  # Artifact Registry) are reached on their private endpoints instead of through NAT.
  private_ip_google_access = true

  secondary_ip_range {
    range_name    = "pods"
    ip_cidr_range = var.pods_cidr
  }

  secondary_ip_range {
    range_name    = "services"
    ip_cidr_range = var.services_cidr
  }

  # Sampled, 5-second flow logs: enough to investigate a flow the NetworkPolicies should have
  # stopped, at a fraction of the volume of full sampling.
  log_config {
    aggregation_interval = "INTERVAL_5_SEC"
    flow_sampling        = 0.5
    metadata             = "INCLUDE_ALL_METADATA"
  }
}

resource "google_compute_router" "main" {
  name    = var.name
  network = google_compute_network.main.id
  region  = var.region
}

# Outbound internet for private nodes: container images on ghcr.io, the tracing backend and the
# SMTP relay (587/465; Google Cloud blocks outbound 25, which the notifier never uses).
resource "google_compute_router_nat" "main" {
  name                               = var.name
  router                             = google_compute_router.main.name
  region                             = var.region
  nat_ip_allocate_option             = "AUTO_ONLY"
  source_subnetwork_ip_ranges_to_nat = "LIST_OF_SUBNETWORKS"

  subnetwork {
    name                    = google_compute_subnetwork.nodes.id
    source_ip_ranges_to_nat = ["ALL_IP_RANGES"]
  }

  log_config {
    enable = true
    filter = "ERRORS_ONLY"
  }
}

# GKE opens 443 and 10250 from the control plane itself; KEDA's external metrics API and the
# operators' admission webhooks listen elsewhere and would time out without this rule.
resource "google_compute_firewall" "master_to_webhooks" {
  name        = "${var.name}-master-to-webhooks"
  network     = google_compute_network.main.id
  direction   = "INGRESS"
  priority    = 1000
  description = "GKE control plane to the extension API servers and admission webhooks on the nodes."

  source_ranges           = [var.master_ipv4_cidr]
  target_service_accounts = [google_service_account.nodes.email]

  allow {
    protocol = "tcp"
    ports    = var.master_webhook_ports
  }

  log_config {
    metadata = "INCLUDE_ALL_METADATA"
  }
}

# Cloud SQL has no firewall of its own on a private IP: every VM in the VPC could reach it. These
# two egress rules leave PostgreSQL reachable from the GKE nodes (and so their pods, whose alias
# IPs leave through the node) only; the NetworkPolicies then narrow it to the services.
resource "google_compute_firewall" "nodes_to_postgres" {
  name        = "${var.name}-nodes-to-postgres"
  network     = google_compute_network.main.id
  direction   = "EGRESS"
  priority    = 1000
  description = "GKE nodes and pods to Cloud SQL for PostgreSQL."

  destination_ranges      = ["${google_compute_global_address.private_services.address}/${google_compute_global_address.private_services.prefix_length}"]
  target_service_accounts = [google_service_account.nodes.email]

  allow {
    protocol = "tcp"
    ports    = ["5432"]
  }

  log_config {
    metadata = "INCLUDE_ALL_METADATA"
  }
}

resource "google_compute_firewall" "deny_other_to_postgres" {
  name        = "${var.name}-deny-other-to-private-services"
  network     = google_compute_network.main.id
  direction   = "EGRESS"
  priority    = 1100
  description = "Everything else in the VPC to the Private Services Access range."

  destination_ranges = ["${google_compute_global_address.private_services.address}/${google_compute_global_address.private_services.prefix_length}"]

  deny {
    protocol = "all"
  }

  log_config {
    metadata = "INCLUDE_ALL_METADATA"
  }
}

# Private Services Access: a range of this VPC peered to Google's service producer network,
# where the Cloud SQL instance gets its private IP.
resource "google_compute_global_address" "private_services" {
  name          = "${var.name}-private-services"
  network       = google_compute_network.main.id
  purpose       = "VPC_PEERING"
  address_type  = "INTERNAL"
  address       = var.private_services_address
  prefix_length = var.private_services_prefix_length
}

resource "google_service_networking_connection" "private_services" {
  network                 = google_compute_network.main.id
  service                 = "servicenetworking.googleapis.com"
  reserved_peering_ranges = [google_compute_global_address.private_services.name]

  # Deleting the peering fails while Cloud SQL still holds addresses in it (and the instance is
  # deletion-protected): on destroy, leave it to go with the VPC.
  deletion_policy = "ABANDON"
}

# The address of the Gateway's load balancer: Envoy Gateway's LoadBalancer Service, a regional
# passthrough Network Load Balancer, takes it by name, so DNS survives re-creating the Service.
resource "google_compute_address" "gateway" {
  name         = "${var.name}-gateway"
  region       = var.region
  address_type = "EXTERNAL"
  network_tier = "PREMIUM"

  depends_on = [google_project_service.enabled]
}
