//! Sending through the SMTP relay of `CC_SMTP__URL` (lettre, on tokio; TLS as the URL says),
//! and telling a refusal for good from a failure that may pass.
//!
//! What is logged or dead-lettered of a failure is its class and reply code only: a relay's
//! reply text often quotes the recipient's address.

use std::error::Error as _;

use anyhow::Context;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor, transport::smtp};
use secrecy::{ExposeSecret, SecretString};

use crate::settings::SmtpSettings;

/// Permanent (5xx) replies about the relay's own configuration, not about one mail: bad or
/// missing credentials. Every mail would get them, so they are retried (and alerted on), never
/// dead-lettered.
const CONFIGURATION_CODES: [&str; 4] = ["530", "534", "535", "538"];

/// Why a mail did not go out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendFailure {
    /// The relay refused this mail for good (a 5xx reply other than the configuration ones).
    #[error("the SMTP relay refused the mail for good ({0})")]
    Rejected(String),
    /// Refused connection, timeout, TLS, a 4xx reply, bad credentials: try again later.
    #[error("the SMTP relay is not taking mail now: {0}")]
    Transient(String),
}

#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The transport holds the credentials.
        f.write_str("Mailer")
    }
}

impl Mailer {
    pub fn new(settings: &SmtpSettings) -> anyhow::Result<Self> {
        let url = url_with_password(&settings.url, settings.password.as_ref())?;
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose_secret())
            .map_err(|_| anyhow::anyhow!("CC_SMTP__URL is not a valid SMTP URL (smtp://host:port, smtps://user@host:465, ...?tls=required)"))?
            .timeout(Some(settings.timeout))
            .build();
        Ok(Self { transport })
    }

    pub async fn send(&self, message: Message) -> Result<(), SendFailure> {
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|error| classify(&error))
    }
}

/// `url` with `password` in it when one is given separately (it wins; any character allowed,
/// percent-encoded here for lettre to decode).
fn url_with_password(
    url: &SecretString,
    password: Option<&SecretString>,
) -> anyhow::Result<SecretString> {
    let Some(password) = password else {
        return Ok(url.clone());
    };
    let mut parsed = url::Url::parse(url.expose_secret())
        .ok()
        .context("CC_SMTP__URL is not a URL")?;
    parsed
        .set_password(Some(password.expose_secret()))
        .ok()
        .context("CC_SMTP__URL cannot carry a password (no host?)")?;
    Ok(SecretString::from(String::from(parsed)))
}

fn classify(error: &smtp::Error) -> SendFailure {
    if let Some(code) = error.status() {
        let code = code.to_string();
        if error.is_permanent() && !CONFIGURATION_CODES.contains(&code.as_str()) {
            return SendFailure::Rejected(format!("SMTP {code}"));
        }
        return SendFailure::Transient(format!("SMTP {code}"));
    }
    let class = if error.is_timeout() {
        "timed out"
    } else if error.is_tls() {
        "TLS failed"
    } else if error.is_client() {
        "client error (no authentication mechanism in common?)"
    } else if error.is_response() {
        "unreadable reply"
    } else {
        "connection failed"
    };
    // An I/O cause ("connection refused") names no address.
    let mut source = error.source();
    while let Some(cause) = source {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            return SendFailure::Transient(format!("SMTP {class}: {io}"));
        }
        source = cause.source();
    }
    SendFailure::Transient(format!("SMTP {class}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_separate_password_wins_and_is_percent_encoded() {
        let url = SecretString::from("smtps://apikey:old@smtp.example.com:465".to_owned());
        let password = SecretString::from("p@ss:w/rd".to_owned());
        let combined = url_with_password(&url, Some(&password)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            combined.expose_secret(),
            "smtps://apikey:p%40ss%3Aw%2Frd@smtp.example.com:465"
        );
        let unchanged = url_with_password(&url, None).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(unchanged.expose_secret(), url.expose_secret());
    }

    #[test]
    fn every_supported_url_builds_a_transport() {
        for url in [
            "smtp://127.0.0.1:18025",
            "smtp://user@email-smtp.eu-west-1.amazonaws.com:587?tls=required",
            "smtps://apikey@smtp.sendgrid.net:465",
        ] {
            let settings = SmtpSettings {
                url: SecretString::from(url.to_owned()),
                password: Some(SecretString::from("secret".to_owned())),
                timeout: std::time::Duration::from_secs(1),
            };
            assert!(Mailer::new(&settings).is_ok(), "{url}");
        }
    }
}
