//! What `gateway render-nginx` and `gateway render-ingress` share: the policy
//! with `--proxy-upstream PREFIX=URL` overrides, and writing the result.

use std::path::Path;

use spinstack_gateway::GatewayConfig;

/// How an override replaces one proxy's upstream in the config.
pub type ReplaceUpstream = fn(GatewayConfig, &str, &str) -> Result<GatewayConfig, String>;

/// The policy at `policy`, each of `proxy_upstreams` (`PREFIX=URL`) applied with `replace`.
pub fn policy_with_upstreams(
    policy: &Path,
    proxy_upstreams: &[String],
    replace: ReplaceUpstream,
) -> anyhow::Result<GatewayConfig> {
    let mut config = GatewayConfig::from_file(policy)?;
    for option in proxy_upstreams {
        let (prefix, url) = option.split_once('=').ok_or_else(|| {
            anyhow::anyhow!("--proxy-upstream {option:?}: expected PREFIX=URL, e.g. /_storage/=http://minio:9000")
        })?;
        config = replace(config, prefix, url)
            .map_err(|why| anyhow::anyhow!("--proxy-upstream {option:?}: {why}"))?;
    }
    Ok(config)
}

/// Writes `rendered` to `out`, or to stdout when `out` is `-`.
pub fn write(out: &Path, rendered: &str) -> anyhow::Result<()> {
    if out == Path::new("-") {
        print!("{rendered}");
    } else {
        std::fs::write(out, rendered)?;
        println!("wrote {}", out.display());
    }
    Ok(())
}
