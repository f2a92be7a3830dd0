//! Provisioning the services' login roles on a managed PostgreSQL (RDS, Cloud SQL, Azure
//! Flexible Server), where no operator creates them: with all four of
//! `CC_MIGRATE__WRITER_PASSWORD`, `CC_MIGRATE__PROJECTOR_PASSWORD`,
//! `CC_MIGRATE__READER_PASSWORD` and `CC_MIGRATE__NOTIFIER_PASSWORD` set, `command-api migrate`
//! creates each of `cc_writer`, `cc_projector`, `cc_reader` and `cc_notifier` that is missing
//! and sets its password on every run (so a new secret rotates it), before the migrations grant
//! the roles their rights.
//!
//! The connecting role needs `CREATEROLE`, not superuser: what those clouds give their admin.
//! Role names are fixed: the migrations grant to them by name.
//!
//! A password never reaches the server: the SCRAM-SHA-256 verifier is computed here and
//! `ALTER ROLE ... PASSWORD '<verifier>'` sends only that, so neither the statement log nor
//! `pg_stat_activity` can show a password (what libpq's `\password` does too).

use anyhow::{Context, bail};
use secrecy::{ExposeSecret, SecretString};
use tokio_postgres::{Client, error::SqlState};

/// One service's login role and the variable that holds its password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceRole {
    pub name: &'static str,
    pub password_variable: &'static str,
}

/// The roles the migrations grant to, by name (V2 to V13).
pub const SERVICE_ROLES: [ServiceRole; 4] = [
    ServiceRole {
        name: "cc_writer",
        password_variable: "CC_MIGRATE__WRITER_PASSWORD",
    },
    ServiceRole {
        name: "cc_projector",
        password_variable: "CC_MIGRATE__PROJECTOR_PASSWORD",
    },
    ServiceRole {
        name: "cc_reader",
        password_variable: "CC_MIGRATE__READER_PASSWORD",
    },
    // The notifier (V12, V13): mails the tokens it has issued.
    ServiceRole {
        name: "cc_notifier",
        password_variable: "CC_MIGRATE__NOTIFIER_PASSWORD",
    },
];

/// Serialises provisioning between two migration Jobs on one database, so the second neither
/// trips over the first's `CREATE ROLE` nor interleaves its `ALTER ROLE`s ("tuple concurrently
/// updated"). Not the migration lock (`store::migrations`), which is taken after this one.
const PROVISIONING_LOCK: i64 = 0x4343_524f_4c45_0001;

/// The password of each of [`SERVICE_ROLES`], in that order.
#[derive(Debug)]
pub struct RolePasswords([SecretString; SERVICE_ROLES.len()]);

impl RolePasswords {
    /// All four variables, or none (`None`: provisioning is off); one to three is an error, as
    /// a half-filled secret is a mistake that must not leave a service unable to log in. An
    /// empty value counts as unset.
    pub fn from_env() -> anyhow::Result<Option<Self>> {
        Self::from_lookup(platform::env::optional_secret)
    }

    fn from_lookup(lookup: impl Fn(&str) -> Option<SecretString>) -> anyhow::Result<Option<Self>> {
        match SERVICE_ROLES.map(|role| lookup(role.password_variable)) {
            [Some(writer), Some(projector), Some(reader), Some(notifier)] => {
                Ok(Some(Self([writer, projector, reader, notifier])))
            }
            [None, None, None, None] => Ok(None),
            partial => {
                let missing: Vec<&str> = SERVICE_ROLES
                    .iter()
                    .zip(&partial)
                    .filter(|(_, password)| password.is_none())
                    .map(|(role, _)| role.password_variable)
                    .collect();
                bail!(
                    "role provisioning needs all four of {}, or none of them; missing: {}",
                    SERVICE_ROLES.map(|role| role.password_variable).join(", "),
                    missing.join(", ")
                )
            }
        }
    }
}

/// Creates each missing service role and sets every role's password, under
/// [`PROVISIONING_LOCK`].
pub async fn provision(client: &Client, passwords: &RolePasswords) -> anyhow::Result<()> {
    client
        .execute("SELECT pg_advisory_lock($1)", &[&PROVISIONING_LOCK])
        .await
        .context("taking the role provisioning lock")?;
    let mut result = Ok(());
    for (role, password) in SERVICE_ROLES.iter().zip(&passwords.0) {
        result = provision_role(client, role.name, password).await;
        if result.is_err() {
            break;
        }
    }
    client
        .execute("SELECT pg_advisory_unlock($1)", &[&PROVISIONING_LOCK])
        .await
        .context("releasing the role provisioning lock")?;
    result
}

async fn provision_role(
    client: &Client,
    role: &str,
    password: &SecretString,
) -> anyhow::Result<()> {
    if create_if_missing(client, role).await? {
        tracing::info!(role, "service role created");
    }
    refuse_more_than_login(client, role).await?;
    let verifier = postgres_protocol::password::scram_sha_256(password.expose_secret().as_bytes());
    // Utility statements take no bind parameters, so the verifier goes in as a literal. LOGIN
    // again, for a role someone created NOLOGIN; the other attributes are checked above, not
    // set, since naming SUPERUSER or REPLICATION at all (even NOSUPERUSER) takes a superuser
    // on PostgreSQL 15.
    client
        .batch_execute(&format!(
            "ALTER ROLE {} WITH LOGIN PASSWORD {}",
            quote_identifier(role),
            quote_literal(&verifier)
        ))
        .await
        .with_context(|| {
            format!(
                "setting the password of {role} (from PostgreSQL 16 the connecting role needs \
                 ADMIN OPTION on a role it did not create itself)"
            )
        })?;
    tracing::info!(role, "service role password set");
    Ok(())
}

