//! The published event contracts, generated from the domain's event catalog: one JSON Schema per
//! event type and version, and the AsyncAPI 3.0 document that ties them to topics, keys and
//! CloudEvents headers.
//!
//! Pure: [`render_all`] returns file contents and `tests/contracts.rs` compares them with (or,
//! with `CC_UPDATE_CONTRACTS=1`, writes them to) this crate's folder, `contracts/` at the
//! workspace root. A development crate: no service links it, so the runtime carries no generator. The document
//! is JSON rather than YAML so the generator needs no YAML crate and no consumer needs a YAML
//! parser; AsyncAPI tools read both.

use std::collections::BTreeMap;

use chrono::DateTime;
use domain::{Aggregate, DomainEvent, EventTypeInfo, Product, User};
use kafka::{
    Topics,
    envelope::{
        CONTENT_TYPE, Outgoing, SEQUENCE_WIDTH, SPEC_VERSION, dataschema, encode, sequence,
    },
};
use rdkafka::message::{Headers, OwnedHeaders};
use serde_json::{Map, Value, json};
use uuid::Uuid;

/// Path of the AsyncAPI document, relative to `contracts/`.
pub const ASYNCAPI_FILE: &str = "asyncapi.json";
/// Folder of the payload schemas, relative to `contracts/`.
pub const SCHEMA_DIR: &str = "schemas";

/// Headers every message carries. `ce_causationid` and `traceparent` are sent only when known.
pub const REQUIRED_HEADERS: [&str; 12] = [
    "ce_specversion",
    "ce_id",
    "ce_source",
    "ce_type",
    "ce_subject",
    "ce_time",
    "ce_sequence",
    "ce_schemaversion",
    "ce_dataschema",
    "ce_correlationid",
    "ce_actor",
    "content-type",
];

/// Version of the Kafka bindings objects used below.
const KAFKA_BINDING_VERSION: &str = "0.5.0";

/// What `Actor::label` records: a user id, `system` or `anonymous`.
const ACTOR_PATTERN: &str =
    "^(system|anonymous|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$";
/// The W3C trace-context shape the command API accepts (it drops anything else).
const TRACEPARENT_PATTERN: &str = "^[0-9a-fA-F]{2}-[0-9a-fA-F]{32}-[0-9a-fA-F]{16}-[0-9a-fA-F]{2}$";

/// One topic and the event types it carries.
#[derive(Debug, Clone)]
pub struct ChannelContract {
    /// Key of the channel in the AsyncAPI document, e.g. `userEvents`.
    pub id: &'static str,
    pub topic: &'static str,
    pub stream_type: &'static str,
    pub events: Vec<EventTypeInfo>,
}

/// Every published topic with its catalog, in document order.
pub fn channels() -> Vec<ChannelContract> {
    vec![
        channel::<User>("userEvents", Topics::DEFAULT_USER),
        channel::<Product>("productEvents", Topics::DEFAULT_PRODUCT),
    ]
}

fn channel<A: Aggregate>(id: &'static str, topic: &'static str) -> ChannelContract {
    ChannelContract {
        id,
        topic,
        stream_type: A::STREAM_TYPE,
        events: <A::Event as DomainEvent>::catalog(),
    }
}

/// `product.price_changed.v1.json`: the type and version, so versions of one type sit side by side.
pub fn schema_file_name(info: &EventTypeInfo) -> String {
    format!("{}.v{}.json", info.event_type, info.schema_version)
}

/// Every generated file, keyed by its path relative to `contracts/`.
pub fn render_all() -> BTreeMap<String, String> {
    let mut files = BTreeMap::new();
    for channel in channels() {
        for info in &channel.events {
            let path = format!("{SCHEMA_DIR}/{}", schema_file_name(info));
            files.insert(path, pretty(event_schema(info)));
            if let Some(plaintext) = plaintext_info(info) {
                let path = format!("{SCHEMA_DIR}/{}", schema_file_name(&plaintext));
                files.insert(path, pretty(event_schema(&plaintext)));
            }
        }
    }
    files.insert(ASYNCAPI_FILE.to_owned(), pretty(asyncapi()));
    files
}

