//! The command line's commands, each on the library's API.

pub mod bench_instantiate;
pub mod build;
pub mod mail;
pub mod migrate;
mod render;
pub mod render_ingress;
pub mod render_nginx;
pub mod reset;
pub mod up;
