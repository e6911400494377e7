//! `GET /health`: whether the backing services the app depends on answer.
//!
//! Each check is a real round trip to the service: `cache` reads the
//! key-value store, `database` runs `SELECT 1` on the app's Postgres
//! (`database_url`), `storage` sends a SigV4-signed `HEAD` of the app's
//! bucket (`s3_*` variables). The variables come from the operator on real
//! Spin, or from the embedded services of `spinstack up`.

use std::collections::BTreeMap;
use std::time::Duration;

use rusty_s3::{Bucket, Credentials, S3Action, UrlStyle};
use serde::Serialize;
use spin_sdk::http::{IntoResponse, Method, Request, Response};
use spin_sdk::http_component;
use spin_sdk::key_value::Store;
use spin_sdk::{pg4, variables};
use spinstack_shared::{Problem, respond};

#[derive(Serialize)]
struct Health {
    status: &'static str,
    checks: BTreeMap<&'static str, &'static str>,
}

#[http_component]
async fn handle(request: Request) -> Response {
    if *request.method() != Method::Get && *request.method() != Method::Head {
        return Problem::method_not_allowed().into_response();
    }
    let mut checks = BTreeMap::new();
    checks.insert("cache", status_of(check_cache()));
    checks.insert("database", status_of(check_database()));
    checks.insert("storage", status_of(check_storage().await));
    let healthy = checks.values().all(|s| *s == "ok");
    let health = Health {
        status: if healthy { "ok" } else { "degraded" },
        checks,
    };
    respond::json(if healthy { 200 } else { 503 }, &health).into_response()
}

fn status_of(result: Result<(), ()>) -> &'static str {
    match result {
        Ok(()) => "ok",
        Err(()) => "unavailable",
    }
}

fn variable(name: &str) -> Result<String, ()> {
    variables::get(name)
        .map_err(|_| ())
        .and_then(|value| if value.is_empty() { Err(()) } else { Ok(value) })
}

/// The key-value store answers a read.
fn check_cache() -> Result<(), ()> {
    let store = Store::open_default().map_err(|_| ())?;
    store.exists("health:probe").map(|_| ()).map_err(|_| ())
}

/// The database answers a query.
fn check_database() -> Result<(), ()> {
    let connection = pg4::Connection::open(&variable("database_url")?).map_err(|_| ())?;
    connection
        .query("SELECT 1", &[])
        .map(|_| ())
        .map_err(|_| ())
}

/// The bucket exists and our credentials are accepted.
async fn check_storage() -> Result<(), ()> {
    let endpoint = variable("s3_endpoint")?.parse().map_err(|_| ())?;
    let region = variable("s3_region").unwrap_or_else(|()| "us-east-1".to_owned());
    let bucket =
        Bucket::new(endpoint, UrlStyle::Path, variable("s3_bucket")?, region).map_err(|_| ())?;
    let credentials = Credentials::new(
        variable("s3_access_key_id")?,
        variable("s3_secret_access_key")?,
    );
    let url = bucket
        .head_bucket(Some(&credentials))
        .sign(Duration::from_secs(60));
    let response: Response = spin_sdk::http::send(Request::new(Method::Head, url.as_str()))
        .await
        .map_err(|_| ())?;
    if *response.status() == 200 {
        Ok(())
    } else {
        Err(())
    }
}
