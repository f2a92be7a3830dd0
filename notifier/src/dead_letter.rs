//! The dead-letter topic: where a message goes that can never be handled (no valid envelope, a
//! payload that does not match its type, an address no mail can go to, a relay that refuses
//! the mail for good). It is copied verbatim (key, payload, every header, timestamp) with
//! `cc_dlq_reason`, `cc_dlq_source_topic`, `cc_dlq_source_partition`, `cc_dlq_source_offset`
//! and `cc_dlq_failed_at` (RFC 3339) added, so it can be inspected and produced again to the
//! source topic once the cause is fixed.

use std::time::Duration;

use anyhow::Context;
use kafka::KafkaSettings;
use rdkafka::{
    Message,
    message::{Header, Headers, OwnedHeaders, OwnedMessage},
    producer::{FutureProducer, FutureRecord},
};

/// Why a message is dead-lettered: a stable code (the metric's `reason` label) and a detail
/// that never quotes a payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason {
    pub code: &'static str,
    pub detail: String,
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.detail)
    }
}

pub struct DeadLetters {
    settings: KafkaSettings,
    producer: FutureProducer,
    topic: String,
}

impl std::fmt::Debug for DeadLetters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeadLetters")
            .field("topic", &self.topic)
            .finish_non_exhaustive()
    }
}

impl DeadLetters {
    pub fn new(settings: &KafkaSettings, topic: &str) -> anyhow::Result<Self> {
        Ok(Self {
            producer: kafka::producer::idempotent_producer(settings)?,
            settings: settings.clone(),
            topic: topic.to_owned(),
        })
    }

    /// Produces the copy and waits for the broker's acknowledgement. After a failure the
    /// producer is replaced (an idempotent producer whose broker forgot it stays fenced).
    pub async fn send(&mut self, message: &OwnedMessage, reason: &Reason) -> anyhow::Result<()> {
        let headers = copied_headers(message, reason, &chrono::Utc::now().to_rfc3339());
        let mut record: FutureRecord<'_, [u8], [u8]> =
            FutureRecord::to(&self.topic).headers(headers);
        if let Some(key) = message.key() {
            record = record.key(key);
        }
        if let Some(payload) = message.payload() {
            record = record.payload(payload);
        }
        if let Some(millis) = message.timestamp().to_millis() {
            record = record.timestamp(millis);
        }
        let sent = self
            .producer
            .send(record, Duration::from_secs(10))
            .await
            .map_err(|(error, _)| error)
            .with_context(|| format!("producing to the dead-letter topic {}", self.topic));
        if sent.is_err() {
            match kafka::producer::idempotent_producer(&self.settings) {
                Ok(fresh) => self.producer = fresh,
                Err(error) => tracing::warn!(error = format!("{error:#}"), "renewing the producer"),
            }
        }
        sent.map(|_| ())
    }
}

/// Every header of `message` as it was, then the `cc_dlq_*` ones.
fn copied_headers(message: &OwnedMessage, reason: &Reason, failed_at: &str) -> OwnedHeaders {
    let original = message.headers().map(|headers| {
        headers.iter().fold(OwnedHeaders::new(), |copy, header| {
            copy.insert(Header {
                key: header.key,
                value: header.value,
            })
        })
    });
    let added = [
        ("cc_dlq_reason", reason.to_string()),
        ("cc_dlq_source_topic", message.topic().to_owned()),
        ("cc_dlq_source_partition", message.partition().to_string()),
        ("cc_dlq_source_offset", message.offset().to_string()),
        ("cc_dlq_failed_at", failed_at.to_owned()),
    ];
    added
        .iter()
        .fold(original.unwrap_or_default(), |headers, (key, value)| {
            headers.insert(Header {
                key,
                value: Some(value.as_bytes()),
            })
        })
}

#[cfg(test)]
mod tests {
    use rdkafka::Timestamp;

    use super::*;

    #[test]
    fn the_copy_keeps_every_header_and_adds_where_it_came_from() {
        let original = OwnedHeaders::new()
            .insert(Header {
                key: "ce_type",
                value: Some("user.registered".as_bytes()),
            })
            .insert(Header {
                key: "binary",
                value: Some([0_u8, 255].as_slice()),
            })
            .insert::<[u8]>(Header {
                key: "empty",
                value: None,
            });
        let message = OwnedMessage::new(
            Some(b"payload".to_vec()),
            Some(b"key".to_vec()),
            "user-events".to_owned(),
            Timestamp::CreateTime(1),
            4,
            17,
            Some(original),
        );
        let reason = Reason {
            code: "undecodable",
            detail: "no ce_id".to_owned(),
        };
        let copied = copied_headers(&message, &reason, "2026-01-01T00:00:00+00:00");
        let pairs: Vec<(String, Option<Vec<u8>>)> = copied
            .iter()
            .map(|h| (h.key.to_owned(), h.value.map(<[u8]>::to_vec)))
            .collect();
        let text = |v: &str| Some(v.as_bytes().to_vec());
        assert_eq!(
            pairs,
            [
                ("ce_type".to_owned(), text("user.registered")),
                ("binary".to_owned(), Some(vec![0, 255])),
                ("empty".to_owned(), None),
                ("cc_dlq_reason".to_owned(), text("undecodable: no ce_id")),
                ("cc_dlq_source_topic".to_owned(), text("user-events")),
                ("cc_dlq_source_partition".to_owned(), text("4")),
                ("cc_dlq_source_offset".to_owned(), text("17")),
                (
                    "cc_dlq_failed_at".to_owned(),
                    text("2026-01-01T00:00:00+00:00")
                ),
            ]
        );
    }
}
