//! The Uploads rows of API.md through the host, against two independent
//! S3-compatible stores: the embedded one of `spinstack up` (s3s, SigV4
//! checked) and moto's S3 server (`python3 -m moto.server`, the `moto_*`
//! tests). Byte-exact round trips (empty, 1 byte, multi-megabyte, the limit
//! exactly, the limit + 1), the memory cap, the presigned flow and its
//! signature, owner/admin/other access, deletes, the store going away, and
//! bad input (4xx problem+json, never 500).

mod common;

use std::time::Duration;

use common::api::{Api, Project, ProjectOptions, Tokens};
use common::moto::Moto;
use common::test_bytes::random_bytes;
use serde_json::{Value, json};

const MIB: usize = 1024 * 1024;

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0";

async fn download(api: &Api, url: &str) -> reqwest::Response {
    api.client
        .get(api.absolute(url))
        .send()
        .await
        .expect("download")
}

/// Uploads `bytes`, checks the answer, fetches them back through the
/// download URL, and checks they are the same, byte for byte.
async fn round_trip(api: &Api, tokens: &Tokens, bytes: Vec<u8>, content_type: &str) -> Value {
    let answer = api
        .upload(
            &tokens.access,
            "data.bin",
            Some(content_type),
            bytes.clone(),
        )
        .await;
    let upload = answer.ok(201).clone();
    let id = upload["id"].as_str().unwrap();
    assert_eq!(
        answer.header("location"),
        Some(format!("/api/uploads/{id}").as_str())
    );
    assert_eq!(upload["status"], "ready");
    assert_eq!(upload["size"], bytes.len() as u64);
    assert_eq!(upload["content_type"], content_type);
    assert!(upload.get("download_url").is_none());
    let shown = api
        .get(&format!("/api/uploads/{id}"), Some(&tokens.access))
        .await;
    let url = shown.ok(200)["download_url"].as_str().unwrap().to_owned();
    assert_eq!(shown.header("cache-control"), Some("no-store"));
    let response = download(api, &url).await;
    assert_eq!(response.status(), 200, "download of {} bytes", bytes.len());
    let got = response.bytes().await.unwrap();
    assert!(
        got.as_ref() == bytes.as_slice(),
        "{} bytes came back as {}",
        bytes.len(),
        got.len()
    );
    upload
}

/// The status of a direct upload that declares `length` bytes but sends
/// only its head: an answer before the body proves the limit is checked on
/// the declared length, before any byte is read.
async fn declared_only(api: &Api, token: &str, length: usize) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = api.base_url.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    let head = format!(
        "POST /api/uploads?filename=big.bin HTTP/1.1\r\nHost: {address}\r\n\
         Authorization: Bearer {token}\r\nContent-Type: application/octet-stream\r\n\
         Content-Length: {length}\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = vec![0; 1024];
    let read = tokio::time::timeout(Duration::from_secs(30), stream.read(&mut answer))
        .await
        .expect("an answer before the body")
        .unwrap();
    let text = String::from_utf8_lossy(&answer[..read]);
    text.split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0)
}

fn limit_env(limit: usize) -> Vec<(&'static str, String)> {
    vec![("SPIN_VARIABLE_UPLOAD_MAX_BYTES", limit.to_string())]
}

