//! `spinstack up`: build if asked, start the embedded services, apply the
//! migrations, load the app and serve it until SIGINT or SIGTERM, then drain
//! and stop the services.

mod signals;

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
        stream_timeout: std::time::Duration::from_millis(args.stream_timeout_ms),
        max_concurrent: args.max_concurrent,
        max_queue_wait: std::time::Duration::from_millis(args.max_queue_wait_ms),
        gateway: spinstack::GatewaySelection::from_flag(args.gateway.as_deref()),
        max_instance_memory: args.max_instance_memory_mib << 20,
        postgres_naive: args.postgres_naive,
        postgres_compat: args.postgres_compat,
        metrics: args.admin_listen.is_some(),
        ..HostConfig::new(&args.manifest.manifest)
    }
}

pub async fn run(args: UpArgs) -> anyhow::Result<()> {
    if args.build {
        super::build::build_all(&args.manifest.manifest)?;
    }
    if let Some(admin) = args.admin_listen {
        spinstack::metrics::admin::check_address(admin, args.admin_listen_remote)?;
    }
    let mut config = host_config(&args);
    // Embedded Postgres and S3 when not configured, and the migrations.
    let services = embedded::prepare_up(&config, args.reset).await?;
    apply_migrations(&config, args.migrations.as_deref(), &services).await?;
    config.service_variables = services.variables();
    let loaded = App::load(&config)?;
    let policy_tls = loaded
        .app
        .gateway
        .as_ref()
        .and_then(|gateway| gateway.policy().config().tls());
    let plan = tls_plan(&args, &config, policy_tls)?;
    let tls = match &plan.tls {
        Some(settings) => Some(tls_config(settings)?),
        None => None,
    };
    let listener = bind(args.listen).await?;
    let redirect_http = match &plan.redirect_http {
        Some(redirect) => Some(bind_redirect(redirect).await?),
        None => None,
    };
    // Before the "Serving" line: whoever reads it may signal at once.
    let shutdown = signals::shutdown(std::time::Duration::from_secs(args.shutdown_timeout))?;
    let address: SocketAddr = listener.local_addr()?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    // The harness and people both read this line to find the server.
    println!("Serving {scheme}://{address}");
    for (route, component) in &loaded.routes {
        println!("  {component}: {scheme}://{address}{route}");
    }
    if let Some(redirect) = &redirect_http {
        println!("Redirecting http://{} to https", redirect.local_addr()?);
    }
    let app = loaded.app;
    let _admin = match args.admin_listen {
        Some(address) => {
            let admin = bind(address).await?;
            println!("Metrics at http://{}/metrics", admin.local_addr()?);
            Some(AbortOnDrop(tokio::spawn(spinstack::metrics::admin::serve(
                admin,
                app.clone(),
            ))))
        }
        None => None,
    };
    let _ticker = spinstack::engine::EpochTicker::start(app.runtime.engine.clone());
    let listeners = spinstack::server::Listeners {
        main: listener,
        tls,
        redirect_http,
        max_connections: args.max_connections,
    };
    let served = spinstack::server::serve(app.clone(), listeners, shutdown).await;
    // The embedded services outlive the drain: the requests in flight needed them.
    app.shutdown();
    services.stop().await;
    match served? {
        spinstack::server::Stopped::Drained | spinstack::server::Stopped::Cut { requests: 0 } => {
            Ok(())
        }
        spinstack::server::Stopped::Cut { requests } => {
            anyhow::bail!("the shutdown cut {requests} request(s) still running (see the log)")
        }
    }
}

/// The admin listener stops with `up` (after the drain: metrics stay
/// readable while requests finish).
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn bind(address: SocketAddr) -> anyhow::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(address)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {address}: {e}"))
}

/// The redirect listener; when the policy asked for it, the error says
/// where, and how to pick another address (port 80 may need privileges).
async fn bind_redirect(
    redirect: &spinstack::server::tls::settings::RedirectListener,
) -> anyhow::Result<tokio::net::TcpListener> {
    let address = redirect.address;
    tokio::net::TcpListener::bind(address).await.map_err(|e| match &redirect.named_in {
        Some(policy) => anyhow::anyhow!(
            "cannot listen on {address} for the HTTPS redirect that [tls] redirect_http in {policy} \
             asks for ({e}); --redirect-http ADDR picks another address"
        ),
        None => anyhow::anyhow!("cannot listen on {address}: {e}"),
    })
}

/// The TLS the flags and the gateway policy's `[tls]` ask for.
fn tls_plan(
    args: &UpArgs,
    config: &HostConfig,
    policy: Option<&spinstack_gateway::TlsConfig>,
) -> anyhow::Result<spinstack::server::tls::settings::TlsPlan> {
    let flags = spinstack::server::tls::TlsFlags {
        cert: args.tls_cert.clone(),
        key: args.tls_key.clone(),
        self_signed: args.tls_self_signed,
        redirect_http: args.redirect_http,
    };
    spinstack::server::tls::settings::plan(&flags, policy, args.listen, || {
        let (manifest, runtime_config) = config.read_app()?;
        Ok(spinstack::config::state_dir(
            config.state_dir.as_deref(),
            &manifest,
            &runtime_config,
        ))
    })
}

/// The rustls configuration of `settings`.
fn tls_config(
    settings: &spinstack::server::tls::TlsSettings,
) -> anyhow::Result<std::sync::Arc<rustls::ServerConfig>> {
    let (tls, ca) = spinstack::server::tls::server_config(settings)?;
    if let Some(ca) = ca {
        println!(
            "TLS: a localhost certificate from the local CA {} (trust it once, e.g. curl --cacert)",
            ca.display()
        );
    }
    Ok(tls)
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
