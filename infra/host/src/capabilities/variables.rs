//! `fermyon:spin/variables@2.0.0`: a component reads only the variables its
//! manifest declares, resolved once at start-up from the app's `[variables]`
//! (defaults, overridden by `SPIN_VARIABLE_<NAME>` in the environment).

use std::collections::HashMap;
use std::sync::Arc;

use crate::bindings::fermyon::spin2_0_0::variables::{self as wit, Error};

/// A component's resolved variables, shared by all its instances.
pub type ComponentVariables = Arc<HashMap<String, String>>;

/// Spin's rule for names: lowercase ASCII letters, digits and underscores,
/// starting with a letter.
fn is_valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

impl wit::Host for crate::state::RequestState {
    async fn get(&mut self, name: String) -> wasmtime::Result<Result<String, Error>> {
        if !is_valid_name(&name) {
            return Ok(Err(Error::InvalidName(name)));
        }
        Ok(self
            .variables
            .get(&name)
            .cloned()
            .ok_or(Error::Undefined(name)))
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
