//! RFC 9457 problem details, the one error shape of the API.

use std::collections::BTreeMap;

use serde::Serialize;
use spin_sdk::http::Response;

pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub title: &'static str,
    pub status: u16,
    pub detail: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub errors: BTreeMap<String, Vec<String>>,
    /// RFC 6750 `error` of a 401's `WWW-Authenticate: Bearer` challenge.
    #[serde(skip)]
    pub bearer_error: Option<&'static str>,
    /// Seconds for `Retry-After` (429, 503). (`u16`, up to 18 hours, and
    /// the `&'static` slice below keep `Problem` under clippy's size limit
    /// for an error type.)
    #[serde(skip)]
    pub retry_after: Option<u16>,
    /// `Allow` of a 405: the methods the resource does answer (empty: no
    /// header).
    #[serde(skip)]
    pub allow: &'static [spin_sdk::http::Method],
}

impl Problem {
    pub fn new(status: u16, title: &'static str, detail: impl Into<String>) -> Self {
        Self {
            kind: "about:blank",
            title,
            status,
            detail: detail.into(),
            errors: BTreeMap::new(),
            bearer_error: None,
            retry_after: None,
            allow: &[],
        }
    }

    /// 400: the body is not what it claims to be (malformed JSON, ...).
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(400, "Bad Request", detail)
    }

    /// 401 with `WWW-Authenticate: Bearer`: no credentials were sent, or the
    /// ones sent are wrong. `invalid_token` adds RFC 6750's error code.
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(401, "Unauthorized", detail)
    }

    /// 401 for a bearer token that was sent and refused.
    pub fn invalid_token() -> Self {
        let mut problem = Self::unauthorized("The access token is invalid or expired.");
        problem.bearer_error = Some("invalid_token");
        problem
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(403, "Forbidden", detail)
    }

    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(409, "Conflict", detail)
    }

    pub fn payload_too_large(detail: impl Into<String>) -> Self {
        Self::new(413, "Content Too Large", detail)
    }

    pub fn unsupported_media_type(detail: impl Into<String>) -> Self {
        Self::new(415, "Unsupported Media Type", detail)
    }

    /// 422 with one reason per field.
    pub fn validation(errors: BTreeMap<String, Vec<String>>) -> Self {
        let mut problem = Self::new(
            422,
            "Unprocessable Content",
            "Some fields are invalid; see `errors`.",
        );
        problem.errors = errors;
        problem
    }

    /// 422 for a single field.
    pub fn invalid_field(field: &str, reason: impl Into<String>) -> Self {
        Self::validation(BTreeMap::from([(field.to_owned(), vec![reason.into()])]))
    }

    /// 500 that names nothing: the reason is in the log.
    pub fn internal() -> Self {
        Self::new(
            500,
            "Internal Server Error",
            "Something went wrong on our side.",
        )
    }

    pub fn not_found() -> Self {
        Self::new(404, "Not Found", "No such resource.")
    }

    /// 405 naming the methods the resource answers, as `Allow` (RFC 9110
    /// requires it on every 405).
    pub fn method_not_allowed_for(methods: &'static [spin_sdk::http::Method]) -> Self {
        let mut problem = Self::new(
            405,
            "Method Not Allowed",
            "This method is not allowed here.",
        );
        problem.allow = methods;
        problem
    }

    pub fn service_unavailable(detail: impl Into<String>) -> Self {
        Self::new(503, "Service Unavailable", detail)
    }

    pub fn into_response(self) -> Response {
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut builder = Response::builder();
        builder
            .status(self.status)
            .header("content-type", PROBLEM_CONTENT_TYPE);
        if self.status == 401 {
            let challenge = match self.bearer_error {
                Some(error) => format!("Bearer error=\"{error}\""),
                None => "Bearer".to_owned(),
            };
            builder.header("www-authenticate", challenge);
        }
        match (self.retry_after, self.status) {
            (Some(seconds), _) => {
                builder.header("retry-after", seconds.to_string());
            }
            (None, 503) => {
                builder.header("retry-after", "5");
            }
            _ => {}
        }
        if !self.allow.is_empty() {
            let names: Vec<String> = self.allow.iter().map(ToString::to_string).collect();
            builder.header("allow", names.join(", "));
        }
        builder.body(body).build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_as_rfc_9457_without_empty_errors() {
        let json = serde_json::to_value(Problem::not_found()).unwrap();
        assert_eq!(json["type"], "about:blank");
        assert_eq!(json["status"], 404);
        assert!(json.get("errors").is_none());
    }
}
