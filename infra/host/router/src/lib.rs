//! Spin's HTTP trigger routing and its `spin-*` request headers.
//!
//! This reproduces what real Spin (3.x and 4.x) does, so that a component –
//! and in particular `spin_sdk::http::Router`, which routes on
//! `spin-path-info` when built with `Router::suffix()` – sees exactly the same
//! thing on our host as on Spin. The sources of each behaviour are Spin's
//! `crates/routes/src/lib.rs` (formerly `crates/http/src/routes.rs`), the
//! `routefinder` 0.5.x crate it delegates matching to, and
//! `crates/trigger-http/src/{headers,server,outbound_http}.rs`.
//!
//! # Routes
//!
//! * `route = "/x"` is an exact route; `/x/...` matches `/x`, `/x/` and
//!   anything below; `/...` matches everything. `:name` captures one path
//!   segment (or up to a `.` when one follows: `/:file.json`). A trailing
//!   `/*` behaves like `/...` (Spin accepts both, but only strips `/...` from
//!   `spin-component-route`).
//! * Leading and trailing slashes of both route and request path are ignored
//!   for matching (`/x/` == `/x`, and `/x` serves `/x/`), but `//` inside a
//!   path is not collapsed. Matching is on the raw, still percent-encoded
//!   path and is case-sensitive; captured values are not decoded.
//! * Precedence is routefinder's, position by position: literal > `:param` >
//!   wildcard, then the shorter route; equal-ranked routes keep manifest
//!   order. Hence exact beats wildcard, the longer literal prefix wins, and a
//!   literal at an earlier position beats a parameter there even if the
//!   parameterised route is longer (`/x/...` beats `/:a/b` for `/x/b`).
//! * A `.` that starts a segment after a parameter or at the start of the
//!   route (`/.well-known/...`, `/:name.json`) gets routefinder's
//!   inconsistent ranking: against a literal, parameter or wildcard at the
//!   same position it outranks and is outranked, so the result depends on
//!   manifest order (typically the later route is tried first). This is
//!   reproduced exactly, by building the same `BTreeMap` routefinder builds.
//! * Two triggers with the identical route string: the later one wins and is
//!   reported by [`Router::duplicates`] (Spin logs these). Different strings
//!   that normalise to the same pattern (`/x` and `/x/`, `/x/...` and `/x/*`)
//!   are not duplicates to Spin: both are kept and the first one wins.
//! * `route = { private = true }` triggers are not routable; leave them out of
//!   [`Router::build`] and reach them through [`RouteMatch::for_component`].
//! * Requests under `/.well-known/spin/` are answered by Spin itself (`health`
//!   → `200 OK`, `info` → app info, anything else → 404) before routing; see
//!   [`WELL_KNOWN_PREFIX`] and [`Router::contains_reserved_route`].
//!
//! # Differences from Spin
//!
//! Routes on which routefinder would panic while matching – a wildcard that
//! is not the last part, as in `/a/*/b`, `/a/*.txt` or `/*/...`, or (only with
//! non-ASCII route text, through a routefinder parsing quirk) a `:param` run
//! together with the following text – are rejected by [`Router::build`]
//! instead: in Spin they crash the connection of every request that reaches
//! them. Everything else is checked against routefinder in
//! `tests/differential.rs`.

mod headers;
mod pattern;

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;

pub use headers::{
    BASE_PATH, BASE_PATH_VALUE, CLIENT_ADDR, COMPONENT_ROUTE, DEFAULT_HOST, FULL_URL,
    MATCHED_ROUTE, PATH_INFO, PATH_MATCH_PREFIX, RAW_COMPONENT_ROUTE, SERVICE_CHAINING_CLIENT_ADDR,
    SERVICE_CHAINING_DOMAIN, full_url, is_service_chaining_host, service_chaining_target,
};
use pattern::{Pattern, Span, Trimmed};

/// Paths under this prefix are handled by Spin itself, never routed.
pub const WELL_KNOWN_PREFIX: &str = "/.well-known/spin/";

/// The route Spin pretends a service-chained request matched.
const CHAINED_ROUTE: &str = "/...";

/// A route that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    /// The route string is not a valid route pattern.
    #[error("invalid route `{route}` for component `{component_id}`: {reason}")]
    Invalid {
        /// The component the route belongs to.
        component_id: String,
        /// The route as written in the manifest.
        route: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// A trigger whose route string was repeated by a later trigger, which took
/// it over. Spin logs these at startup as never reachable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuplicateRoute {
    /// The route, normalised as Spin reports it (`/` for the root).
    pub route: String,
    /// The component that loses the route.
    pub replaced_id: String,
    /// The component that gets it.
    pub effective_id: String,
}

