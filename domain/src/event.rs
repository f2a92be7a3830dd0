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
    /// Fields sealed with the user's data key at rest and on the wire (see [`SEALED_FIELD`]).
    /// `schema` and `example` describe the payload opened, as this crate reads and writes it.
    pub personal_fields: &'static [&'static str],
    /// The older version that carried `personal_fields` in clear, still read.
    pub plaintext_version: Option<i32>,
    /// `schema` and `example` as stored and published: `personal_fields` replaced by the
    /// sealed field. The same as those for an event without personal fields.
    pub published_schema: fn() -> serde_json::Value,
    pub published_example: fn() -> serde_json::Value,
    /// The schema of `plaintext_version`: `personal_fields` in clear and required.
    pub plaintext_schema: fn() -> serde_json::Value,
}

/// What the sealed field of a published example holds: base64, like a real one, of a text that
/// says what it stands for.
pub const SEALED_EXAMPLE: &str = "c2FtcGxlOiAyNC1ieXRlIG5vbmNlLCB0aGVuIHRoZSBwZXJzb25hbCBmaWVsZHMgc2VhbGVkIHdpdGggdGhlIHVzZXIncyBkYXRhIGtleQ==";

/// The payload field that holds an event's personal fields, sealed. Readers replace it with the
/// fields themselves before decoding, or remove it when the key is gone.
pub const SEALED_FIELD: &str = "personal";

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
    /// A reader forgot to open the personal fields: decoding would read them as erased.
    #[error("the personal fields of {event_type} are still sealed")]
    Sealed { event_type: String },
}

pub trait DomainEvent: Sized + Clone + std::fmt::Debug + PartialEq + Send + Sync + 'static {
    /// Stable type name, e.g. `product.price_changed`.
    fn event_type(&self) -> &'static str;
    /// Schema version of the payload this value serialises to.
    fn schema_version(&self) -> i32;
    /// The payload alone (no type tag), personal fields in clear: the store seals them before
    /// it stores and publishes the payload.
    fn to_payload(&self) -> serde_json::Value;
    /// The fields of this event the store seals with the user's data key.
    fn personal_fields(&self) -> &'static [&'static str];
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
    /// Fields that describe a person (an address, a name). Stored and published sealed with
    /// the user's data key, so destroying the key erases them everywhere at once.
    const PERSONAL_FIELDS: &'static [&'static str] = &[];
    /// The version before personal fields were sealed, read as well: the same fields in clear.
    const PLAINTEXT_VERSION: Option<i32> = None;

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
            personal_fields: Self::PERSONAL_FIELDS,
            plaintext_version: Self::PLAINTEXT_VERSION,
            published_schema: published_schema_of::<Self>,
            published_example: published_example_of::<Self>,
            plaintext_schema: plaintext_schema_of::<Self>,
        }
    }

    /// Whether a stored payload at `version` is this type's.
    fn reads_version(version: i32) -> bool {
        version == Self::SCHEMA_VERSION || Self::PLAINTEXT_VERSION == Some(version)
    }
}

/// The JSON Schema (draft 2020-12) of a payload type.
pub fn schema_of<P: schemars::JsonSchema>() -> serde_json::Value {
    schemars::schema_for!(P).to_value()
}

/// The schema of `P` as stored and published: its personal fields replaced by the sealed one.
pub fn published_schema_of<P: EventPayload>() -> serde_json::Value {
    let mut schema = schema_of::<P>();
    if P::PERSONAL_FIELDS.is_empty() {
        return schema;
    }
    if let Some(properties) = schema["properties"].as_object_mut() {
        for field in P::PERSONAL_FIELDS {
            properties.remove(*field);
        }
        properties.insert(
            SEALED_FIELD.to_owned(),
            serde_json::json!({
                "type": "string",
                "contentEncoding": "base64",
                "minLength": 1,
                "description": format!(
                    "The personal fields ({}) as a JSON object, sealed with the user's data key: \
                     base64 of a 24-byte nonce and the XChaCha20-Poly1305 ciphertext, with the \
                     user id's 16 bytes and the event type as associated data. Only services \
                     holding the master key open it; once the user is erased, nobody can.",
                    P::PERSONAL_FIELDS.join(", ")
                ),
            }),
        );
    }
    if let Some(required) = schema["required"].as_array_mut() {
        required.retain(|field| !P::PERSONAL_FIELDS.iter().any(|p| field == *p));
        required.push(SEALED_FIELD.into());
    }
    schema
}

