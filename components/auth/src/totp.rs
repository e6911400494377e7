//! RFC 6238 time-based codes as authenticator apps make them: HMAC-SHA-1,
//! 6 digits, 30 s steps, and one step either side accepted for clock skew
//! and typing time. The algorithm is totp-rs's; this module adds what it
//! does not tell: *which* step a code matched, so the caller can refuse a
//! second use of that step (the replay rule, totp_factor.rs).

use totp_rs::{Algorithm, TOTP};

use spinstack_shared::Problem;

pub const STEP_SECONDS: u64 = 30;
pub const DIGITS: usize = 6;
/// 160 bits, RFC 4226's recommendation.
pub const SECRET_BYTES: usize = 20;

/// A fresh random secret.
pub fn generate_secret() -> Result<Vec<u8>, Problem> {
    Ok(spinstack_shared::random::bytes::<SECRET_BYTES>()?.to_vec())
}

fn totp(secret: Vec<u8>, issuer: &str, account: &str) -> Result<TOTP, Problem> {
    // The parameters are the constants above and a 160-bit secret, which
    // totp-rs accepts; the labels are checked (no ':') by the callers.
    TOTP::new(
        Algorithm::SHA1,
        DIGITS,
        0,
        STEP_SECONDS,
        secret,
        Some(issuer.to_owned()),
        account.to_owned(),
    )
    .map_err(|e| {
        eprintln!("auth: cannot set up TOTP: {e}");
        Problem::internal()
    })
}

/// The `otpauth://totp/...` URI an authenticator app scans (as a QR code)
/// or takes pasted; it carries the secret, so it is shown once.
pub fn otpauth_uri(secret: &[u8], issuer: &str, account: &str) -> Result<String, Problem> {
    // Labels may not hold ':' (the URI's issuer separator).
    let issuer = issuer.replace(':', " ");
    let account = account.replace(':', " ");
    Ok(totp(secret.to_vec(), &issuer, &account)?.get_url())
}

/// The base32 text of the secret, for typing into an app by hand.
pub fn secret_base32(secret: &[u8]) -> String {
    totp_rs::Secret::Raw(secret.to_vec())
        .to_encoded()
        .to_string()
}

/// A 6-digit code, spaces allowed ("123 456"), or `None`.
pub fn parse_code(raw: &str) -> Option<String> {
    let digits: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
    (digits.len() == DIGITS && digits.bytes().all(|b| b.is_ascii_digit())).then_some(digits)
}

/// The step (Unix time / 30) that `code` is right for, among the current
/// one and one either side of it at `now_unix`, preferring the current one.
pub fn matching_step(secret: &[u8], code: &str, now_unix: u64) -> Option<u64> {
    let totp = totp(secret.to_vec(), "x", "x").ok()?;
    let current = now_unix / STEP_SECONDS;
    [current, current.saturating_sub(1), current + 1]
        .into_iter()
        .find(|step| totp.check(code, step * STEP_SECONDS))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B's SHA-1 key, and its 8-digit vectors cut to
    /// their last 6 digits (the same truncation, fewer digits).
    const RFC_KEY: &[u8] = b"12345678901234567890";

    #[test]
    fn codes_match_rfc_6238_vectors_and_name_their_step() {
        for (time, code) in [
            (59, "287082"),
            (1111111109, "081804"),
            (1234567890, "005924"),
        ] {
            assert_eq!(
                matching_step(RFC_KEY, code, time),
                Some(time / 30),
                "{time}"
            );
        }
    }

    #[test]
    fn one_step_either_side_is_accepted_and_no_further() {
        let at = 1_234_567_890;
        let code = "005924"; // right for step at / 30
        assert_eq!(matching_step(RFC_KEY, code, at + 30), Some(at / 30));
        assert_eq!(matching_step(RFC_KEY, code, at - 30), Some(at / 30));
        assert_eq!(matching_step(RFC_KEY, code, at + 60), None);
        assert_eq!(matching_step(RFC_KEY, code, at - 60), None);
        assert_eq!(matching_step(RFC_KEY, "005925", at), None);
    }

    #[test]
    fn codes_parse_with_spaces_and_nothing_else() {
        assert_eq!(parse_code(" 123 456 ").as_deref(), Some("123456"));
        for bad in ["12345", "1234567", "12a456", "", "١٢٣٤٥٦"] {
            assert_eq!(parse_code(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_uri_carries_issuer_account_and_secret() {
        let uri = otpauth_uri(RFC_KEY, "Spin:stack", "ada@example.com").unwrap();
        assert!(
            uri.starts_with("otpauth://totp/Spin%20stack:ada%40example.com?"),
            "{uri}"
        );
        assert!(
            uri.contains(&format!("secret={}", secret_base32(RFC_KEY))),
            "{uri}"
        );
        assert_eq!(secret_base32(RFC_KEY), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
    }
}
