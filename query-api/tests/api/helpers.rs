//! `spawn_app()`: query-api on a free port over a fresh database whose read schema is created
//! from the projector's own DDL, plus typed fixture helpers that write read-model rows directly
//! (fast and deterministic: listing semantics do not need Kafka).

use std::{sync::LazyLock, time::Duration};

use chrono::{DateTime, TimeZone, Utc};
use platform::{signing_keys::SigningKeys, token::TokenIssuer};
use query_api::{settings::Settings, startup::Application};
use reqwest::{Response, StatusCode};
use secrecy::SecretString;
use serde_json::Value;
use testkit::TestDatabase;
use uuid::Uuid;

/// The read side's contract, straight from the projector's sources, so the fixtures cannot
/// drift from the tables the projector really creates.
pub use read_model::ddl::READ_META_SQL;
pub use read_model::ddl::READ_MODEL_SQL;
pub const SCHEMA: &str = "read_v1";
/// The key test tokens are signed with; query-api gets its public half.
static SIGNING_KEYS: LazyLock<SigningKeys> = LazyLock::new(|| {
    let pem = SigningKeys::generate_pem().expect("a signing key");
    SigningKeys::from_pem_bundle(&SecretString::from(pem)).expect("the key parses")
});

#[derive(Debug)]
pub struct TestApp {
    pub address: String,
    /// The admin listener (`/metrics`, readiness).
    pub admin_address: String,
    pub db: TestDatabase,
    pub client: tokio_postgres::Client,
    pub http: reqwest::Client,
    keys: TokenIssuer,
}

pub fn test_settings(db: &TestDatabase) -> Settings {
    Settings {
        host: "127.0.0.1".to_owned(),
        port: 0,
        admin_host: "127.0.0.1".to_owned(),
        admin_port: 0,
        cors_origins: Vec::new(),
        shutdown_timeout: Duration::from_secs(1),
        workers: Some(2),
        database: db.settings("query-api-test"),
        jwks: SIGNING_KEYS.jwks(),
        consistency_wait: Duration::from_secs(2),
        max_consistency_waiters: 1_000,
        schema_cache: Duration::from_millis(200),
        // Off: most tests write rows and read them back at once; `listing_cache.rs` turns it on.
        listing_cache: Duration::ZERO,
        max_projection_lag: Duration::from_secs(30),
        unready_when_stale: false,
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    platform::telemetry::init("warn");
    let db = TestDatabase::create().await.expect("test database");
    let mut client = db.connect().await.expect("fixture connection");
    // The write side's schema too: query-api asks it whether a token's session is live.
    store::migrations::run(&mut client)
        .await
        .expect("write-side migrations");
    client
        .batch_execute(READ_META_SQL)
        .await
        .expect("read_meta DDL");
    create_read_schema(&client, SCHEMA).await;
    client
        .batch_execute(&format!(
            "INSERT INTO read_meta.schemas (schema, generation, state, activated_at)
             VALUES ('{SCHEMA}', 1, 'active', now());
             INSERT INTO read_meta.active (schema) VALUES ('{SCHEMA}');"
        ))
        .await
        .expect("activating the read schema");
    let mut settings = test_settings(&db);
    configure(&mut settings);
    let app = Application::build(settings)
        .await
        .expect("application builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let admin_address = format!("http://127.0.0.1:{}", app.admin_port());
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        admin_address,
        db,
        client,
        http: reqwest::Client::new(),
        keys: TokenIssuer::new(&SIGNING_KEYS, Duration::from_secs(900)).expect("an issuer"),
    }
}

pub async fn create_read_schema(client: &tokio_postgres::Client, schema: &str) {
    client
        .batch_execute(&READ_MODEL_SQL.replace("{schema}", schema))
        .await
        .expect("read model DDL");
}

/// A point in time `seconds` after a fixed origin, so orders are deterministic.
pub fn at(seconds: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0)
        .single()
        .expect("valid origin")
        + chrono::Duration::seconds(seconds)
}

/// One `products` row.
#[derive(Debug, Clone)]
pub struct ProductRow {
    pub id: Uuid,
    pub seller_id: Uuid,
    pub sku: String,
    pub name: String,
    pub description: String,
    pub category: String,
    pub price_minor: i64,
    pub currency: String,
    pub stock: i64,
    pub status: &'static str,
    pub created_at: DateTime<Utc>,
    pub version: i64,
}

