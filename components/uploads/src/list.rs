//! `GET /api/uploads?limit=&cursor=` → 200 `{items, next_cursor}`: the
//! caller's own uploads (admins too), newest first, keyset-paginated on
//! `(created_at, id)`. Uploads being deleted are not listed, nor stale ones
//! (`pending` past `Settings::pending_ttl`, which the sweep removes).

use serde::Serialize;
use spin_sdk::http::Request;
use spinstack_shared::cache::Cache;
use spinstack_shared::db::{Db, int_param, uuid_param};
use spinstack_shared::respond::{Reply, json};
use spinstack_shared::{Problem, authenticate};
use uuid::Uuid;

use crate::record::{self, COLUMNS, Upload};
use crate::settings::{self, Settings};
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
    let pending_ttl = Settings::from_variables()?.pending_ttl();
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
    let mut params = vec![
        uuid_param(principal.id()),
        int_param(limit + 1),
        int_param(settings::seconds(pending_ttl)),
    ];
    if let Some((micros, id)) = after {
        params.extend([int_param(micros), uuid_param(id)]);
    }
    let mut items = record::from_rows(&db.rows(&statement(after.is_some()), &params)?)?;
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

/// `$1` the user, `$2` the row limit, `$3` the pending TTL in seconds
/// ([`record::shown`]); after a cursor, `$4` its microseconds and `$5` its
/// id. The order names the table's columns: bare
/// `created_at` and `id` would be [`COLUMNS`]' text renderings of them (an
/// `ORDER BY` name means the output column first), which no index holds, so
/// every page would read and sort all of the user's uploads.
fn statement(after_cursor: bool) -> String {
    let keyset = if after_cursor {
        "AND (created_at, id) < ('epoch'::timestamptz + $4::bigint * interval '1 microsecond', $5::uuid)"
    } else {
        ""
    };
    format!(
        "SELECT {COLUMNS} FROM uploads WHERE user_id = $1 AND {} {keyset} \
         ORDER BY uploads.created_at DESC, uploads.id DESC LIMIT $2",
        record::shown(3)
    )
}

fn parse_cursor(raw: &str) -> Option<(i64, Uuid)> {
    let (micros, id) = raw.split_once('.')?;
    Some((micros.parse().ok()?, Uuid::parse_str(id).ok()?))
}

#[cfg(test)]
mod tests {
    use spinstack_shared::test_support::{plan, postgres, sorts_on};

    #[tokio::test]
    async fn a_page_reads_the_index_in_order_not_all_of_the_users_uploads() {
        let client = postgres().await;
        // A session-local table of the same shape shadows any real one.
        client
            .batch_execute(
                "CREATE TEMP TABLE uploads (id uuid PRIMARY KEY, user_id uuid NOT NULL, \
                   object_key text, filename text, content_type text, size bigint, \
                   status text, created_at timestamptz NOT NULL); \
                 CREATE INDEX ON uploads (user_id, created_at, id); \
                 INSERT INTO uploads SELECT md5(i::text)::uuid, \
                   '00000000-0000-4000-8000-000000000001', 'k', 'f', 'text/plain', 1, \
                   'ready', now() - i * interval '1 second' FROM generate_series(1, 5000) i; \
                 ANALYZE uploads",
            )
            .await
            .unwrap();
        let user = "'00000000-0000-4000-8000-000000000001'::uuid";
        let cursor = "'00000000-0000-4000-8000-0000000000ff'";
        for (after_cursor, literals) in [
            (false, vec![user, "21", "3900"]),
            (true, vec![user, "21", "3900", "1800000000000000", cursor]),
        ] {
            let plan = plan(&client, &super::statement(after_cursor), &literals).await;
            assert!(plan.contains("Index Scan Backward"), "{plan}");
            assert!(!sorts_on(&plan, "created_at"), "{plan}");
        }
    }
}
