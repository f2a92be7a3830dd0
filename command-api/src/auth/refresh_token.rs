//! Refresh tokens: 256 random bits, shown to the client once and stored only as their SHA-256.
//! A fast hash is enough here, unlike for passwords: nobody can guess 256 random bits, so a
//! leaked hash helps no one find the token.

use sha2::{Digest, Sha256};

/// Marks the token as ours for secret scanners and people reading logs.
const PREFIX: &str = "ccr_";

/// A new token and the hash to store for it.
pub fn generate() -> (String, Vec<u8>) {
    let random: [u8; 32] = rand::random();
    let token = format!("{PREFIX}{}", hex::encode(random));
    let hash = hash(&token);
    (token, hash)
}

/// The stored form of a presented token. Anything at all may be presented: a malformed token
/// hashes to something no stored row has.
pub fn hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_unique_prefixed_and_hash_to_what_is_stored() {
        let (first, stored) = generate();
        let (second, _) = generate();
        assert_ne!(first, second);
        assert!(first.starts_with(PREFIX) && first.len() == PREFIX.len() + 64);
        assert_eq!(hash(&first), stored);
        assert_ne!(hash(&second), stored);
    }
}
