//! Who may try a password now. Every sign-in, sign-up and re-authentication (the current password
//! a password change asks for) is counted in PostgreSQL before any hashing, against several
//! budgets at once, shared by every replica:
//!
//! - per account and client network: a few guesses, forgotten after a success;
//! - per account, for clients that have not signed in to it lately: stops guessing spread over
//!   many networks, while the owner's own client (trusted after a success) keeps working;
//! - per client network, over all accounts: stops one client trying many accounts;
//! - sign-ups per client network;
//! - a global budget of password checks per second, so no flood can queue unbounded argon2 work.
//!
//! Mail is budgeted the same way, so that nobody can use the service to flood a mailbox: a
//! verification mail at most once a minute and five times a day per account, password-reset
//! mails a few per address and a window, and per client network. The reset budgets count
//! addresses with and without an account alike, so a 429 tells nothing about either.
//!
//! Beyond a budget of the caller's own: 429 with `Retry-After`. Beyond the global budget: 503 with
//! `Retry-After`, since the caller did nothing wrong.

use actix_web::http::StatusCode;
use deadpool_postgres::Pool;
use platform::Problem;
use store::throttle::{Charge, Exceeded};
use uuid::Uuid;

use crate::{
    error::{ApiError, auth_busy},
    metrics as m,
    settings::AuthLimits,
};

const ACCOUNT_CLIENT: &str = "sign_in_account_client";
const ACCOUNT: &str = "sign_in_account";
const CLIENT: &str = "sign_in_client";
const SIGN_UP_CLIENT: &str = "sign_up_client";
const REAUTH_ACCOUNT_CLIENT: &str = "reauth_account_client";
const GLOBAL: &str = "password_checks";
const VERIFICATION_MAIL_MINUTE: &str = "verification_mail_minute";
const VERIFICATION_MAIL_DAY: &str = "verification_mail_day";
const RESET_ADDRESS: &str = "password_reset_address";
const RESET_CLIENT: &str = "password_reset_client";
const RESET_TOKEN_CLIENT: &str = "reset_token_client";

/// Password-reset requests per address and per window: enough for a lost mail or two.
const RESETS_PER_ADDRESS: i32 = 3;
/// Verification mails per account and day (and one a minute).
const VERIFICATION_MAILS_PER_DAY: i32 = 5;

/// An attempt that will cost a password hash.
#[derive(Debug, Clone, Copy)]
pub enum Attempt<'a> {
    /// `email` is normalised (trimmed, lower case); it need not belong to an account.
    SignIn {
        email: &'a str,
        network: &'a str,
    },
    SignUp {
        network: &'a str,
    },
    /// A signed-in user proving their current password.
    Reauthenticate {
        user_id: Uuid,
        network: &'a str,
    },
    /// A new password set with a mailed reset token (hashed like a sign-up).
    ResetPassword {
        network: &'a str,
    },
}

/// A request that makes the notifier send mail.
#[derive(Debug, Clone, Copy)]
pub enum MailRequest<'a> {
    Verification {
        user_id: Uuid,
    },
    /// `email` is normalised; it need not belong to an account.
    PasswordReset {
        email: &'a str,
        network: &'a str,
    },
}

/// Counts `attempt` and refuses it if any budget it draws on is spent.
pub async fn admit(pool: &Pool, limits: &AuthLimits, attempt: Attempt<'_>) -> Result<(), ApiError> {
    let client = pool.get().await?;
    let window = limits.window_secs;
    let charge = |bucket, key: String, limit| Charge {
        bucket,
        key,
        limit,
        window_secs: window,
    };
    let mut charges = vec![Charge {
        bucket: GLOBAL,
        key: String::new(),
        limit: limits.global_per_second,
        window_secs: 1,
    }];
    match attempt {
        Attempt::SignIn { email, network } => {
            charges.push(charge(
                ACCOUNT_CLIENT,
                format!("{email}|{network}"),
                limits.per_account_client,
            ));
            charges.push(charge(CLIENT, network.to_owned(), limits.per_client));
            if !store::throttle::is_trusted(&**client, email, network).await? {
                charges.push(charge(ACCOUNT, email.to_owned(), limits.per_account));
            }
        }
        Attempt::SignUp { network } => {
            charges.push(charge(
                SIGN_UP_CLIENT,
                network.to_owned(),
                limits.sign_ups_per_client,
            ));
        }
        Attempt::Reauthenticate { user_id, network } => {
            charges.push(charge(
                REAUTH_ACCOUNT_CLIENT,
                format!("{user_id}|{network}"),
                limits.per_account_client,
            ));
            charges.push(charge(CLIENT, network.to_owned(), limits.per_client));
        }
        Attempt::ResetPassword { network } => {
            charges.push(charge(
                RESET_TOKEN_CLIENT,
                network.to_owned(),
                limits.per_account_client,
            ));
        }
    }
    match store::throttle::charge(&**client, &charges).await? {
        None => Ok(()),
        Some(exceeded) => Err(refusal(exceeded)),
    }
}

/// Counts a request for mail and refuses it if a budget it draws on is spent.
pub async fn admit_mail(
    pool: &Pool,
    limits: &AuthLimits,
    request: MailRequest<'_>,
) -> Result<(), ApiError> {
    let charges = match request {
        MailRequest::Verification { user_id } => vec![
            Charge {
                bucket: VERIFICATION_MAIL_MINUTE,
                key: user_id.to_string(),
                limit: 1,
                window_secs: 60,
            },
            Charge {
                bucket: VERIFICATION_MAIL_DAY,
                key: user_id.to_string(),
                limit: VERIFICATION_MAILS_PER_DAY,
                window_secs: 86_400,
            },
        ],
        MailRequest::PasswordReset { email, network } => vec![
            Charge {
                bucket: RESET_ADDRESS,
                key: email.to_owned(),
                limit: RESETS_PER_ADDRESS,
                window_secs: limits.window_secs,
            },
            Charge {
                bucket: RESET_CLIENT,
                key: network.to_owned(),
                limit: limits.sign_ups_per_client,
                window_secs: limits.window_secs,
            },
        ],
    };
    let client = pool.get().await?;
    match store::throttle::charge(&**client, &charges).await? {
        None => Ok(()),
        Some(exceeded) => Err(refusal(exceeded)),
    }
}

/// After a successful sign-in: the guesses from this network are forgotten and it is trusted.
pub async fn signed_in(
    tx: &impl tokio_postgres::GenericClient,
    limits: &AuthLimits,
    email: &str,
    network: &str,
) -> Result<(), ApiError> {
    store::throttle::forget(tx, ACCOUNT_CLIENT, &format!("{email}|{network}")).await?;
    store::throttle::trust(tx, email, network, limits.trust_days).await?;
    Ok(())
}

fn refusal(exceeded: Exceeded) -> ApiError {
    metrics::counter!(m::LOGIN_THROTTLED, "bucket" => exceeded.bucket).increment(1);
    let title = match exceeded.bucket {
        GLOBAL => return auth_busy(exceeded.retry_after_secs).into(),
        SIGN_UP_CLIENT => "Too many sign-ups from this network",
        VERIFICATION_MAIL_MINUTE | VERIFICATION_MAIL_DAY => "Too many verification mails",
        RESET_ADDRESS | RESET_CLIENT => "Too many password reset requests",
        RESET_TOKEN_CLIENT => "Too many password resets from this network",
        _ => "Too many sign-in attempts",
    };
    Problem::new(StatusCode::TOO_MANY_REQUESTS, "too_many_attempts", title)
        .with_detail("wait before trying again")
        .with_retry_after(exceeded.retry_after_secs)
        .into()
}