/// One routable route, for listing ("Available Routes").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteSummary<'a> {
    /// The component (or trigger) id the route leads to.
    pub component_id: &'a str,
    /// The route as written in the manifest.
    pub route: &'a str,
    /// The route's path without a trailing `/...` or `/*`, `/` for the root.
    pub path: &'a str,
    /// Whether the route ends with `/...` or `/*`.
    pub is_wildcard: bool,
}

/// What a matched route contributes to every match: shared, built once.
#[derive(Debug)]
struct RouteInfo {
    component_id: Box<str>,
    /// As written in the manifest (`spin-raw-component-route`).
    raw_route: Box<str>,
    /// Normalised (`spin-matched-route`), see [`normalize`].
    based_route: Box<str>,
    /// Length of the `spin-component-route` prefix of `raw_route`.
    component_route_len: usize,
    /// For each distinct parameter name with a valid header name: the header
    /// name and the index of the parameter's last occurrence (Spin collects
    /// the captures into a map, so a repeated name keeps the last value).
    param_headers: Box<[(Box<str>, usize)]>,
    /// Parameter names in route order.
    param_names: Box<[Box<str>]>,
}

impl RouteInfo {
    fn new(component_id: &str, raw_route: &str, based_route: String, pattern: &Pattern) -> Self {
        // As Spin's `raw_route_or_prefix`: only a literal `/...` suffix goes.
        let component_route_len = raw_route
            .strip_suffix("/...")
            .map_or(raw_route.len(), str::len);
        let param_names: Box<[Box<str>]> = pattern.param_names().map(Box::from).collect();
        let mut param_headers: Vec<(Box<str>, usize)> = Vec::new();
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (index, name) in param_names.iter().enumerate() {
            match seen.get(&**name) {
                Some(&slot) => param_headers[slot].1 = index,
                None => {
                    if let Some(header) = headers::path_match_header(name) {
                        seen.insert(name, param_headers.len());
                        param_headers.push((header, index));
                    }
                }
            }
        }
        RouteInfo {
            component_id: component_id.into(),
            raw_route: raw_route.into(),
            based_route: based_route.into(),
            component_route_len,
            param_headers: param_headers.into_boxed_slice(),
            param_names,
        }
    }

    fn chained(component_id: &str) -> Self {
        RouteInfo {
            component_id: component_id.into(),
            raw_route: CHAINED_ROUTE.into(),
            based_route: CHAINED_ROUTE.into(),
            component_route_len: 0,
            param_headers: Box::new([]),
            param_names: Box::new([]),
        }
    }
}

#[derive(Debug, Clone)]
struct CompiledRoute {
    pattern: Pattern,
    info: Arc<RouteInfo>,
}

/// Spin's HTTP router: built once per app, shared by all requests.
#[derive(Debug, Clone)]
pub struct Router {
    /// In the order Spin tries them; the first match wins.
    routes: Box<[CompiledRoute]>,
    /// The most captures any route can produce (sizes the per-request buffer).
    max_captures: usize,
    duplicates: Box<[DuplicateRoute]>,
}

impl Router {
    /// Builds the router.
    ///
    /// `routes`: `(component_id, route_string)` for every public
    /// `[[trigger.http]]` route, in manifest order.
    pub fn build<'a>(
        routes: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Router, RouteError> {
        // As Spin: de-duplicate on the route string as written, the later
        // trigger replacing the earlier one but keeping its place in the order
        // (an `IndexMap` insert).
        let mut kept: Vec<(&str, &str)> = Vec::new();
        let mut by_route: HashMap<&str, usize> = HashMap::new();
        let mut duplicates = Vec::new();
        for (component_id, raw_route) in routes {
            match by_route.get(raw_route) {
                Some(&slot) => {
                    let based = normalize(raw_route);
                    duplicates.push(DuplicateRoute {
                        route: if based.is_empty() { "/".into() } else { based },
                        replaced_id: kept[slot].0.to_owned(),
                        effective_id: component_id.to_owned(),
                    });
                    kept[slot].0 = component_id;
                }
                None => {
                    by_route.insert(raw_route, kept.len());
                    kept.push((component_id, raw_route));
                }
            }
        }

        let mut compiled = Vec::with_capacity(kept.len());
        for (component_id, raw_route) in kept {
            let based_route = normalize(raw_route);
            let pattern = Pattern::parse(&pattern_spec(&based_route)).map_err(|reason| {
                RouteError::Invalid {
                    component_id: component_id.to_owned(),
                    route: raw_route.to_owned(),
                    reason,
                }
            })?;
            let info = Arc::new(RouteInfo::new(
                component_id,
                raw_route,
                based_route,
                &pattern,
            ));
            compiled.push(CompiledRoute { pattern, info });
        }

        let order = pattern::precedence_order(compiled.iter().map(|r| &r.pattern));
        let mut slots: Vec<Option<CompiledRoute>> = compiled.into_iter().map(Some).collect();
        let routes: Box<[CompiledRoute]> = order
            .into_iter()
            .map(|i| slots[i].take().expect("each route is placed once"))
            .collect();
        let max_captures = routes
            .iter()
            .map(|r| r.pattern.capture_count())
            .max()
            .unwrap_or(0);
        Ok(Router {
            routes,
            max_captures,
            duplicates: duplicates.into_boxed_slice(),
        })
    }

