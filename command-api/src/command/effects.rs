//! The writes outside a stream that must commit with its events, derived from the events
//! themselves so that no caller can forget one: the email an account registers is reserved, the
//! SKU a product is created with is reserved, a password hash is stored with the event that
//! records a new password, the set of active admins follows role changes and deactivations
//! (refusing the one that would leave no admin at all), and a new password, a new role or a
//! deactivation ends every session the user had (their access tokens stop working at once); a
//! verification or reset is recorded only if its mailed token is used up in the same transaction,
//! and a token stops being usable once what it was for is moot (a password changed, an account
//! deactivated).

use domain::{
    Aggregate,
    product::{Product, ProductEvent},
    user::{User, UserEvent},
    values::Role,
};
use store::{mailed_tokens::TokenKind, sessions::EndReason};
use tokio_postgres::GenericClient;
use uuid::Uuid;

use super::error::CommandError;
use crate::metrics as m;

/// What a command brings that no event may hold. Its `Debug` never shows the contents.
#[derive(Clone, Default)]
pub struct Secrets {
    password_hash: Option<String>,
    /// SHA-256 of the mailed token the command presents.
    token_hash: Option<Vec<u8>>,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Secrets")
            .field(
                "password_hash",
                &self.password_hash.as_ref().map(|_| "<redacted>"),
            )
            .field(
                "token_hash",
                &self.token_hash.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

impl Secrets {
    /// Nothing secret: every command except sign-up and password changes.
    pub fn none() -> Self {
        Self::default()
    }

    /// The argon2 PHC string of a new password.
    pub fn password_hash(hash: String) -> Self {
        Self {
            password_hash: Some(hash),
            token_hash: None,
        }
    }

    /// The hash of a presented mailed token, to be used up with the event it proves.
    pub fn with_token_hash(mut self, token_hash: Vec<u8>) -> Self {
        self.token_hash = Some(token_hash);
        self
    }
}

/// One write an event calls for, on the stream that recorded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    ReserveEmail(String),
    ReserveSku(String),
    StorePasswordHash,
    GrantAdmin,
    RevokeAdmin,
    EndSessions(EndReason),
    /// Use up the presented token (refusing the command if it is not there) and the user's others.
    ConsumeToken(TokenKind),
    DiscardTokens(TokenKind),
    /// Delete every write-side row of the person and their data key (`store::erasure`).
    ForgetPerson,
}

/// An aggregate whose events may call for writes outside their stream.
pub trait WriteModel: Aggregate {
    fn effects(event: &Self::Event) -> Vec<Effect>;
}

impl WriteModel for User {
    fn effects(event: &UserEvent) -> Vec<Effect> {
        match event {
            UserEvent::Registered(registered) => {
                let mut effects = Vec::with_capacity(3);
                // Always there when decided; only a stored event of an erased user lacks it.
                if let Some(email) = &registered.email {
                    effects.push(Effect::ReserveEmail(email.as_str().to_owned()));
                }
                effects.push(Effect::StorePasswordHash);
                if registered.role == Role::Admin {
                    effects.push(Effect::GrantAdmin);
                }
                effects
            }
            UserEvent::PasswordChanged(_) => vec![
                Effect::StorePasswordHash,
                Effect::EndSessions(EndReason::PasswordChanged),
                Effect::DiscardTokens(TokenKind::PasswordReset),
            ],
            UserEvent::PasswordReset(_) => vec![
                Effect::ConsumeToken(TokenKind::PasswordReset),
                Effect::StorePasswordHash,
                Effect::EndSessions(EndReason::PasswordReset),
            ],
            UserEvent::EmailVerified(_) => vec![Effect::ConsumeToken(TokenKind::EmailVerification)],
            UserEvent::RoleAssigned(assigned) => vec![
                if assigned.role == Role::Admin {
                    Effect::GrantAdmin
                } else {
                    Effect::RevokeAdmin
                },
                Effect::EndSessions(EndReason::RoleChanged),
            ],
            UserEvent::Deactivated(_) => vec![
                Effect::RevokeAdmin,
                Effect::EndSessions(EndReason::Deactivated),
                Effect::DiscardTokens(TokenKind::EmailVerification),
                Effect::DiscardTokens(TokenKind::PasswordReset),
            ],
            // Forgetting first: it waits for a sign-in in flight (`store::erasure`), whose session
            // the end of sessions after it then sees.
            UserEvent::Erased(_) => vec![
                Effect::ForgetPerson,
                Effect::RevokeAdmin,
                Effect::EndSessions(EndReason::Erased),
                Effect::DiscardTokens(TokenKind::EmailVerification),
                Effect::DiscardTokens(TokenKind::PasswordReset),
            ],
            UserEvent::DisplayNameChanged(_)
            | UserEvent::EmailVerificationRequested(_)
            | UserEvent::PasswordResetRequested(_) => vec![],
        }
    }
}

impl WriteModel for Product {
    fn effects(event: &ProductEvent) -> Vec<Effect> {
        match event {
            ProductEvent::Created(created) => {
                vec![Effect::ReserveSku(created.sku.as_str().to_owned())]
            }
            _ => vec![],
        }
    }
}

/// Writes `effects` of stream `stream_id` in the caller's transaction.
pub async fn write(
    tx: &impl GenericClient,
    stream_id: Uuid,
    effects: &[Effect],
    secrets: &Secrets,
) -> Result<(), CommandError> {
    for effect in effects {
        match effect {
            Effect::ReserveEmail(email) => {
                store::reservations::reserve_email(tx, email, stream_id).await?;
            }
            Effect::ReserveSku(sku) => store::reservations::reserve_sku(tx, sku, stream_id).await?,
            Effect::StorePasswordHash => {
                let hash = secrets
                    .password_hash
                    .as_deref()
                    .ok_or(CommandError::MissingSecret("password hash"))?;
                store::credentials::set_password_hash(tx, stream_id, hash).await?;
            }
            Effect::GrantAdmin => store::admins::grant(tx, stream_id).await?,
            Effect::RevokeAdmin => store::admins::revoke(tx, stream_id).await?,
            Effect::EndSessions(reason) => {
                let ended = store::sessions::end_all(tx, stream_id, *reason).await?;
                // Counted before the commit: a transaction that then fails over-counts.
                metrics::counter!(m::SESSIONS_ENDED, "reason" => reason.as_str()).increment(ended);
            }
            Effect::ConsumeToken(kind) => {
                let token_hash = secrets
                    .token_hash
                    .as_deref()
                    .ok_or(CommandError::MissingSecret("mailed token"))?;
                if !store::mailed_tokens::consume(tx, *kind, stream_id, token_hash).await? {
                    return Err(CommandError::TokenInvalid);
                }
            }
            Effect::DiscardTokens(kind) => {
                store::mailed_tokens::discard(tx, *kind, stream_id).await?;
            }
            Effect::ForgetPerson => store::erasure::forget(tx, stream_id).await?,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use domain::{
        user::{
            UserDeactivated, UserEmailVerified, UserPasswordReset, UserRegistered, UserRoleAssigned,
        },
        values::{DisplayName, Email},
    };

    use super::*;

    #[test]
    fn registration_reserves_the_email_and_role_changes_move_the_admins_and_end_sessions() {
        let user_id = Uuid::now_v7();
        let registered = UserRegistered {
            user_id,
            email: Some(Email::parse("ada@example.com").unwrap()),
            display_name: Some(DisplayName::parse("Ada").unwrap()),
            role: Role::Customer,
        };
        assert_eq!(
            User::effects(&registered.into()),
            vec![
                Effect::ReserveEmail("ada@example.com".to_owned()),
                Effect::StorePasswordHash
            ]
        );
        let promoted = UserRoleAssigned {
            user_id,
            role: Role::Admin,
            previous_role: Role::Customer,
        };
        assert_eq!(
            User::effects(&promoted.into()),
            vec![
                Effect::GrantAdmin,
                Effect::EndSessions(EndReason::RoleChanged)
            ]
        );
        let demoted = UserRoleAssigned {
            user_id,
            role: Role::Seller,
            previous_role: Role::Admin,
        };
        assert_eq!(
            User::effects(&demoted.into()),
            vec![
                Effect::RevokeAdmin,
                Effect::EndSessions(EndReason::RoleChanged)
            ]
        );
        let deactivated = UserDeactivated { user_id };
        assert_eq!(
            User::effects(&deactivated.into()),
            vec![
                Effect::RevokeAdmin,
                Effect::EndSessions(EndReason::Deactivated),
                Effect::DiscardTokens(TokenKind::EmailVerification),
                Effect::DiscardTokens(TokenKind::PasswordReset),
            ]
        );
    }

    #[test]
    fn a_verification_or_reset_uses_up_its_token_and_a_reset_ends_sessions() {
        let user_id = Uuid::now_v7();
        assert_eq!(
            User::effects(&UserEmailVerified { user_id }.into()),
            vec![Effect::ConsumeToken(TokenKind::EmailVerification)]
        );
        assert_eq!(
            User::effects(&UserPasswordReset { user_id }.into()),
            vec![
                Effect::ConsumeToken(TokenKind::PasswordReset),
                Effect::StorePasswordHash,
                Effect::EndSessions(EndReason::PasswordReset),
            ]
        );
    }

    #[test]
    fn secrets_never_show_in_debug_output() {
        let secrets = Secrets::password_hash("$argon2id$v=19$secret".to_owned())
            .with_token_hash(vec![0xab; 32]);
        let shown = format!("{secrets:?}");
        assert!(!shown.contains("argon2id"));
        assert!(!shown.contains("171") && !shown.contains("ab"));
    }
}
