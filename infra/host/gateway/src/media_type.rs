//! Media types the request path treats specially, recognised one way
//! wherever it asks: the essence (parameters such as `charset` ignored),
//! case-insensitive.

/// Server-sent events: never compressed, and the drain ends such a body.
pub const EVENT_STREAM: &str = "text/event-stream";

/// Whether a `Content-Type` (or one `Accept` range) names `media_type`.
pub fn is(value: &str, media_type: &str) -> bool {
    value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .eq_ignore_ascii_case(media_type)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_essence_counts_whatever_its_case_and_parameters() {
        assert!(is("text/event-stream", EVENT_STREAM));
        assert!(is(" Text/Event-Stream; charset=utf-8", EVENT_STREAM));
        assert!(!is("text/plain", EVENT_STREAM));
        assert!(!is("text/event-streams", EVENT_STREAM));
    }
}
