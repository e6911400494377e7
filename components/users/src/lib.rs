//! `/api/users/...`: the caller's profile, one user, the admin list, admin
//! updates and deletes (API.md, Users). Each route group is one file; the
//! token check, the user record and its cache live in `spinstack-shared`.

mod admins;
mod announced;
mod cursor;
mod delete;
mod list;
mod me;
mod one;

use spin_sdk::http::{Method, Request, Response};
use spin_sdk::http_component;
use spinstack_shared::cache::Cache;
use spinstack_shared::db::Db;
use spinstack_shared::dispatch::{Route, dispatch};
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

const ROUTES: &[Route<Target>] = &[
    Route {
        pattern: "/api/users",
        methods: &[Method::Get],
        target: Target::Collection,
    },
    Route {
        pattern: "/api/users/me",
        methods: &[Method::Get, Method::Patch],
        target: Target::Me,
    },
    Route {
        pattern: "/api/users/{}",
        methods: &[Method::Get, Method::Patch, Method::Delete],
        target: Target::One,
    },
];

async fn route(request: &Request) -> Result<Response, Problem> {
    let found = dispatch(ROUTES, request.method(), request.path())?;
    let db = Db::new();
    let cache = Cache::open();
    let caller = authenticate(request, &db, &cache)?;
    let context = Context {
        request,
        caller,
        db,
        cache,
    };
    // Parsed after the token check: a bad id is a 404, but only for a
    // caller who may ask.
    let id = || found.params.first().and_then(|id| Uuid::parse_str(id).ok());
    match (found.target, request.method()) {
        (Target::Collection, _) => list::handle(&context),
        (Target::Me, Method::Get) => me::get(&context),
        (Target::Me, _) => me::patch(&context),
        (Target::One, method) => match (id(), method) {
            (None, _) => Err(Problem::not_found()),
            (Some(id), Method::Get) => one::get(&context, id),
            (Some(id), Method::Patch) => one::patch(&context, id),
            (Some(id), _) => delete::handle(&context, id).await,
        },
    }
}

#[derive(Clone, Copy)]
enum Target {
    Collection,
    Me,
    One,
}
