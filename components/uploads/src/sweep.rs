//! Stale uploads do not pile up. An upload still `pending` past
//! `Settings::pending_ttl` (its URL's lifetime and a margin) will never turn
//! `ready`: its presigned `PUT` was never completed, or its direct upload
//! failed while the store was unreachable (`create::forget` keeps the
//! record then, as the store may have kept bytes). Reads hide it at once
//! (`record::shown`); this removes it, object first, then the record, as
//! `DELETE` does, so an object is never without its record.
//!
//! It runs after a successful uploads request has been answered, as auth
//! delivers mail: no request waits for it, and nothing needs a scheduler or
//! a background task (real Spin has neither for HTTP apps). Each run takes
//! a bounded batch, the globally oldest first rather than the caller's
//! own: debris of users who never come back goes too, the work per request
//! is the same whoever asks, and the partial index of unfinished uploads
//! (infra/migrations/0009_uploads_unfinished.sql) keeps finding the batch
//! cheap however many uploads there are.
//!
//! Claiming is one statement: it moves the batch to `deleting` (hidden from
//! every read; `complete` turns only `pending` uploads `ready`, so no
//! `ready` record ever points at an object removed here) and locks with
//! `FOR UPDATE SKIP LOCKED`, so instances sweeping at once skip each
//! other's rows instead of waiting for them or removing them twice. Its
//! `updated_at` is the claim's lease: a `deleting` record untouched for
//! [`LEASE`] (a sweep that died, a store that was down, a `DELETE` of the
//! upload or of its owner that failed half-way) is claimed again. A store
//! that cannot be reached ends the run; the rest wait for the lease.

use std::time::Duration;

use spinstack_shared::Problem;
use spinstack_shared::db::{Db, int_param};
use spinstack_shared::storage::Storage;
use uuid::Uuid;

use crate::record;
use crate::settings::{self, Settings};

/// Uploads one run removes at most (each is a call to the store).
const BATCH: i64 = 20;

/// How long a claimed (`deleting`) record waits before it is claimed again.
const LEASE: Duration = Duration::from_secs(3600);

/// `$1` the pending TTL and `$2` the lease, in seconds; `$3` the batch.
/// `status <> 'ready'` is the partial index's predicate, spelt out so the
/// planner uses it.
const CLAIM: &str = "UPDATE uploads SET status = 'deleting', updated_at = now() \
     WHERE id IN (SELECT id FROM uploads \
       WHERE status <> 'ready' \
         AND ((status = 'pending' AND created_at < now() - $1::bigint * interval '1 second') \
           OR (status = 'deleting' AND updated_at < now() - $2::bigint * interval '1 second')) \
       ORDER BY created_at LIMIT $3::bigint FOR UPDATE SKIP LOCKED) \
     RETURNING id::text AS id, object_key";

/// Removes a batch of stale uploads. Never fails: problems are logged and
/// the uploads wait for a later run.
pub async fn sweep(db: &Db) {
    let Ok(settings) = Settings::from_variables() else {
        return;
    };
    let claimed = match claim(db, settings.pending_ttl()) {
        Ok(claimed) => claimed,
        Err(problem) => {
            eprintln!("uploads: cannot claim stale uploads: {}", problem.detail);
            return;
        }
    };
    if claimed.is_empty() {
        return;
    }
    let Ok(storage) = Storage::from_variables() else {
        return;
    };
    let mut removed = 0;
    for (id, key) in &claimed {
        // No such object is success: it never arrived, or went before.
        if storage.delete_object(key).await.is_err() {
            eprintln!("uploads: the store refused or is unreachable; the sweep stops");
            break;
        }
        match record::delete(db, *id) {
            Ok(()) => removed += 1,
            Err(_) => eprintln!("uploads: cannot delete the record of stale upload {id}"),
        }
    }
    eprintln!(
        "uploads: swept {removed} of {} stale uploads",
        claimed.len()
    );
}

