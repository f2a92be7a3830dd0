//! argon2id password hashing (m=19456 KiB, t=2, p=1, the OWASP baseline), always on the
//! blocking pool so a sign-up or login never stalls the async workers, at most one hash per core
//! at a time, each in working memory that is allocated once and reused.
//!
//! The queue in front of the cores is bounded: when more hashes wait than `waiting_per_core` per
//! core, or one would wait longer than `max_wait`, the request is shed with 503 and
//! `Retry-After` (`HashError::Busy`) instead of queueing without end behind a flood, so a sign-in
//! during a sign-up flood is answered, one way or the other, within that wait plus one hash.
//! New passwords (sign-ups, password changes) may fill only half of the waiting places; the
//! other half is kept for checks of existing ones, so that during a sign-up flood the users who
//! already have an account still sign in, behind at most that half.
//!
//! Why reuse: each hash fills 19 MiB. Allocated per hash, that memory went back to whichever
//! malloc arena the blocking thread used, and glibc keeps freed memory in up to eight arenas per
//! core: a sign-up burst left the process at 1.5 GiB resident (3.8 GiB before hashes were
//! bounded) against a 512 MiB pod limit. With one buffer per permit it stays at cores x 19 MiB.

use std::{
    num::NonZero,
    sync::{
        LazyLock, Mutex, OnceLock,
        atomic::{AtomicUsize, Ordering},
    },
};

use anyhow::Context;
use argon2::{
    Algorithm, Argon2, Block, Params, PasswordHash, PasswordVerifier, Version,
    password_hash::{Output, ParamsString, SaltString},
};
use domain::values::Password;
use tokio::sync::Semaphore;

use crate::settings::HashQueue;

const MEMORY_KIB: u32 = 19_456;
const ITERATIONS: u32 = 2;
const PARALLELISM: u32 = 1;

fn params() -> Params {
    Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, None)
        .expect("argon2 parameters are valid constants")
}

fn argon2() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params())
}

/// Hashes allowed to run at once: one per core the process may use (the standard library reads
/// the container's CPU quota). More hashes than cores would only share the CPU while each held
/// its memory, so a burst of sign-ins waits here, in a queue that costs nothing.
static HASH_PERMITS: LazyLock<Semaphore> = LazyLock::new(|| Semaphore::new(cores()));

/// How long the queue in front of the permits may get; set once at start-up.
static QUEUE_BOUND: OnceLock<HashQueue> = OnceLock::new();

/// Hashes waiting for a permit right now.
static WAITING: AtomicUsize = AtomicUsize::new(0);

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, NonZero::get)
}

/// Sets the queue bound; the first call wins (several test servers share one process).
pub fn bound_queue(queue: HashQueue) {
    let _ = QUEUE_BOUND.set(queue);
}

fn queue_bound() -> HashQueue {
    *QUEUE_BOUND.get_or_init(HashQueue::default)
}

/// Why a hash did not run.
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    /// Too many hashes wait already, or this one waited too long: shed with 503.
    #[error("password hashing is saturated")]
    Busy,
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
}

/// Leaves the waiting count when the wait ends, however it ends.
struct Waiting;

impl Waiting {
    fn join(bound: usize) -> Option<Self> {
        let joined = WAITING
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < bound).then(|| n + 1)
            })
            .is_ok();
        // Never built on refusal: a `Waiting` made and dropped then would leave without having
        // joined, and the count would wrap below zero, shedding every hash from then on.
        if joined { Some(Self) } else { None }
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        WAITING.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Working memory of finished hashes, handed to the next one. Never holds more buffers than
/// there are permits, because only a permit holder takes one out.
static SPARE_MEMORY: Mutex<Vec<Box<[Block]>>> = Mutex::new(Vec::new());

/// Runs `hash` with a buffer of 1 KiB blocks, one per KiB of `MEMORY_KIB`.
fn with_memory<T>(hash: impl FnOnce(&mut [Block]) -> T) -> T {
    let blocks = params().block_count();
    // A poisoned lock only means a hash panicked while pushing or popping a plain value.
    let spare = SPARE_MEMORY.lock().ok().and_then(|mut spare| spare.pop());
    let mut memory = spare.unwrap_or_else(|| vec![Block::default(); blocks].into_boxed_slice());
    let result = hash(&mut memory);
    if let Ok(mut spare) = SPARE_MEMORY.lock() {
        spare.push(memory);
    }
    result
}

/// What a hash is for, which decides how much of the queue it may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Work {
    /// Checking a password someone has: sign-in, re-authentication.
    Check,
    /// Hashing a new password: sign-up, password change.
    NewPassword,
}

/// Runs `work` on the blocking pool under a hash permit, in the caller's span. The permit moves
/// into the blocking task, so a request dropped while hashing still holds it until the hash is
/// done.
async fn hash_permitted<T: Send + 'static>(
    kind: Work,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, HashError> {
    let bound = queue_bound();
    let places = bound.waiting_per_core.saturating_mul(cores());
    let places = match kind {
        Work::Check => places,
        Work::NewPassword => places.div_ceil(2),
    };
    let permit = match HASH_PERMITS.try_acquire() {
        Ok(permit) => permit,
        Err(_) => {
            let waiting = Waiting::join(places).ok_or(HashError::Busy)?;
            let permit = tokio::time::timeout(bound.max_wait, HASH_PERMITS.acquire())
                .await
                .map_err(|_| HashError::Busy)?
                .context("the hash permits are closed")?;
            drop(waiting);
            permit
        }
    };
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        let _entered = span.enter();
        work()
    })
    .await
    .context("password hashing task")
    .map_err(HashError::from)
}

