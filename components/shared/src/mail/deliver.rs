//! Delivery of the outbox: claim due rows, post each to the mail API, record
//! the outcome. Runs after a response has been sent (so neither a slow nor a
//! down provider delays or fails the request that wrote the mail) and as the
//! sweep every auth request ends with.
//!
//! Claiming is one statement: it locks due rows with `FOR UPDATE SKIP
//! LOCKED` (a concurrent sweep skips them rather than waiting) and moves
//! their `next_attempt_at` past the next backoff step, so once it commits
//! no other replica sees them as due. That step is also the lease: a claim
//! whose sender died is retried when it ends. A send that succeeds sets
//! `sent_at`; one that fails leaves the row for the next step.

use spin_sdk::http::{Method, Request, Response};

use crate::db::{Db, int_param, str_param, uuid_param};
use crate::{Problem, config};

/// Rows one sweep sends at most (a request's deadline bounds the rest).
const BATCH: i64 = 10;
/// After this many attempts a row is left for an operator (`last_error`).
const MAX_ATTEMPTS: i64 = 10;
/// The first retry's delay; each further one doubles, up to a day.
const DEFAULT_RETRY_SECONDS: u64 = 60;
const DEFAULT_FROM: &str = "Spinstack <no-reply@localhost>";

/// Where and as whom mail is sent (Spin variables).
struct Provider {
    /// Base URL of a Postmark-compatible API; messages go to `{url}/email`.
    url: String,
    token: String,
    from: String,
}

impl Provider {
    fn from_variables() -> Result<Self, Problem> {
        Ok(Provider {
            url: config::required("mail_api_url")?,
            token: config::or_default("mail_api_token", ""),
            from: config::or_default("mail_from", DEFAULT_FROM),
        })
    }
}

struct Claimed {
    id: uuid::Uuid,
    recipient: String,
    subject: String,
    text: String,
    html: String,
}

/// Sends the due messages; how many were delivered. Never fails: every
/// problem is logged (without bodies) and the rows wait for the next sweep.
pub async fn deliver_due(db: &Db) -> usize {
    let Ok(provider) = Provider::from_variables() else {
        return 0;
    };
    let claimed = match claim(db) {
        Ok(claimed) => claimed,
        Err(problem) => {
            eprintln!("mail: cannot claim due messages: {}", problem.detail);
            return 0;
        }
    };
    let mut delivered = 0;
    for message in claimed {
        let outcome = send(&provider, &message).await;
        let recorded = match &outcome {
            Ok(()) => db.execute(
                "UPDATE mail_outbox SET sent_at = now(), last_error = NULL WHERE id = $1",
                &[uuid_param(message.id)],
            ),
            Err(reason) => db.execute(
                "UPDATE mail_outbox SET last_error = $2 WHERE id = $1",
                &[uuid_param(message.id), str_param(reason.as_str())],
            ),
        };
        match outcome {
            Ok(()) => delivered += 1,
            Err(reason) => eprintln!("mail: message {} not delivered: {reason}", message.id),
        }
        if recorded.is_err() {
            // The lease ends the claim; a delivered row may then go twice.
            eprintln!("mail: cannot record the outcome of message {}", message.id);
        }
    }
    delivered
}

/// Locks and leases the due rows (see the module's comment).
fn claim(db: &Db) -> Result<Vec<Claimed>, Problem> {
    let retry = config::parsed("mail_retry_seconds", DEFAULT_RETRY_SECONDS)?;
    let rows = db.rows(
        "UPDATE mail_outbox SET attempts = attempts + 1, \
           next_attempt_at = now() + make_interval(secs => \
             least($1::bigint::float8 * power(2::float8, attempts), 86400::float8)) \
         WHERE id IN (SELECT id FROM mail_outbox \
                      WHERE sent_at IS NULL AND next_attempt_at <= now() AND attempts < $3::bigint \
                      ORDER BY next_attempt_at LIMIT $2::bigint FOR UPDATE SKIP LOCKED) \
         RETURNING id::text AS id, recipient, subject, text_body, html_body",
        &[
            int_param(retry as i64),
            int_param(BATCH),
            int_param(MAX_ATTEMPTS),
        ],
    )?;
    Ok(rows
        .rows()
        .filter_map(|row| {
            Some(Claimed {
                id: uuid::Uuid::parse_str(&row.get::<String>("id")?).ok()?,
                recipient: row.get("recipient")?,
                subject: row.get("subject")?,
                text: row.get("text_body")?,
                html: row.get("html_body")?,
            })
        })
        .collect())
}

/// Posts one message (Postmark's `POST /email`); a short reason on failure.
async fn send(provider: &Provider, message: &Claimed) -> Result<(), String> {
    let body = serde_json::json!({
        "From": provider.from,
        "To": message.recipient,
        "Subject": message.subject,
        "TextBody": message.text,
        "HtmlBody": message.html,
        "MessageStream": "outbound",
    });
    let request = Request::builder()
        .method(Method::Post)
        .uri(format!("{}/email", provider.url.trim_end_matches('/')))
        .header("accept", "application/json")
        .header("content-type", "application/json")
        .header("x-postmark-server-token", provider.token.as_str())
        .body(serde_json::to_vec(&body).unwrap_or_default())
        .build();
    let response: Response = spin_sdk::http::send(request)
        .await
        // The error's kind only: its text could quote the request.
        .map_err(|e| format!("the mail API is unreachable ({})", error_kind(&e)))?;
    match *response.status() {
        200..=299 => Ok(()),
        status => Err(format!("the mail API answered {status}")),
    }
}

/// The variant names in an error's `Debug` form (`Http(ConnectionRefused)`
/// → `Http:ConnectionRefused`), with quoted text dropped: short and free of
/// data.
fn error_kind(error: &dyn std::fmt::Debug) -> String {
    let text = format!("{error:?}");
    let unquoted: String = text.split('"').step_by(2).collect::<Vec<_>>().join(" ");
    let kind = unquoted
        .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        .filter(|part| part.starts_with(|c: char| c.is_ascii_uppercase()))
        .collect::<Vec<_>>()
        .join(":");
    match kind.is_empty() {
        true => "error".to_owned(),
        false => kind.chars().take(80).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::error_kind;

    #[test]
    fn an_error_is_reduced_to_its_kind() {
        #[derive(Debug)]
        #[allow(dead_code)]
        enum E {
            Http(Box<E>),
            ConnectionRefused(String),
        }
        let e = E::Http(Box::new(E::ConnectionRefused("Token=secret".into())));
        assert_eq!(error_kind(&e), "Http:ConnectionRefused");
    }
}
