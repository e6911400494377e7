//! Command-line interface: `spinstack up` and `spinstack build`, with
//! defaults like Spin's.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use spinstack_gateway::IngressOptions;

#[derive(Parser)]
#[command(
    name = "spinstack",
    version,
    about = "Run a Spin application on Wasmtime, with its data services"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Serve the application's HTTP triggers.
    Up(UpArgs),
    /// Run every component's build command.
    Build(ManifestArg),
    /// Apply the SQL migrations (`infra/migrations/`) to the app's database.
    Migrate(MigrateArgs),
    /// Delete the local state directory (`.spinstack/`): compiled code,
    /// key-value data, the embedded Postgres and S3 data.
    Reset(StateArgs),
    /// Mail the embedded catcher kept (`spinstack up` without `mail_api_url`).
    #[command(subcommand)]
    Mail(MailCommand),
    /// Gateway tools.
    #[command(subcommand)]
    Gateway(GatewayCommand),
    /// Time the instantiation of one component (benchmarks).
    #[command(hide = true)]
    BenchInstantiate {
        #[command(flatten)]
        up: UpArgs,
        #[arg(long)]
        component: String,
        #[arg(long, default_value_t = 20_000)]
        iterations: usize,
    },
}

#[derive(Args, Clone)]
pub struct ManifestArg {
    /// The application manifest.
    #[arg(short = 'f', long = "from", default_value = "spin.toml")]
    pub manifest: PathBuf,
}

#[derive(Args, Clone)]
pub struct UpArgs {
    #[command(flatten)]
    pub manifest: ManifestArg,
    /// Address to listen on (port 0 picks a free one; the address is printed).
    #[arg(long, default_value = "127.0.0.1:3000")]
    pub listen: SocketAddr,
    /// Record metrics and serve them at http://ADDR/metrics (Prometheus),
    /// apart from the app's port. Loopback only, unless --admin-listen-remote.
    #[arg(long, value_name = "ADDR")]
    pub admin_listen: Option<SocketAddr>,
    /// Let --admin-listen bind a non-loopback address (the metrics have no
    /// authentication: only where the network is private to the scraper).
    #[arg(long, requires = "admin_listen")]
    pub admin_listen_remote: bool,
    /// Spin runtime-config file (key-value stores, ...).
    #[arg(long)]
    pub runtime_config_file: Option<PathBuf>,
    /// Build the components before serving.
    #[arg(long)]
    pub build: bool,
    /// Where local state lives (compiled code, key-value data, staged files).
    /// Defaults to `.spinstack` beside the manifest.
    #[arg(long)]
    pub state_dir: Option<PathBuf>,
    /// Where compiled components are cached (default: `compiled/` in the
    /// state directory). Safe to share between apps and runs.
    #[arg(long)]
    pub cache_dir: Option<PathBuf>,
    /// Wall-clock limit of one request, in milliseconds.
    #[arg(long, default_value_t = 30_000)]
    pub request_timeout_ms: u64,
    /// Wall-clock limit of a GET with `Accept: text/event-stream` (a
    /// server-sent events stream), in milliseconds.
    #[arg(long, default_value_t = 600_000)]
    pub stream_timeout_ms: u64,
    /// Requests that may run guests at once.
    #[arg(long, default_value_t = 128)]
    pub max_concurrent: u32,
    /// How long a request may wait for a free slot before it is answered
    /// 503 with Retry-After, in milliseconds (at most 4 x max-concurrent
    /// requests wait; beyond that the answer is immediate).
    #[arg(long, default_value_t = 2_000)]
    pub max_queue_wait_ms: u64,
    /// Connections served at once; past it a connection is answered 503
    /// with Retry-After (cleartext) or closed (TLS) at once.
    #[arg(long, default_value_t = spinstack::server::connection_limit::DEFAULT_MAX_CONNECTIONS)]
    pub max_connections: usize,
    /// Gateway policy file; `none` keeps headers, body limits and
    /// compression but drops rate limits; `off` disables the gateway
    /// entirely (benchmark baseline). Default: `infra/gateway.toml` beside
    /// the manifest if it exists, else the built-in policy (the same).
    #[arg(long)]
    pub gateway: Option<String>,
    /// Linear-memory cap of one instance, in MiB.
    #[arg(long, default_value_t = 128)]
    pub max_instance_memory_mib: usize,
    /// Postgres without pooling or statement caching: a new connection per
    /// `open`, every statement prepared on every call (benchmark baseline).
    #[arg(long, hide = true)]
    pub postgres_naive: bool,
    /// Serve HTTPS with this PEM certificate chain (as `spin up --tls-cert`),
    /// instead of the gateway policy's `[tls]` cert and key if it has them.
    #[arg(
        long,
        env = "SPIN_TLS_CERT",
        requires = "tls_key",
        conflicts_with = "tls_self_signed"
    )]
    pub tls_cert: Option<PathBuf>,
    /// The PEM private key of `--tls-cert` (PKCS#8, RSA or EC).
    #[arg(long, env = "SPIN_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Serve HTTPS with a `localhost` certificate from a local development
    /// CA kept in the state directory (made once; its path is printed).
    #[arg(long)]
    pub tls_self_signed: bool,
    /// Also listen here in cleartext and answer every request with 301 to
    /// the https:// URL (needs TLS). With `redirect_http = true` in the
    /// policy's `[tls]` and no flag: port 80 of the `--listen` address.
    #[arg(long)]
    pub redirect_http: Option<SocketAddr>,
    /// Test-only: make Postgres behave as Spin 4.0.0–4.0.2's client does
    /// (an empty query result never returns, errors lose their SQLSTATE),
    /// to check that the app does not rely on what those versions get
    /// wrong. Not a feature.
    #[arg(long, hide = true, default_value = "none")]
    pub postgres_compat: spinstack::capabilities::postgres::PostgresCompat,
    /// On SIGTERM or SIGINT, how long the requests in flight may take to
    /// finish before they are cut, in seconds (a second signal cuts at once).
    #[arg(long, value_name = "SECONDS", default_value_t = spinstack::server::drain::DEFAULT_TIMEOUT.as_secs())]
    pub shutdown_timeout: u64,
    /// Delete the state directory first (see `spinstack reset`).
    #[arg(long)]
    pub reset: bool,
    /// The SQL migrations applied before serving. Default:
    /// `infra/migrations` beside the manifest (skipped if absent).
    #[arg(long)]
    pub migrations: Option<PathBuf>,
}

