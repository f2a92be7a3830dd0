//! Handling one message of the user topic, start to end: decode → skip if handled before →
//! read the request → remember the recipient → mail (fresh enough? an address? a token whose
//! hash is committed first, then the mail) → record the outcome.
//!
//! A failure that may pass (database, SMTP relay or broker down, a 4xx reply) is returned, and
//! the caller retries the same message after a backoff; one that never will (no envelope, a
//! payload that does not match, a refused recipient) sends the message to the dead-letter topic
//! and counts as handled.
//!
//! Order matters for what a crash can cause: the token is issued (its hash committed) before
//! the mail goes, so no mail carries a token that never worked; the outcome is recorded after,
//! so a crash in between mails again, never not at all. The second mail's token replaces the
//! first's (one token per request), so only the latest mail of a request works. A database
//! that fails just then costs no second mail: the process remembers, by event id, the outcomes
//! it could not record yet and records them when the event is read again.

use std::collections::HashMap;

use chrono::Utc;
use kafka::DecodedEvent;
use rdkafka::{Message, message::OwnedMessage};
use uuid::Uuid;

use crate::{
    compose::{ComposeError, Composer, Recipient},
    dead_letter::{DeadLetters, Reason},
    mailer::{Mailer, SendFailure},
    metrics as m,
    records::{DbFailure, Issued, OpenFailure, Outcome, Records},
    request::{self, MailKind, Request},
    tokens::Token,
};

/// A failure that may pass: the caller retries the message after a backoff.
#[derive(Debug, thiserror::Error)]
pub enum Transient {
    #[error(transparent)]
    Database(#[from] DbFailure),
    #[error(transparent)]
    Smtp(SendFailure),
    #[error("dead-letter topic: {0}")]
    DeadLetter(String),
    /// The user's data key cannot be read (database away, or another master key).
    #[error("data keys: {0}")]
    Keys(String),
}

/// The event a message carried, once known: a dead-lettered one gets its delivery row too.
#[derive(Debug, Clone)]
struct EventRef {
    event_id: Uuid,
    event_type: String,
    user_id: Uuid,
}

/// A failure that never passes.
#[derive(Debug)]
struct Permanent {
    reason: Reason,
    event: Option<EventRef>,
}

#[derive(Debug)]
enum Failure {
    Transient(Transient),
    Permanent(Permanent),
}

impl From<DbFailure> for Failure {
    fn from(error: DbFailure) -> Self {
        Failure::Transient(Transient::Database(error))
    }
}

impl From<Transient> for Failure {
    fn from(error: Transient) -> Self {
        Failure::Transient(error)
    }
}

fn permanent(code: &'static str, detail: impl Into<String>, event: Option<EventRef>) -> Failure {
    Failure::Permanent(Permanent {
        reason: Reason {
            code,
            detail: detail.into(),
        },
        event,
    })
}

/// Outcomes whose side effect (a mail, a dead letter) happened but whose row could not be
/// written yet, by event id: reading the event again writes the row instead of mailing again,
/// however the partitions interleave after the consumer resumes.
type Unrecorded = HashMap<Uuid, (EventRef, Outcome)>;

#[derive(Debug)]
pub struct Handler {
    records: Records,
    composer: Composer,
    mailer: Mailer,
    dead_letters: DeadLetters,
    unrecorded: Unrecorded,
}

impl Handler {
    pub fn new(
        records: Records,
        composer: Composer,
        mailer: Mailer,
        dead_letters: DeadLetters,
    ) -> Self {
        Self {
            records,
            composer,
            mailer,
            dead_letters,
            unrecorded: Unrecorded::new(),
        }
    }

    /// Handles `message` completely, or returns why it could not yet (retry it, nothing else).
    pub async fn handle(&mut self, message: &OwnedMessage) -> Result<(), Transient> {
        match self.process(message).await {
            Ok(()) => Ok(()),
            Err(Failure::Transient(error)) => Err(error),
            Err(Failure::Permanent(failure)) => self.dead_letter(message, failure).await,
        }
    }

