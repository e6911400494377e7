//! Which route a request path falls under: nginx prefix-location matching
//! (longest prefix wins) on the normalised path.

use std::borrow::Cow;

use crate::config::RouteConfig;

/// The routes of a config, longest prefix first, so the first match is the answer.
#[derive(Debug, Clone)]
pub(crate) struct RouteTable {
    by_length: Vec<usize>,
}

impl RouteTable {
    pub fn new(routes: &[RouteConfig]) -> Self {
        let mut by_length: Vec<usize> = (0..routes.len()).collect();
        by_length.sort_by(|&a, &b| routes[b].prefix.len().cmp(&routes[a].prefix.len()));
        RouteTable { by_length }
    }

    /// The index of the route for `path` (raw request target; normalised here).
    pub fn find(&self, routes: &[RouteConfig], path: &str) -> Option<usize> {
        let path = normalize(path);
        self.by_length
            .iter()
            .copied()
            .find(|&i| prefix_matches(routes[i].prefix.as_bytes(), &path))
    }
}

/// A prefix matches the paths that start with it; one ending in "/" also
/// matches the path without that slash (nginx answers that one with a
/// redirect to the slash form, which the rendered config mirrors with an
/// exact location under the same limits).
fn prefix_matches(prefix: &[u8], path: &[u8]) -> bool {
    path.starts_with(prefix)
        || (prefix.len() > 1 && prefix.ends_with(b"/") && path == &prefix[..prefix.len() - 1])
}

/// The path nginx matches locations against: without query or fragment,
/// `%XX` decoded, repeated slashes merged, `.` and `..` segments resolved
/// (never above the root). Not valid UTF-8 is replaced, which cannot make an
/// ASCII prefix match.
pub fn normalize_path(path: &str) -> Cow<'_, str> {
    match normalize(path) {
        Cow::Borrowed(bytes) => String::from_utf8_lossy(bytes),
        Cow::Owned(bytes) => Cow::Owned(String::from_utf8_lossy(&bytes).into_owned()),
    }
}

fn normalize(path: &str) -> Cow<'_, [u8]> {
    let path = path.split(['?', '#']).next().unwrap_or_default().as_bytes();
    if is_canonical(path) {
        return Cow::Borrowed(path);
    }
    let decoded = percent_decode(path);
    let mut segments: Vec<&[u8]> = Vec::new();
    let mut trailing_slash = false;
    for segment in decoded.split(|&b| b == b'/') {
        trailing_slash = true;
        match segment {
            b"" | b"." => {}
            b".." => {
                segments.pop();
            }
            _ => {
                segments.push(segment);
                trailing_slash = false;
            }
        }
    }
    let mut normal = Vec::with_capacity(decoded.len() + 1);
    for segment in &segments {
        normal.push(b'/');
        normal.extend_from_slice(segment);
    }
    if trailing_slash || segments.is_empty() {
        normal.push(b'/');
    }
    Cow::Owned(normal)
}

/// Starts with "/", no `%`, no empty, "." or ".." segment: nothing to normalise.
fn is_canonical(path: &[u8]) -> bool {
    if path.first() != Some(&b'/') || path.contains(&b'%') {
        return false;
    }
    let mut segments = path[1..].split(|&b| b == b'/').peekable();
    while let Some(segment) = segments.next() {
        let last = segments.peek().is_none();
        if segment == b"." || segment == b".." || (segment.is_empty() && !last) {
            return false;
        }
    }
    true
}

fn percent_decode(path: &[u8]) -> Vec<u8> {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(path.len());
    let mut i = 0;
    while i < path.len() {
        if path[i] == b'%'
            && let (Some(&h), Some(&l)) = (path.get(i + 1), path.get(i + 2))
            && let (Some(h), Some(l)) = (hex(h), hex(l))
        {
            out.push(h << 4 | l);
            i += 3;
            continue;
        }
        out.push(path[i]);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::GatewayConfig;

    fn route_of(path: &str) -> Option<String> {
        let config = GatewayConfig::default();
        let table = RouteTable::new(config.routes());
        table
            .find(config.routes(), path)
            .map(|i| config.routes()[i].prefix.clone())
    }

    #[test]
    fn the_longest_prefix_wins_whatever_the_file_order() {
        assert_eq!(route_of("/api/auth/login").as_deref(), Some("/api/auth/"));
        assert_eq!(route_of("/api/users/me").as_deref(), Some("/api/"));
        assert_eq!(
            route_of("/api/uploads/123/complete").as_deref(),
            Some("/api/uploads/")
        );
        assert_eq!(route_of("/ws/").as_deref(), Some("/ws/"));
        assert_eq!(route_of("/health").as_deref(), Some("/"));
        assert_eq!(route_of("/index.html").as_deref(), Some("/"));
    }

    #[test]
    fn a_slash_prefix_also_matches_the_path_without_the_slash() {
        assert_eq!(route_of("/api/auth").as_deref(), Some("/api/auth/"));
        assert_eq!(route_of("/api/uploads").as_deref(), Some("/api/uploads/"));
        assert_eq!(route_of("/api").as_deref(), Some("/api/"));
        // Only the exact path: "/api/authx" is not under "/api/auth/".
        assert_eq!(route_of("/api/authx").as_deref(), Some("/api/"));
        assert_eq!(route_of("/apix").as_deref(), Some("/"));
    }

    #[test]
    fn disguised_paths_are_matched_after_normalisation() {
        for path in [
            "/api//auth/login",
            "//api/auth/login",
            "/api/./auth/login",
            "/api/users/../auth/login",
            "/api/%61uth/login",
            "/api%2Fauth/login",
            "/api/auth/login?next=/api/users",
            "/../../api/auth/login",
        ] {
            assert_eq!(route_of(path).as_deref(), Some("/api/auth/"), "{path}");
        }
        assert_eq!(route_of("/api/auth/../users/me").as_deref(), Some("/api/"));
        assert_eq!(route_of("/api/auth/%2e%2e/users").as_deref(), Some("/api/"));
        // Case matters, as in nginx on Linux.
        assert_eq!(route_of("/API/auth/login").as_deref(), Some("/"));
    }

    #[test]
    fn normalisation() {
        assert_eq!(normalize_path("/a/b"), "/a/b");
        assert!(matches!(normalize_path("/a/b?x=1"), Cow::Borrowed("/a/b")));
        assert_eq!(normalize_path("/a//b/"), "/a/b/");
        assert_eq!(normalize_path("/a/b/.."), "/a/");
        assert_eq!(normalize_path("/a/./b/."), "/a/b/");
        assert_eq!(normalize_path(""), "/");
        assert_eq!(normalize_path("/.."), "/");
        assert_eq!(normalize_path("/%zz/%4"), "/%zz/%4");
        assert_eq!(normalize_path("/caf%C3%A9"), "/café");
        assert_eq!(normalize_path("/%ff"), "/\u{fffd}");
    }

    #[test]
    fn no_routes_match_nothing() {
        let table = RouteTable::new(&[]);
        assert_eq!(table.find(&[], "/api/auth/login"), None);
    }
}
