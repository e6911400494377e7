//! Whether a response is compressed, and with what (the host does the compressing).

use crate::config::CompressionConfig;
use crate::media_type;

/// A content coding the gateway can apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Encoding {
    Brotli,
    Gzip,
}

impl Encoding {
    /// The `Content-Encoding` token.
    pub fn token(self) -> &'static str {
        match self {
            Encoding::Brotli => "br",
            Encoding::Gzip => "gzip",
        }
    }

    pub(crate) fn from_token(token: &str) -> Option<Self> {
        match token {
            "br" => Some(Encoding::Brotli),
            "gzip" => Some(Encoding::Gzip),
            _ => None,
        }
    }
}

/// nginx compresses text/html whatever gzip_types says; so do we.
const ALWAYS: &str = "text/html";

/// Never compressed, whatever `types` says: an encoder holds bytes back
/// until it has a block's worth, and each server-sent event must reach the
/// client when it is written (the rendered nginx.conf turns gzip off on
/// such routes too).
const NEVER: &str = crate::media_type::EVENT_STREAM;

impl CompressionConfig {
    /// Whether a response may be compressed: compression on, no
    /// `Content-Encoding` yet, a configured media type (parameters such as
    /// `charset` ignored, case-insensitive), and a `Content-Length`, when known,
    /// of at least `min_size` (a streamed body of unknown length qualifies, as in nginx).
    pub fn should_compress(
        &self,
        content_type: Option<&str>,
        content_length: Option<u64>,
        already_encoded: bool,
    ) -> bool {
        if !self.enabled || already_encoded || self.encodings.is_empty() {
            return false;
        }
        if content_length.is_some_and(|length| length < self.min_size.bytes()) {
            return false;
        }
        let Some(content_type) = content_type else {
            return false;
        };
        if media_type::is(content_type, NEVER) {
            return false;
        }
        media_type::is(content_type, ALWAYS)
            || self.types.iter().any(|t| media_type::is(content_type, t))
    }

    /// The configured encoding the client accepts best (`Accept-Encoding`
    /// q-values; ties go to the configured order). `None`: send it as it is.
    /// Only named codings count (no `*`), as in nginx; `x-gzip` means gzip.
    pub fn negotiate(&self, accept_encoding: Option<&str>) -> Option<Encoding> {
        let accept_encoding = accept_encoding?;
        let mut best: Option<(Encoding, u16)> = None;
        for &encoding in &self.encodings {
            let quality = quality_of(accept_encoding, encoding);
            if quality > 0 && best.is_none_or(|(_, q)| quality > q) {
                best = Some((encoding, quality));
            }
        }
        best.map(|(encoding, _)| encoding)
    }
}

/// The q-value (in thousandths) the header gives `encoding`; 0 when absent or malformed.
fn quality_of(accept_encoding: &str, encoding: Encoding) -> u16 {
    let mut quality = 0;
    for item in accept_encoding.split(',') {
        let mut parts = item.split(';');
        let coding = parts.next().unwrap_or_default().trim();
        let matches = coding.eq_ignore_ascii_case(encoding.token())
            || (encoding == Encoding::Gzip && coding.eq_ignore_ascii_case("x-gzip"));
        if !matches {
            continue;
        }
        let mut q = 1000;
        for parameter in parts {
            if let Some((name, value)) = parameter.split_once('=')
                && name.trim().eq_ignore_ascii_case("q")
            {
                q = parse_qvalue(value.trim()).unwrap_or(0);
            }
        }
        quality = quality.max(q);
    }
    quality
}

/// RFC 9110 qvalue: "0", "0.5", "1", "1.000"... in thousandths.
fn parse_qvalue(text: &str) -> Option<u16> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if fraction.len() > 3 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let thousandths = format!("{fraction:0<3}").parse::<u16>().ok()?;
    match whole {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::GatewayConfig;

    fn policy() -> CompressionConfig {
        GatewayConfig::default().compression().clone()
    }

    #[test]
    fn text_json_js_css_and_svg_are_compressed() {
        let policy = policy();
        for content_type in [
            "text/plain",
            "text/html; charset=utf-8",
            "TEXT/CSS",
            "application/json; charset=utf-8",
            "application/problem+json",
            "application/javascript",
            "text/javascript",
            "image/svg+xml",
        ] {
            assert!(
                policy.should_compress(Some(content_type), Some(10_000), false),
                "{content_type}"
            );
        }
    }

    #[test]
    fn event_streams_never_are_even_when_listed() {
        let mut policy = policy();
        policy.types.push("text/event-stream".to_owned());
        for content_type in ["text/event-stream", "Text/Event-Stream; charset=utf-8"] {
            assert!(!policy.should_compress(Some(content_type), None, false));
        }
    }

    #[test]
    fn other_types_encoded_or_small_bodies_are_not() {
        let policy = policy();
        for content_type in [
            "image/png",
            "application/octet-stream",
            "video/mp4",
            "application/zip",
            "text",
        ] {
            assert!(
                !policy.should_compress(Some(content_type), Some(10_000), false),
                "{content_type}"
            );
        }
        assert!(
            !policy.should_compress(None, Some(10_000), false),
            "no content type"
        );
        assert!(
            !policy.should_compress(Some("application/json"), Some(10_000), true),
            "already encoded"
        );
        assert!(
            !policy.should_compress(Some("application/json"), Some(1023), false),
            "below 1k"
        );
        assert!(
            policy.should_compress(Some("application/json"), Some(1024), false),
            "exactly 1k"
        );
        assert!(
            policy.should_compress(Some("application/json"), None, false),
            "streamed, length unknown"
        );
    }

    #[test]
    fn disabled_compression_compresses_nothing() {
        let mut policy = policy();
        policy.enabled = false;
        assert!(!policy.should_compress(Some("text/plain"), Some(10_000), false));
    }

    #[test]
    fn negotiation_prefers_br_then_gzip_and_honours_q() {
        let policy = policy();
        assert_eq!(
            policy.negotiate(Some("gzip, deflate, br")),
            Some(Encoding::Brotli)
        );
        assert_eq!(policy.negotiate(Some("gzip")), Some(Encoding::Gzip));
        assert_eq!(policy.negotiate(Some("x-gzip")), Some(Encoding::Gzip));
        assert_eq!(
            policy.negotiate(Some("br;q=0.5, gzip;q=0.8")),
            Some(Encoding::Gzip)
        );
        assert_eq!(policy.negotiate(Some("br;q=0, gzip")), Some(Encoding::Gzip));
        assert_eq!(policy.negotiate(Some("gzip;q=0")), None);
        assert_eq!(policy.negotiate(Some("gzip;q=0.000")), None);
        assert_eq!(policy.negotiate(Some("BR;Q=1.0")), Some(Encoding::Brotli));
        assert_eq!(
            policy.negotiate(Some("gzip;q=2")),
            None,
            "malformed q refuses"
        );
        assert_eq!(policy.negotiate(Some("identity, deflate")), None);
        assert_eq!(policy.negotiate(Some("*")), None);
        assert_eq!(policy.negotiate(Some("")), None);
        assert_eq!(policy.negotiate(None), None);
    }
}
