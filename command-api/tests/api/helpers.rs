//! `spawn_app()`: command-api on a free port with its own database and topics, plus typed
//! request helpers.

use std::time::Duration;

use command_api::{settings::Settings, startup::Application};
use kafka::Topics;
use reqwest::{Response, StatusCode};
use secrecy::SecretString;
use serde_json::{Value, json};
use testkit::{TestDatabase, topics::kafka_settings, unique_topics};
use uuid::Uuid;

pub const ADMIN_EMAIL: &str = "admin@cloudcommerce.test";
pub const ADMIN_PASSWORD: &str = "admin-password-123";
pub const PASSWORD: &str = "a-long-enough-password";

#[derive(Debug)]
pub struct TestApp {
    pub address: String,
    /// The admin listener (`/metrics`, readiness).
    pub admin_address: String,
    pub db: TestDatabase,
    pub topics: Topics,
    pub http: reqwest::Client,
}

pub fn test_settings(db: &TestDatabase, topics: &Topics) -> Settings {
    Settings {
        host: "127.0.0.1".to_owned(),
        port: 0,
        admin_host: "127.0.0.1".to_owned(),
        admin_port: 0,
        cors_origins: Vec::new(),
        body_limit_bytes: 64 * 1024,
        shutdown_timeout: Duration::from_secs(5),
        workers: Some(2),
        database: db.settings("command-api-test"),
        kafka: kafka_settings(topics.clone()),
        signing_keys: SecretString::from(
            platform::signing_keys::SigningKeys::generate_pem().expect("a signing key"),
        ),
        master_key: SecretString::from(testkit::TEST_MASTER_KEY),
        token_ttl: Duration::from_secs(900),
        session_lifetimes: store::sessions::Lifetimes {
            session: Duration::from_secs(30 * 86_400),
            refresh_token: Duration::from_secs(14 * 86_400),
        },
        fingerprint_key: None,
        trusted_proxy_hops: 0,
        read_api_url: String::new(),
        auth_limits: command_api::settings::AuthLimits::default(),
        // Tests share one process and one hash queue (process.rs floods the real binary).
        hash_queue: command_api::settings::HashQueue::unbounded(),
        bootstrap_admin: Some((
            ADMIN_EMAIL.to_owned(),
            SecretString::from(ADMIN_PASSWORD.to_owned()),
        )),
        migrate_on_start: false,
        relay_enabled: true,
        relay_batch_size: 100,
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    platform::telemetry::init("warn");
    let db = TestDatabase::create().await.expect("test database");
    let topics = unique_topics();
    let mut settings = test_settings(&db, &topics);
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
        topics,
        http: reqwest::Client::new(),
    }
}

