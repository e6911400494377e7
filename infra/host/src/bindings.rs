//! `spin_bindgen!`: host bindings for Spin's own interfaces, generated from
//! the WIT inside the pinned `spin-sdk` crate (see build.rs), so the host and
//! the guests can never disagree about an interface. Each capability module
//! invokes it with a world of just the interfaces it serves.

include!(concat!(env!("OUT_DIR"), "/spin_bindgen.rs"));
pub(crate) use spin_bindgen;
