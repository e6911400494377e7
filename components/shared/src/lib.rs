//! What every Spinstack component shares: RFC 9457 problem responses and JSON
//! responses with the project's content types. Later: the token check and the
//! read-through cache.

pub mod problem;
pub mod respond;

pub use problem::Problem;
