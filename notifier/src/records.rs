//! The notifier's rows in PostgreSQL: which events it handled and how (`notifier.deliveries`,
//! its dedupe), where to mail each account (`notifier.recipients`), and the tokens it mails,
//! issued through `es.issue_mailed_token` (the role may neither write nor read `es.*_tokens`).
//!
//! Errors keep PostgreSQL's code and message but not its DETAIL, which quotes the failing row
//! (an address, a name).

use std::sync::Arc;

use deadpool_postgres::Pool;
use personal::Keyring;
use tokio_postgres::error::SqlState;
use uuid::Uuid;

use crate::compose::Recipient;

/// What became of an event that called for a mail (`notifier.deliveries.outcome`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Sent,
    /// Older than the token it would carry: nothing mailed.
    Stale,
    /// No address known for the user.
    NoRecipient,
    /// Copied to the dead-letter topic.
    DeadLettered,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Sent => "sent",
            Outcome::Stale => "stale",
            Outcome::NoRecipient => "no_recipient",
            Outcome::DeadLettered => "dead_lettered",
        }
    }
}

/// A database failure, safe to log.
#[derive(Debug, thiserror::Error)]
#[error("{what}: {detail}")]
pub struct DbFailure {
    what: &'static str,
    detail: String,
}

fn failed(what: &'static str) -> impl FnOnce(tokio_postgres::Error) -> DbFailure {
    move |error| DbFailure {
        what,
        detail: match error.as_db_error() {
            Some(db) => format!("{} ({})", db.message(), db.code().code()),
            None => error.to_string(),
        },
    }
}

/// The notifier's view of its tables.
#[derive(Debug, Clone)]
pub struct Records {
    pool: Pool,
    keyring: Arc<Keyring>,
}

/// Why the personal fields of an event could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenFailure {
    /// The database is away, or the keys are not this service's master key's: retried.
    #[error("{0}")]
    Keys(String),
    /// The sealed fields do not open with their user's key: never will.
    #[error("{0}")]
    Sealed(personal::OpenError),
}

impl Records {
    pub fn new(pool: Pool, keyring: Arc<Keyring>) -> Self {
        Self { pool, keyring }
    }

    /// Puts the personal fields of `payload` (an event of stream `user_id`) back in clear, or
    /// leaves them out when the user was erased.
    pub async fn open(
        &self,
        user_id: Uuid,
        event_type: &str,
        payload: &mut serde_json::Value,
    ) -> Result<(), OpenFailure> {
        if payload.get(domain::SEALED_FIELD).is_none() {
            return Ok(());
        }
        let client = self
            .client()
            .await
            .map_err(|e| OpenFailure::Keys(e.to_string()))?;
        let keys = self
            .keyring
            .keys(&**client, &[user_id])
            .await
            .map_err(|error| match error {
                personal::KeyError::Database { context, source } => {
                    OpenFailure::Keys(failed(context)(source).to_string())
                }
                other => OpenFailure::Keys(other.to_string()),
            })?;
        personal::open(payload, keys.get(&user_id), user_id, event_type)
            .map_err(OpenFailure::Sealed)
    }

    /// Forgets where to mail an erased user.
    pub async fn forget_recipient(&self, user_id: Uuid) -> Result<(), DbFailure> {
        let client = self.client().await?;
        client
            .execute(
                "DELETE FROM notifier.recipients WHERE user_id = $1",
                &[&user_id],
            )
            .await
            .map_err(failed("forgetting a recipient"))?;
        Ok(())
    }

    async fn client(&self) -> Result<deadpool_postgres::Object, DbFailure> {
        self.pool.get().await.map_err(|error| DbFailure {
            what: "getting a database connection",
            detail: error.to_string(),
        })
    }

