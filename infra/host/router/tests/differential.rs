//! Checks our router against a model of Spin's router built on `routefinder`
//! 0.5.4, the crate Spin's `crates/routes` uses, over many random route sets
//! and paths (including dots, params, duplicates, odd slashes, non-ASCII and
//! percent-encoding). The model follows Spin's `Router::build`, `route`,
//! `trailing_wildcard` and `named_wildcards` step by step.

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};

use spinstack_router::Router;

/// What Spin decides for one request.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    component: String,
    raw_route: String,
    matched_route: String,
    path_info: String,
    params: HashMap<String, String>,
}

struct Handler {
    component: String,
    raw_route: String,
    based_route: String,
}

/// Spin's router, modelled with routefinder itself.
struct SpinModel {
    rf: routefinder::Router<Handler>,
}

fn based(raw: &str) -> String {
    let mut s = if raw.starts_with('/') {
        raw.to_owned()
    } else {
        format!("/{raw}")
    };
    if s.ends_with('/') {
        s.pop();
    }
    s
}

impl SpinModel {
    fn build(routes: &[(String, String)]) -> Result<SpinModel, String> {
        // IndexMap-style de-duplication on the raw route.
        let mut kept: Vec<(String, String)> = Vec::new();
        for (component, raw) in routes {
            match kept.iter_mut().find(|(_, r)| r == raw) {
                Some(slot) => slot.0 = component.clone(),
                None => kept.push((component.clone(), raw.clone())),
            }
        }
        let mut rf = routefinder::Router::new();
        for (component, raw) in kept {
            let based_route = based(&raw);
            let spec = match based_route.strip_suffix("/...") {
                Some(prefix) => format!("{prefix}/*"),
                None => based_route.clone(),
            };
            rf.add(
                spec,
                Handler {
                    component,
                    raw_route: raw,
                    based_route,
                },
            )?;
        }
        Ok(SpinModel { rf })
    }

    /// Whether any route would make routefinder panic while matching (a
    /// wildcard that is not last, or a parameter followed by anything but a
    /// slash, a dot or the end; the latter arises only from non-ASCII routes).
    fn has_panicking_route(&self) -> bool {
        self.rf.iter().any(|(spec, _)| {
            let segs = spec.segments();
            segs.iter().enumerate().any(|(i, s)| {
                use routefinder::Segment::{Dot, Param, Slash, Wildcard};
                let next = segs.get(i + 1);
                match s {
                    Wildcard => next.is_some(),
                    Param(_) => !matches!(next, None | Some(Slash) | Some(Dot)),
                    _ => false,
                }
            })
        })
    }

    fn route(&self, path: &str) -> Option<Outcome> {
        let m = self.rf.best_match(path)?;
        let h = m.handler();
        let captures = m.captures();
        let path_info = captures
            .wildcard()
            .map(|s| match (s.is_empty(), path.ends_with('/')) {
                (true, false) => s.to_owned(),
                (true, true) => "/".to_owned(),
                (false, false) => format!("/{s}"),
                (false, true) => format!("/{s}/"),
            })
            .unwrap_or_default();
        let params = captures
            .iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        Some(Outcome {
            component: h.component.clone(),
            raw_route: h.raw_route.clone(),
            matched_route: h.based_route.clone(),
            path_info,
            params,
        })
    }
}

fn ours(router: &Router, path: &str) -> Option<Outcome> {
    let m = router.route(path)?;
    let mut params = HashMap::new();
    for (k, v) in m.params() {
        params.insert(k.to_owned(), v.to_owned());
    }
    Some(Outcome {
        component: m.component_id().to_owned(),
        raw_route: m.raw_route().to_owned(),
        matched_route: m.matched_route().to_owned(),
        path_info: m.path_info().to_owned(),
        params,
    })
}

/// A small deterministic generator (xorshift64*), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

const ROUTE_PIECES: &[&str] = &[
    "a", "b", "ab", "x", ":x", ":y", ":id", ":a_b", "...", ".", "", "a.b", ":f.json", "f.:ext",
    ".hidden", "%2F", "\u{e9}",
];
/// Pieces that make a route invalid (or panicking) in most positions; rarer.
const ODD_ROUTE_PIECES: &[&str] = &["*", "*x", ":", "a.*"];
const PATH_PIECES: &[&str] = &[
    "a", "b", "ab", "x", "y", "a.b", "f.json", "", ".", ".hidden", "%2F", "\u{e9}", "ab.json",
    "...", "A", "1",
];

