//! `spinstack gateway render-nginx`: the nginx configuration that enforces
//! the gateway policy.

use std::path::Path;

use spinstack_gateway::GatewayConfig;

use super::render::{policy_with_upstreams, write};

/// `spinstack gateway render-nginx`; `proxy_upstreams` are `PREFIX=URL`
/// overrides of the proxies' `nginx_upstream`.
pub fn run(policy: &Path, out: &Path, proxy_upstreams: &[String]) -> anyhow::Result<()> {
    let config = policy_with_upstreams(
        policy,
        proxy_upstreams,
        GatewayConfig::with_nginx_proxy_upstream,
    )?;
    write(out, &spinstack_gateway::render_nginx(&config))
}
