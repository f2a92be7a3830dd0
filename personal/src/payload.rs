//! An event payload's personal fields moved into its sealed field, and back.

use base64::{Engine, engine::general_purpose::STANDARD};
use domain::SEALED_FIELD;
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::data_key::DataKey;

/// A sealed field that does not open with the key that should open it: altered, copied from
/// another event, or sealed under another key. Never expected; never guessed around.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    #[error("the personal fields of {event_type} in stream {stream_id} are not base64")]
    NotBase64 { stream_id: Uuid, event_type: String },
    #[error(
        "the personal fields of {event_type} in stream {stream_id} do not open with the user's key"
    )]
    DoesNotOpen { stream_id: Uuid, event_type: String },
}

/// Moves `fields` of `payload` (an object) into one sealed, base64 field. Payloads of events
/// without personal fields are left alone.
pub fn seal(
    payload: &mut Value,
    fields: &[&str],
    key: &DataKey,
    stream_id: Uuid,
    event_type: &str,
) {
    let Some(object) = payload.as_object_mut() else {
        return;
    };
    let personal: Map<String, Value> = fields
        .iter()
        .filter_map(|field| {
            object
                .remove(*field)
                .map(|value| ((*field).to_owned(), value))
        })
        .collect();
    if personal.is_empty() {
        return;
    }
    let plaintext = Value::Object(personal).to_string();
    let sealed = key.seal(stream_id, event_type, plaintext.as_bytes());
    object.insert(SEALED_FIELD.to_owned(), STANDARD.encode(sealed).into());
}

/// Puts the personal fields of `payload` back in clear with the user's `key`, or, when the key
/// is gone (`None`: the user was erased), drops the sealed field so they read as erased.
/// Payloads without a sealed field (no personal fields, or stored before sealing) are left alone.
pub fn open(
    payload: &mut Value,
    key: Option<&DataKey>,
    stream_id: Uuid,
    event_type: &str,
) -> Result<(), OpenError> {
    let Some(object) = payload.as_object_mut() else {
        return Ok(());
    };
    let Some(sealed) = object.remove(SEALED_FIELD) else {
        return Ok(());
    };
    let Some(key) = key else {
        return Ok(());
    };
    let not_base64 = || OpenError::NotBase64 {
        stream_id,
        event_type: event_type.to_owned(),
    };
    let bytes = sealed
        .as_str()
        .and_then(|text| STANDARD.decode(text).ok())
        .ok_or_else(not_base64)?;
    let does_not_open = || OpenError::DoesNotOpen {
        stream_id,
        event_type: event_type.to_owned(),
    };
    let plaintext = key
        .open(stream_id, event_type, &bytes)
        .ok_or_else(does_not_open)?;
    let Ok(Value::Object(fields)) = serde_json::from_slice::<Value>(&plaintext) else {
        return Err(does_not_open());
    };
    object.extend(fields);
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::master_key::MasterKey;

    const ADA: Uuid = Uuid::from_u128(0xada);

    fn key() -> DataKey {
        let master = MasterKey::from_base64(&STANDARD.encode([3_u8; 32])).unwrap();
        master.new_data_key(ADA).0
    }

    fn registered() -> Value {
        json!({ "user_id": ADA, "email": "ada@example.com", "display_name": "Ada", "role": "customer" })
    }

    #[test]
    fn sealed_fields_leave_no_plaintext_and_open_to_the_same_payload() {
        let key = key();
        let mut payload = registered();
        seal(
            &mut payload,
            &["email", "display_name"],
            &key,
            ADA,
            "user.registered",
        );
        let text = payload.to_string();
        assert!(
            !text.contains("ada@example.com") && !text.contains("Ada\""),
            "{text}"
        );
        assert_eq!(payload["role"], "customer");
        open(&mut payload, Some(&key), ADA, "user.registered").unwrap();
        assert_eq!(payload, registered());
    }

    #[test]
    fn without_the_key_the_personal_fields_are_gone_and_the_rest_stays() {
        let mut payload = registered();
        seal(
            &mut payload,
            &["email", "display_name"],
            &key(),
            ADA,
            "user.registered",
        );
        open(&mut payload, None, ADA, "user.registered").unwrap();
        assert_eq!(payload, json!({ "user_id": ADA, "role": "customer" }));
    }

    #[test]
    fn a_sealed_field_opens_only_in_its_own_stream_and_type_with_its_own_key() {
        let key = key();
        let mut payload = registered();
        seal(
            &mut payload,
            &["email", "display_name"],
            &key,
            ADA,
            "user.registered",
        );
        let other_stream = open(
            &mut payload.clone(),
            Some(&key),
            Uuid::nil(),
            "user.registered",
        );
        assert!(matches!(other_stream, Err(OpenError::DoesNotOpen { .. })));
        let other_type = open(
            &mut payload.clone(),
            Some(&key),
            ADA,
            "user.display_name_changed",
        );
        assert!(matches!(other_type, Err(OpenError::DoesNotOpen { .. })));
        let other_key = open(
            &mut payload.clone(),
            Some(&self::key()),
            ADA,
            "user.registered",
        );
        assert!(matches!(other_key, Err(OpenError::DoesNotOpen { .. })));
        payload[SEALED_FIELD] = json!("%%%");
        let garbled = open(&mut payload, Some(&key), ADA, "user.registered");
        assert!(matches!(garbled, Err(OpenError::NotBase64 { .. })));
    }

    #[test]
    fn payloads_without_personal_fields_pass_untouched() {
        let mut payload = json!({ "user_id": ADA });
        seal(&mut payload, &[], &key(), ADA, "user.deactivated");
        assert_eq!(payload, json!({ "user_id": ADA }));
        open(&mut payload, None, ADA, "user.deactivated").unwrap();
        assert_eq!(payload, json!({ "user_id": ADA }));
        let mut plaintext = registered();
        open(&mut plaintext, Some(&key()), ADA, "user.registered").unwrap();
        assert_eq!(plaintext, registered());
    }
}
