# The two event topics, as k8s/platform/kafka/kafka-topics.yaml declares them for Strimzi. Retention is
# unlimited: the topics are the replay source of read-model rebuilds. Six partitions cap useful
# projector replicas at six; raising it later re-partitions keys, so it is sized once.

resource "kafka_topic" "user_events" {
  name               = "cloudcommerce.user-events"
  partitions         = 6
  replication_factor = 3

  config = {
    "retention.ms"           = "-1"
    "retention.bytes"        = "-1"
    "cleanup.policy"         = "delete"
    "min.insync.replicas"    = "2"
    "message.timestamp.type" = "CreateTime"
  }

  # Deleting a topic deletes the event log itself.
  lifecycle {
    prevent_destroy = true
  }

  depends_on = [kafka_acl.admin_cluster, kafka_acl.admin_topics]
}

resource "kafka_topic" "product_events" {
  name               = "cloudcommerce.product-events"
  partitions         = 6
  replication_factor = 3

  config = {
    "retention.ms"           = "-1"
    "retention.bytes"        = "-1"
    "cleanup.policy"         = "delete"
    "min.insync.replicas"    = "2"
    "message.timestamp.type" = "CreateTime"
  }

  lifecycle {
    prevent_destroy = true
  }

  depends_on = [kafka_acl.admin_cluster, kafka_acl.admin_topics]
}
