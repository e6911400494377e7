//! Issue 19's fault suite: the host killed with SIGKILL mid-refresh and
//! mid-upload, then started again on the same database and state directory
//! (the embedded store's objects, the key-value store, the JWT secret).
//!
//! A bounded load runs during the kill: refresh rotations, each user's
//! client keeping the one refresh token it has (a refresh that gets no
//! answer leaves it with the old one, as a browser's would), and uploads,
//! every other one about 1 MiB sent in paced chunks so the kill can land
//! mid-body. Chance alone may miss the windows that matter, so four requests
//! are also pinned in flight at the kill: an upload whose body is half sent;
//! an upload whose `ready` is waiting in Postgres behind a row lock the test
//! holds; a refresh whose rotation waits the same way; and a replay of a
//! spent refresh token whose revocation waits the same way. The test lets
//! the held statements go once the host is dead, so they commit with nobody
//! left to answer.
//!
//! Then what a user would check: every load request that failed got no
//! answer (the kill), never a status; each client's current refresh token
//! either refreshes (200) or is a clean 401 problem, and which one follows
//! from whether its unanswered rotation committed; a session ended by a
//! replay refuses its access tokens; every session's token chain is whole;
//! every `ready` upload downloads byte for byte as sent, every acknowledged
//! one is `ready`, the cut one is `pending` without an object and no
//! object is without its record; a new login and a new upload work.
//!
//! The replay found a real fault: the user cache (in the state dir, so it
//! outlives the host) kept accepting the revoked session's access tokens,
//! even after the replay was presented again; `refresh_tokens::rotate` now
//! invalidates it before the revocation as well as after.

mod common;

use std::collections::HashMap;
use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use common::api::{Answer, Api, Project, ProjectOptions, Tokens, tokens_of};
use common::database::connect;
use common::load::{Load, Outcome, Report};
use common::test_bytes::random_bytes;
use futures::StreamExt;
use serde_json::{Value, json};
use tokio::sync::{Mutex, mpsc};

const PASSWORD: &str = "password123";
const MIB: usize = 1024 * 1024;
/// Users whose clients rotate their refresh tokens in the load.
const REFRESHERS: usize = 4;
const WORKERS: usize = 8;
const RATE: u32 = 200;
/// The load's own bound; the test stops it long before.
const LOAD_LIMIT: Duration = Duration::from_secs(120);
/// How long the load runs before and after the kill.
const PHASE: Duration = Duration::from_secs(2);
/// Bounds every wait on the host or on Postgres: only a hang comes near.
const PATIENCE: Duration = Duration::from_secs(60);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// A paced body's chunk and the pause before each (1 MiB takes ~160 ms).
const CHUNK: usize = 64 * 1024;
const PACE: Duration = Duration::from_millis(10);

/// One user's client, as a browser keeps it: the tokens of its last
/// acknowledged login or refresh.
struct Client {
    email: String,
    tokens: Tokens,
    /// Refreshes the server acknowledged.
    acknowledged: usize,
    /// A refresh of the current token got no answer, so the server may
    /// have spent it (the client never saw what replaced it).
    unsure: bool,
}

