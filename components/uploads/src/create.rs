//! `POST /api/uploads?filename=...`: the body is the file, streamed to the
//! store as it arrives (one chunk in guest memory at a time) → 201 upload.
//!
//! Checks before a byte is stored: the caller (401), `filename` (422),
//! `Content-Type` present and allowed (415), `Content-Length` present (411)
//! and within `upload_max_bytes` (413), and the first bytes agreeing with
//! the declared type (415). The record is written `pending` first, so the
//! object never exists without it; it turns `ready` once the store has the
//! whole body.

use futures::{Stream, StreamExt};
use spin_sdk::http::{IncomingRequest, Request};
use spinstack_shared::cache::Cache;
use spinstack_shared::db::{Db, int_param, str_param, uuid_param};
use spinstack_shared::request::query_param;
use spinstack_shared::respond::{Reply, json};
use spinstack_shared::storage::Storage;
use spinstack_shared::{Problem, authenticate};
use uuid::Uuid;

use crate::content;
use crate::record;
use crate::settings::Settings;

pub async fn handle(incoming: IncomingRequest, head: &Request) -> Reply {
    match upload(incoming, head).await {
        Ok(reply) => reply,
        Err(problem) => problem.into(),
    }
}

async fn upload(incoming: IncomingRequest, head: &Request) -> Result<Reply, Problem> {
    let db = Db::new();
    let principal = authenticate(head, &db, &Cache::open())?;
    let settings = Settings::from_variables()?;

    let filename = query_param(head.query(), "filename")
        .ok_or_else(|| "is required".to_owned())
        .and_then(|raw| content::filename(&raw))
        .map_err(|reason| Problem::invalid_field("filename", reason))?;
    let content_type = head
        .header("content-type")
        .and_then(|v| v.as_str())
        .and_then(content::essence)
        .ok_or_else(|| {
            Problem::unsupported_media_type("Send the file's media type as Content-Type.")
        })?;
    if !settings.allows(&content_type) {
        return Err(Problem::unsupported_media_type(format!(
            "Files of type {content_type} are not accepted."
        )));
    }
    let length = declared_length(head)?;
    if length > settings.max_bytes {
        return Err(too_large(settings.max_bytes));
    }
    let storage = Storage::from_variables()?;

    // The first bytes, to check them against the declared type before
    // anything is stored.
    let mut body = incoming.into_body_stream().map(|chunk| {
        chunk.map_err(|_| Problem::bad_request("The request body could not be read."))
    });
    let mut prefix = Vec::new();
    let mut ended = false;
    while prefix.len() < content::SNIFF_LEN {
        match body.next().await {
            Some(chunk) => prefix.extend(chunk?),
            None => {
                ended = true;
                break;
            }
        }
        if prefix.len() as u64 > length {
            return Err(Problem::bad_request(
                "The body is longer than its Content-Length.",
            ));
        }
    }
    let sniffed = &prefix[..prefix.len().min(content::SNIFF_LEN)];
    if content::contradicts(&content_type, sniffed) {
        return Err(Problem::unsupported_media_type(format!(
            "The file's content is not {content_type}."
        )));
    }

    let id = Uuid::new_v4();
    let key = record::object_key(id);
    db.execute(
        "INSERT INTO uploads (id, user_id, object_key, filename, content_type, size) \
         VALUES ($1, $2, $3, $4, $5, $6)",
        &[
            uuid_param(id),
            uuid_param(principal.id()),
            str_param(key.as_str()),
            str_param(filename),
            str_param(content_type.as_str()),
            int_param(i64::try_from(length).map_err(|_| too_large(settings.max_bytes))?),
        ],
    )?;

    let first = futures::stream::iter((!prefix.is_empty()).then_some(Ok(prefix)));
    let rest: std::pin::Pin<Box<dyn Stream<Item = Result<Vec<u8>, Problem>>>> = if ended {
        Box::pin(futures::stream::empty())
    } else {
        Box::pin(body)
    };
    let stored = storage
        .put_object_stream(&key, &content_type, length, first.chain(rest))
        .await;
    if let Err(problem) = stored {
        forget(&db, &storage, id, &key).await;
        return Err(problem);
    }

    // Still pending, unless the record was taken while the body streamed
    // (its owner deleted it from the list, or it streamed for longer than
    // the pending TTL and was swept): then the object just stored is the
    // one without a record, so it goes too.
    let Some(upload) = record::mark_ready(&db, id)? else {
        let _ = storage.delete_object(&key).await;
        return Err(Problem::conflict(
            "The upload was deleted while it was being sent.",
        ));
    };
    let mut response = json(201, &upload);
    response.set_header("location", format!("/api/uploads/{id}"));
    Ok(response.into())
}

/// After a failed upload: the object (in case the store kept something
/// after all), then the record. If the store cannot be reached, the
/// `pending` record stays, so the object is never without one; the sweep
/// (`crate::sweep`) removes both once it is stale.
async fn forget(db: &Db, storage: &Storage, id: Uuid, key: &str) {
    if storage.delete_object(key).await.is_ok() {
        let _ = db.execute("DELETE FROM uploads WHERE id = $1", &[uuid_param(id)]);
    }
}

/// The declared `Content-Length`: 411 without one (the store needs the
/// length before the first byte), 400 if it is not a number.
fn declared_length(head: &Request) -> Result<u64, Problem> {
    let Some(value) = head.header("content-length") else {
        return Err(Problem::new(
            411,
            "Length Required",
            "Send the file with a Content-Length.",
        ));
    };
    value
        .as_str()
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| Problem::bad_request("Content-Length is not a number."))
}

pub fn too_large(max: u64) -> Problem {
    Problem::payload_too_large(format!("Files may be at most {max} bytes."))
}
