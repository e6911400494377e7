//! One module per host capability a component can import, each with the
//! narrow state it needs (after Spin's `factor-*` crates).

pub mod files;
pub mod key_value;
pub mod outbound_http;
pub mod postgres;
pub mod stdio;
pub mod variables;
