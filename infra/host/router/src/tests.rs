//! Behaviour tests. Expected values come from Spin's own route and header
//! tests (`crates/routes/src/lib.rs`, `crates/trigger-http/src/headers.rs`)
//! where they exist, and otherwise from routefinder's rules (cross-checked
//! against routefinder itself in `tests/differential.rs`).

use super::*;
use std::net::{Ipv6Addr, SocketAddrV6};

fn router(routes: &[(&str, &str)]) -> Router {
    Router::build(routes.iter().copied()).expect("routes should build")
}

fn target(r: &Router, path: &str) -> Option<String> {
    r.route(path).map(|m| m.component_id().to_owned())
}

fn client() -> SocketAddr {
    "127.0.0.1:8777".parse().unwrap()
}

/// The headers as (name, value) pairs with owned names, for comparisons.
fn headers_of(m: &RouteMatch, url: &str, addr: SocketAddr) -> Vec<(String, String)> {
    m.spin_headers(url, addr)
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
}

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

// ---- matching and precedence -------------------------------------------------

#[test]
fn exact_routes() {
    let r = router(&[("foo", "/foo"), ("foobar", "/foo/bar")]);
    assert_eq!(target(&r, "/foo").as_deref(), Some("foo"));
    assert_eq!(target(&r, "/foo/bar").as_deref(), Some("foobar"));
    assert_eq!(target(&r, "/foo/baz"), None);
    assert_eq!(target(&r, "/fo"), None);
    assert_eq!(target(&r, "/foobar"), None);
    assert_eq!(target(&r, "/"), None);
}

#[test]
fn empty_router_matches_nothing() {
    let r = router(&[]);
    assert!(r.is_empty());
    assert!(r.route("/").is_none());
}

#[test]
fn root_wildcard_matches_everything() {
    let r = router(&[("all", "/...")]);
    for path in ["/", "/foo/bar", "/abc/", "//", "/a//b"] {
        assert_eq!(target(&r, path).as_deref(), Some("all"), "{path}");
    }
}

#[test]
fn root_exact_matches_only_root() {
    let r = router(&[("root", "/")]);
    assert_eq!(target(&r, "/").as_deref(), Some("root"));
    // Outer slashes are ignored by routefinder, so `//` is the root too.
    assert_eq!(target(&r, "//").as_deref(), Some("root"));
    assert_eq!(target(&r, "/x"), None);
}

#[test]
fn exact_beats_wildcard_in_either_order() {
    for routes in [
        [("one_exact", "/one"), ("wildcard", "/...")],
        [("wildcard", "/..."), ("one_exact", "/one")],
    ] {
        let r = router(&routes);
        assert_eq!(target(&r, "/one").as_deref(), Some("one_exact"));
        assert_eq!(target(&r, "/one/").as_deref(), Some("one_exact"));
        assert_eq!(target(&r, "/two").as_deref(), Some("wildcard"));
        assert_eq!(target(&r, "/one/two").as_deref(), Some("wildcard"));
    }
    // The root route beats the root wildcard for `/` itself.
    let r = router(&[("all", "/..."), ("root", "/")]);
    assert_eq!(target(&r, "/").as_deref(), Some("root"));
    assert_eq!(target(&r, "/x").as_deref(), Some("all"));
}

#[test]
fn exact_beats_its_own_prefix_wildcard() {
    let r = router(&[("wild", "/a/..."), ("exact", "/a"), ("deep", "/a/b")]);
    assert_eq!(target(&r, "/a").as_deref(), Some("exact"));
    assert_eq!(target(&r, "/a/b").as_deref(), Some("deep"));
    assert_eq!(target(&r, "/a/").as_deref(), Some("exact"));
    assert_eq!(target(&r, "/a/c").as_deref(), Some("wild"));
    assert_eq!(target(&r, "/a/b/c").as_deref(), Some("wild"));
}

