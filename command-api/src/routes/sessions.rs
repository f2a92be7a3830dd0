//! Sessions: `POST /v1/sessions` exchanges an email and password for a short-lived access token
//! and a refresh token; `POST /v1/sessions/refresh` spends a refresh token for a new pair;
//! `DELETE /v1/sessions/current` signs out. Refresh tokens are single-use: presenting a spent one
//! means two parties hold it, so the whole session ends and both must sign in again.
//!
//! An unknown email, a wrong password and a deactivated account all get the same 401 after the
//! same work (one argon2 verification), so the answer tells an attacker nothing. Every attempt is
//! counted against the budgets of `auth/throttle.rs` before it is hashed; a spent budget gets 429
//! with `Retry-After` until its window ends, on every replica. This route
//! ignores `Idempotency-Key`: it records nothing, and its response holds a token that must not
//! be stored.

use actix_web::{HttpRequest, HttpResponse, http::StatusCode, web};
use domain::{user::User, values::Email};
use platform::Problem;
use serde::{Deserialize, Serialize};
use store::{PersonalFields, sessions::EndReason};
use utoipa::ToSchema;

use crate::{
    auth::{
        client_address::client_network,
        password,
        principal::SignedIn,
        refresh_token,
        throttle::{self, Attempt},
    },
    error::ApiError,
    metrics as m,
    request::JsonBody,
    state::AppState,
};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignInBody {
    #[schema(example = "ada@example.com")]
    pub email: String,
    pub password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshBody {
    /// The refresh token of the last sign-in or refresh; it is spent by this request.
    pub refresh_token: String,
}

/// What a sign-in or a refresh hands out. Never cached, never logged.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionTokens {
    pub access_token: String,
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    #[schema(example = 900)]
    pub expires_in: u64,
    /// Single-use: `POST /v1/sessions/refresh` spends it for a new pair.
    #[schema(example = "ccr_9f2c…")]
    pub refresh_token: String,
    /// Seconds until the refresh token expires if unused.
    #[schema(example = 1_209_600)]
    pub refresh_expires_in: u64,
}

fn invalid_credentials() -> ApiError {
    metrics::counter!(m::LOGIN_FAILURES).increment(1);
    Problem::new(
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
        "The email address or password is not correct",
    )
    .into()
}

/// Signs in: starts a session.
#[utoipa::path(post, path = "/v1/sessions", tag = "sessions", request_body = SignInBody,
    responses((status = 200, body = SessionTokens),
              (status = 401, description = "Wrong email or password", body = platform::openapi::ProblemDoc),
              (status = 429, description = "Too many attempts for this account or from this network", body = platform::openapi::ProblemDoc),
              (status = 503, description = "Too many password checks right now", body = platform::openapi::ProblemDoc)))]
pub async fn sign_in(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: JsonBody<SignInBody>,
) -> Result<HttpResponse, ApiError> {
    let SignInBody {
        email,
        password: candidate,
    } = body.value;
    let throttle_key: String = email.trim().to_lowercase().chars().take(320).collect();
    let network = client_network(&req, state.trusted_proxy_hops);
    let attempt = Attempt::SignIn {
        email: &throttle_key,
        network: &network,
    };
    // Counted before the hash: parallel guesses are each counted before any is checked.
    throttle::admit(&state.pool, &state.auth_limits, attempt).await?;
    // The connection is released before the argon2 verification, which takes tens of
    // milliseconds that a pooled connection should not sit idle for.
    let client = state.pool.get().await?;
    let account = match Email::parse(&email) {
        Ok(email) => match store::reservations::user_for_email(&**client, email.as_str()).await? {
            Some(user_id) => {
                let hash = store::credentials::password_hash(&**client, user_id).await?;
                // From the events alone: the role in the token must not come from a forgeable snapshot.
                let user =
                    store::load_from_events::<User>(&**client, user_id, PersonalFields::Ignore)
                        .await?;
                hash.map(|hash| (user.state, hash))
            }
            None => None,
        },
        Err(_) => None,
    };
    drop(client);
    // Unknown addresses verify against a decoy hash: the same work, the same answer.
    let (user, hash) = match account {
        Some((user, hash)) => (Some(user), hash),
        None => (None, state.decoy_hash.clone()),
    };
    let verified = password::verify(candidate, hash).await?;
    let signed_in = user
        .filter(|u| verified && u.active)
        .and_then(|u| u.id.map(|id| (id, u.role)));
    let Some((user_id, role)) = signed_in else {
        return Err(invalid_credentials());
    };
    let (refresh_token, refresh_hash) = refresh_token::generate();
    let mut client = state.pool.get().await?;
    let tx = client
        .transaction()
        .await
        .map_err(store::StoreError::db("beginning a sign-in"))?;
    // Erased while the password was checked: nothing of the account may be written again (the
    // trust row names the address), and it has no session to start.
    if !store::credentials::hold(&*tx, user_id).await? {
        return Err(invalid_credentials());
    }
    throttle::signed_in(&*tx, &state.auth_limits, &throttle_key, &network).await?;
    let session_id =
        store::sessions::start(&*tx, user_id, &refresh_hash, state.session_lifetimes).await?;
    tx.commit()
        .await
        .map_err(store::StoreError::db("committing a sign-in"))?;
    metrics::counter!(m::SESSIONS_STARTED).increment(1);
    tokens(&state, user_id, role.as_str(), session_id, refresh_token)
}

