# Secrets Manager: the database logins of the four application roles, the auth keys and the
# personal-data master key (values set by the operator), and the MSK SCRAM users. The SMTP login
# is in mail.tf. The names are a contract with the overlay's ExternalSecrets (and MSK's
# AmazonMSK_ prefix), so they are fixed, not derived from var.name.
# The generated passwords live in Terraform state too: keep state in an encrypted backend.

# --- database logins (the migration Job creates these roles with these passwords) ---------------

resource "aws_secretsmanager_secret" "db_writer" {
  # checkov:skip=CKV2_AWS_57: the migration Job sets this role's password from the secret; a rotation Lambda would change it behind the database's back
  name                    = "cloudcommerce/db-writer"
  description             = "PostgreSQL login cc_writer (command-api): JSON username, password"
  kms_key_id              = aws_kms_key.secrets.arn
  recovery_window_in_days = var.secret_recovery_window_days
}

resource "aws_secretsmanager_secret" "db_projector" {
  # checkov:skip=CKV2_AWS_57: the migration Job sets this role's password from the secret; a rotation Lambda would change it behind the database's back
  name                    = "cloudcommerce/db-projector"
  description             = "PostgreSQL login cc_projector (projector): JSON username, password"
  kms_key_id              = aws_kms_key.secrets.arn
  recovery_window_in_days = var.secret_recovery_window_days
}

resource "aws_secretsmanager_secret" "db_reader" {
  # checkov:skip=CKV2_AWS_57: the migration Job sets this role's password from the secret; a rotation Lambda would change it behind the database's back
  name                    = "cloudcommerce/db-reader"
  description             = "PostgreSQL login cc_reader (query-api): JSON username, password"
  kms_key_id              = aws_kms_key.secrets.arn
  recovery_window_in_days = var.secret_recovery_window_days
}

resource "aws_secretsmanager_secret" "db_notifier" {
  # checkov:skip=CKV2_AWS_57: the migration Job sets this role's password from the secret; a rotation Lambda would change it behind the database's back
  name                    = "cloudcommerce/db-notifier"
  description             = "PostgreSQL login cc_notifier (notifier): JSON username, password"
  kms_key_id              = aws_kms_key.secrets.arn
  recovery_window_in_days = var.secret_recovery_window_days
}

locals {
  db_logins = {
    writer    = { username = "cc_writer", secret_id = aws_secretsmanager_secret.db_writer.id }
    projector = { username = "cc_projector", secret_id = aws_secretsmanager_secret.db_projector.id }
    reader    = { username = "cc_reader", secret_id = aws_secretsmanager_secret.db_reader.id }
    notifier  = { username = "cc_notifier", secret_id = aws_secretsmanager_secret.db_notifier.id }
  }
}

# Any characters: the services and the migration Job pass passwords as parameters, not in URLs.
resource "random_password" "db" {
  for_each = local.db_logins

  length = 32
}

resource "aws_secretsmanager_secret_version" "db" {
  for_each = local.db_logins

  secret_id = each.value.secret_id
  secret_string = jsonencode({
    username = each.value.username
    password = random_password.db[each.key].result
  })
}

# --- auth keys: container only ----------------------------------------------------------------

# The operator puts {"signing-keys": "...", "fingerprint-key": "..."} after apply; no version
# here, so the keys never enter Terraform state.
resource "aws_secretsmanager_secret" "auth" {
  # checkov:skip=CKV2_AWS_57: the operator rotates the signing keys by hand (old and new key side by side during the overlap), which a rotation Lambda cannot do
  name                    = "cloudcommerce/auth"
  description             = "command-api token signing keys and fingerprint key: JSON signing-keys, fingerprint-key"
  kms_key_id              = aws_kms_key.secrets.arn
  recovery_window_in_days = var.secret_recovery_window_days
}

# --- personal-data master key: container only -------------------------------------------------

