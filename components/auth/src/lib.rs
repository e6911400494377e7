//! `/api/auth/...`: register, log in, refresh, log out (API.md, Auth);
//! password reset, address verification and address change by mailed links; TOTP
//! two-factor sign-in.
//!
//! Each route is one file; what they share with the other components (the
//! token format, the user record, errors) lives in `spinstack-shared`.

mod cookie_mode;
mod email_change;
mod first_admin;
mod housekeeping;
mod login;
mod login_challenge;
mod password_reset;
mod recovery_codes;
mod refresh_tokens;
mod register;
mod sealed_secret;
mod session;
mod settings;
mod tokens;
mod totp;
mod totp_factor;
mod two_factor;
mod verify_email;

use spin_sdk::http::conversions::TryFromIncomingRequest;
use spin_sdk::http::{IncomingRequest, Method, Request, ResponseOutparam};
use spin_sdk::http_component;
use spinstack_shared::Problem;
use spinstack_shared::dispatch::{Route, dispatch};
use spinstack_shared::respond::Reply;

#[http_component]
async fn handle(incoming: IncomingRequest, out: ResponseOutparam) {
    let reply = match Request::try_from_incoming_request(incoming).await {
        Ok(request) => route(&request),
        Err(_) => Problem::bad_request("The request body could not be read.").into(),
    };
    let deliver_mail = reply.deliver_mail;
    reply.send(out).await;
    // After the response: a slow or down mail API never delays or fails it.
    if deliver_mail {
        let db = spinstack_shared::db::Db::new();
        password_reset::match_pending(&db);
        spinstack_shared::mail::deliver::deliver_due(&db).await;
    }
}

type Handler = fn(&Request) -> Result<Reply, Problem>;

const ROUTES: &[Route<Handler>] = &[
    Route {
        pattern: "/api/auth/register",
        methods: &[Method::Post],
        target: register::handle,
    },
    Route {
        pattern: "/api/auth/login",
        methods: &[Method::Post],
        target: login::handle,
    },
    Route {
        pattern: "/api/auth/login/totp",
        methods: &[Method::Post],
        target: login_challenge::finish,
    },
    Route {
        pattern: "/api/auth/totp/enrol",
        methods: &[Method::Post],
        target: two_factor::enrol,
    },
    Route {
        pattern: "/api/auth/totp/confirm",
        methods: &[Method::Post],
        target: two_factor::confirm,
    },
    Route {
        pattern: "/api/auth/totp/disable",
        methods: &[Method::Post],
        target: two_factor::disable,
    },
    Route {
        pattern: "/api/auth/refresh",
        methods: &[Method::Post],
        target: session::refresh,
    },
    Route {
        pattern: "/api/auth/logout",
        methods: &[Method::Post],
        target: session::logout,
    },
    Route {
        pattern: "/api/auth/password-reset",
        methods: &[Method::Post],
        target: password_reset::request,
    },
    Route {
        pattern: "/api/auth/password-reset/confirm",
        methods: &[Method::Post],
        target: password_reset::confirm,
    },
    Route {
        pattern: "/api/auth/verify-email",
        methods: &[Method::Post],
        target: verify_email::verify,
    },
    Route {
        pattern: "/api/auth/email-change/confirm",
        methods: &[Method::Post],
        target: email_change::confirm,
    },
    Route {
        pattern: "/api/auth/verify-email/resend",
        methods: &[Method::Post],
        target: verify_email::resend,
    },
];

fn route(request: &Request) -> Reply {
    dispatch(ROUTES, request.method(), request.path())
        .and_then(|found| (found.target)(request))
        .unwrap_or_else(Reply::from)
}