/// The raw argon2id output of `password` with `salt`, `len` bytes long.
fn raw_hash(password: &[u8], salt: &[u8], len: usize) -> anyhow::Result<Output> {
    let mut out = vec![0_u8; len];
    with_memory(|memory| argon2().hash_password_into_with_memory(password, salt, &mut out, memory))
        .map_err(|e| anyhow::anyhow!("hashing a password: {e}"))?;
    Output::new(&out).map_err(|e| anyhow::anyhow!("argon2 output: {e}"))
}

/// PHC string (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`) of a fresh hash of `password`.
fn hash_now(password: &[u8]) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    let mut salt_bytes = [0_u8; 64];
    let raw_salt = salt
        .as_salt()
        .decode_b64(&mut salt_bytes)
        .map_err(|e| anyhow::anyhow!("salt: {e}"))?;
    let output = raw_hash(password, raw_salt, Params::DEFAULT_OUTPUT_LEN)?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params()).map_err(|e| anyhow::anyhow!("params: {e}"))?,
        salt: Some(salt.as_salt()),
        hash: Some(output),
    };
    Ok(phc.to_string())
}

/// Whether `candidate` hashes to `phc_hash`. A hash with this release's algorithm and cost takes
/// the reused memory; any other (none is written today) the library's own path.
fn verify_now(candidate: &[u8], phc_hash: &str) -> anyhow::Result<bool> {
    let parsed = PasswordHash::new(phc_hash)
        .map_err(|e| anyhow::anyhow!("stored hash is not a PHC string: {e}"))?;
    let ours = params();
    let same_cost = Params::try_from(&parsed).is_ok_and(|p| {
        (p.m_cost(), p.t_cost(), p.p_cost()) == (ours.m_cost(), ours.t_cost(), ours.p_cost())
    });
    let current = parsed.algorithm == Algorithm::Argon2id.ident()
        && parsed.version == Some(Version::V0x13.into())
        && same_cost;
    let (Some(salt), Some(expected), true) = (parsed.salt, parsed.hash, current) else {
        return Ok(argon2().verify_password(candidate, &parsed).is_ok());
    };
    let mut salt_bytes = [0_u8; 64];
    let raw_salt = salt
        .decode_b64(&mut salt_bytes)
        .map_err(|e| anyhow::anyhow!("stored salt: {e}"))?;
    // `Output`'s equality is constant-time.
    Ok(raw_hash(candidate, raw_salt, expected.len())? == expected)
}

/// PHC string of a fresh hash of `password`.
pub async fn hash(password: Password) -> Result<String, HashError> {
    Ok(hash_permitted(Work::NewPassword, move || {
        hash_now(password.expose().as_bytes())
    })
    .await??)
}

/// Whether `candidate` matches `phc_hash`. Takes the same time whether it matches or not.
pub async fn verify(candidate: String, phc_hash: String) -> Result<bool, HashError> {
    Ok(hash_permitted(Work::Check, move || {
        verify_now(candidate.as_bytes(), &phc_hash)
    })
    .await??)
}

/// A hash of a random password, verified against when an email is unknown so that an unknown
/// address and a wrong password cost the same time.
pub async fn decoy_hash() -> anyhow::Result<String> {
    let random: [u8; 24] = rand::random();
    let password = Password::parse(&hex::encode(random))
        .map_err(|e| anyhow::anyhow!("decoy password: {e}"))?;
    Ok(hash(password).await?)
}

#[cfg(test)]
mod tests {
    use argon2::PasswordHasher;

    use super::*;

    #[test]
    fn a_refused_place_in_the_queue_leaves_the_waiting_count_alone() {
        // Other tests may hold a place or two meanwhile; a thousand refusals that each took one
        // away would wrap the count far past that.
        for _ in 0..1000 {
            assert!(Waiting::join(0).is_none());
        }
        assert!(WAITING.load(Ordering::Acquire) < 1000);
    }

    #[test]
    fn a_hash_verifies_with_the_library_and_the_library_s_hash_verifies_here() {
        let ours = hash_now(b"correct horse battery").unwrap();
        assert!(ours.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(
            argon2()
                .verify_password(b"correct horse battery", &parsed)
                .is_ok()
        );

        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        let theirs = argon2()
            .hash_password(b"correct horse battery", &salt)
            .unwrap()
            .to_string();
        assert!(verify_now(b"correct horse battery", &theirs).unwrap());
        assert!(!verify_now(b"correct horse battery!", &theirs).unwrap());
    }

    #[test]
    fn a_hash_of_other_parameters_still_verifies() {
        let cheaper = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8_192, 1, 1, None).unwrap(),
        );
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        let stored = cheaper
            .hash_password(b"older password", &salt)
            .unwrap()
            .to_string();
        assert!(verify_now(b"older password", &stored).unwrap());
        assert!(!verify_now(b"other password", &stored).unwrap());
    }

    #[test]
    fn a_wrong_password_does_not_verify_and_a_broken_hash_is_an_error() {
        let stored = hash_now(b"the right one").unwrap();
        assert!(!verify_now(b"the wrong one", &stored).unwrap());
        assert!(verify_now(b"the right one", "not a phc string").is_err());
    }
}
