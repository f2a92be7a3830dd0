# Outputs: the overlay's contract (k8s/overlays/gcp/cloud.env takes each name in UPPER_SNAKE
# form), plus a few for operators.

output "gcp_project" {
  description = "Project the resources live in."
  value       = var.project_id
}

output "gcp_region" {
  description = "Region of the cluster and the database."
  value       = var.region
}

output "cluster_name" {
  description = "Name of the GKE cluster (gcloud container clusters get-credentials NAME --region REGION)."
  value       = google_container_cluster.main.name
}

output "database_host" {
  description = "Private IP address of the Cloud SQL instance."
  value       = google_sql_database_instance.main.private_ip_address
}

# Not secret (it is a CA certificate), but the provider marks the attribute sensitive.
output "database_ca_cert" {
  description = "PEM of the instance's server CA, for sslmode verify-ca."
  value       = google_sql_database_instance.main.server_ca_cert[0].cert
  sensitive   = true
}

output "database_private_cidr" {
  description = "Private Services Access range the database address is in (NetworkPolicy egress)."
  value       = "${google_compute_global_address.private_services.address}/${google_compute_global_address.private_services.prefix_length}"
}

output "external_secrets_service_account" {
  description = "Google service account for the iam.gke.io/gcp-service-account annotation of cc-external-secrets."
  value       = google_service_account.external_secrets.email
}

output "public_hostname" {
  description = "Public DNS name the Gateway serves."
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

output "gateway_address_name" {
  description = "Name of the static regional address for Envoy Gateway's LoadBalancer Service."
  value       = google_compute_address.gateway.name
}

output "gateway_address" {
  description = "The Gateway's IP address: the DNS record of public_hostname, and the Envoy Service's loadBalancerIP."
  value       = google_compute_address.gateway.address
}

output "database_name" {
  description = "Name of the application database."
  value       = google_sql_database.cloudcommerce.name
}

output "database_connection_name" {
  description = "PROJECT:REGION:INSTANCE of the Cloud SQL instance (Cloud SQL Auth Proxy, gcloud sql)."
  value       = google_sql_database_instance.main.connection_name
}
