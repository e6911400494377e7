//! `spinstack`: a Spin-compatible host on Wasmtime.

mod bindings;
mod build_cmd;
mod capabilities;
mod chaining;
mod cli;
mod compile_cache;
mod engine;
mod linker;
mod loader;
mod runtime;
mod server;
mod state;

use clap::Parser;

use crate::cli::{Cli, Command};

fn main() -> std::process::ExitCode {
    init_logging();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Build(args) => build_cmd::build_all(&args.manifest),
        Command::Up(args) => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(anyhow::Error::from)
            .and_then(|runtime| runtime.block_on(up(args))),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn up(args: cli::UpArgs) -> anyhow::Result<()> {
    if args.build {
        build_cmd::build_all(&args.manifest.manifest)?;
    }
    let loaded = loader::load(&args)?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", args.listen))?;
    let address = listener.local_addr()?;
    // The harness and people both read this line to find the server.
    println!("Serving http://{address}");
    for (route, component) in &loaded.routes {
        println!("  {component}: http://{address}{route}");
    }
    let key_value = loaded.app.key_value.clone();
    let _ticker = engine::EpochTicker::start(loaded.app.engine.clone());
    server::serve(loaded.app, listener, shutdown_signal()).await?;
    key_value.sync();
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("install SIGTERM handler");
    tokio::select! {
        _ = ctrl_c => {},
        _ = term.recv() => {},
    }
    tracing::info!("shutting down");
}

fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,wasmtime_wasi_http=warn,cranelift=warn"));
    use std::io::IsTerminal;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .with_target(true)
        .init();
}
