//! `DELETE /api/users/{id}/totp` (admin): turns a user's two-factor sign-in
//! off, for someone who lost both their authenticator and their recovery
//! codes. They sign in with their password alone until they enrol again.
//! 204 whether or not it was on (the end state is the same); 404 for no
//! such user. Their sessions stay: the admin vouched for the person.

use spin_sdk::http::Response;
use spinstack_shared::db::uuid_param;
use spinstack_shared::two_factor::REMOVE_CTE;
use spinstack_shared::{Problem, users};
use uuid::Uuid;

use crate::Context;
use crate::one::may_see;

pub fn handle(context: &Context<'_>, id: Uuid) -> Result<Response, Problem> {
    if !may_see(context, id) {
        return Err(Problem::not_found());
    }
    if !context.caller.is_admin() {
        return Err(Problem::forbidden(
            "Only admins can reset two-factor sign-in; turn your own off with a code.",
        ));
    }
    users::load(&context.db, id)?.ok_or_else(Problem::not_found)?;
    let rows = context.db.rows_with(
        REMOVE_CTE,
        "SELECT user_id::text AS id FROM removed",
        &[uuid_param(id)],
    )?;
    if rows.rows().next().is_some() {
        eprintln!("users: an admin reset a user's two-factor sign-in");
    }
    users::invalidate(&context.cache, id);
    Ok(Response::builder().status(204).build())
}
