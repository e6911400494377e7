//! `POST /api/auth/register` `{email, password, name}` → 201 user, and a
//! verification mail (verify_email.rs) written with the account.

use serde::Deserialize;
use spinstack_shared::Problem;
use spinstack_shared::db::{Db, str_param, uuid_param};
use spinstack_shared::domain::{DisplayName, Email, FieldErrors, Password};
use spinstack_shared::request::json_body;
use spinstack_shared::respond::{Reply, json};
use spinstack_shared::users::{USER_COLUMNS, users_from};
use uuid::Uuid;

use spinstack_shared::passwords;

use crate::{first_admin, verify_email};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Body {
    email: Option<String>,
    password: Option<String>,
    name: Option<String>,
}

pub fn required(value: Option<String>) -> Result<String, String> {
    value.ok_or_else(|| "is required".to_owned())
}

pub fn handle(request: &spin_sdk::http::Request) -> Result<Reply, Problem> {
    let body: Body = json_body(request)?;
    let mut errors = FieldErrors::default();
    let email = errors.check("email", required(body.email).and_then(|s| Email::parse(&s)));
    let password = errors.check(
        "password",
        required(body.password).and_then(|s| Password::parse(&s)),
    );
    let name = errors.check(
        "name",
        required(body.name).and_then(|s| DisplayName::parse(&s)),
    );
    errors.into_result()?;
    let (Some(email), Some(password), Some(name)) = (email, password, name) else {
        return Err(Problem::internal());
    };
    // The first admin's address belongs to the first admin, even before
    // they log in for the first time.
    if first_admin::is_reserved(&email) {
        return Err(taken());
    }
    let hash = passwords::hash(password.expose()).map_err(|e| {
        eprintln!("auth: cannot hash a password: {e}");
        Problem::internal()
    })?;
    let id = Uuid::new_v4();
    // A taken address is a row not inserted, not an error to recognise:
    // Spin 4.0.x reports errors without their SQLSTATE. The verification
    // mail is written by the same statement: no account, no mail.
    let (mail_ctes, mail_params) = verify_email::mail_ctes("inserted", 5)?;
    let mut params = vec![
        uuid_param(id),
        str_param(email.as_str()),
        str_param(name.as_str()),
        str_param(hash),
    ];
    params.extend(mail_params);
    let rows = Db::new().rows_with(
        &format!(
            "inserted AS (INSERT INTO users (id, email, name, password_hash) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (email) DO NOTHING RETURNING *), {mail_ctes}"
        ),
        &format!("SELECT {USER_COLUMNS} FROM inserted"),
        &params,
    )?;
    let user = users_from(&rows)?.into_iter().next().ok_or_else(taken)?;
    let mut response = json(201, &user);
    response.set_header("location", format!("/api/users/{}", user.id));
    Ok(Reply::from(response).delivering_mail())
}

fn taken() -> Problem {
    let mut problem = Problem::conflict("An account with this email already exists.");
    problem
        .errors
        .insert("email".into(), vec!["is already registered".into()]);
    problem
}
