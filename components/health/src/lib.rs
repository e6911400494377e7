//! `GET /health`: whether the backing services the app depends on answer.
//!
//! Each check is a real round trip to the service. A check for a service the
//! app does not have configured yet is left out rather than reported "ok".

use serde::Serialize;
use spin_sdk::http::{IntoResponse, Method, Request};
use spin_sdk::http_component;
use spin_sdk::key_value::Store;
use spinstack_shared::{Problem, respond};
use std::collections::BTreeMap;

#[derive(Serialize)]
struct Health {
    status: &'static str,
    checks: BTreeMap<&'static str, &'static str>,
}

#[http_component]
fn handle(request: Request) -> impl IntoResponse {
    if *request.method() != Method::Get && *request.method() != Method::Head {
        return Problem::method_not_allowed().into_response();
    }
    let mut checks = BTreeMap::new();
    checks.insert("cache", status_of(check_cache()));
    let healthy = checks.values().all(|s| *s == "ok");
    let health = Health {
        status: if healthy { "ok" } else { "degraded" },
        checks,
    };
    respond::json(if healthy { 200 } else { 503 }, &health)
}

fn status_of(result: Result<(), ()>) -> &'static str {
    match result {
        Ok(()) => "ok",
        Err(()) => "unavailable",
    }
}

/// The key-value store answers a read.
fn check_cache() -> Result<(), ()> {
    let store = Store::open_default().map_err(|_| ())?;
    store.exists("health:probe").map(|_| ()).map_err(|_| ())
}
