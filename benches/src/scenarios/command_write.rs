//! Command writes: price changes and stock adjustments through command-api at fixed concurrency,
//! against pgbench running the same transaction (see `PGBENCH_SCRIPT`) with the same number of
//! clients.

use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    cpu, load, pgbench,
    scenarios::{Ceiling, Outcome, Size},
};

/// Signs in, makes a seller, and creates one product per client so the clients never contend
/// (pgbench below does the same with one stream per client). `database_url` is command-api's
/// database, where the seller's verification token is stored as the notifier would (benches run
/// without one).
pub async fn prepare(
    command_api: &str,
    database_url: &str,
    admin: (&str, &str),
    clients: usize,
) -> anyhow::Result<(String, Vec<Uuid>)> {
    let http = reqwest::Client::new();
    let call = |method: Method, path: String, token: Option<String>, body: Value| {
        let mut request = http
            .request(method, format!("{command_api}{path}"))
            .json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        async move {
            let response = request.send().await?;
            let status = response.status();
            let body: Value = response.json().await.unwrap_or(Value::Null);
            anyhow::ensure!(status.is_success(), "{status}: {body}");
            Ok::<Value, anyhow::Error>(body)
        }
    };
    let login = |email: String, password: String| {
        let call = &call;
        async move {
            let body = call(
                Method::POST,
                "/v1/sessions".into(),
                None,
                json!({ "email": email, "password": password }),
            )
            .await?;
            Ok::<String, anyhow::Error>(
                body["access_token"].as_str().unwrap_or_default().to_owned(),
            )
        }
    };
    let admin_token = login(admin.0.to_owned(), admin.1.to_owned()).await?;
    let email = format!("bench-seller-{}@example.com", Uuid::new_v4().simple());
    let seller = call(Method::POST, "/v1/users".into(), None, json!({ "email": email, "password": "a-long-enough-password", "display_name": "Bench seller" })).await?;
    let seller_id = seller["id"].as_str().unwrap_or_default().to_owned();
    let token = mail_verification_token(database_url, seller_id.parse()?).await?;
    call(
        Method::POST,
        format!("/v1/users/{seller_id}/email-verification"),
        None,
        json!({ "token": token }),
    )
    .await?;
    call(
        Method::PUT,
        format!("/v1/users/{seller_id}/role"),
        Some(admin_token),
        json!({ "role": "seller" }),
    )
    .await?;
    let token = login(email, "a-long-enough-password".to_owned()).await?;
    let mut products = Vec::new();
    for i in 0..clients {
        let body = json!({
            "sku": format!("BENCH-{}-{i}", &seller_id[..8]), "name": "Bench product", "description": "",
            "category": "bench", "price": { "amount_minor": 1000, "currency": "EUR" }, "stock": 1000
        });
        let created = call(
            Method::POST,
            "/v1/products".into(),
            Some(token.clone()),
            body,
        )
        .await?;
        products.push(created["id"].as_str().unwrap_or_default().parse()?);
    }
    Ok((token, products))
}

/// The transaction command-api runs for one command, statement for statement: check that the
/// caller's session is live, load the actor's stream, load the product's snapshot and the events
/// after it (the same statement as `store::load`), append the event with its outbox row and
/// notification, every `SNAPSHOT_EVERY`-th version replace the snapshot, commit. Only HTTP,
/// JSON, the token's signature, the fold and the relay are missing: what PostgreSQL alone does
/// with the same SQL.
/// The ceiling's one session (its own database, so a fixed id).
const BENCH_SESSION: &str = "00000000-0000-4000-8000-00000000beef";

const PGBENCH_SCRIPT: &str = r#"\set n :client_id + 1
BEGIN;
SELECT es.session_is_live('BENCH_SESSION');
SELECT stream_version, event_type, schema_version, payload::text FROM es.events WHERE stream_id = (SELECT id FROM bench_streams WHERE n = 0) ORDER BY stream_version;
WITH snapshot AS (SELECT version, state::text AS state FROM es.snapshots WHERE stream_id = (SELECT id FROM bench_streams WHERE n = :n) AND snapshot_key = 'bench')
SELECT version, NULL::text, NULL::integer, state FROM snapshot
UNION ALL
SELECT stream_version, event_type, schema_version, payload::text FROM es.events
WHERE stream_id = (SELECT id FROM bench_streams WHERE n = :n) AND stream_version > COALESCE((SELECT version FROM snapshot), 0)
ORDER BY 1;
WITH s AS (SELECT id FROM bench_streams WHERE n = :n),
     v AS (SELECT coalesce(max(stream_version), 0) + 1 AS next FROM es.events WHERE stream_id = (SELECT id FROM s)),
     ins AS (INSERT INTO es.events (event_id, stream_id, stream_type, stream_version, event_type, schema_version, payload, correlation_id, actor)
             SELECT gen_random_uuid(), s.id, 'product', v.next, 'product.price_changed', 1,
                    '{"product_id":"00000000-0000-0000-0000-000000000000","previous_price":{"amount_minor":1000,"currency":"EUR"},"price":{"amount_minor":1001,"currency":"EUR"}}',
                    gen_random_uuid(), 'pgbench' FROM s, v RETURNING position, stream_version),
     queued AS (INSERT INTO es.outbox (position) SELECT position FROM ins)