/// Claims the batch (see the module's comment): ids and object keys.
fn claim(db: &Db, pending_ttl: Duration) -> Result<Vec<(Uuid, String)>, Problem> {
    let rows = db.rows(
        CLAIM,
        &[
            int_param(settings::seconds(pending_ttl)),
            int_param(settings::seconds(LEASE)),
            int_param(BATCH),
        ],
    )?;
    Ok(rows
        .rows()
        .filter_map(|row| {
            let id = Uuid::parse_str(&row.get::<String>("id")?).ok()?;
            Some((id, row.get("object_key")?))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    //! The claim against the machine's Postgres, on a session-local
    //! `uploads` of the same shape (it shadows any real one).

    use spinstack_shared::test_support::{plan, postgres};

    use super::CLAIM;

    async fn table(client: &tokio_postgres::Client) {
        client
            .batch_execute(
                "CREATE TEMP TABLE uploads (id uuid PRIMARY KEY, user_id uuid NOT NULL, \
                   object_key text NOT NULL, status text NOT NULL, \
                   created_at timestamptz NOT NULL DEFAULT now(), \
                   updated_at timestamptz NOT NULL DEFAULT now()); \
                 CREATE INDEX ON uploads (user_id, created_at, id); \
                 CREATE INDEX uploads_unfinished ON uploads (created_at) \
                   WHERE status <> 'ready'",
            )
            .await
            .unwrap();
    }

    async fn add(client: &tokio_postgres::Client, key: &str, status: &str, age: &str, idle: &str) {
        client
            .execute(
                "INSERT INTO uploads (id, user_id, object_key, status, created_at, updated_at) \
                 VALUES (gen_random_uuid(), '00000000-0000-4000-8000-000000000001', $1, $2, \
                         now() - $3::text::interval, now() - $4::text::interval)",
                &[&key, &status, &age, &idle],
            )
            .await
            .unwrap();
    }

    async fn claim(client: &tokio_postgres::Client, batch: i64) -> Vec<String> {
        let mut keys: Vec<String> = client
            .query(CLAIM, &[&3900_i64, &3600_i64, &batch])
            .await
            .unwrap()
            .iter()
            .map(|row| row.get("object_key"))
            .collect();
        keys.sort();
        keys
    }

    #[tokio::test]
    async fn only_stale_pending_and_abandoned_deleting_uploads_are_claimed_once() {
        let client = postgres().await;
        table(&client).await;
        add(&client, "stale-pending", "pending", "2 days", "2 days").await;
        add(&client, "fresh-pending", "pending", "1 minute", "1 minute").await;
        add(&client, "old-ready", "ready", "2 days", "2 days").await;
        add(
            &client,
            "abandoned-deleting",
            "deleting",
            "2 days",
            "2 hours",
        )
        .await;
        add(&client, "busy-deleting", "deleting", "2 days", "1 minute").await;
        assert_eq!(
            claim(&client, 20).await,
            ["abandoned-deleting", "stale-pending"]
        );
        // Claimed: leased now, so not claimed again until the lease ends.
        assert!(claim(&client, 20).await.is_empty());
        let statuses: Vec<(String, String)> = client
            .query(
                "SELECT object_key, status FROM uploads ORDER BY object_key",
                &[],
            )
            .await
            .unwrap()
            .iter()
            .map(|row| (row.get(0), row.get(1)))
            .collect();
        let status = |key: &str| {
            statuses
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, s)| s.as_str())
        };
        assert_eq!(status("stale-pending"), Some("deleting"));
        assert_eq!(status("fresh-pending"), Some("pending"));
        assert_eq!(status("old-ready"), Some("ready"));
    }

    #[tokio::test]
    async fn a_batch_is_the_oldest_and_bounded() {
        let client = postgres().await;
        table(&client).await;
        for day in 2..=6 {
            add(
                &client,
                &format!("day-{day}"),
                "pending",
                &format!("{day} days"),
                "0",
            )
            .await;
        }
        assert_eq!(claim(&client, 2).await, ["day-5", "day-6"]);
        assert_eq!(claim(&client, 2).await, ["day-3", "day-4"]);
        assert_eq!(claim(&client, 2).await, ["day-2"]);
    }

    #[tokio::test]
    async fn the_batch_is_found_through_the_partial_index() {
        let client = postgres().await;
        table(&client).await;
        client
            .batch_execute(
                "INSERT INTO uploads (id, user_id, object_key, status, created_at) \
                 SELECT gen_random_uuid(), '00000000-0000-4000-8000-000000000001', 'k' || i, \
                   CASE WHEN i % 500 = 0 THEN 'pending' ELSE 'ready' END, \
                   now() - i * interval '1 minute' FROM generate_series(1, 20000) i; \
                 ANALYZE uploads",
            )
            .await
            .unwrap();
        let plan = plan(&client, CLAIM, &["3900", "3600", "20"]).await;
        assert!(
            plan.contains("Index Scan using uploads_unfinished"),
            "{plan}"
        );
        assert!(!plan.contains("Seq Scan on uploads"), "{plan}");
    }
}
