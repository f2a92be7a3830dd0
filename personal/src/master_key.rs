//! The deployment's master key: wraps and unwraps the users' data keys.

use base64::{Engine, engine::general_purpose::STANDARD};
use chacha20poly1305::{
    KeyInit, XChaCha20Poly1305, XNonce,
    aead::{Aead, Payload},
};
use rand::{RngCore, rngs::OsRng};
use sha2::{Digest, Sha256};
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::data_key::{DataKey, KEY_LEN, NONCE_LEN};

/// The variable every service that reads or writes personal fields takes its master key from:
/// 32 random bytes, base64 (`openssl rand -base64 32`), from a Secret.
pub const MASTER_KEY_ENV: &str = "CC_PERSONAL_DATA__MASTER_KEY";

/// A 256-bit key that wraps data keys. Never printed, never stored beside what it wraps.
pub struct MasterKey {
    cipher: XChaCha20Poly1305,
    id: String,
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MasterKey").field("id", &self.id).finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MasterKeyError {
    #[error("{MASTER_KEY_ENV} is not set")]
    Missing,
    #[error("the master key is not base64")]
    NotBase64,
    #[error(
        "the master key has {0} bytes; it needs 32 (generate one with `openssl rand -base64 32`)"
    )]
    WrongLength(usize),
}

impl MasterKey {
    /// Reads the base64 form the Secret holds (32 random bytes).
    pub fn from_base64(text: &str) -> Result<Self, MasterKeyError> {
        let bytes = Zeroizing::new(
            STANDARD
                .decode(text.trim())
                .map_err(|_| MasterKeyError::NotBase64)?,
        );
        if bytes.len() != KEY_LEN {
            return Err(MasterKeyError::WrongLength(bytes.len()));
        }
        // A fingerprint, not the key: stored with every wrapped key so that a service started
        // with another master key says so instead of failing to open payloads one by one.
        let digest = Sha256::new()
            .chain_update(b"cloudcommerce master key id\0")
            .chain_update(&bytes[..])
            .finalize();
        let id = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
        Ok(Self {
            cipher: XChaCha20Poly1305::new_from_slice(&bytes)
                .map_err(|_| MasterKeyError::WrongLength(bytes.len()))?,
            id,
        })
    }

    /// Names this key in `es.personal_keys.master_key_id` (16 hex digits of a hash of it).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// A new data key for `user_id`, and its wrapped form to store.
    pub fn new_data_key(&self, user_id: Uuid) -> (DataKey, Vec<u8>) {
        let mut raw = Zeroizing::new([0_u8; KEY_LEN]);
        OsRng.fill_bytes(&mut raw[..]);
        let mut nonce = [0_u8; NONCE_LEN];
        OsRng.fill_bytes(&mut nonce);
        let ciphertext = self
            .cipher
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: &raw[..],
                    aad: user_id.as_bytes(),
                },
            )
            .expect("XChaCha20-Poly1305 encrypts any message shorter than 256 GiB");
        let mut wrapped = nonce.to_vec();
        wrapped.extend_from_slice(&ciphertext);
        (DataKey::from_bytes(&raw), wrapped)
    }

    /// The data key of `user_id` from its wrapped form; `None` if it was not wrapped by this key
    /// for this user (another master key, or a row copied to another user).
    pub fn unwrap_data_key(&self, user_id: Uuid, wrapped: &[u8]) -> Option<DataKey> {
        if wrapped.len() <= NONCE_LEN {
            return None;
        }
        let (nonce, ciphertext) = wrapped.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().ok()?;
        let raw = Zeroizing::new(
            self.cipher
                .decrypt(
                    &XNonce::from(nonce),
                    Payload {
                        msg: ciphertext,
                        aad: user_id.as_bytes(),
                    },
                )
                .ok()?,
        );
        let raw: &[u8; KEY_LEN] = raw.as_slice().try_into().ok()?;
        Some(DataKey::from_bytes(raw))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn master(byte: u8) -> MasterKey {
        MasterKey::from_base64(&STANDARD.encode([byte; KEY_LEN])).unwrap()
    }

    #[test]
    fn a_data_key_unwraps_only_for_its_user_under_its_master_key() {
        let user = Uuid::from_u128(1);
        let (key, wrapped) = master(7).new_data_key(user);
        let again = master(7).unwrap_data_key(user, &wrapped).unwrap();
        let sealed = key.seal(user, "user.registered", b"{}");
        assert_eq!(again.open(user, "user.registered", &sealed).unwrap(), b"{}");
        assert!(master(8).unwrap_data_key(user, &wrapped).is_none());
        assert!(
            master(7)
                .unwrap_data_key(Uuid::from_u128(2), &wrapped)
                .is_none()
        );
        assert!(master(7).unwrap_data_key(user, &wrapped[..10]).is_none());
    }

    #[test]
    fn only_32_bytes_of_base64_make_a_master_key() {
        assert_eq!(
            MasterKey::from_base64(&STANDARD.encode([1_u8; 16])).unwrap_err(),
            MasterKeyError::WrongLength(16)
        );
        assert_eq!(
            MasterKey::from_base64("not base64!").unwrap_err(),
            MasterKeyError::NotBase64
        );
        assert_ne!(master(1).id(), master(2).id());
        assert_eq!(master(1).id().len(), 16);
        assert!(!format!("{:?}", master(1)).contains(&STANDARD.encode([1_u8; KEY_LEN])));
    }
}