/// The example of `P` as stored and published.
pub fn published_example_of<P: EventPayload>() -> serde_json::Value {
    let mut example = P::example();
    if P::PERSONAL_FIELDS.is_empty() {
        return example;
    }
    if let Some(object) = example.as_object_mut() {
        for field in P::PERSONAL_FIELDS {
            object.remove(*field);
        }
        object.insert(SEALED_FIELD.to_owned(), SEALED_EXAMPLE.into());
    }
    example
}

/// The schema of `P`'s plaintext version: its personal fields in clear and required (in memory
/// they are `Option`s, which read `None` once erased).
pub fn plaintext_schema_of<P: EventPayload>() -> serde_json::Value {
    let mut schema = schema_of::<P>();
    for field in P::PERSONAL_FIELDS {
        if let Some(types) = schema["properties"][*field].get_mut("type")
            && let Some(listed) = types.as_array()
        {
            let not_null: Vec<serde_json::Value> =
                listed.iter().filter(|t| *t != "null").cloned().collect();
            if let [single] = not_null.as_slice() {
                *types = single.clone();
            }
        }
    }
    if let Some(required) = schema["required"].as_array_mut() {
        for field in P::PERSONAL_FIELDS {
            if !required.iter().any(|r| r == *field) {
                required.push((*field).into());
            }
        }
    }
    schema
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
pub trait StoredPayload: Sized {
    /// Deserialises the payload, running every value type's validation on the way in.
    fn decode<P: EventPayload>(self) -> Result<P, EventDecodeError> {
        if !P::PERSONAL_FIELDS.is_empty() && self.still_sealed() {
            return Err(EventDecodeError::Sealed {
                event_type: P::EVENT_TYPE.to_owned(),
            });
        }
        self.deserialize()
    }
    /// Deserialises the payload as it is.
    fn deserialize<P: EventPayload>(self) -> Result<P, EventDecodeError>;
    /// Whether the payload still holds the [`SEALED_FIELD`].
    fn still_sealed(&self) -> bool;
}

fn bad_payload<P: EventPayload>(cause: serde_json::Error) -> EventDecodeError {
    EventDecodeError::BadPayload {
        event_type: P::EVENT_TYPE.to_owned(),
        cause,
    }
}

impl StoredPayload for serde_json::Value {
    fn deserialize<P: EventPayload>(self) -> Result<P, EventDecodeError> {
        serde_json::from_value(self).map_err(bad_payload::<P>)
    }

    fn still_sealed(&self) -> bool {
        self.get(SEALED_FIELD).is_some()
    }
}

impl StoredPayload for &str {
    fn deserialize<P: EventPayload>(self) -> Result<P, EventDecodeError> {
        serde_json::from_str(self).map_err(bad_payload::<P>)
    }

    /// Payloads are flat objects, and in JSON text only a key is followed by a colon: a value
    /// that reads `personal` is followed by a comma or a brace. Both serde_json's text and
    /// PostgreSQL's (`"key": value`) match.
    fn still_sealed(&self) -> bool {
        self.contains(r#""personal":"#)
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

            fn personal_fields(&self) -> &'static [&'static str] {
                match self {
                    $(Self::$variant(_) => <$payload as $crate::event::EventPayload>::PERSONAL_FIELDS,)+
                }
            }

            fn from_stored(
                event_type: &str,
                schema_version: i32,
                payload: impl $crate::event::StoredPayload,
            ) -> Result<Self, $crate::event::EventDecodeError> {
                $(
                    if event_type == <$payload as $crate::event::EventPayload>::EVENT_TYPE
                        && <$payload as $crate::event::EventPayload>::reads_version(schema_version)
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