impl ProductRow {
    /// A published product with plain defaults; tests override what they care about.
    pub fn published(name: &str) -> Self {
        let id = Uuid::now_v7();
        Self {
            id,
            seller_id: Uuid::now_v7(),
            sku: format!("SKU-{}", id.simple()),
            name: name.to_owned(),
            description: String::new(),
            category: "misc".to_owned(),
            price_minor: 1000,
            currency: "EUR".to_owned(),
            stock: 10,
            status: "published",
            created_at: at(0),
            version: 2,
        }
    }
}

/// One `users` row.
#[derive(Debug, Clone)]
pub struct UserRow {
    pub id: Uuid,
    pub email: String,
    pub role: &'static str,
    pub active: bool,
}

impl UserRow {
    pub fn new(role: &'static str) -> Self {
        let id = Uuid::now_v7();
        Self {
            id,
            email: format!("{}@example.test", id.simple()),
            role,
            active: true,
        }
    }
}

/// One `audit_events` row.
#[derive(Debug, Clone)]
pub struct AuditRow {
    pub stream_id: Uuid,
    pub stream_type: &'static str,
    pub version: i64,
    pub event_type: &'static str,
    pub payload: Value,
    pub actor: Option<String>,
    pub recorded_at: DateTime<Utc>,
}

impl TestApp {
    pub fn admin_url(&self, path: &str) -> String {
        format!("{}{path}", self.admin_address)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn get(&self, path: &str) -> Response {
        self.get_with(path, None, &[]).await
    }

    pub async fn get_as(&self, path: &str, token: &str) -> Response {
        self.get_with(path, Some(token), &[]).await
    }

    pub async fn get_with(
        &self,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
    ) -> Response {
        let mut request = self.http.get(self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send().await.expect("request sent")
    }

    /// GET that must answer 200; returns the JSON body.
    pub async fn get_json(&self, path: &str) -> Value {
        let response = self.get(path).await;
        assert_eq!(response.status(), StatusCode::OK, "GET {path}");
        response.json().await.expect("JSON body")
    }

    /// A bearer token as command-api would issue it, with a live session.
    pub async fn token(&self, user_id: Uuid, role: &str) -> String {
        let session_id = self.start_session(user_id).await;
        self.issue(user_id, role, session_id)
    }

    /// A bearer token of session `session_id`, which need not exist.
    pub fn issue(&self, user_id: Uuid, role: &str, session_id: Uuid) -> String {
        self.keys.issue(user_id, role, session_id).expect("token")
    }

    /// A session of `user_id` as a sign-in starts it.
    pub async fn start_session(&self, user_id: Uuid) -> Uuid {
        let lifetimes = store::sessions::Lifetimes {
            session: Duration::from_secs(3600),
            refresh_token: Duration::from_secs(3600),
        };
        let refresh_hash = Uuid::new_v4().as_bytes().to_vec();
        store::sessions::start(&self.client, user_id, &refresh_hash, lifetimes)
            .await
            .expect("a session")
    }

    pub async fn insert_product(&self, p: &ProductRow) {
        insert_product_with(&self.client, p).await;
    }

    pub async fn insert_products(&self, products: &[ProductRow]) {
        for product in products {
            self.insert_product(product).await;
        }
    }

    pub async fn set_price(&self, id: Uuid, price_minor: i64) {
        self.client
            .execute(
                &format!(
                    "UPDATE {SCHEMA}.products SET price_minor = $2, version = version + 1,
                        updated_at = updated_at + interval '1 second' WHERE id = $1"
                ),
                &[&id, &price_minor],
            )
            .await
            .expect("changing a price");
    }

    pub async fn insert_user(&self, user: &UserRow) {
        self.client
            .execute(
                &format!(
                    "INSERT INTO {SCHEMA}.users (id, email, display_name, role, active, created_at, updated_at, version)
                     VALUES ($1, $2, 'Test User', $3, $4, $5, $5, 1)"
                ),
                &[&user.id, &user.email, &user.role, &user.active, &at(0)],
            )
            .await
            .expect("inserting a user");
    }

    pub async fn insert_category(&self, slug: &str, published_count: i64) {
        self.client
            .execute(
                &format!("INSERT INTO {SCHEMA}.categories (slug, published_count) VALUES ($1, $2)"),
                &[&slug, &published_count],
            )
            .await
            .expect("inserting a category");
    }

    pub async fn insert_audit_event(&self, e: &AuditRow) {
        self.client
            .execute(
                &format!(
                    "INSERT INTO {SCHEMA}.audit_events (stream_id, version, stream_type, event_id,
                        event_type, schema_version, payload, actor, recorded_at)
                     VALUES ($1, $2, $3, $4, $5, 1, $6, $7, $8)"
                ),
                &[
                    &e.stream_id,
                    &e.version,
                    &e.stream_type,
                    &Uuid::now_v7(),
                    &e.event_type,
                    &e.payload,
                    &e.actor,
                    &e.recorded_at,
                ],
            )
            .await
            .expect("inserting an audit event");
    }

    /// What the projector writes after applying `version` of a stream.
    pub async fn set_stream_version(&self, stream_id: Uuid, version: i64) {
        set_stream_version(&self.client, stream_id, version).await;
    }

    /// What command-api writes: versions 1 to `version` of a stream in the event store, so a
    /// `Consistency-Token` naming them is one the projection will apply (the payloads do not
    /// matter here: nothing projects them).
    pub async fn record_events(&self, stream_id: Uuid, version: i64) {
        self.record_stream_events("product", stream_id, version)
            .await;
    }

    /// [`TestApp::record_events`] of a stream of `stream_type` (`user`, `product`).
    pub async fn record_stream_events(&self, stream_type: &str, stream_id: Uuid, version: i64) {
        self.client
            .execute(
                "INSERT INTO es.events (event_id, stream_id, stream_type, stream_version,
                                        event_type, schema_version, payload, correlation_id, actor)
                 SELECT gen_random_uuid(), $1, $3, v, $3 || '.changed', 1, '{}',
                        gen_random_uuid(), 'system'
                 FROM generate_series(1, $2::bigint) AS v",
                &[&stream_id, &version, &stream_type],
            )
            .await
            .expect("recording events");
    }
}

