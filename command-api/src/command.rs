//! The one path every command takes: claim the idempotency key, resolve the actor, load the
//! stream, check `If-Match`, decide, append events, outbox rows and side tables (and a snapshot
//! once the stream grew by `store::SNAPSHOT_EVERY`), record the response for the key, and
//! commit, all in one transaction. A concurrent writer that got there first makes the append
//! fail; without `If-Match` the whole transaction is retried on fresh state a few times, with
//! it the client gets 412.

use actix_web::{HttpResponse, http::StatusCode};
use deadpool_postgres::Pool;
use domain::{Actor, Aggregate};
use serde_json::json;
use store::{EventMetadata, NewEvent, StoreError, idempotency};
use uuid::Uuid;

use crate::{
    auth::principal::Caller,
    error::ApiError,
    metrics as m,
    request::{CONSISTENCY_TOKEN, CommandHeaders},
};

/// First try plus retries after a version conflict when the client sent no `If-Match`.
const MAX_ATTEMPTS: usize = 4;

/// Writes to other tables that must commit or roll back with the events.
#[derive(Debug, Clone)]
pub enum SideEffect {
    ReserveEmail { email: String, user_id: Uuid },
    ReserveSku { sku: String, product_id: Uuid },
    SetPasswordHash { user_id: Uuid, hash: String },
}

/// The parts of an HTTP request a command needs.
#[derive(Debug, Clone, Copy)]
pub struct CommandRequest<'a> {
    pub caller: &'a Caller,
    pub headers: &'a CommandHeaders,
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

/// A decision: the commands to run against the current state, and what else to write.
pub type Decision<C> = (Vec<C>, Vec<SideEffect>);

/// Runs commands against stream `stream_id` of aggregate `A`. `plan` sees the actor and the
/// current state and returns the commands (usually one) plus side effects.
pub async fn execute<A, F>(
    pool: &Pool,
    request: CommandRequest<'_>,
    stream_id: Uuid,
    reply: Reply,
    plan: F,
) -> Result<HttpResponse, ApiError>
where
    A: Aggregate,
    A::Error: Into<ApiError>,
    F: Fn(&Actor, &A::State) -> Result<Decision<A::Command>, ApiError>,
{
    let mut attempt = 1;
    loop {
        match try_once::<A, F>(pool, request, stream_id, &reply, &plan).await {
            Err(ApiError::Store(StoreError::VersionConflict)) => {
                metrics::counter!(m::VERSION_CONFLICTS).increment(1);
                if request.headers.if_match.is_some() {
                    // The client's version was current when we loaded, but another writer won.
                    let client = pool.get().await?;
                    let current = store::load::<A>(&**client, stream_id).await?.version;
                    return Err(ApiError::PreconditionFailed { current });
                }
                if attempt == MAX_ATTEMPTS {
                    return Err(ApiError::Conflict);
                }
                attempt += 1;
            }
            Err(ApiError::User(e)) => {
                metrics::counter!(m::COMMANDS_REJECTED, "code" => e.code()).increment(1);
                return Err(ApiError::User(e));
            }
            Err(ApiError::Product(e)) => {
                metrics::counter!(m::COMMANDS_REJECTED, "code" => e.code()).increment(1);
                return Err(ApiError::Product(e));
            }
            other => return other,
        }
    }
}

async fn try_once<A, F>(
    pool: &Pool,
    request: CommandRequest<'_>,
    stream_id: Uuid,
    reply: &Reply,
    plan: &F,
) -> Result<HttpResponse, ApiError>
where
    A: Aggregate,
    A::Error: Into<ApiError>,
    F: Fn(&Actor, &A::State) -> Result<Decision<A::Command>, ApiError>,
{
    let mut client = pool.get().await?;
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
    let loaded = store::load::<A>(&*tx, stream_id).await?;
    if let Some(expected) = request.headers.if_match
        && expected != loaded.version
    {
        return Err(ApiError::PreconditionFailed {
            current: loaded.version,
        });
    }

    let (commands, side_effects) = plan(&actor, &loaded.state)?;
    let mut state = loaded.state;
    let mut events = Vec::new();
    for command in commands {
        let decided = A::decide(&state, &actor, command).map_err(Into::into)?;
        for event in &decided {
            state = A::evolve(state, event);
        }
        events.extend(decided);
    }

    let version = if events.is_empty() {
        loaded.version
    } else {
        for effect in side_effects {
            apply_side_effect(&*tx, effect).await?;
        }
        let new_events: Vec<NewEvent> = events.iter().map(NewEvent::from_domain).collect();
        let metadata = EventMetadata {
            correlation_id: request.headers.correlation_id,
            causation_id: request.headers.causation_id,
            actor: actor.label(),
            traceparent: request.headers.traceparent.clone(),
        };
        let recorded = store::append(
            &*tx,
            stream_id,
            A::STREAM_TYPE,
            loaded.version,
            &new_events,
            &metadata,
        )
        .await?;
        for event in &recorded {
            metrics::counter!(m::EVENTS_APPENDED, "event_type" => event.event_type.clone())
                .increment(1);
        }
        let version = loaded.version + recorded.len() as i64;
        // `state` is the fold up to `version`: the next load starts here once enough events
        // piled up since the last snapshot. Same transaction, so it never outruns its events.
        if loaded.events_since_snapshot + recorded.len() >= store::SNAPSHOT_EVERY {
            store::save_snapshot::<A>(&*tx, stream_id, version, &state).await?;
            metrics::counter!(m::SNAPSHOTS_WRITTEN, "stream_type" => A::STREAM_TYPE).increment(1);
        }
        version
    };

    let body = serde_json::to_vec(&json!({ "id": stream_id, "version": version }))
        .map_err(anyhow::Error::from)?;
    let mut headers = vec![
        ("content-type".to_owned(), "application/json".to_owned()),
        ("etag".to_owned(), format!("\"{version}\"")),
        (
            CONSISTENCY_TOKEN.to_owned(),
            consistency_token(stream_id, version),
        ),
    ];
    if let Some(location) = &reply.location {
        headers.push(("location".to_owned(), location.clone()));
    }
    if let Some(key) = &request.headers.idempotency_key {
        idempotency::complete(&*tx, &scope, key, reply.status.as_u16(), &headers, &body).await?;
    }
    tx.commit()
        .await
        .map_err(StoreError::db("committing a command"))?;
    Ok(respond(reply.status, &headers, body))
}

/// `<stream id>:<version>`: the query API waits until its read model has applied this version.
pub fn consistency_token(stream_id: Uuid, version: i64) -> String {
    format!("{stream_id}:{version}")
}

async fn apply_side_effect(
    tx: &impl tokio_postgres::GenericClient,
    effect: SideEffect,
) -> Result<(), StoreError> {
    match effect {
        SideEffect::ReserveEmail { email, user_id } => {
            store::reservations::reserve_email(tx, &email, user_id).await
        }
        SideEffect::ReserveSku { sku, product_id } => {
            store::reservations::reserve_sku(tx, &sku, product_id).await
        }
        SideEffect::SetPasswordHash { user_id, hash } => {
            store::credentials::set_password_hash(tx, user_id, &hash).await
        }
    }
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
