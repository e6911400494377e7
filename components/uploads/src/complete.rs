//! `POST /api/uploads/{id}/complete` → 200 upload, once the presigned `PUT`
//! has put the object in the store.
//!
//! `HEAD` must find the object with the declared size and type (409
//! otherwise: the upload stays `pending`, the client may still send it);
//! then its first bytes must agree with the type (415: the object is
//! deleted, then the record). Completing a `ready` upload returns it again;
//! a stale one (`pending` past `Settings::pending_ttl`) is gone (404).

use spin_sdk::http::Request;
use spinstack_shared::cache::Cache;
use spinstack_shared::db::{Db, uuid_param};
use spinstack_shared::respond::{Reply, json};
use spinstack_shared::storage::Storage;
use spinstack_shared::{Problem, authenticate};

use crate::content;
use crate::record;
use crate::settings::Settings;

pub async fn handle(request: &Request, raw_id: &str) -> Result<Reply, Problem> {
    let id = record::parse_id(raw_id)?;
    let db = Db::new();
    let principal = authenticate(request, &db, &Cache::open())?;
    let ttl = Settings::from_variables()?.pending_ttl();
    let upload = record::visible(&db, &principal, id, ttl)?;
    if upload.status == "ready" {
        return Ok(json(200, &upload).into());
    }
    let storage = Storage::from_variables()?;
    let Some(object) = storage.head_object(&upload.object_key).await? else {
        return Err(Problem::conflict(
            "The file has not been uploaded yet; send it to upload_url first.",
        ));
    };
    let declared = u64::try_from(upload.size).unwrap_or(u64::MAX);
    if object.size != declared {
        return Err(Problem::conflict(format!(
            "The stored file has {} bytes, not the {declared} declared.",
            object.size
        )));
    }
    let stored_type = object.content_type.as_deref().and_then(content::essence);
    if stored_type.as_deref() != Some(upload.content_type.as_str()) {
        return Err(Problem::conflict(
            "The stored file's type is not the one declared.",
        ));
    }
    let prefix = storage
        .read_prefix(&upload.object_key, content::SNIFF_LEN as u64)
        .await?
        .ok_or_else(|| Problem::conflict("The file has not been uploaded yet."))?;
    if content::contradicts(&upload.content_type, &prefix) {
        // Neither kept nor left behind: object first, then the record.
        db.execute(
            "UPDATE uploads SET status = 'deleting', updated_at = now() WHERE id = $1",
            &[uuid_param(id)],
        )?;
        storage.delete_object(&upload.object_key).await?;
        db.execute("DELETE FROM uploads WHERE id = $1", &[uuid_param(id)])?;
        return Err(Problem::unsupported_media_type(format!(
            "The file's content is not {}.",
            upload.content_type
        )));
    }
    match record::mark_ready(&db, id)? {
        Some(upload) => Ok(json(200, &upload).into()),
        // Completed (or deleted) concurrently: answer with what is there now.
        None => Ok(json(200, &record::visible(&db, &principal, id, ttl)?).into()),
    }
}
