//! `fermyon:spin/mqtt@2.0.0` through a real component against the machine's
//! Mosquitto (127.0.0.1:1883), with a subscriber here that must receive
//! what the component publishes.

mod common;

use std::time::Duration;

use common::{AppOptions, TestApp, client};
use rumqttc::{AsyncClient, Event, EventLoop, Incoming, MqttOptions, QoS};
use serde_json::{Value, json};

/// `mqtt` may reach the broker on `mqtt_port` (a template, as Spin allows);
/// `closed` may reach nothing.
const MANIFEST: &str = r#"
spin_manifest_version = 2
[application]
name = "outbound-mqtt-test"

[variables]
mqtt_port = { required = true }

[[trigger.http]]
route = "/mqtt/..."
component = "mqtt"

[[trigger.http]]
route = "/closed/..."
component = "closed"

[component.mqtt]
source = "{mqtt}"
allowed_outbound_hosts = ["mqtt://127.0.0.1:{{ mqtt_port }}"]

[component.closed]
source = "{mqtt}"
"#;

const BROKER: u16 = 1883;

fn spawn(port: u16) -> TestApp {
    TestApp::spawn_with(
        MANIFEST,
        AppOptions {
            env: vec![("SPIN_VARIABLE_MQTT_PORT", port.to_string())],
            ..AppOptions::default()
        },
    )
}

fn unique(what: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("spinstack-test-{what}-{}-{nanos}", std::process::id())
}

async fn publish(app: &TestApp, route: &str, address: &str, messages: Value) -> Value {
    let response = client()
        .post(app.url(&format!("/{route}/publish")))
        .json(&json!({
            "address": address,
            "username": "",
            "password": "",
            "keep_alive": 30,
            "messages": messages,
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// A subscriber on `topic`, subscribed (the broker acknowledged) on return.
async fn subscriber(topic: &str) -> (AsyncClient, EventLoop) {
    let mut options = MqttOptions::new(unique("sub"), "127.0.0.1", BROKER);
    options.set_keep_alive(Duration::from_secs(30));
    let (client, mut events) = AsyncClient::new(options, 10);
    client.subscribe(topic, QoS::ExactlyOnce).await.unwrap();
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if let Event::Incoming(Incoming::SubAck(_)) = events.poll().await.unwrap() {
                return;
            }
        }
    })
    .await
    .expect("Mosquitto on 127.0.0.1:1883 (mosquitto -d -c /etc/mosquitto/mosquitto.conf)");
    (client, events)
}

/// The next `count` messages the subscriber receives: (payload, QoS).
async fn received(events: &mut EventLoop, count: usize) -> Vec<(String, QoS)> {
    let mut got = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), async {
        while got.len() < count {
            if let Event::Incoming(Incoming::Publish(p)) = events.poll().await.unwrap() {
                got.push((String::from_utf8_lossy(&p.payload).into_owned(), p.qos));
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("only {got:?} arrived"));
    got
}

#[tokio::test]
async fn published_messages_reach_a_subscriber_with_their_qos() {
    let app = spawn(BROKER);
    let topic = unique("topic");
    let (_client, mut events) = subscriber(&topic).await;
    let address = format!("mqtt://127.0.0.1:{BROKER}?client_id={}", unique("pub"));
    let body = publish(
        &app,
        "mqtt",
        &address,
        json!([
            { "topic": topic, "payload": "at most once", "qos": 0 },
            { "topic": topic, "payload": "at least once", "qos": 1 },
            { "topic": topic, "payload": "exactly once", "qos": 2 },
            // Wildcards are for subscribing: the client refuses the topic.
            { "topic": "a/#", "payload": "x", "qos": 1 },
        ]),
    )
    .await;
    let results = &body["results"];
    assert_eq!(results[0], json!({ "ok": null }), "{body}");
    assert_eq!(results[1], json!({ "ok": null }), "{body}");
    assert_eq!(results[2], json!({ "ok": null }), "{body}");
    assert!(
        results[3]["error"]
            .as_str()
            .unwrap_or_default()
            .starts_with("other: "),
        "{body}"
    );
    let mut got = received(&mut events, 3).await;
    got.sort_by_key(|(payload, _)| payload.clone());
    assert_eq!(
        got,
        [
            ("at least once".to_owned(), QoS::AtLeastOnce),
            ("at most once".to_owned(), QoS::AtMostOnce),
            ("exactly once".to_owned(), QoS::ExactlyOnce),
        ]
    );
}

#[tokio::test]
async fn addresses_not_allowed_are_refused_with_spins_errors() {
    let app = spawn(BROKER);
    let id = unique("pub");
    for (route, address, expected) in [
        (
            "mqtt",
            format!("mqtt://127.0.0.1:1884?client_id={id}"),
            "connection-failed: address mqtt://127.0.0.1:1884 is not permitted",
        ),
        (
            "mqtt",
            format!("mqtt://localhost:{BROKER}?client_id={id}"),
            "connection-failed: address mqtt://localhost:1883 is not permitted",
        ),
        (
            "closed",
            format!("mqtt://127.0.0.1:{BROKER}?client_id={id}"),
            "connection-failed: address mqtt://127.0.0.1:1883 is not permitted",
        ),
        // Allowed, but not an address rumqttc can use.
        (
            "mqtt",
            format!("mqtt://127.0.0.1:{BROKER}"),
            "invalid-address",
        ),
        ("mqtt", "not an address".to_owned(), "invalid-address"),
        (
            "mqtt",
            format!("mqtt://127.0.0.1:{BROKER}?client_id=&clean_session=false"),
            "invalid-address",
        ),
    ] {
        let body = publish(&app, route, &address, json!([])).await;
        assert_eq!(body, json!({ "open_error": expected }), "{route} {address}");
    }
    // The template's value decides: the same manifest on another port, where
    // nobody listens: allowed, and the publish says it could not connect.
    let port = common::free_port();
    let other = spawn(port);
    let body = publish(
        &other,
        "mqtt",
        &format!("mqtt://127.0.0.1:{port}?client_id={id}"),
        json!([{ "topic": "t", "payload": "x", "qos": 1 }]),
    )
    .await;
    let error = body["results"][0]["error"].as_str().unwrap_or_default();
    assert!(error.starts_with("connection-failed: "), "{body}");
    assert!(!app.log().contains("panicked"), "{}", app.log());
}
