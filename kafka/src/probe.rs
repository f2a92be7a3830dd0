//! A metadata-only broker client: readiness checks, the partitions of a topic and their high
//! watermarks. It joins no group and fetches no message.
//!
//! After any failed call the client is replaced by a fresh one. A broker that restarts empty
//! and gets its topics back gives them new topic ids, and librdkafka 2.12 can crash replacing a
//! cached topic with the same name and another id (a stale entry in its metadata cache,
//! confluentinc/librdkafka#4964, #5280). A client that saw the broker fail or a topic vanish is
//! dropped before it can cache the new id next to the old one.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use anyhow::Context;
use rdkafka::consumer::{BaseConsumer, Consumer};

use crate::settings::KafkaSettings;

/// How long one metadata or offsets request may take.
const TIMEOUT: Duration = Duration::from_secs(2);

/// Answers "can this process reach the broker right now?" and "how long is this partition?".
/// Every call runs off the async threads (librdkafka blocks).
#[derive(Clone)]
pub struct BrokerProbe {
    settings: KafkaSettings,
    client: Arc<Mutex<Arc<BaseConsumer>>>,
}

impl std::fmt::Debug for BrokerProbe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BrokerProbe")
    }
}

impl BrokerProbe {
    pub fn new(settings: &KafkaSettings) -> anyhow::Result<Self> {
        Ok(Self {
            client: Arc::new(Mutex::new(Arc::new(client(settings)?))),
            settings: settings.clone(),
        })
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

    /// The partition ids of `topic`; an error if the broker does not know it.
    pub async fn partitions(&self, topic: &str) -> anyhow::Result<Vec<i32>> {
        let topic = topic.to_owned();
        self.blocking(move |consumer| {
            let metadata = consumer
                .fetch_metadata(Some(&topic), TIMEOUT)
                .with_context(|| format!("metadata of {topic}"))?;
            let described = metadata.topics().iter().find(|t| t.name() == topic);
            match described.map(|t| (t.error(), t.partitions())) {
                Some((None, partitions)) => Ok(partitions.iter().map(|p| p.id()).collect()),
                Some((Some(error), _)) => anyhow::bail!("metadata of {topic}: {error:?}"),
                None => anyhow::bail!("the broker did not describe {topic}"),
            }
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
        let consumer = self.current();
        let result = tokio::task::spawn_blocking(move || call(&consumer))
            .await
            .context("broker probe task")?;
        if result.is_err() {
            self.renew();
        }
        result
    }

    fn current(&self) -> Arc<BaseConsumer> {
        // A poisoned lock only means a panic while swapping an Arc; the value is whole.
        self.client
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Replaces the client by a fresh one (see the module documentation).
    fn renew(&self) {
        match client(&self.settings) {
            Ok(fresh) => {
                *self
                    .client
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner()) = Arc::new(fresh);
            }
            Err(error) => tracing::warn!(error = format!("{error:#}"), "renewing the broker probe"),
        }
    }
}

fn client(settings: &KafkaSettings) -> anyhow::Result<BaseConsumer> {
    settings
        .client_config()
        .create()
        .context("creating the broker probe")
}
