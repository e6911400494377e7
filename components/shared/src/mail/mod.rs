//! Mail that is never lost: an outbox in Postgres (`mail_outbox`, migration
//! 0004) and its delivery through an HTTP mail API.
//!
//! - [`outbox`]: the SQL that writes a message in the same statement as the
//!   action that causes it (so both commit or neither does);
//! - [`deliver`]: after the commit, claims due rows (`FOR UPDATE SKIP
//!   LOCKED`, so replicas never send one row twice) and posts each to the
//!   provider, with exponential backoff on failure.
//!
//! Why HTTP and not SMTP: a Spin component has outbound HTTP everywhere
//! Spin runs; SMTP would need `wasi:sockets` TCP, which Spin allows only to
//! `allowed_outbound_hosts` by IP (no name lookup) and SpinKube's shim does
//! not promise. The provider is Postmark's `POST /email` JSON API; any
//! service that speaks it works (the host's embedded catcher does).
//!
//! No token may reach a log: messages carry links with tokens, so nothing
//! here ever logs a message's body, and `last_error` holds only a status or
//! an error kind.

pub mod account;
pub mod deliver;
pub mod outbox;

/// A message to write to the outbox; the recipient comes from the row the
/// action's statement touched (see [`outbox::insert_cte`]).
pub struct Message {
    pub subject: String,
    pub text: String,
    pub html: String,
}
