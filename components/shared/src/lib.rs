//! What every Spinstack component shares, so no component re-implements it:
//!
//! - [`problem`], [`respond`], [`request`]: RFC 9457 errors, JSON responses,
//!   JSON request bodies;
//! - [`dispatch`]: the route table, one 404/405 for every component;
//! - [`config`], [`db`]: Spin variables and the app's Postgres;
//! - [`domain`]: parsed input types (email, password, display name, role);
//! - [`passwords`]: argon2id hashing, verification, rehash detection;
//! - [`cache`]: get-or-load with a TTL over the key-value store;
//! - [`users`]: the user record and its cached read;
//! - [`token`], [`denylist`], [`authenticate`]: access tokens and the one
//!   check that turns a request into a [`Principal`] or the exact 401;
//! - [`mail`]: the mail outbox and its delivery over an HTTP mail API;
//! - [`storage`]: the S3-compatible object store (presigned URLs, streaming
//!   `PUT`, `HEAD`, idempotent delete);
//! - [`events`]: recording events in the outbox, in the statement that
//!   makes the change.

pub mod account_tokens;
pub mod authenticate;
pub mod cache;
pub mod chance;
pub mod clock;
pub mod config;
pub mod db;
pub mod denylist;
pub mod dispatch;
pub mod domain;
pub mod events;
pub mod mail;
pub mod opaque_token;
pub mod passwords;
pub mod problem;
pub mod random;
pub mod request;
pub mod respond;
pub mod storage;
#[cfg(any(test, feature = "test-support"))]
pub mod test_support;
pub mod token;
pub mod two_factor;
pub mod users;

pub use authenticate::{Principal, authenticate};
pub use problem::Problem;
