//! argon2id password hashing (m=19456 KiB, t=2, p=1, the OWASP baseline), always on the
//! blocking pool so a sign-up or login never stalls the async workers.

use anyhow::Context;
use argon2::{
    Algorithm, Argon2, Params, PasswordHash, PasswordHasher, PasswordVerifier, Version,
    password_hash::SaltString,
};
use domain::values::Password;

const MEMORY_KIB: u32 = 19_456;
const ITERATIONS: u32 = 2;
const PARALLELISM: u32 = 1;

fn argon2() -> Argon2<'static> {
    let params = Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, None)
        .expect("argon2 parameters are valid constants");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// PHC string of a fresh hash of `password`.
pub async fn hash(password: Password) -> anyhow::Result<String> {
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || {
        let _entered = span.enter();
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        argon2()
            .hash_password(password.expose().as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|e| anyhow::anyhow!("hashing a password: {e}"))
    })
    .await
    .context("password hashing task")?
}

/// Whether `candidate` matches `phc_hash`. Takes the same time whether it matches or not.
pub async fn verify(candidate: String, phc_hash: String) -> anyhow::Result<bool> {
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || {
        let _entered = span.enter();
        let parsed = PasswordHash::new(&phc_hash)
            .map_err(|e| anyhow::anyhow!("stored hash is not a PHC string: {e}"))?;
        Ok(argon2()
            .verify_password(candidate.as_bytes(), &parsed)
            .is_ok())
    })
    .await
    .context("password verification task")?
}

/// A hash of a random password, verified against when an email is unknown so that an unknown
/// address and a wrong password cost the same time.
pub async fn decoy_hash() -> anyhow::Result<String> {
    let random: [u8; 24] = rand::random();
    let password = Password::parse(&hex::encode(random))
        .map_err(|e| anyhow::anyhow!("decoy password: {e}"))?;
    hash(password).await
}
