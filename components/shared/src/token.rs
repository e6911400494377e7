//! Access tokens: HS256 JWTs (RFC 9068 shape) made and checked with
//! `jwt-simple`.
//!
//! Every token carries `typ: at+jwt` in its header and `iss`, `aud`, `sub`
//! (user id), `jti`, `iat`, `nbf`, `exp` and `sid` (the refresh family it
//! belongs to, so logout and password changes can end one session). The
//! verifier knows exactly one algorithm: `HS256Key` refuses any other `alg`,
//! `none` included, before it looks at the signature.

use jwt_simple::prelude::*;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{Problem, config};

/// The JWT header's `typ` (RFC 9068 §2.1).
pub const TOKEN_TYPE: &str = "at+jwt";
/// Clock skew tolerated on `nbf`, `iat` and `exp`.
pub const LEEWAY_SECONDS: u64 = 30;
/// Tokens longer than this are refused unparsed.
pub const MAX_TOKEN_LEN: usize = 4096;
/// A shorter signing key is a configuration error.
pub const MIN_SECRET_LEN: usize = 32;

pub const DEFAULT_ISSUER: &str = "spinstack";
pub const DEFAULT_AUDIENCE: &str = "spinstack-api";
pub const DEFAULT_TTL_SECONDS: u64 = 15 * 60;

#[derive(Serialize, Deserialize)]
struct SessionClaim {
    sid: String,
}

/// What issuing and checking tokens needs, from the Spin variables
/// `jwt_secret` (secret), `jwt_issuer`, `jwt_audience` and
/// `access_token_ttl_seconds`.
pub struct TokenSettings {
    key: HS256Key,
    secret: Vec<u8>,
    issuer: String,
    audience: String,
    ttl_seconds: u64,
}

/// A freshly signed token.
pub struct IssuedToken {
    pub token: String,
    pub jti: Uuid,
    pub expires_in: u64,
}

/// The claims of a token that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedToken {
    pub user_id: Uuid,
    pub session_id: Uuid,
    pub jti: Uuid,
    pub expires_at: u64,
}

/// Why a token was refused: for the log and the tests, never for the client
/// (who gets the same 401 for all of them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenError {
    TooLong,
    /// Signature, algorithm, `typ`, `iss`, `aud`, time claims, or syntax.
    Rejected(String),
    /// Signed by us but missing a claim we always set.
    MissingClaim(&'static str),
}

impl TokenSettings {
    pub fn from_variables() -> Result<Self, Problem> {
        let secret = config::required("jwt_secret")?;
        let ttl_seconds = config::parsed("access_token_ttl_seconds", DEFAULT_TTL_SECONDS)?;
        Self::new(
            secret.as_bytes(),
            &config::or_default("jwt_issuer", DEFAULT_ISSUER),
            &config::or_default("jwt_audience", DEFAULT_AUDIENCE),
            ttl_seconds,
        )
        .map_err(|reason| {
            eprintln!("configuration: {reason}");
            Problem::internal()
        })
    }

    pub fn new(
        secret: &[u8],
        issuer: &str,
        audience: &str,
        ttl_seconds: u64,
    ) -> Result<Self, String> {
        if secret.len() < MIN_SECRET_LEN {
            return Err(format!(
                "jwt_secret must be at least {MIN_SECRET_LEN} bytes"
            ));
        }
        if ttl_seconds == 0 {
            return Err("access_token_ttl_seconds must be positive".into());
        }
        Ok(TokenSettings {
            key: HS256Key::from_bytes(secret),
            secret: secret.to_vec(),
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            ttl_seconds,
        })
    }

    pub fn ttl_seconds(&self) -> u64 {
        self.ttl_seconds
    }

    /// The signing key's bytes, for MACs that must change when it changes
    /// (the CSRF token).
    pub fn secret(&self) -> &[u8] {
        &self.secret
    }

    /// A new access token for `user_id` in session `session_id`.
    pub fn issue(&self, user_id: Uuid, session_id: Uuid) -> Result<IssuedToken, Problem> {
        let jti = Uuid::new_v4();
        let claims = Claims::with_custom_claims(
            SessionClaim {
                sid: session_id.to_string(),
            },
            Duration::from_secs(self.ttl_seconds),
        )
        .with_issuer(&self.issuer)
        .with_audience(&self.audience)
        .with_subject(user_id)
        .with_jwt_id(jti);
        let options = HeaderOptions {
            signature_type: Some(TOKEN_TYPE.to_owned()),
            ..Default::default()
        };
        let token = self
            .key
            .authenticate_with_options(claims, &options)
            .map_err(|e| {
                eprintln!("token: cannot sign: {e}");
                Problem::internal()
            })?;
        Ok(IssuedToken {
            token,
            jti,
            expires_in: self.ttl_seconds,
        })
    }

    /// Every check but revocation and the user's existence (those need the
    /// key-value store and the database: see [`crate::authenticate`]).
    pub fn verify(&self, token: &str) -> Result<VerifiedToken, TokenError> {
        self.verify_at(token, None)
    }

    /// [`Self::verify`] as if the time were `now` (tests).
    pub fn verify_at(&self, token: &str, now: Option<u64>) -> Result<VerifiedToken, TokenError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(TokenError::TooLong);
        }
        let options = VerificationOptions {
            required_signature_type: Some(TOKEN_TYPE.to_owned()),
            allowed_issuers: Some(HashSet::from([self.issuer.clone()])),
            allowed_audiences: Some(HashSet::from([self.audience.clone()])),
            time_tolerance: Some(Duration::from_secs(LEEWAY_SECONDS)),
            // Issued longer ago than we issue them for: refused even if its
            // `exp` says otherwise.
            max_validity: Some(Duration::from_secs(self.ttl_seconds + LEEWAY_SECONDS)),
            max_token_length: Some(MAX_TOKEN_LEN),
            artificial_time: now.map(UnixTimeStamp::from_secs),
            ..Default::default()
        };
        let claims = self
            .key
            .verify_token::<SessionClaim>(token, Some(options))
            .map_err(|e| TokenError::Rejected(e.to_string()))?;
        let user_id = claims
            .subject
            .as_deref()
            .and_then(|s| Uuid::parse_str(s).ok())
            .ok_or(TokenError::MissingClaim("sub"))?;
        let jti = claims
            .jwt_id
            .as_deref()
            .and_then(|s| Uuid::parse_str(s).ok())
            .ok_or(TokenError::MissingClaim("jti"))?;
        let session_id =
            Uuid::parse_str(&claims.custom.sid).map_err(|_| TokenError::MissingClaim("sid"))?;
        let expires_at = claims
            .expires_at
            .ok_or(TokenError::MissingClaim("exp"))?
            .as_secs();
        let issued_at = claims
            .issued_at
            .ok_or(TokenError::MissingClaim("iat"))?
            .as_secs();
        claims
            .invalid_before
            .ok_or(TokenError::MissingClaim("nbf"))?;
        // A lifetime longer than we ever issue means someone else chose it.
        if expires_at.saturating_sub(issued_at) > self.ttl_seconds + LEEWAY_SECONDS {
            return Err(TokenError::Rejected("lifetime longer than issued".into()));
        }
        Ok(VerifiedToken {
            user_id,
            session_id,
            jti,
            expires_at,
        })
    }
}

#[cfg(test)]
mod tests;