    async fn process(&mut self, message: &OwnedMessage) -> Result<(), Failure> {
        let event = kafka::envelope::decode(message)
            .map_err(|error| permanent("undecodable", error.to_string(), None))?;
        if !request::concerns(&event.event_type) {
            return Ok(());
        }
        let known = EventRef {
            event_id: event.event_id,
            event_type: event.event_type.clone(),
            user_id: event.stream_id,
        };
        if let Some((known, outcome)) = self.unrecorded.get(&event.event_id).cloned() {
            return Ok(self.record(&known, outcome).await?);
        }
        if self.records.handled(event.event_id).await? {
            tracing::debug!(event_id = %event.event_id, "already handled: skipped");
            return Ok(());
        }
        let mut payload = event.payload.clone();
        self.records
            .open(event.stream_id, &event.event_type, &mut payload)
            .await
            .map_err(|failure| match failure {
                OpenFailure::Keys(detail) => Failure::Transient(Transient::Keys(detail)),
                OpenFailure::Sealed(error) => {
                    permanent("sealed", error.to_string(), Some(known.clone()))
                }
            })?;
        let request =
            request::read(&event.event_type, event.schema_version, &payload).map_err(|error| {
                permanent("invalid_payload", error.to_string(), Some(known.clone()))
            })?;
        let Some(request) = request else {
            return Ok(());
        };
        match &request {
            Request::Rename {
                user_id,
                display_name,
            } => {
                self.records
                    .rename_recipient(*user_id, display_name)
                    .await?;
            }
            Request::Register {
                user_id,
                email,
                display_name,
            } => {
                let recipient = Recipient {
                    email: email.clone(),
                    display_name: display_name.clone(),
                };
                self.records
                    .remember_recipient(*user_id, &recipient)
                    .await?;
            }
            Request::Forget { user_id } => self.records.forget_recipient(*user_id).await?,
            Request::Mail { .. } => {}
        }
        if let Some((user_id, kind)) = request.mail() {
            let event_ref = EventRef { user_id, ..known };
            self.mail(&event, &event_ref, kind).await?;
        }
        Ok(())
    }

    async fn mail(
        &mut self,
        event: &DecodedEvent,
        known: &EventRef,
        kind: MailKind,
    ) -> Result<(), Failure> {
        let user_id = known.user_id;
        let age = Utc::now().signed_duration_since(event.time);
        if age.to_std().is_ok_and(|age| age > kind.freshness()) {
            tracing::info!(%user_id, event_id = %known.event_id, kind = kind.label(), "too old to mail: stale");
            return Ok(self.record(known, Outcome::Stale).await?);
        }
        let Some(recipient) = self.records.recipient(user_id).await? else {
            tracing::warn!(%user_id, event_id = %known.event_id, kind = kind.label(), "no address known for the user");
            return Ok(self.record(known, Outcome::NoRecipient).await?);
        };
        let token = kind.carries_token().then(Token::draw);
        if let Some(token) = &token {
            let issued = self
                .records
                .issue_token(known.event_id, user_id, &token.hash())
                .await?;
            match issued {
                Issued::Issued => {}
                Issued::Unrecorded => {
                    let detail = "no such event was recorded: the message is not the store's";
                    return Err(permanent("unrecorded_request", detail, Some(known.clone())));
                }
                Issued::Mismatch => {
                    let detail = "the recorded event is another account's or asks for no token";
                    return Err(permanent("request_mismatch", detail, Some(known.clone())));
                }
                Issued::TooOld => {
                    tracing::info!(%user_id, event_id = %known.event_id, kind = kind.label(), "too old to mail by the store's clock: stale");
                    return Ok(self.record(known, Outcome::Stale).await?);
                }
            }
        }
        let mail = self
            .composer
            .compose(kind, user_id, &recipient, token.as_ref())
            .map_err(|error| {
                let code = match error {
                    ComposeError::InvalidAddress => "invalid_address",
                    ComposeError::MissingToken(_) | ComposeError::Build(_) => "invalid_payload",
                };
                permanent(code, error.to_string(), Some(known.clone()))
            })?;
        self.mailer
            .send(mail)
            .await
            .map_err(|failure| match failure {
                SendFailure::Rejected(code) => {
                    permanent("smtp_rejected", code, Some(known.clone()))
                }
                transient @ SendFailure::Transient(_) => {
                    Failure::Transient(Transient::Smtp(transient))
                }
            })?;
        metrics::counter!(m::MAILS_SENT, "kind" => kind.label()).increment(1);
        tracing::info!(%user_id, event_id = %known.event_id, kind = kind.label(), "mail sent");
        self.unrecorded
            .insert(known.event_id, (known.clone(), Outcome::Sent));
        self.record(known, Outcome::Sent).await?;
        Ok(())
    }

    async fn dead_letter(
        &mut self,
        message: &OwnedMessage,
        failure: Permanent,
    ) -> Result<(), Transient> {
        self.dead_letters
            .send(message, &failure.reason)
            .await
            .map_err(|error| Transient::DeadLetter(format!("{error:#}")))?;
        metrics::counter!(m::DEAD_LETTERS, "reason" => failure.reason.code).increment(1);
        tracing::warn!(
            reason = %failure.reason,
            partition = message.partition(),
            offset = message.offset(),
            event_id = failure.event.as_ref().map(|e| tracing::field::display(e.event_id)),
            user_id = failure.event.as_ref().map(|e| tracing::field::display(e.user_id)),
            "message dead-lettered"
        );
        let Some(event) = failure.event else {
            return Ok(());
        };
        self.unrecorded
            .insert(event.event_id, (event.clone(), Outcome::DeadLettered));
        self.record(&event, Outcome::DeadLettered).await
    }

    async fn record(&mut self, event: &EventRef, outcome: Outcome) -> Result<(), Transient> {
        self.records
            .record(event.event_id, &event.event_type, event.user_id, outcome)
            .await?;
        self.unrecorded.remove(&event.event_id);
        metrics::counter!(m::DELIVERIES, "outcome" => outcome.as_str()).increment(1);
        Ok(())
    }
}
