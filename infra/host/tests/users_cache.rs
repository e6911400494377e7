//! The user cache (`user:{id}` in the key-value store): reads are served
//! from it, every write invalidates it before answering, entries expire on
//! their own, and with the key-value backend down (a private Redis, stopped
//! for real) every endpoint still answers correctly from Postgres and the
//! outage is logged once.

mod common;

use std::time::Duration;

use common::api::{ADMIN_EMAIL, ADMIN_PASSWORD, Project, ProjectOptions, tokens_of, with_admin};
use common::redis::Redis;
use serde_json::json;

async fn rename_behind_the_apis_back(project: &Project, email: &str, name: &str) {
    let db = common::database::connect(&project.db.url).await;
    let changed = db
        .execute(
            "UPDATE users SET name = $1 WHERE email = $2",
            &[&name, &email],
        )
        .await
        .unwrap();
    assert_eq!(changed, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn reads_come_from_the_cache_and_writes_invalidate_it() {
    let project = Project::spawn().await;
    let api = project.api();
    let (user, tokens) = api.user("cached@example.com").await;
    let path = format!("/api/users/{}", user["id"].as_str().unwrap());
    assert_eq!(
        api.get(&path, Some(&tokens.access)).await.ok(200)["name"],
        "Test User"
    );

    // A change the API did not make is not seen: the read is cached.
    rename_behind_the_apis_back(&project, "cached@example.com", "Changed In SQL").await;
    assert_eq!(
        api.get(&path, Some(&tokens.access)).await.ok(200)["name"],
        "Test User"
    );
    assert_eq!(
        api.get("/api/users/me", Some(&tokens.access)).await.ok(200)["name"],
        "Test User"
    );

    // A write through the API invalidates: the very next read is fresh.
    let written = api
        .patch_json("/api/users/me", &json!({"name": "Written"}), &tokens.access)
        .await;
    assert_eq!(written.ok(200)["name"], "Written");
    assert_eq!(
        api.get(&path, Some(&tokens.access)).await.ok(200)["name"],
        "Written"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stale_entry_is_a_miss() {
    let project = Project::spawn_with(ProjectOptions {
        env: vec![("SPIN_VARIABLE_USER_CACHE_SECONDS", "1".to_owned())],
        ..Default::default()
    })
    .await;
    let api = project.api();
    let (_, tokens) = api.user("expiring@example.com").await;
    api.get("/api/users/me", Some(&tokens.access)).await.ok(200);
    rename_behind_the_apis_back(&project, "expiring@example.com", "Fresh").await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(
        api.get("/api/users/me", Some(&tokens.access)).await.ok(200)["name"],
        "Fresh"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn with_the_cache_down_every_endpoint_answers_from_postgres() {
    let mut redis = Redis::start();
    let config_dir = tempfile::tempdir().unwrap();
    let config = redis.runtime_config(config_dir.path());
    let mut options = with_admin();
    options.args = vec![
        "--runtime-config-file".into(),
        config.to_string_lossy().into_owned(),
    ];
    let project = Project::spawn_with(options).await;
    let api = project.api();
    let (user, tokens) = api.user("resilient@example.com").await;
    let admin = api.tokens(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let path = format!("/api/users/{}", user["id"].as_str().unwrap());
    api.get(&path, Some(&admin.access)).await.ok(200);

    redis.kill();
    // Reads, writes, and reads after writes, all correct.
    for round in 0..5 {
        let name = format!("Round {round}");
        api.patch_json("/api/users/me", &json!({"name": name}), &tokens.access)
            .await
            .ok(200);
        assert_eq!(
            api.get("/api/users/me", Some(&tokens.access)).await.ok(200)["name"],
            name
        );
        assert_eq!(
            api.get(&path, Some(&admin.access)).await.ok(200)["name"],
            name
        );
    }
    api.get("/api/users", Some(&admin.access)).await.ok(200);
    api.get("/api/users/me", Some(&tokens.access)).await.ok(200);
    // Auth: register, login, refresh, logout, and the denylist.
    let (_, other) = api.user("during-outage@example.com").await;
    let rotated = tokens_of(&api.refresh(&other.refresh).await);
    api.logout(&rotated).await.ok(204);
    api.get("/api/users/me", Some(&rotated.access))
        .await
        .problem(401);
    // A demotion is seen at once.
    let (deputy, deputy_tokens) = api.user("deputy@example.com").await;
    let deputy_path = format!("/api/users/{}", deputy["id"].as_str().unwrap());
    api.patch_json(&deputy_path, &json!({"role": "admin"}), &admin.access)
        .await
        .ok(200);
    api.get("/api/users", Some(&deputy_tokens.access))
        .await
        .ok(200);
    api.patch_json(&deputy_path, &json!({"role": "user"}), &admin.access)
        .await
        .ok(200);
    api.get("/api/users", Some(&deputy_tokens.access))
        .await
        .problem(403);

    let log = project.app.log();
    let outages = log.matches("key-value store unavailable").count();
    assert_eq!(
        outages, 1,
        "the outage is logged once, not per request:\n{log}"
    );
    assert!(!log.contains("key-value backend error"), "{log}");

    // Back up (empty: this Redis keeps nothing): still correct, and the
    // logged-out token stays refused (its session is revoked in Postgres).
    redis.restart();
    api.get("/api/users/me", Some(&tokens.access)).await.ok(200);
    api.get("/api/users/me", Some(&rotated.access))
        .await
        .problem(401);
    assert_eq!(
        api.get(&path, Some(&admin.access)).await.ok(200)["name"],
        "Round 4"
    );
    // The next probe (at most a second later) finds it back, once.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !project
        .app
        .log()
        .contains("key-value store reachable again")
    {
        assert!(std::time::Instant::now() < deadline, "recovery not noticed");
        api.get("/api/users/me", Some(&tokens.access)).await.ok(200);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        project
            .app
            .log()
            .matches("key-value store unavailable")
            .count(),
        1
    );
}
