//! The one route table every API component dispatches through, so an
//! unknown path is the same 404 and a known path with the wrong method the
//! same 405 (with `Allow`) everywhere.
//!
//! Why not `spin_sdk::http::Router` (spin-sdk 5.2.0): its 404 and 405 are
//! fixed plain-text responses (`responses::not_found`,
//! `responses::method_not_allowed`) with no `Allow` header and no way to
//! replace them short of an `any("/*")` catch-all, which also swallows the
//! 405s; it answers an unrouted `HEAD` with the `GET` handler; and it
//! takes a whole `Request`, while uploads routes on the head of an
//! `IncomingRequest` before deciding whether to stream its body. The API
//! contract wants problem+json and `Allow`, so this table is ours.

use spin_sdk::http::Method;

use crate::Problem;

/// One route: a path pattern, the methods it answers, and the component's
/// name for it.
///
/// A pattern is matched segment by segment; `{}` matches any one segment
/// (even an empty one), which the handler parses and refuses with its own
/// 404 — so a malformed id is never a 500 and never skips the token check.
pub struct Route<T> {
    pub pattern: &'static str,
    pub methods: &'static [Method],
    pub target: T,
}

/// The route a request matched and the segments its `{}`s captured, in
/// order.
#[derive(Debug, PartialEq)]
pub struct Matched<'p, T> {
    pub target: T,
    pub params: Vec<&'p str>,
}

/// Finds the route for `method` and `path`: 404 when no pattern matches,
/// 405 with the route's `Allow` when one does but not for this method.
/// Trailing slashes are ignored (`/api/users/` is `/api/users`).
pub fn dispatch<'p, T: Copy>(
    routes: &'static [Route<T>],
    method: &Method,
    path: &'p str,
) -> Result<Matched<'p, T>, Problem> {
    let path = path.trim_end_matches('/');
    let (route, params) = routes
        .iter()
        .find_map(|route| captures(route.pattern, path).map(|params| (route, params)))
        .ok_or_else(Problem::not_found)?;
    if !route.methods.contains(method) {
        return Err(Problem::method_not_allowed_for(route.methods));
    }
    Ok(Matched {
        target: route.target,
        params,
    })
}

/// The `{}` segments of `path` when it matches `pattern`.
fn captures<'p>(pattern: &str, path: &'p str) -> Option<Vec<&'p str>> {
    let mut wanted = pattern.split('/');
    let mut given = path.split('/');
    let mut params = Vec::new();
    loop {
        match (wanted.next(), given.next()) {
            (None, None) => return Some(params),
            (Some("{}"), Some(segment)) => params.push(segment),
            (Some(literal), Some(segment)) if literal == segment => {}
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Copy, Debug, PartialEq)]
    enum Page {
        List,
        One,
        Complete,
    }

    const ROUTES: &[Route<Page>] = &[
        Route {
            pattern: "/items",
            methods: &[Method::Get, Method::Post],
            target: Page::List,
        },
        Route {
            pattern: "/items/{}",
            methods: &[Method::Get, Method::Delete],
            target: Page::One,
        },
        Route {
            pattern: "/items/{}/complete",
            methods: &[Method::Post],
            target: Page::Complete,
        },
    ];

    #[test]
    fn finds_the_route_and_its_segments() {
        let found = dispatch(ROUTES, &Method::Post, "/items/abc/complete").unwrap();
        assert_eq!(found.target, Page::Complete);
        assert_eq!(found.params, ["abc"]);
        let found = dispatch(ROUTES, &Method::Get, "/items/").unwrap();
        assert_eq!(found.target, Page::List);
        assert!(found.params.is_empty());
    }

    #[test]
    fn an_unknown_path_is_404_without_allow() {
        for path in ["/item", "/items/a/b", "/items/a/completed", "/", ""] {
            let problem = dispatch(ROUTES, &Method::Get, path).unwrap_err();
            assert_eq!(problem.status, 404, "{path}");
            assert!(problem.allow.is_empty(), "{path}");
        }
    }

    #[test]
    fn a_wrong_method_is_405_with_the_routes_methods() {
        let problem = dispatch(ROUTES, &Method::Put, "/items").unwrap_err();
        assert_eq!(problem.status, 405);
        assert_eq!(problem.allow, [Method::Get, Method::Post]);
        // HEAD is a method like any other here: not routed to GET.
        let problem = dispatch(ROUTES, &Method::Head, "/items/x").unwrap_err();
        let response = problem.into_response();
        assert_eq!(
            response.header("allow").unwrap().as_str(),
            Some("GET, DELETE")
        );
        assert_eq!(
            response.header("content-type").unwrap().as_str(),
            Some("application/problem+json")
        );
    }
}
