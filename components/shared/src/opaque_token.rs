//! Opaque bearer tokens: 256 random bits, base64url (43 characters), given
//! to the client once and stored only as their SHA-256. High entropy makes a
//! fast hash enough (nothing to brute-force), and a lookup by hash is exact.
//! Refresh tokens and the tokens in mailed links are these.

use crate::Problem;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

const TOKEN_BYTES: usize = 32;

/// A token as the client holds it.
pub struct OpaqueToken(String);

impl OpaqueToken {
    pub fn generate() -> Result<Self, Problem> {
        let bytes = crate::random::bytes::<TOKEN_BYTES>()?;
        Ok(OpaqueToken(URL_SAFE_NO_PAD.encode(bytes)))
    }

    /// A token a client sent, if it has the shape of one we issue (anything
    /// else cannot be in the table).
    pub fn parse(raw: &str) -> Option<Self> {
        let bytes = URL_SAFE_NO_PAD.decode(raw.as_bytes()).ok()?;
        (bytes.len() == TOKEN_BYTES).then(|| OpaqueToken(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// What is stored: the token itself never is.
    pub fn hash(&self) -> Vec<u8> {
        Sha256::digest(self.0.as_bytes()).to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_256_bits_of_base64url() {
        let token = OpaqueToken::generate().unwrap();
        assert_eq!(token.expose().len(), 43);
        assert!(OpaqueToken::parse(token.expose()).is_some());
        assert_ne!(token.expose(), OpaqueToken::generate().unwrap().expose());
        assert_eq!(token.hash().len(), 32);
    }

    #[test]
    fn anything_else_is_not_a_token() {
        for bad in [
            "",
            "abc",
            "not base64 at all!!",
            &"A".repeat(44),
            &"A".repeat(42),
        ] {
            assert!(OpaqueToken::parse(bad).is_none(), "{bad:?}");
        }
    }
}
