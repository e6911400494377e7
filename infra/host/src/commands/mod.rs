//! The command line's commands, each on the library's API.

pub mod bench_instantiate;
pub mod build;
pub mod migrate;
pub mod render_nginx;
pub mod reset;
pub mod up;
