//! The HTTP layer around the command core, all in one transaction with the core's writes: claim
//! the `Idempotency-Key` (a repeat replays the first answer), resolve the caller's current role,
//! build the commands, run the core with the `If-Match` version, record the answer for the key,
//! commit, and answer with the new version in the body, `ETag` and `Consistency-Token`; with
//! `Prefer: return=representation` the body is the resource's new state instead.
//!
//! A concurrent writer that got there first makes the append fail. Without `If-Match` the whole
//! transaction is retried on fresh state a few times; with it the client gets 412, since the
//! version it saw is gone.

use actix_web::{HttpResponse, http::StatusCode};
use domain::Actor;
use serde::Serialize;
use store::{PersonalFields, StoreError, idempotency};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{
    core::{self, Provenance, Target},
    effects::{Secrets, WriteModel},
    error::CommandError,
    representation::{Represented, StreamTimes},
};
use crate::{
    auth::principal::Caller,
    error::ApiError,
    metrics as m,
    request::{CONSISTENCY_TOKEN, CommandHeaders},
    state::AppState,
};

/// First try plus retries after a version conflict when the client sent no `If-Match`.
const MAX_ATTEMPTS: usize = 4;

/// Body of every successful command: the resource and its new version (also in `ETag`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct Accepted {
    pub id: Uuid,
    pub version: i64,
}

/// The parts of an HTTP request a command needs.
#[derive(Debug, Clone, Copy)]
pub struct CommandRequest<'a> {
    pub caller: &'a Caller,
    pub headers: &'a CommandHeaders,
    /// The raw body, for the idempotency fingerprint.
    pub body: &'a [u8],
}

/// How to answer a successful command.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: StatusCode,
    /// `Location` of a created resource.
    pub location: Option<String>,
}

impl Reply {
    pub fn ok() -> Self {
        Self {
            status: StatusCode::OK,
            location: None,
        }
    }

    pub fn created(location: String) -> Self {
        Self {
            status: StatusCode::CREATED,
            location: Some(location),
        }
    }
}

/// Runs the commands `plan` builds for the resolved actor against stream `stream_id` of `A`.
pub async fn execute<A, F>(
    state: &AppState,
    request: CommandRequest<'_>,
    stream_id: Uuid,
    reply: Reply,
    secrets: &Secrets,
    plan: F,
) -> Result<HttpResponse, ApiError>
where
    A: WriteModel + Represented,
    F: Fn(&Actor) -> Result<Vec<A::Command>, ApiError>,
{
    let mut attempt = 1;
    loop {
        match try_once::<A, F>(state, request, stream_id, &reply, secrets, &plan).await {
            Err(ApiError::Command(CommandError::Store(StoreError::VersionConflict))) => {
                if request.headers.if_match.is_some() {
                    // The client's version was current when we loaded, but another writer won.
                    let client = state.pool.get().await?;
                    let current = store::load::<A>(&**client, stream_id, PersonalFields::Ignore)
                        .await?
                        .version;
                    return Err(ApiError::PreconditionFailed { current });
                }
                if attempt == MAX_ATTEMPTS {
                    return Err(ApiError::Conflict);
                }
                attempt += 1;
            }
            other => return other,
        }
    }
}

