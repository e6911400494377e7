//! Issue 19's Postgres faults, each under a bounded load of the app's own
//! requests: the server crashed (SIGKILL to every server process) and
//! started again mid-load, and one table held by a lock for 5 s. Requests
//! that need the database may answer 503 (problem+json, `Retry-After`) or
//! finish; requests that do not are unaffected; every acknowledged write is
//! there afterwards; the pool recovers without a host restart and holds no
//! more connections than the load needs. On a private cluster, so the
//! machine's Postgres (every other test's) never goes down.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::api::{Api, Project, ProjectOptions, Tokens, with_admin};
use common::load::{Load, Outcome, Report};
use common::private_postgres::PrivatePostgres;
use serde_json::json;

/// Load workers per group; each has at most one request in flight, so the
/// pool never needs more connections than all groups' workers together.
const WORKERS: usize = 3;
/// Requests a second per group.
const RATE: u32 = 100;
/// No phase of a test lasts longer than this, whatever the server does.
const LOAD_LIMIT: Duration = Duration::from_secs(120);

struct Users {
    api: Api,
    tokens: Vec<Tokens>,
}

async fn users(project: &Project, count: usize) -> Arc<Users> {
    let api = project.api();
    let mut tokens = Vec::new();
    for n in 0..count {
        tokens.push(api.user(&format!("fault{n}@example.com")).await.1);
    }
    Arc::new(Users { api, tokens })
}

/// Which user sends the `n`th request of a load.
fn user_of(n: u64, users: usize) -> usize {
    n as usize % users
}

/// Uploads, each acknowledged by its id and `n` (its bytes are `upload n`).
fn uploads(users: Arc<Users>) -> Load {
    Load::start(WORKERS, RATE, LOAD_LIMIT, move |n| {
        let users = users.clone();
        async move {
            let tokens = &users.tokens[user_of(n, users.tokens.len())];
            let request = users
                .api
                .client
                .post(users.api.url("/api/uploads"))
                .query(&[("filename", format!("{n}.txt"))])
                .bearer_auth(&tokens.access)
                .header("content-type", "text/plain")
                .body(format!("upload {n}").into_bytes());
            let result = users.api.try_send(request).await;
            let outcome = Outcome::of_result("upload", &result);
            match result {
                Ok(answer) if answer.status == 201 => {
                    let id = answer.body["id"].as_str().unwrap_or_default().to_owned();
                    outcome.acknowledging(format!("{id} {n}"))
                }
                _ => outcome,
            }
        }
    })
}

/// Renames (the users table), each acknowledged by the name, `Name n`.
fn renames(users: Arc<Users>) -> Load {
    Load::start(WORKERS, RATE, LOAD_LIMIT, move |n| {
        let users = users.clone();
        async move {
            let tokens = &users.tokens[user_of(n, users.tokens.len())];
            let name = format!("Name {n}");
            let request = users
                .api
                .client
                .patch(users.api.url("/api/users/me"))
                .bearer_auth(&tokens.access)
                .json(&json!({ "name": name }));
            let result = users.api.try_send(request).await;
            let outcome = Outcome::of_result("rename", &result);
            match result {
                Ok(answer) if answer.status == 200 => outcome.acknowledging(name),
                _ => outcome,
            }
        }
    })
}

/// What needs no database: the web app's files.
fn static_reads(api: Api) -> Load {
    Load::start(WORKERS, RATE, LOAD_LIMIT, move |n| {
        let api = api.clone();
        async move {
            let path = if n % 2 == 0 { "/" } else { "/favicon.svg" };
            let result = api.try_send(api.client.get(api.url(path))).await;
            Outcome::of_result("static", &result)
        }
    })
}

/// Everything a failure of a database-backed request may be.
fn database_failure(outcome: &Outcome) -> bool {
    outcome.is_retryable_problem()
}

/// Every acknowledged upload is `ready` with its bytes; every user's name is
/// the last rename acknowledged for them (a rename whose answer was lost
/// may have landed too, so it is "one of the renames sent after the last
/// acknowledged one, or that one").
async fn assert_acknowledged_writes_kept(users: &Users, report: &Report) {
    for acknowledged in report.acknowledged("upload") {
        let (id, n) = acknowledged.split_once(' ').unwrap();
        let tokens = &users.tokens[user_of(n.parse().unwrap(), users.tokens.len())];
        let answer = users
            .api
            .get(&format!("/api/uploads/{id}"), Some(&tokens.access))
            .await;
        let upload = answer.ok(200);
        assert_eq!(upload["status"], "ready", "acknowledged upload {upload}");
        let download = users.api.absolute(upload["download_url"].as_str().unwrap());
        let bytes = users
            .api
            .client
            .get(download)
            .bearer_auth(&tokens.access)
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        assert_eq!(bytes, format!("upload {n}").as_bytes(), "upload {id}");
    }
    let renames = report.acknowledged("rename");
    for (index, tokens) in users.tokens.iter().enumerate() {
        let mine = |name: &String| {
            let n = name.trim_start_matches("Name ").parse().unwrap();
            user_of(n, users.tokens.len()) == index
        };
        let Some(last) = renames
            .iter()
            .filter(|name| mine(name))
            .max_by_key(|name| name.trim_start_matches("Name ").parse::<u64>().unwrap())
        else {
            continue;
        };
        let last_n: u64 = last.trim_start_matches("Name ").parse().unwrap();
        let me = users.api.get("/api/users/me", Some(&tokens.access)).await;
        let name = me.ok(200)["name"].as_str().unwrap().to_owned();
        assert!(
            mine(&name),
            "user {index} is named {name:?}, a name never sent to them"
        );
        let now_n: u64 = name.trim_start_matches("Name ").parse().unwrap();
        assert!(
            now_n >= last_n,
            "user {index}: name {name:?} is older than the acknowledged {last:?}"
        );
    }
}

