//! `GET /api/users/{id}` (self or admin; cached) and `PATCH /api/users/{id}`
//! (admin: `{name, role}`).

use serde::Deserialize;
use spin_sdk::http::Response;
use spinstack_shared::Problem;
use spinstack_shared::db::{str_param, uuid_param};
use spinstack_shared::domain::{DisplayName, FieldErrors, Role};
use spinstack_shared::request::{json_body, not_null};
use spinstack_shared::respond::json;
use spinstack_shared::users;
use uuid::Uuid;

use crate::admins::{self, LOCK_ADMINS, MAY_STOP_BEING_ADMIN};
use crate::{Context, announced};

/// Whether the caller may see user `id`: themselves, or anyone if admin.
pub fn may_see(context: &Context<'_>, id: Uuid) -> bool {
    context.caller.id() == id || context.caller.is_admin()
}

pub fn get(context: &Context<'_>, id: Uuid) -> Result<Response, Problem> {
    if !may_see(context, id) {
        return Err(Problem::not_found());
    }
    let cached = users::cached(&context.cache, &context.db, id)?.ok_or_else(Problem::not_found)?;
    Ok(json(200, &cached.user))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Body {
    #[serde(default, deserialize_with = "not_null")]
    name: Option<String>,
    #[serde(default, deserialize_with = "not_null")]
    role: Option<String>,
}

pub fn patch(context: &Context<'_>, id: Uuid) -> Result<Response, Problem> {
    if !context.caller.is_admin() {
        return Err(Problem::forbidden("Only admins can change other users."));
    }
    let body: Body = json_body(context.request)?;
    let mut errors = FieldErrors::default();
    if body.name.is_none() && body.role.is_none() {
        errors.add("name", "send a new name, a new role, or both");
    }
    let name = body
        .name
        .as_deref()
        .and_then(|raw| errors.check("name", DisplayName::parse(raw)));
    let role = body
        .role
        .as_deref()
        .and_then(|raw| errors.check("role", Role::parse(raw)));
    errors.into_result()?;

    let demotes = role == Some(Role::User);
    let update = format!(
        "UPDATE users SET name = coalesce($2, name), role = coalesce($3, role), \
         updated_at = now() WHERE id = $1 AND active AND ($4 = false OR {MAY_STOP_BEING_ADMIN}) \
         RETURNING *"
    );
    let null = spin_sdk::pg4::ParameterValue::DbNull;
    // The event goes to the changed user, not to the admin.
    let changed = announced::update_user(
        &context.db,
        &format!("{LOCK_ADMINS}, "),
        &update,
        &[
            uuid_param(id),
            name.as_ref()
                .map_or(null.clone(), |n| str_param(n.as_str())),
            role.map_or(null, |r| str_param(r.as_str())),
            spin_sdk::pg4::ParameterValue::Boolean(demotes),
        ],
    )?;
    let Some(user) = changed else {
        // Refused by the last-admin rule, or there is no such user.
        return Err(match users::load(&context.db, id)? {
            Some(_) => admins::last_admin(),
            None => Problem::not_found(),
        });
    };
    users::invalidate(&context.cache, id);
    Ok(json(200, &user))
}
