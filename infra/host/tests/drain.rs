//! Graceful shutdown (issue 19): on SIGTERM the host stops accepting, lets
//! the requests in flight finish (a slow upload, a login: their normal
//! status, `Connection: close` on HTTP/1.1), closes idle keep-alive
//! connections, and exits 0; what is still running at `--shutdown-timeout`
//! or at a second signal is cut, logged, and the exit status says so.
//! `/health` answers 503 during the drain (driven in-process: no client can
//! send a new request to a draining host on purpose). Over HTTP/2 the same
//! drain is GOAWAY: streams in flight finish, then the connection closes.
//! An event stream (`GET /api/events`) ends cleanly when the drain begins,
//! rather than holding the drain for its lifetime and being cut.

mod common;

use std::time::Duration;

use bytes::Bytes;
use common::api::{Project, ProjectOptions};
use common::{AppOptions, TestApp};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

const PROBE: &str = r#"
spin_manifest_version = 2
[application]
name = "drain-test"

[[trigger.http]]
route = "/probe/..."
component = "probe"

[component.probe]
source = "{probe}"
"#;

/// Generous: only a host that hangs comes near it.
const EXIT_LIMIT: Duration = Duration::from_secs(60);

/// A request body the test sends piece by piece: each `send` on the
/// returned sender is the next chunk, dropping it ends the body.
fn body_by_hand() -> (mpsc::UnboundedSender<Bytes>, reqwest::Body) {
    let (sender, receiver) = mpsc::unbounded_channel::<Bytes>();
    let stream = futures::stream::unfold(receiver, |mut receiver| async move {
        let chunk = receiver.recv().await?;
        Some((Ok::<_, std::io::Error>(chunk), receiver))
    });
    (sender, reqwest::Body::wrap_stream(stream))
}

fn address(base_url: &str) -> String {
    base_url.trim_start_matches("http://").to_owned()
}

