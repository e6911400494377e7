//! Issue 19's fault suite, the key-value backend: a private Redis, the
//! app's default store (user cache, access-token denylist), killed mid-load
//! and restarted empty while users read their profile, rename themselves
//! and log sessions out. What a user sees: no request fails (reads fall
//! back to Postgres), a logged-out or otherwise revoked token is refused
//! every time it is tried (before, during and after the outage), and no
//! read ever shows a name older than the last one acknowledged, during the
//! load or after the restart.
//!
//! Each user's requests are sent one at a time (a per-user lock): the test
//! is about the outage, and a user's sequential requests are what make
//! "the last acknowledged name" well defined.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::api::{Api, Project, ProjectOptions, Tokens};
use common::load::{Load, Outcome};
use common::redis::Redis;
use serde_json::json;
use tokio::sync::Mutex;

const USERS: usize = 8;
/// Phases of the fault: before the kill, Redis down, after the restart.
const PHASES: usize = 3;
/// Sessions each user logs out in each phase.
const LOGOUTS_PER_PHASE: usize = 2;
const PASSWORD: &str = "password123";
/// Reads, and tries of revoked tokens, by the phase they started in.
const ME: [&str; PHASES] = ["me", "me, Redis down", "me, after restart"];
const REVOKED: [&str; PHASES] = [
    "revoked token",
    "revoked token, Redis down",
    "revoked token, after restart",
];

struct User {
    id: String,
    main: Tokens,
    /// Every name the server acknowledged, in order.
    names: Vec<String>,
    /// Sessions still to log out.
    spare: Vec<Tokens>,
    /// Sessions logged out: their tokens must be refused from then on.
    revoked: Vec<Tokens>,
    logouts: [usize; PHASES],
}

struct World {
    api: Api,
    users: Vec<Mutex<User>>,
    phase: AtomicUsize,
}

/// Request `n`: user `n % USERS` reads their profile (most often), renames
/// themselves, logs a spare session out, or tries a revoked token.
async fn step(world: Arc<World>, n: u64) -> Outcome {
    let api = &world.api;
    let index = n as usize % USERS;
    let mut user = world.users[index].lock().await;
    let phase = world.phase.load(Ordering::SeqCst);
    // Offset per user, so that users are not all renaming (or all reading)
    // at the same moment.
    match (n / USERS as u64 + index as u64 * 7) % 10 {
        6 | 7 => {
            let name = format!("Name {n}");
            let request = api
                .client
                .patch(api.url("/api/users/me"))
                .bearer_auth(&user.main.access)
                .json(&json!({ "name": name }));
            let result = api.try_send(request).await;
            let outcome = Outcome::of_result("rename", &result);
            if outcome.succeeded() {
                user.names.push(name.clone());
                return outcome.acknowledging(name);
            }
            outcome
        }
        8 if user.logouts[phase] < LOGOUTS_PER_PHASE && !user.spare.is_empty() => {
            let session = user.spare.pop().unwrap();
            let request = api
                .client
                .post(api.url("/api/auth/logout"))
                .bearer_auth(&session.access)
                .json(&json!({ "refresh_token": session.refresh }));
            let outcome = Outcome::of_result("logout", &api.try_send(request).await);
            if outcome.status == Some(204) {
                user.logouts[phase] += 1;
                user.revoked.push(session);
            }
            outcome
        }
        8 | 9 if !user.revoked.is_empty() => {
            let token = &user.revoked[n as usize % user.revoked.len()].access;
            let request = api.client.get(api.url("/api/users/me")).bearer_auth(token);
            Outcome::of_result(REVOKED[phase], &api.try_send(request).await)
        }
        _ => {
            let request = api
                .client
                .get(api.url("/api/users/me"))
                .bearer_auth(&user.main.access);
            let result = api.try_send(request).await;
            match &result {
                // A name other than the last acknowledged one is stale.
                Ok(answer)
                    if answer.status == 200
                        && user.names.last().map(String::as_str)
                            != answer.body["name"].as_str() =>
                {
                    Outcome::of("stale read", answer)
                }
                _ => Outcome::of_result(ME[phase], &result),
            }
        }
    }
}

