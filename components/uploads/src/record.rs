//! The `uploads` table (infra/migrations/0003_uploads.sql) and the upload
//! as the API shows it (`openapi.yaml`'s `Upload`).

use std::time::Duration;

use serde::Serialize;
use spin_sdk::pg4::RowSet;
use spinstack_shared::db::{Db, int_param, uuid_param};
use spinstack_shared::events::{self, UPLOAD_DELETED, UPLOAD_READY};
use spinstack_shared::{Principal, Problem, rfc3339};
use uuid::Uuid;

use crate::settings;

#[derive(Debug, Clone, Serialize)]
pub struct Upload {
    pub id: Uuid,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub status: String,
    pub created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub download_url: Option<String>,
    #[serde(skip)]
    pub user_id: Uuid,
    #[serde(skip)]
    pub object_key: String,
    /// Microseconds since the epoch, for list cursors.
    #[serde(skip)]
    pub created_micros: i64,
}

/// The columns of [`Upload`], for `SELECT` and `RETURNING` lists.
pub const COLUMNS: &str = concat!(
    "id::text AS id, user_id::text AS user_id, object_key, filename, content_type, size, status, ",
    rfc3339!("created_at"),
    " AS created_at, (extract(epoch FROM created_at) * 1000000)::bigint AS created_micros"
);

/// The key of a new upload's object: chosen here, never from the filename.
pub fn object_key(id: Uuid) -> String {
    format!("uploads/{id}")
}

pub fn from_rows(rows: &RowSet) -> Result<Vec<Upload>, Problem> {
    rows.rows()
        .map(|row| {
            let upload = (|| {
                Some(Upload {
                    id: Uuid::parse_str(&row.get::<String>("id")?).ok()?,
                    user_id: Uuid::parse_str(&row.get::<String>("user_id")?).ok()?,
                    object_key: row.get("object_key")?,
                    filename: row.get("filename")?,
                    content_type: row.get("content_type")?,
                    size: row.get("size")?,
                    status: row.get("status")?,
                    created_at: row.get("created_at")?,
                    created_micros: row.get("created_micros")?,
                    download_url: None,
                })
            })();
            upload.ok_or_else(|| {
                eprintln!("uploads: a row does not decode as an upload");
                Problem::internal()
            })
        })
        .collect()
}

pub fn first(rows: &RowSet) -> Result<Upload, Problem> {
    from_rows(rows)?
        .into_iter()
        .next()
        .ok_or_else(Problem::internal)
}

/// The path's upload id: anything but a UUID is an unknown id (404).
pub fn parse_id(raw: &str) -> Result<Uuid, Problem> {
    Uuid::parse_str(raw).map_err(|_| Problem::not_found())
}

/// SQL: the uploads reads show. Not one being deleted, nor a stale one:
/// `pending` for longer than parameter `$n`, the pending TTL in seconds
/// (`Settings::pending_ttl`), which the sweep (`crate::sweep`) removes,
/// so nobody sees it even before that.
pub fn shown(n: usize) -> String {
    format!(
        "status <> 'deleting' AND (status <> 'pending' \
         OR created_at >= now() - ${n}::bigint * interval '1 second')"
    )
}

/// The upload `id` if `principal` may see it (its owner, or an admin) and
/// it is [`shown`]; 404 otherwise, whether or not it exists.
pub fn visible(
    db: &Db,
    principal: &Principal,
    id: Uuid,
    pending_ttl: Duration,
) -> Result<Upload, Problem> {
    let sql = format!(
        "SELECT {COLUMNS} FROM uploads WHERE id = $1 AND {}",
        shown(2)
    );
    let params = [uuid_param(id), int_param(settings::seconds(pending_ttl))];
    let upload = from_rows(&db.rows(&sql, &params)?)?
        .into_iter()
        .next()
        .ok_or_else(Problem::not_found)?;
    if upload.user_id != principal.id() && !principal.is_admin() {
        return Err(Problem::not_found());
    }
    Ok(upload)
}

/// The upload as an event shows it (`Upload`'s fields, no download URL):
/// SQL over a row of `uploads`.
const EVENT_UPLOAD: &str = concat!(
    "jsonb_build_object('upload', jsonb_build_object('id', id::text, 'filename', filename, \
     'content_type', content_type, 'size', size, 'status', status, 'created_at', ",
    rfc3339!("created_at"),
    "))"
);

/// Marks upload `id` ready (only from `pending`), recording `upload.ready`
/// for its owner in the same statement. `None` if it was not pending.
pub fn mark_ready(db: &Db, id: Uuid) -> Result<Option<Upload>, Problem> {
    let with = format!(
        "changed AS (UPDATE uploads SET status = 'ready', updated_at = now() \
             WHERE id = $1 AND status = 'pending' RETURNING *), \
         announced AS ({})",
        events::insert_from(UPLOAD_READY, "changed", "changed.user_id", EVENT_UPLOAD)
    );
    let rows = db.rows_with(
        &with,
        &format!("SELECT {COLUMNS} FROM changed"),
        &[uuid_param(id)],
    )?;
    Ok(from_rows(&rows)?.into_iter().next())
}

/// Deletes the record of upload `id` (its object is gone already) and
/// records `upload.deleted` for its owner in the same statement.
pub fn delete(db: &Db, id: Uuid) -> Result<(), Problem> {
    let sql = format!(
        "WITH gone AS (DELETE FROM uploads WHERE id = $1 RETURNING id, user_id) {}",
        events::insert_from(
            UPLOAD_DELETED,
            "gone",
            "gone.user_id",
            "jsonb_build_object('id', gone.id::text)"
        )
    );
    db.execute(&sql, &[uuid_param(id)])?;
    Ok(())
}
