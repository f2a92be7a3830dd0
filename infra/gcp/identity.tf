# Workload Identity for External Secrets Operator: the Kubernetes ServiceAccount
# cloudcommerce/cc-external-secrets acts as a Google service account that may read the eight
# application secrets and nothing else.

resource "google_service_account" "external_secrets" {
  account_id   = "${var.name}-eso"
  display_name = "External Secrets Operator of ${var.name}"
  description  = "Reads the application's secrets for cloudcommerce/cc-external-secrets."

  depends_on = [google_project_service.enabled]
}

# Granted on each secret rather than on the project, so no other secret in the project is
# readable through this account.
resource "google_secret_manager_secret_iam_member" "external_secrets" {
  for_each = {
    db-admin      = google_secret_manager_secret.db_admin.id
    db-writer     = google_secret_manager_secret.db_writer.id
    db-projector  = google_secret_manager_secret.db_projector.id
    db-reader     = google_secret_manager_secret.db_reader.id
    db-notifier   = google_secret_manager_secret.db_notifier.id
    auth          = google_secret_manager_secret.auth.id
    personal-data = google_secret_manager_secret.personal_data.id
    smtp          = google_secret_manager_secret.smtp.id
  }

  secret_id = each.value
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.external_secrets.email}"
}

# The pool exists only once the cluster does: reading it from the cluster orders the binding
# after it.
resource "google_service_account_iam_member" "external_secrets_workload_identity" {
  service_account_id = google_service_account.external_secrets.name
  role               = "roles/iam.workloadIdentityUser"
  member             = "serviceAccount:${google_container_cluster.main.workload_identity_config[0].workload_pool}[cloudcommerce/cc-external-secrets]"
}
