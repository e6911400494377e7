//! `fermyon:spin/redis@2.0.0` through a real component against real Redis:
//! the machine's on 127.0.0.1:6379, and a private one where connections are
//! counted.

mod common;

use std::time::{Duration, Instant};

use common::{AppOptions, TestApp, client};
use serde_json::{Value, json};

/// `redis` may reach Redis on `redis_port` (a template, as Spin allows);
/// `closed` may reach nothing.
const MANIFEST: &str = r#"
spin_manifest_version = 2
[application]
name = "outbound-redis-test"

[variables]
redis_port = { required = true }

[[trigger.http]]
route = "/redis/..."
component = "redis"

[[trigger.http]]
route = "/closed/..."
component = "closed"

[component.redis]
source = "{redis}"
allowed_outbound_hosts = ["redis://127.0.0.1:{{ redis_port }}"]

[component.closed]
source = "{redis}"
"#;

fn spawn(port: u16) -> TestApp {
    TestApp::spawn_with(
        MANIFEST,
        AppOptions {
            env: vec![("SPIN_VARIABLE_REDIS_PORT", port.to_string())],
            ..AppOptions::default()
        },
    )
}

/// Keys of this run only (the machine's Redis is shared).
fn prefix() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("spinstack-test:{}:{nanos}", std::process::id())
}

