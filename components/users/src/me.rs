//! `GET /api/users/me` and `PATCH /api/users/me` (`{name}`, `{password,
//! current_password}`, `{email, current_password}`, or several).
//!
//! A password change needs the current password, ends the caller's other
//! sessions (their refresh families, and through the user cache their
//! access tokens) and keeps this one. An address change needs it too, and
//! only mails a link to the new address (email_change.rs): the answer is
//! 202, with the other fields of the request applied.

use serde::Deserialize;
use spin_sdk::http::Response;
use spinstack_shared::Problem;
use spinstack_shared::db::{str_param, uuid_param};
use spinstack_shared::domain::{DisplayName, Email, FieldErrors, Password};
use spinstack_shared::passwords;
use spinstack_shared::request::{json_body, not_null};
use spinstack_shared::respond::{Reply, json};
use spinstack_shared::users;

use crate::{Context, announced, email_change};

pub fn get(context: &Context<'_>) -> Result<Response, Problem> {
    Ok(json(200, &context.caller.user))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Body {
    #[serde(default, deserialize_with = "not_null")]
    name: Option<String>,
    #[serde(default, deserialize_with = "not_null")]
    password: Option<String>,
    #[serde(default, deserialize_with = "not_null")]
    current_password: Option<String>,
    #[serde(default, deserialize_with = "not_null")]
    email: Option<String>,
}

pub fn patch(context: &Context<'_>) -> Result<Reply, Problem> {
    let body: Body = json_body(context.request)?;
    let mut errors = FieldErrors::default();
    if body.name.is_none() && body.password.is_none() && body.email.is_none() {
        errors.add("name", "send a new name, password or email");
    }
    let name = body
        .name
        .as_deref()
        .and_then(|raw| errors.check("name", DisplayName::parse(raw)));
    let password = body
        .password
        .as_deref()
        .and_then(|raw| errors.check("password", Password::parse(raw)));
    if body.password.is_some() && body.current_password.is_none() {
        errors.add("current_password", "is required to change the password");
    }
    let email = body
        .email
        .as_deref()
        .and_then(|raw| errors.check("email", Email::parse(raw)));
    if body.email.is_some() && body.current_password.is_none() {
        errors.add("current_password", "is required to change the email");
    }
    if body.current_password.is_some() && body.password.is_none() && body.email.is_none() {
        errors.add("current_password", "goes with a new password or email");
    }
    if email
        .as_ref()
        .is_some_and(|e| e.as_str() == context.caller.user.email)
    {
        errors.add("email", "is already your address");
    }
    errors.into_result()?;

    let id = context.caller.id();
    let db = &context.db;
    if let (Some(current), true) = (
        &body.current_password,
        password.is_some() || email.is_some(),
    ) {
        passwords::check_current(db, id, current, "current_password")?;
    }
    if let Some(email) = &email {
        email_change::request(db, id, email)?;
    }
    if name.is_none() && password.is_none() {
        return Ok(email_change_accepted());
    }
    let new_hash = match &password {
        Some(password) => Some(passwords::hash(password.expose()).map_err(|e| {
            eprintln!("users: cannot hash a password: {e}");
            Problem::internal()
        })?),
        _ => None,
    };
    let user = announced::update_user(
        db,
        "",
        "UPDATE users SET name = coalesce($2, name), password_hash = coalesce($3, password_hash), \
         updated_at = now() WHERE id = $1 AND active RETURNING *",
        &[
            uuid_param(id),
            optional(name.as_ref().map(|n| n.as_str())),
            optional(new_hash.as_deref()),
        ],
    )?
    .ok_or_else(Problem::not_found)?;
    if new_hash.is_some() {
        announced::revoke_sessions(
            db,
            "UPDATE refresh_families SET revoked_at = now() \
             WHERE user_id = $1 AND id <> $2 AND revoked_at IS NULL RETURNING id, user_id",
            &[uuid_param(id), uuid_param(context.caller.session_id)],
        )?;
    }
    users::invalidate(&context.cache, id);
    if email.is_some() {
        return Ok(email_change_accepted());
    }
    Ok(Reply::from(json(200, &user)))
}

/// 202: the address changes when the mailed link is used.
fn email_change_accepted() -> Reply {
    let body = serde_json::json!({
        "message": "A link to confirm the new address is on its way to it; \
                    the address changes when it is used."
    });
    Reply::from(json(202, &body)).delivering_mail()
}

fn optional(value: Option<&str>) -> spin_sdk::pg4::ParameterValue {
    value.map_or(spin_sdk::pg4::ParameterValue::DbNull, str_param)
}
