//! The user record as the API shows it (`openapi.yaml`'s `User`), its load
//! from Postgres, and its cached read (`user:{id}`, 600 s by default,
//! `user_cache_seconds`; 0 switches the cache off).
//!
//! The cached entry also carries the user's sessions (refresh families)
//! revoked recently enough that access tokens issued in them may still be
//! unexpired: the token check refuses those at once, so a logout, a
//! password change or a detected refresh-token replay ends every access
//! token of the session, not only the one presented. Whatever revokes a
//! session or changes a user invalidates the entry.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::cache::Cache;
use crate::db::Db;
use crate::domain::Role;
use crate::{Problem, config, rfc3339};

pub const DEFAULT_CACHE_SECONDS: u64 = 600;

/// Never carries the password hash: it is not selected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub created_at: String,
    pub updated_at: String,
    /// When the user followed a verification (or reset) link; `null` until
    /// then. `default`: entries cached before the field existed still read.
    #[serde(default)]
    pub email_verified_at: Option<String>,
    /// Whether signing in asks for a TOTP code (two-factor sign-in is on).
    #[serde(default)]
    pub totp_enabled: bool,
}

/// The columns of [`User`], for `SELECT` lists over `users` or a CTE of its
/// rows. `totp_enabled`'s bare `id` is the user's: `totp_factors` has no
/// `id` column (migration 0006 says so).
pub const USER_COLUMNS: &str = concat!(
    "id::text AS id, email, name, role, ",
    rfc3339!("created_at"),
    " AS created_at, ",
    rfc3339!("updated_at"),
    " AS updated_at, ",
    rfc3339!("email_verified_at"),
    " AS email_verified_at, EXISTS (SELECT 1 FROM totp_factors tf ",
    "WHERE tf.user_id = id AND tf.confirmed_at IS NOT NULL) AS totp_enabled"
);

/// What is cached under `user:{id}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CachedUser {
    pub user: User,
    pub revoked_sessions: Vec<Uuid>,
}

pub fn cache_key(id: Uuid) -> String {
    format!("user:{id}")
}

/// Seconds a cached user stays fresh.
pub fn cache_seconds() -> Result<u64, Problem> {
    config::parsed("user_cache_seconds", DEFAULT_CACHE_SECONDS)
}

/// Users from a result whose columns are [`USER_COLUMNS`].
pub fn users_from(rows: &spin_sdk::pg4::RowSet) -> Result<Vec<User>, Problem> {
    rows.rows()
        .map(|row| {
            let user = (|| {
                Some(User {
                    id: Uuid::parse_str(&row.get::<String>("id")?).ok()?,
                    email: row.get("email")?,
                    name: row.get("name")?,
                    role: Role::parse(&row.get::<String>("role")?).ok()?,
                    created_at: row.get("created_at")?,
                    updated_at: row.get("updated_at")?,
                    email_verified_at: row.get::<Option<String>>("email_verified_at")?,
                    totp_enabled: row.get::<bool>("totp_enabled")?,
                })
            })();
            user.ok_or_else(|| {
                eprintln!("users: a row does not decode as a user");
                Problem::internal()
            })
        })
        .collect()
}

/// The active user `id`, from Postgres.
pub fn load(db: &Db, id: Uuid) -> Result<Option<User>, Problem> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1 AND active");
    let rows = db.rows(&sql, &[crate::db::uuid_param(id)])?;
    Ok(users_from(&rows)?.into_iter().next())
}

/// The active user `id` and their recently revoked sessions, from Postgres.
fn load_cached(db: &Db, id: Uuid) -> Result<Option<CachedUser>, Problem> {
    // An access token outlives its session's revocation by at most its own
    // lifetime plus the leeway.
    let window = config::parsed(
        "access_token_ttl_seconds",
        crate::token::DEFAULT_TTL_SECONDS,
    )? + crate::token::LEEWAY_SECONDS;
    // One round trip: the user and, as one text column, those sessions.
    let sql = format!(
        "SELECT {USER_COLUMNS}, \
           (SELECT string_agg(f.id::text, ',') FROM refresh_families f \
            WHERE f.user_id = users.id \
              AND f.revoked_at > now() - make_interval(secs => $2::bigint)) AS revoked_sessions \
         FROM users WHERE id = $1 AND active"
    );
    let rows = db.rows(
        &sql,
        &[
            crate::db::uuid_param(id),
            crate::db::int_param(window as i64),
        ],
    )?;
    let revoked: Option<String> = rows
        .rows()
        .next()
        .and_then(|row| row.get::<Option<String>>("revoked_sessions"))
        .flatten();
    let Some(user) = users_from(&rows)?.into_iter().next() else {
        return Ok(None);
    };
    let revoked_sessions = revoked
        .iter()
        .flat_map(|list| list.split(','))
        .filter_map(|id| Uuid::parse_str(id).ok())
        .collect();
    Ok(Some(CachedUser {
        user,
        revoked_sessions,
    }))
}

/// The active user `id` (with their revoked sessions), through the cache.
pub fn cached(cache: &Cache, db: &Db, id: Uuid) -> Result<Option<CachedUser>, Problem> {
    cache.get_or_load(&cache_key(id), cache_seconds()?, || load_cached(db, id))
}

/// Drops the cached copy of `id`: call after every successful write to the
/// user, before responding.
pub fn invalidate(cache: &Cache, id: Uuid) {
    if !cache.invalidate(&cache_key(id)) {
        // Bounded by the entry's own expiry; see ARCHITECTURE.md, "Cache".
        eprintln!("users: cannot invalidate the cached copy of a user (key-value store down)");
    }
}
