//! `spinstack`: a Spin-compatible host on Wasmtime.

mod access_log_writer;
mod bench_cmd;
mod bindings;
mod build_cmd;
mod capabilities;
mod chaining;
mod cli;
mod compile_cache;
mod embedded;
mod engine;
mod gateway;
mod linker;
mod loader;
mod migrate;
mod runtime;
mod server;
mod state;

use clap::Parser;

use crate::cli::{Cli, Command};

fn main() -> std::process::ExitCode {
    let access_log = init_logging();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Build(args) => build_cmd::build_all(&args.manifest),
        Command::Migrate(args) => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(anyhow::Error::from)
            .and_then(|runtime| runtime.block_on(migrate::run(&args))),
        Command::Reset(args) => embedded::reset_command(&args),
        Command::Gateway(cli::GatewayCommand::RenderNginx {
            gateway,
            out,
            proxy_upstreams,
        }) => gateway::render_nginx(&gateway, &out, &proxy_upstreams),
        Command::BenchInstantiate {
            up,
            component,
            iterations,
        } => tokio::runtime::Runtime::new()
            .map_err(anyhow::Error::from)
            .and_then(|runtime| {
                runtime.block_on(bench_cmd::bench_instantiate(&up, &component, iterations))
            }),
        Command::Up(args) => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(anyhow::Error::from)
            .and_then(|runtime| runtime.block_on(up(args))),
    };
    access_log.flush_now();
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
    // Embedded Postgres and S3 when not configured, and the migrations.
    let services = embedded::prepare_up(&args).await?;
    let loaded = loader::load_with_services(&args, services.variables())?;
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
    let served = server::serve(loaded.app, listener, shutdown_signal()).await;
    key_value.sync();
    services.stop().await;
    served
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

/// Two streams: the operator's log on stderr (RUST_LOG filters it), and the
/// access log, one JSON object per request, on stdout through a background
/// writer so a slow terminal or pipe never stalls a request.
fn init_logging() -> access_log_writer::BufferedStdout {
    use std::io::IsTerminal;
    use tracing_subscriber::filter::{EnvFilter, Targets};
    use tracing_subscriber::prelude::*;

    // The access target is the other stream's; excluding it with a directive
    // (not a closure) keeps a level hint, so `log` records below it are
    // dropped at the call site instead of being dispatched and filtered.
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,wasmtime_wasi_http=warn,cranelift=warn"))
        .add_directive("access=off".parse().expect("a valid directive"));
    let operator = tracing_subscriber::fmt::layer()
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .with_target(true)
        .with_filter(filter);
    let writer = access_log_writer::BufferedStdout::start();
    let access = tracing_subscriber::fmt::layer()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_span_list(false)
        .with_target(false)
        .with_writer(writer.clone())
        .with_filter(Targets::new().with_target("access", tracing::Level::INFO));
    tracing_subscriber::registry()
        .with(operator)
        .with(access)
        .init();
    writer
}
