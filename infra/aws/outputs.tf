# Outputs read by the k8s/overlays/aws walk-through: each name, in UPPER_SNAKE, is a key of
# k8s/overlays/aws/cloud.env. Renaming one breaks the overlay.

output "aws_region" {
  description = "Region of every resource (ExternalSecrets' SecretStore)."
  value       = var.aws_region
}

output "cluster_name" {
  description = "EKS cluster name (aws eks update-kubeconfig --name ...)."
  value       = aws_eks_cluster.main.name
}

output "vpc_cidr" {
  description = "VPC range; NetworkPolicy egress to RDS and MSK targets it."
  value       = aws_vpc.main.cidr_block
}

output "data_subnets_cidr" {
  description = "The block holding the RDS and MSK subnets; NetworkPolicy egress to PostgreSQL and Kafka targets it."
  value       = local.data_block
}

output "database_host" {
  description = "RDS endpoint host name, without the port (5432)."
  value       = aws_db_instance.main.address
}

output "database_admin_secret_arn" {
  description = "ARN of the RDS-managed secret of cc_admin (JSON username, password), read by the migration Job."
  value       = aws_db_instance.main.master_user_secret[0].secret_arn
}

output "kafka_bootstrap_servers" {
  description = "MSK SASL/SCRAM bootstrap brokers, comma-separated host:9096."
  value       = aws_msk_cluster.main.bootstrap_brokers_sasl_scram
}

output "external_secrets_role_arn" {
  description = "IRSA role ARN for the cc-external-secrets ServiceAccount annotation."
  value       = aws_iam_role.external_secrets.arn
}

output "public_hostname" {
  description = "The API's public DNS name, as given."
  value       = var.public_hostname
}

output "mail_from" {
  description = "The notifier's sender (CC_MAIL__FROM): an address of the SES-verified mail_domain."
  value       = "CloudCommerce <no-reply@${var.mail_domain}>"
}

output "site_url" {
  description = "The shop's site the mails link to (CC_MAIL__LINK_BASE_URL), as given."
  value       = var.site_url
}

output "mail_dkim_records" {
  description = "The CNAME records that verify mail_domain in SES (Easy DKIM): add them to the domain's DNS."
  value = [for token in aws_sesv2_email_identity.mail.dkim_signing_attributes[0].tokens :
  "${token}._domainkey.${var.mail_domain} CNAME ${token}.dkim.amazonses.com"]
}
