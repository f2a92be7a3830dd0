//! `/v1/users`: sign-up, profile changes, roles and deactivation.

use actix_web::{HttpRequest, HttpResponse, web};
use domain::{
    user::{User, UserCommand},
    values::{DisplayName, Email, Password, Role, ValueError},
};
use platform::token::Claims;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    auth::{
        client_address::client_network,
        password,
        principal::{Caller, SignedIn},
        throttle::{self, Attempt},
    },
    command::{
        effects::Secrets,
        http::{CommandRequest, Reply, execute},
    },
    error::ApiError,
    request::{CommandHeaders, JsonBody},
    state::AppState,
    validation::{Fields, checked},
};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterUserBody {
    #[schema(example = "ada@example.com")]
    pub email: String,
    /// 12 to 128 characters.
    #[schema(example = "correct horse battery staple")]
    pub password: String,
    #[schema(example = "Ada")]
    pub display_name: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUserBody {
    pub display_name: Option<String>,
    /// New password, 12 to 128 characters.
    pub password: Option<String>,
    /// Required with `password` when users change their own password.
    pub current_password: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ErasePersonalDataBody {
    /// Required when users erase their own data; an admin erasing someone else's sends no body.
    pub current_password: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeactivateBody {
    /// Required when users deactivate their own account; an admin deactivating someone else
    /// sends no body.
    pub current_password: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignRoleBody {
    #[schema(value_type = String, example = "seller")]
    pub role: Role,
}

/// Registers a customer account.
#[utoipa::path(post, path = "/v1/users", tag = "users", operation_id = "register_user", request_body = RegisterUserBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first response for 24 h")),
    responses((status = 201, description = "Registered", body = crate::command::http::Accepted),
              (status = 400, description = "Invalid fields", body = platform::openapi::ProblemDoc),
              (status = 409, description = "Email already registered", body = platform::openapi::ProblemDoc),
              (status = 429, description = "Too many sign-ups from this network", body = platform::openapi::ProblemDoc),
              (status = 503, description = "Too many password checks right now", body = platform::openapi::ProblemDoc)))]
pub async fn register(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    body: JsonBody<RegisterUserBody>,
) -> Result<HttpResponse, ApiError> {
    let headers = CommandHeaders::from_request(&req)?;
    let mut fields = Fields::default();
    let email = fields.check(Email::parse(&body.value.email));
    let display_name = fields.check(DisplayName::parse(&body.value.display_name));
    let password = fields.check(Password::parse(&body.value.password));
    fields.finish()?;
    let (email, display_name) = (checked(email)?, checked(display_name)?);
    let network = client_network(&req, state.trusted_proxy_hops);
    throttle::admit(
        &state.pool,
        &state.auth_limits,
        Attempt::SignUp { network: &network },
    )
    .await?;
    let hash = password::hash(checked(password)?).await?;
    let user_id = Uuid::now_v7();
    let request = CommandRequest {
        caller: &caller,
        headers: &headers,
        body: &body.raw,
    };
    execute::<User, _>(
        &state,
        request,
        user_id,
        Reply::created(format!("{}/v1/users/{user_id}", state.read_api_url)),
        &Secrets::password_hash(hash),
        |_| {
            Ok(vec![UserCommand::Register {
                user_id,
                email: email.clone(),
                display_name: display_name.clone(),
            }])
        },
    )
    .await
}

/// Changes a user's display name and/or password (the user themself or an admin).
#[utoipa::path(patch, path = "/v1/users/{id}", tag = "users", operation_id = "update_user", request_body = UpdateUserBody,
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 200, body = crate::command::http::Accepted),
              (status = 400, body = platform::openapi::ProblemDoc),
              (status = 401, body = platform::openapi::ProblemDoc),
              (status = 403, body = platform::openapi::ProblemDoc),
              (status = 404, body = platform::openapi::ProblemDoc),
              (status = 412, body = platform::openapi::ProblemDoc),
              (status = 429, description = "Too many wrong current passwords", body = platform::openapi::ProblemDoc)),
    security(("bearer" = [])))]
