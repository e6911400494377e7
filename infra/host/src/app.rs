//! [`App`]: a loaded application, everything its requests share. Built from
//! a [`crate::HostConfig`] by [`App::load`] (`loader.rs`), served by
//! `server`, or driven in-process by tests and benchmarks through
//! [`App::handle`].

use std::collections::HashMap;
use std::sync::Arc;

use crate::component::{ComponentRuntime, Runtime};
use crate::server::admission::Admission;

pub struct App {
    pub runtime: Runtime,
    pub components: HashMap<String, Arc<ComponentRuntime>>,
    pub router: spinstack_router::Router,
    pub admission: Admission,
    /// None only with `GatewaySelection::Off`.
    pub gateway: Option<Arc<crate::gateway::GatewayPolicy>>,
    pub application_name: String,
    pub application_version: Option<String>,
}

impl App {
    /// Flushes what the capabilities keep (key-value files) after the last
    /// request.
    pub fn shutdown(&self) {
        self.runtime.capabilities.shutdown();
    }
}
