//! `GET /api/users?limit=&cursor=` (admin): users newest first, keyset
//! paginated on `(created_at, id)`: a page starts strictly after the
//! previous page's last row, so users who sign up meanwhile (they sort
//! first) never shift a page, and nobody is listed twice or skipped.

use serde::Serialize;
use spin_sdk::http::Response;
use spin_sdk::pg4::ParameterValue;
use spinstack_shared::Problem;
use spinstack_shared::db::{int_param, uuid_param};
use spinstack_shared::domain::FieldErrors;
use spinstack_shared::respond::json;
use spinstack_shared::users::{USER_COLUMNS, User, users_from};

use crate::Context;
use crate::cursor::Cursor;

pub const DEFAULT_LIMIT: i64 = 20;
pub const MAX_LIMIT: i64 = 100;

#[derive(Serialize)]
struct Page {
    items: Vec<User>,
    next_cursor: Option<String>,
}

pub fn handle(context: &Context<'_>) -> Result<Response, Problem> {
    if !context.caller.is_admin() {
        return Err(Problem::forbidden("Only admins can list users."));
    }
    let (limit, after) = parse_query(context.request.query())?;
    let (after_micros, after_id) = match after {
        Some(cursor) => (int_param(cursor.created_at_micros), uuid_param(cursor.id)),
        None => (ParameterValue::DbNull, uuid_param(uuid::Uuid::nil())),
    };
    // One more row than asked tells whether there is a next page.
    let rows = context.db.rows(
        &statement(),
        &[after_micros, after_id, int_param(limit + 1)],
    )?;
    let micros: Vec<i64> = rows
        .rows()
        .map(|row| row.get::<i64>("created_at_micros").unwrap_or_default())
        .collect();
    let mut items = users_from(&rows)?;
    let next_cursor = if items.len() as i64 > limit {
        items.truncate(limit as usize);
        items.last().map(|last| {
            Cursor {
                created_at_micros: micros[limit as usize - 1],
                id: last.id,
            }
            .encode()
        })
    } else {
        None
    };
    Ok(json(200, &Page { items, next_cursor }))
}

/// `limit` (1..=100, default 20) and `cursor`, or a 422 naming the bad one.
fn parse_query(query: &str) -> Result<(i64, Option<Cursor>), Problem> {
    let mut errors = FieldErrors::default();
    let mut limit = DEFAULT_LIMIT;
    let mut cursor = None;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match key {
            "limit" => match value.parse::<i64>() {
                Ok(n) if (1..=MAX_LIMIT).contains(&n) => limit = n,
                _ => errors.add(
                    "limit",
                    format!("must be a whole number from 1 to {MAX_LIMIT}"),
                ),
            },
            "cursor" => match Cursor::decode(value) {
                Some(c) => cursor = Some(c),
                None => errors.add("cursor", "is not a cursor this API returned"),
            },
            _ => {}
        }
    }
    errors.into_result()?;
    Ok((limit, cursor))
}

/// `$1` the cursor's microseconds (NULL for the first page), `$2` its id,
/// `$3` the row limit. The order names the table's columns: bare
/// `created_at` and `id` would be [`USER_COLUMNS`]' text renderings (an
/// `ORDER BY` name means the output column first), which no index holds,
/// so every page would read and sort every user.
fn statement() -> String {
    format!(
        "SELECT {USER_COLUMNS}, \
           (extract(epoch FROM created_at) * 1000000)::bigint AS created_at_micros \
         FROM users \
         WHERE active AND ($1::bigint IS NULL OR (created_at, id) < ( \
           'epoch'::timestamptz + $1::bigint * interval '1 microsecond', $2)) \
         ORDER BY users.created_at DESC, users.id DESC LIMIT $3"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use spinstack_shared::test_support::{plan, postgres, sorts_on};

    #[tokio::test]
    async fn a_page_reads_the_index_in_order_not_every_user() {
        let client = postgres().await;
        // Session-local tables of the same shape shadow any real ones.
        client
            .batch_execute(
                "CREATE TEMP TABLE users (id uuid PRIMARY KEY, email text, name text, \
                   role text, active boolean NOT NULL, created_at timestamptz NOT NULL, \
                   updated_at timestamptz, email_verified_at timestamptz); \
                 CREATE INDEX ON users (created_at, id); \
                 CREATE TEMP TABLE totp_factors (user_id uuid PRIMARY KEY, \
                   confirmed_at timestamptz); \
                 INSERT INTO users SELECT md5(i::text)::uuid, i || '@example.com', 'n', \
                   'user', true, now() - i * interval '1 second', now(), NULL \
                   FROM generate_series(1, 5000) i; \
                 ANALYZE users",
            )
            .await
            .unwrap();
        let id = "'00000000-0000-4000-8000-0000000000ff'::uuid";
        for micros in ["NULL", "1800000000000000"] {
            let plan = plan(&client, &statement(), &[micros, id, "21"]).await;
            assert!(plan.contains("Index Scan Backward"), "{plan}");
            assert!(!sorts_on(&plan, "created_at"), "{plan}");
        }
    }

    #[test]
    fn limits_are_1_to_100() {
        assert_eq!(parse_query("").unwrap().0, 20);
        assert_eq!(parse_query("limit=1").unwrap().0, 1);
        assert_eq!(parse_query("limit=100").unwrap().0, 100);
        for bad in [
            "limit=0",
            "limit=101",
            "limit=-1",
            "limit=abc",
            "limit=",
            "cursor=zz",
        ] {
            assert_eq!(parse_query(bad).unwrap_err().status, 422, "{bad}");
        }
    }
}
