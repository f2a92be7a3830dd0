//! `POST /v1/sessions`: exchanges an email and password for a short-lived access token.
//!
//! An unknown email, a wrong password and a deactivated account all get the same 401 after the
//! same work (one argon2 verification), so the answer tells an attacker nothing. After
//! `CC_AUTH__LOGIN_MAX_FAILURES` failures for one address within `CC_AUTH__LOGIN_WINDOW_SECS`,
//! further attempts get 429 with `Retry-After` until the window ends, on every replica. This route
//! ignores `Idempotency-Key`: it records nothing, and its response holds a token that must not
//! be stored.

use actix_web::{HttpResponse, http::StatusCode, web};
use domain::{user::User, values::Email};
use platform::Problem;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{auth::password, error::ApiError, metrics as m, request::JsonBody, state::AppState};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignInBody {
    #[schema(example = "ada@example.com")]
    pub email: String,
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AccessToken {
    pub access_token: String,
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    /// Seconds until the token expires.
    #[schema(example = 900)]
    pub expires_in: u64,
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

/// Signs in.
#[utoipa::path(post, path = "/v1/sessions", tag = "sessions", request_body = SignInBody,
    responses((status = 200, body = AccessToken),
              (status = 401, description = "Wrong email or password", body = platform::openapi::ProblemDoc),
              (status = 429, description = "Too many failed attempts for this address", body = platform::openapi::ProblemDoc)))]
pub async fn sign_in(
    state: web::Data<AppState>,
    body: JsonBody<SignInBody>,
) -> Result<HttpResponse, ApiError> {
    let SignInBody {
        email,
        password: candidate,
    } = body.value;
    let throttle_key: String = email.trim().to_lowercase().chars().take(320).collect();
    let throttle = &state.login_throttle;
    // The connection is released before the argon2 verification, which takes tens of
    // milliseconds that a pooled connection should not sit idle for.
    let client = state.pool.get().await?;
    if let Some(seconds) = store::login_throttle::retry_after(
        &**client,
        &throttle_key,
        throttle.max_failures,
        throttle.window_secs,
    )
    .await?
    {
        metrics::counter!(m::LOGIN_THROTTLED).increment(1);
        return Err(Problem::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_attempts",
            "Too many failed sign-ins for this address",
        )
        .with_detail("wait before trying again")
        .with_retry_after(seconds)
        .into());
    }
    let account = match Email::parse(&email) {
        Ok(email) => match store::reservations::user_for_email(&**client, email.as_str()).await? {
            Some(user_id) => {
                let hash = store::credentials::password_hash(&**client, user_id).await?;
                let user = store::load::<User>(&**client, user_id).await?;
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
    let client = state.pool.get().await?;
    let Some((user_id, role)) = signed_in else {
        store::login_throttle::record_failure(&**client, &throttle_key, throttle.window_secs)
            .await?;
        return Err(invalid_credentials());
    };
    store::login_throttle::clear(&**client, &throttle_key).await?;
    let token = state.tokens.issue(user_id, role.as_str())?;
    Ok(HttpResponse::Ok()
        .insert_header(("cache-control", "no-store"))
        .json(AccessToken {
            access_token: token,
            token_type: "Bearer",
            expires_in: state.tokens.ttl().as_secs(),
        }))
}
