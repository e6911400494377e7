//! The one `Linker` every component is instantiated against: every
//! capability's imports (`capabilities::add_to_linker`).

use wasmtime::Engine;
use wasmtime::component::Linker;

use crate::capabilities;
use crate::instance_state::InstanceState;

pub fn build_linker(engine: &Engine) -> anyhow::Result<Linker<InstanceState>> {
    let mut linker = Linker::new(engine);
    capabilities::add_to_linker(&mut linker)?;
    Ok(linker)
}

/// Names the first import of `component` no capability provides, so an
/// unsupported interface is reported as such rather than as a link error.
pub fn unsupported_import(
    engine: &Engine,
    component: &wasmtime::component::Component,
) -> Option<String> {
    component
        .component_type()
        .imports(engine)
        .map(|(name, _)| name.to_string())
        .find(|name| !capabilities::provides(name))
}