#[derive(Args, Clone)]
pub struct MigrateArgs {
    #[command(flatten)]
    pub manifest: ManifestArg,
    /// The database (`postgres://user:pass@host:port/db`). Default: the
    /// app's `database_url` variable (`SPIN_VARIABLE_DATABASE_URL`), else the
    /// embedded Postgres in the state directory.
    #[arg(long)]
    pub database_url: Option<String>,
    /// The SQL migrations. Default: `infra/migrations` beside the manifest.
    #[arg(long)]
    pub migrations: Option<PathBuf>,
    /// Spin runtime-config file (for its `state_dir`).
    #[arg(long)]
    pub runtime_config_file: Option<PathBuf>,
    /// The state directory of the embedded Postgres. Defaults to
    /// `.spinstack` beside the manifest.
    #[arg(long)]
    pub state_dir: Option<PathBuf>,
}

#[derive(Args, Clone)]
pub struct StateArgs {
    #[command(flatten)]
    pub manifest: ManifestArg,
    /// Spin runtime-config file (for its `state_dir`).
    #[arg(long)]
    pub runtime_config_file: Option<PathBuf>,
    /// The state directory. Defaults to `.spinstack` beside the manifest.
    #[arg(long)]
    pub state_dir: Option<PathBuf>,
}

#[derive(Subcommand)]
pub enum MailCommand {
    /// List the caught messages, oldest first: file, recipient, subject.
    List(StateArgs),
    /// Run the mail catcher alone (the compose stack's `mail` service):
    /// Postmark's `POST /email` kept as files, `GET /messages` lists them.
    Serve {
        /// Where to listen.
        #[arg(long, default_value = "127.0.0.1:8025")]
        listen: std::net::SocketAddr,
        /// Where to keep the messages (`<dir>/messages/*.json`).
        #[arg(long)]
        dir: PathBuf,
    },
}

#[derive(Subcommand)]
pub enum GatewayCommand {
    /// Write the nginx configuration that enforces the gateway policy.
    RenderNginx {
        /// The gateway policy.
        #[arg(long, default_value = "infra/gateway.toml")]
        gateway: PathBuf,
        /// Where to write it (`-` for stdout).
        #[arg(long, default_value = "infra/nginx/nginx.conf")]
        out: PathBuf,
        /// `PREFIX=URL`: the upstream nginx proxies a `[[proxies]]` prefix to,
        /// instead of its `nginx_upstream` (e.g. `/_storage/=http://minio:9000`).
        #[arg(long = "proxy-upstream", value_name = "PREFIX=URL")]
        proxy_upstreams: Vec<String>,
    },
    /// Write the gateway policy as ingress-nginx Ingress objects (Kubernetes):
    /// what the annotations cannot express is said in the file.
    RenderIngress {
        /// The gateway policy.
        #[arg(long, default_value = "infra/gateway.toml")]
        gateway: PathBuf,
        /// Where to write it (`-` for stdout).
        #[arg(long, default_value = "infra/kubernetes/base/ingress.yaml")]
        out: PathBuf,
        /// `PREFIX=URL`: the upstream a `[[proxies]]` prefix goes to, instead
        /// of its `ingress_upstream` (a DNS name: an ExternalName Service).
        #[arg(long = "proxy-upstream", value_name = "PREFIX=URL")]
        proxy_upstreams: Vec<String>,
        /// The host name of the rules.
        #[arg(long, default_value_t = IngressOptions::default().host)]
        host: String,
        /// The application's Service (SpinKube names it as the SpinApp).
        #[arg(long, default_value_t = IngressOptions::default().service)]
        service: String,
        #[arg(long, default_value_t = IngressOptions::default().service_port)]
        service_port: u16,
        #[arg(long, default_value_t = IngressOptions::default().ingress_class)]
        ingress_class: String,
    },
}