/// The version of `info`'s type that carried its personal fields in clear, if it had one: still
/// on the topics until a store is brought to the sealed form, so its schema stays published.
pub fn plaintext_info(info: &EventTypeInfo) -> Option<EventTypeInfo> {
    let version = info.plaintext_version?;
    Some(EventTypeInfo {
        schema_version: version,
        schema: info.plaintext_schema,
        published_schema: info.plaintext_schema,
        published_example: info.example,
        personal_fields: &[],
        plaintext_version: None,
        ..info.clone()
    })
}

/// The payload schema as published: the generated schema named by its `ce_dataschema` URN,
/// titled by the event type (the Rust struct name schemars puts there means nothing outside).
pub fn event_schema(info: &EventTypeInfo) -> Value {
    let mut schema = (info.published_schema)();
    if let Some(object) = schema.as_object_mut() {
        let description = object
            .get("description")
            .and_then(Value::as_str)
            .map_or_else(|| format!("Payload of {}.", info.event_type), str::to_owned);
        object.insert(
            "$id".into(),
            dataschema(info.event_type, info.schema_version).into(),
        );
        object.insert("title".into(), info.event_type.into());
        object.insert(
            "description".into(),
            format!(
                "{description}\n\nPayload of `ce_type` {} at `ce_schemaversion` {}. Consumers \
                 must ignore fields they do not know.",
                info.event_type, info.schema_version
            )
            .into(),
        );
        object.insert("examples".into(), json!([(info.published_example)()]));
    }
    schema
}

/// The AsyncAPI 3.0.0 document: one channel per topic, one message per event type and version.
pub fn asyncapi() -> Value {
    let channels = channels();
    let mut channel_objects = Map::new();
    let mut operations = Map::new();
    for channel in &channels {
        let messages: Map<String, Value> = channel
            .events
            .iter()
            .enumerate()
            .map(|(index, info)| (message_id(info), message(channel, index, info)))
            .collect();
        // From the catalog rather than the map's keys: the map's order depends on serde_json's
        // `preserve_order` feature, and array order is part of the committed bytes.
        let message_refs: Vec<Value> = channel
            .events
            .iter()
            .map(|info| {
                let id = message_id(info);
                json!({ "$ref": format!("#/channels/{}/messages/{id}", channel.id) })
            })
            .collect();
        channel_objects.insert(
            channel.id.to_owned(),
            json!({
                "address": channel.topic,
                "title": format!("{} events", capitalise(channel.stream_type)),
                "description": format!(
                    "Every event of every {0} aggregate, keyed by the {0} id, so one partition \
                     holds a whole stream in order. Retention is unlimited: a new consumer can \
                     replay from the earliest offset to rebuild its state.",
                    channel.stream_type
                ),
                "messages": messages,
                "bindings": { "kafka": {
                    "topic": channel.topic,
                    "topicConfiguration": { "retention.ms": -1 },
                    "bindingVersion": KAFKA_BINDING_VERSION
                } }
            }),
        );
        // AsyncAPI 3 describes the application that owns the document: CloudCommerce sends
        // these events, so the operation is `send`. A consumer's own document would say
        // `receive`; what a consumer has to do is in the channel and info descriptions.
        operations.insert(
            format!("send{}Events", capitalise(channel.stream_type)),
            json!({
                "action": "send",
                "channel": { "$ref": format!("#/channels/{}", channel.id) },
                "title": format!("Publish {} events", channel.stream_type),
                "summary": format!(
                    "The outbox relay publishes every recorded {} event, in stream order, \
                     at least once.",
                    channel.stream_type
                ),
                "messages": message_refs
            }),
        );
    }
    json!({
        "asyncapi": "3.0.0",
        "info": {
            "title": "CloudCommerce events",
            "version": env!("CARGO_PKG_VERSION"),
            "description": INFO_DESCRIPTION
        },
        "defaultContentType": CONTENT_TYPE,
        "servers": { "kafka": {
            "host": "{bootstrap}",
            "protocol": "kafka",
            "description": "The Kafka-protocol cluster of the environment.",
            "variables": { "bootstrap": {
                "default": "localhost:9092",
                "description": "host:port of one bootstrap broker."
            } }
        } },
        "channels": channel_objects,
        "operations": operations
    })
}

