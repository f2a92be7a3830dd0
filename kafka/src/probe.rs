//! A metadata-only broker client for readiness checks.

use std::{sync::Arc, time::Duration};

use anyhow::Context;
use rdkafka::consumer::{BaseConsumer, Consumer};

use crate::settings::KafkaSettings;

/// Answers "can this process reach the broker right now?" by fetching cluster metadata.
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

    /// Fetches metadata within two seconds, off the async threads (librdkafka blocks).
    pub async fn check(&self) -> anyhow::Result<()> {
        let consumer = self.0.clone();
        tokio::task::spawn_blocking(move || {
            consumer
                .fetch_metadata(None, Duration::from_secs(2))
                .map(|_| ())
                .map_err(|e| anyhow::anyhow!("broker metadata: {e}"))
        })
        .await
        .context("broker probe task")?
    }
}