    /// Finds the route for a request path (the URI path as received: no
    /// query, not percent-decoded). `None` means Spin answers 404.
    pub fn route(&self, path: &str) -> Option<RouteMatch> {
        let mut spans: Vec<Span> = Vec::with_capacity(self.max_captures);
        let trimmed = Trimmed::of(path);
        let route = self
            .routes
            .iter()
            .find(|route| route.pattern.matches_trimmed(path, trimmed, &mut spans))?;
        Some(RouteMatch::matched(route, path, &spans))
    }

    /// The routes in the order Spin tries (and lists) them.
    pub fn routes(&self) -> impl Iterator<Item = RouteSummary<'_>> {
        self.routes.iter().map(|route| {
            let info = &route.info;
            let based = &*info.based_route;
            let prefix = based
                .strip_suffix("/...")
                .or_else(|| based.strip_suffix("/*"));
            let path = prefix.unwrap_or(based);
            RouteSummary {
                component_id: &info.component_id,
                route: &info.raw_route,
                path: if path.is_empty() { "/" } else { path },
                is_wildcard: prefix.is_some(),
            }
        })
    }

    /// Triggers that lost their route to a later trigger with the same route.
    pub fn duplicates(&self) -> &[DuplicateRoute] {
        &self.duplicates
    }

    /// True if a route lies under [`WELL_KNOWN_PREFIX`] (Spin warns that such
    /// routes are never reached).
    pub fn contains_reserved_route(&self) -> bool {
        self.routes
            .iter()
            .any(|r| r.info.based_route.starts_with(WELL_KNOWN_PREFIX))
    }

    /// Number of routable routes (after de-duplication).
    pub fn len(&self) -> usize {
        self.routes.len()
    }

    /// Whether there is no routable route (every request is a 404).
    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }
}

/// The outcome of routing one request: which component handles it and the
/// values of the `spin-*` headers it must receive.
#[derive(Debug, Clone)]
pub struct RouteMatch {
    info: Arc<RouteInfo>,
    path_info: String,
    /// Values of the `:name` parameters, in route order (not decoded).
    params: Box<[String]>,
    service_chained: bool,
}

impl RouteMatch {
    fn matched(route: &CompiledRoute, path: &str, spans: &[Span]) -> RouteMatch {
        let param_count = route.info.param_names.len();
        let params = spans[..param_count]
            .iter()
            .map(|&(start, end)| path[start..end].to_owned())
            .collect();
        let path_info = if route.pattern.has_wildcard() {
            let (start, end) = spans[param_count];
            path_info(&path[start..end], path.ends_with('/'))
        } else {
            String::new()
        };
        RouteMatch {
            info: Arc::clone(&route.info),
            path_info,
            params,
            service_chained: false,
        }
    }

    /// The match Spin uses for a service-chained request
    /// (`http://<component_id>.spin.internal/<path>`), which goes straight to
    /// the component without routing: Spin's `RouteMatch::synthetic`.
    ///
    /// It is the same whatever route the component has – public, private, or
    /// several: the request is treated as matching `/...`, so
    /// `spin-matched-route` and `spin-raw-component-route` are `/...`,
    /// `spin-component-route` is empty and `spin-path-info` is the whole
    /// `path` (the outbound request's URI path, without query).
    ///
    /// To match Spin the host should also: only accept ids of components that
    /// have an HTTP trigger (Spin fails the outbound request otherwise), use
    /// `http` as the scheme and no `Host` header for [`full_url`] (Spin strips
    /// `Host` from outbound requests, so the URL is `http://localhost/...`),
    /// and pass [`SERVICE_CHAINING_CLIENT_ADDR`] as the client address.
    pub fn for_component(component_id: &str, path: &str) -> RouteMatch {
        RouteMatch {
            info: Arc::new(RouteInfo::chained(component_id)),
            path_info: path.to_owned(),
            params: Box::new([]),
            service_chained: true,
        }
    }

    /// The component (or trigger) id to invoke.
    pub fn component_id(&self) -> &str {
        &self.info.component_id
    }

    /// The matched route as written in the manifest (`spin-raw-component-route`).
    pub fn raw_route(&self) -> &str {
        &self.info.raw_route
    }

    /// The matched route as Spin normalised it (`spin-matched-route`): a
    /// leading `/` added, one trailing `/` removed, so `/` becomes empty.
    pub fn matched_route(&self) -> &str {
        &self.info.based_route
    }