# The operator puts {"master-key": "<openssl rand -base64 32>"} once after apply; no version here,
# so the key never enters Terraform state. It wraps every user's data key: losing it makes every
# sealed personal field unreadable, hence prevent_destroy on top of the recovery window.
resource "aws_secretsmanager_secret" "personal_data" {
  # checkov:skip=CKV2_AWS_57: rotating the master key means re-wrapping every data key (not built); a rotation Lambda replacing the value would make every sealed personal field unreadable
  name                    = "cloudcommerce/personal-data"
  description             = "Master key wrapping the users' personal-data keys (command-api, projector, notifier): JSON master-key"
  kms_key_id              = aws_kms_key.secrets.arn
  recovery_window_in_days = var.secret_recovery_window_days

  lifecycle {
    prevent_destroy = true
  }
}

# --- MSK SCRAM users ---------------------------------------------------------------------------

resource "aws_secretsmanager_secret" "msk_command_api" {
  # checkov:skip=CKV2_AWS_57: AWS has no managed rotation for MSK SCRAM secrets; a password change is a planned replace of its random_password here
  name                    = "AmazonMSK_cloudcommerce_command-api"
  description             = "MSK SCRAM user cc-command-api: JSON username, password"
  kms_key_id              = aws_kms_key.secrets.arn
  recovery_window_in_days = var.secret_recovery_window_days
}

resource "aws_secretsmanager_secret" "msk_projector" {
  # checkov:skip=CKV2_AWS_57: AWS has no managed rotation for MSK SCRAM secrets; a password change is a planned replace of its random_password here
  name                    = "AmazonMSK_cloudcommerce_projector"
  description             = "MSK SCRAM user cc-projector: JSON username, password"
  kms_key_id              = aws_kms_key.secrets.arn
  recovery_window_in_days = var.secret_recovery_window_days
}

resource "aws_secretsmanager_secret" "msk_notifier" {
  # checkov:skip=CKV2_AWS_57: AWS has no managed rotation for MSK SCRAM secrets; a password change is a planned replace of its random_password here
  name                    = "AmazonMSK_cloudcommerce_notifier"
  description             = "MSK SCRAM user cc-notifier: JSON username, password"
  kms_key_id              = aws_kms_key.secrets.arn
  recovery_window_in_days = var.secret_recovery_window_days
}

# Topics and ACLs only (infra/aws/kafka); no workload in the cluster may read it.
resource "aws_secretsmanager_secret" "msk_admin" {
  # checkov:skip=CKV2_AWS_57: AWS has no managed rotation for MSK SCRAM secrets; a password change is a planned replace of its random_password here
  name                    = "AmazonMSK_cloudcommerce_admin"
  description             = "MSK SCRAM user cc-admin (topics and ACLs): JSON username, password"
  kms_key_id              = aws_kms_key.secrets.arn
  recovery_window_in_days = var.secret_recovery_window_days
}

locals {
  msk_users = {
    command_api = { username = "cc-command-api", secret = aws_secretsmanager_secret.msk_command_api }
    projector   = { username = "cc-projector", secret = aws_secretsmanager_secret.msk_projector }
    notifier    = { username = "cc-notifier", secret = aws_secretsmanager_secret.msk_notifier }
    admin       = { username = "cc-admin", secret = aws_secretsmanager_secret.msk_admin }
  }
}

resource "random_password" "msk" {
  for_each = local.msk_users

  length = 32
}

resource "aws_secretsmanager_secret_version" "msk" {
  for_each = local.msk_users

  secret_id = each.value.secret.id
  secret_string = jsonencode({
    username = each.value.username
    password = random_password.msk[each.key].result
  })
}

# The policy MSK attaches when a secret is associated (action in its canonical case): written
# here so Terraform and MSK agree on it instead of fighting over it.
data "aws_iam_policy_document" "msk_secret" {
  for_each = local.msk_users

  statement {
    sid       = "AWSKafkaResourcePolicy"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [each.value.secret.arn]

    principals {
      type        = "Service"
      identifiers = ["kafka.amazonaws.com"]
    }
  }
}

resource "aws_secretsmanager_secret_policy" "msk" {
  for_each = local.msk_users

  secret_arn = each.value.secret.arn
  policy     = data.aws_iam_policy_document.msk_secret[each.key].json
}