    /// Whether the event was handled before (whatever its outcome).
    pub async fn handled(&self, event_id: Uuid) -> Result<bool, DbFailure> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                // A dead-lettered event is not done: produced again once its cause is fixed,
                // it is handled like any other.
                "SELECT 1 FROM notifier.deliveries
                 WHERE event_id = $1 AND outcome <> 'dead_lettered'",
                &[&event_id],
            )
            .await
            .map_err(failed("looking up a delivery"))?;
        Ok(row.is_some())
    }

    /// Records what became of an event. A second record changes nothing, unless the first said
    /// `dead_lettered` and the event, produced again, has now been handled.
    pub async fn record(
        &self,
        event_id: Uuid,
        event_type: &str,
        user_id: Uuid,
        outcome: Outcome,
    ) -> Result<(), DbFailure> {
        let client = self.client().await?;
        client
            .execute(
                "INSERT INTO notifier.deliveries (event_id, event_type, user_id, outcome)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (event_id) DO UPDATE
                 SET outcome = EXCLUDED.outcome, handled_at = clock_timestamp()
                 WHERE notifier.deliveries.outcome = 'dead_lettered'",
                &[&event_id, &event_type, &user_id, &outcome.as_str()],
            )
            .await
            .map_err(failed("recording a delivery"))?;
        Ok(())
    }

    pub async fn remember_recipient(
        &self,
        user_id: Uuid,
        recipient: &Recipient,
    ) -> Result<(), DbFailure> {
        let client = self.client().await?;
        client
            .execute(
                "INSERT INTO notifier.recipients (user_id, email, display_name)
                 VALUES ($1, $2, $3)
                 ON CONFLICT (user_id)
                 DO UPDATE SET email = EXCLUDED.email, display_name = EXCLUDED.display_name",
                &[&user_id, &recipient.email, &recipient.display_name],
            )
            .await
            .map_err(failed("remembering a recipient"))?;
        Ok(())
    }

    /// A rename of an account the notifier never saw registered changes nothing.
    pub async fn rename_recipient(
        &self,
        user_id: Uuid,
        display_name: &str,
    ) -> Result<(), DbFailure> {
        let client = self.client().await?;
        client
            .execute(
                "UPDATE notifier.recipients SET display_name = $2 WHERE user_id = $1",
                &[&user_id, &display_name],
            )
            .await
            .map_err(failed("renaming a recipient"))?;
        Ok(())
    }

    pub async fn recipient(&self, user_id: Uuid) -> Result<Option<Recipient>, DbFailure> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                "SELECT email, display_name FROM notifier.recipients WHERE user_id = $1",
                &[&user_id],
            )
            .await
            .map_err(failed("looking up a recipient"))?;
        Ok(row.map(|row| Recipient {
            email: row.get(0),
            display_name: row.get(1),
        }))
    }

    /// Issues the token whose hash is `token_hash` to `account` for the request event
    /// `request`, through `es.issue_mailed_token`: the store checks the event is that account's
    /// recorded request, takes the table and the lifetime from it (as PostgreSQL's clock
    /// counts, the one command-api checks expiry with), and the hash replaces any earlier one
    /// of the same request.
    pub async fn issue_token(
        &self,
        request: Uuid,
        account: Uuid,
        token_hash: &[u8; 32],
    ) -> Result<Issued, DbFailure> {
        let client = self.client().await?;
        let issued = client
            .execute(
                "SELECT es.issue_mailed_token($1, $2, $3)",
                &[&request, &account, &token_hash.as_slice()],
            )
            .await;
        match issued {
            Ok(_) => Ok(Issued::Issued),
            Err(error) => match error.code() {
                Some(&SqlState::NO_DATA_FOUND) => Ok(Issued::Unrecorded),
                Some(&SqlState::INVALID_PARAMETER_VALUE) => Ok(Issued::Mismatch),
                Some(&SqlState::OBJECT_NOT_IN_PREREQUISITE_STATE) => Ok(Issued::TooOld),
                _ => Err(failed("issuing a token")(error)),
            },
        }
    }
}

/// What the store said to a token asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Issued {
    Issued,
    /// No user event has the id: the message did not come from the store.
    Unrecorded,
    /// The recorded event is another account's, or asks for no token.
    Mismatch,
    /// The request is older than its token would live.
    TooOld,
}
