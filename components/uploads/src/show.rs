//! `GET /api/uploads/{id}` → 200 upload; a `ready` one with a short-lived
//! presigned `download_url` that makes the store answer with
//! `Content-Disposition: attachment` and the stored type.

use spin_sdk::http::Request;
use spinstack_shared::cache::Cache;
use spinstack_shared::db::Db;
use spinstack_shared::respond::{Reply, json};
use spinstack_shared::storage::Storage;
use spinstack_shared::{Problem, authenticate};

use crate::content;
use crate::record;
use crate::settings::Settings;

pub fn handle(request: &Request, raw_id: &str) -> Result<Reply, Problem> {
    let id = record::parse_id(raw_id)?;
    let db = Db::new();
    let principal = authenticate(request, &db, &Cache::open())?;
    let settings = Settings::from_variables()?;
    let mut upload = record::visible(&db, &principal, id, settings.pending_ttl())?;
    if upload.status == "ready" {
        let storage = Storage::from_variables()?;
        upload.download_url = Some(storage.presign_get(
            &upload.object_key,
            Some(&content::attachment(&upload.filename)),
            Some(&upload.content_type),
            settings.url_ttl,
        ));
    }
    let mut response = json(200, &upload);
    response.set_header("cache-control", "no-store");
    Ok(response.into())
}
