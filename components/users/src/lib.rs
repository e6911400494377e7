//! `/api/users/...`: the caller's profile, one user, the admin list, admin
//! updates and deletes (API.md, Users). Each route group is one file; the
//! token check, the user record and its cache live in `spinstack-shared`.

mod admins;
mod cursor;
mod delete;
mod list;
mod me;
mod one;

use spin_sdk::http::{Method, Request, Response};
use spin_sdk::http_component;
use spinstack_shared::cache::Cache;
use spinstack_shared::db::Db;
use spinstack_shared::{Principal, Problem, authenticate};
use uuid::Uuid;

/// What every handler gets: the request, the caller, and the request's
/// database connection and cache.
pub struct Context<'a> {
    pub request: &'a Request,
    pub caller: Principal,
    pub db: Db,
    pub cache: Cache,
}

#[http_component]
async fn handle(request: Request) -> Response {
    route(&request).await.unwrap_or_else(Problem::into_response)
}

async fn route(request: &Request) -> Result<Response, Problem> {
    let target = match request.path().trim_end_matches('/') {
        "/api/users" => Target::Collection,
        "/api/users/me" => Target::Me,
        path => match path.strip_prefix("/api/users/") {
            // Not a UUID: no such user (never a 500 from a bad id).
            Some(id) if !id.contains('/') => Target::One(Uuid::parse_str(id).ok()),
            _ => return Err(Problem::not_found()),
        },
    };
    let allowed: &[Method] = match target {
        Target::Collection => &[Method::Get],
        Target::Me => &[Method::Get, Method::Patch],
        Target::One(_) => &[Method::Get, Method::Patch, Method::Delete],
    };
    if !allowed.contains(request.method()) {
        let mut response = Problem::method_not_allowed().into_response();
        let names: Vec<String> = allowed.iter().map(|m| m.to_string()).collect();
        response.set_header("allow", names.join(", "));
        return Ok(response);
    }
    let db = Db::new();
    let cache = Cache::open();
    let caller = authenticate(request, &db, &cache)?;
    let context = Context {
        request,
        caller,
        db,
        cache,
    };
    match (target, request.method()) {
        (Target::Collection, _) => list::handle(&context),
        (Target::Me, Method::Get) => me::get(&context),
        (Target::Me, _) => me::patch(&context),
        (Target::One(None), _) => Err(Problem::not_found()),
        (Target::One(Some(id)), Method::Get) => one::get(&context, id),
        (Target::One(Some(id)), Method::Patch) => one::patch(&context, id),
        (Target::One(Some(id)), _) => delete::handle(&context, id).await,
    }
}

enum Target {
    Collection,
    Me,
    One(Option<Uuid>),
}
