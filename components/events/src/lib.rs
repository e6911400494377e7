//! `GET /api/events`: the caller's events (uploads ready or deleted, their
//! profile changed, their session revoked) as server-sent events
//! (README.md, "Realtime (server-sent events)").
//!
//! One instance serves one open stream: it checks the token as every
//! component does, then polls the outbox (infra/migrations/0005_events.sql)
//! and writes each new event to the streamed response body as it appears.
//! The stream ends after `events_stream_seconds` (or when the access token
//! expires, or its session is revoked), so instances are recycled; the
//! client reconnects with `Last-Event-ID` and misses nothing.

mod frames;
mod outbox;
mod settings;
mod stream;

use spin_sdk::http::{IncomingRequest, Method, Request, ResponseOutparam};
use spin_sdk::http_component;
use spinstack_shared::cache::Cache;
use spinstack_shared::db::Db;
use spinstack_shared::dispatch::{Route, dispatch};
use spinstack_shared::respond::Reply;
use spinstack_shared::{Principal, Problem, authenticate};

use crate::settings::Settings;

#[http_component]
async fn handle(incoming: IncomingRequest, out: ResponseOutparam) {
    // The request has no body: its head is all there is to read.
    let head = Request::builder()
        .method(incoming.method())
        .uri(incoming.uri())
        .headers(incoming.headers())
        .build();
    // The connection is let go before the stream starts (see stream.rs).
    let opened = open(&head, &Db::new());
    match opened {
        Ok((principal, settings, start)) => {
            stream::run(out, &principal, &settings, start).await;
        }
        Err(problem) => Reply::from(problem).send(out).await,
    }
}

const ROUTES: &[Route<()>] = &[Route {
    pattern: "/api/events",
    methods: &[Method::Get],
    target: (),
}];

/// Everything that can still be refused with a status: the route, the
/// token, the database.
fn open(head: &Request, db: &Db) -> Result<(Principal, Settings, outbox::Start), Problem> {
    dispatch(ROUTES, head.method(), head.path())?;
    let principal = authenticate(head, db, &Cache::open())?;
    let settings = Settings::from_variables()?;
    let requested = outbox::requested_cursor(head);
    settings.maybe_sweep(db);
    let start = outbox::start(db, principal.id(), requested)?;
    Ok((principal, settings, start))
}
