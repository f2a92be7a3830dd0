//! The CloudEvents 1.0 Kafka binary-mode envelope: event attributes as `ce_*` headers, the
//! payload as the JSON value, the aggregate id as the key.
//!
//! Headers on every message: `ce_specversion` (1.0), `ce_id` (event id), `ce_source`
//! (`/cloudcommerce/<stream type>`), `ce_type` (e.g. `product.price_changed`), `ce_subject`
//! (aggregate id), `ce_time` (RFC 3339), `ce_sequence` (stream version as 20 zero-padded
//! digits, see [`sequence`]), `ce_schemaversion`, `ce_dataschema`, `ce_correlationid`,
//! `ce_causationid` (when known), `ce_actor`, `traceparent` (when known) and
//! `content-type: application/json`.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rdkafka::message::{Header, Headers, Message, OwnedHeaders};
use uuid::Uuid;

pub const SPEC_VERSION: &str = "1.0";
pub const CONTENT_TYPE: &str = "application/json";

/// Where an event's JSON Schema lives, as a stable URN (the files are under `contracts/schemas/`).
pub fn dataschema(event_type: &str, schema_version: i32) -> String {
    format!("urn:cloudcommerce:schema:{event_type}:v{schema_version}")
}

/// Digits of a `ce_sequence` value. 20 holds every `u64` (and so every non-negative `i64`), so
/// the width never has to grow.
pub const SEQUENCE_WIDTH: usize = 20;

/// The `ce_sequence` value of a stream version: decimal, zero-padded to [`SEQUENCE_WIDTH`]
/// digits (`00000000000000000012`). The CloudEvents sequence extension compares values as
/// strings; padded, string order is numeric order, where plain `9` would sort after `10`.
pub fn sequence(stream_version: i64) -> String {
    format!("{stream_version:0SEQUENCE_WIDTH$}")
}

/// The stream version in a `ce_sequence` value: decimal digits, padded or not. Messages written
/// before the padding (`12`) stay on the topics forever (retention is unlimited), so both forms
/// must keep parsing. A sign, which `i64::from_str` would take, is refused: no producer of this
/// contract writes one.
pub fn parse_sequence(value: &str) -> Option<i64> {
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    value.parse().ok()
}

/// What the envelope needs of an event: the view every publisher fills from whatever it stores.
/// This crate owns it so that the transport depends on no storage crate.
#[derive(Debug, Clone, Copy)]
pub struct Outgoing<'a> {
    pub event_id: Uuid,
    pub stream_id: Uuid,
    /// `user`, `product`: names the CloudEvents source.
    pub stream_type: &'a str,
    pub stream_version: i64,
    pub event_type: &'a str,
    pub schema_version: i32,
    pub payload: &'a serde_json::Value,
    pub correlation_id: Uuid,
    pub causation_id: Option<Uuid>,
    pub actor: &'a str,
    pub traceparent: Option<&'a str>,
    pub recorded_at: DateTime<Utc>,
}

/// Key, headers and value of the message that carries `event`.
pub fn encode(event: &Outgoing<'_>) -> (String, OwnedHeaders, Vec<u8>) {
    let key = event.stream_id.to_string();
    let text_headers = [
        ("ce_specversion", Some(SPEC_VERSION.to_owned())),
        ("ce_id", Some(event.event_id.to_string())),
        (
            "ce_source",
            Some(format!("/cloudcommerce/{}", event.stream_type)),
        ),
        ("ce_type", Some(event.event_type.to_owned())),
        ("ce_subject", Some(key.clone())),
        ("ce_time", Some(event.recorded_at.to_rfc3339())),
        ("ce_sequence", Some(sequence(event.stream_version))),
        ("ce_schemaversion", Some(event.schema_version.to_string())),
        (
            "ce_dataschema",
            Some(dataschema(event.event_type, event.schema_version)),
        ),
        ("ce_correlationid", Some(event.correlation_id.to_string())),
        (
            "ce_causationid",
            event.causation_id.map(|id| id.to_string()),
        ),
        ("ce_actor", Some(event.actor.to_owned())),
        ("traceparent", event.traceparent.map(str::to_owned)),
        ("content-type", Some(CONTENT_TYPE.to_owned())),
    ];
    let headers = text_headers
        .iter()
        .filter_map(|(name, value)| value.as_ref().map(|v| (*name, v)))
        .fold(OwnedHeaders::new(), |headers, (key, value)| {
            headers.insert(Header {
                key,
                value: Some(value.as_bytes()),
            })
        });
    let value = serde_json::to_vec(event.payload).unwrap_or_default();
    (key, headers, value)
}

