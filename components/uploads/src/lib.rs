//! `/api/uploads/...`: files in the S3-compatible store (API.md, Uploads).
//!
//! Each route is one file. The direct upload streams the request body to
//! the store chunk by chunk (never the whole file in guest memory); every
//! other route reads its (small) request whole. Objects live under keys
//! chosen here (`uploads/<id>`); the record in Postgres is written before
//! any byte reaches the store and removed only after its object is gone,
//! so no object is ever without a record.

mod complete;
mod content;
mod create;
mod delete;
mod list;
mod presign;
mod record;
mod settings;
mod show;

use futures::StreamExt;
use spin_sdk::http::{IncomingRequest, Method, Request, ResponseOutparam};
use spin_sdk::http_component;
use spinstack_shared::Problem;
use spinstack_shared::respond::Reply;

/// Largest body read for the routes other than the direct upload.
const SMALL_BODY_LIMIT: usize = 64 * 1024;

#[http_component]
async fn handle(incoming: IncomingRequest, out: ResponseOutparam) {
    route(incoming)
        .await
        .unwrap_or_else(Reply::from)
        .send(out)
        .await;
}

enum Route<'a> {
    Collection,
    Presign,
    One(&'a str),
    Complete(&'a str),
}

async fn route(incoming: IncomingRequest) -> Result<Reply, Problem> {
    // The request without its body: enough for routing and the token check.
    let mut head = Request::builder()
        .method(incoming.method())
        .uri(incoming.uri())
        .headers(incoming.headers())
        .build();
    let path = head.path().to_owned();
    let rest = path
        .strip_prefix("/api/uploads")
        .ok_or_else(Problem::not_found)?;
    if !rest.is_empty() && !rest.starts_with('/') {
        return Err(Problem::not_found());
    }
    let route = match rest.trim_end_matches('/') {
        "" => Route::Collection,
        "/presign" => Route::Presign,
        other => match other[1..].split_once('/') {
            None => Route::One(&other[1..]),
            Some((id, "complete")) => Route::Complete(id),
            Some(_) => return Err(Problem::not_found()),
        },
    };
    let method = head.method().clone();
    let allowed = match (&route, &method) {
        (Route::Collection, Method::Post) => return Ok(create::handle(incoming, &head).await),
        (Route::Collection, Method::Get) => None,
        (Route::Collection, _) => Some("GET, POST"),
        (Route::Presign | Route::Complete(_), Method::Post) => None,
        (Route::Presign | Route::Complete(_), _) => Some("POST"),
        (Route::One(_), Method::Get | Method::Delete) => None,
        (Route::One(_), _) => Some("GET, DELETE"),
    };
    if let Some(allow) = allowed {
        return Ok(Reply::from(Problem::method_not_allowed()).with_header("allow", allow.into()));
    }
    *head.body_mut() = small_body(incoming).await?;
    let result = match route {
        Route::Collection => list::handle(&head),
        Route::Presign => presign::handle(&head),
        Route::One(id) if method == Method::Get => show::handle(&head, id),
        Route::One(id) => delete::handle(&head, id).await,
        Route::Complete(id) => complete::handle(&head, id).await,
    };
    result.or_else(|problem| Ok(problem.into()))
}

/// The whole body, refused with 413 past [`SMALL_BODY_LIMIT`].
async fn small_body(incoming: IncomingRequest) -> Result<Vec<u8>, Problem> {
    let mut stream = incoming.into_body_stream();
    let mut body = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk =
            chunk.map_err(|_| Problem::bad_request("The request body could not be read."))?;
        if body.len() + chunk.len() > SMALL_BODY_LIMIT {
            return Err(Problem::payload_too_large("The request body is too large."));
        }
        body.extend(chunk);
    }
    Ok(body)
}
