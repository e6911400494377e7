//! Renders a gateway config to nginx.conf, by default the committed
//! `infra/gateway.toml` to `infra/nginx/nginx.conf` (what
//! `spinstack gateway render-nginx` does).
//!
//! `cargo run -p spinstack-gateway --example render-nginx [GATEWAY_TOML [OUTPUT|-]]`

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use spinstack_gateway::{GatewayConfig, render_nginx};

fn main() -> ExitCode {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../..");
    let mut args = std::env::args_os().skip(1).map(PathBuf::from);
    let input = args
        .next()
        .unwrap_or_else(|| root.join("infra/gateway.toml"));
    let output = args
        .next()
        .unwrap_or_else(|| root.join("infra/nginx/nginx.conf"));

    let config = match GatewayConfig::from_file(&input) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    let rendered = render_nginx(&config);
    if output == Path::new("-") {
        print!("{rendered}");
        return ExitCode::SUCCESS;
    }
    if let Err(error) = std::fs::write(&output, rendered) {
        eprintln!("error: cannot write {}: {error}", output.display());
        return ExitCode::FAILURE;
    }
    eprintln!("wrote {}", output.display());
    ExitCode::SUCCESS
}