/// An event read back from a topic.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedEvent {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub event_id: Uuid,
    pub stream_id: Uuid,
    pub stream_version: i64,
    pub event_type: String,
    pub schema_version: i32,
    pub time: DateTime<Utc>,
    pub correlation_id: Option<Uuid>,
    pub causation_id: Option<Uuid>,
    pub actor: Option<String>,
    pub traceparent: Option<String>,
    pub payload: serde_json::Value,
    /// Every header as text, for consumers that want more than the fields above.
    pub headers: BTreeMap<String, String>,
}

#[derive(Debug, thiserror::Error)]
pub enum EnvelopeError {
    #[error("message at {topic}/{partition}@{offset} lacks header {header}")]
    MissingHeader {
        topic: String,
        partition: i32,
        offset: i64,
        header: &'static str,
    },
    #[error("message at {topic}/{partition}@{offset} has an invalid {header}: {value:?}")]
    InvalidHeader {
        topic: String,
        partition: i32,
        offset: i64,
        header: &'static str,
        value: String,
    },
    /// The parse error is part of the message, not a `source`, so it is printed once.
    #[error("message at {topic}/{partition}@{offset} has a body that is not JSON: {cause}")]
    InvalidBody {
        topic: String,
        partition: i32,
        offset: i64,
        cause: serde_json::Error,
    },
}

/// Reads a message written by [`encode`] (or by any producer that follows the same contract).
pub fn decode<M: Message>(message: &M) -> Result<DecodedEvent, EnvelopeError> {
    let topic = message.topic().to_owned();
    let (partition, offset) = (message.partition(), message.offset());
    let header = |name: &'static str| header_value(message, name);
    let required = |name: &'static str| {
        header(name).ok_or_else(|| EnvelopeError::MissingHeader {
            topic: topic.clone(),
            partition,
            offset,
            header: name,
        })
    };
    let invalid = |name: &'static str, value: String| EnvelopeError::InvalidHeader {
        topic: topic.clone(),
        partition,
        offset,
        header: name,
        value,
    };
    let parse_uuid = |name: &'static str, value: String| {
        Uuid::parse_str(&value).map_err(|_| invalid(name, value))
    };
    let event_id = parse_uuid("ce_id", required("ce_id")?)?;
    let stream_id = parse_uuid("ce_subject", required("ce_subject")?)?;
    let sequence_text = required("ce_sequence")?;
    let stream_version = parse_sequence(&sequence_text)
        .ok_or_else(|| invalid("ce_sequence", sequence_text.clone()))?;
    let schema = header("ce_schemaversion").unwrap_or_else(|| "1".to_owned());
    let schema_version = schema
        .parse()
        .map_err(|_| invalid("ce_schemaversion", schema.clone()))?;
    let time_text = required("ce_time")?;
    let time = DateTime::parse_from_rfc3339(&time_text)
        .map_err(|_| invalid("ce_time", time_text.clone()))?
        .with_timezone(&Utc);
    let optional_uuid = |name: &'static str| header(name).and_then(|v| Uuid::parse_str(&v).ok());
    let payload =
        serde_json::from_slice(message.payload().unwrap_or(b"null")).map_err(|cause| {
            EnvelopeError::InvalidBody {
                topic: topic.clone(),
                partition,
                offset,
                cause,
            }
        })?;
    Ok(DecodedEvent {
        event_type: required("ce_type")?,
        correlation_id: optional_uuid("ce_correlationid"),
        causation_id: optional_uuid("ce_causationid"),
        actor: header("ce_actor"),
        traceparent: header("traceparent"),
        headers: message
            .headers()
            .map(|headers| {
                headers
                    .iter()
                    .map(|h| {
                        let value = h.value.map(String::from_utf8_lossy).unwrap_or_default();
                        (h.key.to_owned(), value.into_owned())
                    })
                    .collect()
            })
            .unwrap_or_default(),
        topic: topic.clone(),
        partition,
        offset,
        event_id,
        stream_id,
        stream_version,
        schema_version,
        time,
        payload,
    })
}

