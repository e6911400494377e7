//! Route patterns: parsing, precedence and matching.
//!
//! Spin does not match routes itself: its `routes.rs` turns every manifest
//! route into a `routefinder` 0.5.x `RouteSpec` (`/x/...` becomes `/x/*`),
//! stores them in routefinder's `Router` (a `BTreeMap` keyed by the spec) and
//! takes the first spec, in map order, that matches the request path. To give
//! components the same routing as real Spin we reproduce that library's rules
//! here, quirks included (each is noted where it is implemented), and check
//! the result against routefinder itself in `tests/differential.rs`.

use std::cmp::Ordering;
use std::collections::BTreeMap;

/// One piece of a parsed route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Segment {
    /// A `/` between two pieces; it matches exactly one `/`.
    Slash,
    /// A `.` that could not be folded into a preceding literal; matches one `.`.
    Dot,
    /// Literal text, compared byte for byte (case-sensitive, no decoding).
    Literal(Box<str>),
    /// `:name`: captures up to the next `/` (or `.`, when a dot follows).
    Param(Box<str>),
    /// `*` (what Spin turns a trailing `/...` into): captures the rest.
    Wildcard,
}

impl Segment {
    fn kind(&self) -> Kind {
        match self {
            Segment::Slash => Kind::Slash,
            Segment::Dot => Kind::Dot,
            Segment::Literal(_) => Kind::Literal,
            Segment::Param(_) => Kind::Param,
            Segment::Wildcard => Kind::Wildcard,
        }
    }
}

/// A route compiled for matching.
#[derive(Debug, Clone)]
pub(crate) struct Pattern {
    segments: Box<[Segment]>,
    /// Text every matching (trimmed) path starts with: the leading literals,
    /// dots and slashes. Checked first so most non-matching routes are
    /// rejected with one comparison.
    literal_prefix: Box<str>,
    /// Number of `Param` and `Wildcard` segments: the captures of a match.
    captures: usize,
    has_wildcard: bool,
}

/// Byte range of one capture within the request path.
pub(crate) type Span = (usize, usize);

/// A request path without its leading and trailing slashes, which
/// routefinder ignores. Computed once per request.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Trimmed<'p> {
    /// The trimmed text.
    text: &'p str,
    /// Its byte offset in the full path.
    pos: usize,
}

impl<'p> Trimmed<'p> {
    pub(crate) fn of(path: &'p str) -> Trimmed<'p> {
        let after_leading = path.trim_start_matches('/');
        Trimmed {
            text: after_leading.trim_end_matches('/'),
            pos: path.len() - after_leading.len(),
        }
    }
}

impl Pattern {
    /// Parses a route spec the way routefinder's `RouteSpec::from_str` does.
    ///
    /// The spec is trimmed of leading and trailing slashes and cut at every
    /// `/` and `.`. Empty pieces vanish (so `//` and trailing slashes are
    /// ignored); a `.` is appended to a preceding literal when there is one and
    /// otherwise becomes a `Dot` of its own. Errors are the two routefinder
    /// reports (`*name`, bare `:`) plus the shapes that would make routefinder
    /// panic at request time (see [`Pattern::validate`]).
    pub(crate) fn parse(spec: &str) -> Result<Pattern, String> {
        let trimmed = spec.trim_start_matches('/').trim_end_matches('/');
        let mut segments: Vec<Segment> = Vec::new();
        let mut start = 0usize;
        let cuts = trimmed
            .match_indices(['.', '/'])
            .map(|(i, _)| i)
            .chain(std::iter::once(trimmed.len()));
        for cut in cuts {
            // routefinder looks up the separator before a piece with
            // `chars().nth(byte_index)`; for an ASCII route that is simply the
            // separator, for a non-ASCII one it is some later character. We do
            // the same so that non-ASCII routes parse identically.
            let separator = if start == 0 {
                None
            } else {
                trimmed.chars().nth(start - 1)
            };
            let piece = &trimmed[start..cut];
            start = cut + 1;

            let segment = if piece.is_empty() {
                None
            } else if piece == "*" {
                Some(Segment::Wildcard)
            } else if piece.starts_with('*') {
                return Err(format!(
                    "a wildcard cannot be named: use a bare `*` (or a trailing `/...`) instead of `{piece}`"
                ));
            } else if piece == ":" {
                return Err("a `:` parameter needs a name".to_owned());
            } else if let Some(name) = piece.strip_prefix(':') {
                Some(Segment::Param(name.into()))
            } else {
                Some(Segment::Literal(piece.into()))
            };

            if separator == Some('.') {
                match segments.last_mut() {
                    Some(Segment::Literal(text)) => {
                        let mut joined = String::with_capacity(text.len() + 1);
                        joined.push_str(text);
                        joined.push('.');
                        *text = joined.into_boxed_str();
                    }
                    _ => segments.push(Segment::Dot),
                }
            }
            if let Some(segment) = segment {
                if separator == Some('/') {
                    segments.push(Segment::Slash);
                }
                segments.push(segment);
            }
        }

        Self::validate(&segments)?;
        let captures = segments
            .iter()
            .filter(|s| matches!(s, Segment::Param(_) | Segment::Wildcard))
            .count();
        let has_wildcard = segments.last() == Some(&Segment::Wildcard);
        let literal_prefix = Self::literal_prefix(&segments);
        Ok(Pattern {
            segments: segments.into_boxed_slice(),
            literal_prefix,
            captures,
            has_wildcard,
        })
    }

