//! The decision for one request, independent of spin-sdk (so it is tested
//! natively against a directory).

use std::path::{Path, PathBuf};

use spinstack_shared::Problem;
use spinstack_shared::problem::PROBLEM_CONTENT_TYPE;

use crate::mime;
use crate::negotiate::{self, Encoding};
use crate::path::{self, Refusal, Target};

pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
pub const REVALIDATE: &str = "no-cache";
/// Hashed build outputs live here (Vite's `build.assetsDir`).
const HASHED_DIR: &str = "assets/";
const INDEX: &str = "index.html";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Head,
    Other,
}

pub struct Incoming<'a> {
    pub method: Method,
    /// The raw path (percent-encoded, no query).
    pub path: &'a str,
    pub accept_encoding: Option<&'a str>,
    pub if_none_match: Option<&'a str>,
}

#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn problem(problem: Problem, extra: &[(&'static str, &str)]) -> Reply {
    let body = serde_json::to_vec(&problem).unwrap_or_default();
    let mut headers = vec![
        ("content-type", PROBLEM_CONTENT_TYPE.to_owned()),
        ("cache-control", "no-store".to_owned()),
        ("content-length", body.len().to_string()),
    ];
    headers.extend(extra.iter().map(|(n, v)| (*n, (*v).to_owned())));
    Reply {
        status: problem.status,
        headers,
        body,
    }
}

fn not_found(detail: &str) -> Reply {
    problem(Problem::new(404, "Not Found", detail), &[])
}

/// Answers one request from the files under `root`.
pub fn serve(root: &Path, request: &Incoming<'_>) -> Reply {
    if request.method == Method::Other {
        return problem(
            Problem::new(
                405,
                "Method Not Allowed",
                "Only GET and HEAD are allowed here.",
            ),
            &[("allow", "GET, HEAD")],
        );
    }
    let (relative, is_route) = match path::classify(request.path) {
        Ok(Target::Api) => return not_found("No API operation matches this path."),
        Ok(Target::Asset(relative)) => (relative, false),
        Ok(Target::Route) => (INDEX.to_owned(), true),
        Err(Refusal::Hidden) => return not_found("No such file."),
        Err(Refusal::BadPath(why)) => {
            return problem(
                Problem::new(400, "Bad Request", format!("Invalid path: {why}.")),
                &[],
            );
        }
    };
    let file = root.join(&relative);
    if !file.is_file() {
        return if is_route {
            problem(
                Problem::service_unavailable("The web app is not built (index.html is missing)."),
                &[],
            )
        } else {
            not_found("No such file.")
        };
    }
    let content_type = mime::content_type(&relative);
    let compressible = mime::compressible(&content_type);
    let (bytes, encoding) = match read_representation(&file, compressible, request.accept_encoding)
    {
        Ok(found) => found,
        Err(e) => {
            eprintln!("web: cannot read {relative}: {e}");
            return problem(
                Problem::new(500, "Internal Server Error", "The file could not be read."),
                &[],
            );
        }
    };
    let etag = etag(&bytes);
    let cache_control = if relative.starts_with(HASHED_DIR) {
        IMMUTABLE
    } else {
        REVALIDATE
    };
    let mut headers = vec![
        ("etag", etag.clone()),
        ("cache-control", cache_control.to_owned()),
    ];
    if compressible {
        headers.push(("vary", "Accept-Encoding".to_owned()));
    }
    if request
        .if_none_match
        .is_some_and(|value| negotiate::none_match(value, &etag))
    {
        return Reply {
            status: 304,
            headers,
            body: Vec::new(),
        };
    }
    headers.push(("content-type", content_type));
    if let Some(encoding) = encoding {
        headers.push(("content-encoding", encoding.token().to_owned()));
    }
    if request.method == Method::Head {
        // No Content-Length: the host checks it against the (empty) body.
        return Reply {
            status: 200,
            headers,
            body: Vec::new(),
        };
    }
    headers.push(("content-length", bytes.len().to_string()));
    Reply {
        status: 200,
        headers,
        body: bytes,
    }
}

