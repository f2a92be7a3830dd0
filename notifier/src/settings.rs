//! notifier settings, read once from the environment at start-up.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `CC_HTTP__HOST` / `CC_HTTP__PORT` | `0.0.0.0` / `9090` | admin listener: `/health/live`, `/health/ready`, `/metrics` (port 0 picks a free one) |
//! | `CC_DATABASE__URL` | required | the write-side PostgreSQL, as `cc_notifier` in production: it issues tokens through `es.issue_mailed_token` and keeps `notifier.*` (secret) |
//! | `CC_DATABASE__PASSWORD` | unset (the URL's password) | the database password, given as it is: when set and non-empty it wins over any password in `CC_DATABASE__URL` and needs no URL escaping (secret) |
//! | `CC_DATABASE__POOL_SIZE`, `CC_DATABASE__STATEMENT_TIMEOUT_MS`, `CC_DATABASE__ACQUIRE_TIMEOUT_MS` | 16, 5000, 2000 | pool (one message is handled at a time: 4 is plenty) |
//! | `CC_DATABASE__SSLMODE`, `CC_DATABASE__SSLROOTCERT` | the URL's `sslmode` (else `prefer`) and `sslrootcert` (else the system store) | TLS to PostgreSQL (`platform/src/db_tls.rs`) |
//! | `CC_KAFKA__*` | see `kafka::settings` | broker and credentials; the notifier reads `CC_KAFKA__USER_TOPIC` |
//! | `CC_PERSONAL_DATA__MASTER_KEY` | required | the master key command-api seals personal fields under (base64 of 32 bytes): opens the address and name of `user.registered` and `user.display_name_changed` (secret) |
//! | `CC_SMTP__URL` | required | where mail goes, as a lettre SMTP URL: `smtp://127.0.0.1:18025` (plain, the local sink), `smtp://user@email-smtp.eu-west-1.amazonaws.com:587?tls=required` (STARTTLS), `smtps://apikey@smtp.sendgrid.net:465` (TLS) (secret: it may hold a password); plain `smtp://` without `tls=required` is refused unless the relay is on loopback |
//! | `CC_SMTP__PASSWORD` | unset (the URL's password) | the SMTP password, given as it is; wins over one in `CC_SMTP__URL` (secret) |
//! | `CC_SMTP__TIMEOUT_SECS` | `15` | longest one SMTP conversation may take; then it counts as a transient failure |
//! | `CC_MAIL__FROM` | `CloudCommerce <no-reply@cloudcommerce.dev>` | the `From` of every mail |
//! | `CC_MAIL__LINK_BASE_URL` | required | the shop's site the links point to (`https://shop.example.com`; locally `http://127.0.0.1:18081`): `<base>/verify-email#user=<id>&token=<token>`, `<base>/reset-password#token=<token>` |
//! | `CC_NOTIFIER__GROUP_ID` | `cloudcommerce-notifier` | the Kafka consumer group whose committed offsets are where the notifier resumes (the group is never joined: partitions are assigned by the notifier itself), and the name of the PostgreSQL advisory lock that makes one replica the active one |
//! | `CC_NOTIFIER__DEAD_LETTER_TOPIC` | `cloudcommerce.notifier.dead-letters` | where messages that can never be handled go, verbatim with `cc_dlq_*` headers |
//! | `CC_NOTIFIER__CREATE_TOPICS` | `true` | create the user topic and the dead-letter topic at start-up if missing (needs the Create ACL; off in production) |
//! | `CC_NOTIFIER__FETCH_MAX_WAIT_MS` | `20` | librdkafka `fetch.wait.max.ms`: the Tansu development broker holds an empty fetch this long even when data arrives (see the projector's setting of the same name) |
//! | `CC_NOTIFIER__RETRY_INITIAL_MS` / `CC_NOTIFIER__RETRY_MAX_MS` | `1000` / `60000` | backoff of a transient failure (database down, SMTP refused or 4xx), doubling from the first to the second; the message is retried in place, nothing after it is handled meanwhile |
//! | `CC_NOTIFIER__STANDBY_POLL_MS` | `1000` | how often a standby replica tries to become the active one |
//! | `CC_NOTIFIER__SHUTDOWN_TIMEOUT_SECS` | `25` | after SIGTERM, longest wait for the message in hand and the offsets' commit |
//! | `CC_LOG_FORMAT` | text | `json` for JSON lines (fields in `platform/src/telemetry.rs`); `RUST_LOG` filters |
//! | `CC_OTLP__ENDPOINT` / `CC_OTLP__SERVICE_NAME` | unset / executable name | with the `otlp` cargo feature only: export spans over OTLP/HTTP (see `platform/src/otlp.rs`) |

use std::{sync::Arc, time::Duration};

use kafka::KafkaSettings;
use personal::Keyring;
use platform::{db::DbSettings, env};
use secrecy::SecretString;

#[derive(Debug, Clone)]
pub struct Settings {
    pub host: String,
    pub port: u16,
    pub database: DbSettings,
    pub kafka: KafkaSettings,
    pub smtp: SmtpSettings,
    pub mail: MailSettings,
    pub consumer: ConsumerSettings,
    pub shutdown_timeout: Duration,
    pub create_topics: bool,
    /// Opens the personal fields of user events.
    pub keyring: Arc<Keyring>,
}

/// The SMTP relay. `Debug` shows neither the URL (it may hold a password) nor the password:
/// `SecretString` redacts both.
#[derive(Debug, Clone)]
pub struct SmtpSettings {
    pub url: SecretString,
    pub password: Option<SecretString>,
    pub timeout: Duration,
}

