//! Changes to a user that the user's open pages hear about: the `UPDATE`
//! and its `user.updated` event (to the changed user, whoever changed them)
//! are one statement, so neither exists without the other.

use spin_sdk::pg4::ParameterValue;
use spinstack_shared::Problem;
use spinstack_shared::db::Db;
use spinstack_shared::events::{self, USER_UPDATED};
use spinstack_shared::users::{USER_COLUMNS, User, users_from};

/// Runs `update` (an `UPDATE users ... RETURNING *`) after the CTEs in
/// `before` (`name AS (...), ` each, or empty), records `user.updated` with
/// the user as the API shows them, and returns that user (`None`: no row
/// matched).
pub fn update_user(
    db: &Db,
    before: &str,
    update: &str,
    params: &[ParameterValue],
) -> Result<Option<User>, Problem> {
    let with = format!(
        "{before}changed AS ({update}), \
         shown AS (SELECT {USER_COLUMNS} FROM changed), \
         announced AS ({})",
        events::insert_from(
            USER_UPDATED,
            "shown",
            "shown.id::uuid",
            "jsonb_build_object('user', to_jsonb(shown))"
        )
    );
    let rows = db.rows_with(&with, "SELECT * FROM shown", params)?;
    Ok(users_from(&rows)?.into_iter().next())
}

/// `UPDATE refresh_families ...` (`RETURNING id, user_id`) as one statement
/// with a `session.revoked` event for each session it ends.
pub fn revoke_sessions(db: &Db, update: &str, params: &[ParameterValue]) -> Result<(), Problem> {
    let sql = format!(
        "WITH revoked AS ({update}) {}",
        events::sessions_revoked_from("revoked")
    );
    db.execute(&sql, params)?;
    Ok(())
}
