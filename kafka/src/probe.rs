//! A metadata-only broker client: readiness checks, the partitions of a topic and their high
//! watermarks. It joins no group and fetches no message.

use std::{sync::Arc, time::Duration};

use anyhow::Context;
use rdkafka::consumer::{BaseConsumer, Consumer};

use crate::settings::KafkaSettings;

/// How long one metadata or offsets request may take.
const TIMEOUT: Duration = Duration::from_secs(2);

/// Answers "can this process reach the broker right now?" and "how long is this partition?".
/// Every call runs off the async threads (librdkafka blocks).
#[derive(Clone)]
pub struct BrokerProbe(Arc<BaseConsumer>);

impl std::fmt::Debug for BrokerProbe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BrokerProbe")
    }
}

impl BrokerProbe {
    pub fn new(settings: &KafkaSettings) -> anyhow::Result<Self> {
        let consumer: BaseConsumer = settings
            .client_config()
            .create()
            .context("creating the broker probe")?;
        Ok(Self(Arc::new(consumer)))
    }

    /// Fetches cluster metadata within two seconds.
    pub async fn check(&self) -> anyhow::Result<()> {
        self.blocking(|consumer| {
            consumer
                .fetch_metadata(None, TIMEOUT)
                .map(|_| ())
                .map_err(|e| anyhow::anyhow!("broker metadata: {e}"))
        })
        .await
    }

    /// The partition ids of `topic` (empty if the broker does not know it).
    pub async fn partitions(&self, topic: &str) -> anyhow::Result<Vec<i32>> {
        let topic = topic.to_owned();
        self.blocking(move |consumer| {
            let metadata = consumer
                .fetch_metadata(Some(&topic), TIMEOUT)
                .with_context(|| format!("metadata of {topic}"))?;
            Ok(metadata
                .topics()
                .iter()
                .filter(|t| t.name() == topic && t.error().is_none())
                .flat_map(|t| t.partitions().iter().map(|p| p.id()))
                .collect())
        })
        .await
    }

    /// The (low, high) watermarks of one partition, as the broker's ListOffsets reports them.
    /// On Kafka the high watermark is the offset the next message gets; the Tansu development
    /// broker reports the start of its newest record batch plus one, which can be lower.
    pub async fn watermarks(&self, topic: &str, partition: i32) -> anyhow::Result<(i64, i64)> {
        let topic = topic.to_owned();
        self.blocking(move |consumer| {
            consumer
                .fetch_watermarks(&topic, partition, TIMEOUT)
                .with_context(|| format!("watermarks of {topic}/{partition}"))
        })
        .await
    }

    async fn blocking<T: Send + 'static>(
        &self,
        call: impl FnOnce(&BaseConsumer) -> anyhow::Result<T> + Send + 'static,
    ) -> anyhow::Result<T> {
        let consumer = self.0.clone();
        tokio::task::spawn_blocking(move || call(&consumer))
            .await
            .context("broker probe task")?
    }
}
