//! One user's data key: seals and opens the personal fields of their events.

use chacha20poly1305::{
    KeyInit, XChaCha20Poly1305, XNonce,
    aead::{Aead, Payload},
};
use rand::{RngCore, rngs::OsRng};
use uuid::Uuid;

pub(crate) const KEY_LEN: usize = 32;
/// XChaCha20's 192-bit nonce: drawn at random for every seal, never repeated in practice.
pub(crate) const NONCE_LEN: usize = 24;

/// A 256-bit XChaCha20-Poly1305 key. Printed as `DataKey(..)` only.
#[derive(Clone)]
pub struct DataKey(XChaCha20Poly1305);

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(..)")
    }
}

impl DataKey {
    pub(crate) fn from_bytes(raw: &[u8; KEY_LEN]) -> Self {
        Self(XChaCha20Poly1305::new(&(*raw).into()))
    }

    /// `nonce || ciphertext` of `plaintext`, bound to the stream and the event type: a sealed
    /// field copied into another user's event, or into another type, does not open.
    pub fn seal(&self, stream_id: Uuid, event_type: &str, plaintext: &[u8]) -> Vec<u8> {
        let mut nonce = [0_u8; NONCE_LEN];
        OsRng.fill_bytes(&mut nonce);
        let aad = associated_data(stream_id, event_type);
        let ciphertext = self
            .0
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: plaintext,
                    aad: &aad,
                },
            )
            .expect("XChaCha20-Poly1305 encrypts any message shorter than 256 GiB");
        let mut sealed = nonce.to_vec();
        sealed.extend_from_slice(&ciphertext);
        sealed
    }

    /// The plaintext of [`DataKey::seal`]'s output; `None` if it was altered or sealed for
    /// another stream, event type or key.
    pub fn open(&self, stream_id: Uuid, event_type: &str, sealed: &[u8]) -> Option<Vec<u8>> {
        if sealed.len() < NONCE_LEN {
            return None;
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().ok()?;
        let aad = associated_data(stream_id, event_type);
        self.0
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: ciphertext,
                    aad: &aad,
                },
            )
            .ok()
    }
}

fn associated_data(stream_id: Uuid, event_type: &str) -> Vec<u8> {
    let mut aad = stream_id.as_bytes().to_vec();
    aad.extend_from_slice(event_type.as_bytes());
    aad
}
