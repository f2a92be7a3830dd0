# The Google APIs this module uses, enabled in the project.

resource "google_project_service" "enabled" {
  for_each = toset([
    "compute.googleapis.com",
    "container.googleapis.com",
    "iam.googleapis.com",
    "iamcredentials.googleapis.com",
    "secretmanager.googleapis.com",
    "servicenetworking.googleapis.com",
    "sqladmin.googleapis.com",
  ])

  service = each.value

  # Other workloads in the project may use the same APIs: destroying this module must not turn
  # them off.
  disable_on_destroy = false
}
