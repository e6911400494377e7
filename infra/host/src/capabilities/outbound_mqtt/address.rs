//! `open(address, ...)`: Spin's address form, `mqtt://host[:port]?client_id=...`
//! (rumqttc's URL options), allowed only when the component's
//! `allowed_outbound_hosts` allows its host and port under its scheme.
//! A denied address is `connection-failed("address ... is not permitted")`
//! as on Spin; one that cannot be read is `invalid-address`.

use rumqttc::MqttOptions;

use super::generated::fermyon::spin2_0_0::mqtt::Error;
use crate::outbound_policy::OutboundPolicy;

/// MQTT's own port, which rumqttc also dials when the URL names none.
const DEFAULT_PORT: u16 = 1883;

/// The client options for `address`, if it is readable and allowed.
pub fn check(address: &str, policy: &OutboundPolicy) -> Result<MqttOptions, Error> {
    let url = url::Url::parse(address).map_err(|_| Error::InvalidAddress)?;
    let host = url
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or(Error::InvalidAddress)?;
    let port = url.port().unwrap_or(DEFAULT_PORT);
    if !policy.allows(url.scheme(), host, Some(port)) {
        return Err(Error::ConnectionFailed(format!(
            "address {}://{host}:{port} is not permitted",
            url.scheme()
        )));
    }
    refuse_what_rumqttc_asserts(&url)?;
    // Only `mqtt://` and `tcp://` parse: the client is built without TLS and
    // WebSockets. A missing `client_id` or an unknown option fails here.
    MqttOptions::parse_url(address).map_err(|_| Error::InvalidAddress)
}

/// rumqttc panics, rather than failing, on two option values; a guest's
/// address must never panic the host, so they are refused first.
fn refuse_what_rumqttc_asserts(url: &url::Url) -> Result<(), Error> {
    let option = |name: &str| {
        url.query_pairs()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.into_owned())
    };
    let empty_id = option("client_id").is_none_or(|id| id.is_empty());
    let keeps_session = option("clean_session").is_some_and(|v| v == "false");
    let no_inflight = option("inflight_num").is_some_and(|v| v.parse::<u16>() == Ok(0));
    if (empty_id && keeps_session) || no_inflight {
        return Err(Error::InvalidAddress);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(entries: &[&str]) -> OutboundPolicy {
        OutboundPolicy::new(spinstack_manifest::AllowedOutboundHosts::parse(entries).unwrap())
    }

    fn outcome(address: &str, p: &OutboundPolicy) -> String {
        match check(address, p) {
            Ok(options) => {
                let (host, port) = options.broker_address();
                format!("ok {host}:{port} {}", options.client_id())
            }
            Err(Error::InvalidAddress) => "invalid-address".into(),
            Err(Error::ConnectionFailed(m)) => m,
            Err(other) => format!("{other:?}"),
        }
    }

    #[test]
    fn allowed_hosts_and_ports() {
        let p = policy(&["mqtt://127.0.0.1:1883", "mqtt://broker.internal"]);
        for (address, expected) in [
            ("mqtt://127.0.0.1:1883?client_id=a", "ok 127.0.0.1:1883 a"),
            ("mqtt://127.0.0.1?client_id=a", "ok 127.0.0.1:1883 a"),
            (
                "mqtt://broker.internal?client_id=b&keep_alive_secs=5",
                "ok broker.internal:1883 b",
            ),
            (
                "mqtt://127.0.0.1:1884?client_id=a",
                "address mqtt://127.0.0.1:1884 is not permitted",
            ),
            (
                "mqtt://evil.example?client_id=a",
                "address mqtt://evil.example:1883 is not permitted",
            ),
            (
                "tcp://127.0.0.1:1883?client_id=a",
                "address tcp://127.0.0.1:1883 is not permitted",
            ),
        ] {
            assert_eq!(outcome(address, &p), expected, "{address}");
        }
    }

    #[test]
    fn unreadable_addresses_are_invalid() {
        let p = policy(&["*://*:*"]);
        for address in [
            "",
            "nonsense",
            "mqtt://127.0.0.1:1883",
            "mqtts://127.0.0.1:8883?client_id=a",
            "ws://127.0.0.1:8000?client_id=a",
            "mqtt://127.0.0.1:1883?client_id=a&bogus=1",
            "mqtt://127.0.0.1:1883?client_id=a&keep_alive_secs=x",
        ] {
            assert_eq!(outcome(address, &p), "invalid-address", "{address}");
        }
    }

    #[test]
    fn option_values_rumqttc_would_panic_on_are_refused() {
        let p = policy(&["*://*:*"]);
        for address in [
            "mqtt://h:1883?client_id=&clean_session=false",
            "mqtt://h:1883?client_id=a&inflight_num=0",
        ] {
            assert_eq!(outcome(address, &p), "invalid-address", "{address}");
        }
        assert!(outcome("mqtt://h:1883?client_id=a&clean_session=false", &p).starts_with("ok"));
    }
}
