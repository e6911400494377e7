//! RFC 9457 problem details, the one error shape of the API.

use std::collections::BTreeMap;

use serde::Serialize;
use spin_sdk::http::Response;

pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub errors: BTreeMap<String, Vec<String>>,
}

impl Problem {
    pub fn new(status: u16, title: &str, detail: impl Into<String>) -> Self {
        Self {
            kind: "about:blank".into(),
            title: title.into(),
            status,
            detail: detail.into(),
            errors: BTreeMap::new(),
        }
    }

    pub fn not_found() -> Self {
        Self::new(404, "Not Found", "No such resource.")
    }

    pub fn method_not_allowed() -> Self {
        Self::new(
            405,
            "Method Not Allowed",
            "This method is not allowed here.",
        )
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
        if self.status == 503 {
            builder.header("retry-after", "5");
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
