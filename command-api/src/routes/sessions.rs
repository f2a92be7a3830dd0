//! `POST /v1/sessions`: exchanges an email and password for a short-lived access token.
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
use utoipa::ToSchema;

use crate::{
    auth::{
        client_address::client_network,
        password,
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
                let user = store::load_from_events::<User>(&**client, user_id).await?;
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
    throttle::signed_in(&state.pool, &state.auth_limits, &throttle_key, &network).await?;
    let token = state.tokens.issue(user_id, role.as_str())?;
    Ok(HttpResponse::Ok()
        .insert_header(("cache-control", "no-store"))
        .json(AccessToken {
            access_token: token,
            token_type: "Bearer",
            expires_in: state.tokens.ttl().as_secs(),
        }))
}
