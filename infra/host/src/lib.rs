//! `spinstack`: a Spin-compatible host on Wasmtime, as a library. The
//! `spinstack` binary (`main.rs`) is its command line; tests and benchmarks
//! build an [`App`] in-process from a [`HostConfig`].
//!
//! - `config`: [`HostConfig`], plain data
//! - `loader`: [`App::load`], start-up
//! - `capabilities`: one module per host capability, registered in one list
//! - `component`, `instance_state`, `linker`, `engine`, `compile_cache`:
//!   running one request in a fresh instance
//! - `server`: the request path, as layers; `gateway`: the policy they apply
//! - `metrics`: Prometheus metrics and the admin listener that serves them
//! - `embedded`: the services `spinstack up` brings; `migrate`: SQL migrations
//! - `postgres_tls`: libpq-style `sslmode` for the capability and `migrate`

pub mod access_log_writer;
mod app;
mod bindings;
pub mod capabilities;
mod chaining;
mod compile_cache;
pub mod component;
pub mod config;
pub mod embedded;
pub mod engine;
pub mod gateway;
pub mod host_responses;
mod instance_state;
mod linker;
mod loader;
pub mod metrics;
pub mod migrate;
pub mod outbound_policy;
mod postgres_tls;
pub mod server;
pub mod step;

pub use app::App;
pub use config::{GatewaySelection, HostConfig};
pub use instance_state::InstanceState;
pub use loader::Loaded;
