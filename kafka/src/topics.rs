//! Topic names (one per aggregate type) and their creation at start-up.

use std::time::Duration;

use anyhow::Context;
use domain::{Aggregate, product::Product, user::User};
use rdkafka::{
    admin::{AdminClient, AdminOptions, NewTopic, TopicReplication},
    client::DefaultClientContext,
    types::RDKafkaErrorCode,
};

use crate::settings::KafkaSettings;

/// The event topics. Every event of an aggregate goes to its type's topic, keyed by aggregate id,
/// so one partition holds a whole stream in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topics {
    pub user: String,
    pub product: String,
}

impl Topics {
    pub const DEFAULT_USER: &'static str = "cloudcommerce.user-events";
    pub const DEFAULT_PRODUCT: &'static str = "cloudcommerce.product-events";

    /// The topic of a stream type, `None` for a type this version does not know.
    pub fn for_stream_type(&self, stream_type: &str) -> Option<&str> {
        if stream_type == User::STREAM_TYPE {
            Some(&self.user)
        } else if stream_type == Product::STREAM_TYPE {
            Some(&self.product)
        } else {
            None
        }
    }

    /// The stream type whose events a topic carries.
    pub fn stream_type_of(&self, topic: &str) -> Option<&'static str> {
        if topic == self.user {
            Some(User::STREAM_TYPE)
        } else if topic == self.product {
            Some(Product::STREAM_TYPE)
        } else {
            None
        }
    }

    pub fn all(&self) -> [&str; 2] {
        [&self.user, &self.product]
    }
}

/// Creates the topics that do not exist yet, with unlimited retention: the topics are the replay
/// source for read models and downstream consumers, so nothing may age out.
pub async fn ensure_topics(settings: &KafkaSettings) -> anyhow::Result<()> {
    let admin: AdminClient<DefaultClientContext> = settings
        .client_config()
        .create()
        .context("creating the Kafka admin client")?;
    let partitions = settings.partitions;
    let new_topics: Vec<NewTopic<'_>> = settings
        .topics
        .all()
        .into_iter()
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
