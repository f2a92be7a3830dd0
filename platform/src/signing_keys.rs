//! Ed25519 keys for access tokens. command-api holds the private keys (`CC_AUTH__SIGNING_KEYS`,
//! one or more PKCS#8 PEM blocks); everything that only verifies holds the public keys as a JWK
//! set (`CC_AUTH__JWKS`, the document command-api serves at `/.well-known/jwks.json`).
//!
//! Each key's `kid` is its RFC 7638 thumbprint, so nobody names keys by hand and a verifier can
//! never confuse two. The first private key signs; every key listed verifies. Rotation is three
//! deploys: add the new key second (and to every verifier's JWK set), move it first, and drop the
//! old one once the longest-lived token it signed has expired.

use anyhow::{Context, bail};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use ed25519_dalek::{
    SigningKey,
    pkcs8::{DecodePrivateKey, EncodePrivateKey, spki::der::pem::LineEnding},
};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

const PEM_BEGIN: &str = "-----BEGIN PRIVATE KEY-----";
const PEM_END: &str = "-----END PRIVATE KEY-----";

/// One public key as a JWK (RFC 8037 `OKP` / `Ed25519`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicJwk {
    pub kty: String,
    pub crv: String,
    /// The public key, base64url without padding.
    pub x: String,
    pub kid: String,
    pub alg: String,
    #[serde(rename = "use")]
    pub use_: String,
}

/// A JWK set of public keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwks {
    pub keys: Vec<PublicJwk>,
}

impl Jwks {
    pub fn parse(json: &str) -> anyhow::Result<Self> {
        let jwks: Self = serde_json::from_str(json).context("the JWK set is not valid JSON")?;
        if jwks.keys.is_empty() {
            bail!("the JWK set holds no key");
        }
        for key in &jwks.keys {
            if key.kty != "OKP" || key.crv != "Ed25519" {
                bail!("key {} is not an Ed25519 key", key.kid);
            }
            if key.kid != thumbprint(&key.x) {
                bail!("key {} does not carry its own thumbprint as kid", key.kid);
            }
        }
        Ok(jwks)
    }
}

/// The private keys, the signing one first. Never printed.
pub struct SigningKeys {
    keys: Vec<(SigningKey, String)>,
}

impl std::fmt::Debug for SigningKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kids: Vec<&str> = self.keys.iter().map(|(_, kid)| kid.as_str()).collect();
        f.debug_struct("SigningKeys").field("kids", &kids).finish()
    }
}

impl SigningKeys {
    /// Every PKCS#8 PEM block of `bundle`, in order.
    pub fn from_pem_bundle(bundle: &SecretString) -> anyhow::Result<Self> {
        let mut keys = Vec::new();
        let mut rest: &str = bundle.expose_secret();
        while let Some(start) = rest.find(PEM_BEGIN) {
            let end = rest[start..]
                .find(PEM_END)
                .map(|at| start + at + PEM_END.len())
                .context("a PEM block is not closed")?;
            let key = SigningKey::from_pkcs8_pem(&rest[start..end])
                .map_err(|e| anyhow::anyhow!("signing key {}: {e}", keys.len() + 1))?;
            let kid = thumbprint(&public_x(&key));
            keys.push((key, kid));
            rest = &rest[end..];
        }
        if keys.is_empty() {
            bail!("no PKCS#8 PEM private key (`-----BEGIN PRIVATE KEY-----`) found");
        }
        Ok(Self { keys })
    }

    /// A new random key as a PKCS#8 PEM block.
    pub fn generate_pem() -> anyhow::Result<String> {
        let key = SigningKey::generate(&mut rand::rngs::OsRng);
        let pem = key
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| anyhow::anyhow!("encoding a key: {e}"))?;
        Ok(pem.to_string())
    }

    /// The `kid` and PKCS#8 DER of the key that signs.
    pub(crate) fn signer(&self) -> anyhow::Result<(String, Vec<u8>)> {
        let (key, kid) = &self.keys[0];
        let der = key
            .to_pkcs8_der()
            .map_err(|e| anyhow::anyhow!("encoding the signing key: {e}"))?;
        Ok((kid.clone(), der.as_bytes().to_vec()))
    }

    /// The public half of every key.
    pub fn jwks(&self) -> Jwks {
        Jwks {
            keys: self
                .keys
                .iter()
                .map(|(key, kid)| PublicJwk {
                    kty: "OKP".to_owned(),
                    crv: "Ed25519".to_owned(),
                    x: public_x(key),
                    kid: kid.clone(),
                    alg: "EdDSA".to_owned(),
                    use_: "sig".to_owned(),
                })
                .collect(),
        }
    }

    /// Bytes only the holder of the keys knows, for deriving other server keys from.
    pub fn secret_seed(&self) -> [u8; 32] {
        self.keys[0].0.to_bytes()
    }
}

fn public_x(key: &SigningKey) -> String {
    URL_SAFE_NO_PAD.encode(key.verifying_key().to_bytes())
}

/// RFC 7638: SHA-256 of the required members in lexical order, without spaces.
fn thumbprint(x: &str) -> String {
    let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#);
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bundle_of_two_keys_signs_with_the_first_and_publishes_both() {
        let first = SigningKeys::generate_pem().unwrap();
        let second = SigningKeys::generate_pem().unwrap();
        let keys = SigningKeys::from_pem_bundle(&SecretString::from(format!("{first}\n{second}")))
            .unwrap();
        let jwks = keys.jwks();
        assert_eq!(jwks.keys.len(), 2);
        assert_ne!(jwks.keys[0].kid, jwks.keys[1].kid);
        assert_eq!(keys.signer().unwrap().0, jwks.keys[0].kid);
        let json = serde_json::to_string(&jwks).unwrap();
        assert_eq!(Jwks::parse(&json).unwrap(), jwks);
        assert!(!format!("{keys:?}").contains("PRIVATE"));
    }

    #[test]
    fn rfc_8037_appendix_a_thumbprint() {
        // The public key of RFC 8037 A.1 and its thumbprint from A.3.
        assert_eq!(
            thumbprint("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"),
            "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
        );
    }

    #[test]
    fn garbage_and_forged_kids_are_refused() {
        assert!(
            SigningKeys::from_pem_bundle(&SecretString::from("nothing here".to_owned())).is_err()
        );
        let keys =
            SigningKeys::from_pem_bundle(&SecretString::from(SigningKeys::generate_pem().unwrap()))
                .unwrap();
        let mut jwks = keys.jwks();
        jwks.keys[0].kid = "chosen-by-hand".to_owned();
        assert!(Jwks::parse(&serde_json::to_string(&jwks).unwrap()).is_err());
        assert!(Jwks::parse(r#"{"keys":[]}"#).is_err());
    }
}
