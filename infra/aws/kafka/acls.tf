# Kafka ACLs. The three application users mirror k8s/platform/kafka/kafka-users.yaml entry for entry
# (one block per entry, one ACL per operation). MSK has no super users, and the brokers run with
# allow.everyone.if.no.acl.found=false, so cc-admin gets explicit ACLs as well.

# --- cc-admin: manages topics and ACLs --------------------------------------------------------

# Alter on the cluster is the right to create ACLs, and it must exist first: the moment any ACL
# names the cluster, a principal without one is refused there, cc-admin included. Everything
# else in this module waits for it.
resource "kafka_acl" "admin_cluster_alter" {
  resource_name                = "kafka-cluster"
  resource_type                = "Cluster"
  resource_pattern_type_filter = "Literal"
  acl_principal                = "User:cc-admin"
  acl_host                     = "*"
  acl_operation                = "Alter"
  acl_permission_type          = "Allow"
}

# Create topics, list and describe ACLs and the cluster, read and change broker configs.
# Not ClusterAction (broker-to-broker only) and not All.
resource "kafka_acl" "admin_cluster" {
  for_each = toset(["Create", "Describe", "DescribeConfigs", "AlterConfigs"])

  resource_name                = "kafka-cluster"
  resource_type                = "Cluster"
  resource_pattern_type_filter = "Literal"
  acl_principal                = "User:cc-admin"
  acl_host                     = "*"
  acl_operation                = each.value
  acl_permission_type          = "Allow"

  depends_on = [kafka_acl.admin_cluster_alter]
}

# Manage the cloudcommerce.* topics. No Delete and no Read/Write: the admin login can neither
# drop the event log nor read or forge events.
resource "kafka_acl" "admin_topics" {
  for_each = toset(["Alter", "Create", "Describe", "DescribeConfigs", "AlterConfigs"])

  resource_name                = "cloudcommerce."
  resource_type                = "Topic"
  resource_pattern_type_filter = "Prefixed"
  acl_principal                = "User:cc-admin"
  acl_host                     = "*"
  acl_operation                = each.value
  acl_permission_type          = "Allow"

  depends_on = [kafka_acl.admin_cluster_alter]
}

# --- cc-command-api: the outbox relay produces both event topics --------------------------------

resource "kafka_acl" "command_api_user_events" {
  for_each = toset(["Write", "Describe"])

  resource_name                = "cloudcommerce.user-events"
  resource_type                = "Topic"
  resource_pattern_type_filter = "Literal"
  acl_principal                = "User:cc-command-api"
  acl_host                     = "*"
  acl_operation                = each.value
  acl_permission_type          = "Allow"

  depends_on = [kafka_acl.admin_cluster_alter]
}

resource "kafka_acl" "command_api_product_events" {
  for_each = toset(["Write", "Describe"])

  resource_name                = "cloudcommerce.product-events"
  resource_type                = "Topic"
  resource_pattern_type_filter = "Literal"
  acl_principal                = "User:cc-command-api"
  acl_host                     = "*"
  acl_operation                = each.value
  acl_permission_type          = "Allow"

  depends_on = [kafka_acl.admin_cluster_alter]
}

# Idempotent producer (enable.idempotence): per-partition dedupe of relay retries.
resource "kafka_acl" "command_api_cluster" {
  for_each = toset(["IdempotentWrite"])

  resource_name                = "kafka-cluster"
  resource_type                = "Cluster"
  resource_pattern_type_filter = "Literal"
  acl_principal                = "User:cc-command-api"
  acl_host                     = "*"
  acl_operation                = each.value
  acl_permission_type          = "Allow"

  depends_on = [kafka_acl.admin_cluster_alter]
}

# --- cc-projector: consumes both event topics ----------------------------------------------------

resource "kafka_acl" "projector_user_events" {
  for_each = toset(["Read", "Describe"])

  resource_name                = "cloudcommerce.user-events"
  resource_type                = "Topic"
  resource_pattern_type_filter = "Literal"
  acl_principal                = "User:cc-projector"
  acl_host                     = "*"
  acl_operation                = each.value
  acl_permission_type          = "Allow"

  depends_on = [kafka_acl.admin_cluster_alter]
}

resource "kafka_acl" "projector_product_events" {
  for_each = toset(["Read", "Describe"])

  resource_name                = "cloudcommerce.product-events"
  resource_type                = "Topic"
  resource_pattern_type_filter = "Literal"
  acl_principal                = "User:cc-projector"
  acl_host                     = "*"
  acl_operation                = each.value
  acl_permission_type          = "Allow"

  depends_on = [kafka_acl.admin_cluster_alter]
}

# The live consumer group.
resource "kafka_acl" "projector_group" {
  for_each = toset(["Read", "Describe"])

  resource_name                = "cloudcommerce-projector"
  resource_type                = "Group"
  resource_pattern_type_filter = "Literal"
  acl_principal                = "User:cc-projector"
  acl_host                     = "*"
  acl_operation                = each.value
  acl_permission_type          = "Allow"

  depends_on = [kafka_acl.admin_cluster_alter]
}

# Blue-green rebuilds read from the first event under their own group,
# cloudcommerce-projector-rebuild-<id>, side by side with the live group.
resource "kafka_acl" "projector_rebuild_groups" {
  for_each = toset(["Read", "Describe"])

  resource_name                = "cloudcommerce-projector-rebuild-"
  resource_type                = "Group"
  resource_pattern_type_filter = "Prefixed"
  acl_principal                = "User:cc-projector"
  acl_host                     = "*"
  acl_operation                = each.value
  acl_permission_type          = "Allow"

  depends_on = [kafka_acl.admin_cluster_alter]
}

# --- cc-notifier: reads the user topic, writes its dead letters -----------------------------------

# Read only: it cannot forge an event.
resource "kafka_acl" "notifier_user_events" {
  for_each = toset(["Read", "Describe"])

  resource_name                = "cloudcommerce.user-events"
  resource_type                = "Topic"
  resource_pattern_type_filter = "Literal"
  acl_principal                = "User:cc-notifier"
  acl_host                     = "*"
  acl_operation                = each.value
  acl_permission_type          = "Allow"

  depends_on = [kafka_acl.admin_cluster_alter]
}

# Its consumer group, cloudcommerce-notifier, and any group named after it (a replay from an
# earlier offset under a group of its own).
resource "kafka_acl" "notifier_groups" {
  for_each = toset(["Read", "Describe"])

  resource_name                = "cloudcommerce-notifier"
  resource_type                = "Group"
  resource_pattern_type_filter = "Prefixed"
  acl_principal                = "User:cc-notifier"
  acl_host                     = "*"
  acl_operation                = each.value
  acl_permission_type          = "Allow"

  depends_on = [kafka_acl.admin_cluster_alter]
}

# No IdempotentWrite on the cluster: from Kafka 3.0, Write on a topic is what an idempotent
# producer needs (KIP-679).
resource "kafka_acl" "notifier_dead_letters" {
  for_each = toset(["Write", "Describe"])

  resource_name                = "cloudcommerce.notifier.dead-letters"
  resource_type                = "Topic"
  resource_pattern_type_filter = "Literal"
  acl_principal                = "User:cc-notifier"
  acl_host                     = "*"
  acl_operation                = each.value
  acl_permission_type          = "Allow"

  depends_on = [kafka_acl.admin_cluster_alter]
}
