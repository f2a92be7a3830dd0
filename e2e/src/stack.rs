//! command-api, the projector, query-api and the notifier (with an SMTP sink of its own) in this
//! process, on one fresh database and one pair of fresh topics, with the typed requests the
//! tests make.

use std::{path::PathBuf, time::Duration};

use kafka::Topics;
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};
use testkit::{TestDatabase, mail_sink::MailSink, mailbox::ReceivedMail, unique_topics};
use tokio::{sync::oneshot, task::JoinHandle};
use uuid::Uuid;

use crate::settings::{self, ADMIN_EMAIL, ADMIN_PASSWORD, PASSWORD};

/// What a test changes of the shared settings.
#[derive(Debug, Clone)]
pub struct Options {
    /// Whether command-api runs its relay (off: events stay in the outbox, never reach Kafka).
    pub relay: bool,
    /// query-api's freshness bound for readiness.
    pub max_projection_lag: Duration,
    /// Run each service as its production role (`cc_writer`, `cc_projector`, `cc_reader`,
    /// `cc_notifier`), with
    /// only the rights the migrations and the read-model DDL grant, instead of as the superuser.
    pub least_privilege: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            relay: true,
            max_projection_lag: Duration::from_secs(30),
            least_privilege: false,
        }
    }
}

/// The three services, running.
#[derive(Debug)]
pub struct Stack {
    pub db: TestDatabase,
    pub topics: Topics,
    /// Base URL of command-api.
    pub commands: String,
    /// Base URL of query-api.
    pub queries: String,
    /// Base URL of query-api's admin listener (readiness with its reasons, metrics).
    pub queries_admin: String,
    pub http: reqwest::Client,
    /// Base URL of the projector's admin listener (health, metrics), while it runs.
    pub projector_admin: String,
    projector: Option<(oneshot::Sender<()>, JoinHandle<anyhow::Result<()>>)>,
    /// The role the projector connects as, when not the superuser.
    projector_role: Option<&'static str>,
    /// Where the SMTP sink keeps every mail the notifier sent, one `.eml` each.
    pub mail_dir: PathBuf,
    /// Base URL of the notifier's admin listener.
    pub notifier_admin: String,
    /// Whether command-api's relay runs (without it, nothing reaches the notifier).
    relay: bool,
}

/// The subjects of the notifier's mails.
pub const VERIFY_SUBJECT: &str = "Confirm your email address";
pub const RESET_SUBJECT: &str = "Reset your password";
pub const CHANGED_SUBJECT: &str = "Your password was changed";

impl Stack {
    /// Starts all three on a fresh database and fresh topics.
    pub async fn start() -> Stack {
        Self::start_with(Options::default()).await
    }

    /// [`Stack::start`] with some settings changed.
    pub async fn start_with(options: Options) -> Stack {
        platform::telemetry::init("warn");
        if options.least_privilege {
            // Before the migrations run, so that they grant the roles their rights.
            ensure_service_roles().await;
        }
        let db = TestDatabase::create().await.expect("test database");
        let topics = unique_topics();
        // query-api first, so that command-api's `Location` can name it, as in production.
        let mut query_settings = settings::query_api(&db);
        query_settings.max_projection_lag = options.max_projection_lag;
        if options.least_privilege {
            query_settings.database.url = url_as_role(&db.url, "cc_reader").into();
        }
        let queries = query_api::startup::Application::build(query_settings)
            .await
            .expect("query-api builds");
        let queries_url = format!("http://127.0.0.1:{}", queries.port());
        let queries_admin = format!("http://127.0.0.1:{}", queries.admin_port());
        let mut command_settings = settings::command_api(&db, &topics);
        command_settings.relay_enabled = options.relay;
        command_settings.read_api_url = queries_url.clone();
        if options.least_privilege {
            command_settings.database.url = url_as_role(&db.url, "cc_writer").into();
        }
        let commands = command_api::startup::Application::build(command_settings)
            .await
            .expect("command-api builds");
        let commands_url = format!("http://127.0.0.1:{}", commands.port());
        tokio::spawn(commands.run_until_stopped());
        let mail_dir = std::env::temp_dir().join(format!("e2e-mail-{}", Uuid::new_v4().simple()));
        let smtp = MailSink::start(&mail_dir).await.expect("mail sink starts");
        let mut notifier_settings = settings::notifier(&db, &topics, &smtp.to_string());
        if options.least_privilege {
            notifier_settings.database.url = url_as_role(&db.url, "cc_notifier").into();
        }
        let notifier = notifier::startup::Application::build(notifier_settings)
            .await
            .expect("notifier builds");
        let notifier_admin = format!("http://127.0.0.1:{}", notifier.port());
        tokio::spawn(notifier.run_until_stopped());
        let mut stack = Stack {
            db,
            topics,
            commands: commands_url,
            queries: queries_url,
            queries_admin,
            http: reqwest::Client::new(),
            projector_admin: String::new(),
            projector: None,
            projector_role: options.least_privilege.then_some("cc_projector"),
            mail_dir,
            notifier_admin,
            relay: options.relay,
        };
        stack.start_projector().await;
        tokio::spawn(queries.run_until_stopped());
        stack
    }