/// Writes one `products` row through `client` (a test's own connection or transaction).
pub async fn insert_product_with(client: &tokio_postgres::Client, p: &ProductRow) {
    insert_product_into(client, SCHEMA, p).await;
}

pub async fn insert_product_into(client: &tokio_postgres::Client, schema: &str, p: &ProductRow) {
    client
        .execute(
            &format!(
                "INSERT INTO {schema}.products (id, seller_id, sku, name, description, category,
                        price_minor, currency, stock, status, created_at, updated_at, version)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $12)"
            ),
            &[
                &p.id,
                &p.seller_id,
                &p.sku,
                &p.name,
                &p.description,
                &p.category,
                &p.price_minor,
                &p.currency,
                &p.stock,
                &p.status,
                &p.created_at,
                &p.version,
            ],
        )
        .await
        .expect("inserting a product");
    // Its search postings, as the projector writes them beside the row.
    client
        .execute(
            &format!("SELECT {schema}.index_search(ARRAY[$1::uuid])"),
            &[&p.id],
        )
        .await
        .expect("indexing a product for search");
}

pub async fn set_stream_version(client: &tokio_postgres::Client, stream_id: Uuid, version: i64) {
    client
        .execute(
            &format!(
                "INSERT INTO {SCHEMA}.stream_versions (stream_id, stream_type, version, last_event_at)
                 VALUES ($1, 'product', $2, now())
                 ON CONFLICT (stream_id) DO UPDATE SET version = EXCLUDED.version"
            ),
            &[&stream_id, &version],
        )
        .await
        .expect("setting a stream version");
}

/// The `id`s of a listing body, in order.
pub fn ids(body: &Value) -> Vec<Uuid> {
    body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|item| item["id"].as_str().expect("id").parse().expect("uuid"))
        .collect()
}

/// The `field`s named by a problem body.
pub fn problem_fields(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| e["field"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// Follows `next_cursor` from `path` (which has no cursor) to the end; returns every id seen
/// and the number of pages.
pub async fn walk(app: &TestApp, path: &str) -> (Vec<Uuid>, usize) {
    walk_from(app, path, None).await
}

/// Like `walk`, starting at `cursor` when given.
pub async fn walk_from(app: &TestApp, path: &str, cursor: Option<String>) -> (Vec<Uuid>, usize) {
    let separator = if path.contains('?') { '&' } else { '?' };
    let mut seen = Vec::new();
    let mut pages = 0;
    let mut next = cursor;
    loop {
        let url = match &next {
            Some(cursor) => format!("{path}{separator}cursor={cursor}"),
            None => path.to_owned(),
        };
        let body = app.get_json(&url).await;
        pages += 1;
        seen.extend(ids(&body));
        match body["next_cursor"].as_str() {
            Some(cursor) => next = Some(cursor.to_owned()),
            None => return (seen, pages),
        }
        assert!(pages < 1000, "the walk does not end");
    }
}
