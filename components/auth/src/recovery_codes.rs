//! Recovery codes: ten single-use codes shown once when two-factor sign-in
//! is confirmed, for a lost authenticator. Each is 10 characters of
//! Crockford's base32 (50 random bits; no i, l, o or u to misread), shown as
//! `xxxxx-xxxxx`, and stored only as the SHA-256 of its normalised form:
//! behind the per-account attempt limit a fast hash is enough.

use sha2::{Digest, Sha256};
use spinstack_shared::Problem;

pub const COUNT: usize = 10;
const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
const LENGTH: usize = 10;

/// A code as the user holds it.
pub struct RecoveryCode(String);

impl RecoveryCode {
    pub fn generate() -> Result<Self, Problem> {
        let bytes = spinstack_shared::random::bytes::<LENGTH>()?;
        // 256 is a multiple of 32: masking keeps the symbols uniform.
        let code = bytes
            .iter()
            .map(|b| ALPHABET[(b & 31) as usize] as char)
            .collect();
        Ok(RecoveryCode(code))
    }

    /// What the user typed, if it has the shape of a code: case, spaces
    /// and dashes are forgiven.
    pub fn parse(raw: &str) -> Option<Self> {
        let code: String = raw
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .map(|c| c.to_ascii_lowercase())
            .collect();
        (code.len() == LENGTH && code.bytes().all(|b| ALPHABET.contains(&b)))
            .then_some(RecoveryCode(code))
    }

    /// `xxxxx-xxxxx`.
    pub fn display(&self) -> String {
        format!("{}-{}", &self.0[..LENGTH / 2], &self.0[LENGTH / 2..])
    }

    pub fn hash(&self) -> Vec<u8> {
        Sha256::digest(self.0.as_bytes()).to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shown_code_parses_back_to_the_same_hash() {
        let code = RecoveryCode::generate().unwrap();
        let shown = code.display();
        assert_eq!(shown.len(), 11);
        let typed = format!(" {} ", shown.to_uppercase().replace('-', " - "));
        assert_eq!(RecoveryCode::parse(&typed).unwrap().hash(), code.hash());
        assert_ne!(RecoveryCode::generate().unwrap().hash(), code.hash());
    }

    #[test]
    fn other_shapes_are_not_codes() {
        for bad in ["", "abcde-abcd", "abcde-abcdef", "abcde-abcdi", "123456"] {
            assert!(RecoveryCode::parse(bad).is_none(), "{bad}");
        }
    }
}
