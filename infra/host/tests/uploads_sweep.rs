//! Stale uploads are swept (components/uploads/src/sweep.rs): uploads left
//! `pending` past the pending TTL (a presigned `PUT` never completed, with
//! or without bytes in the store) are hidden from every read at once and,
//! after a successful uploads request, removed, object first; fresh
//! `pending` and old `ready` uploads stay. With the store unreachable the
//! records stay (claimed, hidden) with their objects, and a later sweep
//! finishes them once the store is back. The sweep runs after the answer,
//! so the checks wait for its outcome (boundedly), never for a time.

mod common;

use std::future::Future;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::api::{Api, Project, Tokens};
use serde_json::{Value, json};

/// Presigns a small text file; the answer's body.
async fn presign(api: &Api, tokens: &Tokens, name: &str) -> Value {
    api.post_json(
        "/api/uploads/presign",
        &json!({"filename": name, "content_type": "text/plain", "size": 5}),
        Some(&tokens.access),
    )
    .await
    .ok(200)
    .clone()
}

/// Sends the file's bytes to the presigned URL (and never completes).
async fn put(api: &Api, presigned: &Value) {
    let mut request = api
        .client
        .put(api.absolute(presigned["upload_url"].as_str().unwrap()))
        .body(b"hello".to_vec());
    for (name, value) in presigned["headers"].as_object().unwrap() {
        request = request.header(name.as_str(), value.as_str().unwrap());
    }
    let stored = request.send().await.unwrap();
    assert!(stored.status().is_success(), "PUT: {}", stored.status());
}

fn id_of(presigned: &Value) -> String {
    presigned["upload"]["id"].as_str().unwrap().to_owned()
}

/// Makes uploads look created two days ago.
async fn age(db: &tokio_postgres::Client, ids: &[&str]) {
    let ids: Vec<String> = ids.iter().map(|id| id.to_string()).collect();
    let aged = db
        .execute(
            "UPDATE uploads SET created_at = now() - interval '2 days' \
             WHERE id::text = ANY($1::text[])",
            &[&ids],
        )
        .await
        .unwrap();
    assert_eq!(aged as usize, ids.len());
}

/// The upload's status, `None` once its record is gone.
async fn status(db: &tokio_postgres::Client, id: &str) -> Option<String> {
    db.query_opt(
        "SELECT status FROM uploads WHERE id = $1::text::uuid",
        &[&id],
    )
    .await
    .unwrap()
    .map(|row| row.get(0))
}

/// Waits (up to 30 s) until `check` holds; panics with the host's log.
async fn until<F, Fut>(project: &Project, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(30);
    while !check().await {
        assert!(
            Instant::now() < deadline,
            "{what}: not within 30 s\n{}",
            project.app.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn listed(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["id"].as_str().unwrap().to_owned())
        .collect()
}

/// The embedded store's file for upload `id`.
fn object_file(project: &Project, id: &str) -> PathBuf {
    project.app.state_dir().join("s3/data/app/uploads").join(id)
}

#[tokio::test(flavor = "multi_thread")]
async fn stale_pending_uploads_are_hidden_then_swept_with_their_objects() {
    let project = Project::spawn().await;
    let api = project.api();
    let db = common::database::connect(&project.db.url).await;
    let (_, tokens) = api.user("sweep@example.com").await;
    let (_, other) = api.user("other@example.com").await;

    // Stale: presigned, bytes sent, never completed; presigned, nothing
    // sent; another user's (the sweep is not the caller's alone).
    let with_object = presign(&api, &tokens, "sent.txt").await;
    put(&api, &with_object).await;
    let with_object = id_of(&with_object);
    let without_object = id_of(&presign(&api, &tokens, "never.txt").await);
    let others = id_of(&presign(&api, &other, "theirs.txt").await);
    assert!(object_file(&project, &with_object).exists());
    // Kept: an old ready upload, a fresh pending one.
    let ready = api
        .upload(
            &tokens.access,
            "kept.txt",
            Some("text/plain"),
            b"kept".to_vec(),
        )
        .await;
    let ready = ready.ok(201)["id"].as_str().unwrap().to_owned();
    let fresh = id_of(&presign(&api, &tokens, "fresh.txt").await);
    age(&db, &[&with_object, &without_object, &others, &ready]).await;

    // Hidden at once: the answer is made before its sweep runs.
    let page = api.get("/api/uploads", Some(&tokens.access)).await;
    assert_eq!(listed(page.ok(200)), [fresh.clone(), ready.clone()]);
    for id in [&with_object, &without_object] {
        let path = format!("/api/uploads/{id}");
        api.get(&path, Some(&tokens.access)).await.problem(404);
        api.post_empty(&format!("{path}/complete"), Some(&tokens.access))
            .await
            .problem(404);
    }

    let sql = &db;
    for id in [&with_object, &without_object, &others] {
        until(
            &project,
            &format!("stale upload {id} swept"),
            || async move { status(sql, id).await.is_none() },
        )
        .await;
    }
    assert!(
        !object_file(&project, &with_object).exists(),
        "the swept upload's object is gone"
    );
    assert_eq!(status(&db, &ready).await.as_deref(), Some("ready"));
    assert_eq!(status(&db, &fresh).await.as_deref(), Some("pending"));
    assert!(object_file(&project, &ready).exists());
    // The old ready upload still downloads.
    let shown = api
        .get(&format!("/api/uploads/{ready}"), Some(&tokens.access))
        .await;
    let url = shown.ok(200)["download_url"].as_str().unwrap();
    let download = api.client.get(api.absolute(url)).send().await.unwrap();
    assert_eq!(download.status(), 200);
    assert_eq!(download.bytes().await.unwrap().as_ref(), b"kept");
    // The owner's open pages hear of it as of any deletion.
    let announced: i64 = db
        .query_one(
            "SELECT count(*) FROM events WHERE type = 'upload.deleted' AND data->>'id' = $1",
            &[&with_object],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(announced, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn with_the_store_unreachable_stale_uploads_wait_for_a_later_sweep() {
    let (moto, mut proxy, project) = common::moto::project_behind_cut_proxy().await;
    let api = project.api();
    let db = common::database::connect(&project.db.url).await;
    let (_, tokens) = api.user("cut@example.com").await;
    let presigned = presign(&api, &tokens, "sent.txt").await;
    put(&api, &presigned).await;
    let id = id_of(&presigned);
    let key = format!("uploads/{id}");
    assert_eq!(moto.object_size(&key).await, Some(5));

    // Cut before it is stale: any sweep that finds it finds no store.
    proxy.cut().await;
    age(&db, &[&id]).await;
    let page = api.get("/api/uploads", Some(&tokens.access)).await;
    assert!(listed(page.ok(200)).is_empty());
    let app = &project.app;
    until(&project, "a sweep that met the cut store", || async move {
        app.log().contains("the sweep stops")
    })
    .await;
    // Claimed (hidden from every read), the object still there.
    assert_eq!(status(&db, &id).await.as_deref(), Some("deleting"));
    assert_eq!(moto.object_size(&key).await, Some(5));

    // The store back and the claim's lease over: the next sweep finishes.
    proxy.restore().await;
    db.execute(
        "UPDATE uploads SET updated_at = now() - interval '2 hours' WHERE id = $1::text::uuid",
        &[&id],
    )
    .await
    .unwrap();
    api.get("/api/uploads", Some(&tokens.access)).await.ok(200);
    let (sql, id) = (&db, &id);
    until(&project, "the stale upload swept", || async move {
        status(sql, id).await.is_none()
    })
    .await;
    assert_eq!(moto.object_size(&key).await, None);
}
