//! `/api/auth/...`: register, log in, refresh, log out (API.md, Auth).
//!
//! Each route is one file; what they share with the other components (the
//! token format, the user record, errors) lives in `spinstack-shared`.

mod cookie_mode;
mod first_admin;
mod housekeeping;
mod login;
mod refresh_tokens;
mod register;
mod session;
mod settings;
mod tokens;

use spin_sdk::http::conversions::TryFromIncomingRequest;
use spin_sdk::http::{IncomingRequest, Method, Request, ResponseOutparam};
use spin_sdk::http_component;
use spinstack_shared::Problem;
use spinstack_shared::respond::Reply;

#[http_component]
async fn handle(incoming: IncomingRequest, out: ResponseOutparam) {
    let reply = match Request::try_from_incoming_request(incoming).await {
        Ok(request) => route(&request),
        Err(_) => Problem::bad_request("The request body could not be read.").into(),
    };
    reply.send(out).await;
}

fn route(request: &Request) -> Reply {
    let handler: fn(&Request) -> Result<Reply, Problem> = match request.path() {
        "/api/auth/register" => register::handle,
        "/api/auth/login" => login::handle,
        "/api/auth/refresh" => session::refresh,
        "/api/auth/logout" => session::logout,
        _ => return Problem::not_found().into(),
    };
    if *request.method() != Method::Post {
        return Reply::from(Problem::method_not_allowed()).with_header("allow", "POST".into());
    }
    handler(request).unwrap_or_else(Reply::from)
}
