//! `/api/users/...`: the caller's profile, one user, the admin list, admin
//! updates and deletes (API.md, Users), an admin's reset of two-factor
//! sign-in. Each route group is one file; the
//! token check, the user record and its cache live in `spinstack-shared`.

mod admins;
mod announced;
mod cursor;
mod delete;
mod email_change;
mod list;
mod me;
mod one;
mod two_factor_reset;

use spin_sdk::http::conversions::TryFromIncomingRequest;
use spin_sdk::http::{IncomingRequest, Method, Request, ResponseOutparam};
use spin_sdk::http_component;
use spinstack_shared::cache::Cache;
use spinstack_shared::db::Db;
use spinstack_shared::dispatch::{Route, dispatch};
use spinstack_shared::respond::Reply;
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
async fn handle(incoming: IncomingRequest, out: ResponseOutparam) {
    let reply = match Request::try_from_incoming_request(incoming).await {
        Ok(request) => route(&request).await.unwrap_or_else(Reply::from),
        Err(_) => Problem::bad_request("The request body could not be read.").into(),
    };
    let deliver_mail = reply.deliver_mail;
    reply.send(out).await;
    // After the response, as in auth: a slow mail API never delays it.
    if deliver_mail {
        spinstack_shared::mail::deliver::deliver_due(&Db::new()).await;
    }
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
    Route {
        pattern: "/api/users/{}/totp",
        methods: &[Method::Delete],
        target: Target::TwoFactor,
    },
];

async fn route(request: &Request) -> Result<Reply, Problem> {
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
    let response = match (found.target, request.method()) {
        (Target::Collection, _) => list::handle(&context),
        (Target::Me, Method::Get) => me::get(&context),
        (Target::Me, _) => return me::patch(&context),
        (Target::One, method) => match (id(), method) {
            (None, _) => Err(Problem::not_found()),
            (Some(id), Method::Get) => one::get(&context, id),
            (Some(id), Method::Patch) => one::patch(&context, id),
            (Some(id), _) => delete::handle(&context, id).await,
        },
        (Target::TwoFactor, _) => match id() {
            None => Err(Problem::not_found()),
            Some(id) => two_factor_reset::handle(&context, id),
        },
    };
    response.map(Reply::from)
}

#[derive(Clone, Copy)]
enum Target {
    Collection,
    Me,
    One,
    TwoFactor,
}