/// After the fault: a burst of every kind of request succeeds at once.
async fn assert_serving(users: &Users) {
    for tokens in &users.tokens {
        users
            .api
            .get("/api/users/me", Some(&tokens.access))
            .await
            .ok(200);
        users
            .api
            .get("/api/uploads", Some(&tokens.access))
            .await
            .ok(200);
        users
            .api
            .upload(
                &tokens.access,
                "after.txt",
                Some("text/plain"),
                b"after".to_vec(),
            )
            .await
            .ok(201);
    }
}

/// The three loads of every test: uploads, renames and static reads, each
/// with its own workers (a write held by the fault does not hold up the
/// others).
struct AppLoad {
    uploads: Load,
    renames: Load,
    statics: Load,
}

impl AppLoad {
    fn start(project: &Project, users: &Arc<Users>) -> AppLoad {
        AppLoad {
            uploads: uploads(users.clone()),
            renames: renames(users.clone()),
            statics: static_reads(project.api()),
        }
    }

    /// The writes' report, the static reads' and both summaries.
    async fn finish(self) -> (Report, Report, String) {
        let mut writes = self.uploads.finish().await;
        writes.outcomes.extend(self.renames.finish().await.outcomes);
        let statics = self.statics.finish().await;
        let summary = format!("{}{}", writes.summary(), statics.summary());
        (writes, statics, summary)
    }
}

async fn project_on(cluster: &PrivatePostgres) -> Project {
    let mut options: ProjectOptions = with_admin();
    options.database = Some(cluster.app_database().await);
    Project::spawn_with(options).await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_crashed_server_costs_only_retryable_503s_and_the_pool_recovers() {
    let cluster = PrivatePostgres::start();
    let project = project_on(&cluster).await;
    let users = users(&project, 4).await;

    let load = AppLoad::start(&project, &users);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let sessions_before = cluster.sessions("app").await;

    tokio::task::block_in_place(|| cluster.kill());
    // The load runs on the outage for a while, then on the restarted server.
    tokio::time::sleep(Duration::from_secs(3)).await;
    tokio::task::block_in_place(|| cluster.restart());
    let restarted = std::time::Instant::now();
    tokio::time::sleep(Duration::from_secs(4)).await;
    let (writes, statics, summary) = load.finish().await;
    eprintln!("load during the crash:\n{summary}");

    statics.assert_failures("static", "any failure at all", |_| false);
    for label in ["upload", "rename"] {
        writes.assert_failures(label, "a 503 with Retry-After", database_failure);
        assert!(
            !writes.failed(label).is_empty(),
            "no {label} failed while the server was down: was it down?\n{summary}"
        );
        assert!(
            !writes.acknowledged(label).is_empty(),
            "no {label} was acknowledged\n{summary}"
        );
    }
    // Acknowledged after the restart too: the pool recovered by itself.
    for label in ["upload", "rename"] {
        assert!(
            writes
                .of(label)
                .any(|o| o.acknowledged.is_some() && o.at > restarted),
            "no {label} acknowledged after the restart\n{summary}"
        );
    }

    assert_serving(&users).await;
    assert_acknowledged_writes_kept(&users, &writes).await;

    let sessions_after = cluster.sessions("app").await;
    eprintln!("database sessions: {sessions_before} before the crash, {sessions_after} after");
    let bound = (3 * WORKERS + 2) as i64;
    assert!(
        sessions_before <= bound && sessions_after <= bound,
        "more sessions than the load needs ({sessions_before} before, {sessions_after} after, bound {bound})"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_table_locked_for_5_s_delays_only_what_needs_it() {
    let cluster = PrivatePostgres::start();
    let project = project_on(&cluster).await;
    let users = users(&project, 4).await;

    let load = AppLoad::start(&project, &users);
    tokio::time::sleep(Duration::from_secs(1)).await;

    // Uploads wait on the lock; renames (the users table) do not.
    let locker = common::database::connect(&cluster.url("app")).await;
    locker
        .batch_execute(
            "BEGIN; LOCK TABLE uploads IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(5); COMMIT",
        )
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (writes, statics, summary) = load.finish().await;
    eprintln!("load during the lock:\n{summary}");

    statics.assert_failures("static", "any failure at all", |_| false);
    writes.assert_failures("rename", "any failure at all", |_| false);
    writes.assert_failures("upload", "a 503 with Retry-After", database_failure);
    assert_serving(&users).await;
    assert_acknowledged_writes_kept(&users, &writes).await;
}
