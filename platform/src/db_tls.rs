//! TLS to PostgreSQL as libpq's `sslmode` describes it, read from the database URL, so a
//! managed database that requires TLS (RDS and Aurora, Azure Flexible Server, Cloud SQL) or an
//! in-cluster one with its own CA (CloudNativePG) is configured the way its documentation says:
//!
//! | `sslmode` | TLS | the server's certificate |
//! |---|---|---|
//! | `disable` | never | - |
//! | `prefer` (default) | when the server offers it | not checked |
//! | `require` | always | not checked |
//! | `verify-ca` | always | signed by `sslrootcert` |
//! | `verify-full` | always | signed by `sslrootcert` and naming the host connected to |
//!
//! `sslrootcert` is a PEM file of trusted CAs, or `system` for the operating system's store
//! (what a public CA-signed server needs); `verify-*` without it uses the system store too.
//! tokio-postgres itself knows only the first three modes, so the two `verify-*` modes and
//! `sslrootcert` are taken out of the URL here and become the OpenSSL connector's settings.

use std::path::PathBuf;

use anyhow::{Context, bail};
use openssl::ssl::{SslConnector, SslMethod, SslVerifyMode};
use postgres_openssl::MakeTlsConnector;

/// How much a connection trusts the server, from `sslmode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl TlsMode {
    fn parse(value: &str) -> anyhow::Result<Self> {
        Ok(match value {
            "disable" => Self::Disable,
            // libpq's `allow` tries without TLS first; the closest safe reading is `prefer`.
            "allow" | "prefer" => Self::Prefer,
            "require" => Self::Require,
            "verify-ca" => Self::VerifyCa,
            "verify-full" => Self::VerifyFull,
            other => bail!(
                "sslmode={other} is not one of disable, prefer, require, verify-ca, verify-full"
            ),
        })
    }

    /// The mode tokio-postgres is given: it only decides whether TLS is used at all.
    pub fn transport(self) -> tokio_postgres::config::SslMode {
        use tokio_postgres::config::SslMode;
        match self {
            Self::Disable => SslMode::Disable,
            Self::Prefer => SslMode::Prefer,
            Self::Require | Self::VerifyCa | Self::VerifyFull => SslMode::Require,
        }
    }

    fn verifies(self) -> bool {
        matches!(self, Self::VerifyCa | Self::VerifyFull)
    }
}

/// The TLS half of a database URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsSettings {
    pub mode: TlsMode,
    /// `sslrootcert`: trusted CAs (PEM); `None` for the system store.
    pub root_cert: Option<PathBuf>,
}

/// TLS settings given beside the URL (`CC_DATABASE__SSLMODE`, `CC_DATABASE__SSLROOTCERT`), for
/// a URL that comes whole from a secret, as CloudNativePG's `uri` does; they win over the URL's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsOverride {
    pub mode: Option<String>,
    pub root_cert: Option<String>,
}

impl TlsOverride {
    pub fn from_env() -> Self {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        Self {
            mode: var("CC_DATABASE__SSLMODE"),
            root_cert: var("CC_DATABASE__SSLROOTCERT"),
        }
    }

    /// `settings` with these overrides applied.
    pub fn apply(&self, mut settings: TlsSettings) -> anyhow::Result<TlsSettings> {
        if let Some(mode) = &self.mode {
            settings.mode = TlsMode::parse(mode)?;
        }
        match self.root_cert.as_deref() {
            Some("system") => settings.root_cert = None,
            Some(path) => settings.root_cert = Some(PathBuf::from(path)),
            None => {}
        }
        Ok(settings)
    }
}

