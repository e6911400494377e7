//! The data of one request's `Store`: WASI, wasi:http, and each Spin
//! capability's per-instance view. Built fresh for every request.

use std::time::Instant;

use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use crate::capabilities::key_value::KeyValueAccess;
use crate::capabilities::outbound_http::OutboundHttp;
use crate::capabilities::postgres::PostgresAccess;
use crate::capabilities::variables::ComponentVariables;

pub struct RequestState {
    pub table: ResourceTable,
    pub wasi: WasiCtx,
    pub http: WasiHttpCtx,
    pub outbound_http: OutboundHttp,
    pub key_value: KeyValueAccess,
    pub postgres: PostgresAccess,
    pub variables: ComponentVariables,
    /// When the request's time is up (checked on every epoch tick).
    pub deadline: Instant,
}

impl WasiView for RequestState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for RequestState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.outbound_http,
        }
    }
}