/// What every mail says about where it comes from and where its links lead.
#[derive(Debug, Clone)]
pub struct MailSettings {
    pub from: String,
    /// Without a trailing slash.
    pub link_base_url: String,
}

/// What the consumer loop needs.
#[derive(Debug, Clone)]
pub struct ConsumerSettings {
    pub group_id: String,
    pub dead_letter_topic: String,
    pub fetch_max_wait: Duration,
    pub retry_initial: Duration,
    pub retry_max: Duration,
    pub standby_poll: Duration,
}

/// Refuses an SMTP URL that would carry tokens and the relay's password in the clear over a
/// network: `smtps://`, or `smtp://` with `tls=required`, unless the relay is on loopback (the
/// local sink).
fn encrypted_unless_local(url: SecretString) -> anyhow::Result<SecretString> {
    use secrecy::ExposeSecret;
    let parsed = url::Url::parse(url.expose_secret())
        .map_err(|_| anyhow::anyhow!("CC_SMTP__URL is not a URL"))?;
    let encrypted = parsed.scheme() == "smtps"
        || parsed
            .query_pairs()
            .any(|(key, value)| key == "tls" && value == "required");
    // `smtp` is not a scheme the URL standard knows, so its host comes back as text, an
    // address included.
    let local = match parsed.host() {
        Some(url::Host::Domain(name)) => {
            name == "localhost"
                || name
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        }
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    anyhow::ensure!(
        encrypted || local,
        "CC_SMTP__URL sends mail unencrypted to another host: use smtps://...:465 or \
         smtp://...:587?tls=required"
    );
    Ok(url)
}

impl Settings {
    pub fn from_env() -> anyhow::Result<Self> {
        let millis = |name: &str, default: u64| -> anyhow::Result<Duration> {
            Ok(Duration::from_millis(env::or(name, default)?))
        };
        let retry_initial = millis("CC_NOTIFIER__RETRY_INITIAL_MS", 1_000)?;
        let retry_max = millis("CC_NOTIFIER__RETRY_MAX_MS", 60_000)?;
        anyhow::ensure!(
            !retry_initial.is_zero() && retry_initial <= retry_max,
            "CC_NOTIFIER__RETRY_INITIAL_MS must be at least 1 and at most CC_NOTIFIER__RETRY_MAX_MS"
        );
        Ok(Self {
            host: env::string_or("CC_HTTP__HOST", "0.0.0.0"),
            port: env::or("CC_HTTP__PORT", 9090)?,
            database: DbSettings::from_env("notifier")?,
            kafka: KafkaSettings::from_env()?,
            smtp: SmtpSettings {
                url: encrypted_unless_local(env::secret("CC_SMTP__URL")?)?,
                password: env::optional_secret("CC_SMTP__PASSWORD"),
                timeout: Duration::from_secs(env::or("CC_SMTP__TIMEOUT_SECS", 15)?),
            },
            mail: MailSettings {
                from: env::string_or(
                    "CC_MAIL__FROM",
                    "CloudCommerce <no-reply@cloudcommerce.dev>",
                ),
                link_base_url: env::required("CC_MAIL__LINK_BASE_URL")?
                    .trim_end_matches('/')
                    .to_owned(),
            },
            consumer: ConsumerSettings {
                group_id: env::string_or("CC_NOTIFIER__GROUP_ID", "cloudcommerce-notifier"),
                dead_letter_topic: env::string_or(
                    "CC_NOTIFIER__DEAD_LETTER_TOPIC",
                    "cloudcommerce.notifier.dead-letters",
                ),
                fetch_max_wait: millis("CC_NOTIFIER__FETCH_MAX_WAIT_MS", 20)?,
                retry_initial,
                retry_max,
                standby_poll: millis("CC_NOTIFIER__STANDBY_POLL_MS", 1_000)?,
            },
            shutdown_timeout: Duration::from_secs(env::or(
                "CC_NOTIFIER__SHUTDOWN_TIMEOUT_SECS",
                25,
            )?),
            create_topics: env::or("CC_NOTIFIER__CREATE_TOPICS", true)?,
            keyring: Arc::new(Keyring::from_env()?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mail_leaves_the_host_encrypted_or_not_at_all() {
        let check = |url: &str| encrypted_unless_local(SecretString::from(url.to_owned())).is_ok();
        assert!(check("smtp://127.0.0.1:18025"));
        assert!(check("smtp://localhost:25"));
        assert!(check("smtp://[::1]:25"));
        assert!(!check("smtp://10.0.0.5:25"));
        assert!(check(
            "smtp://user@email-smtp.eu-west-1.amazonaws.com:587?tls=required"
        ));
        assert!(check("smtps://apikey@smtp.sendgrid.net:465"));
        assert!(!check("smtp://smtp.example.com:587"));
        assert!(!check("smtp://smtp.example.com:587?tls=opportunistic"));
        assert!(!check("not a url"));
    }

    #[test]
    fn debug_shows_neither_the_smtp_password_nor_the_url_that_may_hold_one() {
        let smtp = SmtpSettings {
            url: SecretString::from("smtps://apikey:hunter2@smtp.example.com:465".to_owned()),
            password: Some(SecretString::from("correct horse".to_owned())),
            timeout: Duration::from_secs(1),
        };
        let printed = format!("{smtp:?}");
        assert!(!printed.contains("hunter2"), "{printed}");
        assert!(!printed.contains("correct horse"), "{printed}");
    }
}
