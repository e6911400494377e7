//! JSON responses with the API's content type.

use serde::Serialize;
use spin_sdk::http::Response;

pub const JSON_CONTENT_TYPE: &str = "application/json; charset=utf-8";

pub fn json(status: u16, value: &impl Serialize) -> Response {
    let body = serde_json::to_vec(value).unwrap_or_default();
    Response::builder()
        .status(status)
        .header("content-type", JSON_CONTENT_TYPE)
        .body(body)
        .build()
}