/// Waits (bounded) until the app has keys starting with each of
/// `prefixes` in Redis: it really uses the store for them.
async fn has_keys(redis: &Redis, prefixes: &[&str]) {
    let client = redis::Client::open(format!("redis://127.0.0.1:{}/0", redis.port)).unwrap();
    let mut connection = client.get_multiplexed_async_connection().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg("*")
            .query_async(&mut connection)
            .await
            .unwrap();
        if prefixes
            .iter()
            .all(|prefix| keys.iter().any(|key| key.starts_with(prefix)))
        {
            return;
        }
        assert!(Instant::now() < deadline, "no {prefixes:?} in {keys:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits (bounded) until `what` appears in the host's log.
async fn logged(project: &Project, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !project.app.log().contains(what) {
        assert!(Instant::now() < deadline, "not logged: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn redis_killed_and_restarted_empty_keeps_reads_and_revocations_right() {
    let mut redis = Redis::start();
    let config_dir = tempfile::tempdir().unwrap();
    let config = redis.runtime_config(config_dir.path());
    let project = Project::spawn_with(ProjectOptions {
        args: vec![
            "--runtime-config-file".into(),
            config.to_string_lossy().into_owned(),
        ],
        ..Default::default()
    })
    .await;
    let api = project.api();

    let mut users = Vec::new();
    for i in 0..USERS {
        let email = format!("user{i}@example.com");
        let (body, main) = api.user(&email).await;
        let mut spare = Vec::new();
        for _ in 0..PHASES * LOGOUTS_PER_PHASE {
            spare.push(api.tokens(&email, PASSWORD).await);
        }
        users.push(Mutex::new(User {
            id: body["id"].as_str().unwrap().to_owned(),
            main,
            names: vec!["Test User".to_owned()],
            spare,
            revoked: Vec::new(),
            logouts: [0; PHASES],
        }));
    }
    // A revocation other than a logout: a password change ends the user's
    // other sessions. Made during the outage, outside the load.
    let (_, changer) = api.user("changer@example.com").await;
    let changer_other = api.tokens("changer@example.com", PASSWORD).await;

    let world = Arc::new(World {
        api: api.clone(),
        users,
        phase: AtomicUsize::new(0),
    });
    let load = {
        let world = world.clone();
        Load::start(USERS, 160, Duration::from_secs(90), move |n| {
            step(world.clone(), n)
        })
    };
    tokio::time::sleep(Duration::from_secs(3)).await;
    // The cache and the denylist really are in Redis before the kill.
    has_keys(&redis, &["user:", "denylist:"]).await;

    // Blocking (it waits for the process): off the runtime's workers.
    tokio::task::block_in_place(|| redis.kill());
    world.phase.store(1, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    api.patch_json(
        "/api/users/me",
        &json!({"password": "a-new-password-1", "current_password": PASSWORD}),
        &changer.access,
    )
    .await
    .ok(200);
    api.get("/api/users/me", Some(&changer_other.access))
        .await
        .problem(401);
    tokio::time::sleep(Duration::from_millis(1500)).await;

    tokio::task::block_in_place(|| redis.restart());
    world.phase.store(2, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_secs(4)).await;
    let report = load.finish().await;
    println!("{} requests:\n{}", report.outcomes.len(), report.summary());

    // Nothing failed: with the store down, reads and writes use Postgres.
    for label in ME.iter().chain(&["rename", "logout"]) {
        report.assert_failures(label, "anything (none expected)", |_| false);
    }
    assert!(ME.iter().all(|label| report.succeeded(label) > 0));
    assert_eq!(report.of("stale read").count(), 0, "{}", report.summary());
    // Every try of a revoked token, in every phase, was refused.
    for label in REVOKED {
        assert_eq!(report.succeeded(label), 0, "{}", report.summary());
        report.assert_failures(label, "401", |o| o.status == Some(401));
        assert!(report.of(label).count() > 0, "{}", report.summary());
    }
    let mut logouts = [0; PHASES];
    for user in &world.users {
        for (phase, n) in user.lock().await.logouts.iter().enumerate() {
            logouts[phase] += n;
        }
    }
    println!("logouts before, during and after the outage: {logouts:?}");
    assert!(logouts.iter().all(|&n| n > 0), "{logouts:?}");
    assert_eq!(
        project
            .app
            .log()
            .matches("key-value store unavailable")
            .count(),
        1
    );

    // Once the host uses the restarted store again (its next probe), the
    // cache fills anew; what it serves must be current, and every
    // revocation still holds though the store forgot the denylist.
    logged(&project, "key-value store reachable again").await;
    let db = common::database::connect(&project.db.url).await;
    for user in &world.users {
        let user = user.lock().await;
        let last = user.names.last().unwrap();
        for _ in 0..2 {
            let me = api.get("/api/users/me", Some(&user.main.access)).await;
            assert_eq!(
                me.ok(200)["name"],
                last.as_str(),
                "stale read after the restart"
            );
        }
        let stored: String = db
            .query_one(
                "SELECT name FROM users WHERE id = $1::text::uuid",
                &[&user.id],
            )
            .await
            .unwrap()
            .get(0);
        assert_eq!(
            &stored, last,
            "the last acknowledged name is what is stored"
        );
        for session in &user.revoked {
            api.get("/api/users/me", Some(&session.access))
                .await
                .problem(401);
            api.refresh(&session.refresh).await.problem(401);
        }
    }
    api.get("/api/users/me", Some(&changer_other.access))
        .await
        .problem(401);
    api.refresh(&changer_other.refresh).await.problem(401);
    api.get("/api/users/me", Some(&changer.access))
        .await
        .ok(200);
    has_keys(&redis, &["user:"]).await;
}
