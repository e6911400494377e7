//! The TOML shape of `gateway.toml`, as written, with source spans for every
//! value that validation may refuse. `config.rs` turns it into the checked policy.

use serde::Deserialize;
use toml::Spanned;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawConfig {
    pub client_ip: RawClientIp,
    pub body: RawBody,
    #[serde(default)]
    pub zones: Vec<RawZone>,
    pub routes: Vec<RawRoute>,
    #[serde(default)]
    pub proxies: Vec<RawProxy>,
    #[serde(default)]
    pub headers: Vec<RawHeader>,
    pub compression: RawCompression,
    pub nginx: RawNginx,
    /// Optional: without it everything is served in cleartext, as before.
    pub tls: Option<RawTls>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawClientIp {
    pub header: Spanned<String>,
    pub recursive: bool,
    pub trusted_proxies: Vec<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawBody {
    pub max_size: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawZone {
    pub name: Spanned<String>,
    pub rate: Spanned<String>,
    pub burst: Spanned<i64>,
    pub nodelay: Spanned<bool>,
    pub size: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRoute {
    pub prefix: Spanned<String>,
    /// Required, so that forgetting the rate limit of a new route is an error;
    /// "none" is the explicit opt-out.
    pub zone: Spanned<String>,
    pub max_body_size: Option<Spanned<String>>,
    #[serde(default)]
    pub websocket: bool,
    #[serde(default)]
    pub event_stream: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawProxy {
    pub prefix: Spanned<String>,
    /// `http(s)://host[:port]`, or `variable:<name>` (a Spin variable of the app).
    pub upstream: Spanned<String>,
    /// The upstream in the rendered nginx.conf (nginx has no Spin variables).
    pub nginx_upstream: Option<Spanned<String>>,
    /// The upstream in the rendered Kubernetes Ingress (an ExternalName Service).
    pub ingress_upstream: Option<Spanned<String>>,
    pub max_body_size: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawHeader {
    pub name: Spanned<String>,
    pub value: Spanned<String>,
    #[serde(default)]
    pub tls_only: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCompression {
    pub enabled: bool,
    pub encodings: Spanned<Vec<Spanned<String>>>,
    pub min_size: Spanned<String>,
    pub types: Vec<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawNginx {
    pub listen: Spanned<i64>,
    pub server_name: Spanned<String>,
    pub upstream: Spanned<String>,
    pub mime_types: Spanned<String>,
    pub runtime_dir: Spanned<String>,
    /// The former place of the TLS settings, kept only to say where they went.
    pub tls: Option<Spanned<toml::Table>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTls {
    pub cert: Spanned<String>,
    pub key: Spanned<String>,
    pub protocols: Option<Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    pub redirect_http: bool,
    pub nginx_cert: Option<Spanned<String>>,
    pub nginx_key: Option<Spanned<String>>,
    pub nginx_listen: Option<Spanned<i64>>,
}