/// Spends a refresh token for a new access token and a new refresh token.
#[utoipa::path(post, path = "/v1/sessions/refresh", tag = "sessions", request_body = RefreshBody,
    responses((status = 200, body = SessionTokens),
              (status = 400, description = "Not a JSON body with a refresh_token", body = platform::openapi::ProblemDoc),
              (status = 401, description = "Unknown, expired or ended; or spent already, which ends the session", body = platform::openapi::ProblemDoc)))]
pub async fn refresh(
    state: web::Data<AppState>,
    body: JsonBody<RefreshBody>,
) -> Result<HttpResponse, ApiError> {
    let presented = refresh_token::hash(&body.value.refresh_token);
    let (successor, successor_hash) = refresh_token::generate();
    let mut client = state.pool.get().await?;
    let tx = client
        .transaction()
        .await
        .map_err(store::StoreError::db("beginning a refresh"))?;
    let outcome = store::sessions::refresh(
        &*tx,
        &presented,
        &successor_hash,
        state.session_lifetimes.refresh_token,
    )
    .await?;
    let rotated = match outcome {
        store::sessions::Refresh::Rotated {
            session_id,
            user_id,
        } => {
            // The role from the events, as at sign-in; a role change would have ended the session.
            let user =
                store::load_from_events::<User>(&*tx, user_id, PersonalFields::Ignore).await?;
            user.state
                .active
                .then_some((session_id, user_id, user.state.role))
        }
        store::sessions::Refresh::Reused { session_id } => {
            tracing::warn!(%session_id, "a spent refresh token was presented again; session ended");
            metrics::counter!(m::SESSIONS_ENDED, "reason" => EndReason::RefreshTokenReused.as_str())
                .increment(1);
            None
        }
        store::sessions::Refresh::Invalid => None,
    };
    tx.commit()
        .await
        .map_err(store::StoreError::db("committing a refresh"))?;
    drop(client);
    let Some((session_id, user_id, role)) = rotated else {
        metrics::counter!(m::SESSION_REFRESHES, "outcome" => "refused").increment(1);
        return Err(invalid_refresh_token());
    };
    metrics::counter!(m::SESSION_REFRESHES, "outcome" => "rotated").increment(1);
    tokens(&state, user_id, role.as_str(), session_id, successor)
}

/// Signs out: ends the session of the bearer token, its access and refresh tokens with it.
#[utoipa::path(delete, path = "/v1/sessions/current", tag = "sessions",
    responses((status = 204, description = "Signed out"),
              (status = 401, description = "No valid bearer token, or its session has ended", body = platform::openapi::ProblemDoc)),
    security(("bearer" = [])))]
pub async fn sign_out(
    state: web::Data<AppState>,
    caller: SignedIn,
) -> Result<HttpResponse, ApiError> {
    let session_id = caller.claims()?.sid;
    let client = state.pool.get().await?;
    if !store::sessions::end(&**client, session_id, EndReason::SignedOut).await? {
        return Err(ApiError::Unauthenticated);
    }
    metrics::counter!(m::SESSIONS_ENDED, "reason" => EndReason::SignedOut.as_str()).increment(1);
    Ok(HttpResponse::NoContent()
        .insert_header(("cache-control", "no-store"))
        .finish())
}

fn invalid_refresh_token() -> ApiError {
    Problem::new(
        StatusCode::UNAUTHORIZED,
        "invalid_refresh_token",
        "The refresh token is unknown, expired, spent or of an ended session: sign in again",
    )
    .into()
}

fn tokens(
    state: &AppState,
    user_id: uuid::Uuid,
    role: &str,
    session_id: uuid::Uuid,
    refresh_token: String,
) -> Result<HttpResponse, ApiError> {
    let access_token = state.tokens.issue(user_id, role, session_id)?;
    Ok(HttpResponse::Ok()
        .insert_header(("cache-control", "no-store"))
        .json(SessionTokens {
            access_token,
            token_type: "Bearer",
            expires_in: state.tokens.ttl().as_secs(),
            refresh_token,
            refresh_expires_in: state.session_lifetimes.refresh_token.as_secs(),
        }))
}