async fn run(app: &TestApp, route: &str, address: &str, ops: Value) -> Value {
    let response = client()
        .post(app.url(&format!("/{route}/run")))
        .json(&json!({ "address": address, "ops": ops }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

fn native(port: u16) -> redis::Client {
    redis::Client::open(format!("redis://127.0.0.1:{port}")).unwrap()
}

#[tokio::test]
async fn every_operation_against_the_machines_redis() {
    let app = spawn(6379);
    let p = prefix();
    let (k, n, set, text) = (
        format!("{p}:k"),
        format!("{p}:n"),
        format!("{p}:set"),
        format!("{p}:text"),
    );
    let body = run(
        &app,
        "redis",
        "redis://127.0.0.1:6379",
        json!([
            { "op": "get", "key": k },
            { "op": "set", "key": k, "value": "hello" },
            { "op": "get", "key": k },
            { "op": "incr", "key": n },
            { "op": "incr", "key": n },
            { "op": "sadd", "key": set, "values": ["a", "b", "c"] },
            { "op": "sadd", "key": set, "values": ["c", "d"] },
            { "op": "srem", "key": set, "values": ["a", "zz"] },
            { "op": "smembers", "key": set },
            { "op": "execute", "command": "INCRBY", "key": n, "args": [n, 40] },
            { "op": "execute", "command": "mget", "args": [k, n, format!("{p}:absent")] },
            { "op": "execute", "command": "SET", "args": [text, "x"] },
            // Wrong types: Redis's message as `other`, as on Spin.
            { "op": "incr", "key": text },
            { "op": "sadd", "key": text, "values": ["a"] },
            { "op": "execute", "command": "NOSUCHCOMMAND", "args": [] },
            { "op": "del", "keys": [k, n, format!("{p}:absent")] },
            { "op": "get", "key": k },
        ]),
    )
    .await;
    let results = body["results"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"));
    let ok = |i: usize| results[i]["ok"].clone();
    let error = |i: usize| results[i]["error"].as_str().unwrap_or_default().to_owned();
    assert_eq!(ok(0), Value::Null);
    assert_eq!(ok(2), json!("hello"));
    assert_eq!((ok(3), ok(4)), (json!(1), json!(2)));
    assert_eq!((ok(5), ok(6), ok(7)), (json!(3), json!(1), json!(1)));
    assert_eq!(ok(8), json!(["b", "c", "d"]));
    assert_eq!(ok(9), json!([{ "int64": 42 }]));
    assert_eq!(
        ok(10),
        json!([{ "binary": "hello" }, { "binary": "42" }, { "nil": null }])
    );
    assert_eq!(ok(11), json!([{ "status": "OK" }]));
    assert!(error(12).starts_with("other: "), "{}", results[12]);
    assert!(error(13).starts_with("other: WRONGTYPE"), "{}", results[13]);
    assert!(error(14).starts_with("other: "), "{}", results[14]);
    assert_eq!(ok(15), json!(2));
    assert_eq!(ok(16), Value::Null);

    // What the component left is really in Redis.
    let mut redis = native(6379)
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let members: Vec<String> = redis::cmd("SMEMBERS")
        .arg(&set)
        .query_async(&mut redis)
        .await
        .unwrap();
    assert_eq!(members.len(), 3);
    let _: () = redis::cmd("DEL")
        .arg(&set)
        .arg(&text)
        .query_async(&mut redis)
        .await
        .unwrap();
}

#[tokio::test]
async fn publish_reaches_a_subscriber() {
    let app = spawn(6379);
    let channel = format!("{}:channel", prefix());
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let subscriber = {
        let channel = channel.clone();
        std::thread::spawn(move || {
            let mut connection = native(6379).get_connection().unwrap();
            let mut pubsub = connection.as_pubsub();
            pubsub.subscribe(&channel).unwrap();
            pubsub
                .set_read_timeout(Some(Duration::from_secs(10)))
                .unwrap();
            ready_tx.send(()).unwrap();
            let message = pubsub.get_message().unwrap();
            (
                message.get_channel_name().to_owned(),
                message.get_payload::<String>().unwrap(),
            )
        })
    };
    ready_rx.recv_timeout(Duration::from_secs(10)).unwrap();
    let body = run(
        &app,
        "redis",
        "redis://127.0.0.1:6379",
        json!([{ "op": "publish", "channel": channel, "value": "hi from wasm" }]),
    )
    .await;
    assert_eq!(body["results"][0], json!({ "ok": null }), "{body}");
    let (got_channel, payload) = subscriber.join().unwrap();
    assert_eq!(
        (got_channel.as_str(), payload.as_str()),
        (channel.as_str(), "hi from wasm")
    );
}

#[tokio::test]
async fn addresses_not_allowed_are_invalid_address() {
    let app = spawn(6379);
    for (route, address) in [
        ("redis", "redis://127.0.0.1:6380"),
        ("redis", "redis://localhost:6379"),
        ("redis", "rediss://127.0.0.1:6379"),
        ("redis", "valkey://127.0.0.1:6379"),
        ("redis", "not an address"),
        ("redis", ""),
        // No allowed_outbound_hosts: nothing is allowed.
        ("closed", "redis://127.0.0.1:6379"),
    ] {
        let body = run(&app, route, address, json!([])).await;
        assert_eq!(
            body,
            json!({ "open_error": "invalid-address" }),
            "{route} {address}"
        );
    }
    // The template's value decides: the same manifest on another port.
    let other = spawn(6380);
    let body = run(&other, "redis", "redis://127.0.0.1:6379", json!([])).await;
    assert_eq!(body, json!({ "open_error": "invalid-address" }));
    // Allowed, but nobody listens there: `other`.
    let body = run(&other, "redis", "redis://127.0.0.1:6380", json!([])).await;
    assert!(
        body["open_error"].as_str().unwrap().starts_with("other: "),
        "{body}"
    );
}

/// Clients connected to `redis` other than `ours`.
async fn host_clients(redis: &mut redis::aio::MultiplexedConnection) -> usize {
    let list: String = redis::cmd("CLIENT")
        .arg("LIST")
        .query_async(redis)
        .await
        .unwrap();
    list.lines().count() - 1
}

async fn host_clients_settle_at(
    redis: &mut redis::aio::MultiplexedConnection,
    expected: usize,
) -> usize {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let count = host_clients(redis).await;
        if count == expected || Instant::now() > deadline {
            return count;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn requests_share_one_connection_and_stateful_commands_get_their_own() {
    let server = common::redis::Redis::start();
    let address = format!("redis://127.0.0.1:{}", server.port);
    let app = spawn(server.port);
    let mut redis = native(server.port)
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    assert_eq!(host_clients(&mut redis).await, 0);

    for i in 0..20 {
        let body = run(
            &app,
            "redis",
            &address,
            json!([
                { "op": "set", "key": "k", "value": i.to_string() },
                { "op": "get", "key": "k" },
                { "op": "execute", "command": "GET", "args": ["k"] },
            ]),
        )
        .await;
        assert_eq!(body["results"][1]["ok"], json!(i.to_string()), "{body}");
    }
    assert_eq!(host_clients(&mut redis).await, 1, "one shared connection");

    // A transaction runs on a connection of its own, as on Spin...
    let body = run(
        &app,
        "redis",
        &address,
        json!([
            { "op": "execute", "command": "MULTI", "args": [] },
            { "op": "execute", "command": "SET", "args": ["t", "in-tx"] },
            { "op": "execute", "command": "EXEC", "args": [] },
            { "op": "get", "key": "t" },
        ]),
    )
    .await;
    assert_eq!(
        body["results"],
        json!([
            { "ok": [{ "status": "OK" }] },
            { "ok": [{ "status": "QUEUED" }] },
            { "ok": [{ "status": "OK" }] },
            { "ok": "in-tx" },
        ]),
        "{body}"
    );
    // ...which closes with the request.
    assert_eq!(host_clients_settle_at(&mut redis, 1).await, 1);

    // A blocking command waits on its own connection, not on everyone's.
    let blocked = {
        let http = client();
        let url = app.url("/redis/run");
        let address = address.clone();
        tokio::spawn(async move {
            let ops = json!([{ "op": "execute", "command": "BLPOP", "args": ["empty", 2] }]);
            let started = Instant::now();
            let response = http
                .post(url)
                .json(&json!({ "address": address, "ops": ops }))
                .send()
                .await
                .unwrap();
            let body: Value = response.json().await.unwrap();
            (started.elapsed(), body)
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    let body = run(
        &app,
        "redis",
        &address,
        json!([{ "op": "get", "key": "k" }]),
    )
    .await;
    assert_eq!(body["results"][0]["ok"], json!("19"));
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    let (waited, body) = blocked.await.unwrap();
    assert!(waited >= Duration::from_secs(2), "{waited:?}");
    assert_eq!(
        body["results"][0],
        json!({ "ok": [{ "nil": null }] }),
        "{body}"
    );
}

#[tokio::test]
async fn the_shared_connection_survives_a_redis_restart() {
    let mut server = common::redis::Redis::start();
    let address = format!("redis://127.0.0.1:{}", server.port);
    let app = spawn(server.port);
    let set = json!([{ "op": "set", "key": "k", "value": "v" }]);
    assert_eq!(
        run(&app, "redis", &address, set.clone()).await["results"][0],
        json!({ "ok": null })
    );
    server.kill();
    let down = run(&app, "redis", &address, set.clone()).await;
    let failed = down["open_error"]
        .as_str()
        .or(down["results"][0]["error"].as_str())
        .unwrap_or_else(|| panic!("{down}"));
    assert!(failed.starts_with("other: "), "{down}");
    server.restart();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let body = run(&app, "redis", &address, set.clone()).await;
        if body["results"][0] == json!({ "ok": null }) {
            break;
        }
        assert!(Instant::now() < deadline, "no reconnect: {body}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(!app.log().contains("panicked"), "{}", app.log());
}
