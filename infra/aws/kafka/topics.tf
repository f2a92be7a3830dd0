# The two event topics and the notifier's dead letters, as k8s/platform/kafka/kafka-topics.yaml
# declares them for Strimzi. The event topics' retention is unlimited: they are the replay source
# of read-model rebuilds. Six partitions cap useful projector replicas at six; raising it later
# re-partitions keys, so it is sized once.

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

# What the notifier could not mail, for a person to look at. One partition (low volume); kept 30
# days: the events themselves stay in the event store and on the user topic.
resource "kafka_topic" "notifier_dead_letters" {
  name               = "cloudcommerce.notifier.dead-letters"
  partitions         = 1
  replication_factor = 3

  config = {
    "retention.ms"        = "2592000000"
    "cleanup.policy"      = "delete"
    "min.insync.replicas" = "2"
  }

  depends_on = [kafka_acl.admin_cluster, kafka_acl.admin_topics]
}
