//! Mailed tokens: 32 random bytes from the operating system, written base64url without padding
//! (43 characters) in the mail and nowhere else; at rest only the SHA-256 of that text, which
//! is what command-api computes from the token it is shown.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use rand::{RngCore, rngs::OsRng};
use sha2::{Digest, Sha256};

/// A token on its way into one mail. `Debug` does not show it.
pub struct Token(String);

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

impl Token {
    /// 256 bits from the operating system's generator: unguessable, and too many to collide.
    pub fn draw() -> Self {
        let mut bytes = [0_u8; 32];
        OsRng.fill_bytes(&mut bytes);
        Self(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// The text that goes into the mail.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// What is stored: SHA-256 of the text.
    pub fn hash(&self) -> [u8; 32] {
        Sha256::digest(self.0.as_bytes()).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_43_url_safe_characters_and_never_the_same_twice() {
        let (a, b) = (Token::draw(), Token::draw());
        assert_eq!(a.expose().len(), 43);
        assert!(
            a.expose()
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        );
        assert_ne!(a.expose(), b.expose());
        assert_eq!(format!("{a:?}"), "Token(<redacted>)");
    }

    #[test]
    fn the_hash_is_sha256_of_the_text() {
        let token = Token("abc".to_owned());
        assert_eq!(
            hex_of(&token.hash()),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    fn hex_of(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }
}
