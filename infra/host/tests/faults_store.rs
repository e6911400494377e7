//! Issue 19's fault suite, the object store: the network to the store (moto,
//! behind a test-owned TCP forwarder) cut mid-load, mid-upload, then
//! restored, while users upload (direct and presigned) and use the rest of
//! the API. What a user sees: every failed upload is a 503 problem with
//! `Retry-After`, nothing else fails, an upload cut mid-body succeeds when
//! retried, and afterwards every acknowledged upload downloads byte-exact
//! while no record is `ready` without its object.
//!
//! The store is cut rather than killed: moto keeps objects in memory only,
//! so a restarted moto could not show that acknowledged writes survived.

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::api::{Answer, Api, Tokens};
use common::load::{Load, Outcome};
use common::test_bytes::random_bytes;
use futures::StreamExt;
use serde_json::json;

const KIB: usize = 1024;

/// Request `n`'s file size: mostly a few KB, every fifth about a megabyte,
/// so that some are mid-body when the cut comes.
fn size_of(n: u64) -> usize {
    if n.is_multiple_of(5) {
        1000 * KIB + (n % 997) as usize
    } else {
        2 * KIB + (n % 8) as usize * 512
    }
}

/// What an acknowledged upload is recorded as: its id and how to make its
/// bytes again.
fn ack(id: &str, seed: u64, len: usize) -> String {
    format!("{id} {seed} {len}")
}

/// Direct uploads by when they started: before the cut, while cut, after
/// the restore.
const UPLOAD: [&str; 3] = ["upload", "upload, store cut", "upload, restored"];

struct Users {
    api: Api,
    tokens: Vec<Tokens>,
    /// Which of [`UPLOAD`]'s phases it is.
    phase: AtomicUsize,
}

async fn direct_upload(
    api: &Api,
    label: &'static str,
    token: &str,
    seed: u64,
    len: usize,
) -> Outcome {
    let request = api
        .client
        .post(api.url("/api/uploads"))
        .query(&[("filename", format!("file-{seed}.bin"))])
        .bearer_auth(token)
        .header("content-type", "application/octet-stream")
        .header("content-length", len.to_string())
        .body(random_bytes(len, seed));
    let result = api.try_send(request).await;
    let outcome = Outcome::of_result(label, &result);
    match result {
        Ok(answer) if answer.status == 201 => {
            outcome.acknowledging(ack(answer.body["id"].as_str().unwrap(), seed, len))
        }
        _ => outcome,
    }
}

/// Presign, `PUT` through the gateway's `/_storage` proxy, complete: one
/// outcome, labelled by the step that ended the attempt.
async fn presigned_upload(api: &Api, token: &str, seed: u64, len: usize) -> Outcome {
    let presign = api
        .client
        .post(api.url("/api/uploads/presign"))
        .bearer_auth(token)
        .json(&json!({"filename": format!("p-{seed}.bin"),
                      "content_type": "application/octet-stream", "size": len}));
    let presigned = match api.try_send(presign).await {
        Ok(answer) if answer.status == 200 => answer.body,
        other => return Outcome::of_result("presign", &other),
    };
    let mut put = api
        .client
        .put(api.absolute(presigned["upload_url"].as_str().unwrap()))
        .body(random_bytes(len, seed));
    for (name, value) in presigned["headers"].as_object().unwrap() {
        put = put.header(name.as_str(), value.as_str().unwrap());
    }
    match api.try_send(put).await {
        Ok(answer) if answer.status.is_success() => {}
        other => return Outcome::of_result("presigned put", &other),
    }
    let id = presigned["upload"]["id"].as_str().unwrap().to_owned();
    let complete = api
        .client
        .post(api.url(&format!("/api/uploads/{id}/complete")))
        .bearer_auth(token);
    let result = api.try_send(complete).await;
    let outcome = Outcome::of_result("presigned complete", &result);
    match result {
        Ok(answer) if answer.status == 200 => outcome.acknowledging(ack(&id, seed, len)),
        _ => outcome,
    }
}

