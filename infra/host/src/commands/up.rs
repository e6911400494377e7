//! `spinstack up`: build if asked, start the embedded services, apply the
//! migrations, load the app and serve it until SIGINT or SIGTERM.

use std::net::SocketAddr;

use anyhow::Context;
use spinstack::{App, HostConfig, embedded, migrate};

use crate::cli::UpArgs;

/// The library's configuration for `spinstack up`'s flags.
pub fn host_config(args: &UpArgs) -> HostConfig {
    HostConfig {
        runtime_config_file: args.runtime_config_file.clone(),
        state_dir: args.state_dir.clone(),
        cache_dir: args.cache_dir.clone(),
        request_timeout: std::time::Duration::from_millis(args.request_timeout_ms),
        max_concurrent: args.max_concurrent,
        max_queue_wait: std::time::Duration::from_millis(args.max_queue_wait_ms),
        gateway: spinstack::GatewaySelection::from_flag(args.gateway.as_deref()),
        max_instance_memory: args.max_instance_memory_mib << 20,
        postgres_naive: args.postgres_naive,
        ..HostConfig::new(&args.manifest.manifest)
    }
}

pub async fn run(args: UpArgs) -> anyhow::Result<()> {
    if args.build {
        super::build::build_all(&args.manifest.manifest)?;
    }
    let mut config = host_config(&args);
    // Embedded Postgres and S3 when not configured, and the migrations.
    let services = embedded::prepare_up(&config, args.reset).await?;
    apply_migrations(&config, args.migrations.as_deref(), &services).await?;
    config.service_variables = services.variables();
    let loaded = App::load(&config)?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", args.listen))?;
    let address: SocketAddr = listener.local_addr()?;
    // The harness and people both read this line to find the server.
    println!("Serving http://{address}");
    for (route, component) in &loaded.routes {
        println!("  {component}: http://{address}{route}");
    }
    let app = loaded.app;
    let _ticker = spinstack::engine::EpochTicker::start(app.runtime.engine.clone());
    let served = spinstack::server::serve(app.clone(), listener, shutdown_signal()).await;
    app.shutdown();
    services.stop().await;
    served
}

/// `infra/migrations` (or `--migrations`) applied to the app's database,
/// when there are migrations and the manifest declares `database_url`.
async fn apply_migrations(
    config: &HostConfig,
    flag: Option<&std::path::Path>,
    services: &embedded::Services,
) -> anyhow::Result<()> {
    let (manifest, _) = config.read_app()?;
    let dir = migrate::migrations_dir(flag, &manifest);
    if !dir.is_dir() {
        tracing::debug!("no migrations directory at {}; none applied", dir.display());
        return Ok(());
    }
    let Some(url) = embedded::database_url(&manifest, services)? else {
        tracing::info!(
            "the manifest declares no {:?} variable; migrations in {} not applied",
            embedded::DATABASE_URL,
            dir.display()
        );
        return Ok(());
    };
    let migrations = migrate::load_dir(&dir)?;
    migrate::apply(&url, &migrations)
        .await
        .context("applying migrations before serving")?;
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