pub async fn update(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: SignedIn,
    path: web::Path<Uuid>,
    body: JsonBody<UpdateUserBody>,
) -> Result<HttpResponse, ApiError> {
    let user_id = path.into_inner();
    let headers = CommandHeaders::from_request(&req)?;
    let claims = caller.claims()?;
    let mut fields = Fields::default();
    let display_name =
        fields.check_optional(body.value.display_name.as_deref(), DisplayName::parse);
    let new_password = fields.check_optional(body.value.password.as_deref(), Password::parse);
    let changing_own_password = new_password.is_some() && claims.sub == user_id;
    if changing_own_password && body.value.current_password.is_none() {
        fields.fail(ValueError::Invalid {
            field: "current_password",
            reason: "is required to change your own password",
        });
    }
    if body.value.display_name.is_none() && body.value.password.is_none() {
        fields.fail(ValueError::Invalid {
            field: "body",
            reason: "must change display_name or password",
        });
    }
    fields.finish()?;
    if changing_own_password {
        let current = body.value.current_password.clone().unwrap_or_default();
        let network = client_network(&req, state.trusted_proxy_hops);
        verify_current_password(&state, claims, current, &network).await?;
    }
    let secrets = match new_password {
        Some(password) => Secrets::password_hash(password::hash(password).await?),
        None => Secrets::none(),
    };
    let changing_password = body.value.password.is_some();
    let request = CommandRequest {
        caller: caller.caller(),
        headers: &headers,
        body: &body.raw,
    };
    execute::<User, _>(&state, request, user_id, Reply::ok(), &secrets, |_| {
        let mut commands = Vec::new();
        if let Some(display_name) = &display_name {
            commands.push(UserCommand::ChangeDisplayName {
                display_name: display_name.clone(),
            });
        }
        if changing_password {
            commands.push(UserCommand::ChangePassword);
        }
        Ok(commands)
    })
    .await
}

/// Assigns a role (admins only).
#[utoipa::path(put, path = "/v1/users/{id}/role", tag = "users", request_body = AssignRoleBody,
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 200, body = crate::command::http::Accepted),
              (status = 401, body = platform::openapi::ProblemDoc),
              (status = 403, body = platform::openapi::ProblemDoc),
              (status = 404, body = platform::openapi::ProblemDoc)),
    security(("bearer" = [])))]
pub async fn assign_role(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: SignedIn,
    path: web::Path<Uuid>,
    body: JsonBody<AssignRoleBody>,
) -> Result<HttpResponse, ApiError> {
    let headers = CommandHeaders::from_request(&req)?;
    let role = body.value.role;
    let request = CommandRequest {
        caller: caller.caller(),
        headers: &headers,
        body: &body.raw,
    };
    execute::<User, _>(
        &state,
        request,
        path.into_inner(),
        Reply::ok(),
        &Secrets::none(),
        |_| Ok(vec![UserCommand::AssignRole { role }]),
    )
    .await
}

/// Deactivates an account for good (the user themself, with their current password, or an
/// admin). Every session of the account ends with it.
#[utoipa::path(delete, path = "/v1/users/{id}", tag = "users", operation_id = "deactivate_user", request_body = DeactivateBody,
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 200, body = crate::command::http::Accepted),
              (status = 400, description = "current_password missing for your own account", body = platform::openapi::ProblemDoc),
              (status = 401, body = platform::openapi::ProblemDoc),
              (status = 403, description = "Not yours, or the current password is wrong", body = platform::openapi::ProblemDoc),
              (status = 429, description = "Too many wrong current passwords", body = platform::openapi::ProblemDoc)),
    security(("bearer" = [])))]
pub async fn deactivate(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: SignedIn,
    path: web::Path<Uuid>,
    body: JsonBody<DeactivateBody>,
) -> Result<HttpResponse, ApiError> {
    let proof = Reauthenticated {
        current_password: body.value.current_password.as_deref(),
        missing: "is required to deactivate your own account",
    };
    let command = UserCommand::Deactivate;
    run_reauthenticated(
        &state,
        &req,
        &caller,
        path.into_inner(),
        &body.raw,
        proof,
        command,
    )
    .await
}