/// Waits until the listener refuses connections (the drain has begun).
async fn until_refused(address: &str) {
    let deadline = tokio::time::Instant::now() + EXIT_LIMIT;
    loop {
        match tokio::net::TcpStream::connect(address).await {
            // Refused, or reset: a connect that reached the backlog just
            // as the listener closed is reset by the kernel, never served.
            Err(e) => {
                assert!(
                    matches!(
                        e.kind(),
                        std::io::ErrorKind::ConnectionRefused | std::io::ErrorKind::ConnectionReset
                    ),
                    "{e}"
                );
                return;
            }
            Ok(_) => assert!(
                tokio::time::Instant::now() < deadline,
                "still accepting after SIGTERM"
            ),
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn wait_exit(app: &mut TestApp) -> std::process::ExitStatus {
    tokio::task::block_in_place(|| app.wait_exit(EXIT_LIMIT)).expect("the host did not exit")
}

async fn pending_uploads(db_url: &str) -> i64 {
    let client = common::database::connect(db_url).await;
    client
        .query_one("SELECT count(*) FROM uploads WHERE status = 'pending'", &[])
        .await
        .unwrap()
        .get(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_upload_and_a_login_in_flight_at_sigterm_finish_then_the_host_exits_0() {
    let mut project = Project::spawn_with(ProjectOptions {
        args: vec!["--shutdown-timeout".into(), "120".into()],
        ..Default::default()
    })
    .await;
    let api = project.api();
    let (_, tokens) = api.user("drain@example.com").await;

    // A login whose body is half sent, on a connection of its own.
    let login_json = br#"{"email":"drain@example.com","password":"password123"}"#;
    let (login_body, body) = body_by_hand();
    let login = tokio::spawn(
        reqwest::Client::new()
            .post(api.url("/api/auth/login"))
            .header("content-type", "application/json")
            .header("content-length", login_json.len().to_string())
            .body(body)
            .send(),
    );
    login_body
        .send(Bytes::from_static(&login_json[..20]))
        .unwrap();

    // An upload of 1 MiB, its first quarter sent.
    let chunk = Bytes::from(vec![b'u'; 256 * 1024]);
    let (upload_body, body) = body_by_hand();
    let upload = tokio::spawn(
        reqwest::Client::new()
            .post(api.url("/api/uploads"))
            .query(&[("filename", "slow.bin")])
            .bearer_auth(&tokens.access)
            .header("content-type", "application/octet-stream")
            .header("content-length", (4 * chunk.len()).to_string())
            .body(body)
            .send(),
    );
    upload_body.send(chunk.clone()).unwrap();
    // The uploads component writes its record `pending` before it reads
    // the body: once it is there, the upload is in the host's hands (and
    // so is the login, whose connection was accepted before).
    let deadline = tokio::time::Instant::now() + EXIT_LIMIT;
    while pending_uploads(&project.db.url).await == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the upload never started"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    project.app.signal("TERM");
    until_refused(&address(&project.app.base_url)).await;

    for _ in 0..3 {
        upload_body.send(chunk.clone()).unwrap();
    }
    drop(upload_body);
    login_body
        .send(Bytes::from_static(&login_json[20..]))
        .unwrap();
    drop(login_body);

    let upload = upload.await.unwrap().expect("the upload is answered");
    assert_eq!(upload.status(), 201);
    assert_eq!(upload.headers()["connection"], "close");
    let record: serde_json::Value = upload.json().await.unwrap();
    assert_eq!(record["status"], "ready");
    assert_eq!(record["size"], 4 * chunk.len());

    let login = login.await.unwrap().expect("the login is answered");
    assert_eq!(login.status(), 200);
    assert_eq!(login.headers()["connection"], "close");
    let session: serde_json::Value = login.json().await.unwrap();
    assert!(session["access_token"].is_string(), "{session}");

    let status = wait_exit(&mut project.app);
    assert!(status.success(), "{status:?}; log:\n{}", project.app.log());
    assert!(
        project.app.log().contains("drained"),
        "{}",
        project.app.log()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_keep_alive_connections_are_closed_at_once() {
    let mut app = TestApp::spawn(PROBE);
    let mut idle = tokio::net::TcpStream::connect(address(&app.base_url))
        .await
        .unwrap();
    idle.write_all(b"GET /probe/headers HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let mut answer = vec![0; 64 * 1024];
    let read = idle.read(&mut answer).await.unwrap();
    assert!(answer[..read].starts_with(b"HTTP/1.1 200"));

    app.signal("TERM");
    // The host closes the idle connection rather than wait for the client.
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(EXIT_LIMIT, idle.read_to_end(&mut rest)).await;
    assert!(matches!(closed, Ok(Ok(_))), "{closed:?}");
    let status = wait_exit(&mut app);
    assert!(status.success(), "{status:?}; log:\n{}", app.log());
}

fn probe_with_timeout(seconds: &str) -> TestApp {
    TestApp::spawn_with(
        PROBE,
        AppOptions {
            args: vec!["--shutdown-timeout".into(), seconds.into()],
            ..Default::default()
        },
    )
}

/// A POST to the probe's echo whose body never ends, made sure to be in
/// the host's hands: a later request on another connection is answered.
async fn stuck_request(
    app: &TestApp,
) -> (
    mpsc::UnboundedSender<Bytes>,
    tokio::task::JoinHandle<reqwest::Result<reqwest::Response>>,
) {
    let (sender, body) = body_by_hand();
    let request = tokio::spawn(
        reqwest::Client::new()
            .post(app.url("/probe/echo-body"))
            .header("content-length", "1000000")
            .body(body)
            .send(),
    );
    sender.send(Bytes::from_static(b"first bytes")).unwrap();
    let later = reqwest::Client::new()
        .get(app.url("/probe/headers"))
        .send()
        .await
        .unwrap();
    assert_eq!(later.status(), 200);
    (sender, request)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_still_running_at_the_timeout_is_cut_and_logged() {
    let mut app = probe_with_timeout("1");
    let (_body, request) = stuck_request(&app).await;
    app.signal("TERM");
    let status = wait_exit(&mut app);
    assert_eq!(status.code(), Some(1), "log:\n{}", app.log());
    let log = app.log();
    assert!(log.contains("request cut by the shutdown"), "{log}");
    assert!(log.contains("/probe/echo-body"), "{log}");
    assert!(log.contains("the shutdown timeout passed"), "{log}");
    assert!(
        request.await.unwrap().is_err(),
        "the cut request gets no answer"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_signal_cuts_at_once() {
    // Longer than the test's own limit: only the second signal can end it.
    let mut app = probe_with_timeout("3600");
    let (_body, _request) = stuck_request(&app).await;
    app.signal("TERM");
    until_refused(&address(&app.base_url)).await;
    app.signal("INT");
    let status = wait_exit(&mut app);
    assert_eq!(status.code(), Some(1), "log:\n{}", app.log());
    let log = app.log();
    assert!(log.contains("a second signal came"), "{log}");
    assert!(log.contains("request cut by the shutdown"), "{log}");
}

/// An HTTP/2 connection to the host in cleartext (prior knowledge), its
/// driver running on its own task: the task ends when the connection does.
async fn h2_connection(
    address: &str,
) -> (
    h2::client::SendRequest<Bytes>,
    tokio::task::JoinHandle<Result<(), h2::Error>>,
) {
    let tcp = tokio::net::TcpStream::connect(address).await.unwrap();
    let (client, connection) = h2::client::handshake(tcp).await.unwrap();
    (client, tokio::spawn(connection))
}

/// One GET on the connection, answered: every frame sent on it before this
/// request's has been read by the host.
async fn h2_get_headers(client: &h2::client::SendRequest<Bytes>, address: &str) {
    let mut ready = client.clone().ready().await.unwrap();
    let request = http::Request::get(format!("http://{address}/probe/headers"))
        .body(())
        .unwrap();
    let (response, _) = ready.send_request(request, true).unwrap();
    assert_eq!(response.await.unwrap().status(), 200);
}

async fn h2_body(response: http::Response<h2::RecvStream>) -> Vec<u8> {
    let mut body = response.into_body();
    let mut collected = Vec::new();
    while let Some(chunk) = body.data().await {
        let chunk = chunk.unwrap();
        let _ = body.flow_control().release_capacity(chunk.len());
        collected.extend_from_slice(&chunk);
    }
    collected
}

/// With a shutdown timeout longer than the test's limit, only a host that
/// sends GOAWAY and closes the connection once its streams are done can
/// exit in time: one that waited for the client would be cut by the limit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_a_stream_in_flight_at_sigterm_finishes_then_goaway_closes_the_connection() {
    let mut app = probe_with_timeout("3600");
    let address = address(&app.base_url);
    let (client, driver) = h2_connection(&address).await;

    let mut ready = client.clone().ready().await.unwrap();
    let request = http::Request::post(format!("http://{address}/probe/echo-body"))
        .body(())
        .unwrap();
    let (response, mut upload) = ready.send_request(request, false).unwrap();
    upload
        .send_data(Bytes::from_static(b"sent before SIGTERM, "), false)
        .unwrap();
    h2_get_headers(&client, &address).await;

    app.signal("TERM");
    until_refused(&address).await;
    upload
        .send_data(Bytes::from_static(b"and after it"), true)
        .unwrap();

    let response = response.await.expect("the stream in flight is answered");
    assert_eq!(response.status(), 200);
    assert_eq!(
        h2_body(response).await,
        b"sent before SIGTERM, and after it"
    );
    host_closes_the_connection_then_exits_0(&mut app, client, driver).await;
    assert!(app.log().contains("drained"), "{}", app.log());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_an_idle_connection_gets_goaway_and_is_closed_at_once() {
    let mut app = probe_with_timeout("3600");
    let address = address(&app.base_url);
    let (client, driver) = h2_connection(&address).await;
    h2_get_headers(&client, &address).await;

    app.signal("TERM");
    host_closes_the_connection_then_exits_0(&mut app, client, driver).await;
}

/// The client keeps its handle until the connection has ended, so only the
/// host can have ended it: GOAWAY, then a clean close (the driver ends
/// `Ok`, not with a reset or an I/O error).
async fn host_closes_the_connection_then_exits_0(
    app: &mut TestApp,
    client: h2::client::SendRequest<Bytes>,
    driver: tokio::task::JoinHandle<Result<(), h2::Error>>,
) {
    let closed = tokio::time::timeout(EXIT_LIMIT, driver).await;
    assert!(
        matches!(closed, Ok(Ok(Ok(())))),
        "the host closes the connection gracefully: {closed:?}"
    );
    drop(client);
    let status = wait_exit(app);
    assert!(status.success(), "{status:?}; log:\n{}", app.log());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_stream_ends_cleanly_when_the_drain_begins_and_the_host_exits_0() {
    // The stream would last ten minutes and the drain an hour: only the
    // drain ending the stream lets the host exit within the test's limit.
    let mut project = Project::spawn_with(ProjectOptions {
        env: vec![("SPIN_VARIABLE_EVENTS_STREAM_SECONDS", "600".to_owned())],
        args: ["--shutdown-timeout", "3600"].map(str::to_owned).to_vec(),
        ..Default::default()
    })
    .await;
    let api = project.api();
    let (_, tokens) = api.user("drain-stream@example.com").await;
    let mut response = api.event_stream(&tokens.access).await;
    let first = tokio::time::timeout(EXIT_LIMIT, response.chunk())
        .await
        .expect("no first frame")
        .unwrap()
        .expect("the stream ended before the drain");
    assert!(first.starts_with(b"retry: "), "{first:?}");

    project.app.signal("TERM");
    let ended = tokio::time::timeout(EXIT_LIMIT, async {
        loop {
            match response.chunk().await {
                Ok(Some(_)) => continue,
                Ok(None) => return true,
                Err(_) => return false,
            }
        }
    })
    .await
    .expect("the stream outlived the drain's start");
    assert!(ended, "the stream was cut, not ended");
    let status = wait_exit(&mut project.app);
    let log = project.app.log();
    assert!(status.success(), "log:\n{log}");
    assert!(log.contains("event stream ended by the drain"), "{log}");
    assert!(log.contains("every request in flight finished"), "{log}");
}
