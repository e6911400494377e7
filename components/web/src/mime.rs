//! Media types by file extension: `mime_guess`'s table, with the few
//! answers we change.

/// The `Content-Type` for a file name (by its extension, case-insensitive).
pub fn content_type(name: &str) -> String {
    let extension = name
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase())
        .unwrap_or_default();
    let essence = match extension.as_str() {
        // Source maps are JSON; mime_guess says text/plain.
        "map" => "application/json",
        // RFC 9239 makes text/javascript the one type for JavaScript,
        // modules included; mime_guess still says application/javascript.
        "mjs" => "text/javascript",
        _ => mime_guess::from_ext(&extension)
            .first_raw()
            .unwrap_or("application/octet-stream"),
    };
    // A browser guesses the charset of text it is not told about; what
    // Vite emits is UTF-8. XML declares its own encoding, so is left alone.
    if essence.starts_with("text/") && essence != "text/xml" {
        format!("{essence}; charset=utf-8")
    } else {
        essence.to_owned()
    }
}

/// Whether a compressed sibling can exist for this type (text-like; images
/// other than SVG, fonts and media are compressed already).
pub fn compressible(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    essence.starts_with("text/")
        || matches!(
            essence,
            "application/json"
                | "application/manifest+json"
                | "application/xml"
                | "application/wasm"
                | "image/svg+xml"
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vite_outputs_get_their_types() {
        assert_eq!(content_type("index.html"), "text/html; charset=utf-8");
        assert_eq!(
            content_type("index-CZ2H9NIt.js"),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(
            content_type("index-CZ2H9NIt.CSS"),
            "text/css; charset=utf-8"
        );
        assert_eq!(content_type("favicon.svg"), "image/svg+xml");
        assert_eq!(content_type("logo.png"), "image/png");
        assert_eq!(content_type("font.woff2"), "font/woff2");
        assert_eq!(content_type("app.MJS"), "text/javascript; charset=utf-8");
        assert_eq!(content_type("index.js.map"), "application/json");
        assert_eq!(content_type("notes.txt"), "text/plain; charset=utf-8");
        assert_eq!(content_type("feed.xml"), "text/xml");
        assert_eq!(
            content_type("site.webmanifest"),
            "application/manifest+json"
        );
        assert_eq!(content_type("app.wasm"), "application/wasm");
        assert_eq!(content_type("LICENSE"), "application/octet-stream");
        assert_eq!(
            content_type("archive.tar.unknown"),
            "application/octet-stream"
        );
    }

    #[test]
    fn only_text_like_types_are_compressible() {
        assert!(compressible("text/javascript; charset=utf-8"));
        assert!(compressible("image/svg+xml"));
        assert!(compressible("application/json"));
        assert!(compressible(&content_type("feed.xml")));
        assert!(!compressible("image/png"));
        assert!(!compressible("font/woff2"));
        assert!(!compressible("application/octet-stream"));
    }
}
