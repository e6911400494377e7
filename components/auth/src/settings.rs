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
