//! What a file claims to be: its media type, its name, and whether its
//! first bytes agree.

/// Bytes [`contradicts`] needs to see.
pub const SNIFF_LEN: usize = 16;

/// The media type's essence (`type/subtype`, lower-cased, without
/// parameters), or `None` when it is not a media type.
pub fn essence(value: &str) -> Option<String> {
    let essence = value.split(';').next()?.trim().to_ascii_lowercase();
    let (kind, subtype) = essence.split_once('/')?;
    let token = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&^_.+-".contains(&b))
    };
    (token(kind) && token(subtype) && essence.len() <= 255).then_some(essence)
}

/// Signatures of executables: refused whatever type is declared.
const EXECUTABLES: &[&[u8]] = &[
    b"MZ",               // PE (Windows .exe, .dll)
    b"\x7fELF",          // ELF
    b"\xfe\xed\xfa\xce", // Mach-O 32
    b"\xce\xfa\xed\xfe",
    b"\xfe\xed\xfa\xcf", // Mach-O 64
    b"\xcf\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe", // Mach-O universal (and Java classes)
    b"\0asm",            // WebAssembly
];

/// Whether the first bytes of the file (up to [`SNIFF_LEN`], all of them
/// when shorter) contradict the declared type: an executable, or a type
/// with a signature whose signature is missing.
pub fn contradicts(essence: &str, prefix: &[u8]) -> bool {
    if EXECUTABLES.iter().any(|magic| prefix.starts_with(magic)) {
        return true;
    }
    let starts = |magic: &[u8]| prefix.starts_with(magic);
    let matches = match essence {
        "image/png" => starts(b"\x89PNG\r\n\x1a\n"),
        "image/jpeg" => starts(b"\xff\xd8\xff"),
        "image/gif" => starts(b"GIF87a") || starts(b"GIF89a"),
        "image/webp" => starts(b"RIFF") && prefix.get(8..12) == Some(b"WEBP"),
        "application/pdf" => starts(b"%PDF-"),
        "application/zip" => starts(b"PK\x03\x04") || starts(b"PK\x05\x06"),
        _ => true,
    };
    !matches
}

/// The client's file name as kept: its last path segment (so `../a/b.txt`
/// is `b.txt`), trimmed. Err: why it cannot be kept. The length bound is on
/// the name as sent (openapi.yaml's `maxLength`), not only on what is kept.
pub fn filename(raw: &str) -> Result<String, String> {
    if raw.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
    }
    if raw.chars().count() > 255 {
        return Err("must be at most 255 characters".into());
    }
    let name = raw.rsplit(['/', '\\']).next().unwrap_or_default().trim();
    if name.is_empty() || name == "." || name == ".." {
        return Err("must name a file".into());
    }
    Ok(name.to_owned())
}

/// `attachment` with the file's name, for `Content-Disposition` (RFC 6266):
/// an ASCII fallback and the exact UTF-8 name (RFC 8187).
pub fn attachment(filename: &str) -> String {
    let fallback: String = filename
        .chars()
        .map(|c| match c {
            ' '..='~' if c != '"' && c != '\\' && c != '%' => c,
            _ => '_',
        })
        .collect();
    let mut encoded = String::new();
    for byte in filename.bytes() {
        if byte.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&byte) {
            encoded.push(byte as char);
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn essences_drop_parameters_and_case() {
        assert_eq!(
            essence("Text/Plain; charset=utf-8").as_deref(),
            Some("text/plain")
        );
        assert_eq!(essence("image/png").as_deref(), Some("image/png"));
        for bad in ["", "text", "text/", "/plain", "te xt/plain", "a/b/c"] {
            assert_eq!(essence(bad), None, "{bad}");
        }
    }

    #[test]
    fn executables_and_wrong_signatures_contradict() {
        assert!(contradicts("image/png", b"MZ\x90\0"));
        assert!(contradicts("text/plain", b"\x7fELF\x02\x01"));
        assert!(contradicts("image/png", b"GIF89a"));
        assert!(contradicts("image/png", b""));
        assert!(!contradicts("image/png", b"\x89PNG\r\n\x1a\n\0\0"));
        assert!(!contradicts("image/webp", b"RIFF\0\0\0\0WEBPVP8 "));
        assert!(contradicts("image/webp", b"RIFF\0\0\0\0WAVE"));
        assert!(!contradicts("text/plain", b"hello"));
        assert!(!contradicts("text/plain", b""));
    }

    #[test]
    fn filenames_lose_their_path() {
        assert_eq!(filename("../../etc/passwd").unwrap(), "passwd");
        assert_eq!(filename("C:\\Users\\a\\report.pdf").unwrap(), "report.pdf");
        assert_eq!(filename("  résumé.pdf ").unwrap(), "résumé.pdf");
        assert!(filename("").is_err());
        assert!(filename("dir/").is_err());
        assert!(filename("..").is_err());
        assert!(filename("a\nb").is_err());
        assert!(filename(&"x".repeat(256)).is_err());
        assert!(filename(&format!("dir/{}", "x".repeat(252))).is_err());
        assert!(filename(&format!("dir/{}", "x".repeat(251))).is_ok());
        assert_eq!(filename(". .").unwrap(), ". .");
        assert_eq!(filename("...").unwrap(), "...");
        assert!(filename(" . ").is_err());
        assert!(filename("a\u{9f}b").is_err(), "C1 controls too");
    }

    #[test]
    fn attachments_quote_safely() {
        assert_eq!(
            attachment("a \"b\".pdf"),
            "attachment; filename=\"a _b_.pdf\"; filename*=UTF-8''a%20%22b%22.pdf"
        );
        assert_eq!(
            attachment("é.txt"),
            "attachment; filename=\"_.txt\"; filename*=UTF-8''%C3%A9.txt"
        );
    }
}
