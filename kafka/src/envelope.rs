//! The CloudEvents 1.0 Kafka binary-mode envelope: event attributes as `ce_*` headers, the
//! payload as the JSON value, the aggregate id as the key.
//!
//! Headers on every message: `ce_specversion` (1.0), `ce_id` (event id), `ce_source`
//! (`/cloudcommerce/<stream type>`), `ce_type` (e.g. `product.price_changed`), `ce_subject`
//! (aggregate id), `ce_time` (RFC 3339), `ce_sequence` (stream version, decimal),
//! `ce_schemaversion`, `ce_dataschema`, `ce_correlationid`, `ce_causationid` (when known),
//! `ce_actor`, `traceparent` (when known) and `content-type: application/json`.

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
        ("ce_sequence", Some(event.stream_version.to_string())),
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
    let sequence = required("ce_sequence")?;
    let stream_version = sequence
        .parse()
        .map_err(|_| invalid("ce_sequence", sequence.clone()))?;
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
