//! Command-line interface: `spinstack up` and `spinstack build`, with
//! defaults like Spin's.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

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
    /// Wall-clock limit of one request, in milliseconds.
    #[arg(long, default_value_t = 30_000)]
    pub request_timeout_ms: u64,
    /// Requests that may run guests at once.
    #[arg(long, default_value_t = 128)]
    pub max_concurrent: u32,
    /// Linear-memory cap of one instance, in MiB.
    #[arg(long, default_value_t = 128)]
    pub max_instance_memory_mib: usize,
}
