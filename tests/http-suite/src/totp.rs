//! RFC 6238 codes for the tests (this suite's and the host's), as an
//! authenticator app makes them from the enrolment's base32 secret: HMAC-SHA-1 over the 30 s step, dynamic
//! truncation, 6 digits. Written here from the RFC, not with the auth
//! component's crate, so the two check each other.

use std::time::{SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use sha1::Sha1;

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The code for `base32_secret` at Unix time `at`.
pub fn code_at(base32_secret: &str, at: u64) -> String {
    let key = base32::decode(base32::Alphabet::Rfc4648 { padding: false }, base32_secret)
        .expect("a base32 secret");
    let mut mac = <Hmac<Sha1> as Mac>::new_from_slice(&key).unwrap();
    mac.update(&(at / 30).to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = (digest[19] & 0x0f) as usize;
    let value = u32::from_be_bytes(digest[offset..offset + 4].try_into().unwrap()) & 0x7fff_ffff;
    format!("{:06}", value % 1_000_000)
}

#[cfg(test)]
mod tests {
    #[test]
    fn rfc_6238_sha1_vector() {
        // Appendix B: key "12345678901234567890", T = 59 s → 94287082 (8 digits).
        let secret = base32::encode(
            base32::Alphabet::Rfc4648 { padding: false },
            b"12345678901234567890",
        );
        assert_eq!(super::code_at(&secret, 59), "287082");
    }
}
