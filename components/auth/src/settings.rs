//! The auth component's own settings (the token settings are shared).

use spinstack_shared::{Problem, config};

use crate::refresh_tokens;

/// Seconds a refresh token (and so a session left alone) lives.
pub fn refresh_ttl_seconds() -> Result<u64, Problem> {
    config::parsed(
        "refresh_token_ttl_seconds",
        refresh_tokens::DEFAULT_TTL_SECONDS,
    )
}

/// Seconds a password reset link stays valid (30 minutes).
pub fn password_reset_ttl_seconds() -> Result<u64, Problem> {
    config::parsed("password_reset_ttl_seconds", 1800)
}

/// Seconds an address verification link stays valid (a day).
pub fn email_verification_ttl_seconds() -> Result<u64, Problem> {
    config::parsed("email_verification_ttl_seconds", 86400)
}

/// Whether an account must have verified its address to log in (`false`:
/// it may, and the web app shows a banner; README, "Accounts").
pub fn require_verified_email() -> Result<bool, Problem> {
    config::parsed("require_verified_email", false)
}