#[test]
fn longest_wildcard_prefix_wins_in_any_order() {
    let routes = [
        ("one", "/one/..."),
        ("onetwo", "/one/two/..."),
        ("onetwothree", "/one/two/three/..."),
    ];
    let mut reversed = routes;
    reversed.reverse();
    for rs in [routes, reversed] {
        let r = router(&rs);
        assert_eq!(
            target(&r, "/one/two/three/four").as_deref(),
            Some("onetwothree")
        );
        assert_eq!(target(&r, "/one/two/thre").as_deref(), Some("onetwo"));
        assert_eq!(target(&r, "/one/two").as_deref(), Some("onetwo"));
        assert_eq!(target(&r, "/one/twox").as_deref(), Some("one"));
        assert_eq!(target(&r, "/one").as_deref(), Some("one"));
        assert_eq!(target(&r, "/onex"), None);
    }
}

#[test]
fn literal_beats_param_beats_wildcard() {
    let r = router(&[
        ("any", "/users/..."),
        ("by_id", "/users/:id"),
        ("me", "/users/me"),
    ]);
    assert_eq!(target(&r, "/users/me").as_deref(), Some("me"));
    assert_eq!(target(&r, "/users/42").as_deref(), Some("by_id"));
    assert_eq!(target(&r, "/users/42/posts").as_deref(), Some("any"));
    assert_eq!(target(&r, "/users").as_deref(), Some("any"));
}

#[test]
fn earlier_literal_beats_longer_param_route() {
    // routefinder compares position by position, so the literal `x` at the
    // first position wins even though `/:a/b` looks more specific.
    let r = router(&[("param", "/:a/b"), ("x_wild", "/x/...")]);
    assert_eq!(target(&r, "/x/b").as_deref(), Some("x_wild"));
    assert_eq!(target(&r, "/y/b").as_deref(), Some("param"));
}

#[test]
fn equal_rank_routes_keep_manifest_order() {
    let r = router(&[("first", "/:a"), ("second", "/:b")]);
    assert_eq!(target(&r, "/x").as_deref(), Some("first"));
    let r = router(&[("second", "/:b"), ("first", "/:a")]);
    assert_eq!(target(&r, "/x").as_deref(), Some("second"));
}

#[test]
fn params_match_exactly_one_non_empty_segment() {
    let r = router(&[("item", "/items/:id")]);
    assert!(r.route("/items/7").is_some());
    assert!(r.route("/items/7/").is_some());
    assert!(r.route("/items").is_none());
    assert!(r.route("/items/").is_none());
    assert!(r.route("/items/7/8").is_none());
}

#[test]
fn trailing_and_repeated_slashes() {
    // A route's trailing slash is dropped; a path's outer slashes are ignored.
    let r = router(&[("foo", "/foo/")]);
    for path in ["/foo", "/foo/", "//foo", "/foo//"] {
        assert_eq!(target(&r, path).as_deref(), Some("foo"), "{path}");
    }
    // Inner slashes are significant.
    let r = router(&[("ab", "/a/b")]);
    assert_eq!(target(&r, "/a//b"), None);
    let r = router(&[("aw", "/a/...")]);
    assert_eq!(target(&r, "/a//b").as_deref(), Some("aw"));
    assert_eq!(r.route("/a//b").unwrap().path_info(), "//b");
}

#[test]
fn route_without_leading_slash() {
    let r = router(&[("foo", "foo"), ("bar", "bar/...")]);
    assert_eq!(target(&r, "/foo").as_deref(), Some("foo"));
    let m = r.route("/bar/x").unwrap();
    assert_eq!(m.component_id(), "bar");
    assert_eq!(m.matched_route(), "/bar/...");
    assert_eq!(m.raw_route(), "bar/...");
    // Only a literal "/..." is stripped for spin-component-route.
    assert_eq!(m.component_route(), "bar");
    assert_eq!(m.path_info(), "/x");
}

#[test]
fn paths_are_case_sensitive() {
    let r = router(&[("lower", "/abc")]);
    assert!(r.route("/ABC").is_none());
    assert!(r.route("/abc").is_some());
}