fn random_route(rng: &mut Rng) -> String {
    let n = rng.below(4);
    let mut parts: Vec<&str> = (0..n)
        .map(|_| {
            if rng.chance(4) {
                rng.pick(ODD_ROUTE_PIECES)
            } else {
                rng.pick(ROUTE_PIECES)
            }
        })
        .collect();
    if rng.chance(35) {
        parts.push("...");
    }
    let mut route = parts.join("/");
    if rng.chance(92) {
        route.insert(0, '/');
    }
    if rng.chance(10) {
        route.push('/');
    }
    route
}

fn random_path(rng: &mut Rng) -> String {
    let n = rng.below(5);
    let parts: Vec<&str> = (0..n).map(|_| rng.pick(PATH_PIECES)).collect();
    let mut path = format!("/{}", parts.join("/"));
    if rng.chance(15) {
        path.push('/');
    }
    if rng.chance(5) {
        path.insert(0, '/');
    }
    path
}

#[test]
fn agrees_with_routefinder_on_random_apps() {
    let mut rng = Rng(0x5EED_1234_ABCD_0001);
    let mut compared = 0usize;
    let mut matched = 0usize;
    let (mut both_rejected, mut we_rejected) = (0usize, 0usize);
    for app in 0..6000 {
        let count = 1 + rng.below(if app % 10 == 0 { 30 } else { 8 });
        let routes: Vec<(String, String)> = (0..count)
            .map(|i| (format!("c{i}"), random_route(&mut rng)))
            .collect();
        let model = SpinModel::build(&routes);
        let mine = Router::build(routes.iter().map(|(c, r)| (c.as_str(), r.as_str())));

        let (model, mine) = match (model, mine) {
            (Err(_), Err(_)) => {
                both_rejected += 1;
                continue;
            }
            (Ok(model), Err(e)) => {
                // We only reject what routefinder would panic on.
                assert!(
                    model.has_panicking_route(),
                    "we rejected {routes:?} ({e}) but Spin accepts it"
                );
                we_rejected += 1;
                continue;
            }
            (Err(e), Ok(_)) => panic!("Spin rejects {routes:?} ({e}) but we accepted it"),
            (Ok(model), Ok(mine)) => (model, mine),
        };
        assert!(!model.has_panicking_route(), "{routes:?}");

        for _ in 0..25 {
            let path = random_path(&mut rng);
            let expected = catch_unwind(AssertUnwindSafe(|| model.route(&path)))
                .unwrap_or_else(|_| panic!("routefinder panicked on {path} with {routes:?}"));
            let actual = ours(&mine, &path);
            assert_eq!(actual, expected, "path {path:?} with routes {routes:?}");
            compared += 1;
            matched += usize::from(expected.is_some());
        }
    }
    println!(
        "compared {compared} paths ({matched} routed); apps rejected by both: {both_rejected}, \
         only by us (routefinder would panic): {we_rejected}"
    );
    // Make sure the generator exercised all outcomes meaningfully.
    assert!(both_rejected > 0 && we_rejected > 0);
    assert!(compared > 100_000, "{compared}");
    assert!(matched > compared / 5, "{matched} of {compared}");
}

#[test]
fn agrees_with_routefinder_on_order_with_many_dot_routes() {
    // Past eleven entries the map has internal nodes, and with `.` routes
    // the (inconsistent) ordering depends on that shape.
    let mut rng = Rng(0xD07_D07_D07);
    let pieces = [".a", ":p.x", "a", ":q", "...", "b.c", ".b"];
    for _ in 0..500 {
        let count = 12 + rng.below(40);
        let routes: Vec<(String, String)> = (0..count)
            .map(|i| {
                let n = 1 + rng.below(3);
                let parts: Vec<&str> = (0..n).map(|_| rng.pick(&pieces)).collect();
                (format!("c{i}"), format!("/{}", parts.join("/")))
            })
            .collect();
        let Ok(model) = SpinModel::build(&routes) else {
            continue;
        };
        if model.has_panicking_route() {
            continue;
        }
        let mine = Router::build(routes.iter().map(|(c, r)| (c.as_str(), r.as_str()))).unwrap();
        let model_order: Vec<&str> = model.rf.iter().map(|(_, h)| h.component.as_str()).collect();
        let our_order: Vec<&str> = mine.routes().map(|s| s.component_id).collect();
        assert_eq!(our_order, model_order, "{routes:?}");
        for _ in 0..20 {
            let n = rng.below(4);
            let parts: Vec<&str> = (0..n)
                .map(|_| rng.pick(&["a", ".a", "b.c", ".b", "z.x", "q"]))
                .collect();
            let path = format!("/{}", parts.join("/"));
            assert_eq!(ours(&mine, &path), model.route(&path), "{path} {routes:?}");
        }
    }
}
