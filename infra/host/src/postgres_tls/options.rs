//! Takes the TLS options tokio-postgres 0.7 does not understand out of a
//! connection string (URL or `key=value` form) before it is parsed:
//! `sslrootcert`, and the `sslmode` values `verify-ca` and `verify-full`,
//! which become `require` (TLS required) with the verification kept aside.
//! Everything else is handed through as written, so tokio-postgres still
//! parses (and refuses) the rest exactly as before.

use std::borrow::Cow;

use percent_encoding::percent_decode_str;

/// The TLS options found in a connection string.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Found {
    /// The last `sslmode` given, as written.
    pub sslmode: Option<String>,
    /// The last `sslrootcert` given.
    pub sslrootcert: Option<String>,
}

/// `sslmode` as tokio-postgres should see it: the verifying modes are
/// plain `require` to it (we verify in the TLS connector).
fn mode_for_tokio_postgres(mode: &str) -> &str {
    match mode {
        "verify-ca" | "verify-full" => "require",
        other => other,
    }
}

/// The connection string without `sslrootcert`, with a verifying `sslmode`
/// as `require`, and what was found.
pub fn split(conn_str: &str) -> (String, Found) {
    if conn_str.starts_with("postgres://") || conn_str.starts_with("postgresql://") {
        split_url(conn_str)
    } else {
        split_key_values(conn_str)
    }
}

fn split_url(url: &str) -> (String, Found) {
    let mut found = Found::default();
    let Some((base, query)) = url.split_once('?') else {
        return (url.to_owned(), found);
    };
    let mut kept: Vec<Cow<'_, str>> = Vec::new();
    for pair in query.split('&') {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let decoded = || percent_decode_str(value).decode_utf8_lossy().into_owned();
        match percent_decode_str(key).decode_utf8_lossy().as_ref() {
            "sslrootcert" => found.sslrootcert = Some(decoded()),
            "sslmode" => {
                let mode = decoded();
                kept.push(Cow::Owned(format!(
                    "sslmode={}",
                    mode_for_tokio_postgres(&mode)
                )));
                found.sslmode = Some(mode);
            }
            _ => kept.push(Cow::Borrowed(pair)),
        }
    }
    if kept.is_empty() {
        return (base.to_owned(), found);
    }
    (format!("{base}?{}", kept.join("&")), found)
}

/// One `key=value` of the key/value form: the key, the unescaped value, and
/// where the whole pair is in the string.
struct Pair {
    key: String,
    value: String,
    span: std::ops::Range<usize>,
}

/// The pairs of a key/value string, as libpq reads them: whitespace between
/// pairs, optional whitespace around `=`, values bare or in single quotes,
/// `\` escaping the next character. `None` if it is malformed: then the
/// string is left alone and tokio-postgres reports the error.
fn pairs(s: &str) -> Option<Vec<Pair>> {
    let chars: Vec<(usize, char)> = s.char_indices().collect();
    let at = |i: usize| chars.get(i).map(|&(_, c)| c);
    let offset = |i: usize| chars.get(i).map_or(s.len(), |&(o, _)| o);
    let mut pairs = Vec::new();
    let mut i = 0;
    loop {
        while at(i).is_some_and(char::is_whitespace) {
            i += 1;
        }
        if at(i).is_none() {
            return Some(pairs);
        }
        let start = i;
        while at(i).is_some_and(|c| c != '=' && !c.is_whitespace()) {
            i += 1;
        }
        let key = s[offset(start)..offset(i)].to_owned();
        while at(i).is_some_and(char::is_whitespace) {
            i += 1;
        }
        if at(i) != Some('=') || key.is_empty() {
            return None;
        }
        i += 1;
        while at(i).is_some_and(char::is_whitespace) {
            i += 1;
        }
        let mut value = String::new();
        if at(i) == Some('\'') {
            i += 1;
            loop {
                match at(i)? {
                    '\'' => break,
                    '\\' => {
                        value.push(at(i + 1)?);
                        i += 2;
                    }
                    c => {
                        value.push(c);
                        i += 1;
                    }
                }
            }
            i += 1;
        } else {
            while let Some(c) = at(i).filter(|c| !c.is_whitespace()) {
                if c == '\\' {
                    value.push(at(i + 1)?);
                    i += 2;
                } else {
                    value.push(c);
                    i += 1;
                }
            }
        }
        pairs.push(Pair {
            key,
            value,
            span: offset(start)..offset(i),
        });
    }
}

fn split_key_values(s: &str) -> (String, Found) {
    let mut found = Found::default();
    let Some(pairs) = pairs(s) else {
        return (s.to_owned(), found);
    };
    let mut kept: Vec<String> = Vec::new();
    for pair in pairs {
        match pair.key.as_str() {
            "sslrootcert" => found.sslrootcert = Some(pair.value),
            "sslmode" => {
                // The modes are plain words: no quoting needed.
                kept.push(format!("sslmode={}", mode_for_tokio_postgres(&pair.value)));
                found.sslmode = Some(pair.value);
            }
            _ => kept.push(s[pair.span].to_owned()),
        }
    }
    (kept.join(" "), found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(mode: Option<&str>, root: Option<&str>) -> Found {
        Found {
            sslmode: mode.map(str::to_owned),
            sslrootcert: root.map(str::to_owned),
        }
    }

    #[test]
    fn urls_lose_sslrootcert_and_verifying_modes() {
        assert_eq!(
            split("postgres://u:p@db:5432/app?sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem"),
            (
                "postgres://u:p@db:5432/app?sslmode=require".to_owned(),
                found(Some("verify-full"), Some("/etc/ca.pem"))
            )
        );
        assert_eq!(
            split("postgresql://db/app?sslrootcert=/ca.pem&application_name=x&sslmode=verify-ca"),
            (
                "postgresql://db/app?application_name=x&sslmode=require".to_owned(),
                found(Some("verify-ca"), Some("/ca.pem"))
            )
        );
        assert_eq!(
            split("postgres://db/app?sslrootcert=/ca.pem"),
            ("postgres://db/app".to_owned(), found(None, Some("/ca.pem")))
        );
        // Modes tokio-postgres knows, and strings without options, unchanged.
        for url in [
            "postgres://db/app?sslmode=disable",
            "postgres://db/app?sslmode=require&connect_timeout=3",
            "postgres://u:p%3F@db/app",
            "postgres://db/app?sslmode=bogus",
        ] {
            assert_eq!(split(url).0, url);
        }
    }

    #[test]
    fn key_values_lose_sslrootcert_and_verifying_modes() {
        assert_eq!(
            split("host=db user=u sslmode = verify-full sslrootcert='/my certs/ca.pem' dbname=x"),
            (
                "host=db user=u sslmode=require dbname=x".to_owned(),
                found(Some("verify-full"), Some("/my certs/ca.pem"))
            )
        );
        assert_eq!(
            split(r"host=db password='it\'s' sslrootcert=/a\ b.pem"),
            (
                r"host=db password='it\'s'".to_owned(),
                found(None, Some("/a b.pem"))
            )
        );
        assert_eq!(
            split("host=db sslmode=require").0,
            "host=db sslmode=require"
        );
        // Malformed: handed through for tokio-postgres to refuse.
        for bad in ["host=db password='unterminated", "host db", "=x"] {
            assert_eq!(split(bad), (bad.to_owned(), Found::default()));
        }
    }
}
