//! Host bindings for Spin's own interfaces, generated at build time from the
//! WIT inside the pinned `spin-sdk` crate (see build.rs).

include!(concat!(env!("OUT_DIR"), "/spin_bindings.rs"));