    /// The raw route minus a trailing `/...` (`spin-component-route`).
    pub fn component_route(&self) -> &str {
        &self.info.raw_route[..self.info.component_route_len]
    }

    /// The part of the path the trailing wildcard matched (`spin-path-info`);
    /// empty for a route without one.
    pub fn path_info(&self) -> &str {
        &self.path_info
    }

    /// The `:name` parameters in route order, values as in the path (not
    /// percent-decoded). A repeated name appears once per occurrence.
    pub fn params(&self) -> impl Iterator<Item = (&str, &str)> {
        self.info
            .param_names
            .iter()
            .zip(self.params.iter())
            .map(|(name, value)| (&**name, value.as_str()))
    }

    /// The value of parameter `name`; for a repeated name, the last one (as
    /// the `spin-path-match-*` header).
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params()
            .filter(|(n, _)| *n == name)
            .last()
            .map(|(_, v)| v)
    }

    /// Whether this came from [`RouteMatch::for_component`].
    pub fn is_service_chained(&self) -> bool {
        self.service_chained
    }

    /// The `spin-*` headers Spin adds to the request, in Spin's order:
    /// `spin-path-info`, `spin-full-url`, `spin-matched-route`,
    /// `spin-base-path`, `spin-raw-component-route`, `spin-component-route`,
    /// `spin-client-addr`, then one `spin-path-match-<name>` per parameter.
    ///
    /// `full_url` is `scheme://host/path?query` as [`full_url`] builds it;
    /// `client_addr` is the peer address (formatted `ip:port`, `[ip]:port`
    /// for IPv6). Spin appends these after the client's headers without
    /// removing client-sent `spin-*` headers, so a component reading the last
    /// value (as `spin_sdk` does) sees Spin's. Pairs Spin's wasi-http executor
    /// would skip as invalid header names or values are left out.
    pub fn spin_headers(&self, full_url: &str, client_addr: SocketAddr) -> Vec<(&str, String)> {
        let info = &*self.info;
        let mut out: Vec<(&str, String)> = Vec::with_capacity(7 + info.param_headers.len());
        out.push((PATH_INFO, self.path_info.clone()));
        out.push((FULL_URL, full_url.to_owned()));
        out.push((MATCHED_ROUTE, info.based_route.to_string()));
        out.push((BASE_PATH, BASE_PATH_VALUE.to_owned()));
        out.push((RAW_COMPONENT_ROUTE, info.raw_route.to_string()));
        out.push((COMPONENT_ROUTE, self.component_route().to_owned()));
        out.push((CLIENT_ADDR, client_addr.to_string()));
        for (header, index) in info.param_headers.iter() {
            out.push((header, self.params[*index].clone()));
        }
        out.retain(|(_, value)| headers::is_valid_value(value));
        out
    }
}

impl fmt::Display for RouteSummary<'_> {
    /// As Spin's route listing: the path, with ` (wildcard)` for wildcards.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_wildcard {
            write!(f, "{} (wildcard)", self.path)
        } else {
            f.write_str(self.path)
        }
    }
}

/// Spin's `sanitize_with_base("/", route)`: add a leading `/` if missing,
/// then drop one trailing `/` (the base `/` contributes nothing). So `/`
/// becomes the empty string, `x/` becomes `/x`, `/x//` becomes `/x/`.
fn normalize(raw_route: &str) -> String {
    let mut based = String::with_capacity(raw_route.len() + 1);
    if !raw_route.starts_with('/') {
        based.push('/');
    }
    based.push_str(raw_route);
    if based.ends_with('/') {
        based.pop();
    }
    based
}

/// Spin's `parse_route`: a trailing `/...` is routefinder's `/*`.
fn pattern_spec(based_route: &str) -> std::borrow::Cow<'_, str> {
    match based_route.strip_suffix("/...") {
        Some(prefix) => format!("{prefix}/*").into(),
        None => based_route.into(),
    }
}

/// Spin's `trailing_wildcard`: routefinder's wildcard capture excludes the
/// slashes around it, and Spin puts them back – a `/` before a non-empty
/// capture, and a `/` after it (or alone) when the request path ends in `/`.
fn path_info(capture: &str, path_ends_with_slash: bool) -> String {
    match (capture.is_empty(), path_ends_with_slash) {
        (true, false) => String::new(),
        (true, true) => "/".to_owned(),
        (false, false) => {
            let mut s = String::with_capacity(capture.len() + 1);
            s.push('/');
            s.push_str(capture);
            s
        }
        (false, true) => {
            let mut s = String::with_capacity(capture.len() + 2);
            s.push('/');
            s.push_str(capture);
            s.push('/');
            s
        }
    }
}

#[cfg(test)]
mod tests;
