//! `POST /v1/sessions`: exchanges an email and password for a short-lived access token.
//!
//! An unknown email, a wrong password and a deactivated account all get the same 401 after the
//! same work (one argon2 verification), so the answer tells an attacker nothing. This route
//! ignores `Idempotency-Key`: it records nothing, and its response holds a token that must not
//! be stored.

use actix_web::{HttpResponse, http::StatusCode, web};
use domain::{user::User, values::Email};
use platform::Problem;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{auth::password, error::ApiError, metrics as m, request::JsonBody, startup::AppState};

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
              (status = 401, description = "Wrong email or password", body = crate::routes::openapi::ProblemDoc)))]
pub async fn sign_in(
    state: web::Data<AppState>,
    body: JsonBody<SignInBody>,
) -> Result<HttpResponse, ApiError> {
    let SignInBody {
        email,
        password: candidate,
    } = body.value;
    let account = match Email::parse(&email) {
        Ok(email) => {
            let client = state.pool.get().await?;
            match store::reservations::user_for_email(&**client, email.as_str()).await? {
                Some(user_id) => {
                    let hash = store::credentials::password_hash(&**client, user_id).await?;
                    let user = store::load::<User>(&**client, user_id).await?;
                    hash.map(|hash| (user.state, hash))
                }
                None => None,
            }
        }
        Err(_) => None,
    };
    let Some((user, hash)) = account else {
        // Spend the same time as a real verification before refusing.
        let _ = password::verify(candidate, state.decoy_hash.clone()).await;
        return Err(invalid_credentials());
    };
    let verified = password::verify(candidate, hash).await?;
    let (Some(user_id), true, true) = (user.id, verified, user.active) else {
        return Err(invalid_credentials());
    };
    let token = state.tokens.issue(user_id, user.role.as_str())?;
    Ok(HttpResponse::Ok()
        .insert_header(("cache-control", "no-store"))
        .json(AccessToken {
            access_token: token,
            token_type: "Bearer",
            expires_in: state.tokens.ttl.as_secs(),
        }))
}