#[test]
fn percent_encoded_paths_are_not_decoded() {
    // Spin routes on `req.uri().path()` as received.
    let r = router(&[("cafe", "/caf%C3%A9"), ("slash", "/a/b"), ("p", "/p/:x")]);
    assert_eq!(target(&r, "/caf%C3%A9").as_deref(), Some("cafe"));
    assert_eq!(target(&r, "/caf%c3%a9"), None);
    assert_eq!(target(&r, "/a%2Fb"), None);
    assert_eq!(r.route("/p/a%2Fb").unwrap().param("x"), Some("a%2Fb"));
    assert_eq!(
        r.route("/p/hello%20world").unwrap().param("x"),
        Some("hello%20world")
    );
}

#[test]
fn dots_in_routes() {
    let r = router(&[("icon", "/favicon.ico"), ("json", "/data/:name.json")]);
    assert_eq!(target(&r, "/favicon.ico").as_deref(), Some("icon"));
    assert_eq!(target(&r, "/favicon/ico"), None);
    let m = r.route("/data/report.json").unwrap();
    assert_eq!(m.param("name"), Some("report"));
    assert!(r.route("/data/report.xml").is_none());
    assert!(r.route("/data/report").is_none());
}

#[test]
fn dot_routes_follow_routefinder_order() {
    // routefinder's comparison treats a leading `.` as outranking a wildcard
    // and vice versa, so the route inserted later goes first. Confirmed
    // against routefinder in tests/differential.rs.
    let r = router(&[("wk", "/.well-known/..."), ("all", "/...")]);
    assert_eq!(target(&r, "/.well-known/x").as_deref(), Some("all"));
    let r = router(&[("all", "/..."), ("wk", "/.well-known/...")]);
    assert_eq!(target(&r, "/.well-known/x").as_deref(), Some("wk"));
}

#[test]
fn literal_with_star_after_dot_is_a_wildcard() {
    // `/foo.*` does not end in `/*`, yet routefinder reads `*` as a wildcard
    // and Spin derives spin-path-info from any wildcard capture.
    let r = router(&[("ext", "/foo.*")]);
    let m = r.route("/foo.bar/baz").unwrap();
    assert_eq!(m.path_info(), "/bar/baz");
    assert_eq!(m.component_route(), "/foo.*");
}

#[test]
fn slash_star_is_a_wildcard_too() {
    let r = router(&[("star", "/s/*")]);
    let m = r.route("/s/a/b").unwrap();
    assert_eq!(m.path_info(), "/a/b");
    assert_eq!(m.matched_route(), "/s/*");
    assert_eq!(m.component_route(), "/s/*");
    assert!(r.routes().next().unwrap().is_wildcard);
}

// ---- duplicates ----------------------------------------------------------------

#[test]
fn duplicate_route_last_one_wins_and_is_reported() {
    let r = router(&[
        ("root", "/"),
        ("first", "/foo"),
        ("second", "/foo"),
        ("whee", "/whee/..."),
    ]);
    assert_eq!(r.len(), 3);
    assert_eq!(target(&r, "/foo").as_deref(), Some("second"));
    assert_eq!(
        r.duplicates(),
        [DuplicateRoute {
            route: "/foo".into(),
            replaced_id: "first".into(),
            effective_id: "second".into(),
        }]
    );
}

#[test]
fn duplicate_reports_name_root_as_slash() {
    let r = router(&[
        ("a", "/"),
        ("b", "/"),
        ("c", "/..."),
        ("d", "/..."),
        ("e", "/w/..."),
        ("f", "/w/..."),
    ]);
    let reported: Vec<_> = r
        .duplicates()
        .iter()
        .map(|d| {
            (
                d.route.as_str(),
                d.replaced_id.as_str(),
                d.effective_id.as_str(),
            )
        })
        .collect();
    assert_eq!(
        reported,
        [("/", "a", "b"), ("/...", "c", "d"), ("/w/...", "e", "f")]
    );
}

#[test]
fn duplicate_keeps_the_first_position() {
    // The replacing trigger takes the original's place in manifest order,
    // which decides ties: here it stays ahead of `/:b`.
    let r = router(&[("one", "/:a"), ("two", "/:b"), ("three", "/:a")]);
    assert_eq!(target(&r, "/x").as_deref(), Some("three"));
}

