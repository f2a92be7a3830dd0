//! The contract every domain event keeps with storage and the wire: a stable type name, a schema
//! version and a JSON payload that round-trips.

/// Name, version and JSON Schema of one event type, for the generated contracts.
#[derive(Debug, Clone)]
pub struct EventTypeInfo {
    /// Stable name, e.g. `product.price_changed`.
    pub event_type: &'static str,
    pub schema_version: i32,
    /// JSON Schema (draft 2020-12) of the payload.
    pub schema: fn() -> serde_json::Value,
    /// One valid payload, used by tests and as the example in the AsyncAPI document.
    pub example: fn() -> serde_json::Value,
}

/// A stored payload that does not match any known event type or version.
#[derive(Debug, thiserror::Error)]
pub enum EventDecodeError {
    #[error("unknown event type {event_type} v{schema_version}")]
    UnknownType {
        event_type: String,
        schema_version: i32,
    },
    /// The parse error is part of the message, not a `source`, so it is printed once.
    #[error("payload of {event_type} does not match its schema: {cause}")]
    BadPayload {
        event_type: String,
        cause: serde_json::Error,
    },
}

pub trait DomainEvent: Sized + Clone + std::fmt::Debug + PartialEq + Send + Sync + 'static {
    /// Stable type name, e.g. `product.price_changed`.
    fn event_type(&self) -> &'static str;
    /// Schema version of the payload this value serialises to.
    fn schema_version(&self) -> i32;
    /// The payload alone (no type tag): what is stored and published.
    fn to_payload(&self) -> serde_json::Value;
    /// Rebuilds an event from its stored type, version and payload.
    fn from_stored(
        event_type: &str,
        schema_version: i32,
        payload: impl StoredPayload,
    ) -> Result<Self, EventDecodeError>;
    /// Every event type of this aggregate, for contracts and schema tests.
    fn catalog() -> Vec<EventTypeInfo>;
}

/// One event payload struct: the single place its stable type name and version are written.
///
/// The aggregate's event enum wraps one payload per variant; `impl_domain_event!` derives the
/// enum's [`DomainEvent`] impl from these, so a name is never repeated in a `match`.
pub trait EventPayload:
    serde::Serialize + serde::de::DeserializeOwned + schemars::JsonSchema
{
    /// Stable name, e.g. `product.price_changed`. Never changes once published.
    const EVENT_TYPE: &'static str;
    /// Bumped when the payload changes in a way old readers cannot ignore.
    const SCHEMA_VERSION: i32;

    /// A realistic payload in canonical form. Written as JSON rather than built from values so
    /// that it reads as documentation; the contract tests check that it decodes and round-trips.
    fn example() -> serde_json::Value;

    /// The catalog entry for this event type.
    fn info() -> EventTypeInfo {
        EventTypeInfo {
            event_type: Self::EVENT_TYPE,
            schema_version: Self::SCHEMA_VERSION,
            schema: schema_of::<Self>,
            example: Self::example,
        }
    }
}

/// The JSON Schema (draft 2020-12) of a payload type.
pub fn schema_of<P: schemars::JsonSchema>() -> serde_json::Value {
    schemars::schema_for!(P).to_value()
}

/// Serialises a payload alone, without a type tag.
pub(crate) fn encode<P: serde::Serialize>(payload: &P) -> serde_json::Value {
    // Payloads are plain structs of strings, numbers and uuids, which always serialise; `Null`
    // here would be caught by the contract round-trip tests rather than by a panic in production.
    serde_json::to_value(payload).unwrap_or(serde_json::Value::Null)
}

/// A stored payload, as a parsed JSON value or as the JSON text itself. The write path loads
/// text: decoding straight into the payload struct skips building a value tree per event, and a
/// command folds every event of its stream.
pub trait StoredPayload {
    /// Deserialises the payload, running every value type's validation on the way in.
    fn decode<P: EventPayload>(self) -> Result<P, EventDecodeError>;
}

fn bad_payload<P: EventPayload>(cause: serde_json::Error) -> EventDecodeError {
    EventDecodeError::BadPayload {
        event_type: P::EVENT_TYPE.to_owned(),
        cause,
    }
}

impl StoredPayload for serde_json::Value {
    fn decode<P: EventPayload>(self) -> Result<P, EventDecodeError> {
        serde_json::from_value(self).map_err(bad_payload::<P>)
    }
}

impl StoredPayload for &str {
    fn decode<P: EventPayload>(self) -> Result<P, EventDecodeError> {
        serde_json::from_str(self).map_err(bad_payload::<P>)
    }
}

/// Implements [`DomainEvent`] (and `From<Payload>`) for an enum whose variants each wrap one
/// [`EventPayload`]: `impl_domain_event!(UserEvent { Registered(UserRegistered), .. })`.
macro_rules! impl_domain_event {
    ($event:ident { $($variant:ident($payload:ty)),+ $(,)? }) => {
        impl $crate::event::DomainEvent for $event {
            fn event_type(&self) -> &'static str {
                match self {
                    $(Self::$variant(_) => <$payload as $crate::event::EventPayload>::EVENT_TYPE,)+
                }
            }

            fn schema_version(&self) -> i32 {
                match self {
                    $(Self::$variant(_) => <$payload as $crate::event::EventPayload>::SCHEMA_VERSION,)+
                }
            }

            fn to_payload(&self) -> serde_json::Value {
                match self {
                    $(Self::$variant(payload) => $crate::event::encode(payload),)+
                }
            }

            fn from_stored(
                event_type: &str,
                schema_version: i32,
                payload: impl $crate::event::StoredPayload,
            ) -> Result<Self, $crate::event::EventDecodeError> {
                $(
                    if event_type == <$payload as $crate::event::EventPayload>::EVENT_TYPE
                        && schema_version == <$payload as $crate::event::EventPayload>::SCHEMA_VERSION
                    {
                        return $crate::event::StoredPayload::decode::<$payload>(payload)
                            .map(Self::$variant);
                    }
                )+
                Err($crate::event::EventDecodeError::UnknownType {
                    event_type: event_type.to_owned(),
                    schema_version,
                })
            }

            fn catalog() -> Vec<$crate::event::EventTypeInfo> {
                vec![$(<$payload as $crate::event::EventPayload>::info(),)+]
            }
        }

        $(
            impl From<$payload> for $event {
                fn from(payload: $payload) -> Self {
                    Self::$variant(payload)
                }
            }
        )+
    };
}
pub(crate) use impl_domain_event;
