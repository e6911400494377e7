//! The data of one request's `Store`: the resource table the guest's handles
//! live in, and every capability's per-instance state. Built fresh for every
//! request. Capabilities see it only through `capabilities::HostView`.

use std::time::Instant;

use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtxView, WasiHttpView};

use crate::capabilities::{HostView, InstanceStates};

pub struct InstanceState {
    pub table: ResourceTable,
    pub capabilities: InstanceStates,
    /// When the request's time is up (checked on every epoch tick).
    pub deadline: Instant,
}

impl HostView for InstanceState {
    fn capabilities(&mut self) -> (&mut InstanceStates, &mut ResourceTable) {
        (&mut self.capabilities, &mut self.table)
    }
}

/// wasmtime-wasi's view: the `wasi` capability's context.
impl WasiView for InstanceState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.capabilities.wasi,
            table: &mut self.table,
        }
    }
}

/// wasmtime-wasi-http's view: the `outbound_http` capability's context and
/// hooks.
impl WasiHttpView for InstanceState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        let http = &mut self.capabilities.outbound_http;
        WasiHttpCtxView {
            ctx: &mut http.ctx,
            table: &mut self.table,
            hooks: &mut http.hooks,
        }
    }
}
