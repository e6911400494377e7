//! `POST /api/uploads/presign` `{filename, content_type, size}` → 200
//! `{upload, upload_url, method: "PUT", headers, expires_in}`.
//!
//! The upload is recorded `pending`; the URL lets the client `PUT` exactly
//! `size` bytes of `content_type` to the upload's own key, for
//! `upload_url_ttl_seconds`. `complete` checks what arrived. One never
//! completed is stale an hour after its URL expired (`Settings::pending_ttl`):
//! hidden, then swept with its object (`crate::sweep`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use spin_sdk::http::Request;
use spinstack_shared::cache::Cache;
use spinstack_shared::db::{Db, int_param, str_param, uuid_param};
use spinstack_shared::domain::FieldErrors;
use spinstack_shared::request::json_body;
use spinstack_shared::respond::{Reply, json};
use spinstack_shared::storage::Storage;
use spinstack_shared::{Problem, authenticate};
use uuid::Uuid;

use crate::content;
use crate::create::too_large;
use crate::record::{self, COLUMNS, Upload};
use crate::settings::Settings;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Body {
    filename: Option<serde_json::Value>,
    content_type: Option<serde_json::Value>,
    size: Option<serde_json::Value>,
}

#[derive(Serialize)]
struct Presigned {
    upload: Upload,
    upload_url: String,
    method: &'static str,
    headers: BTreeMap<String, String>,
    expires_in: u64,
}

pub fn handle(request: &Request) -> Result<Reply, Problem> {
    let db = Db::new();
    let principal = authenticate(request, &db, &Cache::open())?;
    let body: Body = json_body(request)?;
    let settings = Settings::from_variables()?;

    let mut errors = FieldErrors::default();
    let filename = errors.check(
        "filename",
        string(body.filename).and_then(|raw| content::filename(&raw)),
    );
    let content_type = errors.check(
        "content_type",
        string(body.content_type)
            .and_then(|raw| content::essence(&raw).ok_or_else(|| "is not a media type".into())),
    );
    let size = errors.check("size", size(body.size));
    errors.into_result()?;
    let (Some(filename), Some(content_type), Some(size)) = (filename, content_type, size) else {
        return Err(Problem::internal());
    };
    if !settings.allows(&content_type) {
        return Err(Problem::unsupported_media_type(format!(
            "Files of type {content_type} are not accepted."
        )));
    }
    if size > settings.max_bytes {
        return Err(too_large(settings.max_bytes));
    }
    let storage = Storage::from_variables()?;

    let id = Uuid::new_v4();
    let key = record::object_key(id);
    let sql = format!(
        "INSERT INTO uploads (id, user_id, object_key, filename, content_type, size) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING {COLUMNS}"
    );
    let rows = db.rows(
        &sql,
        &[
            uuid_param(id),
            uuid_param(principal.id()),
            str_param(key.as_str()),
            str_param(filename),
            str_param(content_type.as_str()),
            // At most the limit, which fits.
            int_param(i64::try_from(size).map_err(|_| too_large(settings.max_bytes))?),
        ],
    )?;
    let upload = record::first(&rows)?;
    let presigned = storage.presign_put(&key, &content_type, size, settings.url_ttl);
    let mut response = json(
        200,
        &Presigned {
            upload,
            upload_url: presigned.url,
            method: "PUT",
            headers: presigned.headers.into_iter().collect(),
            expires_in: settings.url_ttl.as_secs(),
        },
    );
    response.set_header("cache-control", "no-store");
    Ok(response.into())
}

fn string(value: Option<serde_json::Value>) -> Result<String, String> {
    match value {
        None | Some(serde_json::Value::Null) => Err("is required".into()),
        Some(serde_json::Value::String(s)) => Ok(s),
        Some(_) => Err("must be a string".into()),
    }
}

/// A JSON number without a fractional part is an integer (JSON Schema's
/// `integer`), so `1024.0` is 1024 bytes as `1024` is: encoders that keep
/// every number a float send the one as the other.
fn size(value: Option<serde_json::Value>) -> Result<u64, String> {
    match value {
        None | Some(serde_json::Value::Null) => Err("is required".into()),
        Some(serde_json::Value::Number(n)) => n
            .as_u64()
            .or_else(|| n.as_f64().and_then(whole_bytes))
            .ok_or_else(|| "must be a whole number of bytes, 0 or more".into()),
        Some(_) => Err("must be a whole number of bytes".into()),
    }
}

/// `value` as bytes if it is a whole number from 0 to 2^53 (beyond that a
/// float no longer holds every integer exactly).
fn whole_bytes(value: f64) -> Option<u64> {
    const EXACT: f64 = 9_007_199_254_740_992.0;
    (value.fract() == 0.0 && (0.0..=EXACT).contains(&value)).then_some(value as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_whole_numbers_written_either_way() {
        assert_eq!(size(Some(serde_json::json!(37))), Ok(37));
        assert_eq!(size(Some(serde_json::json!(37.0))), Ok(37));
        assert_eq!(size(Some(serde_json::json!(0.0))), Ok(0));
        for bad in [
            serde_json::json!(1.5),
            serde_json::json!(-1),
            serde_json::json!(-1.0),
            serde_json::json!(1e300),
            serde_json::json!("37"),
            serde_json::Value::Null,
        ] {
            assert!(size(Some(bad.clone())).is_err(), "{bad}");
        }
        assert!(size(None).is_err());
    }
}
