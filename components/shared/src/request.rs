//! JSON request bodies: 415 unless the client says JSON, 400 when it is not
//! a JSON object, 422 (naming the field when serde can) when it is an object
//! of the wrong shape. Request types use `deny_unknown_fields`: an unknown
//! field is refused, never silently dropped. Also query parameters.

use serde::de::DeserializeOwned;
use spin_sdk::http::Request;

use crate::Problem;

/// The body as `T`.
pub fn json_body<T: DeserializeOwned>(request: &Request) -> Result<T, Problem> {
    if !is_json(request) {
        return Err(Problem::unsupported_media_type(
            "Send the body as application/json.",
        ));
    }
    parse_json(request.body())
}

/// Like [`json_body`], but an empty body (with or without a content type) is
/// `T::default()`: for calls whose every field is optional.
pub fn optional_json_body<T: DeserializeOwned + Default>(request: &Request) -> Result<T, Problem> {
    if request.body().iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    json_body(request)
}

/// `application/json`, with any parameters, or a `+json` type.
pub fn is_json(request: &Request) -> bool {
    let Some(value) = request.header("content-type").and_then(|v| v.as_str()) else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// The body as `T`: 400 unless it is a JSON object, 422 if the object does
/// not fit `T` (missing, unknown, `null` or mistyped fields).
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, Problem> {
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|_| Problem::bad_request("The body is not valid JSON."))?;
    if !value.is_object() {
        return Err(Problem::bad_request("The body must be a JSON object."));
    }
    serde_path_to_error::deserialize(value).map_err(|e| {
        let field = offending_field(&e);
        let reason = data_error(e.inner());
        let mut problem = Problem::invalid_field(&field, reason.clone());
        problem.detail = format!("The JSON body has the wrong shape: {reason}.");
        problem
    })
}

/// For an optional field of a request type, with `#[serde(default,
/// deserialize_with = "not_null")]`: absent is `None`, a value is `Some`, and
/// `null` is refused (422 naming the field) as the contract says, rather than
/// read as absent.
pub fn not_null<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

/// The field an error is about: the unknown one, else the path serde was
/// at (`body` for the top level).
fn offending_field(error: &serde_path_to_error::Error<serde_json::Error>) -> String {
    let message = error.inner().to_string();
    if let Some(rest) = message.strip_prefix("unknown field `")
        && let Some((name, _)) = rest.split_once('`')
    {
        return name.to_owned();
    }
    if let Some(rest) = message.strip_prefix("missing field `")
        && let Some((name, _)) = rest.split_once('`')
    {
        return name.to_owned();
    }
    match error.path().to_string().as_str() {
        "." | "" => "body".to_owned(),
        path => path.to_owned(),
    }
}

/// serde's message without its position suffix (which says nothing to a
/// client).
fn data_error(error: &serde_json::Error) -> String {
    let message = error.to_string();
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message,
    }
}

/// The first value of `name` in a query string, percent-decoded (`+` is a
/// space, as in forms).
pub fn query_param(query: &str, name: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        (decode(key)? == name).then(|| decode(value)).flatten()
    })
}

fn decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_parameters_are_decoded() {
        assert_eq!(
            query_param("a=1&filename=r%C3%A9sum%C3%A9+1.pdf", "filename").as_deref(),
            Some("résumé 1.pdf")
        );
        assert_eq!(query_param("filename", "filename").as_deref(), Some(""));
        assert_eq!(query_param("x=1", "filename"), None);
        assert_eq!(query_param("filename=%zz", "filename"), None);
    }

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Login {
        email: String,
    }

    #[test]
    fn syntax_errors_are_400_and_shape_errors_422() {
        assert_eq!(parse_json::<Login>(b"{").unwrap_err().status, 400);
        assert_eq!(parse_json::<Login>(b"").unwrap_err().status, 400);
        assert_eq!(parse_json::<Login>(b"[1]").unwrap_err().status, 400);
        assert_eq!(parse_json::<Login>(b"\"text\"").unwrap_err().status, 400);
        let shape = parse_json::<Login>(b"{\"email\": 3}").unwrap_err();
        assert_eq!(shape.status, 422);
        assert!(shape.errors.contains_key("email"), "{:?}", shape.errors);
        assert!(!shape.detail.contains("line"), "{}", shape.detail);
        let unknown = parse_json::<Login>(b"{\"email\": \"a\", \"role\": 1}").unwrap_err();
        assert_eq!(unknown.status, 422);
        assert!(unknown.errors.contains_key("role"), "{:?}", unknown.errors);
        let missing = parse_json::<Login>(b"{}").unwrap_err();
        assert!(missing.errors.contains_key("email"), "{:?}", missing.errors);
    }

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    struct Patch {
        #[serde(default, deserialize_with = "not_null")]
        name: Option<String>,
    }

    #[test]
    fn optional_fields_may_be_absent_but_not_null() {
        assert_eq!(parse_json::<Patch>(b"{}").unwrap().name, None);
        assert_eq!(
            parse_json::<Patch>(b"{\"name\": \"Ada\"}")
                .unwrap()
                .name
                .as_deref(),
            Some("Ada")
        );
        let null = parse_json::<Patch>(b"{\"name\": null}").unwrap_err();
        assert_eq!(null.status, 422);
        assert!(null.errors.contains_key("name"), "{:?}", null.errors);
    }
}
