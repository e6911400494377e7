//! `spinstack gateway render-ingress`: the gateway policy as ingress-nginx
//! objects for Kubernetes (infra/kubernetes/base/ingress.yaml).

use std::path::Path;

use spinstack_gateway::{GatewayConfig, IngressOptions};

use super::render::{policy_with_upstreams, write};

/// `spinstack gateway render-ingress`; `proxy_upstreams` are `PREFIX=URL`
/// overrides of the proxies' `ingress_upstream`.
pub fn run(
    policy: &Path,
    out: &Path,
    proxy_upstreams: &[String],
    options: &IngressOptions,
) -> anyhow::Result<()> {
    let config = policy_with_upstreams(
        policy,
        proxy_upstreams,
        GatewayConfig::with_ingress_proxy_upstream,
    )?;
    let rendered = spinstack_gateway::render_ingress(&config, options)
        .map_err(|why| anyhow::anyhow!("{}: {why}", policy.display()))?;
    write(out, &rendered)
}