    /// Rejects the shapes routefinder accepts when parsing but then panics on
    /// while matching ("wildcard must currently be the terminal segment",
    /// "param must be followed by a dot, a slash, or the end of the route").
    /// In Spin such a route crashes the connection of any request that gets as
    /// far as it; refusing it when the app loads is the useful equivalent.
    fn validate(segments: &[Segment]) -> Result<(), String> {
        for (i, segment) in segments.iter().enumerate() {
            let next = segments.get(i + 1);
            match segment {
                Segment::Wildcard if next.is_some() => {
                    return Err(
                        "a wildcard (`*`, or `...` not at the very end) must be the last part of the route"
                            .to_owned(),
                    );
                }
                Segment::Param(_)
                    if !matches!(next, None | Some(Segment::Slash) | Some(Segment::Dot)) =>
                {
                    return Err(
                        "a `:` parameter must be followed by `/`, `.` or the end of the route"
                            .to_owned(),
                    );
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// The text consumed by the segments before the first capture. A slash
    /// right before a wildcard is left out, since it may match nothing.
    fn literal_prefix(segments: &[Segment]) -> Box<str> {
        let mut prefix = String::new();
        for (i, segment) in segments.iter().enumerate() {
            match segment {
                Segment::Literal(text) => prefix.push_str(text),
                Segment::Dot => prefix.push('.'),
                Segment::Slash if segments.get(i + 1) != Some(&Segment::Wildcard) => {
                    prefix.push('/')
                }
                _ => break,
            }
        }
        prefix.into_boxed_str()
    }

    #[cfg(test)]
    pub(crate) fn segments(&self) -> &[Segment] {
        &self.segments
    }

    pub(crate) fn capture_count(&self) -> usize {
        self.captures
    }

    /// Whether the last capture of a match is the trailing wildcard.
    pub(crate) fn has_wildcard(&self) -> bool {
        self.has_wildcard
    }

    /// Names of the `:name` parameters, in route order.
    pub(crate) fn param_names(&self) -> impl Iterator<Item = &str> {
        self.segments.iter().filter_map(|s| match s {
            Segment::Param(name) => Some(&**name),
            _ => None,
        })
    }

    /// Matches `path`, pushing the byte span of every capture (parameters then
    /// wildcard, in route order) into `spans`. `spans` is cleared first.
    ///
    /// As routefinder's `RouteSpec::matches`: leading and trailing slashes of
    /// the path are ignored (`/a/` and `//a` match `/a`), literals are compared
    /// exactly, and nothing is percent-decoded.
    #[cfg(test)]
    pub(crate) fn matches(&self, path: &str, spans: &mut Vec<Span>) -> bool {
        self.matches_trimmed(path, Trimmed::of(path), spans)
    }

    /// [`Pattern::matches`] with the path's outer slashes already located.
    pub(crate) fn matches_trimmed(
        &self,
        path: &str,
        trimmed: Trimmed<'_>,
        spans: &mut Vec<Span>,
    ) -> bool {
        if !trimmed
            .text
            .as_bytes()
            .starts_with(self.literal_prefix.as_bytes())
        {
            return false;
        }
        spans.clear();
        let mut pos = trimmed.pos;
        let end = pos + trimmed.text.len();

        for (i, segment) in self.segments.iter().enumerate() {
            let rest = &path[pos..end];
            let next = self.segments.get(i + 1);
            match segment {
                Segment::Literal(text) => {
                    if !rest.starts_with(&**text) {
                        return false;
                    }
                    pos += text.len();
                }
                Segment::Param(_) => {
                    if rest.is_empty() {
                        return false;
                    }
                    let len = match next {
                        // Up to the next slash; this may be empty when the
                        // path has `//` where the parameter should be.
                        None | Some(Segment::Slash) => rest.find('/').unwrap_or(rest.len()),
                        Some(Segment::Dot) => {
                            let Some(cut) = rest.find(['.', '/']) else {
                                return false;
                            };
                            // routefinder tests the found byte offset with
                            // `chars().nth`; identical for ASCII paths.
                            if rest.chars().nth(cut) != Some('.') {
                                return false;
                            }
                            cut
                        }
                        // Ruled out by `validate`.
                        _ => return false,
                    };
                    spans.push((pos, pos + len));
                    pos += len;
                }
                Segment::Wildcard => {
                    // Always last (see `validate`): takes everything left,
                    // possibly nothing.
                    spans.push((pos, end));
                    pos = end;
                }
                Segment::Slash => match (rest.as_bytes().first(), next) {
                    (Some(b'/'), Some(_)) => pos += 1,
                    // A slash directly before a wildcard may match nothing,
                    // which is how `/x/...` also serves `/x` itself.
                    (None, None) | (None, Some(Segment::Wildcard)) => {}
                    _ => return false,
                },
                Segment::Dot => {
                    if !rest.starts_with('.') {
                        return false;
                    }
                    pos += 1;
                }
            }
        }
        let rest = &path[pos..end];
        rest.is_empty() || rest == "/"
    }
}

/// Sorts compiled routes into the order in which Spin tries them.
///
/// routefinder keeps routes in a `BTreeMap` whose key ordering ranks each
/// position literal > parameter > wildcard > slash, then fewer dots, then the
/// shorter route, and never calls two routes equal (a tie counts as
/// "greater", so equally ranked routes stay in insertion order). That is what
/// makes exact routes beat wildcards and longer prefixes beat shorter ones;
/// literal text plays no part in the ordering.
///
/// The comparison is not a consistent order when dots are involved (a `Dot`
/// compares greater than a literal, a parameter or a wildcard in both
/// directions), so the result then depends on the map's internal shape. To
/// reproduce it exactly we insert the same keys, in the same order, into a
/// std `BTreeMap` with the same comparison. It is only done once, at build.
pub(crate) fn precedence_order<'a>(patterns: impl IntoIterator<Item = &'a Pattern>) -> Vec<usize> {
    let mut map = BTreeMap::new();
    for (index, pattern) in patterns.into_iter().enumerate() {
        let key = OrderKey {
            kinds: pattern.segments.iter().map(Segment::kind).collect(),
        };
        map.insert(key, index);
    }
    map.into_values().collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Slash,
    Dot,
    Literal,
    Param,
    Wildcard,
}

/// routefinder's per-segment comparison, arm for arm. Note the asymmetric
/// cases: `Dot` is greater than literal/param/wildcard, and each of those is
/// greater than `Dot` too.
fn compare_kinds(mine: Kind, theirs: Kind) -> Ordering {
    use Kind::*;
    use Ordering::*;
    match (mine, theirs) {
        (Literal, Literal)
        | (Slash, Slash)
        | (Dot, Slash)
        | (Slash, Dot)
        | (Dot, Dot)
        | (Param, Param)
        | (Wildcard, Wildcard) => Equal,
        (Dot, _) => Greater,
        (Literal, _) => Greater,
        (Param, Literal) => Less,
        (Param, _) => Greater,
        (Wildcard, Literal) | (Wildcard, Param) => Less,
        (Wildcard, _) => Greater,
        _ => Less,
    }
}

/// The part of a route that decides its precedence (segment kinds only).
///
/// Its `Ord` deliberately mirrors routefinder's, including never returning
/// `Equal`; `PartialEq` is only there because `Ord` requires it and is not
/// used by the map.
#[derive(Debug, PartialEq, Eq)]
struct OrderKey {
    kinds: Vec<Kind>,
}

impl OrderKey {
    fn dots(&self) -> usize {
        self.kinds.iter().filter(|k| **k == Kind::Dot).count()
    }
}

impl Ord for OrderKey {
    fn cmp(&self, other: &Self) -> Ordering {
        let by_segment = self
            .kinds
            .iter()
            .zip(&other.kinds)
            .map(|(mine, theirs)| compare_kinds(*mine, *theirs))
            .find(|o| o.is_ne());
        let decided = by_segment
            .or_else(|| Some(self.dots().cmp(&other.dots())).filter(|o| o.is_ne()))
            .or_else(|| Some(other.kinds.len().cmp(&self.kinds.len())).filter(|o| o.is_ne()))
            // A full tie is "less" before the reversal, i.e. "greater" after:
            // a newly inserted route goes after the routes it ties with.
            .unwrap_or(Ordering::Less);
        decided.reverse()
    }
}

impl PartialOrd for OrderKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lit(s: &str) -> Segment {
        Segment::Literal(s.into())
    }
    fn param(s: &str) -> Segment {
        Segment::Param(s.into())
    }

    #[test]
    fn parses_plain_params_and_wildcards() {
        let p = Pattern::parse("/foo/:id/*").unwrap();
        assert_eq!(
            p.segments(),
            &[
                lit("foo"),
                Segment::Slash,
                param("id"),
                Segment::Slash,
                Segment::Wildcard
            ]
        );
        assert_eq!(p.capture_count(), 2);
        assert!(p.has_wildcard());
        assert_eq!(p.param_names().collect::<Vec<_>>(), ["id"]);
    }

    #[test]
    fn root_and_empty_routes_have_no_segments() {
        for spec in ["", "/", "//"] {
            assert!(
                Pattern::parse(spec).unwrap().segments().is_empty(),
                "{spec}"
            );
        }
    }

    #[test]
    fn dots_fold_into_preceding_literal() {
        // As routefinder: `favicon.ico` is two literals, the first keeping the dot.
        let p = Pattern::parse("/favicon.ico").unwrap();
        assert_eq!(p.segments(), &[lit("favicon."), lit("ico")]);
        // After a parameter, or at the start, a dot stands alone.
        let p = Pattern::parse("/:name.json").unwrap();
        assert_eq!(p.segments(), &[param("name"), Segment::Dot, lit("json")]);
        let p = Pattern::parse("/.well-known/x").unwrap();
        assert_eq!(
            p.segments(),
            &[Segment::Dot, lit("well-known"), Segment::Slash, lit("x")]
        );
    }

    #[test]
    fn slash_then_dot_loses_the_slash() {
        // routefinder quirk: the dot after `/` is folded into the literal before
        // the slash, so `/a/.b` is the literal `a.b`.
        let p = Pattern::parse("/a/.b").unwrap();
        assert_eq!(p.segments(), &[lit("a."), lit("b")]);
        let mut spans = Vec::new();
        assert!(p.matches("/a.b", &mut spans));
        assert!(!p.matches("/a/.b", &mut spans));
    }

    #[test]
    fn literal_prefixes() {
        let prefix = |spec: &str| Pattern::parse(spec).unwrap().literal_prefix.to_string();
        assert_eq!(prefix("/api/v1/:id"), "api/v1/");
        assert_eq!(prefix("/static/*"), "static");
        assert_eq!(prefix("/favicon.ico"), "favicon.ico");
        assert_eq!(prefix("/.well-known/x"), ".well-known/x");
        assert_eq!(prefix("/:a/b"), "");
        assert_eq!(prefix("/*"), "");
        assert_eq!(prefix(""), "");
    }

    #[test]
    fn parse_errors() {
        assert!(Pattern::parse("/files/*rest").is_err());
        assert!(Pattern::parse("/files/:").is_err());
        assert!(Pattern::parse("/a/*/b").is_err());
        assert!(Pattern::parse("/a/*.txt").is_err());
        assert!(Pattern::parse("/*/*").is_err());
    }

    #[test]
    fn matching_ignores_outer_slashes_but_not_inner_ones() {
        let p = Pattern::parse("/a/b").unwrap();
        let mut spans = Vec::new();
        for ok in ["/a/b", "/a/b/", "//a/b//", "a/b"] {
            assert!(p.matches(ok, &mut spans), "{ok}");
        }
        for bad in ["/a//b", "/a/bc", "/a", "/A/b", "/a/b/c"] {
            assert!(!p.matches(bad, &mut spans), "{bad}");
        }
    }

    #[test]
    fn param_may_capture_empty_between_double_slashes() {
        let p = Pattern::parse("/a/:x/b").unwrap();
        let mut spans = Vec::new();
        let path = "/a//b";
        assert!(p.matches(path, &mut spans));
        assert_eq!(spans, [(3, 3)]);
    }

    #[test]
    fn param_then_dot() {
        let p = Pattern::parse("/:name.json").unwrap();
        let mut spans = Vec::new();
        assert!(p.matches("/report.json", &mut spans));
        assert_eq!(spans, [(1, 7)]);
        assert!(!p.matches("/report", &mut spans));
        assert!(!p.matches("/a/b.json", &mut spans));
    }

    #[test]
    fn wildcard_spans() {
        let p = Pattern::parse("/x/*").unwrap();
        let mut spans = Vec::new();
        assert!(p.matches("/x", &mut spans));
        assert_eq!(spans, [(2, 2)]);
        assert!(p.matches("/x/", &mut spans));
        assert_eq!(spans, [(2, 2)]);
        assert!(p.matches("/x/a/b/", &mut spans));
        assert_eq!(spans, [(3, 6)]);
        assert!(!p.matches("/xa", &mut spans));
    }

    #[test]
    fn precedence_literal_param_wildcard() {
        let specs = ["/*", "/:p", "/hello", "/hello/*", ""];
        let patterns: Vec<_> = specs.iter().map(|s| Pattern::parse(s).unwrap()).collect();
        let order: Vec<_> = precedence_order(&patterns)
            .into_iter()
            .map(|i| specs[i])
            .collect();
        assert_eq!(order, ["", "/hello", "/hello/*", "/:p", "/*"]);
    }

    #[test]
    fn precedence_ties_keep_insertion_order() {
        let specs = ["/:a", "/:b", "/x", "/y"];
        let patterns: Vec<_> = specs.iter().map(|s| Pattern::parse(s).unwrap()).collect();
        let order: Vec<_> = precedence_order(&patterns)
            .into_iter()
            .map(|i| specs[i])
            .collect();
        assert_eq!(order, ["/x", "/y", "/:a", "/:b"]);
    }
}
