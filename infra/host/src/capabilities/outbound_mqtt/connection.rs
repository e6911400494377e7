//! One guest connection: a rumqttc client and its event loop. As on Spin,
//! each `open` is its own MQTT session (the `client_id` is the guest's, and
//! a broker drops the older of two sessions with one id, so sessions cannot
//! be shared between requests); the socket is dialled by the first publish
//! and closed with the handle.
//!
//! A publish returns once the broker has what the QoS promises: written to
//! the socket (at most once), `PUBACK` (at least once) or `PUBCOMP`
//! (exactly once). The event loop runs only inside a publish, so nothing
//! outlives the request.

use std::time::{Duration, Instant};

use rumqttc::{AsyncClient, Event, EventLoop, Incoming, MqttOptions, Outgoing, QoS};

use super::generated::fermyon::spin2_0_0::mqtt::{Error, Qos};

/// Requests queued between the client and its event loop: one publish at a
/// time is all a guest connection sends.
const REQUEST_QUEUE: usize = 8;

pub struct MqttConnection {
    client: AsyncClient,
    events: EventLoop,
}

fn qos(qos: Qos) -> QoS {
    match qos {
        Qos::AtMostOnce => QoS::AtMostOnce,
        Qos::AtLeastOnce => QoS::AtLeastOnce,
        Qos::ExactlyOnce => QoS::ExactlyOnce,
    }
}

/// MQTT's keep-alive is a 16-bit count of seconds; longer is the longest.
fn keep_alive(seconds: u64) -> Duration {
    Duration::from_secs(seconds.min(u64::from(u16::MAX)))
}

impl MqttConnection {
    pub fn new(
        mut options: MqttOptions,
        username: String,
        password: String,
        keep_alive_secs: u64,
    ) -> Self {
        // As Spin: the credentials given to `open` are always sent.
        options.set_credentials(username, password);
        options.set_keep_alive(keep_alive(keep_alive_secs));
        let (client, events) = AsyncClient::new(options, REQUEST_QUEUE);
        Self { client, events }
    }

    pub async fn publish(
        &mut self,
        topic: String,
        payload: Vec<u8>,
        level: Qos,
        deadline: Instant,
    ) -> Result<(), Error> {
        let level = qos(level);
        // Fails at once for a topic no broker would take (wildcards).
        self.client
            .try_publish(topic, level, false, payload)
            .map_err(|e| Error::Other(e.to_string()))?;
        let events = &mut self.events;
        let delivered = async {
            loop {
                let event = events
                    .poll()
                    .await
                    .map_err(|e| Error::ConnectionFailed(e.to_string()))?;
                let done = matches!(
                    (level, event),
                    (QoS::AtMostOnce, Event::Outgoing(Outgoing::Publish(_)))
                        | (QoS::AtLeastOnce, Event::Incoming(Incoming::PubAck(_)))
                        | (QoS::ExactlyOnce, Event::Incoming(Incoming::PubComp(_)))
                );
                if done {
                    return Ok(());
                }
            }
        };
        tokio::time::timeout_at(deadline.into(), delivered)
            .await
            .unwrap_or_else(|_| {
                Err(Error::Other(
                    "the request's deadline passed before the broker acknowledged".into(),
                ))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::keep_alive;
    use std::time::Duration;

    #[test]
    fn keep_alive_fits_the_protocol() {
        assert_eq!(keep_alive(0), Duration::ZERO);
        assert_eq!(keep_alive(30), Duration::from_secs(30));
        assert_eq!(keep_alive(u64::MAX), Duration::from_secs(65535));
    }
}
