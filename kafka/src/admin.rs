//! Topic administration: creating the event topics (and a consumer's own topics) where the
//! platform does not.

use std::time::Duration;

use anyhow::Context;
use rdkafka::{
    admin::{AdminClient, AdminOptions, NewTopic, TopicReplication},
    client::DefaultClientContext,
    types::RDKafkaErrorCode,
};

use crate::settings::KafkaSettings;

/// Creates the event topics that do not exist yet, with unlimited retention: the topics are the
/// replay source for read models and downstream consumers, so nothing may age out.
pub async fn ensure_topics(settings: &KafkaSettings) -> anyhow::Result<()> {
    ensure_named_topics(settings, &settings.topics.all()).await
}

/// Creates the topics named that do not exist yet, with `settings`' partitions and replication
/// and unlimited retention (event topics, and a consumer's own, such as a dead-letter topic).
pub async fn ensure_named_topics(settings: &KafkaSettings, names: &[&str]) -> anyhow::Result<()> {
    let admin: AdminClient<DefaultClientContext> = settings
        .client_config()
        .create()
        .context("creating the Kafka admin client")?;
    let partitions = settings.partitions;
    let new_topics: Vec<NewTopic<'_>> = names
        .iter()
        .map(|name| {
            let replication = TopicReplication::Fixed(settings.replication_factor);
            NewTopic::new(name, partitions, replication).set("retention.ms", "-1")
        })
        .collect();
    let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
    let results = admin
        .create_topics(&new_topics, &options)
        .await
        .context("creating topics")?;
    for result in results {
        match result {
            Ok(topic) => tracing::info!(%topic, partitions, "created topic"),
            Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((topic, code)) => anyhow::bail!("creating topic {topic} failed: {code}"),
        }
    }
    Ok(())
}
