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
    }
    match store::throttle::charge(&**client, &charges).await? {
        None => Ok(()),
        Some(exceeded) => Err(refusal(exceeded)),
    }
}

/// After a successful sign-in: the guesses from this network are forgotten and it is trusted.
pub async fn signed_in(
    pool: &Pool,
    limits: &AuthLimits,
    email: &str,
    network: &str,
) -> Result<(), ApiError> {
    let client = pool.get().await?;
    store::throttle::forget(&**client, ACCOUNT_CLIENT, &format!("{email}|{network}")).await?;
    store::throttle::trust(&**client, email, network, limits.trust_days).await?;
    Ok(())
}

fn refusal(exceeded: Exceeded) -> ApiError {
    metrics::counter!(m::LOGIN_THROTTLED, "bucket" => exceeded.bucket).increment(1);
    let title = match exceeded.bucket {
        GLOBAL => return auth_busy(exceeded.retry_after_secs).into(),
        SIGN_UP_CLIENT => "Too many sign-ups from this network",
        _ => "Too many sign-in attempts",
    };
    Problem::new(StatusCode::TOO_MANY_REQUESTS, "too_many_attempts", title)
        .with_detail("wait before trying again")
        .with_retry_after(exceeded.retry_after_secs)
        .into()
}
