//! The one `Linker` every component is instantiated against: WASI 0.2,
//! wasi:http, and the Spin interfaces the host implements.

use wasmtime::Engine;
use wasmtime::component::{HasSelf, Linker};

use crate::bindings::fermyon::spin2_0_0::{key_value, variables};
use crate::bindings::spin::{postgres3_0_0, postgres4_0_0};
use crate::state::RequestState;

pub fn build_linker(engine: &Engine) -> anyhow::Result<Linker<RequestState>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
    key_value::add_to_linker::<_, HasSelf<RequestState>>(&mut linker, |state| state)?;
    variables::add_to_linker::<_, HasSelf<RequestState>>(&mut linker, |state| state)?;
    postgres3_0_0::postgres::add_to_linker::<_, HasSelf<RequestState>>(&mut linker, |state| state)?;
    postgres4_0_0::postgres::add_to_linker::<_, HasSelf<RequestState>>(&mut linker, |state| state)?;
    Ok(linker)
}

/// Names the first import of `component` the linker cannot satisfy, so an
/// unsupported capability is reported as such rather than as a link error.
pub fn unsupported_import(
    engine: &Engine,
    component: &wasmtime::component::Component,
) -> Option<String> {
    component
        .component_type()
        .imports(engine)
        .map(|(name, _)| name.to_string())
        .find(|name| !is_provided(name))
}

/// Interfaces (by package prefix) the linker above provides.
fn is_provided(import: &str) -> bool {
    const PROVIDED: &[&str] = &[
        "wasi:cli/",
        "wasi:clocks/",
        "wasi:filesystem/",
        "wasi:io/",
        "wasi:random/",
        "wasi:sockets/",
        "wasi:http/types@",
        "wasi:http/outgoing-handler@",
        "fermyon:spin/key-value@2.",
        "fermyon:spin/variables@2.",
        "spin:postgres/postgres@3.0.0",
        "spin:postgres/postgres@4.0.0",
    ];
    PROVIDED.iter().any(|prefix| import.starts_with(prefix))
}