async fn get(api: &Api, label: &'static str, path: &str, token: Option<&str>) -> Outcome {
    let mut request = api.client.get(api.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    Outcome::of_result(label, &api.try_send(request).await)
}

/// Request `n` of the load: mostly direct uploads, some presigned ones, and
/// routes that do not need the store.
async fn step(users: Arc<Users>, n: u64) -> Outcome {
    let api = &users.api;
    let token = users.tokens[n as usize % users.tokens.len()]
        .access
        .as_str();
    match n % 20 {
        3 | 13 => get(api, "me", "/api/users/me", Some(token)).await,
        7 => get(api, "list", "/api/uploads?limit=5", Some(token)).await,
        17 => get(api, "health", "/health", None).await,
        9 | 19 => presigned_upload(api, token, n, size_of(n)).await,
        _ => {
            let label = UPLOAD[users.phase.load(Ordering::SeqCst)];
            direct_upload(api, label, token, n, size_of(n)).await
        }
    }
}

/// A direct upload of `bytes` whose first `head` bytes are sent at once and
/// the rest only when `go` fires: started before a cut and released after
/// it, the cut lands in the middle of its body.
async fn held_upload(
    api: Api,
    token: String,
    bytes: Vec<u8>,
    head: usize,
    go: tokio::sync::oneshot::Receiver<()>,
) -> Result<Answer, String> {
    let len = bytes.len();
    let rest = bytes[head..].to_vec();
    let first = futures::stream::iter([Ok::<_, std::io::Error>(bytes[..head].to_vec())]);
    let later = futures::stream::once(async move {
        let _ = go.await;
        Ok(rest)
    });
    let request = api
        .client
        .post(api.url("/api/uploads"))
        .query(&[("filename", "held.bin")])
        .bearer_auth(token)
        .header("content-type", "application/octet-stream")
        .header("content-length", len.to_string())
        .body(reqwest::Body::wrap_stream(first.chain(later)));
    api.try_send(request).await
}

/// The statuses of `user_id`'s upload records.
async fn statuses(db: &tokio_postgres::Client, user_id: &str) -> Vec<String> {
    db.query(
        "SELECT status FROM uploads WHERE user_id = $1::text::uuid",
        &[&user_id],
    )
    .await
    .unwrap()
    .iter()
    .map(|row| row.get(0))
    .collect()
}

/// Fetches upload `ack` through the API's download URL; whether the bytes
/// are the ones sent.
async fn downloads_exactly(api: &Api, token: &str, ack: &str) -> Result<(), String> {
    let mut parts = ack.split(' ');
    let (id, seed, len) = (parts.next().unwrap(), parts.next().unwrap(), parts.next());
    let (seed, len): (u64, usize) = (seed.parse().unwrap(), len.unwrap().parse().unwrap());
    let shown = api.get(&format!("/api/uploads/{id}"), Some(token)).await;
    let upload = shown.ok(200);
    if upload["status"] != "ready" {
        return Err(format!("{id} is {}", upload["status"]));
    }
    let url = api.absolute(upload["download_url"].as_str().unwrap());
    let response = api
        .client
        .get(url)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if response.status() != 200 {
        return Err(format!("{id}: download {}", response.status()));
    }
    let got = response.bytes().await.map_err(|e| e.to_string())?;
    if got.as_ref() != random_bytes(len, seed).as_slice() {
        return Err(format!("{id}: {len} bytes came back as {}", got.len()));
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_store_cut_mid_upload_is_503_and_keeps_every_acknowledged_upload() {
    let (moto, mut proxy, project) = common::moto::project_behind_cut_proxy().await;
    let api = project.api();
    let db = common::database::connect(&project.db.url).await;
    let mut tokens = Vec::new();
    for i in 0..4 {
        tokens.push(api.user(&format!("uploader{i}@example.com")).await.1);
    }
    let (held_user, held_tokens) = api.user("held@example.com").await;
    let held_id = held_user["id"].as_str().unwrap().to_owned();
    let users = Arc::new(Users {
        api: api.clone(),
        tokens: tokens.clone(),
        phase: AtomicUsize::new(0),
    });
    let phases = users.clone();

    let load = Load::start(8, 120, Duration::from_secs(90), move |n| {
        step(users.clone(), n)
    });
    tokio::time::sleep(Duration::from_secs(2)).await;

    // An upload surely mid-body at the cut: its record is written (pending)
    // before its PUT to the store begins, and most of its body is held back.
    let held_bytes = random_bytes(2 * 1024 * KIB, u64::MAX);
    let (go, gate) = tokio::sync::oneshot::channel();
    let held = tokio::spawn(held_upload(
        api.clone(),
        held_tokens.access.clone(),
        held_bytes.clone(),
        256 * KIB,
        gate,
    ));
    let deadline = Instant::now() + Duration::from_secs(30);
    while statuses(&db, &held_id).await.is_empty() {
        assert!(Instant::now() < deadline, "the held upload never started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Let its PUT reach the store with the part sent so far.
    tokio::time::sleep(Duration::from_millis(300)).await;

    let cut = proxy.cut().await;
    phases.phase.store(1, Ordering::SeqCst);
    let _ = go.send(());
    let held = tokio::time::timeout(Duration::from_secs(60), held)
        .await
        .expect("the held upload got no answer")
        .unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    proxy.restore().await;
    phases.phase.store(2, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let report = load.finish().await;
    println!(
        "store cut with {cut} connection(s) open; {} requests:\n{}",
        report.outcomes.len(),
        report.summary()
    );

    // The upload cut mid-body: a 503 the client may retry, nothing `ready`.
    let held = Outcome::of_result("held upload", &held);
    assert!(held.is_retryable_problem(), "{held:?}");
    assert!(
        statuses(&db, &held_id).await.iter().all(|s| s == "pending"),
        "a failed upload left a record other than pending"
    );
    // Retried once the store is back: it works, byte for byte.
    let retried = api
        .upload(
            &held_tokens.access,
            "held.bin",
            Some("application/octet-stream"),
            held_bytes,
        )
        .await;
    let retried_id = retried.ok(201)["id"].as_str().unwrap().to_owned();
    let retried_ack = ack(&retried_id, u64::MAX, 2 * 1024 * KIB);
    downloads_exactly(&api, &held_tokens.access, &retried_ack)
        .await
        .unwrap();

    // Uploads failed as the API promises, and the cut was felt.
    let retryable = "503 problem+json with Retry-After";
    for label in UPLOAD {
        report.assert_failures(label, retryable, Outcome::is_retryable_problem);
    }
    report.assert_failures(
        "presigned complete",
        retryable,
        Outcome::is_retryable_problem,
    );
    assert!(!report.failed(UPLOAD[1]).is_empty(), "{}", report.summary());
    // Once the store is reachable again, uploads work, with no host restart.
    report.assert_failures(UPLOAD[2], "anything (none expected)", |_| false);
    // `/_storage` is the gateway's proxy of the store, not the API: as
    // nginx's `proxy_pass`, an unreachable upstream is a 502 problem.
    report.assert_failures("presigned put", "502 problem+json", |o| {
        o.status == Some(502) && o.detail == "application/problem+json"
    });
    // `/health` reports the store down, as a retryable 503.
    report.assert_failures("health", retryable, Outcome::is_retryable_problem);
    // What does not need the store never fails.
    for label in ["me", "list", "presign"] {
        report.assert_failures(label, "anything (none expected)", |_| false);
    }
    assert!(report.succeeded(UPLOAD[2]) > 0 && report.succeeded("presigned complete") > 0);

    // Every `ready` record has its whole object in the store (asked of moto
    // itself), and it is exactly the set the clients were told succeeded.
    let mut acknowledged: Vec<String> =
        UPLOAD.iter().flat_map(|l| report.acknowledged(l)).collect();
    acknowledged.extend(report.acknowledged("presigned complete"));
    let mut told: BTreeSet<String> = acknowledged
        .iter()
        .map(|a| a.split(' ').next().unwrap().to_owned())
        .collect();
    told.insert(retried_id.clone());
    let rows = db
        .query(
            "SELECT id::text, object_key, status, size FROM uploads",
            &[],
        )
        .await
        .unwrap();
    let mut ready = BTreeSet::new();
    for row in &rows {
        let (id, key, status, size): (String, String, String, i64) =
            (row.get(0), row.get(1), row.get(2), row.get(3));
        if status == "ready" {
            assert_eq!(
                moto.object_size(&key).await,
                Some(size as u64),
                "ready upload {id} without its whole object"
            );
            ready.insert(id);
        }
    }
    assert_eq!(ready, told, "ready records vs acknowledged uploads");
    println!(
        "{} records: {} ready, {} left pending by failed uploads",
        rows.len(),
        ready.len(),
        rows.len() - ready.len()
    );

    // Every acknowledged upload downloads byte-exact (a few at a time: the
    // megabyte ones go through moto).
    let owner = |n: u64| tokens[n as usize % tokens.len()].access.clone();
    let checks = futures::stream::iter(acknowledged.iter().map(|a| {
        let seed: u64 = a.split(' ').nth(1).unwrap().parse().unwrap();
        let (api, token) = (api.clone(), owner(seed));
        async move { downloads_exactly(&api, &token, a).await }
    }))
    .buffer_unordered(4)
    .collect::<Vec<_>>()
    .await;
    let bad: Vec<&String> = checks.iter().filter_map(|c| c.as_ref().err()).collect();
    assert!(
        bad.is_empty(),
        "{} acknowledged uploads: {bad:?}",
        bad.len()
    );
}
