//! `/v1/password-resets`: asking for a reset mail by address, and setting a new password with
//! the token it carried.
//!
//! Asking answers 202 whatever the address: the throttle (one statement, the same for every
//! address) runs before the answer, and finding the account and recording the request run after
//! it, on the runtime, so neither the status, the body nor the time to answer depends on
//! whether the address has an account. The price: a request accepted just before the process
//! dies is lost, and the user asks again (nothing was promised but "if there is an account").

use actix_web::{HttpRequest, HttpResponse, http::StatusCode, web};
use domain::{
    Actor,
    user::{User, UserCommand},
    values::{Email, Password},
};
use serde::{Deserialize, Serialize};
use store::{
    StoreError,
    mailed_tokens::{self, TokenKind},
};
use utoipa::ToSchema;

use crate::{
    auth::{
        client_address::client_network,
        password,
        principal::Caller,
        refresh_token,
        throttle::{self, Attempt, MailRequest},
    },
    command::{
        core::{self, Provenance, Target},
        effects::Secrets,
        error::CommandError,
        http::{CommandRequest, Reply, earlier_answer, execute},
    },
    error::{ApiError, token_invalid},
    metrics as m,
    request::{CommandHeaders, JsonBody},
    state::AppState,
    validation::{Fields, checked},
};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestResetBody {
    #[schema(example = "ada@example.com")]
    pub email: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetPasswordBody {
    /// The new password, 12 to 128 characters.
    #[schema(example = "correct horse battery staple")]
    pub password: String,
}

/// The answer to a reset request, the same for every address.
#[derive(Debug, Serialize, ToSchema)]
pub struct ResetRequested {
    #[schema(example = "if an account uses this address, a reset link is on its way")]
    pub status: &'static str,
}

/// Asks for a password-reset mail. Always 202, whether or not an account uses the address; the
/// mail's link is valid for 30 minutes.
#[utoipa::path(post, path = "/v1/password-resets", tag = "sessions", operation_id = "request_password_reset", request_body = RequestResetBody,
    responses((status = 202, description = "Accepted (whether or not the address has an account)", body = ResetRequested),
              (status = 400, body = platform::openapi::ProblemDoc),
              (status = 429, description = "Too many reset requests for this address or from this network", body = platform::openapi::ProblemDoc)))]
pub async fn request(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: JsonBody<RequestResetBody>,
) -> Result<HttpResponse, ApiError> {
    let headers = CommandHeaders::from_request(&req)?;
    let mut fields = Fields::default();
    let email = fields.check(Email::parse(&body.value.email));
    fields.finish()?;
    let email = checked(email)?;
    let network = client_network(&req, state.trusted_proxy_hops);
    throttle::admit_mail(
        &state.pool,
        &state.auth_limits,
        MailRequest::PasswordReset {
            email: email.as_str(),
            network: &network,
        },
    )
    .await?;
    let provenance = Provenance {
        correlation_id: headers.correlation_id,
        causation_id: headers.causation_id,
        traceparent: headers.traceparent.clone(),
    };
    tokio::spawn(record_request(state.clone(), email, provenance));
    Ok(
        HttpResponse::build(StatusCode::ACCEPTED).json(ResetRequested {
            status: "if an account uses this address, a reset link is on its way",
        }),
    )
}

/// Appends `user.password_reset_requested` to the account of `email`, if there is one and it is
/// active; the notifier mails the token. Counted by outcome, never logged with the address.
async fn record_request(state: web::Data<AppState>, email: Email, provenance: Provenance) {
    let outcome = match try_record_request(&state, &email, &provenance).await {
        Ok(outcome) => outcome,
        Err(error) => {
            tracing::warn!(
                error = format!("{error:#}"),
                "recording a password reset request failed"
            );
            "failed"
        }
    };
    metrics::counter!(m::PASSWORD_RESET_REQUESTS, "outcome" => outcome).increment(1);
}

async fn try_record_request(
    state: &AppState,
    email: &Email,
    provenance: &Provenance,
) -> anyhow::Result<&'static str> {
    const ATTEMPTS: usize = 3;
    for _ in 0..ATTEMPTS {
        let mut client = state.pool.get().await?;
        let Some(user_id) = store::reservations::user_for_email(&**client, email.as_str()).await?
        else {
            return Ok("no_account");
        };
        let tx = client
            .transaction()
            .await
            .map_err(StoreError::db("starting a transaction"))?;
        let target = Target {
            actor: &Actor::Anonymous,
            stream_id: user_id,
            expected_version: None,
        };
        let commands = vec![UserCommand::RequestPasswordReset];
        let secrets = Secrets::none();
        match core::run::<User>(&*tx, target, commands, provenance, &secrets, &state.keyring).await
        {
            Ok(_) => {
                tx.commit()
                    .await
                    .map_err(StoreError::db("committing a reset request"))?;
                return Ok("recorded");
            }
            Err(CommandError::Refused { .. }) => return Ok("refused"),
            Err(CommandError::Store(StoreError::VersionConflict)) => continue,
            Err(other) => return Err(other.into()),
        }
    }
    anyhow::bail!("the account kept changing during {ATTEMPTS} attempts")
}

/// Sets a new password with the token from a reset mail, and ends every session of the account.
/// The token works once, for 30 minutes.
#[utoipa::path(post, path = "/v1/password-resets/{token}", tag = "sessions", operation_id = "reset_password", request_body = ResetPasswordBody,
    params(("token" = String, Path, description = "The token from the reset mail's link"), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 200, description = "The password is set; every session ended", body = crate::command::http::Accepted),
              (status = 400, body = platform::openapi::ProblemDoc),
              (status = 409, description = "The account is deactivated", body = platform::openapi::ProblemDoc),
              (status = 410, description = "The token was used, has expired or was never issued", body = platform::openapi::ProblemDoc),
              (status = 429, body = platform::openapi::ProblemDoc),
              (status = 503, description = "Too many password checks right now", body = platform::openapi::ProblemDoc)))]
pub async fn reset(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<String>,
    body: JsonBody<ResetPasswordBody>,
) -> Result<HttpResponse, ApiError> {
    let headers = CommandHeaders::from_request(&req)?;
    let mut fields = Fields::default();
    let password = fields.check(Password::parse(&body.value.password));
    fields.finish()?;
    let request = CommandRequest {
        caller: &caller,
        headers: &headers,
        body: &body.raw,
    };
    if let Some(answer) = earlier_answer(&state.pool, request).await? {
        return Ok(answer);
    }
    let token_hash = refresh_token::hash(&path.into_inner());
    let user_id = {
        let client = state.pool.get().await?;
        mailed_tokens::owner(&**client, TokenKind::PasswordReset, &token_hash)
            .await?
            .ok_or_else(token_invalid)?
    };
    let network = client_network(&req, state.trusted_proxy_hops);
    throttle::admit(
        &state.pool,
        &state.auth_limits,
        Attempt::ResetPassword { network: &network },
    )
    .await?;
    let hash = password::hash(checked(password)?).await?;
    execute::<User, _>(
        &state,
        request,
        user_id,
        Reply::ok(),
        &Secrets::password_hash(hash).with_token_hash(token_hash),
        |_| Ok(vec![UserCommand::ResetPassword]),
    )
    .await
}
