//! `fermyon:spin/mqtt@2.0.0`: outbound MQTT publishing with QoS, Spin's
//! errors and address check, over rumqttc.
//!
//! - `address`: the address against `allowed_outbound_hosts`
//! - `connection`: one session per `open`, publish until acknowledged

mod address;
mod connection;

use std::sync::Arc;
use std::time::Instant;

use wasmtime::component::{Linker, Resource};

use super::{AppContext, Capability, ComponentContext, HasView, HostView, InstanceContext, View};
use crate::outbound_policy::OutboundPolicy;
pub use connection::MqttConnection;
use generated::fermyon::spin2_0_0::mqtt::{self as wit, Error, Qos};

/// Bindings for the one interface this capability serves.
mod generated {
    crate::bindings::spin_bindgen!(
        inline: "
            package spinstack:outbound-mqtt;
            world host { import fermyon:spin/mqtt@2.0.0; }
        ",
        world: "spinstack:outbound-mqtt/host",
        with: {
            "fermyon:spin/mqtt.connection": crate::capabilities::outbound_mqtt::MqttConnection,
        },
    );
}

/// Connections one request may hold at once: each is a socket to a broker.
const MAX_CONNECTIONS_PER_REQUEST: usize = 16;

pub struct OutboundMqtt;

impl Capability for OutboundMqtt {
    const IMPORTS: &'static [&'static str] = &["fermyon:spin/mqtt@2.0.0"];
    type App = ();
    type Component = Arc<OutboundPolicy>;
    type Instance = MqttAccess;

    fn init(_ctx: &AppContext<'_>) -> anyhow::Result<()> {
        Ok(())
    }

    fn configure_component(
        _app: &(),
        ctx: &ComponentContext<'_>,
    ) -> anyhow::Result<Arc<OutboundPolicy>> {
        Ok(ctx.outbound.clone())
    }

    fn new_instance(
        _app: &Arc<()>,
        outbound: &Arc<OutboundPolicy>,
        ctx: &InstanceContext<'_>,
    ) -> anyhow::Result<MqttAccess> {
        Ok(MqttAccess {
            outbound: outbound.clone(),
            deadline: ctx.deadline,
            open: 0,
        })
    }

    fn add_to_linker<T: HostView>(
        linker: &mut Linker<T>,
        get: fn(&mut T) -> View<'_, MqttAccess>,
    ) -> anyhow::Result<()> {
        wit::add_to_linker::<T, HasView<MqttAccess>>(linker, get)?;
        Ok(())
    }
}

/// What one request's instance may reach, until its deadline.
pub struct MqttAccess {
    outbound: Arc<OutboundPolicy>,
    deadline: Instant,
    open: usize,
}

impl wit::Host for View<'_, MqttAccess> {}

impl wit::HostConnection for View<'_, MqttAccess> {
    async fn open(
        &mut self,
        address: String,
        username: String,
        password: String,
        keep_alive_interval_in_secs: u64,
    ) -> wasmtime::Result<Result<Resource<MqttConnection>, Error>> {
        let options = match address::check(&address, &self.state.outbound) {
            Ok(options) => options,
            Err(e) => {
                tracing::warn!("outbound MQTT: an address not allowed or not readable was refused");
                return Ok(Err(e));
            }
        };
        if self.state.open >= MAX_CONNECTIONS_PER_REQUEST {
            return Ok(Err(Error::TooManyConnections));
        }
        let connection =
            MqttConnection::new(options, username, password, keep_alive_interval_in_secs);
        match self.table.push(connection) {
            Ok(resource) => {
                self.state.open += 1;
                Ok(Ok(resource))
            }
            Err(_) => Ok(Err(Error::TooManyConnections)),
        }
    }

    async fn publish(
        &mut self,
        connection: Resource<MqttConnection>,
        topic: String,
        payload: Vec<u8>,
        qos: Qos,
    ) -> wasmtime::Result<Result<(), Error>> {
        let deadline = self.state.deadline;
        let connection = self.table.get_mut(&connection)?;
        let published = connection.publish(topic, payload, qos, deadline).await;
        if let Err(e) = &published {
            tracing::warn!("outbound MQTT publish failed: {e:?}");
        }
        Ok(published)
    }

    async fn drop(&mut self, connection: Resource<MqttConnection>) -> wasmtime::Result<()> {
        self.table.delete(connection)?;
        self.state.open = self.state.open.saturating_sub(1);
        Ok(())
    }
}
