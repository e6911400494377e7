//! From a request path to a file under the app's root, refusing anything
//! that could leave it or name something other than what it says.

/// What a request path asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Target {
    /// A file path relative to the root, `/`-separated, each segment plain.
    /// The last segment has an extension.
    Asset(String),
    /// A client-side route (or `/`): answered with `index.html`.
    Route,
    /// `/api` or below: never the app.
    Api,
}

/// Why a path was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Malformed or an attempt to escape: 400.
    BadPath(&'static str),
    /// Well-formed but never served (hidden files, compressed siblings): 404.
    Hidden,
}

/// Classifies the raw (still percent-encoded) path of a request.
pub fn classify(raw: &str) -> Result<Target, Refusal> {
    if !raw.starts_with('/') {
        return Err(Refusal::BadPath("the path must start with '/'"));
    }
    if raw.contains('\\') {
        return Err(Refusal::BadPath("backslashes are not allowed in paths"));
    }
    let decoded = percent_decode(raw)?;
    let mut segments = Vec::new();
    for segment in decoded.split('/') {
        if segment.is_empty() {
            continue;
        }
        if segment == "." || segment == ".." {
            return Err(Refusal::BadPath("dot segments are not allowed in paths"));
        }
        segments.push(segment);
    }
    if segments.first().is_some_and(|first| *first == "api") {
        return Ok(Target::Api);
    }
    let Some(last) = segments.last() else {
        return Ok(Target::Route);
    };
    if segments.iter().any(|s| s.starts_with('.')) {
        return Err(Refusal::Hidden);
    }
    // An extension: a dot that is not the first character of the segment.
    if !last.contains('.') {
        return Ok(Target::Route);
    }
    if last.ends_with(".br") || last.ends_with(".gz") {
        // Precompressed siblings are representations, chosen by
        // Accept-Encoding, not addresses.
        return Err(Refusal::Hidden);
    }
    Ok(Target::Asset(segments.join("/")))
}

/// Decodes `%XX` escapes (the `percent-encoding` crate). That decoder is
/// lenient by design, so the refusals come first: bad escapes, escapes of
/// `/`, `\`, `.` and `%` (which would change how the path is split or
/// decoded again); then NUL and other control characters, and invalid
/// UTF-8.
fn percent_decode(raw: &str) -> Result<String, Refusal> {
    for escape in raw.split('%').skip(1) {
        let byte = escape
            .get(..2)
            .filter(|hex| hex.bytes().all(|b| b.is_ascii_hexdigit()))
            .and_then(|hex| u8::from_str_radix(hex, 16).ok())
            .ok_or(Refusal::BadPath("malformed percent-escape in the path"))?;
        if matches!(byte, b'/' | b'\\' | b'.' | b'%') {
            return Err(Refusal::BadPath(
                "encoded '/', '\\', '.' or '%' in the path",
            ));
        }
    }
    let text = percent_encoding::percent_decode_str(raw)
        .decode_utf8()
        .map_err(|_| Refusal::BadPath("the path is not UTF-8"))?;
    if text.chars().any(char::is_control) {
        return Err(Refusal::BadPath(
            "control characters are not allowed in paths",
        ));
    }
    Ok(text.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asset(path: &str) -> Result<Target, Refusal> {
        Ok(Target::Asset(path.to_owned()))
    }

    #[test]
    fn assets_routes_and_api() {
        assert_eq!(
            classify("/assets/index-abc.js"),
            asset("assets/index-abc.js")
        );
        assert_eq!(classify("/favicon.svg"), asset("favicon.svg"));
        assert_eq!(classify("/index.html"), asset("index.html"));
        assert_eq!(classify("//assets//x.css"), asset("assets/x.css"));
        assert_eq!(classify("/my%20file.txt"), asset("my file.txt"));
        assert_eq!(classify("/caf%C3%A9.txt"), asset("café.txt"));
        assert_eq!(classify("/"), Ok(Target::Route));
        assert_eq!(classify("/uploads"), Ok(Target::Route));
        assert_eq!(classify("/admin/users/"), Ok(Target::Route));
        assert_eq!(classify("/api"), Ok(Target::Api));
        assert_eq!(classify("/api/"), Ok(Target::Api));
        assert_eq!(classify("/api/nope.json"), Ok(Target::Api));
        assert_eq!(classify("/apis"), Ok(Target::Route));
    }

    #[test]
    fn traversal_is_refused() {
        for raw in [
            "/..",
            "/../etc/passwd",
            "/assets/../../spin.toml",
            "/./index.html",
            "/%2e%2e/spin.toml",
            "/%2E%2E/spin.toml",
            "/.%2e/x",
            "/assets%2f..%2fx",
            "/assets%2F..%2Fx",
            "/..%5cspin.toml",
            "/..\\spin.toml",
            "/assets\\index.js",
            "/index.html%00.js",
            "/a%0ab",
            "/%",
            "/%zz",
            "/%ff",
            "/%252e%252e/x",
            "/%+f/x",
            "/%e9",
            "/%c3%a9%",
            "relative",
        ] {
            assert!(
                matches!(classify(raw), Err(Refusal::BadPath(_))),
                "{raw:?} should be refused, got {:?}",
                classify(raw)
            );
        }
    }

    #[test]
    fn hidden_files_and_compressed_siblings_are_not_addresses() {
        for raw in [
            "/.env",
            "/.git/config",
            "/assets/.hidden.js",
            "/assets/index.js.br",
            "/index.html.gz",
        ] {
            assert_eq!(classify(raw), Err(Refusal::Hidden), "{raw}");
        }
    }
}
