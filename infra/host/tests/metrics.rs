//! Prometheus metrics on the admin listener: after a known sequence of
//! requests, the counts are exactly what happened; nothing a client sent
//! reaches a label; the listener is not the app's port and binds loopback
//! unless asked.

mod common;

use std::time::Duration;

use common::{AppOptions, TestApp, client};

use common::API_AND_HELLO_MANIFEST as MANIFEST;

const PLANTED: &str = "planted-secret-7f3a9c";

fn spawn() -> (TestApp, String) {
    let policy = common::workspace_root().join("infra/gateway.toml");
    let app = TestApp::spawn_with(
        MANIFEST,
        AppOptions {
            args: vec![
                "--gateway".into(),
                policy.to_str().unwrap().into(),
                "--admin-listen".into(),
                "127.0.0.1:0".into(),
            ],
            ..AppOptions::default()
        },
    );
    let metrics = app
        .printed("Metrics at ")
        .expect("up prints the admin listener's address");
    (app, metrics)
}

async fn scrape(url: &str) -> String {
    let response = client().get(url).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    );
    response.text().await.unwrap()
}

/// The value of the one sample named exactly `series` (name and labels).
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .map(|value| value.trim().parse().unwrap())
}

/// Scrapes until `series` reads `want` (a request is counted once its
/// response body has gone out, a moment after the client has it).
async fn expect_sample(url: &str, series: &str, want: f64) -> String {
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let text = scrape(url).await;
        let got = sample(&text, series);
        if got == Some(want) {
            return text;
        }
        if std::time::Instant::now() > deadline {
            panic!("{series} is {got:?}, expected {want}; the metrics:\n{text}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_known_sequence_of_requests_gives_exactly_its_counts() {
    let (app, metrics) = spawn();
    let http = client();
    for _ in 0..3 {
        let hello = http.get(app.url("/hello")).send().await.unwrap();
        assert_eq!(hello.status(), 200);
        hello.bytes().await.unwrap();
    }
    let unrouted = http.get(app.url("/nowhere")).send().await.unwrap();
    assert_eq!(unrouted.status(), 404);
    let trap = http.get(app.url("/api/trap")).send().await.unwrap();
    assert_eq!(trap.status(), 500);
    // The auth zone: 1 + burst 5 pass (the probe has no such route: 404), then 429.
    let mut statuses = Vec::new();
    for _ in 0..8 {
        let login = http.post(app.url("/api/auth/login")).send().await.unwrap();
        statuses.push(login.status().as_u16());
    }
    assert_eq!(statuses, [404, 404, 404, 404, 404, 404, 429, 429]);
    let too_large = http
        .post(app.url("/api/echo-body"))
        .body(vec![b'x'; 1024 * 1024 + 1])
        .send()
        .await
        .unwrap();
    assert_eq!(too_large.status(), 413);

    let text = expect_sample(
        &metrics,
        r#"http_server_request_duration_seconds_count{component="hello",route="/hello",method="GET",status_class="2xx"}"#,
        3.0,
    )
    .await;
    let exactly = |series: &str, want: f64| {
        assert_eq!(
            sample(&text, series),
            Some(want),
            "{series}; the metrics:\n{text}"
        );
    };
    exactly(
        r#"http_server_request_duration_seconds_count{component="none",route="none",method="GET",status_class="4xx"}"#,
        1.0,
    );
    exactly(
        r#"http_server_request_duration_seconds_count{component="api",route="/api/...",method="GET",status_class="5xx"}"#,
        1.0,
    );
    exactly(
        r#"http_server_request_duration_seconds_count{component="api",route="/api/...",method="POST",status_class="4xx"}"#,
        6.0,
    );
    // Refused before routing: no component.
    exactly(
        r#"http_server_request_duration_seconds_count{component="none",route="none",method="POST",status_class="4xx"}"#,
        3.0,
    );
    exactly(r#"spinstack_rate_limited_requests_total{zone="auth"}"#, 2.0);
    exactly("spinstack_body_limit_refusals_total", 1.0);
    exactly(
        r#"spinstack_guest_failures_total{component="api",kind="trap"}"#,
        1.0,
    );
    exactly("spinstack_admission_refusals_total", 0.0);
    // Every routed request that reached a component instantiated it once.
    exactly(
        r#"spinstack_instantiation_duration_seconds_count{component="hello"}"#,
        3.0,
    );
    exactly(
        r#"spinstack_instantiation_duration_seconds_count{component="api"}"#,
        7.0,
    );
    exactly(
        r#"spinstack_component_duration_seconds_count{component="hello"}"#,
        3.0,
    );
    exactly("spinstack_instance_slots", 128.0);
    exactly("spinstack_instance_slots_in_use", 0.0);
    exactly("spinstack_admission_queue_length", 0.0);
    // Histograms have their buckets, cumulative up to +Inf (the encoder
    // places `le` among the labels as it likes: matched label by label).
    let buckets: Vec<(&str, f64)> = text
        .lines()
        .filter(|line| {
            line.starts_with("http_server_request_duration_seconds_bucket{")
                && line.contains(r#"component="hello""#)
                && line.contains(r#"status_class="2xx""#)
        })
        .map(|line| {
            let le = line
                .split("le=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap();
            (le, line.rsplit(' ').next().unwrap().parse().unwrap())
        })
        .collect();
    assert_eq!(buckets.len(), 18, "17 bounds and +Inf: {buckets:?}");
    assert_eq!(buckets.last(), Some(&("+Inf", 3.0)));
    assert!(
        buckets.windows(2).all(|w| w[0].1 <= w[1].1),
        "cumulative: {buckets:?}"
    );
    assert!(text.ends_with("# EOF\n"));
}

#[tokio::test]
async fn nothing_a_client_sends_reaches_the_metrics() {
    let (app, metrics) = spawn();
    let http = client();
    let odd_method = reqwest::Method::from_bytes(PLANTED.to_uppercase().as_bytes()).unwrap();
    let sent = [
        http.get(app.url(&format!("/api/{PLANTED}?token={PLANTED}")))
            .bearer_auth(PLANTED)
            .header("X-Request-Id", PLANTED)
            .header("Cookie", format!("refresh_token={PLANTED}")),
        http.request(odd_method, app.url("/hello")),
        http.post(app.url("/api/echo-body")).body(PLANTED),
        http.get(app.url(&format!("/{PLANTED}"))),
    ];
    for request in sent {
        request.send().await.unwrap().bytes().await.unwrap();
    }
    let text = expect_sample(
        &metrics,
        r#"http_server_request_duration_seconds_count{component="hello",route="/hello",method="_OTHER",status_class="2xx"}"#,
        1.0,
    )
    .await;
    assert!(
        !text.to_lowercase().contains(PLANTED),
        "a client's value reached the metrics:\n{text}"
    );
}

#[tokio::test]
async fn the_admin_listener_serves_only_metrics_and_not_on_the_app_port() {
    let (app, metrics) = spawn();
    let http = client();
    let public = http.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(public.status(), 404, "the app's port has no /metrics");
    let other = http
        .get(metrics.replace("/metrics", "/"))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 404);
    let post = http.post(&metrics).send().await.unwrap();
    assert_eq!(post.status(), 405);
    assert_eq!(post.headers()["allow"], "GET, HEAD");
}

#[test]
fn a_public_admin_address_is_refused_unless_asked() {
    let refused = TestApp::start_failure(
        MANIFEST,
        AppOptions {
            args: vec!["--admin-listen".into(), "0.0.0.0:0".into()],
            ..AppOptions::default()
        },
    );
    assert!(refused.contains("--admin-listen-remote"), "{refused}");
}

#[tokio::test]
async fn without_an_admin_listener_nothing_is_served_or_printed() {
    let app = TestApp::spawn(MANIFEST);
    let hello = client().get(app.url("/hello")).send().await.unwrap();
    assert_eq!(hello.status(), 200);
    assert!(app.printed("Metrics at ").is_none());
}

/// Every metric the dashboard and docs/OPERATING.md name exists, and every
/// metric the host serves is documented there.
#[tokio::test]
async fn the_dashboard_and_the_docs_name_only_metrics_that_exist() {
    let (app, metrics) = spawn();
    // A family appears once it has a sample: a trap and a 429 give the
    // labelled counters theirs.
    let http = client();
    http.get(app.url("/hello")).send().await.unwrap();
    http.get(app.url("/api/trap")).send().await.unwrap();
    for _ in 0..7 {
        http.post(app.url("/api/auth/login")).send().await.unwrap();
    }
    let text = expect_sample(
        &metrics,
        r#"spinstack_rate_limited_requests_total{zone="auth"}"#,
        1.0,
    )
    .await;
    let served: std::collections::BTreeSet<&str> = text
        .lines()
        .filter_map(|line| line.strip_prefix("# TYPE ")?.split(' ').next())
        .collect();
    let base = |name: &str| {
        let name = ["_bucket", "_count", "_sum", "_total"]
            .iter()
            .find_map(|suffix| name.strip_suffix(suffix))
            .unwrap_or(name);
        name.to_owned()
    };
    let named_in = |source: &str| -> std::collections::BTreeSet<String> {
        source
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            // Whole names only ("spinstack_*" in prose is not one).
            .filter(|word| {
                (word.starts_with("spinstack_") || word.starts_with("http_server_"))
                    && !word.ends_with('_')
            })
            .map(base)
            .collect()
    };
    let root = common::workspace_root();
    let dashboard =
        std::fs::read_to_string(root.join("infra/grafana/spinstack-dashboard.json")).unwrap();
    let docs = std::fs::read_to_string(root.join("docs/OPERATING.md")).unwrap();
    for name in named_in(&dashboard) {
        assert!(
            served.contains(name.as_str()),
            "the dashboard names {name}, not served: {served:?}"
        );
    }
    let documented = named_in(&docs);
    for name in &served {
        assert!(
            documented.contains(*name),
            "{name} is served but not in docs/OPERATING.md"
        );
    }
    for name in &documented {
        assert!(
            served.contains(name.as_str()),
            "docs/OPERATING.md names {name}, not served"
        );
    }
}
