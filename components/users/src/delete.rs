//! `DELETE /api/users/{id}` (self or admin): the user, their sessions and
//! their uploads, stored objects included.
//!
//! Order, so that a failure anywhere leaves a state the next attempt
//! finishes: the uploads are marked `deleting` (hidden from every read),
//! their objects are deleted (idempotently), then the user row, whose
//! deletion cascades to the upload records, refresh tokens and revoked
//! tokens. A store failure answers 503 and leaves the user in place with
//! fewer objects, never a record pointing at nothing that anyone can see.

use spin_sdk::http::Response;
use spinstack_shared::Problem;
use spinstack_shared::db::uuid_param;
use spinstack_shared::storage::Storage;
use spinstack_shared::users;
use uuid::Uuid;

use crate::Context;
use crate::admins::{self, LOCK_ADMINS, MAY_STOP_BEING_ADMIN};
use crate::one::may_see;

pub async fn handle(context: &Context<'_>, id: Uuid) -> Result<Response, Problem> {
    if !may_see(context, id) {
        return Err(Problem::not_found());
    }
    let db = &context.db;
    let user = users::load(db, id)?.ok_or_else(Problem::not_found)?;
    // Refuse before touching any object.
    if user.role == spinstack_shared::domain::Role::Admin && is_last_admin(context, id)? {
        return Err(admins::last_admin());
    }

    let rows = db.rows(
        "UPDATE uploads SET status = 'deleting', updated_at = now() \
         WHERE user_id = $1 RETURNING object_key",
        &[uuid_param(id)],
    )?;
    let keys: Vec<String> = rows
        .rows()
        .filter_map(|row| row.get("object_key"))
        .collect();
    if !keys.is_empty() {
        let storage = Storage::from_variables()?;
        for key in &keys {
            storage.delete_object(key).await?;
        }
    }

    let sql =
        format!("WITH {LOCK_ADMINS} DELETE FROM users WHERE id = $1 AND {MAY_STOP_BEING_ADMIN}");
    let deleted = db.execute(&sql, &[uuid_param(id)])?;
    users::invalidate(&context.cache, id);
    if deleted == 0 {
        // Another admin was demoted or deleted meanwhile.
        return Err(admins::last_admin());
    }
    Ok(Response::builder().status(204).build())
}

fn is_last_admin(context: &Context<'_>, id: Uuid) -> Result<bool, Problem> {
    let rows = context.db.rows(
        "SELECT count(*) AS others FROM users WHERE role = 'admin' AND active AND id <> $1",
        &[uuid_param(id)],
    )?;
    let others: i64 = rows
        .rows()
        .next()
        .and_then(|row| row.get("others"))
        .unwrap_or(0);
    Ok(others == 0)
}