/// Forgets the person behind an account (the user themself, with their current password, or an
/// admin): their data key is destroyed, so the address and name in every stored and published
/// event can no longer be read; the account is closed for good, every session ends, and the
/// address may sign up again as a new account. Erasing again changes nothing.
#[utoipa::path(delete, path = "/v1/users/{id}/personal-data", tag = "users", operation_id = "erase_personal_data", request_body = ErasePersonalDataBody,
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 200, body = crate::command::http::Accepted),
              (status = 400, description = "current_password missing for your own account", body = platform::openapi::ProblemDoc),
              (status = 401, body = platform::openapi::ProblemDoc),
              (status = 403, description = "Not yours, or the current password is wrong", body = platform::openapi::ProblemDoc),
              (status = 404, body = platform::openapi::ProblemDoc),
              (status = 409, description = "The last active admin cannot be erased", body = platform::openapi::ProblemDoc),
              (status = 429, description = "Too many wrong current passwords", body = platform::openapi::ProblemDoc)),
    security(("bearer" = [])))]
pub async fn erase_personal_data(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: SignedIn,
    path: web::Path<Uuid>,
    body: JsonBody<ErasePersonalDataBody>,
) -> Result<HttpResponse, ApiError> {
    let proof = Reauthenticated {
        current_password: body.value.current_password.as_deref(),
        missing: "is required to erase your own personal data",
    };
    let command = UserCommand::ErasePersonalData;
    run_reauthenticated(
        &state,
        &req,
        &caller,
        path.into_inner(),
        &body.raw,
        proof,
        command,
    )
    .await
}

/// The proof a command on one's own account needs: the current password.
struct Reauthenticated<'a> {
    current_password: Option<&'a str>,
    /// Completes "current_password ..." when it is missing.
    missing: &'static str,
}

/// Runs `command` on account `user_id`: the caller's own account only with their current
/// password (throttled like a sign-in), anyone else's as the domain allows (an admin).
async fn run_reauthenticated(
    state: &AppState,
    req: &HttpRequest,
    caller: &SignedIn,
    user_id: Uuid,
    raw_body: &[u8],
    proof: Reauthenticated<'_>,
    command: UserCommand,
) -> Result<HttpResponse, ApiError> {
    let headers = CommandHeaders::from_request(req)?;
    let claims = caller.claims()?;
    if claims.sub == user_id {
        let Some(current) = proof.current_password else {
            return Err(ApiError::Validation(vec![ValueError::Invalid {
                field: "current_password",
                reason: proof.missing,
            }]));
        };
        let network = client_network(req, state.trusted_proxy_hops);
        verify_current_password(state, claims, current.to_owned(), &network).await?;
    }
    let request = CommandRequest {
        caller: caller.caller(),
        headers: &headers,
        body: raw_body,
    };
    execute::<User, _>(
        state,
        request,
        user_id,
        Reply::ok(),
        &Secrets::none(),
        |_| Ok(vec![command.clone()]),
    )
    .await
}

/// Re-authentication of the caller's own account, throttled like a sign-in. A token of an ended
/// session gets 401 before any password is checked: it must not become a way to test guesses.
async fn verify_current_password(
    state: &AppState,
    claims: &Claims,
    candidate: String,
    network: &str,
) -> Result<(), ApiError> {
    let user_id = claims.sub;
    {
        let client = state.pool.get().await?;
        if !store::sessions::is_live(&**client, claims.sid).await? {
            return Err(ApiError::Unauthenticated);
        }
    }
    let attempt = Attempt::Reauthenticate { user_id, network };
    throttle::admit(&state.pool, &state.auth_limits, attempt).await?;
    let stored = {
        let client = state.pool.get().await?;
        store::credentials::password_hash(&**client, user_id).await?
    };
    let matches = match stored {
        Some(hash) => password::verify(candidate, hash).await?,
        None => false,
    };
    if matches {
        Ok(())
    } else {
        Err(platform::Problem::new(
            actix_web::http::StatusCode::FORBIDDEN,
            "wrong_current_password",
            "The current password is not correct",
        )
        .into())
    }
}
