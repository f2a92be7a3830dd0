//! What a user event asks of the notifier, read from its type and payload. Pure: no I/O.
//!
//! The payloads are the domain's own event types (the published contract), so a payload that
//! does not parse is one this release can never handle: it is dead-lettered, not retried.

use std::time::Duration;

use domain::{
    EventPayload,
    user::{
        UserDisplayNameChanged, UserEmailVerificationRequested, UserErased, UserPasswordChanged,
        UserPasswordReset, UserPasswordResetRequested, UserRegistered,
    },
};
use serde::de::DeserializeOwned;
use uuid::Uuid;

/// The mails the notifier sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailKind {
    /// A token proving the address, valid 24 hours.
    EmailVerification,
    /// A token to set a new password, valid 30 minutes.
    PasswordReset,
    /// A notice that the password changed (by the user, or through a reset); no token.
    PasswordChanged,
}

impl MailKind {
    /// The `kind` label of `notifier_mails_sent_total`.
    pub fn label(self) -> &'static str {
        match self {
            MailKind::EmailVerification => "email_verification",
            MailKind::PasswordReset => "password_reset",
            MailKind::PasswordChanged => "password_changed",
        }
    }

    /// An event older than this gets no mail (`stale`): the token it would carry is already past
    /// its life, and a fresh deployment reading history must not mail everyone. A notice is
    /// treated like a verification mail: a day late, it is noise.
    pub fn freshness(self) -> Duration {
        match self {
            MailKind::EmailVerification | MailKind::PasswordChanged => {
                Duration::from_secs(24 * 60 * 60)
            }
            MailKind::PasswordReset => Duration::from_secs(30 * 60),
        }
    }

    /// Whether the mail carries a token (the store issues it with the lifetime of the
    /// request's type: 24 hours for a verification, 30 minutes for a reset).
    pub fn carries_token(self) -> bool {
        match self {
            MailKind::EmailVerification | MailKind::PasswordReset => true,
            MailKind::PasswordChanged => false,
        }
    }
}

/// What an event asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// Remember where to mail the new account, then mail it a verification token.
    Register {
        user_id: Uuid,
        email: String,
        display_name: String,
    },
    /// Address the account by its new name from now on.
    Rename { user_id: Uuid, display_name: String },
    /// Mail the account.
    Mail { user_id: Uuid, kind: MailKind },
    /// Forget the account's address and name: the user was erased.
    Forget { user_id: Uuid },
}

impl Request {
    /// The mail this request sends, if any (a rename sends none).
    pub fn mail(&self) -> Option<(Uuid, MailKind)> {
        match self {
            Request::Register { user_id, .. } => Some((*user_id, MailKind::EmailVerification)),
            Request::Rename { .. } | Request::Forget { .. } => None,
            Request::Mail { user_id, kind } => Some((*user_id, *kind)),
        }
    }
}

/// The payload does not match its event type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the payload of {event_type} v{schema_version} does not match its schema")]
pub struct InvalidPayload {
    pub event_type: String,
    pub schema_version: i32,
}

/// Whether events of this type concern the notifier at all (others are passed over unread).
pub fn concerns(event_type: &str) -> bool {
    [
        UserRegistered::EVENT_TYPE,
        UserDisplayNameChanged::EVENT_TYPE,
        UserEmailVerificationRequested::EVENT_TYPE,
        UserPasswordResetRequested::EVENT_TYPE,
        UserPasswordChanged::EVENT_TYPE,
        UserPasswordReset::EVENT_TYPE,
        UserErased::EVENT_TYPE,
    ]
    .contains(&event_type)
}

