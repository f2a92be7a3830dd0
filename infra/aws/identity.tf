# The one workload identity: External Secrets Operator's SecretStore authenticates as the
# Kubernetes ServiceAccount cc-external-secrets (namespace cloudcommerce) through IRSA, and may
# read exactly the secrets the application needs.

data "aws_iam_policy_document" "external_secrets_assume" {
  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]

    principals {
      type        = "Federated"
      identifiers = [aws_iam_openid_connect_provider.eks.arn]
    }

    # Exactly one service account of one namespace; a token of any other is refused.
    condition {
      test     = "StringEquals"
      variable = "${local.oidc_host}:sub"
      values   = ["system:serviceaccount:cloudcommerce:cc-external-secrets"]
    }

    condition {
      test     = "StringEquals"
      variable = "${local.oidc_host}:aud"
      values   = ["sts.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "external_secrets" {
  name                 = "${var.name}-external-secrets"
  description          = "IRSA role of cloudcommerce/cc-external-secrets: reads the application's secrets"
  assume_role_policy   = data.aws_iam_policy_document.external_secrets_assume.json
  max_session_duration = 3600
}

data "aws_iam_policy_document" "external_secrets" {
  # The seven cloudcommerce/* secrets (four database logins, the auth keys, the personal-data
  # master key, the SMTP login), the RDS-managed cc_admin secret (the migration Job), and the
  # SCRAM secrets of the three Kafka clients. Not AmazonMSK_cloudcommerce_admin: only the
  # infra/aws/kafka operator uses it.
  statement {
    sid     = "ReadApplicationSecrets"
    actions = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
    resources = [
      aws_secretsmanager_secret.db_writer.arn,
      aws_secretsmanager_secret.db_projector.arn,
      aws_secretsmanager_secret.db_reader.arn,
      aws_secretsmanager_secret.db_notifier.arn,
      aws_secretsmanager_secret.auth.arn,
      aws_secretsmanager_secret.personal_data.arn,
      aws_secretsmanager_secret.smtp.arn,
      aws_db_instance.main.master_user_secret[0].secret_arn,
      aws_secretsmanager_secret.msk_command_api.arn,
      aws_secretsmanager_secret.msk_projector.arn,
      aws_secretsmanager_secret.msk_notifier.arn,
    ]
  }

  # Every one of those secrets is encrypted with the secrets key, and only through Secrets Manager.
  statement {
    sid       = "DecryptThroughSecretsManager"
    actions   = ["kms:Decrypt"]
    resources = [aws_kms_key.secrets.arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["secretsmanager.${var.aws_region}.amazonaws.com"]
    }
  }
}

resource "aws_iam_role_policy" "external_secrets" {
  name   = "read-application-secrets"
  role   = aws_iam_role.external_secrets.id
  policy = data.aws_iam_policy_document.external_secrets.json
}
