//! `DELETE /api/uploads/{id}` → 204; object and record both gone.
//!
//! Retry-safe: the record is marked `deleting` (hidden from every read),
//! then the object is deleted (idempotent at the store), then the record.
//! A failure in between leaves a `deleting` record that the next `DELETE`
//! (or the owner's account deletion) finishes. The owner's open pages
//! learn of it from `upload.deleted`, recorded with the record's deletion.

use spin_sdk::http::Request;
use spinstack_shared::cache::Cache;
use spinstack_shared::db::{Db, uuid_param};
use spinstack_shared::respond::Reply;
use spinstack_shared::storage::Storage;
use spinstack_shared::{Problem, authenticate};
use uuid::Uuid;

use crate::record::{self, COLUMNS};

pub async fn handle(request: &Request, raw_id: &str) -> Result<Reply, Problem> {
    let id = record::parse_id(raw_id)?;
    let db = Db::new();
    let principal = authenticate(request, &db, &Cache::open())?;
    // Unlike the reads, a `deleting` record is found here, to finish it.
    let sql = format!("SELECT {COLUMNS} FROM uploads WHERE id = $1");
    let upload = record::from_rows(&db.rows(&sql, &[uuid_param(id)])?)?
        .into_iter()
        .next()
        .filter(|upload| upload.user_id == principal.id() || principal.is_admin())
        .ok_or_else(Problem::not_found)?;
    let storage = Storage::from_variables()?;
    remove(&db, &storage, id, &upload.object_key).await?;
    Ok(spin_sdk::http::Response::builder()
        .status(204)
        .build()
        .into())
}

async fn remove(db: &Db, storage: &Storage, id: Uuid, key: &str) -> Result<(), Problem> {
    db.execute(
        "UPDATE uploads SET status = 'deleting', updated_at = now() WHERE id = $1",
        &[uuid_param(id)],
    )?;
    storage.delete_object(key).await?;
    record::delete(db, id)
}