/// Round trips of every interesting size on the project's store.
async fn sizes_round_trip(project: &Project, limit: usize) {
    let api = project.api();
    let (_, tokens) = api.user("sizes@example.com").await;
    round_trip(&api, &tokens, Vec::new(), "text/plain").await;
    round_trip(&api, &tokens, b"x".to_vec(), "text/plain").await;
    round_trip(
        &api,
        &tokens,
        random_bytes(3 * MIB + 17, 7),
        "application/octet-stream",
    )
    .await;
    round_trip(
        &api,
        &tokens,
        random_bytes(limit, 11),
        "application/octet-stream",
    )
    .await;
    assert_eq!(declared_only(&api, &tokens.access, limit + 1).await, 413);
    // Nothing was kept of the refused file.
    let list = api
        .get("/api/uploads?limit=100", Some(&tokens.access))
        .await;
    assert_eq!(list.ok(200)["items"].as_array().unwrap().len(), 4);
    let db = common::database::connect(&project.db.url).await;
    let rows: i64 = db
        .query_one("SELECT count(*) FROM uploads", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(rows, 4);
}

/// The presigned flow on the project's store: presign, PUT to the store,
/// complete, download; completing early is 409.
async fn presigned_round_trip(api: &Api, tokens: &Tokens, bytes: Vec<u8>) -> Value {
    let answer = api
        .post_json(
            "/api/uploads/presign",
            &json!({"filename": "dir/../report.pdf", "content_type": "application/pdf", "size": bytes.len()}),
            Some(&tokens.access),
        )
        .await;
    let presigned = answer.ok(200).clone();
    assert_eq!(answer.header("cache-control"), Some("no-store"));
    assert_eq!(presigned["method"], "PUT");
    assert!(presigned["expires_in"].as_u64().unwrap() >= 1);
    let upload = &presigned["upload"];
    assert_eq!(upload["status"], "pending");
    assert_eq!(upload["filename"], "report.pdf");
    let id = upload["id"].as_str().unwrap().to_owned();
    let url = presigned["upload_url"].as_str().unwrap();
    assert!(!url.contains("report"), "the key is the server's: {url}");

    let complete = format!("/api/uploads/{id}/complete");
    api.post_empty(&complete, Some(&tokens.access))
        .await
        .problem(409);
    let shown = api
        .get(&format!("/api/uploads/{id}"), Some(&tokens.access))
        .await;
    assert!(shown.ok(200).get("download_url").is_none());

    // On the app's own origin: the gateway proxies the store (CSP-friendly).
    assert!(url.starts_with("/_storage/"), "{url}");
    let mut put = api.client.put(api.absolute(url)).body(bytes.clone());
    for (name, value) in presigned["headers"].as_object().unwrap() {
        put = put.header(name.as_str(), value.as_str().unwrap());
    }
    let stored = put.send().await.unwrap();
    assert!(
        stored.status().is_success(),
        "PUT to the store: {}",
        stored.status()
    );

    let done = api.post_empty(&complete, Some(&tokens.access)).await;
    assert_eq!(done.ok(200)["status"], "ready");
    assert_eq!(done.body["size"], bytes.len() as u64);
    // Again: nothing changes.
    let again = api.post_empty(&complete, Some(&tokens.access)).await;
    assert_eq!(again.ok(200)["status"], "ready");

    let shown = api
        .get(&format!("/api/uploads/{id}"), Some(&tokens.access))
        .await;
    let download_url = shown.ok(200)["download_url"].as_str().unwrap().to_owned();
    let response = download(api, &download_url).await;
    assert_eq!(response.status(), 200);
    let disposition = response
        .headers()
        .get("content-disposition")
        .map(|v| v.to_str().unwrap().to_owned());
    let got = response.bytes().await.unwrap();
    assert!(got.as_ref() == bytes.as_slice());
    if let Some(disposition) = disposition {
        assert!(disposition.starts_with("attachment;"), "{disposition}");
        assert!(disposition.contains("report.pdf"), "{disposition}");
    }
    shown.body.clone()
}

fn pdf(len: usize) -> Vec<u8> {
    let mut bytes = b"%PDF-1.7\n".to_vec();
    bytes.extend(random_bytes(len.saturating_sub(bytes.len()), 5));
    bytes.truncate(len.max(9));
    bytes
}

/// Deletes `upload` and checks both the record and the object are gone.
async fn delete_removes_object_and_record(api: &Api, tokens: &Tokens, upload: &Value) {
    let id = upload["id"].as_str().unwrap();
    let download_url = upload["download_url"].as_str().unwrap();
    assert_eq!(download(api, download_url).await.status(), 200);
    let path = format!("/api/uploads/{id}");
    assert_eq!(api.delete(&path, Some(&tokens.access)).await.status, 204);
    api.get(&path, Some(&tokens.access)).await.problem(404);
    // AWS (and moto) answer 403 for a missing key to a caller who may not
    // list the bucket; s3s answers 404.
    let gone = download(api, download_url).await.status();
    assert!(gone == 404 || gone == 403, "the object is gone: {gone}");
    api.delete(&path, Some(&tokens.access)).await.problem(404);
}

// ---------------------------------------------------------------- embedded

#[tokio::test(flavor = "multi_thread")]
async fn round_trips_are_byte_exact_up_to_the_limit() {
    let limit = 4 * MIB + 3;
    let project = Project::spawn_with(ProjectOptions {
        env: limit_env(limit),
        ..Default::default()
    })
    .await;
    sizes_round_trip(&project, limit).await;
}

const JWT_SECRET: &str = "uploads-test-secret-0123456789abcdef-0123456789";

/// An access token for a user written straight into the database, signed
/// as the auth component signs them: for an app whose memory cap is too
/// small for argon2 (19 MiB), so nobody can register or log in there.
async fn minted_user(project: &Project, email: &str) -> Tokens {
    use base64::Engine;
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let db = common::database::connect(&project.db.url).await;
    let id = uuid::Uuid::new_v4().to_string();
    db.execute(
        "INSERT INTO users (id, email, name, password_hash) VALUES ($1::text::uuid, $2, 'Big', 'x')",
        &[&id, &email],
    )
    .await
    .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let header = json!({"alg": "HS256", "typ": "at+jwt"});
    let claims = json!({
        "iss": "spinstack", "aud": "spinstack-api", "sub": id,
        "jti": uuid::Uuid::new_v4().to_string(), "sid": uuid::Uuid::new_v4().to_string(),
        "iat": now, "nbf": now, "exp": now + 900,
    });
    let input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let tag = hmac_sha256::HMAC::mac(input.as_bytes(), JWT_SECRET.as_bytes());
    Tokens {
        access: format!("{input}.{}", b64(&tag)),
        refresh: String::new(),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_limit_sized_upload_streams_under_a_small_memory_cap() {
    // The default limit (25 MiB), with each instance capped at 8 MiB.
    let project = Project::spawn_with(ProjectOptions {
        env: vec![("SPIN_VARIABLE_JWT_SECRET", JWT_SECRET.to_owned())],
        args: vec!["--max-instance-memory-mib".into(), "8".into()],
        ..Default::default()
    })
    .await;
    let api = project.api();
    let tokens = minted_user(&project, "big@example.com").await;
    let first = api
        .upload(
            &tokens.access,
            "big.bin",
            Some("application/octet-stream"),
            random_bytes(25 * MIB, 3),
        )
        .await;
    if first.status != 201 {
        eprintln!("{}", project.app.log());
    }
    first.ok(201);
    round_trip(
        &api,
        &tokens,
        random_bytes(25 * MIB, 3),
        "application/octet-stream",
    )
    .await;
    assert_eq!(declared_only(&api, &tokens.access, 25 * MIB + 1).await, 413);
}

#[tokio::test(flavor = "multi_thread")]
async fn presigned_uploads_complete_and_download_as_attachments() {
    let project = Project::spawn().await;
    let api = project.api();
    let (_, tokens) = api.user("presign@example.com").await;
    let upload = presigned_round_trip(&api, &tokens, pdf(200_000)).await;
    // The embedded store honours response-content-disposition.
    let response = download(&api, upload["download_url"].as_str().unwrap()).await;
    let disposition = response
        .headers()
        .get("content-disposition")
        .unwrap()
        .to_str()
        .unwrap();
    assert_eq!(
        disposition,
        "attachment; filename=\"report.pdf\"; filename*=UTF-8''report.pdf"
    );
    delete_removes_object_and_record(&api, &tokens, &upload).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_store_refuses_tampered_or_mismatched_presigned_puts() {
    let project = Project::spawn().await;
    let api = project.api();
    let (_, tokens) = api.user("tamper@example.com").await;
    let bytes = pdf(1000);
    let presigned = api
        .post_json(
            "/api/uploads/presign",
            &json!({"filename": "a.pdf", "content_type": "application/pdf", "size": bytes.len()}),
            Some(&tokens.access),
        )
        .await
        .ok(200)
        .clone();
    let url = api.absolute(presigned["upload_url"].as_str().unwrap());
    let put = |url: String, content_type: &'static str, body: Vec<u8>| {
        let client = api.client.clone();
        async move {
            client
                .put(url)
                .header("content-type", content_type)
                .body(body)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    // The signature, the key, the type and the length are all bound.
    let signature_at = url.find("X-Amz-Signature=").unwrap() + "X-Amz-Signature=".len();
    let mut tampered = url.clone();
    let flipped = if &url[signature_at..=signature_at] == "0" {
        "1"
    } else {
        "0"
    };
    tampered.replace_range(signature_at..=signature_at, flipped);
    assert_eq!(put(tampered, "application/pdf", bytes.clone()).await, 403);
    let other_key = url.replacen("/uploads/", "/uploads/x", 1);
    assert_eq!(put(other_key, "application/pdf", bytes.clone()).await, 403);
    assert_eq!(put(url.clone(), "image/png", bytes.clone()).await, 403);
    assert_eq!(put(url.clone(), "application/pdf", pdf(1001)).await, 403);
    // Nothing arrived.
    let id = presigned["upload"]["id"].as_str().unwrap();
    api.post_empty(&format!("/api/uploads/{id}/complete"), Some(&tokens.access))
        .await
        .problem(409);
    assert_eq!(put(url, "application/pdf", bytes).await, 200);
    let done = api
        .post_empty(&format!("/api/uploads/{id}/complete"), Some(&tokens.access))
        .await;
    assert_eq!(done.ok(200)["status"], "ready");
}

#[tokio::test(flavor = "multi_thread")]
async fn presigned_urls_expire() {
    let project = Project::spawn_with(ProjectOptions {
        env: vec![("SPIN_VARIABLE_UPLOAD_URL_TTL_SECONDS", "1".to_owned())],
        ..Default::default()
    })
    .await;
    let api = project.api();
    let (_, tokens) = api.user("expiry@example.com").await;
    let presigned = api
        .post_json(
            "/api/uploads/presign",
            &json!({"filename": "a.txt", "content_type": "text/plain", "size": 2}),
            Some(&tokens.access),
        )
        .await
        .ok(200)
        .clone();
    assert_eq!(presigned["expires_in"], 1);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let status = api
        .client
        .put(api.absolute(presigned["upload_url"].as_str().unwrap()))
        .header("content-type", "text/plain")
        .body("hi")
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 403);
}

#[tokio::test(flavor = "multi_thread")]
async fn content_types_are_checked_against_the_allow_list_and_the_bytes() {
    let project = Project::spawn().await;
    let api = project.api();
    let (_, tokens) = api.user("types@example.com").await;
    let token = &tokens.access;
    // A real PNG is fine; its type may carry parameters.
    let png = api
        .upload(token, "dot.png", Some("image/PNG; x=y"), PNG.to_vec())
        .await;
    assert_eq!(png.ok(201)["content_type"], "image/png");
    // An executable named .png, an ELF as text, a GIF as PNG.
    let mut exe = b"MZ\x90\0\x03\0\0\0".to_vec();
    exe.extend(random_bytes(5000, 1));
    api.upload(token, "cat.png", Some("image/png"), exe.clone())
        .await
        .problem(415);
    api.upload(
        token,
        "notes.txt",
        Some("text/plain"),
        b"\x7fELF\x02\x01\x01".to_vec(),
    )
    .await
    .problem(415);
    api.upload(token, "a.png", Some("image/png"), b"GIF89a....".to_vec())
        .await
        .problem(415);
    api.upload(token, "a.png", Some("image/png"), Vec::new())
        .await
        .problem(415);
    // Outside the allow-list, missing, or not a media type.
    api.upload(token, "a.svg", Some("image/svg+xml"), b"<svg/>".to_vec())
        .await
        .problem(415);
    api.upload(
        token,
        "a.exe",
        Some("application/x-msdownload"),
        exe.clone(),
    )
    .await
    .problem(415);
    api.upload(token, "a.txt", None, b"hi".to_vec())
        .await
        .problem(415);
    api.upload(token, "a.txt", Some("nonsense"), b"hi".to_vec())
        .await
        .problem(415);
    // The presigned flow: declared type checked at presign, bytes at complete.
    let presign = |body: Value| {
        let api = api.clone();
        let token = token.clone();
        async move {
            api.post_json("/api/uploads/presign", &body, Some(&token))
                .await
        }
    };
    presign(json!({"filename": "a.svg", "content_type": "image/svg+xml", "size": 1}))
        .await
        .problem(415);
    let presigned =
        presign(json!({"filename": "cat.png", "content_type": "image/png", "size": exe.len()}))
            .await
            .ok(200)
            .clone();
    let mut put = api
        .client
        .put(api.absolute(presigned["upload_url"].as_str().unwrap()))
        .body(exe);
    for (name, value) in presigned["headers"].as_object().unwrap() {
        put = put.header(name.as_str(), value.as_str().unwrap());
    }
    assert!(put.send().await.unwrap().status().is_success());
    let id = presigned["upload"]["id"].as_str().unwrap();
    api.post_empty(&format!("/api/uploads/{id}/complete"), Some(token))
        .await
        .problem(415);
    // Neither the record nor the object is kept.
    api.get(&format!("/api/uploads/{id}"), Some(token))
        .await
        .problem(404);
    let db = common::database::connect(&project.db.url).await;
    let rows: i64 = db
        .query_one(
            "SELECT count(*) FROM uploads WHERE id = $1::text::uuid",
            &[&id],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(rows, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_is_4xx_never_500() {
    let limit = MIB;
    let project = Project::spawn_with(ProjectOptions {
        env: limit_env(limit),
        ..Default::default()
    })
    .await;
    let api = project.api();
    let (_, tokens) = api.user("bad@example.com").await;
    let token = Some(tokens.access.as_str());

    // No token, a bad token.
    api.get("/api/uploads", None).await.problem(401);
    api.get("/api/uploads", Some("not-a-token"))
        .await
        .problem(401);
    let request = api
        .client
        .post(api.url("/api/uploads?filename=a.txt"))
        .header("content-type", "text/plain")
        .body("hi");
    api.send(request).await.problem(401);

    // Filenames: missing, empty, a bare path, too long, control characters.
    let upload = |query: String| {
        let api = api.clone();
        let token = tokens.access.clone();
        async move {
            let request = api
                .client
                .post(api.url(&format!("/api/uploads{query}")))
                .bearer_auth(token)
                .header("content-type", "text/plain")
                .body("hello");
            api.send(request).await
        }
    };
    for query in [
        "",
        "?filename=",
        "?filename=a/",
        "?filename=%0A",
        "?filename=%ZZ",
    ] {
        let answer = upload(query.to_owned()).await;
        assert!(
            answer.problem(422)["errors"]["filename"].is_array(),
            "{query}"
        );
    }
    upload(format!("?filename={}", "n".repeat(256)))
        .await
        .problem(422);
    // The bound is on the name as sent (the contract's maxLength), not only
    // on the last segment that is kept.
    upload(format!("?filename=dir%2F{}", "n".repeat(252)))
        .await
        .problem(422);
    let kept = upload(format!("?filename=dir%2F{}", "n".repeat(251))).await;
    assert_eq!(kept.ok(201)["filename"], "n".repeat(251));
    let kept = upload("?filename=..%2F..%2Fetc%2Fpasswd".into()).await;
    assert_eq!(kept.ok(201)["filename"], "passwd");

    // Declared over the limit: 413 before any byte is read.
    assert_eq!(declared_only(&api, &tokens.access, limit + 1).await, 413);
    // No length at all (chunked): 411.
    let chunks = futures::stream::iter(vec![Ok::<_, std::io::Error>(b"hello".to_vec())]);
    let request = api
        .client
        .post(api.url("/api/uploads?filename=a.txt"))
        .bearer_auth(&tokens.access)
        .header("content-type", "text/plain")
        .body(reqwest::Body::wrap_stream(chunks));
    assert_eq!(api.send(request).await.problem(411)["status"], 411);

    // Presign: not JSON, malformed, every field wrong, unknown fields, over the limit.
    let request = api
        .client
        .post(api.url("/api/uploads/presign"))
        .bearer_auth(&tokens.access)
        .body("x");
    api.send(request).await.problem(415);
    let request = api
        .client
        .post(api.url("/api/uploads/presign"))
        .bearer_auth(&tokens.access)
        .header("content-type", "application/json")
        .body("{");
    api.send(request).await.problem(400);
    let answer = api
        .post_json("/api/uploads/presign", &json!({}), token)
        .await;
    let mut fields: Vec<&String> = answer.problem(422)["errors"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    fields.sort();
    assert_eq!(fields, ["content_type", "filename", "size"]);
    let answer = api
        .post_json(
            "/api/uploads/presign",
            &json!({"filename": "", "content_type": "x", "size": -1}),
            token,
        )
        .await;
    assert_eq!(answer.problem(422)["errors"].as_object().unwrap().len(), 3);
    let answer = api
        .post_json(
            "/api/uploads/presign",
            &json!({"filename": "a", "content_type": "text/plain", "size": 1.5}),
            token,
        )
        .await;
    assert!(answer.problem(422)["errors"]["size"].is_array());
    // A whole number written as a float is that integer (JSON Schema's
    // `integer`; found by the contract fuzz: `37.0` was a 422).
    let whole = api
        .post_json(
            "/api/uploads/presign",
            &json!({"filename": "a", "content_type": "text/plain", "size": 37.0}),
            token,
        )
        .await;
    assert_eq!(whole.ok(200)["upload"]["size"], 37);
    api.post_json(
        "/api/uploads/presign",
        &json!({"filename": "a", "content_type": "text/plain", "size": 1, "key": "../x"}),
        token,
    )
    .await
    .problem(422);
    api.post_json(
        "/api/uploads/presign",
        &json!({"filename": "a", "content_type": "text/plain", "size": limit + 1}),
        token,
    )
    .await
    .problem(413);

    // Ids that are not UUIDs, unknown ids, unknown routes, wrong methods.
    for path in [
        "/api/uploads/nope",
        "/api/uploads/1",
        "/api/uploads/%27%3B--",
        "/api/uploads/00000000-0000-0000-0000-000000000000",
    ] {
        api.get(path, token).await.problem(404);
        api.delete(path, token).await.problem(404);
        api.post_empty(&format!("{path}/complete"), token)
            .await
            .problem(404);
    }
    api.get("/api/uploads/a/b/c", token).await.problem(404);
    let answer = api
        .send(
            api.client
                .put(api.url("/api/uploads"))
                .bearer_auth(&tokens.access),
        )
        .await;
    answer.problem(405);
    assert_eq!(answer.header("allow"), Some("GET, POST"));
    api.get("/api/uploads/presign", token).await.problem(405);

    // Lists: bad limits and cursors.
    for query in [
        "limit=0",
        "limit=101",
        "limit=x",
        "cursor=abc",
        "cursor=1.nope",
    ] {
        api.get(&format!("/api/uploads?{query}"), token)
            .await
            .problem(422);
    }
    assert!(
        !project.app.log().contains("panicked"),
        "{}",
        project.app.log()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn only_the_owner_or_an_admin_sees_an_upload() {
    let project = Project::spawn_with(ProjectOptions {
        env: vec![
            ("SPIN_VARIABLE_ADMIN_EMAIL", "root@example.com".to_owned()),
            (
                "SPIN_VARIABLE_ADMIN_PASSWORD",
                "correct-horse-battery".to_owned(),
            ),
        ],
        ..Default::default()
    })
    .await;
    let api = project.api();
    let (_, alice) = api.user("alice@example.com").await;
    let (_, bob) = api.user("bob@example.com").await;
    let admin = api
        .tokens("root@example.com", "correct-horse-battery")
        .await;

    let mine = api
        .upload(
            &alice.access,
            "a.txt",
            Some("text/plain"),
            b"alice".to_vec(),
        )
        .await;
    let id = mine.ok(201)["id"].as_str().unwrap().to_owned();
    let pending = api
        .post_json(
            "/api/uploads/presign",
            &json!({"filename": "p.txt", "content_type": "text/plain", "size": 3}),
            Some(&alice.access),
        )
        .await;
    let pending_id = pending.ok(200)["upload"]["id"].as_str().unwrap().to_owned();

    // Bob sees nothing of Alice's, not even that it exists.
    let path = format!("/api/uploads/{id}");
    api.get(&path, Some(&bob.access)).await.problem(404);
    api.delete(&path, Some(&bob.access)).await.problem(404);
    api.post_empty(
        &format!("/api/uploads/{pending_id}/complete"),
        Some(&bob.access),
    )
    .await
    .problem(404);
    let list = api.get("/api/uploads", Some(&bob.access)).await;
    assert_eq!(list.ok(200)["items"], json!([]));
    assert_eq!(list.body["next_cursor"], Value::Null);

    // Alice lists both, newest first.
    let list = api.get("/api/uploads", Some(&alice.access)).await;
    let items = list.ok(200)["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["id"], pending_id.as_str());
    assert_eq!(items[0]["status"], "pending");
    assert!(items.iter().all(|item| item.get("download_url").is_none()));

    // The admin reads and deletes it; their own list stays theirs.
    let shown = api.get(&path, Some(&admin.access)).await;
    assert!(shown.ok(200)["download_url"].is_string());
    assert_eq!(
        api.get("/api/uploads", Some(&admin.access)).await.ok(200)["items"],
        json!([])
    );
    assert_eq!(api.delete(&path, Some(&admin.access)).await.status, 204);
    api.get(&path, Some(&alice.access)).await.problem(404);
}

#[tokio::test(flavor = "multi_thread")]
async fn lists_page_with_opaque_cursors() {
    let project = Project::spawn().await;
    let api = project.api();
    let (_, tokens) = api.user("pages@example.com").await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let answer = api
            .upload(
                &tokens.access,
                &format!("{i}.txt"),
                Some("text/plain"),
                vec![b'a'; i],
            )
            .await;
        ids.push(answer.ok(201)["id"].as_str().unwrap().to_owned());
    }
    ids.reverse();
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(cursor) => format!("/api/uploads?limit=2&cursor={cursor}"),
            None => "/api/uploads?limit=2".to_owned(),
        };
        let page = api.get(&path, Some(&tokens.access)).await;
        if page.status != 200 {
            eprintln!("{}", project.app.log());
        }
        let body = page.ok(200);
        seen.extend(
            body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|item| item["id"].as_str().unwrap().to_owned()),
        );
        match body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, ids);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_store_is_503_and_the_rest_of_the_api_works() {
    // Credentials for a store nobody serves.
    let port = common::free_port();
    let project = Project::spawn_with(ProjectOptions {
        env: vec![
            (
                "SPIN_VARIABLE_S3_ENDPOINT",
                format!("http://127.0.0.1:{port}"),
            ),
            ("SPIN_VARIABLE_S3_BUCKET", "app".into()),
            ("SPIN_VARIABLE_S3_ACCESS_KEY_ID", "AKIDEXAMPLE".into()),
            ("SPIN_VARIABLE_S3_SECRET_ACCESS_KEY", "secret".into()),
        ],
        ..Default::default()
    })
    .await;
    let api = project.api();
    let (_, tokens) = api.user("down@example.com").await;
    let answer = api
        .upload(
            &tokens.access,
            "a.txt",
            Some("text/plain"),
            b"hello".to_vec(),
        )
        .await;
    let problem = answer.problem(503);
    assert!(answer.header("retry-after").is_some());
    assert!(
        !problem["detail"].as_str().unwrap().contains("127.0.0.1"),
        "{problem}"
    );
    // The failed upload left a pending record at most (never a ready one).
    let list = api.get("/api/uploads", Some(&tokens.access)).await;
    for item in list.ok(200)["items"].as_array().unwrap() {
        assert_eq!(item["status"], "pending");
    }
    let presigned = api
        .post_json(
            "/api/uploads/presign",
            &json!({"filename": "a.txt", "content_type": "text/plain", "size": 5}),
            Some(&tokens.access),
        )
        .await;
    let id = presigned.ok(200)["upload"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    api.post_empty(&format!("/api/uploads/{id}/complete"), Some(&tokens.access))
        .await
        .problem(503);
    api.delete(&format!("/api/uploads/{id}"), Some(&tokens.access))
        .await
        .problem(503);
    // Auth does not depend on the store.
    api.tokens("down@example.com", "password123").await;
}

// -------------------------------------------------------------------- moto

#[tokio::test(flavor = "multi_thread")]
async fn moto_round_trips_are_byte_exact_up_to_the_limit() {
    let moto = Moto::start().await;
    let limit = 4 * MIB + 3;
    let mut env = moto.env();
    env.extend(limit_env(limit));
    let project = Project::spawn_with(ProjectOptions {
        env,
        ..Default::default()
    })
    .await;
    sizes_round_trip(&project, limit).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn moto_presigned_flow_and_delete() {
    let moto = Moto::start().await;
    let project = Project::spawn_with(ProjectOptions {
        env: moto.env(),
        ..Default::default()
    })
    .await;
    let api = project.api();
    let (_, tokens) = api.user("presign@example.com").await;
    let upload = presigned_round_trip(&api, &tokens, pdf(1_500_000)).await;
    delete_removes_object_and_record(&api, &tokens, &upload).await;
    // Empty files work through presign too.
    let presigned = api
        .post_json(
            "/api/uploads/presign",
            &json!({"filename": "empty.txt", "content_type": "text/plain", "size": 0}),
            Some(&tokens.access),
        )
        .await
        .ok(200)
        .clone();
    let status = api
        .client
        .put(api.absolute(presigned["upload_url"].as_str().unwrap()))
        .header("content-type", "text/plain")
        .header("content-length", "0")
        .send()
        .await
        .unwrap()
        .status();
    assert!(status.is_success());
    let id = presigned["upload"]["id"].as_str().unwrap();
    let done = api
        .post_empty(&format!("/api/uploads/{id}/complete"), Some(&tokens.access))
        .await;
    assert_eq!(done.ok(200)["size"], 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn moto_going_away_is_503_and_a_retried_delete_finishes() {
    let mut moto = Moto::start().await;
    let port = moto.port;
    let project = Project::spawn_with(ProjectOptions {
        env: moto.env(),
        ..Default::default()
    })
    .await;
    let api = project.api();
    let (_, tokens) = api.user("away@example.com").await;
    let first = round_trip(&api, &tokens, b"before".to_vec(), "text/plain").await;
    let id = first["id"].as_str().unwrap();

    moto.kill();
    let answer = api
        .upload(
            &tokens.access,
            "b.txt",
            Some("text/plain"),
            random_bytes(100_000, 9),
        )
        .await;
    answer.problem(503);
    let path = format!("/api/uploads/{id}");
    api.delete(&path, Some(&tokens.access)).await.problem(503);
    // Half-deleted: hidden from reads, the record kept for the retry.
    api.get(&path, Some(&tokens.access)).await.problem(404);
    let list = api.get("/api/uploads", Some(&tokens.access)).await;
    assert!(
        list.ok(200)["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|item| item["id"] != id)
    );
    let db = common::database::connect(&project.db.url).await;
    let status: String = db
        .query_one(
            "SELECT status FROM uploads WHERE id = $1::text::uuid",
            &[&id],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(status, "deleting");
    // The rest of the API is unaffected.
    api.tokens("away@example.com", "password123").await;
    api.get("/api/uploads", Some(&tokens.access)).await.ok(200);

    // The store comes back (empty: moto keeps nothing): the retry finishes.
    let _moto = Moto::start_on(port).await;
    assert_eq!(api.delete(&path, Some(&tokens.access)).await.status, 204);
    let rows: i64 = db
        .query_one(
            "SELECT count(*) FROM uploads WHERE id = $1::text::uuid",
            &[&id],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(rows, 0);
    round_trip(&api, &tokens, b"after".to_vec(), "text/plain").await;
}
