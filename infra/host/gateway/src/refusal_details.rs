//! The problem details (RFC 9457) of the gateway's own refusals, so the host
//! and the rendered nginx.conf answer with the same words.

/// `detail` of a 429.
pub const RATE_LIMITED_DETAIL: &str =
    "Too many requests from this address; retry after the number of seconds in Retry-After.";

/// `detail` of a 413.
pub const BODY_TOO_LARGE_DETAIL: &str = "The request body is larger than this endpoint accepts.";

/// `detail` of a 502 from a proxied prefix whose upstream cannot be reached.
pub const UPSTREAM_UNREACHABLE_DETAIL: &str =
    "The service behind this path is unreachable; retry later.";

/// `detail` of a 504 from a proxied prefix whose upstream did not answer in time.
pub const UPSTREAM_TIMEOUT_DETAIL: &str = "The service behind this path did not answer in time.";

/// The media type of the bodies.
pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

/// The complete JSON body for `status` (429, 413, 502 or 504; others get a bare title).
pub fn problem_body(status: u16) -> String {
    let (title, detail) = match status {
        429 => ("Too Many Requests", RATE_LIMITED_DETAIL),
        413 => ("Payload Too Large", BODY_TOO_LARGE_DETAIL),
        502 => ("Bad Gateway", UPSTREAM_UNREACHABLE_DETAIL),
        504 => ("Gateway Timeout", UPSTREAM_TIMEOUT_DETAIL),
        _ => ("Error", ""),
    };
    // Constant ASCII texts without quotes or backslashes: nothing to escape.
    format!(r#"{{"type":"about:blank","title":"{title}","status":{status},"detail":"{detail}"}}"#)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_problem_details() {
        assert_eq!(
            problem_body(429),
            format!(
                r#"{{"type":"about:blank","title":"Too Many Requests","status":429,"detail":"{RATE_LIMITED_DETAIL}"}}"#
            )
        );
        assert!(problem_body(413).contains(r#""status":413"#));
        assert!(problem_body(502).contains(r#""title":"Bad Gateway","status":502"#));
        for text in [
            RATE_LIMITED_DETAIL,
            BODY_TOO_LARGE_DETAIL,
            UPSTREAM_UNREACHABLE_DETAIL,
            UPSTREAM_TIMEOUT_DETAIL,
        ] {
            assert!(
                text.chars()
                    .all(|c| (' '..='~').contains(&c) && !"\"\\'$".contains(c))
            );
        }
    }
}