const INFO_DESCRIPTION: &str = "Domain events of CloudCommerce, published by the outbox relay \
as CloudEvents 1.0 in Kafka binary mode: attributes in `ce_*` headers, the payload as the JSON \
message value, the aggregate id as the message key.

Delivery is at-least-once: a message may arrive more than once (relay retries, producer restarts, \
consumer rebalances). Deduplicate by (`ce_subject`, `ce_sequence`), which names exactly one event: \
keep the highest `ce_sequence` applied per subject and skip anything at or below it.

Order holds per aggregate within a partition: every event of one aggregate has the same key, so it \
lands in the same partition in stream order (`ce_sequence` 1, 2, 3, ...). Nothing is ordered \
across aggregates, partitions or topics.

`ce_sequence` is the stream version as 20 zero-padded decimal digits \
(`00000000000000000012`), so comparing two values as strings gives their numeric order. Messages \
published before the padding carry the plain form (`12`) and stay on the topics: parse the value \
as an integer, which reads both forms, and compare strings only between padded values.

The operations are `send`: the document describes CloudCommerce, the application that publishes \
these events. A consumer receives them from the channels below.

Schema evolution: each payload has a JSON Schema in `./schemas/`, identified by `ce_dataschema` \
(`urn:cloudcommerce:schema:<type>:v<version>`). Additive changes (a new field, a new event type) \
keep the schema version, so consumers must ignore fields and headers they do not know and skip \
event types they do not handle. Breaking changes (removing, renaming or retyping a field, \
changing its meaning) bump `ce_schemaversion` and `ce_dataschema`; `ce_type` stays the same, so \
dispatch on (`ce_type`, `ce_schemaversion`) and treat an unknown version as a reason to upgrade, \
not to guess.";

/// `product.price_changed.v1`: versions of one type can then coexist in a channel.
fn message_id(info: &EventTypeInfo) -> String {
    format!("{}.v{}", info.event_type, info.schema_version)
}

fn message(channel: &ChannelContract, index: usize, info: &EventTypeInfo) -> Value {
    let summary = (info.schema)()
        .get("description")
        .and_then(Value::as_str)
        .unwrap_or(info.event_type)
        .to_owned();
    json!({
        "name": info.event_type,
        "title": format!("{} v{}", info.event_type, info.schema_version),
        "summary": summary,
        "contentType": CONTENT_TYPE,
        "headers": header_schema(channel.stream_type, info),
        "payload": { "$ref": format!("./{SCHEMA_DIR}/{}", schema_file_name(info)) },
        "correlationId": {
            "description": "Shared by every event caused by one request, across aggregates.",
            "location": "$message.header#/ce_correlationid"
        },
        "bindings": { "kafka": {
            "key": {
                "type": "string",
                "format": "uuid",
                "description": format!("The {} id, equal to `ce_subject`.", channel.stream_type)
            },
            "bindingVersion": KAFKA_BINDING_VERSION
        } },
        "examples": [{
            "name": message_id(info),
            "headers": example_headers(channel.stream_type, index, info),
            "payload": (info.published_example)()
        }]
    })
}