SELECT stream_version AS version FROM ins, (SELECT pg_notify('es_outbox', '')) AS notified \gset
\if :version % SNAPSHOT_EVERY = 0
INSERT INTO es.snapshots AS s (stream_id, stream_type, version, snapshot_key, state)
SELECT id, 'product', :version, 'bench', '{"id":"00000000-0000-0000-0000-000000000000","sku":"BENCH-0","name":"Bench product","price":{"currency":"EUR","amount_minor":1001},"stock":1000,"status":"draft","category":"bench","seller_id":"00000000-0000-0000-0000-000000000000","description":""}'
FROM bench_streams WHERE n = :n
ON CONFLICT (stream_id) DO UPDATE SET version = EXCLUDED.version, snapshot_key = EXCLUDED.snapshot_key, state = EXCLUDED.state, taken_at = clock_timestamp()
WHERE s.version < EXCLUDED.version OR s.snapshot_key <> EXCLUDED.snapshot_key;
\endif
COMMIT;
"#;

/// Stores a verification token for `user_id` the way the notifier does, and returns it.
async fn mail_verification_token(database_url: &str, user_id: Uuid) -> anyhow::Result<String> {
    use sha2::Digest;
    let token = format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple());
    let hash = sha2::Sha256::digest(token.as_bytes()).to_vec();
    let (client, connection) = tokio_postgres::connect(database_url, tokio_postgres::NoTls).await?;
    tokio::spawn(connection);
    client
        .execute(
            "INSERT INTO es.email_verification_tokens (token_hash, user_id, issued_at, expires_at)
             VALUES ($1, $2, now(), now() + interval '1 hour')",
            &[&hash, &user_id],
        )
        .await?;
    Ok(token)
}

pub async fn run(
    command_api: &str,
    command_api_pid: u32,
    database_url: &str,
    ceiling_database_url: &str,
    admin: (&str, &str),
    size: Size,
) -> anyhow::Result<Outcome> {
    let clients = size.concurrency;
    let (token, products) = prepare(command_api, database_url, admin, clients).await?;
    let http = reqwest::Client::new();
    let base = command_api.to_owned();
    let (client, connection) =
        tokio_postgres::connect(ceiling_database_url, tokio_postgres::NoTls).await?;
    tokio::spawn(connection);
    let meter = cpu::Meter::start(command_api_pid, cpu::postmaster(&client).await);
    let ours = load::run(clients, size.duration, move |worker, n| {
        let product = products[worker % products.len()];
        let request = if n % 2 == 0 {
            http.put(format!("{base}/v1/products/{product}/price"))
                .json(&json!({ "amount_minor": 1000 + (n % 500) as i64 + 1, "currency": "EUR" }))
        } else {
            http.post(format!("{base}/v1/products/{product}/stock-adjustments"))
                .json(&json!({ "delta": 1, "reason": "bench" }))
        };
        let request = request.bearer_auth(&token).send();
        async move { request.await.is_ok_and(|r| r.status().is_success()) }
    })
    .await;
    // command-api's share includes relaying the events to the broker as they commit.
    let (service_ms, postgres_ms) = meter.per_unit_ms(ours.requests as f64);

    // The ceiling runs in its own database with the same schema and no relay attached, so its
    // rows never reach a topic and the services' database is left as the API wrote it.
    client
        .batch_execute(&format!(
            "DROP TABLE IF EXISTS bench_streams;
             CREATE TABLE bench_streams (n int PRIMARY KEY, id uuid NOT NULL);
             INSERT INTO bench_streams SELECT n, gen_random_uuid() FROM generate_series(0, {clients}) n;
             -- Stream 0 is the actor: a user with the three events a seller has.
             INSERT INTO es.events (event_id, stream_id, stream_type, stream_version, event_type,
                                    schema_version, payload, correlation_id, actor)
             SELECT gen_random_uuid(), id, 'user', v, 'user.bench', 1, '{{}}', gen_random_uuid(), 'pgbench'
             FROM bench_streams, generate_series(1, 3) v WHERE n = 0;
             -- The actor's session, live for the whole run, as the API's token names one.
             INSERT INTO es.sessions (id, user_id, expires_at)
             SELECT '{BENCH_SESSION}', id, now() + interval '1 day' FROM bench_streams WHERE n = 0
             ON CONFLICT (id) DO NOTHING;"
        ))
        .await?;
    let duration = size.duration;
    let ceiling = pgbench::tps_async(
        ceiling_database_url,
        PGBENCH_SCRIPT
            .replace("SNAPSHOT_EVERY", &store::SNAPSHOT_EVERY.to_string())
            .replace("BENCH_SESSION", BENCH_SESSION),
        clients,
        duration,
        pgbench::Protocol::Prepared,
    )
    .await?;
    Ok(Outcome {
        scenario: "command-write".to_owned(),
        description: format!(
            "PUT price / POST stock-adjustments alternating, {clients} clients, one product each; ceiling: pgbench running the same transaction (session check, actor load, snapshot and tail load, append with outbox row and notify, snapshot every {} versions), {clients} clients",
            store::SNAPSHOT_EVERY
        ),
        ours_per_second: ours.throughput,
        ceilings: vec![Ceiling::new(
            "pgbench, same transaction",
            ceiling,
            ours.throughput,
            json!({ "clients": clients, "seconds": duration.as_secs(), "protocol": "prepared" }),
        )],
        ours: {
            let mut measured = serde_json::to_value(&ours)?;
            measured["command_api_cpu_ms_per_command"] = json!(service_ms);
            measured["postgres_cpu_ms_per_command"] = json!(postgres_ms);
            measured
        },
        goal: ">= 0.8x pgbench (prepared)",
        notes: vec![format!(
            "CPU per command: command-api {service_ms:.3} ms (relay included), PostgreSQL {}",
            postgres_ms.map_or("not measured".to_owned(), |ms| format!("{ms:.3} ms"))
        )],
    })
}
