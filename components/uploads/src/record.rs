//! The `uploads` table (infra/migrations/0003_uploads.sql) and the upload
//! as the API shows it (`openapi.yaml`'s `Upload`).

use serde::Serialize;
use spin_sdk::pg4::RowSet;
use spinstack_shared::db::{Db, uuid_param};
use spinstack_shared::{Principal, Problem, rfc3339};
use uuid::Uuid;

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

/// The upload `id` if `principal` may see it (its owner, or an admin) and
/// it is not being deleted; 404 otherwise, whether or not it exists.
pub fn visible(db: &Db, principal: &Principal, id: Uuid) -> Result<Upload, Problem> {
    let sql = format!("SELECT {COLUMNS} FROM uploads WHERE id = $1 AND status <> 'deleting'");
    let upload = from_rows(&db.rows(&sql, &[uuid_param(id)])?)?
        .into_iter()
        .next()
        .ok_or_else(Problem::not_found)?;
    if upload.user_id != principal.id() && !principal.is_admin() {
        return Err(Problem::not_found());
    }
    Ok(upload)
}