#[test]
fn same_pattern_different_strings_are_not_duplicates() {
    // Spin de-duplicates on the string as written; `/foo` and `/foo/` both
    // reach routefinder and the first one added wins.
    let r = router(&[("first", "/foo"), ("second", "/foo/")]);
    assert!(r.duplicates().is_empty());
    assert_eq!(r.len(), 2);
    assert_eq!(target(&r, "/foo").as_deref(), Some("first"));
    let r = router(&[("dots", "/x/..."), ("star", "/x/*")]);
    assert_eq!(target(&r, "/x/y").as_deref(), Some("dots"));
}

// ---- errors --------------------------------------------------------------------

#[test]
fn invalid_routes_name_the_route_and_component() {
    for bad in ["/files/*rest", "/x/:", "/a/*/b", "/a/*.txt", "/*/..."] {
        let err = Router::build([("ok", "/fine"), ("broken", bad)]).unwrap_err();
        let RouteError::Invalid {
            component_id,
            route,
            ..
        } = &err;
        assert_eq!(component_id, "broken");
        assert_eq!(route, bad);
        let text = err.to_string();
        assert!(text.contains(bad) && text.contains("broken"), "{text}");
    }
}

// ---- listing -------------------------------------------------------------------

#[test]
fn routes_are_listed_in_precedence_order() {
    let r = router(&[
        ("catch", "/..."),
        ("root", "/"),
        ("foo", "/foo"),
        ("bar", "/bar"),
        ("whee", "/whee/..."),
    ]);
    let listed: Vec<_> = r
        .routes()
        .map(|s| (s.component_id, s.to_string()))
        .collect();
    assert_eq!(
        listed,
        [
            ("root", "/".to_owned()),
            ("foo", "/foo".to_owned()),
            ("bar", "/bar".to_owned()),
            ("whee", "/whee (wildcard)".to_owned()),
            ("catch", "/ (wildcard)".to_owned()),
        ]
    );
}

#[test]
fn reserved_routes() {
    assert!(router(&[("c", "/.well-known/spin/...")]).contains_reserved_route());
    assert!(router(&[("c", "/.well-known/spin/fie")]).contains_reserved_route());
    assert!(!router(&[("c", "/.well-known/spindle/...")]).contains_reserved_route());
    assert!(!router(&[("c", "/.well-known/spin")]).contains_reserved_route());
}

// ---- headers -------------------------------------------------------------------

#[test]
fn headers_for_exact_route_with_query() {
    let r = router(&[("c", "/foo/bar")]);
    let m = r.route("/foo/bar").unwrap();
    let url = full_url(
        "https",
        Some("fermyon.dev"),
        "/foo/bar?key1=value1&key2=value2",
    );
    assert_eq!(
        headers_of(&m, &url, client()),
        pairs(&[
            ("spin-path-info", ""),
            (
                "spin-full-url",
                "https://fermyon.dev/foo/bar?key1=value1&key2=value2"
            ),
            ("spin-matched-route", "/foo/bar"),
            ("spin-base-path", "/"),
            ("spin-raw-component-route", "/foo/bar"),
            ("spin-component-route", "/foo/bar"),
            ("spin-client-addr", "127.0.0.1:8777"),
        ])
    );
}

#[test]
fn headers_for_wildcard_route_with_query() {
    // Spin's own test: route `/foo/...`, request `/foo/bar?key1=value1&key2=value2`.
    let r = router(&[("DUMMY", "/foo/...")]);
    let m = r.route("/foo/bar").unwrap();
    let url = full_url(
        "https",
        Some("fermyon.dev"),
        "/foo/bar?key1=value1&key2=value2",
    );
    assert_eq!(
        headers_of(&m, &url, client()),
        pairs(&[
            ("spin-path-info", "/bar"),
            (
                "spin-full-url",
                "https://fermyon.dev/foo/bar?key1=value1&key2=value2"
            ),
            ("spin-matched-route", "/foo/..."),
            ("spin-base-path", "/"),
            ("spin-raw-component-route", "/foo/..."),
            ("spin-component-route", "/foo"),
            ("spin-client-addr", "127.0.0.1:8777"),
        ])
    );
}