/// Whether the role was created here. Another cluster database's migration Job may create it
/// between the look and the `CREATE` (the lock covers one database only): that is as good.
async fn create_if_missing(client: &Client, role: &str) -> anyhow::Result<bool> {
    let exists: bool = client
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)",
            &[&role],
        )
        .await
        .with_context(|| format!("looking up the role {role}"))?
        .get(0);
    if exists {
        return Ok(false);
    }
    let created = client
        .batch_execute(&format!(
            "CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION",
            quote_identifier(role)
        ))
        .await;
    match created {
        Ok(()) => Ok(true),
        Err(error)
            if error.code() == Some(&SqlState::DUPLICATE_OBJECT)
                || error.code() == Some(&SqlState::UNIQUE_VIOLATION) =>
        {
            Ok(false)
        }
        Err(error) => Err(error).with_context(|| {
            format!("creating the role {role} (the connecting role needs CREATEROLE)")
        }),
    }
}

/// A role that already existed with more than LOGIN (a superuser, say) would carry the
/// service's password with rights no service should have: refuse rather than hand it over.
async fn refuse_more_than_login(client: &Client, role: &str) -> anyhow::Result<()> {
    let row = client
        .query_one(
            "SELECT rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls
             FROM pg_roles WHERE rolname = $1",
            &[&role],
        )
        .await
        .with_context(|| format!("reading the attributes of the role {role}"))?;
    let attributes = [
        "SUPERUSER",
        "CREATEDB",
        "CREATEROLE",
        "REPLICATION",
        "BYPASSRLS",
    ];
    let held: Vec<&str> = attributes
        .iter()
        .enumerate()
        .filter(|(column, _)| row.get::<_, bool>(*column))
        .map(|(_, attribute)| *attribute)
        .collect();
    if !held.is_empty() {
        bail!(
            "the role {role} exists with {}: a service role has LOGIN and nothing more; \
             take them away (ALTER ROLE {role} NO{}) and run migrate again",
            held.join(", "),
            held.join(" NO")
        );
    }
    Ok(())
}

/// `name` as an SQL identifier.
fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `value` as an SQL string literal whatever `standard_conforming_strings` says: the `E''`
/// form when it holds a backslash, as PostgreSQL's own `quote_literal` does. A verifier holds
/// only base64, `$` and `:`, but this is not the place to rely on that.
fn quote_literal(value: &str) -> String {
    let doubled = value.replace('\'', "''");
    if value.contains('\\') {
        format!("E'{}'", doubled.replace('\\', "\\\\"))
    } else {
        format!("'{doubled}'")
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn lookup_in(
        variables: &[(&'static str, &'static str)],
    ) -> impl Fn(&str) -> Option<SecretString> {
        let variables: HashMap<&str, &str> = variables.iter().copied().collect();
        move |name| variables.get(name).map(|v| SecretString::from(*v))
    }

    #[test]
    fn no_password_variable_means_no_provisioning() {
        let passwords = RolePasswords::from_lookup(lookup_in(&[])).expect("no error");
        assert!(passwords.is_none());
    }

    #[test]
    fn all_four_password_variables_are_read_in_role_order() {
        let passwords = RolePasswords::from_lookup(lookup_in(&[
            ("CC_MIGRATE__NOTIFIER_PASSWORD", "n"),
            ("CC_MIGRATE__READER_PASSWORD", "r"),
            ("CC_MIGRATE__WRITER_PASSWORD", "w"),
            ("CC_MIGRATE__PROJECTOR_PASSWORD", "p"),
        ]))
        .expect("no error")
        .expect("provisioning on");
        let exposed: Vec<&str> = passwords.0.iter().map(|p| p.expose_secret()).collect();
        assert_eq!(exposed, ["w", "p", "r", "n"]);
    }

    #[test]
    fn one_to_three_password_variables_are_an_error_naming_the_missing_ones() {
        let error = RolePasswords::from_lookup(lookup_in(&[("CC_MIGRATE__WRITER_PASSWORD", "w")]))
            .expect_err("partial");
        let message = error.to_string();
        assert!(
            message.ends_with(
                "missing: CC_MIGRATE__PROJECTOR_PASSWORD, CC_MIGRATE__READER_PASSWORD, \
                 CC_MIGRATE__NOTIFIER_PASSWORD"
            ),
            "{message}"
        );
        // The three of an older deployment, before the notifier: still refused, naming it.
        let error = RolePasswords::from_lookup(lookup_in(&[
            ("CC_MIGRATE__WRITER_PASSWORD", "w"),
            ("CC_MIGRATE__PROJECTOR_PASSWORD", "p"),
            ("CC_MIGRATE__READER_PASSWORD", "r"),
        ]))
        .expect_err("three of four");
        let message = error.to_string();
        assert!(
            message.contains("needs all four")
                && message.ends_with("missing: CC_MIGRATE__NOTIFIER_PASSWORD"),
            "{message}"
        );
    }

    #[test]
    fn literals_and_identifiers_are_quoted_so_nothing_escapes_them() {
        assert_eq!(
            quote_literal("SCRAM-SHA-256$4096:ab+/=$x:y"),
            "'SCRAM-SHA-256$4096:ab+/=$x:y'"
        );
        assert_eq!(quote_literal("it's"), "'it''s'");
        assert_eq!(quote_literal(r"a\'b"), r"E'a\\''b'");
        assert_eq!(quote_identifier("cc_writer"), "\"cc_writer\"");
        assert_eq!(quote_identifier("a\"b"), "\"a\"\"b\"");
    }
}
