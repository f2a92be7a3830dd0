# Mail through Amazon SES's SMTP interface. The notifier sends the verification and
# password-reset mails from no-reply@<mail_domain>, a domain SES verifies by Easy DKIM: the
# operator adds the three CNAME records of output mail_dkim_records to the domain's DNS, and SES
# signs every message with keys it rotates itself.
#
# SES's SMTP interface accepts no other login than an IAM user's access key (no IRSA, no role):
# one user that may send from that domain and do nothing else, whose key becomes the SMTP
# password (the provider derives it: ses_smtp_password_v4). Both land in cloudcommerce/smtp in the
# shape the notifier's Secret cc-smtp has, so nobody copies a credential by hand. A new account's
# SES sends only to verified addresses (the sandbox) until production access is granted: a
# request in the console, once (README.md).

locals {
  smtp_host = "email-smtp.${var.aws_region}.amazonaws.com"
}

resource "aws_sesv2_email_identity" "mail" {
  email_identity = var.mail_domain

  dkim_signing_attributes {
    next_signing_key_length = "RSA_2048_BIT"
  }
}

resource "aws_iam_user" "smtp" {
  # checkov:skip=CKV_AWS_273: SES's SMTP interface authenticates with an IAM user's access key only; this user can send mail from one domain and nothing else
  name = "${var.name}-ses-smtp"
  path = "/${var.name}/"
}

# SendRawEmail is what every SMTP submission is; only from the verified domain's addresses.
data "aws_iam_policy_document" "smtp" {
  statement {
    sid       = "SendFromTheMailDomainOnly"
    actions   = ["ses:SendRawEmail"]
    resources = [aws_sesv2_email_identity.mail.arn]

    condition {
      test     = "StringLike"
      variable = "ses:FromAddress"
      values   = ["*@${var.mail_domain}"]
    }
  }
}

resource "aws_iam_user_policy" "smtp" {
  # checkov:skip=CKV_AWS_40: the SMTP login is a user by necessity (SES's SMTP interface), and a group around one user for one statement adds a resource without removing a right
  name   = "send-mail"
  user   = aws_iam_user.smtp.name
  policy = data.aws_iam_policy_document.smtp.json
}

# Rotating: `tofu apply -replace=aws_iam_access_key.smtp`, then roll the notifier (it reads the
# secret at start); the old key stops working at once.
resource "aws_iam_access_key" "smtp" {
  user = aws_iam_user.smtp.name
}

resource "aws_secretsmanager_secret" "smtp" {
  # checkov:skip=CKV2_AWS_57: the SMTP password is derived from the SMTP user's access key, which a Secrets Manager rotation Lambda does not know how to replace; rotation is a planned replace of aws_iam_access_key.smtp
  name                    = "cloudcommerce/smtp"
  description             = "SES SMTP login of the notifier: JSON url (smtp://<key id>@host:587?tls=required), password"
  kms_key_id              = aws_kms_key.secrets.arn
  recovery_window_in_days = var.secret_recovery_window_days
}

# STARTTLS on 587, required: the notifier refuses to send if the server does not offer it.
resource "aws_secretsmanager_secret_version" "smtp" {
  secret_id = aws_secretsmanager_secret.smtp.id
  secret_string = jsonencode({
    url      = "smtp://${aws_iam_access_key.smtp.id}@${local.smtp_host}:587?tls=required"
    password = aws_iam_access_key.smtp.ses_smtp_password_v4
  })
}
