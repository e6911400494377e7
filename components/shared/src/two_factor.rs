//! What other components know of TOTP two-factor sign-in (its tables are
//! migration 0006; enrolment, checks and login are components/auth): how it
//! is removed (by the user, or reset by an admin).

/// `removed AS (...)`: the factor of user `$1` and its recovery codes
/// deleted; `RETURNING user_id` of the factor (none if it had none).
pub const REMOVE_CTE: &str = "removed AS (DELETE FROM totp_factors WHERE user_id = $1 \
     RETURNING user_id), \
     removed_codes AS (DELETE FROM totp_recovery_codes WHERE user_id = $1)";
