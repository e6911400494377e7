//! WASI 0.2 (wasmtime-wasi) as the manifest configures it for a component:
//! its `environment`, its `files` mounted read-only at `/`, its stdout and
//! stderr going to the host log, and `wasi:sockets` TCP to what its
//! `allowed_outbound_hosts` allows (`sockets.rs`).

pub mod files;
pub mod sockets;
pub mod stdio;

use std::path::PathBuf;
use std::sync::Arc;

use wasmtime::component::Linker;
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxBuilder};

use super::{AppContext, Capability, ComponentContext, HostView, InstanceContext, View};
use crate::outbound_policy::OutboundPolicy;
use stdio::{GuestLog, Stream};

pub struct Wasi;

/// What WASI gives one component.
pub struct WasiComponent {
    environment: Vec<(String, String)>,
    /// Host directory mounted read-only at the guest's `/`, when it has files.
    files_root: Option<PathBuf>,
    /// Where its sockets may connect.
    outbound: Arc<OutboundPolicy>,
}

impl Capability for Wasi {
    const IMPORTS: &'static [&'static str] = &[
        "wasi:cli/",
        "wasi:clocks/",
        "wasi:filesystem/",
        "wasi:io/",
        "wasi:random/",
        "wasi:sockets/",
    ];
    type App = ();
    type Component = WasiComponent;
    type Instance = WasiCtx;

    fn init(_ctx: &AppContext<'_>) -> anyhow::Result<()> {
        Ok(())
    }

    fn configure_component(_app: &(), ctx: &ComponentContext<'_>) -> anyhow::Result<WasiComponent> {
        let files_root = files::stage(
            ctx.component,
            ctx.manifest_dir,
            &ctx.state_dir.join("files").join(ctx.id),
        )
        .map_err(|e| anyhow::anyhow!("component {:?} files: {e:#}", ctx.id))?;
        Ok(WasiComponent {
            environment: ctx
                .component
                .environment
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            files_root,
            outbound: ctx.outbound.clone(),
        })
    }

    fn new_instance(
        _app: &Arc<()>,
        component: &WasiComponent,
        ctx: &InstanceContext<'_>,
    ) -> anyhow::Result<WasiCtx> {
        let mut wasi = WasiCtxBuilder::new();
        let outbound = component.outbound.clone();
        wasi.stdout(GuestLog::new(ctx.component_id.clone(), Stream::Stdout))
            .stderr(GuestLog::new(ctx.component_id.clone(), Stream::Stderr))
            .envs(&component.environment)
            // As Spin: TCP as the manifest allows it, checked address by
            // address; no UDP, no name lookup.
            .allow_tcp(true)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .socket_addr_check(move |addr, usage| {
                let permitted = sockets::permits(&outbound, addr, usage);
                Box::pin(async move { permitted })
            });
        if let Some(root) = &component.files_root {
            wasi.preopened_dir(root, "/", FsPerms::ReadOnly)?;
        }
        Ok(wasi.build())
    }

    fn add_to_linker<T: HostView>(
        linker: &mut Linker<T>,
        _get: fn(&mut T) -> View<'_, WasiCtx>,
    ) -> anyhow::Result<()> {
        // wasmtime-wasi reaches its context through `WasiView`, which
        // `HostView` requires.
        wasmtime_wasi::p2::add_to_linker_async(linker)?;
        Ok(())
    }
}