/// The request of an event, `None` for a type the notifier has nothing to do with, or for the
/// registration or rename of a user erased since (their personal fields read as absent). The
/// parse error itself is dropped: it can quote the payload, and payloads hold addresses. The
/// payload's personal fields must be opened first.
pub fn read(
    event_type: &str,
    schema_version: i32,
    payload: &serde_json::Value,
) -> Result<Option<Request>, InvalidPayload> {
    let invalid = || InvalidPayload {
        event_type: event_type.to_owned(),
        schema_version,
    };
    let mail = |user_id, kind| Request::Mail { user_id, kind };
    let request = match event_type {
        UserRegistered::EVENT_TYPE => {
            let event: UserRegistered = parse(payload).ok_or_else(invalid)?;
            let (Some(email), Some(display_name)) = (event.email, event.display_name) else {
                return Ok(None);
            };
            Request::Register {
                user_id: event.user_id,
                email: email.as_str().to_owned(),
                display_name: display_name.as_str().to_owned(),
            }
        }
        UserDisplayNameChanged::EVENT_TYPE => {
            let event: UserDisplayNameChanged = parse(payload).ok_or_else(invalid)?;
            let Some(display_name) = event.display_name else {
                return Ok(None);
            };
            Request::Rename {
                user_id: event.user_id,
                display_name: display_name.as_str().to_owned(),
            }
        }
        UserErased::EVENT_TYPE => {
            let event: UserErased = parse(payload).ok_or_else(invalid)?;
            Request::Forget {
                user_id: event.user_id,
            }
        }
        UserEmailVerificationRequested::EVENT_TYPE => {
            let event: UserEmailVerificationRequested = parse(payload).ok_or_else(invalid)?;
            mail(event.user_id, MailKind::EmailVerification)
        }
        UserPasswordResetRequested::EVENT_TYPE => {
            let event: UserPasswordResetRequested = parse(payload).ok_or_else(invalid)?;
            mail(event.user_id, MailKind::PasswordReset)
        }
        UserPasswordChanged::EVENT_TYPE => {
            let event: UserPasswordChanged = parse(payload).ok_or_else(invalid)?;
            mail(event.user_id, MailKind::PasswordChanged)
        }
        UserPasswordReset::EVENT_TYPE => {
            let event: UserPasswordReset = parse(payload).ok_or_else(invalid)?;
            mail(event.user_id, MailKind::PasswordChanged)
        }
        _ => return Ok(None),
    };
    Ok(Some(request))
}

fn parse<T: DeserializeOwned>(payload: &serde_json::Value) -> Option<T> {
    serde_json::from_value(payload.clone()).ok()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const USER: &str = "0190f3a4-5b6c-7d8e-9f01-23456789abcd";

    fn user() -> Uuid {
        Uuid::parse_str(USER).unwrap_or_default()
    }

    #[test]
    fn a_registration_asks_to_remember_the_address_and_verify_it() {
        let payload = json!({
            "user_id": USER, "email": "Ada@Example.com", "display_name": "Ada", "role": "customer"
        });
        let request = read("user.registered", 1, &payload);
        assert_eq!(
            request,
            Ok(Some(Request::Register {
                user_id: user(),
                email: "ada@example.com".to_owned(),
                display_name: "Ada".to_owned(),
            }))
        );
        assert_eq!(
            request.ok().flatten().and_then(|r| r.mail()),
            Some((user(), MailKind::EmailVerification))
        );
    }

    #[test]
    fn each_request_event_asks_for_its_mail() {
        let payload = json!({ "user_id": USER });
        for (event_type, kind) in [
            (
                "user.email_verification_requested",
                MailKind::EmailVerification,
            ),
            ("user.password_reset_requested", MailKind::PasswordReset),
            ("user.password_changed", MailKind::PasswordChanged),
            ("user.password_reset", MailKind::PasswordChanged),
        ] {
            assert!(concerns(event_type));
            let request = read(event_type, 1, &payload).ok().flatten();
            assert_eq!(
                request.and_then(|r| r.mail()),
                Some((user(), kind)),
                "{event_type}"
            );
        }
    }

    #[test]
    fn other_events_are_none_of_the_notifiers_business() {
        for event_type in [
            "user.role_assigned",
            "user.email_verified",
            "product.created",
        ] {
            assert!(!concerns(event_type));
            assert_eq!(read(event_type, 1, &json!({})), Ok(None));
        }
    }

    #[test]
    fn a_payload_that_does_not_match_is_invalid_without_quoting_it() {
        let payload = json!({ "user_id": USER, "email": "not an address", "display_name": "A" });
        let error = read("user.registered", 1, &payload).err();
        let text = error.map(|e| e.to_string()).unwrap_or_default();
        assert!(text.contains("user.registered v1"), "{text}");
        assert!(!text.contains("not an address"), "{text}");
        assert!(read("user.password_reset_requested", 1, &json!({})).is_err());
    }

    #[test]
    fn token_lifetimes_match_their_freshness() {
        assert_eq!(
            MailKind::PasswordReset.freshness(),
            Duration::from_secs(1800)
        );
        assert!(MailKind::EmailVerification.carries_token());
        assert!(!MailKind::PasswordChanged.carries_token());
    }
}
