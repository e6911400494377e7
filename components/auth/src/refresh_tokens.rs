//! Refresh tokens ([`spinstack_shared::opaque_token`]: 256 random bits, stored only as
//! their SHA-256). Each belongs to a family (a session); each
//! use spends it and adds the next to the family; a spent token used again
//! revokes the family (RFC 9700 §4.14).

use spinstack_shared::Problem;
use spinstack_shared::cache::Cache;
use spinstack_shared::db::{Db, bytes_param, int_param, uuid_param};
use spinstack_shared::events;
use spinstack_shared::users;
use uuid::Uuid;

pub const DEFAULT_TTL_SECONDS: u64 = 30 * 24 * 3600;
/// Refresh tokens are opaque tokens (shared with the mailed links).
pub use spinstack_shared::opaque_token::OpaqueToken as RefreshToken;

/// A session that a refresh succeeded in.
pub struct Rotation {
    pub user_id: Uuid,
    pub family_id: Uuid,
}

/// Starts a session (family) for `user_id` with its first token.
pub fn start_family(
    db: &Db,
    user_id: Uuid,
    token: &RefreshToken,
    ttl: u64,
) -> Result<Uuid, Problem> {
    let family_id = Uuid::new_v4();
    db.execute(
        "WITH family AS (INSERT INTO refresh_families (id, user_id) VALUES ($1, $2)) \
         INSERT INTO refresh_tokens (token_hash, family_id, expires_at) \
         VALUES ($3, $1, now() + make_interval(secs => $4::bigint))",
        &[
            uuid_param(family_id),
            uuid_param(user_id),
            bytes_param(token.hash()),
            int_param(ttl as i64),
        ],
    )?;
    Ok(family_id)
}

/// Spends `presented` and stores `next` in its family, in one statement: of
/// concurrent uses of one token exactly one finds it unspent (the others
/// wait for its row lock, then see it spent). `None` if the token is
/// unknown, expired, spent, or its family or user is gone; a spent token
/// also revokes its family.
pub fn rotate(
    db: &Db,
    presented: &RefreshToken,
    next: &RefreshToken,
    ttl: u64,
) -> Result<Option<Rotation>, Problem> {
    let rows = db.rows_with(
        "spent AS ( \
             UPDATE refresh_tokens t SET spent_at = now() \
             FROM refresh_families f JOIN users u ON u.id = f.user_id \
             WHERE t.token_hash = $1 AND t.spent_at IS NULL AND t.expires_at > now() \
               AND f.id = t.family_id AND f.revoked_at IS NULL AND u.active \
             RETURNING t.family_id, f.user_id), \
         added AS ( \
             INSERT INTO refresh_tokens (token_hash, family_id, expires_at) \
             SELECT $2, family_id, now() + make_interval(secs => $3::bigint) FROM spent)",
        "SELECT family_id::text AS family_id, user_id::text AS user_id FROM spent",
        &[
            bytes_param(presented.hash()),
            bytes_param(next.hash()),
            int_param(ttl as i64),
        ],
    )?;
    if let Some(row) = rows.rows().next() {
        let parse = |column: &str| {
            row.get::<String>(column)
                .and_then(|s| Uuid::parse_str(&s).ok())
        };
        return match (parse("user_id"), parse("family_id")) {
            (Some(user_id), Some(family_id)) => Ok(Some(Rotation { user_id, family_id })),
            _ => Err(Problem::internal()),
        };
    }
    // Not rotated. If it was spent before, this is a replay: end the family
    // (and, through the user cache, its access tokens).
    let replayed = db.rows(
        "SELECT f.user_id::text AS user_id \
         FROM refresh_tokens t JOIN refresh_families f ON f.id = t.family_id \
         WHERE t.token_hash = $1 AND t.spent_at IS NOT NULL",
        &[bytes_param(presented.hash())],
    )?;
    let Some(user_id) = replayed
        .rows()
        .next()
        .and_then(|row| Uuid::parse_str(&row.get::<String>("user_id")?).ok())
    else {
        return Ok(None);
    };
    // The user's cached copy goes before the revocation as well as after:
    // the cache outlives the host, and a host killed between the commit and
    // the invalidation after it left a copy that accepted the revoked
    // session's access tokens until it expired (a replay presented again,
    // finding the family revoked, did not invalidate it either).
    let cache = Cache::open();
    users::invalidate(&cache, user_id);
    let revoked = db.rows_with(
        &format!(
            "revoked AS (UPDATE refresh_families SET revoked_at = now() \
                 WHERE revoked_at IS NULL AND id = ( \
                     SELECT family_id FROM refresh_tokens \
                     WHERE token_hash = $1 AND spent_at IS NOT NULL) \
                 RETURNING id, user_id), \
             announced AS ({})",
            events::sessions_revoked_from("revoked")
        ),
        "SELECT user_id::text AS user_id FROM revoked",
        &[bytes_param(presented.hash())],
    )?;
    if revoked.rows().next().is_some() {
        eprintln!("auth: a spent refresh token was used again; its family is revoked");
    }
    // Again for a read that cached the user between the first and the
    // commit.
    users::invalidate(&cache, user_id);
    Ok(None)
}

/// The family and user of `token` (spent or not), if it exists.
pub fn family_of(db: &Db, token: &RefreshToken) -> Result<Option<(Uuid, Uuid)>, Problem> {
    let rows = db.rows(
        "SELECT f.id::text AS family_id, f.user_id::text AS user_id \
         FROM refresh_tokens t JOIN refresh_families f ON f.id = t.family_id \
         WHERE t.token_hash = $1",
        &[bytes_param(token.hash())],
    )?;
    Ok(rows.rows().next().and_then(|row| {
        let family = Uuid::parse_str(&row.get::<String>("family_id")?).ok()?;
        let user = Uuid::parse_str(&row.get::<String>("user_id")?).ok()?;
        Some((family, user))
    }))
}

/// Ends session `family_id` of `user_id`.
pub fn revoke_family(db: &Db, family_id: Uuid, user_id: Uuid) -> Result<(), Problem> {
    // The session's open streams learn of it (`session.revoked`).
    let sql = format!(
        "WITH revoked AS (UPDATE refresh_families SET revoked_at = now() \
             WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL RETURNING id, user_id) {}",
        events::sessions_revoked_from("revoked")
    );
    db.execute(&sql, &[uuid_param(family_id), uuid_param(user_id)])?;
    Ok(())
}
