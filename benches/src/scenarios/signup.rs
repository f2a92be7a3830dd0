//! Sign-up: registrations per second through command-api, against the raw argon2id hash rate with
//! the same parameters on every core (the hash is the dominant cost by design).

use std::time::Instant;

use argon2::{Algorithm, Argon2, Params, PasswordHasher, Version, password_hash::SaltString};
use serde_json::json;

use crate::{
    load,
    scenarios::{Ceiling, Outcome, Size},
};

/// Hashes per second with `threads` threads hashing for `size.duration`.
fn argon2_rate(threads: usize, size: Size) -> f64 {
    let started = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            std::thread::spawn(move || {
                let params = Params::new(19_456, 2, 1, None).expect("valid argon2 parameters");
                let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
                let mut hashes = 0_u64;
                while started.elapsed() < size.duration {
                    let salt = SaltString::generate(&mut rand::rngs::OsRng);
                    let _ = argon2.hash_password(b"a-long-enough-password", &salt);
                    hashes += 1;
                }
                hashes
            })
        })
        .collect();
    let total: u64 = handles.into_iter().map(|h| h.join().unwrap_or(0)).sum();
    total as f64 / started.elapsed().as_secs_f64()
}

pub async fn run(command_api: &str, size: Size) -> anyhow::Result<Outcome> {
    let http = reqwest::Client::new();
    let url = format!("{command_api}/v1/users");
    let run_id = uuid::Uuid::new_v4().simple().to_string();
    let ours = load::run(size.concurrency, size.duration, move |worker, n| {
        let body = json!({
            "email": format!("bench-{run_id}-{worker}-{n}@example.com"),
            "password": "a-long-enough-password",
            "display_name": "Bench",
        });
        let request = http.post(&url).json(&body).send();
        async move { request.await.is_ok_and(|r| r.status().as_u16() == 201) }
    })
    .await;
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let ceiling = tokio::task::spawn_blocking(move || argon2_rate(cores, size)).await?;
    Ok(Outcome {
        scenario: "sign-up".to_owned(),
        description: format!(
            "POST /v1/users with unique emails, {} clients; ceiling: argon2id (m=19456 KiB, t=2, p=1) hashes/s on {cores} threads",
            size.concurrency
        ),
        ours_per_second: ours.throughput,
        ceilings: vec![Ceiling::new(
            format!("argon2id hashes, {cores} threads"),
            ceiling,
            ours.throughput,
            json!({ "threads": cores }),
        )],
        ours: serde_json::to_value(&ours)?,
        goal: ">= 0.9x argon2id",
        notes: vec![],
    })
}