/// The value of one header, for tests and tools that inspect raw messages.
pub fn header_value<M: Message>(message: &M, name: &str) -> Option<String> {
    message.headers().and_then(|headers| {
        headers
            .iter()
            .find(|h| h.key == name)
            .and_then(|h| h.value)
            .map(|v| String::from_utf8_lossy(v).into_owned())
    })
}

#[cfg(test)]
mod tests {
    use rdkafka::{Timestamp, message::OwnedMessage};

    use super::*;

    fn outgoing(payload: &serde_json::Value, stream_version: i64) -> Outgoing<'_> {
        Outgoing {
            event_id: Uuid::now_v7(),
            stream_id: Uuid::now_v7(),
            stream_type: "product",
            stream_version,
            event_type: "product.price_changed",
            schema_version: 1,
            payload,
            correlation_id: Uuid::now_v7(),
            causation_id: None,
            actor: "system",
            traceparent: None,
            recorded_at: Utc::now(),
        }
    }

    /// The message `encode` would produce, with `ce_sequence` replaced by `sequence`.
    fn message_with_sequence(stream_version: i64, sequence: &str) -> OwnedMessage {
        let payload = serde_json::json!({ "price": 1 });
        let (key, headers, value) = encode(&outgoing(&payload, stream_version));
        let headers = headers.iter().fold(OwnedHeaders::new(), |kept, header| {
            let value = if header.key == "ce_sequence" {
                Some(sequence.as_bytes())
            } else {
                header.value
            };
            kept.insert(Header {
                key: header.key,
                value,
            })
        });
        OwnedMessage::new(
            Some(value),
            Some(key.into_bytes()),
            "cloudcommerce.product-events".to_owned(),
            Timestamp::NotAvailable,
            0,
            7,
            Some(headers),
        )
    }

    #[test]
    fn sequence_is_zero_padded_to_twenty_digits() {
        assert_eq!(sequence(1), "00000000000000000001");
        assert_eq!(sequence(12), "00000000000000000012");
        assert_eq!(sequence(i64::MAX), "09223372036854775807");
        assert_eq!(sequence(i64::MAX).len(), SEQUENCE_WIDTH);
    }

    #[test]
    fn sequences_sort_as_strings_in_stream_order() {
        let versions = [1, 2, 9, 10, 11, 99, 100, 1_000_000, i64::MAX];
        let mut texts: Vec<String> = versions.iter().rev().map(|&v| sequence(v)).collect();
        texts.sort();
        let parsed: Vec<i64> = texts.iter().filter_map(|t| parse_sequence(t)).collect();
        assert_eq!(parsed, versions);
    }

    #[test]
    fn encode_writes_the_padded_sequence_header() {
        let payload = serde_json::json!({});
        let (_, headers, _) = encode(&outgoing(&payload, 42));
        let message = OwnedMessage::new(
            None,
            None,
            "t".to_owned(),
            Timestamp::NotAvailable,
            0,
            0,
            Some(headers),
        );
        assert_eq!(
            header_value(&message, "ce_sequence").as_deref(),
            Some("00000000000000000042")
        );
    }

    #[test]
    fn decode_reads_padded_and_unpadded_sequences_alike() {
        for text in ["00000000000000000012", "12", "012"] {
            let decoded = decode(&message_with_sequence(12, text)).expect(text);
            assert_eq!(decoded.stream_version, 12, "{text}");
            assert_eq!(decoded.headers["ce_sequence"], text);
        }
    }

    #[test]
    fn decode_refuses_a_sequence_that_is_not_plain_digits() {
        for text in [
            "",
            "+12",
            "-12",
            " 12",
            "12a",
            "0x0c",
            "99999999999999999999",
        ] {
            let error = decode(&message_with_sequence(12, text)).expect_err(text);
            assert!(
                matches!(
                    error,
                    EnvelopeError::InvalidHeader {
                        header: "ce_sequence",
                        ..
                    }
                ),
                "{text}: {error}"
            );
        }
    }
}