async fn try_once<A, F>(
    state: &AppState,
    request: CommandRequest<'_>,
    stream_id: Uuid,
    reply: &Reply,
    secrets: &Secrets,
    plan: &F,
) -> Result<HttpResponse, ApiError>
where
    A: WriteModel + Represented,
    F: Fn(&Actor) -> Result<Vec<A::Command>, ApiError>,
{
    let mut client = state.pool.get().await?;
    let tx = client
        .transaction()
        .await
        .map_err(StoreError::db("starting a transaction"))?;
    let scope = request.caller.scope();
    let request_hash = request.headers.request_hash(request.body);
    if let Some(key) = &request.headers.idempotency_key
        && let idempotency::Claim::Replay(stored) =
            idempotency::claim(&*tx, &scope, key, &request_hash).await?
    {
        return replay(stored, &request_hash);
    }

    let actor = request.caller.resolve(&*tx).await?;
    let commands = plan(&actor)?;
    let provenance = Provenance {
        correlation_id: request.headers.correlation_id,
        causation_id: request.headers.causation_id,
        traceparent: request.headers.traceparent.clone(),
    };
    let target = Target {
        actor: &actor,
        stream_id,
        expected_version: request.headers.if_match,
    };
    let recorded =
        core::run::<A>(&*tx, target, commands, &provenance, secrets, &state.keyring).await?;

    let accepted = Accepted {
        id: stream_id,
        version: recorded.version,
    };
    let representation = if request.headers.prefer_representation {
        let times = StreamTimes::load(&*tx, stream_id).await?;
        times.and_then(|times| A::representation(&recorded.state, recorded.version, times))
    } else {
        None
    };
    let body = match &representation {
        Some(state) => serde_json::to_vec(state),
        None => serde_json::to_vec(&accepted),
    }
    .map_err(anyhow::Error::from)?;
    let mut headers = vec![
        ("content-type".to_owned(), "application/json".to_owned()),
        ("etag".to_owned(), format!("\"{}\"", accepted.version)),
        (
            CONSISTENCY_TOKEN.to_owned(),
            consistency_token(stream_id, accepted.version),
        ),
    ];
    if let Some(location) = &reply.location {
        headers.push(("location".to_owned(), location.clone()));
    }
    if representation.is_some() {
        headers.push((
            "preference-applied".to_owned(),
            "return=representation".to_owned(),
        ));
    }
    if let Some(key) = &request.headers.idempotency_key {
        idempotency::complete(&*tx, &scope, key, reply.status.as_u16(), &headers, &body).await?;
    }
    tx.commit()
        .await
        .map_err(StoreError::db("committing a command"))?;
    Ok(respond(reply.status, &headers, body))
}

/// The answer already recorded for the request's `Idempotency-Key`, if there is one: what a
/// command whose proof is used up by its first success (a mailed token) answers a retry with,
/// before it looks for the proof.
pub async fn earlier_answer(
    pool: &deadpool_postgres::Pool,
    request: CommandRequest<'_>,
) -> Result<Option<HttpResponse>, ApiError> {
    let Some(key) = &request.headers.idempotency_key else {
        return Ok(None);
    };
    let client = pool.get().await?;
    let scope = request.caller.scope();
    match idempotency::completed(&**client, &scope, key).await? {
        Some(stored) => {
            let request_hash = request.headers.request_hash(request.body);
            replay(stored, &request_hash).map(Some)
        }
        None => Ok(None),
    }
}

/// `<stream id>:<version>`: the query API waits until its read model has applied this version.
pub fn consistency_token(stream_id: Uuid, version: i64) -> String {
    format!("{stream_id}:{version}")
}

fn respond(status: StatusCode, headers: &[(String, String)], body: Vec<u8>) -> HttpResponse {
    let mut response = HttpResponse::build(status);
    for (name, value) in headers {
        response.insert_header((name.as_str(), value.as_str()));
    }
    response.body(body)
}

/// Answers a repeated key: the first response if the request is the same, 422 if it differs.
fn replay(
    stored: idempotency::StoredResponse,
    request_hash: &[u8],
) -> Result<HttpResponse, ApiError> {
    if stored.request_hash != request_hash {
        return Err(platform::Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency_key_reused",
            "This Idempotency-Key was used for a different request",
        )
        .with_detail("use a new key for a new request")
        .into());
    }
    metrics::counter!(m::IDEMPOTENT_REPLAYS).increment(1);
    let status = StatusCode::from_u16(stored.status_code).unwrap_or(StatusCode::OK);
    let mut response = respond(status, &stored.headers, stored.body);
    response.headers_mut().insert(
        actix_web::http::header::HeaderName::from_static("idempotent-replayed"),
        actix_web::http::header::HeaderValue::from_static("true"),
    );
    Ok(response)
}
