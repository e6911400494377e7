//! `GET /api/uploads?limit=&cursor=` → 200 `{items, next_cursor}`: the
//! caller's own uploads (admins too), newest first, keyset-paginated on
//! `(created_at, id)`. Uploads being deleted are not listed.

use serde::Serialize;
use spin_sdk::http::Request;
use spinstack_shared::cache::Cache;
use spinstack_shared::db::{Db, int_param, uuid_param};
use spinstack_shared::respond::{Reply, json};
use spinstack_shared::{Problem, authenticate};
use uuid::Uuid;

use crate::record::{self, COLUMNS, Upload};
use spinstack_shared::request::query_param;

const DEFAULT_LIMIT: i64 = 20;
const MAX_LIMIT: i64 = 100;

#[derive(Serialize)]
struct Page {
    items: Vec<Upload>,
    next_cursor: Option<String>,
}

pub fn handle(request: &Request) -> Result<Reply, Problem> {
    let db = Db::new();
    let principal = authenticate(request, &db, &Cache::open())?;
    let limit = match query_param(request.query(), "limit") {
        None => DEFAULT_LIMIT,
        Some(raw) => raw
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| {
                Problem::invalid_field("limit", "must be a whole number from 1 to 100")
            })?,
    };
    let after = match query_param(request.query(), "cursor") {
        None => None,
        Some(raw) => Some(
            parse_cursor(&raw)
                .ok_or_else(|| Problem::invalid_field("cursor", "is not a cursor from this API"))?,
        ),
    };
    // One more than asked, to know whether there is a next page.
    let mut params = vec![uuid_param(principal.id()), int_param(limit + 1)];
    let keyset = match after {
        Some((micros, id)) => {
            params.extend([int_param(micros), uuid_param(id)]);
            "AND (created_at, id) < ('epoch'::timestamptz + $3::bigint * interval '1 microsecond', $4::uuid)"
        }
        None => "",
    };
    let sql = format!(
        "SELECT {COLUMNS} FROM uploads WHERE user_id = $1 AND status <> 'deleting' {keyset} \
         ORDER BY created_at DESC, id DESC LIMIT $2"
    );
    let mut items = record::from_rows(&db.rows(&sql, &params)?)?;
    let next_cursor = if items.len() as i64 > limit {
        items.truncate(limit as usize);
        items
            .last()
            .map(|last| format!("{}.{}", last.created_micros, last.id))
    } else {
        None
    };
    let mut response = json(200, &Page { items, next_cursor });
    response.set_header("cache-control", "no-store");
    Ok(response.into())
}

fn parse_cursor(raw: &str) -> Option<(i64, Uuid)> {
    let (micros, id) = raw.split_once('.')?;
    Some((micros.parse().ok()?, Uuid::parse_str(id).ok()?))
}