impl Client {
    async fn log_in(api: &Api, email: &str) -> Client {
        let (_, tokens) = api.user(email).await;
        Client {
            email: email.to_owned(),
            tokens,
            acknowledged: 0,
            unsure: false,
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sigkill_mid_refresh_and_mid_upload_leaves_sessions_and_uploads_consistent() {
    let project = Project::spawn().await;
    let api = project.api();
    let sql = connect(&project.db.url).await;

    let emails: Vec<String> = (0..REFRESHERS)
        .map(|i| format!("refresher-{i}@example.com"))
        .collect();
    let clients: Arc<Vec<Mutex<Client>>> = Arc::new(
        futures::future::join_all(emails.iter().map(|email| Client::log_in(&api, email)))
            .await
            .into_iter()
            .map(Mutex::new)
            .collect(),
    );
    let uploader = Client::log_in(&api, "uploader@example.com").await;
    let pinned_uploader = Client::log_in(&api, "pinned-upload@example.com").await;
    let mut held_refresher = Client::log_in(&api, "pinned-refresh@example.com").await;
    let mut replayed = Client::log_in(&api, "pinned-replay@example.com").await;

    let load = start_load(&api, &clients, &uploader.tokens.access);
    tokio::time::sleep(PHASE).await;

    let pinned = pin(
        &api,
        &sql,
        &project.db.url,
        &pinned_uploader,
        &mut held_refresher,
        &mut replayed,
    )
    .await;

    let Project { app, db } = project;
    let dir = app.kill();
    tokio::time::sleep(PHASE).await;
    // The host is gone: the held statements go on, and commit, without it.
    for lock in pinned.locks {
        lock.release().await;
    }
    until("the dead host's sessions to end", || sessions_gone(&sql)).await;
    let report = load.finish().await;
    println!("load:\n{}", report.summary());
    for (what, answer) in pinned.answers {
        let answer = answer.await.unwrap();
        assert!(answer.is_err(), "{what} was answered: {answer:?}");
    }
    drop(pinned.cut_body);
    check_load(&report);

    let server = server_of(&db.url);
    let project = Project::spawn_with(ProjectOptions {
        database: Some((db, server)),
        dir: Some(dir),
        ..Default::default()
    })
    .await;
    let api = project.api();

    // Sessions: every chain whole; each client's next refresh as its
    // chain says.
    let sessions = families(&sql).await;
    for client in clients.iter() {
        let client = client.lock().await;
        let outcome = next_refresh(&api, &sql, &sessions, &client).await;
        println!("{}: {outcome}", client.email);
    }
    let outcome = next_refresh(&api, &sql, &sessions, &held_refresher).await;
    println!("held refresh: {outcome}");
    check_replayed(&api, &sql, &sessions, &replayed, &pinned.spent).await;
    // The chains again, after the refreshes and replays above.
    families(&sql).await;

    // Uploads: the acknowledged ones, the cut ones and the held one.
    let owners = HashMap::from([
        (uploader.email.clone(), uploader.tokens.access.clone()),
        (
            pinned_uploader.email.clone(),
            pinned_uploader.tokens.access.clone(),
        ),
    ]);
    let rows = check_uploads(&api, &sql, &owners, &report).await;
    let status_of = |id: &str| rows.iter().find(|r| r.id == id).map(|r| r.status.clone());
    assert_eq!(status_of(&pinned.cut_id).as_deref(), Some("pending"));
    println!(
        "held upload: {}",
        status_of(&pinned.held_id).expect("the held upload's record")
    );
    check_objects(&project.app.state_dir(), &rows, &pinned.cut_id);

    // Service as usual: a new login, a new upload with the token from
    // before the kill (the JWT secret is kept in the state dir).
    api.tokens(&uploader.email, PASSWORD).await;
    let bytes = load_file(1);
    let answer = api
        .upload(
            &uploader.tokens.access,
            "after.bin",
            Some("application/octet-stream"),
            bytes.clone(),
        )
        .await;
    let id = answer.ok(201)["id"].as_str().unwrap().to_owned();
    assert!(downloaded(&api, &uploader.tokens.access, &id).await == bytes);
}

/// What is pinned in flight at the kill.
struct Pinned {
    /// The half-sent upload's body: kept open until the host is gone
    /// (dropping it would end the body short).
    cut_body: mpsc::UnboundedSender<Bytes>,
    cut_id: String,
    held_id: String,
    /// The replayed client's first refresh token, spent and presented again.
    spent: String,
    /// The requests, each to get no answer.
    answers: Vec<(
        &'static str,
        tokio::task::JoinHandle<Result<Answer, String>>,
    )>,
    /// The locks holding the held statements in Postgres.
    locks: Vec<RowLock>,
}

/// Sends the pinned requests and returns once each is where the kill
/// should find it: the cut upload's body half sent (its record written),
/// the held upload's object stored and its `ready` waiting for a lock, the
/// held refresh's rotation and the replay's revocation waiting likewise.
async fn pin(
    api: &Api,
    sql: &tokio_postgres::Client,
    db_url: &str,
    uploader: &Client,
    held_refresher: &mut Client,
    replayed: &mut Client,
) -> Pinned {
    let bearer = &uploader.tokens.access;
    let (cut_body, cut) = upload_by_hand(api, bearer, "cut.bin", &cut_file());
    cut_body
        .send(Bytes::from(cut_file()[..CHUNK].to_vec()))
        .unwrap();
    let cut_id = until("the cut upload's record", || pending_upload(sql, "cut.bin")).await;

    let (held_body, held_upload) = upload_by_hand(api, bearer, "held.bin", &held_file());
    held_body
        .send(Bytes::from(held_file()[..CHUNK].to_vec()))
        .unwrap();
    let held_id = until("the held upload's record", || {
        pending_upload(sql, "held.bin")
    })
    .await;
    let ready_lock = RowLock::take(
        db_url,
        "SELECT 1 FROM uploads WHERE id = $1::text::uuid FOR UPDATE",
        &held_id,
    )
    .await;
    held_body
        .send(Bytes::from(held_file()[CHUNK..].to_vec()))
        .unwrap();
    drop(held_body);
    ready_lock.until_blocking(sql).await;

    let rotation_lock = RowLock::take(
        db_url,
        "SELECT 1 FROM refresh_tokens WHERE token_hash = sha256(convert_to($1, 'UTF8')) FOR UPDATE",
        &held_refresher.tokens.refresh,
    )
    .await;
    let held_refresh = in_background(api, refresh_request(api, &held_refresher.tokens.refresh));
    held_refresher.unsure = true;
    rotation_lock.until_blocking(sql).await;

    // The replayed client refreshes once and uses its access token (so its
    // user is cached); then its first, spent, token is presented again.
    let spent = replayed.tokens.refresh.clone();
    replayed.tokens = tokens_of(&api.refresh(&spent).await);
    replayed.acknowledged = 1;
    api.get("/api/users/me", Some(&replayed.tokens.access))
        .await
        .ok(200);
    let revocation_lock = RowLock::take(
        db_url,
        "SELECT 1 FROM refresh_families \
         WHERE user_id = (SELECT id FROM users WHERE email = $1) FOR UPDATE",
        &replayed.email,
    )
    .await;
    let replay = in_background(api, refresh_request(api, &spent));
    revocation_lock.until_blocking(sql).await;

    Pinned {
        cut_body,
        cut_id,
        held_id,
        spent,
        answers: vec![
            ("the cut upload", cut),
            ("the held upload", held_upload),
            ("the held refresh", held_refresh),
            ("the replay", replay),
        ],
        locks: vec![ready_lock, rotation_lock, revocation_lock],
    }
}

/// Refreshes (two in three requests, spread over the clients) and uploads
/// as `uploader`.
fn start_load(api: &Api, clients: &Arc<Vec<Mutex<Client>>>, uploader: &str) -> Load {
    let (api, clients, uploader) = (api.clone(), clients.clone(), Arc::new(uploader.to_owned()));
    Load::start(WORKERS, RATE, LOAD_LIMIT, move |n| {
        let (api, clients, uploader) = (api.clone(), clients.clone(), uploader.clone());
        async move {
            if n % 3 == 2 {
                upload_step(&api, &uploader, n).await
            } else {
                refresh_step(&api, &clients[n as usize % clients.len()]).await
            }
        }
    })
}

/// One refresh of the client's current token; it switches to the new one
/// only when it gets it.
async fn refresh_step(api: &Api, client: &Mutex<Client>) -> Outcome {
    let mut client = client.lock().await;
    let result = api
        .try_send(refresh_request(api, &client.tokens.refresh))
        .await;
    let outcome = Outcome::of_result("refresh", &result);
    match result {
        Ok(answer) if answer.status == 200 => {
            client.tokens = tokens_of(&answer);
            client.acknowledged += 1;
            client.unsure = false;
            outcome.acknowledging(client.email.clone())
        }
        Ok(_) => outcome,
        Err(_) => {
            client.unsure = true;
            outcome
        }
    }
}

async fn upload_step(api: &Api, bearer: &str, n: u64) -> Outcome {
    let bytes = load_file(n);
    let request = api
        .client
        .post(api.url("/api/uploads"))
        .query(&[("filename", format!("load-{n}.bin"))])
        .bearer_auth(bearer)
        .header("content-type", "application/octet-stream")
        .header("content-length", bytes.len().to_string())
        .timeout(REQUEST_TIMEOUT)
        .body(paced(bytes));
    let result = api.try_send(request).await;
    let outcome = Outcome::of_result("upload", &result);
    match &result {
        Ok(answer) if answer.status == 201 => {
            outcome.acknowledging(answer.body["id"].as_str().unwrap_or_default())
        }
        _ => outcome,
    }
}

/// The load saw the kill as a user would: requests that got no answer, and
/// nothing else; before it, everything worked.
fn check_load(report: &Report) {
    for label in ["refresh", "upload"] {
        report.assert_failures(label, "cut by the kill (no answer)", |o| o.status.is_none());
        assert!(
            report.succeeded(label) > 0,
            "no {label} succeeded before the kill\n{}",
            report.summary()
        );
    }
}

fn refresh_request(api: &Api, token: &str) -> reqwest::RequestBuilder {
    api.client
        .post(api.url("/api/auth/refresh"))
        .json(&json!({ "refresh_token": token }))
        .timeout(REQUEST_TIMEOUT)
}

fn in_background(
    api: &Api,
    request: reqwest::RequestBuilder,
) -> tokio::task::JoinHandle<Result<Answer, String>> {
    let api = api.clone();
    tokio::spawn(async move { api.try_send(request).await })
}

/// An upload of `bytes` whose body the test sends chunk by chunk through
/// the returned sender (dropping it ends the body).
fn upload_by_hand(
    api: &Api,
    bearer: &str,
    filename: &str,
    bytes: &[u8],
) -> (
    mpsc::UnboundedSender<Bytes>,
    tokio::task::JoinHandle<Result<Answer, String>>,
) {
    let (sender, mut receiver) = mpsc::unbounded_channel::<Bytes>();
    let chunks =
        futures::stream::poll_fn(move |cx| receiver.poll_recv(cx)).map(Ok::<_, std::io::Error>);
    let request = api
        .client
        .post(api.url("/api/uploads"))
        .query(&[("filename", filename)])
        .bearer_auth(bearer)
        .header("content-type", "application/octet-stream")
        .header("content-length", bytes.len().to_string())
        .timeout(PATIENCE)
        .body(reqwest::Body::wrap_stream(chunks));
    (sender, in_background(api, request))
}

fn paced(bytes: Vec<u8>) -> reqwest::Body {
    let chunks: Vec<Bytes> = bytes.chunks(CHUNK).map(Bytes::copy_from_slice).collect();
    reqwest::Body::wrap_stream(futures::stream::iter(chunks).then(|chunk| async move {
        tokio::time::sleep(PACE).await;
        Ok::<_, std::io::Error>(chunk)
    }))
}

/// The `n`th request's file: every other upload 1 MiB, the rest 16 KiB
/// (a little more, so sizes differ).
fn load_file(n: u64) -> Vec<u8> {
    let len = if (n / 3).is_multiple_of(2) {
        MIB
    } else {
        16 * 1024
    };
    random_bytes(len + (n % 1000) as usize, n)
}

fn cut_file() -> Vec<u8> {
    random_bytes(MIB, 1_000_001)
}

fn held_file() -> Vec<u8> {
    random_bytes(256 * 1024, 1_000_002)
}

/// What the test sent as `filename`.
fn sent_as(filename: &str) -> Vec<u8> {
    match filename {
        "cut.bin" => cut_file(),
        "held.bin" => held_file(),
        _ => {
            let n = filename
                .strip_prefix("load-")
                .and_then(|rest| rest.strip_suffix(".bin"))
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("an upload the test did not send: {filename}"));
            load_file(n)
        }
    }
}

/// A Postgres session holding row locks in an open transaction: the host's
/// statements that need those rows wait in Postgres until it is released.
struct RowLock {
    client: tokio_postgres::Client,
    pid: i32,
}

impl RowLock {
    async fn take(db_url: &str, select_for_update: &str, key: &str) -> RowLock {
        let client = connect(db_url).await;
        let pid = client
            .query_one("SELECT pg_backend_pid()", &[])
            .await
            .unwrap()
            .get(0);
        client.batch_execute("BEGIN").await.unwrap();
        let locked = client.query(select_for_update, &[&key]).await.unwrap();
        assert!(!locked.is_empty(), "nothing to lock: {select_for_update}");
        RowLock { client, pid }
    }

    /// Waits until a statement of the host's waits for this lock (asked on
    /// `sql`, outside the transaction, whose view of the activity would not
    /// change).
    async fn until_blocking(&self, sql: &tokio_postgres::Client) {
        let pid = self.pid;
        until("a statement waiting for the test's lock", || async move {
            let waiting: i64 = sql
                .query_one(
                    "SELECT count(*) FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))",
                    &[&pid],
                )
                .await
                .unwrap()
                .get(0);
            (waiting > 0).then_some(())
        })
        .await;
    }

    async fn release(self) {
        self.client.batch_execute("ROLLBACK").await.unwrap();
    }
}

/// Polls `check` until it gives a value, for up to [`PATIENCE`].
async fn until<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: not within {PATIENCE:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// `Some` once no session but `sql`'s is left on its database (the killed
/// host's have ended, their statements finished or rolled back).
async fn sessions_gone(sql: &tokio_postgres::Client) -> Option<()> {
    let others: i64 = sql
        .query_one(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
             AND backend_type = 'client backend' AND pid <> pg_backend_pid()",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    (others == 0).then_some(())
}

async fn pending_upload(sql: &tokio_postgres::Client, filename: &str) -> Option<String> {
    sql.query_opt(
        "SELECT id::text FROM uploads WHERE filename = $1 AND status = 'pending'",
        &[&filename],
    )
    .await
    .unwrap()
    .map(|row| row.get(0))
}

/// `host:port` of a `postgres://user@host:port/db` URL.
fn server_of(url: &str) -> String {
    let after_user = url.rsplit_once('@').map_or(url, |(_, rest)| rest);
    after_user.split('/').next().unwrap().to_owned()
}

/// One session (refresh family) as stored.
struct Family {
    revoked: bool,
    /// Tokens spent, each by a rotation that committed.
    rotations: usize,
}

/// Every session's chain, checked: it has tokens, exactly one of them
/// unspent (each rotation spends one and adds one), and each token but the
/// first was created by the transaction that spent its predecessor (its
/// `created_at` is that token's `spent_at`: one `now()`). By user email.
async fn families(sql: &tokio_postgres::Client) -> HashMap<String, Vec<Family>> {
    let rows = sql
        .query(
            "SELECT u.email, f.id::text, f.revoked_at IS NOT NULL, \
               (extract(epoch FROM t.created_at) * 1000000)::bigint, \
               (extract(epoch FROM t.spent_at) * 1000000)::bigint \
             FROM refresh_families f JOIN users u ON u.id = f.user_id \
             LEFT JOIN refresh_tokens t ON t.family_id = f.id",
            &[],
        )
        .await
        .unwrap();
    // family id → (email, revoked, created, spent)
    let mut chains: HashMap<String, (String, bool, Vec<i64>, Vec<i64>)> = HashMap::new();
    for row in &rows {
        let chain = chains
            .entry(row.get(1))
            .or_insert_with(|| (row.get(0), row.get(2), Vec::new(), Vec::new()));
        if let Some(created) = row.get::<_, Option<i64>>(3) {
            chain.2.push(created);
        }
        if let Some(spent) = row.get::<_, Option<i64>>(4) {
            chain.3.push(spent);
        }
    }
    let mut by_user: HashMap<String, Vec<Family>> = HashMap::new();
    for (id, (email, revoked, mut created, mut spent)) in chains {
        assert!(!created.is_empty(), "{email}'s session {id} has no token");
        assert_eq!(
            created.len() - spent.len(),
            1,
            "{email}'s session {id}: not exactly one live token"
        );
        created.sort_unstable();
        spent.sort_unstable();
        assert_eq!(
            created[1..],
            spent[..],
            "{email}'s session {id}: a token spent without its successor, or added without \
             spending its predecessor"
        );
        by_user.entry(email).or_default().push(Family {
            revoked,
            rotations: spent.len(),
        });
    }
    by_user
}

/// The one session of `client`'s user, checked against what the client
/// saw: every acknowledged rotation is there, and at most the one that got
/// no answer besides.
fn session_of<'a>(families: &'a HashMap<String, Vec<Family>>, client: &Client) -> &'a Family {
    let [family] = families[&client.email].as_slice() else {
        panic!("{}: not one session", client.email);
    };
    let unanswered = usize::from(client.unsure);
    assert!(
        (client.acknowledged..=client.acknowledged + unanswered).contains(&family.rotations),
        "{}: {} rotations stored, {} acknowledged, {unanswered} unanswered",
        client.email,
        family.rotations,
        client.acknowledged
    );
    family
}

/// Whether the token is stored as spent.
async fn spent(sql: &tokio_postgres::Client, token: &str) -> bool {
    sql.query_one(
        "SELECT spent_at IS NOT NULL FROM refresh_tokens \
         WHERE token_hash = sha256(convert_to($1, 'UTF8'))",
        &[&token],
    )
    .await
    .unwrap()
    .get(0)
}

/// The client's next refresh after the restart: 200 if its token is live
/// (then the new tokens work), a clean 401 if the unanswered rotation spent
/// it (a replay: the session ends, its access token with it).
async fn next_refresh(
    api: &Api,
    sql: &tokio_postgres::Client,
    families: &HashMap<String, Vec<Family>>,
    client: &Client,
) -> &'static str {
    let family = session_of(families, client);
    assert!(!family.revoked, "{}: revoked by nobody", client.email);
    let spent = spent(sql, &client.tokens.refresh).await;
    assert_eq!(
        spent,
        family.rotations > client.acknowledged,
        "{}: the current token is spent exactly when an unanswered rotation committed",
        client.email
    );
    let answer = within(api.refresh(&client.tokens.refresh)).await;
    if spent {
        answer.problem(401);
        within(api.get("/api/users/me", Some(&client.tokens.access)))
            .await
            .problem(401);
        within(api.login(&client.email, PASSWORD)).await.ok(200);
        "its rotation had committed: 401, session ended, a new login works"
    } else {
        let tokens = tokens_of(&answer);
        within(api.get("/api/users/me", Some(&tokens.access)))
            .await
            .ok(200);
        within(api.refresh(&tokens.refresh)).await.ok(200);
        "refreshed"
    }
}

/// The replayed session: if its revocation committed after the kill, the
/// restarted host refuses its access token at once (the user cache must
/// not have outlived the revocation); presenting the spent token again is
/// a clean 401, and after it the session is over either way.
async fn check_replayed(
    api: &Api,
    sql: &tokio_postgres::Client,
    families: &HashMap<String, Vec<Family>>,
    client: &Client,
    spent_token: &str,
) {
    let family = session_of(families, client);
    assert!(spent(sql, spent_token).await);
    let me = within(api.get("/api/users/me", Some(&client.tokens.access))).await;
    if family.revoked {
        me.problem(401);
    } else {
        me.ok(200);
    }
    println!(
        "replay: revocation {}",
        if family.revoked {
            "committed after the kill; the access token is refused"
        } else {
            "did not commit; the access token worked until the replay"
        }
    );
    within(api.refresh(spent_token)).await.problem(401);
    within(api.refresh(&client.tokens.refresh))
        .await
        .problem(401);
    within(api.get("/api/users/me", Some(&client.tokens.access)))
        .await
        .problem(401);
}

/// A request that must be answered: never a hang.
async fn within(request: impl Future<Output = Answer>) -> Answer {
    tokio::time::timeout(PATIENCE, request)
        .await
        .expect("no answer")
}

/// An upload as stored.
struct UploadRow {
    id: String,
    filename: String,
    size: i64,
    status: String,
    owner: String,
}

/// Every stored upload: `ready` ones download exactly as sent, `pending`
/// ones (cut by the kill) have no download and are listed as pending,
/// every acknowledged one is `ready`.
async fn check_uploads(
    api: &Api,
    sql: &tokio_postgres::Client,
    owners: &HashMap<String, String>,
    report: &Report,
) -> Vec<UploadRow> {
    let rows: Vec<UploadRow> = sql
        .query(
            "SELECT up.id::text, up.filename, up.size, up.status, u.email \
             FROM uploads up JOIN users u ON u.id = up.user_id",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| UploadRow {
            id: row.get(0),
            filename: row.get(1),
            size: row.get(2),
            status: row.get(3),
            owner: row.get(4),
        })
        .collect();
    let mut listed = HashMap::new();
    for bearer in owners.values() {
        listed.extend(list_statuses(api, bearer).await);
    }
    for row in &rows {
        let bearer = &owners[&row.owner];
        let shown = within(api.get(&format!("/api/uploads/{}", row.id), Some(bearer))).await;
        let shown = shown.ok(200);
        assert_eq!(shown["status"], row.status.as_str(), "{}", row.filename);
        assert_eq!(
            listed.get(&row.id),
            Some(&row.status),
            "{} listed",
            row.filename
        );
        match row.status.as_str() {
            "ready" => {
                let sent = sent_as(&row.filename);
                assert_eq!(row.size, sent.len() as i64, "{}", row.filename);
                let got = downloaded(api, bearer, &row.id).await;
                assert!(got == sent, "{}: the object differs", row.filename);
            }
            "pending" => assert!(shown.get("download_url").is_none(), "{}", row.filename),
            other => panic!("{}: {other}", row.filename),
        }
    }
    for id in report.acknowledged("upload") {
        let row = rows.iter().find(|r| r.id == id);
        assert_eq!(
            row.map(|r| r.status.as_str()),
            Some("ready"),
            "acknowledged upload {id}"
        );
    }
    let ready = rows.iter().filter(|r| r.status == "ready").count();
    println!(
        "uploads: {ready} ready ({} acknowledged), {} pending",
        report.acknowledged("upload").len(),
        rows.len() - ready
    );
    rows
}

/// The embedded store's files (`<state>/s3/data/<bucket>/<key>`): the cut
/// upload left no object, and no object is without its record.
fn check_objects(state_dir: &Path, rows: &[UploadRow], cut_id: &str) {
    let objects = state_dir.join("s3/data/app/uploads");
    assert!(
        !objects.join(cut_id).exists(),
        "the cut upload's object exists"
    );
    for object in std::fs::read_dir(&objects).unwrap() {
        let name = object.unwrap().file_name().into_string().unwrap();
        assert!(
            rows.iter().any(|r| r.id == name),
            "object {name} has no record"
        );
    }
}

/// Upload id → status, as `GET /api/uploads` lists them, every page.
async fn list_statuses(api: &Api, bearer: &str) -> HashMap<String, String> {
    let mut statuses = HashMap::new();
    let mut path = "/api/uploads?limit=100".to_owned();
    loop {
        let page = within(api.get(&path, Some(bearer))).await;
        let page = page.ok(200);
        for item in page["items"].as_array().unwrap() {
            statuses.insert(
                item["id"].as_str().unwrap().to_owned(),
                item["status"].as_str().unwrap().to_owned(),
            );
        }
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/uploads?limit=100&cursor={cursor}"),
            None => return statuses,
        }
    }
}

/// The upload's bytes through its download URL.
async fn downloaded(api: &Api, bearer: &str, id: &str) -> Vec<u8> {
    let shown = within(api.get(&format!("/api/uploads/{id}"), Some(bearer))).await;
    let url: &Value = &shown.ok(200)["download_url"];
    let response = api
        .client
        .get(api.absolute(url.as_str().expect("a download URL")))
        .timeout(REQUEST_TIMEOUT)
        .send()
        .await
        .expect("download");
    assert_eq!(response.status(), 200, "download of {id}");
    response.bytes().await.unwrap().to_vec()
}