impl TestApp {
    pub fn admin_url(&self, path: &str) -> String {
        format!("{}{path}", self.admin_address)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// A client whose connections come from `source` (any 127.x.y.z), so tests can play
    /// several networks on loopback.
    pub fn client_from(source: &str) -> reqwest::Client {
        reqwest::Client::builder()
            .local_address(Some(source.parse().expect("loopback address")))
            .build()
            .expect("client")
    }

    /// POST from `client` instead of the default one.
    pub async fn post_via(
        &self,
        client: &reqwest::Client,
        path: &str,
        token: Option<&str>,
        body: &Value,
    ) -> Response {
        let mut request = client.post(self.url(path)).json(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.expect("request sent")
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> Response {
        self.send(reqwest::Method::POST, path, token, Some(body), &[])
            .await
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Response {
        let mut request = self.http.request(method, self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send().await.expect("request sent")
    }

    /// Registers a user and returns their id.
    pub async fn register(&self, email: &str) -> Uuid {
        let response = self
            .post(
                "/v1/users",
                None,
                &json!({ "email": email, "password": PASSWORD, "display_name": "Test User" }),
            )
            .await;
        assert_eq!(
            response.status(),
            StatusCode::CREATED,
            "registering {email}"
        );
        id_of(response).await
    }

    pub async fn login(&self, email: &str, password: &str) -> String {
        let body = self.sign_in(email, password).await;
        body["access_token"].as_str().expect("token").to_owned()
    }

    /// Signs in and returns the whole answer (access and refresh token).
    pub async fn sign_in(&self, email: &str, password: &str) -> Value {
        let response = self
            .post(
                "/v1/sessions",
                None,
                &json!({ "email": email, "password": password }),
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK, "signing in {email}");
        response.json().await.expect("json")
    }

    /// `POST /v1/sessions/refresh` with `refresh_token`.
    pub async fn refresh(&self, refresh_token: &str) -> Response {
        self.post(
            "/v1/sessions/refresh",
            None,
            &json!({ "refresh_token": refresh_token }),
        )
        .await
    }

    pub async fn admin_token(&self) -> String {
        self.login(ADMIN_EMAIL, ADMIN_PASSWORD).await
    }

    /// A signed-in seller: registered, promoted by the admin, logged in again for a fresh role.
    pub async fn seller(&self) -> (Uuid, String) {
        let email = format!("seller-{}@example.com", Uuid::new_v4().simple());
        self.seller_named(&email).await
    }

    /// [`Self::seller`], returning the seller's email instead of their id.
    pub async fn seller_with_email(&self) -> (String, String) {
        let email = format!("seller-{}@example.com", Uuid::new_v4().simple());
        let (_, token) = self.seller_named(&email).await;
        (email, token)
    }

    /// Plays the notifier's part for one mail: draws a token, stores its hash as the notifier
    /// does (these tests run command-api alone; `notifier/tests` cover that half and the e2e
    /// tests both) and returns the token the mail would carry.
    pub async fn mailed_token(&self, table: &str, user_id: Uuid, lifetime_secs: i64) -> String {
        use sha2::Digest;
        let token = Uuid::new_v4().simple().to_string() + &Uuid::new_v4().simple().to_string();
        let hash = sha2::Sha256::digest(token.as_bytes()).to_vec();
        let client = self.db.connect().await.expect("db");
        client
            .execute(
                &format!(
                    // One clock reading for both ends, as the notifier does: two readings
                    // would make a full lifetime a microsecond too long for the CHECK.
                    "INSERT INTO es.{table} (token_hash, user_id, issued_at, expires_at)
                     SELECT $1, $2, issued, issued + make_interval(secs => $3)
                     FROM (SELECT clock_timestamp() AS issued) AS clock"
                ),
                &[&hash, &user_id, &(lifetime_secs as f64)],
            )
            .await
            .expect("storing a mailed token");
        token
    }

    /// Verifies `user_id`'s address through the API with a freshly mailed token.
    pub async fn verify_email(&self, user_id: Uuid) {
        let token = self
            .mailed_token("email_verification_tokens", user_id, 86_400)
            .await;
        let response = self
            .post(
                &format!("/v1/users/{user_id}/email-verification"),
                None,
                &json!({ "token": token }),
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK, "verifying {user_id}");
    }

    async fn seller_named(&self, email: &str) -> (Uuid, String) {
        let id = self.register(email).await;
        self.verify_email(id).await;
        let admin = self.admin_token().await;
        let response = self
            .send(
                reqwest::Method::PUT,
                &format!("/v1/users/{id}/role"),
                Some(&admin),
                Some(&json!({ "role": "seller" })),
                &[],
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        (id, self.login(email, PASSWORD).await)
    }

    pub async fn create_product(&self, token: &str, sku: &str) -> Uuid {
        let response = self
            .post("/v1/products", Some(token), &product_body(sku))
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        id_of(response).await
    }

    pub async fn event_count(&self) -> i64 {
        let client = self.db.connect().await.expect("db");
        client
            .query_one("SELECT count(*) FROM es.events", &[])
            .await
            .expect("count")
            .get(0)
    }
}

pub fn product_body(sku: &str) -> Value {
    json!({
        "sku": sku,
        "name": "Kettle",
        "description": "A kettle that boils water.",
        "category": "kitchen",
        "price": { "amount_minor": 2599, "currency": "EUR" },
        "stock": 10
    })
}

pub async fn id_of(response: Response) -> Uuid {
    let body: Value = response.json().await.expect("json body");
    body["id"].as_str().expect("id").parse().expect("uuid")
}

/// Asserts an RFC 9457 problem with `status` and `code`, and returns its body.
pub async fn assert_problem(response: Response, status: StatusCode, code: &str) -> Value {
    assert_eq!(response.status(), status);
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(content_type, "application/problem+json");
    let body: Value = response.json().await.expect("problem body");
    assert_eq!(body["code"], code, "problem: {body}");
    assert_eq!(body["status"], status.as_u16());
    assert_eq!(body["type"], format!("urn:cloudcommerce:problem:{code}"));
    body
}