/// Splits `url` into what tokio-postgres parses, without `sslmode` and `sslrootcert`, and the TLS
/// settings (the caller sets tokio-postgres' mode from them, `TlsMode::transport`). Both URL
/// (`postgres://...?sslmode=verify-full&sslrootcert=/ca.crt`) and key=value
/// (`host=db sslmode=verify-full`) forms are read.
pub fn split_url(url: &str) -> anyhow::Result<(String, TlsSettings)> {
    let mut mode = TlsMode::Prefer;
    let mut root_cert = None;
    let mut take = |key: &str, value: &str| -> anyhow::Result<bool> {
        match key {
            "sslmode" => mode = TlsMode::parse(value)?,
            "sslrootcert" if value == "system" => root_cert = None,
            "sslrootcert" => root_cert = Some(PathBuf::from(value)),
            _ => return Ok(false),
        }
        Ok(true)
    };
    let rest = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let (base, query) = url.split_once('?').unwrap_or((url, ""));
        let mut kept = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let value = percent_decode(value)?;
            if !take(key, &value)? {
                kept.push(pair);
            }
        }
        if kept.is_empty() {
            base.to_owned()
        } else {
            format!("{base}?{}", kept.join("&"))
        }
    } else {
        let mut kept = Vec::new();
        for pair in url.split_whitespace() {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            if !take(key.trim(), value.trim_matches('\'').trim())? {
                kept.push(pair.to_owned());
            }
        }
        kept.join(" ")
    };
    Ok((rest, TlsSettings { mode, root_cert }))
}

/// `%2F` and the like in a URL parameter (a CA path is often written that way).
fn percent_decode(value: &str) -> anyhow::Result<String> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = value
                    .get(i + 1..i + 3)
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .context("a database URL parameter has a broken %-escape")?;
                out.push(hex);
                i += 3;
            }
            byte => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8(out).context("a database URL parameter is not UTF-8")
}

/// The OpenSSL connector for `settings`; for `disable` it is never asked to connect.
pub fn connector(settings: &TlsSettings) -> anyhow::Result<MakeTlsConnector> {
    let mut builder = SslConnector::builder(SslMethod::tls_client())?;
    if settings.mode.verifies() {
        builder.set_verify(SslVerifyMode::PEER);
        match &settings.root_cert {
            Some(path) => builder
                .set_ca_file(path)
                .with_context(|| format!("reading sslrootcert {}", path.display()))?,
            None => builder.set_default_verify_paths()?,
        }
    } else {
        // prefer and require encrypt without checking who answers, as libpq does.
        builder.set_verify(SslVerifyMode::NONE);
    }
    let mut connector = MakeTlsConnector::new(builder.build());
    let mode = settings.mode;
    connector.set_callback(move |config, _host| {
        // verify-ca trusts any host name on a certificate the CA signed; the others either
        // check nothing or (verify-full) the name, which the connector does by default.
        if mode != TlsMode::VerifyFull {
            config.set_verify_hostname(false);
        }
        Ok(())
    });
    Ok(connector)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verify_modes_and_root_certs_are_taken_out_of_both_url_forms() {
        let (url, tls) =
            split_url("postgres://u@db:5432/app?sslmode=verify-full&sslrootcert=%2Fetc%2Fca.crt&application_name=x")
                .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(url, "postgres://u@db:5432/app?application_name=x");
        assert_eq!(
            tls,
            TlsSettings {
                mode: TlsMode::VerifyFull,
                root_cert: Some("/etc/ca.crt".into())
            }
        );
        let (url, tls) = split_url("host=db user=u sslmode=verify-ca sslrootcert=system")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(url, "host=db user=u");
        assert_eq!(tls.mode, TlsMode::VerifyCa);
        assert_eq!(tls.root_cert, None);
    }

    #[test]
    fn without_sslmode_tls_is_preferred_as_libpq_does() {
        let (url, tls) = split_url("postgres://u@db/app").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(url, "postgres://u@db/app");
        assert_eq!(tls.mode, TlsMode::Prefer);
        let (url, tls) =
            split_url("postgres://u@db/app?sslmode=disable").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(url, "postgres://u@db/app");
        assert_eq!(tls.mode, TlsMode::Disable);
    }

    #[test]
    fn an_unknown_sslmode_is_refused() {
        assert!(split_url("postgres://u@db/app?sslmode=verify_full").is_err());
        assert!(split_url("postgres://u@db/app?sslrootcert=%zz").is_err());
    }
}