    /// Starts the projector (again); it consumes the stack's topics into its database.
    pub async fn start_projector(&mut self) {
        let mut settings = settings::projector(&self.db, &self.topics);
        if let Some(role) = self.projector_role {
            settings.database.url = url_as_role(&self.db.url, role).into();
        }
        let app = projector::startup::Application::build(settings)
            .await
            .expect("projector builds");
        self.projector_admin = format!("http://127.0.0.1:{}", app.port());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(app.run_until(async move {
            let _ = stopped.await;
        }));
        self.projector = Some((stop, task));
    }

    /// Stops the projector as SIGTERM would and returns how its run ended. Call it before the
    /// test ends: its consumer thread would otherwise keep the runtime from shutting down.
    pub async fn stop_projector(&mut self) -> anyhow::Result<()> {
        let Some((stop, task)) = self.projector.take() else {
            return Ok(());
        };
        let _ = stop.send(());
        tokio::time::timeout(Duration::from_secs(30), task)
            .await
            .map_err(|_| anyhow::anyhow!("the projector did not stop in 30 s"))??
    }

    pub async fn send(
        &self,
        method: Method,
        url: String,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Response {
        let mut request = self.http.request(method, url);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        request.send().await.expect("request sent")
    }

    /// A command-api request.
    pub async fn command(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Response {
        self.send(method, format!("{}{path}", self.commands), token, body)
            .await
    }

    /// Registers an account and returns its id.
    pub async fn register(&self, email: &str) -> Uuid {
        let body = json!({ "email": email, "password": PASSWORD, "display_name": "E2E User" });
        let response = self
            .command(Method::POST, "/v1/users", None, Some(&body))
            .await;
        assert_eq!(
            response.status(),
            StatusCode::CREATED,
            "registering {email}"
        );
        id_of(response).await
    }

    /// `GET /v1/users/{id}` on query-api as `bearer`, waiting for the write behind
    /// `consistency` (a `Consistency-Token`).
    pub async fn account(&self, id: Uuid, bearer: &str, consistency: &str) -> Value {
        let response = self
            .http
            .get(format!("{}/v1/users/{id}", self.queries))
            .bearer_auth(bearer)
            .header("consistency-token", consistency)
            .send()
            .await
            .expect("query-api answers");
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.expect("an account as JSON")
    }

    pub async fn login(&self, email: &str, password: &str) -> String {
        let body = json!({ "email": email, "password": password });
        let response = self
            .command(Method::POST, "/v1/sessions", None, Some(&body))
            .await;
        assert_eq!(response.status(), StatusCode::OK, "signing in {email}");
        let body: Value = response.json().await.expect("json");
        body["access_token"].as_str().expect("token").to_owned()
    }

    pub async fn admin_token(&self) -> String {
        self.login(ADMIN_EMAIL, ADMIN_PASSWORD).await
    }

    /// Every mail the sink kept for `address`, oldest first.
    pub fn mails_to(&self, address: &str) -> Vec<ReceivedMail> {
        testkit::mailbox::received(&self.mail_dir)
            .expect("reading the mail sink")
            .into_iter()
            .filter(|mail| mail.recipients().iter().any(|to| to == address))
            .collect()
    }

    /// Waits for the `nth` (from 1) mail to `address` with `subject` and returns the token of
    /// its link.
    pub async fn mailed_token(&self, address: &str, subject: &str, nth: usize) -> String {
        let mail = eventually(
            &format!("mail {nth} \"{subject}\" to {address}"),
            Duration::from_secs(30),
            || async {
                self.mails_to(address)
                    .into_iter()
                    .filter(|mail| mail.header("Subject").as_deref() == Some(subject))
                    .nth(nth - 1)
            },
        )
        .await;
        token_in(&mail)
    }

    /// Waits for a mail to `address` with `subject` that carries no token (a notice).
    pub async fn mailed_token_free(&self, address: &str, subject: &str) {
        let mail = eventually(
            &format!("a mail \"{subject}\" to {address}"),
            Duration::from_secs(30),
            || async {
                self.mails_to(address)
                    .into_iter()
                    .find(|mail| mail.header("Subject").as_deref() == Some(subject))
            },
        )
        .await;
        assert!(!mail.text().unwrap_or_default().contains("token="));
    }

    /// Verifies `address` (of account `id`) with the token of its first verification mail. With
    /// the relay off no event reaches the notifier, so the token is stored here the way the
    /// notifier stores it.
    pub async fn verify_email(&self, id: Uuid, address: &str) {
        let token = if self.relay {
            self.mailed_token(address, VERIFY_SUBJECT, 1).await
        } else {
            self.store_verification_token(id).await
        };
        let response = self
            .command(
                Method::POST,
                &format!("/v1/users/{id}/email-verification"),
                None,
                Some(&json!({ "token": token })),
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK, "verifying {address}");
    }

    async fn store_verification_token(&self, id: Uuid) -> String {
        let token = format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple());
        let client = self.db.connect().await.expect("db");
        client
            .execute(
                "INSERT INTO es.email_verification_tokens (token_hash, user_id, issued_at, expires_at)
                 VALUES (sha256($1::text::bytea), $2, now(), now() + interval '1 hour')",
                &[&token, &id],
            )
            .await
            .expect("storing a verification token");
        token
    }

    /// A signed-in seller: registered, verified through the mail, promoted by the admin, signed
    /// in with the new role.
    pub async fn seller(&self) -> (Uuid, String) {
        let email = format!("seller-{}@example.com", Uuid::new_v4().simple());
        let id = self.register(&email).await;
        self.verify_email(id, &email).await;
        let admin = self.admin_token().await;
        let response = self
            .command(
                Method::PUT,
                &format!("/v1/users/{id}/role"),
                Some(&admin),
                Some(&json!({ "role": "seller" })),
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        (id, self.login(&email, PASSWORD).await)
    }

    /// Creates a product and returns its id and the answer's `Consistency-Token`.
    pub async fn create_product(&self, token: &str, sku: &str) -> (Uuid, String) {
        let response = self
            .command(
                Method::POST,
                "/v1/products",
                Some(token),
                Some(&product_body(sku)),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let consistency = consistency_token(&response);
        (id_of(response).await, consistency)
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

pub fn consistency_token(response: &Response) -> String {
    response.headers()["consistency-token"]
        .to_str()
        .expect("token")
        .to_owned()
}

pub use testkit::eventually;

/// The 43-character token of a mail's link (`...token=<token>`), from its text part.
pub fn token_in(mail: &ReceivedMail) -> String {
    let text = mail.text().expect("a text part");
    let at = text.find("token=").expect("a link with a token") + "token=".len();
    text[at..at + 43].to_owned()
}

/// `url` with its user replaced by `role` (the test cluster trusts loopback connections).
pub fn url_as_role(url: &str, role: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("a postgres:// URL");
    let host = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    format!("{scheme}://{role}@{host}")
}

/// Creates the four service roles in the test cluster once; they outlive the test databases,
/// as roles do, and every later database's migrations grant them their rights.
async fn ensure_service_roles() {
    let (client, connection) =
        tokio_postgres::connect(&testkit::database::admin_url(), tokio_postgres::NoTls)
            .await
            .expect("admin connection");
    tokio::spawn(connection);
    for role in ["cc_writer", "cc_projector", "cc_reader", "cc_notifier"] {
        // Two tests creating a role at once: the loser's duplicate is as good as its own.
        let created = client
            .batch_execute(&format!(
                "DO $$ BEGIN CREATE ROLE {role} LOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
                 ALTER ROLE {role} LOGIN"
            ))
            .await;
        created.expect("creating a service role");
    }
}
