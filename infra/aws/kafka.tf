# Amazon MSK (provisioned, KRaft): three brokers over three zones, SASL/SCRAM over TLS only,
# KMS at rest, broker logs in CloudWatch. Topics and ACLs are infra/aws/kafka (they need a
# client inside the VPC).

resource "aws_security_group" "kafka" {
  name        = "${var.name}-kafka"
  description = "MSK SASL/SCRAM clients: the EKS cluster's nodes and pods only"
  vpc_id      = aws_vpc.main.id

  tags = { Name = "${var.name}-kafka" }
}

# 9096 is MSK's SASL/SCRAM-over-TLS listener, the only listener this cluster opens.
resource "aws_vpc_security_group_ingress_rule" "kafka_from_eks" {
  security_group_id            = aws_security_group.kafka.id
  description                  = "Kafka SASL/SCRAM (TLS) from EKS nodes and pods"
  referenced_security_group_id = aws_eks_cluster.main.vpc_config[0].cluster_security_group_id
  ip_protocol                  = "tcp"
  from_port                    = 9096
  to_port                      = 9096
}

# The hardened broker settings. allow.everyone.if.no.acl.found=false denies every principal
# without an ACL, which also blocks creating the first ACL (MSK has no super users): the cluster
# starts on MSK's default configuration and switches to this one with kafka_acls_ready (README).
# Not tied to one kafka_versions entry, so a version upgrade does not need a new configuration.
resource "aws_msk_configuration" "main" {
  name        = "${var.name}-brokers"
  description = "CloudCommerce brokers: explicit topics only, RF 3, min ISR 2, ACLs required"

  server_properties = <<-PROPERTIES
    auto.create.topics.enable=false
    default.replication.factor=3
    min.insync.replicas=2
    allow.everyone.if.no.acl.found=false
  PROPERTIES

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_cloudwatch_log_group" "kafka" {
  name              = "/aws/msk/${var.name}/brokers"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.logs.arn
}

resource "aws_msk_cluster" "main" {
  cluster_name = var.name

  # KRaft metadata mode (no ZooKeeper), like the Strimzi clusters of the other overlays.
  kafka_version          = "3.9.x.kraft"
  number_of_broker_nodes = 3
  enhanced_monitoring    = "PER_BROKER"

  broker_node_group_info {
    instance_type   = var.kafka_instance_type
    client_subnets  = [for s in aws_subnet.data : s.id]
    security_groups = [aws_security_group.kafka.id]

    storage_info {
      ebs_storage_info {
        volume_size = var.kafka_volume_size_gib
      }
    }

    connectivity_info {
      public_access {
        type = "DISABLED"
      }
    }
  }

  client_authentication {
    unauthenticated = false

    sasl {
      scram = true
      iam   = false
    }
  }

  encryption_info {
    encryption_at_rest_kms_key_arn = aws_kms_key.data.arn

    encryption_in_transit {
      client_broker = "TLS"
      in_cluster    = true
    }
  }

  dynamic "configuration_info" {
    for_each = var.kafka_acls_ready ? [aws_msk_configuration.main] : []

    content {
      arn      = configuration_info.value.arn
      revision = configuration_info.value.latest_revision
    }
  }

  logging_info {
    broker_logs {
      cloudwatch_logs {
        enabled   = true
        log_group = aws_cloudwatch_log_group.kafka.name
      }
    }
  }
}

# MSK reads each user's password from its AmazonMSK_ secret (secrets.tf). This resource owns the
# whole list of associations of the cluster.
resource "aws_msk_scram_secret_association" "main" {
  cluster_arn = aws_msk_cluster.main.arn
  secret_arn_list = [
    aws_secretsmanager_secret.msk_command_api.arn,
    aws_secretsmanager_secret.msk_projector.arn,
    aws_secretsmanager_secret.msk_notifier.arn,
    aws_secretsmanager_secret.msk_admin.arn,
  ]

  depends_on = [
    aws_secretsmanager_secret_version.msk,
    aws_secretsmanager_secret_policy.msk,
  ]
}