#[test]
fn path_info_keeps_trailing_slashes() {
    // Spin's `trailing_wildcard`: routefinder drops the slashes, Spin restores them.
    let r = router(&[("t", "/test/...")]);
    let info = |p: &str| r.route(p).unwrap().path_info().to_owned();
    assert_eq!(info("/test"), "");
    assert_eq!(info("/test/"), "/");
    assert_eq!(info("/test/hello"), "/hello");
    assert_eq!(info("/test/hello/"), "/hello/");
    assert_eq!(info("/test/a/b/c"), "/a/b/c");
    // Repeated trailing slashes collapse to one.
    assert_eq!(info("/test/hello//"), "/hello/");
}

#[test]
fn headers_for_root_wildcard() {
    let r = router(&[("all", "/...")]);
    let m = r.route("/env/api").unwrap();
    let url = full_url("http", Some("127.0.0.1:3000"), "/env/api?x=1");
    assert_eq!(
        headers_of(&m, &url, client()),
        pairs(&[
            ("spin-path-info", "/env/api"),
            ("spin-full-url", "http://127.0.0.1:3000/env/api?x=1"),
            ("spin-matched-route", "/..."),
            ("spin-base-path", "/"),
            ("spin-raw-component-route", "/..."),
            ("spin-component-route", ""),
            ("spin-client-addr", "127.0.0.1:8777"),
        ])
    );
    assert_eq!(r.route("/").unwrap().path_info(), "/");
    assert_eq!(r.route("/a/").unwrap().path_info(), "/a/");
}

#[test]
fn headers_for_root_exact_route() {
    // `/` normalises to the empty string, which is what spin-matched-route carries.
    let r = router(&[("root", "/")]);
    let m = r.route("/").unwrap();
    let url = full_url("http", Some("localhost:3000"), "/?q");
    assert_eq!(
        headers_of(&m, &url, client()),
        pairs(&[
            ("spin-path-info", ""),
            ("spin-full-url", "http://localhost:3000/?q"),
            ("spin-matched-route", ""),
            ("spin-base-path", "/"),
            ("spin-raw-component-route", "/"),
            ("spin-component-route", "/"),
            ("spin-client-addr", "127.0.0.1:8777"),
        ])
    );
}

#[test]
fn headers_for_trailing_slash_route() {
    let r = router(&[("c", "/foo/")]);
    let m = r.route("/foo/").unwrap();
    assert_eq!(m.matched_route(), "/foo");
    assert_eq!(m.raw_route(), "/foo/");
    assert_eq!(m.component_route(), "/foo/");
    assert_eq!(m.path_info(), "");
}

#[test]
fn headers_for_parameterised_wildcard_route() {
    // Spin's own test: route `/foo/:userid/...`, request `/foo/42/bar`.
    let r = router(&[("DUMMY", "/foo/:userid/...")]);
    let m = r.route("/foo/42/bar").unwrap();
    let url = full_url(
        "https",
        Some("fermyon.dev"),
        "/foo/42/bar?key1=value1&key2=value2",
    );
    assert_eq!(
        headers_of(&m, &url, client()),
        pairs(&[
            ("spin-path-info", "/bar"),
            (
                "spin-full-url",
                "https://fermyon.dev/foo/42/bar?key1=value1&key2=value2"
            ),
            ("spin-matched-route", "/foo/:userid/..."),
            ("spin-base-path", "/"),
            ("spin-raw-component-route", "/foo/:userid/..."),
            ("spin-component-route", "/foo/:userid"),
            ("spin-client-addr", "127.0.0.1:8777"),
            ("spin-path-match-userid", "42"),
        ])
    );
}

#[test]
fn headers_for_several_params() {
    let r = router(&[("c", "/orgs/:org_Name/repos/:repo")]);
    let m = r.route("/orgs/acme/repos/rocket%20skates").unwrap();
    let url = full_url("http", Some("h"), "/orgs/acme/repos/rocket%20skates");
    let hs = headers_of(&m, &url, client());
    assert_eq!(
        &hs[7..],
        pairs(&[
            ("spin-path-match-org-name", "acme"),
            ("spin-path-match-repo", "rocket%20skates"),
        ])
    );
    assert_eq!(hs[0], ("spin-path-info".to_owned(), String::new()));
    assert_eq!(
        m.params().collect::<Vec<_>>(),
        [("org_Name", "acme"), ("repo", "rocket%20skates")]
    );
}

