//! `fermyon:spin/variables@2.0.0` and `wasi:config/store@0.2.0-draft-2024-09-27`
//! (the standard interface Spin 3+ serves over the same variables): a
//! component reads only the variables its manifest declares, resolved once at
//! start-up from the app's `[variables]` (defaults, overridden by
//! `SPIN_VARIABLE_<NAME>` in the environment).

use std::collections::HashMap;
use std::sync::Arc;

use wasmtime::component::Linker;

use super::{AppContext, Capability, ComponentContext, HasView, HostView, InstanceContext, View};
use generated::fermyon::spin2_0_0::variables::{self as wit, Error};
use generated::wasi::config::store as wasi_config;

/// A component's resolved variables, shared by all its instances.
pub type ComponentVariables = Arc<HashMap<String, String>>;

/// Bindings for the one interface this capability serves.
mod generated {
    crate::bindings::spin_bindgen!(
        inline: "
            package spinstack:variables;
            world host {
                import fermyon:spin/variables@2.0.0;
                import wasi:config/store@0.2.0-draft-2024-09-27;
            }
        ",
        world: "spinstack:variables/host",
    );
}

pub struct Variables;

impl Capability for Variables {
    const IMPORTS: &'static [&'static str] = &[
        "fermyon:spin/variables@2.",
        "wasi:config/store@0.2.0-draft-2024-09-27",
    ];
    type App = ();
    type Component = ComponentVariables;
    type Instance = ComponentVariables;

    fn init(_ctx: &AppContext<'_>) -> anyhow::Result<()> {
        Ok(())
    }

    fn configure_component(
        _app: &(),
        ctx: &ComponentContext<'_>,
    ) -> anyhow::Result<ComponentVariables> {
        let resolved = ctx
            .resolver
            .resolve_component_variables(ctx.component)?
            .into_iter()
            .map(|(name, value)| (name, value.into_exposed()))
            .collect();
        Ok(Arc::new(resolved))
    }

    fn new_instance(
        _app: &Arc<()>,
        component: &ComponentVariables,
        _ctx: &InstanceContext<'_>,
    ) -> anyhow::Result<ComponentVariables> {
        Ok(component.clone())
    }

    fn add_to_linker<T: HostView>(
        linker: &mut Linker<T>,
        get: fn(&mut T) -> View<'_, ComponentVariables>,
    ) -> anyhow::Result<()> {
        wit::add_to_linker::<T, HasView<ComponentVariables>>(linker, get)?;
        wasi_config::add_to_linker::<T, HasView<ComponentVariables>>(linker, get)?;
        Ok(())
    }
}

/// Spin's rule for names: lowercase ASCII letters, digits and underscores,
/// starting with a letter.
fn is_valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

impl wit::Host for View<'_, ComponentVariables> {
    async fn get(&mut self, name: String) -> wasmtime::Result<Result<String, Error>> {
        if !is_valid_name(&name) {
            return Ok(Err(Error::InvalidName(name)));
        }
        Ok(self.state.get(&name).cloned().ok_or(Error::Undefined(name)))
    }
}

/// As Spin: a name that is not a valid variable name is just not there
/// (wasi-runtime-config's guidance), and so is an undeclared one. The values
/// were resolved at start-up, so neither `upstream` nor `io` can occur.
impl wasi_config::Host for View<'_, ComponentVariables> {
    async fn get(
        &mut self,
        key: String,
    ) -> wasmtime::Result<Result<Option<String>, wasi_config::Error>> {
        if !is_valid_name(&key) {
            return Ok(Ok(None));
        }
        Ok(Ok(self.state.get(&key).cloned()))
    }

    async fn get_all(
        &mut self,
    ) -> wasmtime::Result<Result<Vec<(String, String)>, wasi_config::Error>> {
        let mut all: Vec<(String, String)> = self
            .state
            .iter()
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect();
        all.sort();
        Ok(Ok(all))
    }
}

#[cfg(test)]
mod tests {
    use super::is_valid_name;

    #[test]
    fn names_follow_spin_rules() {
        assert!(is_valid_name("api_key"));
        assert!(is_valid_name("a1"));
        assert!(!is_valid_name("API_KEY"));
        assert!(!is_valid_name("1a"));
        assert!(!is_valid_name(""));
        assert!(!is_valid_name("a-b"));
    }
}
