//! TOTP secrets at rest: sealed with AES-256-GCM, so a database dump or
//! backup alone cannot mint codes. The key is `totp_encryption_key` (32+
//! bytes of text) or, left empty, derived from `jwt_secret` with HMAC under
//! a label of its own. Both go through the same derivation, so setting
//! `totp_encryption_key` to the current `jwt_secret` before rotating that
//! keeps the sealing key (README, "Two-factor sign-in (TOTP)").

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use spinstack_shared::{Problem, config};

const NONCE_BYTES: usize = 12;
const DERIVATION_LABEL: &[u8] = b"spinstack totp secret sealing key v1";

pub struct SealingKey(Aes256Gcm);

impl SealingKey {
    /// The key from the variables; `jwt_secret` is the token signing key's
    /// bytes, passed in so they are read once per request.
    pub fn from_variables(jwt_secret: &[u8]) -> Result<Self, Problem> {
        let configured = config::or_default("totp_encryption_key", "");
        let material = if configured.is_empty() {
            jwt_secret
        } else if configured.len() < 32 {
            eprintln!("auth: totp_encryption_key must be at least 32 bytes");
            return Err(Problem::internal());
        } else {
            configured.as_bytes()
        };
        Ok(Self::derive(material))
    }

    fn derive(material: &[u8]) -> Self {
        // HMAC takes a key of any length.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(material)
            .expect("HMAC accepts keys of any length");
        mac.update(DERIVATION_LABEL);
        let bytes = mac.finalize().into_bytes();
        SealingKey(Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&bytes)))
    }

    /// `nonce || ciphertext`, with a fresh random nonce.
    pub fn seal(&self, secret: &[u8]) -> Result<Vec<u8>, Problem> {
        let nonce = spinstack_shared::random::bytes::<NONCE_BYTES>()?;
        let sealed = self
            .0
            .encrypt(Nonce::from_slice(&nonce), secret)
            .map_err(|_| Problem::internal())?;
        Ok([nonce.as_slice(), &sealed].concat())
    }

    /// The secret, or an error if `sealed` was not sealed with this key
    /// (the key changed, or the row was tampered with).
    pub fn open(&self, sealed: &[u8]) -> Result<Vec<u8>, Problem> {
        if sealed.len() <= NONCE_BYTES {
            return Err(unopenable());
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_BYTES);
        self.0
            .decrypt(Nonce::from_slice(nonce), ciphertext)
            .map_err(|_| unopenable())
    }
}

fn unopenable() -> Problem {
    eprintln!(
        "auth: a TOTP secret does not open with the current key \
         (was jwt_secret or totp_encryption_key changed?)"
    );
    Problem::internal()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_secret_opens_with_its_key_only() {
        let key = SealingKey::derive(b"0123456789abcdef0123456789abcdef");
        let sealed = key.seal(b"twenty bytes secret!").unwrap();
        assert_ne!(&sealed[NONCE_BYTES..], b"twenty bytes secret!");
        assert_eq!(key.open(&sealed).unwrap(), b"twenty bytes secret!");
        assert_ne!(
            key.seal(b"x").unwrap(),
            key.seal(b"x").unwrap(),
            "fresh nonces"
        );

        let other = SealingKey::derive(b"another key another key another!");
        assert!(other.open(&sealed).is_err());
        let mut tampered = sealed.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert!(key.open(&tampered).is_err());
        assert!(key.open(&sealed[..NONCE_BYTES]).is_err());
    }
}
