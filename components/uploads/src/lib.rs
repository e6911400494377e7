//! `/api/uploads/...`: files in the S3-compatible store (API.md, Uploads).
//!
//! Each route is one file. The direct upload streams the request body to
//! the store chunk by chunk (never the whole file in guest memory); every
//! other route reads its (small) request whole. Objects live under keys
//! chosen here (`uploads/<id>`); the record in Postgres is written before
//! any byte reaches the store and removed only after its object is gone,
//! so no object is ever without a record. Uploads left `pending` (never
//! completed, or failed while the store was down) are swept after a
//! successful request has been answered (`sweep.rs`).

mod complete;
mod content;
mod create;
mod delete;
mod list;
mod presign;
mod record;
mod settings;
mod show;
mod sweep;

use futures::StreamExt;
use spin_sdk::http::{IncomingRequest, Method, Request, ResponseOutparam};
use spin_sdk::http_component;
use spinstack_shared::Problem;
use spinstack_shared::db::Db;
use spinstack_shared::dispatch::{Route, dispatch};
use spinstack_shared::respond::Reply;

/// Largest body read for the routes other than the direct upload.
const SMALL_BODY_LIMIT: usize = 64 * 1024;

#[http_component]
async fn handle(incoming: IncomingRequest, out: ResponseOutparam) {
    let reply = route(incoming).await.unwrap_or_else(Reply::from);
    // Only after a request that got through (a caller who passed the token
    // check, working services): refused ones cost nothing more.
    let succeeded = (200..300).contains(reply.response.status());
    reply.send(out).await;
    // After the response, as auth delivers mail: the sweep never delays it.
    if succeeded {
        sweep::sweep(&Db::new()).await;
    }
}

#[derive(Clone, Copy)]
enum Target {
    Collection,
    Presign,
    One,
    Complete,
}

const ROUTES: &[Route<Target>] = &[
    Route {
        pattern: "/api/uploads",
        methods: &[Method::Get, Method::Post],
        target: Target::Collection,
    },
    Route {
        pattern: "/api/uploads/presign",
        methods: &[Method::Post],
        target: Target::Presign,
    },
    Route {
        pattern: "/api/uploads/{}",
        methods: &[Method::Get, Method::Delete],
        target: Target::One,
    },
    Route {
        pattern: "/api/uploads/{}/complete",
        methods: &[Method::Post],
        target: Target::Complete,
    },
];

async fn route(incoming: IncomingRequest) -> Result<Reply, Problem> {
    // The request without its body: enough for routing and the token check.
    let mut head = Request::builder()
        .method(incoming.method())
        .uri(incoming.uri())
        .headers(incoming.headers())
        .build();
    let path = head.path().to_owned();
    let found = dispatch(ROUTES, head.method(), &path)?;
    let method = head.method().clone();
    let id = found.params.first().copied().unwrap_or_default();
    if let (Target::Collection, Method::Post) = (found.target, &method) {
        // The one route that streams its body.
        return Ok(create::handle(incoming, &head).await);
    }
    *head.body_mut() = small_body(incoming).await?;
    let result = match found.target {
        Target::Collection => list::handle(&head),
        Target::Presign => presign::handle(&head),
        Target::One if method == Method::Get => show::handle(&head, id),
        Target::One => delete::handle(&head, id).await,
        Target::Complete => complete::handle(&head, id).await,
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