/// The bytes to send: the best precompressed sibling the client accepts,
/// else the file itself.
fn read_representation(
    file: &Path,
    compressible: bool,
    accept_encoding: Option<&str>,
) -> std::io::Result<(Vec<u8>, Option<Encoding>)> {
    if compressible {
        for encoding in negotiate::preferred(accept_encoding) {
            let mut sibling = file.as_os_str().to_owned();
            sibling.push(encoding.suffix());
            let sibling = PathBuf::from(sibling);
            if sibling.is_file() {
                return Ok((std::fs::read(sibling)?, Some(encoding)));
            }
        }
    }
    Ok((std::fs::read(file)?, None))
}

/// A strong validator for exactly these bytes.
pub fn etag(bytes: &[u8]) -> String {
    let digest = hmac_sha256::Hash::hash(bytes);
    let mut tag = String::with_capacity(2 + 32);
    tag.push('"');
    for byte in &digest[..16] {
        tag.push_str(&format!("{byte:02x}"));
    }
    tag.push('"');
    tag
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Dir(PathBuf);

    impl Dir {
        fn new(files: &[(&str, &[u8])]) -> Self {
            static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
            let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let dir = std::env::temp_dir().join(format!("web-serve-{}-{n}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            for (path, contents) in files {
                let path = dir.join(path);
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(path, contents).unwrap();
            }
            Dir(dir)
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn app() -> Dir {
        Dir::new(&[
            ("index.html", b"<!doctype html><title>app</title>"),
            ("index.html.br", b"BR-INDEX"),
            ("index.html.gz", b"GZ-INDEX"),
            ("assets/app-1a2b.js", b"console.log(1)"),
            ("assets/app-1a2b.js.gz", b"GZ-JS"),
            ("assets/logo-9f.png", b"\x89PNG"),
            ("assets/logo-9f.png.br", b"never used"),
            ("favicon.svg", b"<svg/>"),
        ])
    }

    fn get<'a>(path: &'a str, accept: Option<&'a str>, inm: Option<&'a str>) -> Incoming<'a> {
        Incoming {
            method: Method::Get,
            path,
            accept_encoding: accept,
            if_none_match: inm,
        }
    }

    #[test]
    fn client_routes_get_index_html_uncached() {
        let dir = app();
        for path in ["/", "/uploads", "/admin/users", "/login/"] {
            let reply = serve(&dir.0, &get(path, None, None));
            assert_eq!(reply.status, 200, "{path}");
            assert_eq!(reply.body, b"<!doctype html><title>app</title>");
            assert_eq!(
                reply.header("content-type"),
                Some("text/html; charset=utf-8")
            );
            assert_eq!(reply.header("cache-control"), Some(REVALIDATE));
            assert_eq!(reply.header("vary"), Some("Accept-Encoding"));
            assert_eq!(reply.header("content-encoding"), None);
        }
    }

    #[test]
    fn hashed_assets_are_immutable_and_typed() {
        let dir = app();
        let reply = serve(&dir.0, &get("/assets/app-1a2b.js", None, None));
        assert_eq!(reply.status, 200);
        assert_eq!(reply.body, b"console.log(1)");
        assert_eq!(
            reply.header("content-type"),
            Some("text/javascript; charset=utf-8")
        );
        assert_eq!(reply.header("cache-control"), Some(IMMUTABLE));
        assert_eq!(reply.header("content-length"), Some("14"));
        let icon = serve(&dir.0, &get("/favicon.svg", None, None));
        assert_eq!(icon.header("content-type"), Some("image/svg+xml"));
        assert_eq!(icon.header("cache-control"), Some(REVALIDATE));
    }

    #[test]
    fn precompressed_siblings_follow_accept_encoding() {
        let dir = app();
        let br = serve(&dir.0, &get("/", Some("gzip, deflate, br"), None));
        assert_eq!(br.body, b"BR-INDEX");
        assert_eq!(br.header("content-encoding"), Some("br"));
        assert_eq!(br.header("content-type"), Some("text/html; charset=utf-8"));
        let gz = serve(&dir.0, &get("/index.html", Some("gzip"), None));
        assert_eq!(gz.body, b"GZ-INDEX");
        assert_eq!(gz.header("content-encoding"), Some("gzip"));
        // No .br sibling for the script: gzip, though br is preferred.
        let js = serve(&dir.0, &get("/assets/app-1a2b.js", Some("br, gzip"), None));
        assert_eq!(js.body, b"GZ-JS");
        let identity = serve(&dir.0, &get("/assets/app-1a2b.js", Some("br"), None));
        assert_eq!(identity.body, b"console.log(1)");
        assert_eq!(identity.header("content-encoding"), None);
        // Never for types that are not compressible, sibling or not.
        let png = serve(&dir.0, &get("/assets/logo-9f.png", Some("br"), None));
        assert_eq!(png.body, b"\x89PNG");
        assert_eq!(png.header("content-encoding"), None);
        assert_eq!(png.header("vary"), None);
    }

    #[test]
    fn each_representation_has_its_own_strong_etag_and_304s() {
        let dir = app();
        let plain = serve(&dir.0, &get("/", None, None));
        let br = serve(&dir.0, &get("/", Some("br"), None));
        let plain_tag = plain.header("etag").unwrap().to_owned();
        let br_tag = br.header("etag").unwrap().to_owned();
        assert!(plain_tag.starts_with('"') && plain_tag.ends_with('"') && plain_tag.len() == 34);
        assert_ne!(plain_tag, br_tag);
        let again = serve(&dir.0, &get("/", Some("br"), Some(&br_tag)));
        assert_eq!(again.status, 304);
        assert!(again.body.is_empty());
        assert_eq!(again.header("etag"), Some(br_tag.as_str()));
        assert_eq!(again.header("cache-control"), Some(REVALIDATE));
        assert_eq!(again.header("vary"), Some("Accept-Encoding"));
        // The br validator does not match the identity representation.
        assert_eq!(serve(&dir.0, &get("/", None, Some(&br_tag))).status, 200);
        assert_eq!(
            serve(&dir.0, &get("/", None, Some("\"other\", W/"))).status,
            200
        );
        assert_eq!(serve(&dir.0, &get("/", None, Some(&plain_tag))).status, 304);
    }

    #[test]
    fn missing_assets_and_api_paths_are_404_problems() {
        let dir = app();
        for path in [
            "/assets/gone-123.js",
            "/nope.png",
            "/api/users/me",
            "/api",
            "/.env",
            "/index.html.br",
        ] {
            let reply = serve(&dir.0, &get(path, None, None));
            assert_eq!(reply.status, 404, "{path}");
            assert_eq!(reply.header("content-type"), Some(PROBLEM_CONTENT_TYPE));
            let body: serde_json::Value = serde_json::from_slice(&reply.body).unwrap();
            assert_eq!(body["status"], 404);
        }
    }

    #[test]
    fn traversal_is_a_400_problem() {
        let dir = app();
        for path in [
            "/../secret",
            "/%2e%2e/secret",
            "/assets/..%2f..%2fsecret",
            "/a\\b.js",
            "/x%00.js",
        ] {
            let reply = serve(&dir.0, &get(path, None, None));
            assert_eq!(reply.status, 400, "{path}");
            assert_eq!(reply.header("content-type"), Some(PROBLEM_CONTENT_TYPE));
        }
    }

    #[test]
    fn head_has_headers_without_a_body_and_other_methods_are_405() {
        let dir = app();
        let head = serve(
            &dir.0,
            &Incoming {
                method: Method::Head,
                path: "/assets/app-1a2b.js",
                accept_encoding: None,
                if_none_match: None,
            },
        );
        assert_eq!(head.status, 200);
        assert!(head.body.is_empty());
        assert_eq!(
            head.header("content-type"),
            Some("text/javascript; charset=utf-8")
        );
        let post = serve(
            &dir.0,
            &Incoming {
                method: Method::Other,
                path: "/",
                accept_encoding: None,
                if_none_match: None,
            },
        );
        assert_eq!(post.status, 405);
        assert_eq!(post.header("allow"), Some("GET, HEAD"));
    }

    #[test]
    fn an_unbuilt_app_is_503_not_a_crash() {
        let dir = Dir::new(&[("assets/x.js", b"1")]);
        assert_eq!(serve(&dir.0, &get("/", None, None)).status, 503);
    }
}
