//! `/v1/users/{id}/email-verification*`: proving an address with the token the notifier mailed,
//! and asking for another mail.

use actix_web::{HttpRequest, HttpResponse, http::StatusCode, web};
use domain::{
    user::{User, UserCommand},
    values::Role,
};
use serde::Deserialize;
use store::mailed_tokens::{self, TokenKind};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    auth::{
        principal::{Caller, SignedIn},
        refresh_token,
        throttle::{self, MailRequest},
    },
    command::{
        effects::Secrets,
        http::{CommandRequest, Reply, earlier_answer, execute},
    },
    error::{ApiError, token_invalid},
    request::{CommandHeaders, JsonBody},
    state::AppState,
};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyEmailBody {
    /// The token from the verification mail's link.
    #[schema(example = "q3Xh0m1E6vO8mJf2d6wQ0yPpQe8rVZ4vYlqQmHk3b9s")]
    pub token: String,
}

/// Verifies the account's email address with the token the verification mail carried. Needs no
/// sign-in: the token is the proof. Using it again, or a token of another account, gets 410.
#[utoipa::path(post, path = "/v1/users/{id}/email-verification", tag = "users", operation_id = "verify_email", request_body = VerifyEmailBody,
    params(("id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 200, description = "Verified", body = crate::command::http::Accepted),
              (status = 400, body = platform::openapi::ProblemDoc),
              (status = 409, description = "The account is deactivated", body = platform::openapi::ProblemDoc),
              (status = 410, description = "The token was used, has expired or was never issued to this account", body = platform::openapi::ProblemDoc)))]
pub async fn verify(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<Uuid>,
    body: JsonBody<VerifyEmailBody>,
) -> Result<HttpResponse, ApiError> {
    let user_id = path.into_inner();
    let headers = CommandHeaders::from_request(&req)?;
    let request = CommandRequest {
        caller: &caller,
        headers: &headers,
        body: &body.raw,
    };
    if let Some(answer) = earlier_answer(&state.pool, request).await? {
        return Ok(answer);
    }
    let token_hash = refresh_token::hash(&body.value.token);
    {
        let client = state.pool.get().await?;
        let owner =
            mailed_tokens::owner(&**client, TokenKind::EmailVerification, &token_hash).await?;
        if owner != Some(user_id) {
            return Err(token_invalid().into());
        }
    }
    execute::<User, _>(
        &state,
        request,
        user_id,
        Reply::ok(),
        &Secrets::none().with_token_hash(token_hash),
        |_| Ok(vec![UserCommand::VerifyEmail]),
    )
    .await
}

/// Asks for another verification mail (the user or an admin). At most one a minute and five a
/// day per account; beyond that 429 with `Retry-After`.
#[utoipa::path(post, path = "/v1/users/{id}/email-verification-requests", tag = "users", operation_id = "request_email_verification",
    params(("id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 202, description = "A new mail is on its way", body = crate::command::http::Accepted),
              (status = 401, body = platform::openapi::ProblemDoc),
              (status = 403, body = platform::openapi::ProblemDoc),
              (status = 404, body = platform::openapi::ProblemDoc),
              (status = 409, description = "Already verified, or deactivated", body = platform::openapi::ProblemDoc),
              (status = 429, description = "Too many verification mails", body = platform::openapi::ProblemDoc)),
    security(("bearer" = [])))]
pub async fn request_mail(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: SignedIn,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let user_id = path.into_inner();
    let headers = CommandHeaders::from_request(&req)?;
    // Only the owner and admins get this far with the budget: anyone else's request is refused
    // by the domain, but it must not spend the owner's mails either.
    let claims = caller.claims()?;
    if claims.sub == user_id || claims.role == Role::Admin.as_str() {
        throttle::admit_mail(
            &state.pool,
            &state.auth_limits,
            MailRequest::Verification { user_id },
        )
        .await?;
    }
    let request = CommandRequest {
        caller: caller.caller(),
        headers: &headers,
        body: &[],
    };
    let reply = Reply {
        status: StatusCode::ACCEPTED,
        location: None,
    };
    execute::<User, _>(&state, request, user_id, reply, &Secrets::none(), |_| {
        Ok(vec![UserCommand::RequestEmailVerification])
    })
    .await
}
