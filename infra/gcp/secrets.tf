# Secret Manager: the five database logins (JSON {"username", "password"}) and the containers of
# `cc-auth`, `cc-personal-data` and `cc-smtp`, whose values the operator adds after apply.

# The migration Job creates these four roles with these passwords; PostgreSQL never sees them
# from here. Only URL-unreserved specials, so a password is safe inside a connection URL too.
resource "random_password" "db_writer" {
  length           = 32
  override_special = "-_.~"
}

resource "random_password" "db_projector" {
  length           = 32
  override_special = "-_.~"
}

resource "random_password" "db_reader" {
  length           = 32
  override_special = "-_.~"
}

resource "random_password" "db_notifier" {
  length           = 32
  override_special = "-_.~"
}

# deletion_protection: `tofu destroy` must not take the credentials (or the signing keys in
# cc-auth, or the master key in cc-personal-data) of a database that itself refuses deletion.
resource "google_secret_manager_secret" "db_admin" {
  secret_id           = "cc-db-admin"
  labels              = local.labels
  deletion_protection = true

  replication {
    auto {}
  }

  depends_on = [google_project_service.enabled]
}

resource "google_secret_manager_secret" "db_writer" {
  secret_id           = "cc-db-writer"
  labels              = local.labels
  deletion_protection = true

  replication {
    auto {}
  }

  depends_on = [google_project_service.enabled]
}

resource "google_secret_manager_secret" "db_projector" {
  secret_id           = "cc-db-projector"
  labels              = local.labels
  deletion_protection = true

  replication {
    auto {}
  }

  depends_on = [google_project_service.enabled]
}

resource "google_secret_manager_secret" "db_reader" {
  secret_id           = "cc-db-reader"
  labels              = local.labels
  deletion_protection = true

  replication {
    auto {}
  }

  depends_on = [google_project_service.enabled]
}

resource "google_secret_manager_secret" "db_notifier" {
  secret_id           = "cc-db-notifier"
  labels              = local.labels
  deletion_protection = true

  replication {
    auto {}
  }

  depends_on = [google_project_service.enabled]
}

# {"signing-keys": "...", "fingerprint-key": "..."}: the keys are made by `command-api keygen`
# and must never pass through state, so no version here.
resource "google_secret_manager_secret" "auth" {
  secret_id           = "cc-auth"
  labels              = local.labels
  deletion_protection = true

  replication {
    auto {}
  }

  depends_on = [google_project_service.enabled]
}

# {"master-key": "<openssl rand -base64 32>"}: wraps every user's data key, so losing it makes
# every sealed personal field unreadable. Added once by the operator, never through state, and
# never replaced by a new version (k8s/README.md, "Personal data master key").
resource "google_secret_manager_secret" "personal_data" {
  secret_id           = "cc-personal-data"
  labels              = local.labels
  deletion_protection = true

  replication {
    auto {}
  }

  depends_on = [google_project_service.enabled]
}

# {"url": "smtps://apikey@smtp.sendgrid.net:465", "password": "<API key>"} or any relay's
# (k8s/README.md, "Mail (notifier)"): the relay is not a Google service, so its login is made
# with its provider and added by hand, never through state.
resource "google_secret_manager_secret" "smtp" {
  secret_id           = "cc-smtp"
  labels              = local.labels
  deletion_protection = true

  replication {
    auto {}
  }

  depends_on = [google_project_service.enabled]
}

resource "google_secret_manager_secret_version" "db_admin" {
  secret = google_secret_manager_secret.db_admin.id

  secret_data = jsonencode({
    username = google_sql_user.admin.name
    password = random_password.db_admin.result
  })
}

resource "google_secret_manager_secret_version" "db_writer" {
  secret = google_secret_manager_secret.db_writer.id

  secret_data = jsonencode({
    username = "cc_writer"
    password = random_password.db_writer.result
  })
}

resource "google_secret_manager_secret_version" "db_projector" {
  secret = google_secret_manager_secret.db_projector.id

  secret_data = jsonencode({
    username = "cc_projector"
    password = random_password.db_projector.result
  })
}

resource "google_secret_manager_secret_version" "db_reader" {
  secret = google_secret_manager_secret.db_reader.id

  secret_data = jsonencode({
    username = "cc_reader"
    password = random_password.db_reader.result
  })
}

resource "google_secret_manager_secret_version" "db_notifier" {
  secret = google_secret_manager_secret.db_notifier.id

  secret_data = jsonencode({
    username = "cc_notifier"
    password = random_password.db_notifier.result
  })
}
