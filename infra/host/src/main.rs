//! `spinstack`, the command line: parses flags into the library's
//! configuration and runs a command (`commands/`).

mod cli;
mod commands;

use clap::Parser;

use crate::cli::{Cli, Command};

fn main() -> std::process::ExitCode {
    let access_log = init_logging();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Build(args) => commands::build::build_all(&args.manifest),
        Command::Migrate(args) => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(anyhow::Error::from)
            .and_then(|runtime| runtime.block_on(commands::migrate::run(&args))),
        Command::Reset(args) => commands::reset::run(&args),
        Command::Mail(cli::MailCommand::List(args)) => commands::mail::list(&args),
        Command::Mail(cli::MailCommand::Serve { listen, dir }) => {
            tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .map_err(anyhow::Error::from)
                .and_then(|runtime| runtime.block_on(commands::mail::serve(listen, &dir)))
        }
        Command::Gateway(cli::GatewayCommand::RenderNginx {
            gateway,
            out,
            proxy_upstreams,
        }) => commands::render_nginx::run(&gateway, &out, &proxy_upstreams),
        Command::Gateway(cli::GatewayCommand::RenderIngress {
            gateway,
            out,
            proxy_upstreams,
            host,
            service,
            service_port,
            ingress_class,
        }) => commands::render_ingress::run(
            &gateway,
            &out,
            &proxy_upstreams,
            &spinstack_gateway::IngressOptions {
                host,
                service,
                service_port,
                ingress_class,
            },
        ),
        Command::BenchInstantiate {
            up,
            component,
            iterations,
        } => tokio::runtime::Runtime::new()
            .map_err(anyhow::Error::from)
            .and_then(|runtime| {
                runtime.block_on(commands::bench_instantiate::run(
                    &up, &component, iterations,
                ))
            }),
        Command::Up(args) => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(anyhow::Error::from)
            .and_then(|runtime| runtime.block_on(commands::up::run(args))),
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

/// Two streams: the operator's log on stderr (RUST_LOG filters it), and the
/// access log, one JSON object per request, on stdout through a background
/// writer so a slow terminal or pipe never stalls a request.
fn init_logging() -> spinstack::access_log_writer::BufferedStdout {
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
    let writer = spinstack::access_log_writer::BufferedStdout::start();
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
