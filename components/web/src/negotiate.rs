//! `Accept-Encoding` and `If-None-Match`.

/// A precompressed representation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

    /// The file suffix of its sibling.
    pub fn suffix(self) -> &'static str {
        match self {
            Encoding::Brotli => ".br",
            Encoding::Gzip => ".gz",
        }
    }
}

/// The quality the client gives `coding` (RFC 9110 §12.5.3): its own entry,
/// else `*`, else 0 (not acceptable). `x-gzip` counts as `gzip`.
fn quality(accept_encoding: &str, coding: &str) -> f32 {
    let mut star = None;
    for item in accept_encoding.split(',') {
        let mut parts = item.split(';');
        let name = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        if name.is_empty() {
            continue;
        }
        let mut q = 1.0;
        for param in parts {
            if let Some((key, value)) = param.split_once('=')
                && key.trim().eq_ignore_ascii_case("q")
            {
                q = value.trim().parse::<f32>().unwrap_or(0.0).clamp(0.0, 1.0);
            }
        }
        let name = if name == "x-gzip" {
            "gzip".to_owned()
        } else {
            name
        };
        if name == coding {
            return q;
        }
        if name == "*" {
            star = Some(q);
        }
    }
    star.unwrap_or(0.0)
}

/// The encodings to try, best first, among those the client accepts:
/// higher quality first, brotli before gzip on a tie.
pub fn preferred(accept_encoding: Option<&str>) -> Vec<Encoding> {
    let Some(header) = accept_encoding else {
        return Vec::new();
    };
    let mut options: Vec<(Encoding, f32)> = [Encoding::Brotli, Encoding::Gzip]
        .into_iter()
        .map(|e| (e, quality(header, e.token())))
        .filter(|(_, q)| *q > 0.0)
        .collect();
    // Stable sort: the tie order above (br, gzip) is kept.
    options.sort_by(|a, b| b.1.total_cmp(&a.1));
    options.into_iter().map(|(e, _)| e).collect()
}

/// Whether `If-None-Match` matches `etag` (weak comparison, as RFC 9110
/// §13.1.2 requires for this header; `*` matches any current representation).
pub fn none_match(if_none_match: &str, etag: &str) -> bool {
    let ours = etag.trim_start_matches("W/");
    if_none_match.split(',').map(str::trim).any(|candidate| {
        candidate == "*" || (!candidate.is_empty() && candidate.trim_start_matches("W/") == ours)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use Encoding::{Brotli, Gzip};

    #[test]
    fn brotli_first_when_both_are_equal() {
        assert_eq!(
            preferred(Some("gzip, deflate, br, zstd")),
            vec![Brotli, Gzip]
        );
        assert_eq!(preferred(Some("br")), vec![Brotli]);
        assert_eq!(preferred(Some("gzip")), vec![Gzip]);
        assert_eq!(preferred(Some("x-gzip")), vec![Gzip]);
        assert_eq!(preferred(Some("*")), vec![Brotli, Gzip]);
    }

    #[test]
    fn qualities_are_honoured() {
        assert_eq!(preferred(Some("br;q=0.5, gzip;q=0.9")), vec![Gzip, Brotli]);
        assert_eq!(preferred(Some("br;q=0, gzip")), vec![Gzip]);
        assert_eq!(preferred(Some("GZIP;Q=0.1, *;q=0")), vec![Gzip]);
        assert_eq!(preferred(Some("*;q=0.3, br;q=0")), vec![Gzip]);
        assert_eq!(preferred(Some("gzip;q=nonsense")), vec![]);
    }

    #[test]
    fn no_header_or_identity_only_means_no_encoding() {
        assert_eq!(preferred(None), vec![]);
        assert_eq!(preferred(Some("")), vec![]);
        assert_eq!(preferred(Some("identity")), vec![]);
        assert_eq!(preferred(Some("deflate, zstd")), vec![]);
    }

    #[test]
    fn if_none_match_uses_weak_comparison() {
        let etag = "\"abc\"";
        assert!(none_match("\"abc\"", etag));
        assert!(none_match("W/\"abc\"", etag));
        assert!(none_match("\"x\", \"abc\"", etag));
        assert!(none_match("*", etag));
        assert!(!none_match("\"abcd\"", etag));
        assert!(!none_match("abc", etag));
        assert!(!none_match("", etag));
    }
}
