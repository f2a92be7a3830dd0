# Cloud SQL for PostgreSQL 17: regional HA, private IP only, TLS only, PITR backups, the
# database `cloudcommerce` and the admin login `cc_admin` the migration Job connects as.

resource "google_sql_database_instance" "main" {
  # checkov:skip=CKV_GCP_6: ENCRYPTED_ONLY refuses plaintext; clients log in with passwords, not client certificates.
  # checkov:skip=CKV_GCP_79: PostgreSQL 17 is the major the application and its migrations are tested on.
  # checkov:skip=CKV_GCP_108: pod IPs have no reverse DNS; log_connections already records the client address.
  # checkov:skip=CKV2_GCP_13: log_duration logs every statement of a busy OLTP database; slow queries go to Query Insights.
  name             = "${var.name}-pg"
  database_version = "POSTGRES_17"
  region           = var.region

  deletion_protection = true

  settings {
    # Enterprise Plus would need the db-perf-optimized tiers; Enterprise keeps the db-custom ones.
    edition           = "ENTERPRISE"
    tier              = var.database_tier
    availability_type = "REGIONAL"
    disk_type         = "PD_SSD"
    disk_size         = var.database_disk_size_gb
    disk_autoresize   = true
    user_labels       = local.labels

    # Refuses deletion from every surface (console, gcloud, API), not only from this module;
    # should it be deleted anyway, its backups stay.
    deletion_protection_enabled = true
    retain_backups_on_delete    = true

    ip_configuration {
      ipv4_enabled    = false
      private_network = google_compute_network.main.id
      ssl_mode        = "ENCRYPTED_ONLY"

      # A CA of this instance alone; its certificate is the database_ca_cert output, and the
      # services check the server against it (sslmode verify-ca: the certificate names no IP).
      server_ca_mode = "GOOGLE_MANAGED_INTERNAL_CA"
    }

    # Primary and standby in two of the cluster's zones, so one of them is always zone-local to
    # some of the pods and a zone outage fails over to the other.
    location_preference {
      zone           = var.zones[0]
      secondary_zone = var.zones[1]
    }

    # 14 daily backups; point-in-time recovery over the last 7 days of WAL (Enterprise's maximum).
    backup_configuration {
      enabled                        = true
      point_in_time_recovery_enabled = true
      start_time                     = "02:00"
      transaction_log_retention_days = 7

      backup_retention_settings {
        retained_backups = 14
        retention_unit   = "COUNT"
      }
    }

    maintenance_window {
      day          = 7
      hour         = 3
      update_track = "stable"
    }

    insights_config {
      query_insights_enabled  = true
      record_application_tags = false
      record_client_address   = false
    }

    database_flags {
      name  = "max_connections"
      value = tostring(var.database_max_connections)
    }

    # Audit logging (CIS benchmark for Cloud SQL PostgreSQL): who connected, when, and the DDL
    # the migrations ran; not every statement, whose text could carry personal data.
    database_flags {
      name  = "log_connections"
      value = "on"
    }

    database_flags {
      name  = "log_disconnections"
      value = "on"
    }

    database_flags {
      name  = "log_checkpoints"
      value = "on"
    }

    database_flags {
      name  = "log_lock_waits"
      value = "on"
    }

    database_flags {
      name  = "log_statement"
      value = "ddl"
    }

    database_flags {
      name  = "log_min_messages"
      value = "warning"
    }

    database_flags {
      name  = "log_min_error_statement"
      value = "error"
    }

    database_flags {
      name  = "log_min_duration_statement"
      value = "-1"
    }

    database_flags {
      name  = "log_temp_files"
      value = "0"
    }

    database_flags {
      name  = "cloudsql.enable_pgaudit"
      value = "on"
    }
  }

  depends_on = [google_service_networking_connection.private_services]
}

resource "google_sql_database" "cloudcommerce" {
  name     = "cloudcommerce"
  instance = google_sql_database_instance.main.name
}

resource "random_password" "db_admin" {
  length           = 32
  override_special = "-_.~"
}

# A built-in user is a member of cloudsqlsuperuser: it may CREATE ROLE, which the migration Job
# does for cc_writer, cc_projector and cc_reader.
resource "google_sql_user" "admin" {
  name     = "cc_admin"
  instance = google_sql_database_instance.main.name
  type     = "BUILT_IN"
  password = random_password.db_admin.result

  # PostgreSQL refuses to drop a role that still owns objects or holds grants; on destroy, leave
  # it to go with the instance.
  deletion_policy = "ABANDON"
}
