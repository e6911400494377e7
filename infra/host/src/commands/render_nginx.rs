//! `spinstack gateway render-nginx`: the nginx configuration that enforces
//! the gateway policy.

use std::path::Path;

use spinstack_gateway::GatewayConfig;

/// `spinstack gateway render-nginx`; `proxy_upstreams` are `PREFIX=URL`
/// overrides of the proxies' `nginx_upstream`.
pub fn run(policy: &Path, out: &Path, proxy_upstreams: &[String]) -> anyhow::Result<()> {
    let mut config = GatewayConfig::from_file(policy)?;
    for option in proxy_upstreams {
        let (prefix, url) = option.split_once('=').ok_or_else(|| {
            anyhow::anyhow!("--proxy-upstream {option:?}: expected PREFIX=URL, e.g. /_storage/=http://minio:9000")
        })?;
        config = config
            .with_nginx_proxy_upstream(prefix, url)
            .map_err(|why| anyhow::anyhow!("--proxy-upstream {option:?}: {why}"))?;
    }
    let rendered = spinstack_gateway::render_nginx(&config);
    if out == Path::new("-") {
        print!("{rendered}");
    } else {
        std::fs::write(out, rendered)?;
        println!("wrote {}", out.display());
    }
    Ok(())
}