#[test]
fn repeated_param_name_yields_one_header_with_last_value() {
    let r = router(&[("c", "/:id/x/:id")]);
    let m = r.route("/1/x/2").unwrap();
    let hs = headers_of(&m, "http://localhost/1/x/2", client());
    let matches: Vec<_> = hs
        .iter()
        .filter(|(k, _)| k.starts_with(PATH_MATCH_PREFIX))
        .collect();
    assert_eq!(
        matches,
        [&("spin-path-match-id".to_owned(), "2".to_owned())]
    );
    assert_eq!(m.param("id"), Some("2"));
    assert_eq!(m.params().count(), 2);
}

#[test]
fn params_that_make_invalid_header_names_are_dropped() {
    // Spin's wasi-http executor skips header names that do not parse.
    let r = router(&[("c", "/:a:b/:ok")]);
    let m = r.route("/x/y").unwrap();
    let hs = headers_of(&m, "http://localhost/x/y", client());
    assert_eq!(hs.len(), 8);
    assert_eq!(hs[7], ("spin-path-match-ok".to_owned(), "y".to_owned()));
    assert_eq!(m.param("a:b"), Some("x"));
}

#[test]
fn client_addr_formats() {
    let r = router(&[("c", "/")]);
    let m = r.route("/").unwrap();
    let v6 = SocketAddr::V6(SocketAddrV6::new(Ipv6Addr::LOCALHOST, 8080, 0, 0));
    let hs = headers_of(&m, "http://localhost/", v6);
    assert_eq!(
        hs[6],
        ("spin-client-addr".to_owned(), "[::1]:8080".to_owned())
    );
}

#[test]
fn invalid_full_url_is_dropped_like_spin() {
    let r = router(&[("c", "/")]);
    let m = r.route("/").unwrap();
    let hs = m.spin_headers("http://bad\nhost/", client());
    assert!(hs.iter().all(|(k, _)| *k != FULL_URL));
    assert_eq!(hs.len(), 6);
}

// ---- service chaining -------------------------------------------------------------

#[test]
fn service_chained_request_headers() {
    // Spin's outbound interceptor: `RouteMatch::synthetic(component, uri.path())`,
    // scheme http, no Host header, client 0.0.0.0:0.
    let m = RouteMatch::for_component("backend", "/api/items/7");
    assert!(m.is_service_chained());
    assert_eq!(m.component_id(), "backend");
    let url = full_url("http", None, "/api/items/7?verbose=1");
    assert_eq!(
        headers_of(&m, &url, SERVICE_CHAINING_CLIENT_ADDR),
        pairs(&[
            ("spin-path-info", "/api/items/7"),
            ("spin-full-url", "http://localhost/api/items/7?verbose=1"),
            ("spin-matched-route", "/..."),
            ("spin-base-path", "/"),
            ("spin-raw-component-route", "/..."),
            ("spin-component-route", ""),
            ("spin-client-addr", "0.0.0.0:0"),
        ])
    );
}

#[test]
fn service_chaining_ignores_the_components_own_route() {
    // Even a component with a public exact route gets the synthetic `/...`
    // match when chained, and the whole path as path info.
    let r = router(&[("backend", "/backend/:id")]);
    let routed = r.route("/backend/1").unwrap();
    assert_eq!(routed.path_info(), "");
    let chained = RouteMatch::for_component("backend", "/backend/1");
    assert_eq!(chained.path_info(), "/backend/1");
    assert_eq!(chained.matched_route(), "/...");
    assert_eq!(chained.params().count(), 0);
    assert!(!routed.is_service_chained());
}

#[test]
fn route_match_is_send_sync_and_static() {
    fn assert_traits<T: Send + Sync + 'static>() {}
    assert_traits::<RouteMatch>();
    assert_traits::<Router>();
}
