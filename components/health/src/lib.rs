//! `GET /health`: whether the backing services the app depends on answer.
//!
//! Each check is a real round trip to the service: `cache` reads the
//! key-value store, `database` runs `SELECT 1` on the app's Postgres
//! (`database_url`), `storage` sends a SigV4-signed `HEAD` of the app's
//! bucket (`s3_*` variables). The variables come from the operator on real
//! Spin, or from the embedded services of `spinstack up`.
//!
//! All checks pass: 200 `{"status":"ok","checks":{...}}`. Any fails: 503, a
//! problem document (`application/problem+json`) whose `detail` names the
//! failing checks and whose `checks` member has every result (`ok` or
//! `error`), as `openapi.yaml`'s `HealthProblem`. Why a check failed goes to
//! the log only.

use std::collections::BTreeMap;
use std::time::Duration;

use rusty_s3::{Bucket, Credentials, S3Action, UrlStyle};
use serde::Serialize;
use spin_sdk::http::{Method, Request, Response};
use spin_sdk::http_component;
use spin_sdk::key_value::Store;
use spin_sdk::{pg4, variables};
use spinstack_shared::Problem;
use spinstack_shared::problem::PROBLEM_CONTENT_TYPE;
use spinstack_shared::respond::JSON_CONTENT_TYPE;

const OK: &str = "ok";
const ERROR: &str = "error";

/// Seconds a client should wait before asking again after a 503.
const RETRY_AFTER: &str = "5";

type Checks = BTreeMap<&'static str, &'static str>;

/// The 200 body.
#[derive(Serialize)]
struct Health {
    status: &'static str,
    checks: Checks,
}

/// The 503 body: a problem document with the per-service results.
#[derive(Serialize)]
struct HealthProblem {
    #[serde(flatten)]
    problem: Problem,
    checks: Checks,
}

#[http_component]
async fn handle(request: Request) -> Response {
    // One route, so no table: the same 405 (with `Allow`) as the others.
    const METHODS: &[Method] = &[Method::Get, Method::Head];
    if !METHODS.contains(request.method()) {
        return Problem::method_not_allowed_for(METHODS).into_response();
    }
    let mut checks = Checks::new();
    checks.insert("cache", outcome("cache", check_cache()));
    checks.insert("database", outcome("database", check_database()));
    checks.insert("storage", outcome("storage", check_storage().await));
    report(checks)
}

/// The response for a set of check results.
fn report(checks: Checks) -> Response {
    let failing: Vec<&str> = checks
        .iter()
        .filter(|(_, state)| **state != OK)
        .map(|(name, _)| *name)
        .collect();
    let (status, content_type, body) = if failing.is_empty() {
        let body = serde_json::to_vec(&Health { status: OK, checks });
        (200, JSON_CONTENT_TYPE, body)
    } else {
        let body = serde_json::to_vec(&HealthProblem {
            problem: Problem::service_unavailable(failing_detail(&failing)),
            checks,
        });
        (503, PROBLEM_CONTENT_TYPE, body)
    };
    // Maps of strings always serialise.
    let body = body.unwrap_or_default();
    let mut builder = Response::builder();
    builder
        .status(status)
        .header("content-type", content_type)
        // A stored answer would hide an outage (or a recovery).
        .header("cache-control", "no-store");
    if status == 503 {
        builder.header("retry-after", RETRY_AFTER);
    }
    builder.body(body).build()
}

/// `Failing check: cache.` / `Failing checks: cache, storage.`
fn failing_detail(failing: &[&str]) -> String {
    let noun = if failing.len() == 1 {
        "check"
    } else {
        "checks"
    };
    format!("Failing {noun}: {}.", failing.join(", "))
}

/// `ok`, or `error` with the reason logged (to the host's log, never to the
/// client: it may name hosts or carry a server's message).
fn outcome(name: &str, result: Result<(), String>) -> &'static str {
    match result {
        Ok(()) => OK,
        Err(reason) => {
            eprintln!("health: check {name} failed: {reason}");
            ERROR
        }
    }
}

fn variable(name: &str) -> Result<String, String> {
    match variables::get(name) {
        Ok(value) if !value.is_empty() => Ok(value),
        Ok(_) => Err(format!("variable {name} is empty")),
        Err(e) => Err(format!("variable {name}: {e}")),
    }
}

/// The key-value store answers a read.
fn check_cache() -> Result<(), String> {
    let store = Store::open_default().map_err(|e| format!("cannot open the store: {e}"))?;
    store
        .exists("health:probe")
        .map(|_| ())
        .map_err(|e| format!("cannot read the store: {e}"))
}

/// The database answers a query.
fn check_database() -> Result<(), String> {
    let connection = pg4::Connection::open(&variable("database_url")?)
        .map_err(|e| format!("cannot connect: {e}"))?;
    connection
        .query("SELECT 1", &[])
        .map(|_| ())
        .map_err(|e| format!("SELECT 1 failed: {e}"))
}

/// The bucket exists and our credentials are accepted.
async fn check_storage() -> Result<(), String> {
    let endpoint = variable("s3_endpoint")?
        .parse()
        .map_err(|e| format!("s3_endpoint is not a URL: {e}"))?;
    let region = variable("s3_region").unwrap_or_else(|_| "us-east-1".to_owned());
    let bucket = Bucket::new(endpoint, UrlStyle::Path, variable("s3_bucket")?, region)
        .map_err(|e| format!("invalid bucket: {e}"))?;
    let credentials = Credentials::new(
        variable("s3_access_key_id")?,
        variable("s3_secret_access_key")?,
    );
    let url = bucket
        .head_bucket(Some(&credentials))
        .sign(Duration::from_secs(60));
    let response: Response = spin_sdk::http::send(Request::new(Method::Head, url.as_str()))
        .await
        .map_err(|e| format!("HEAD bucket: {e}"))?;
    match *response.status() {
        200 => Ok(()),
        status => Err(format!("HEAD bucket answered {status}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_detail_names_every_failing_check() {
        assert_eq!(failing_detail(&["cache"]), "Failing check: cache.");
        assert_eq!(
            failing_detail(&["database", "storage"]),
            "Failing checks: database, storage."
        );
    }
}
