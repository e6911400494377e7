//! A user's TOTP factor in `totp_factors` (migration 0006), and the one
//! check every step that takes a code goes through (confirming an
//! enrolment, finishing a login, turning the factor off):
//!
//! - **Per-account limit**: after [`MAX_FAILURES`] wrong codes within
//!   [`FAILURE_WINDOW_SECONDS`] the account answers 429 until the window
//!   ends, whoever asks and from wherever (the gateway's auth zone limits
//!   each client address; this limits each account).
//! - **No replay**: a code is accepted only for a step later than the last
//!   one accepted, and recording the step is the same `UPDATE` as that
//!   check, so of two requests with one code exactly one succeeds.
//! - A recovery code, where allowed, is spent by one `UPDATE` the same way.

use spin_sdk::pg4::ParameterValue;
use spinstack_shared::db::{Db, bytes_param, int_param, str_param, uuid_param};
use spinstack_shared::{Problem, clock};
use uuid::Uuid;

use crate::recovery_codes::RecoveryCode;
use crate::sealed_secret::SealingKey;
use crate::totp;

pub const MAX_FAILURES: i64 = 5;
pub const FAILURE_WINDOW_SECONDS: i64 = 900;

/// A user's factor, its secret opened.
pub struct Factor {
    pub user_id: Uuid,
    secret: Vec<u8>,
    pub confirmed: bool,
    last_used_step: i64,
    /// Seconds until the per-account limit lifts, while it holds.
    locked_for: Option<i64>,
}

/// What a presented code was found to be.
pub enum Checked {
    Accepted,
    /// Wrong, replayed, or not a code: counted against the limit.
    Refused,
}

/// The factor of `user_id`, if it has one (confirmed or not).
pub fn load(db: &Db, key: &SealingKey, user_id: Uuid) -> Result<Option<Factor>, Problem> {
    let rows = db.rows(
        "SELECT secret_sealed, confirmed_at IS NOT NULL AS confirmed, last_used_step, \
           CASE WHEN failures >= $2 \
                 AND failures_since > now() - make_interval(secs => $3::bigint) \
             THEN ceil(extract(epoch FROM failures_since \
                    + make_interval(secs => $3::bigint) - now()))::bigint END AS locked_for \
         FROM totp_factors WHERE user_id = $1",
        &[
            uuid_param(user_id),
            int_param(MAX_FAILURES),
            int_param(FAILURE_WINDOW_SECONDS),
        ],
    )?;
    let Some(row) = rows.rows().next() else {
        return Ok(None);
    };
    let (Some(sealed), Some(confirmed), Some(last_used_step), Some(locked_for)) = (
        row.get::<Vec<u8>>("secret_sealed"),
        row.get::<bool>("confirmed"),
        row.get::<i64>("last_used_step"),
        row.get::<Option<i64>>("locked_for"),
    ) else {
        eprintln!("auth: a TOTP factor row does not decode");
        return Err(Problem::internal());
    };
    Ok(Some(Factor {
        user_id,
        secret: key.open(&sealed)?,
        confirmed,
        last_used_step,
        locked_for,
    }))
}

impl Factor {
    /// Checks `raw` (a 6-digit code, or with `recovery` a recovery code
    /// too) under the rules above; 429 while the account is limited.
    pub fn check(&self, db: &Db, raw: &str, recovery: bool) -> Result<Checked, Problem> {
        if let Some(seconds) = self.locked_for {
            return Err(too_many_attempts(seconds));
        }
        let accepted = if let Some(code) = totp::parse_code(raw) {
            match totp::matching_step(&self.secret, &code, clock::now_unix()) {
                Some(step) if (step as i64) > self.last_used_step => {
                    self.record_step(db, step as i64)?
                }
                _ => false,
            }
        } else if let Some(code) = RecoveryCode::parse(raw).filter(|_| recovery) {
            self.spend_recovery_code(db, &code)?
        } else {
            false
        };
        if accepted {
            Ok(Checked::Accepted)
        } else {
            self.record_failure(db)?;
            Ok(Checked::Refused)
        }
    }

    fn record_step(&self, db: &Db, step: i64) -> Result<bool, Problem> {
        changed(db.rows(
            "UPDATE totp_factors SET last_used_step = $2, failures = 0 \
             WHERE user_id = $1 AND last_used_step < $2 RETURNING user_id::text AS id",
            &[uuid_param(self.user_id), int_param(step)],
        )?)
    }

    fn spend_recovery_code(&self, db: &Db, code: &RecoveryCode) -> Result<bool, Problem> {
        let spent = db.rows_with(
            "spent AS (UPDATE totp_recovery_codes SET used_at = now() \
                       WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL \
                       RETURNING user_id), \
             reset AS (UPDATE totp_factors SET failures = 0 \
                       WHERE user_id IN (SELECT user_id FROM spent))",
            "SELECT user_id::text AS id FROM spent",
            &[uuid_param(self.user_id), bytes_param(code.hash())],
        )?;
        changed(spent)
    }

    /// One more wrong code: the window restarts once it has passed.
    fn record_failure(&self, db: &Db) -> Result<(), Problem> {
        let expired = "failures_since <= now() - make_interval(secs => $2::bigint)";
        db.execute(
            &format!(
                "UPDATE totp_factors SET \
                   failures = CASE WHEN {expired} THEN 1 ELSE failures + 1 END, \
                   failures_since = CASE WHEN {expired} THEN now() ELSE failures_since END \
                 WHERE user_id = $1"
            ),
            &[uuid_param(self.user_id), int_param(FAILURE_WINDOW_SECONDS)],
        )?;
        Ok(())
    }
}

fn changed(rows: spin_sdk::pg4::RowSet) -> Result<bool, Problem> {
    Ok(rows.rows().next().is_some())
}

/// 429 with `Retry-After`: the account's wrong-code limit holds.
pub fn too_many_attempts(seconds: i64) -> Problem {
    let mut problem = Problem::new(
        429,
        "Too Many Requests",
        "Too many wrong codes for this account: wait, then try again.",
    );
    problem.retry_after = Some(seconds.clamp(1, i64::from(u16::MAX)) as u16);
    problem
}

/// Parameters for storing recovery codes: `$first` is the user, `$first+1`
/// the hashes as comma-separated hex (one text parameter: Spin's Postgres
/// interface has no binary arrays), for [`store_recovery_codes_cte`].
pub fn recovery_code_params(user_id: Uuid, codes: &[RecoveryCode]) -> [ParameterValue; 2] {
    let hashes: Vec<String> = codes.iter().map(|c| hex(&c.hash())).collect();
    [uuid_param(user_id), str_param(hashes.join(","))]
}

/// CTEs replacing the user's recovery codes with the given ones, when the
/// CTE `guard` (the statement's change that shows them) has a row.
pub fn store_recovery_codes_cte(first: usize, guard: &str) -> String {
    let (user, hashes) = (first, first + 1);
    format!(
        "old_codes AS (DELETE FROM totp_recovery_codes \
                       WHERE user_id = ${user} AND EXISTS (SELECT 1 FROM {guard})), \
         new_codes AS (INSERT INTO totp_recovery_codes (user_id, code_hash) \
                       SELECT ${user}, decode(h, 'hex') \
                       FROM unnest(string_to_array(${hashes}, ',')) AS h \
                       WHERE EXISTS (SELECT 1 FROM {guard}))"
    )
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