/// The JSON Schema of the CloudEvents headers of one event type, every value as the text Kafka
/// carries. Inlined per message rather than shared through a `$ref` so that `ce_type`,
/// `ce_schemaversion` and `ce_dataschema` can be pinned, and so a consumer (or the contract test)
/// can validate headers with this one object alone.
pub fn header_schema(stream_type: &str, info: &EventTypeInfo) -> Value {
    let uuid = |description: &str| json!({ "type": "string", "format": "uuid", "description": description });
    json!({
        "type": "object",
        "description": "CloudEvents 1.0 attributes (Kafka binary mode) and tracing headers. \
                        Further headers may be added without a version bump; ignore them.",
        "required": REQUIRED_HEADERS,
        "properties": {
            "ce_specversion": { "type": "string", "const": SPEC_VERSION },
            "ce_id": uuid("Event id: unique per event and the same on every redelivery."),
            "ce_source": {
                "type": "string",
                "const": format!("/cloudcommerce/{stream_type}"),
                "description": "The stream type that recorded the event."
            },
            "ce_type": { "type": "string", "const": info.event_type },
            "ce_subject": uuid("Aggregate id, equal to the message key."),
            "ce_time": {
                "type": "string",
                "format": "date-time",
                "description": "When the event was recorded (RFC 3339)."
            },
            "ce_sequence": {
                "type": "string",
                // Only the padded form: the schema describes what is sent now; the description
                // (and the README) warn that older messages carry the unpadded one.
                "pattern": format!("^[0-9]{{{SEQUENCE_WIDTH}}}$"),
                "description": "Version of the aggregate's stream after this event (1, 2, ...) \
                                as decimal text zero-padded to 20 digits, so string order is \
                                stream order. Parse it as an integer: messages published \
                                before the padding carry the unpadded form (`12`). With \
                                ce_subject, the deduplication key.",
                "examples": [sequence(1), sequence(12)]
            },
            "ce_schemaversion": {
                "type": "string",
                "const": info.schema_version.to_string(),
                "description": "Version of the payload schema."
            },
            "ce_dataschema": {
                "type": "string",
                "format": "uri",
                "const": dataschema(info.event_type, info.schema_version),
                "description": "The `$id` of the payload schema."
            },
            "ce_correlationid": uuid("Id of the request that caused the event."),
            "ce_causationid": uuid("Id of the message that caused the event, when known."),
            "ce_actor": {
                "type": "string",
                "pattern": ACTOR_PATTERN,
                "description": "Who caused the event: a user id, `system` or `anonymous`."
            },
            "traceparent": {
                "type": "string",
                "pattern": TRACEPARENT_PATTERN,
                "description": "W3C trace context of the request, when it sent one."
            },
            "content-type": { "type": "string", "const": CONTENT_TYPE }
        }
    })
}

/// The headers `envelope::encode` writes for a sample of this event type, so the documented
/// example is what the relay really sends. Sequence numbers follow catalog order to read as
/// one stream; the subject is the aggregate id in the example payload.
fn example_headers(
    stream_type: &str,
    index: usize,
    info: &EventTypeInfo,
) -> BTreeMap<String, String> {
    let payload = (info.published_example)();
    let stream_id = payload
        .get(format!("{stream_type}_id"))
        .and_then(Value::as_str)
        .and_then(|id| Uuid::parse_str(id).ok())
        .unwrap_or_default();
    let event = Outgoing {
        event_id: Uuid::from_u128(0x0190_f3a5_0000_7000_8000_0000_0000_0000 + index as u128),
        stream_id,
        stream_type,
        stream_version: index as i64 + 1,
        event_type: info.event_type,
        schema_version: info.schema_version,
        payload: &payload,
        correlation_id: Uuid::from_u128(0x0190_f3a4_ffff_7000_8000_0000_0000_0001),
        causation_id: None,
        // The user the domain's examples are about (Ada, who is also the seller).
        actor: "0190f3a4-5b6c-7d8e-9f01-23456789abcd",
        traceparent: Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
        // 2025-01-15T09:30:00Z: a fixed instant keeps the generated files stable.
        recorded_at: DateTime::from_timestamp(1_736_933_400, 0).unwrap_or_default(),
    };
    header_map(&encode(&event).1)
}

/// Headers as name -> text, the shape the header schema describes.
fn header_map(headers: &OwnedHeaders) -> BTreeMap<String, String> {
    headers
        .iter()
        .map(|header| {
            let value = header
                .value
                .map(String::from_utf8_lossy)
                .unwrap_or_default();
            (header.key.to_owned(), value.into_owned())
        })
        .collect()
}

fn capitalise(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

/// Pretty JSON with keys sorted at every level and a trailing newline. Sorted explicitly so the
/// files stay byte-identical even if some crate turns on serde_json's `preserve_order`.
fn pretty(value: Value) -> String {
    format!("{:#}\n", sorted(value))
}

fn sorted(value: Value) -> Value {
    match value {
        Value::Object(object) => {
            let mut entries: Vec<(String, Value)> = object.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().map(|(k, v)| (k, sorted(v))).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}
