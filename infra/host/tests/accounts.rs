//! Accounts by mail through the host (issue 16): password reset (no
//! enumeration, single use, expiry, every session ended), address
//! verification, `require_verified_email`, and the outbox (a provider that is
//! down loses nothing, and once up gets each message exactly once). Mail is
//! read where it lands: the embedded catcher's directory, or a provider in
//! the test process. No token may appear in anything the host printed.

mod common;

use common::api::{Api, Project, ProjectOptions, tokens_of};
use common::mail::{TestMailApi, caught, token_in, wait_for};
use serde_json::{Value, json};

const PASSWORD: &str = "password123";

async fn reset_request(api: &Api, email: &str) -> common::api::Answer {
    api.post_json("/api/auth/password-reset", &json!({"email": email}), None)
        .await
}

async fn reset_confirm(api: &Api, token: &str, password: &str) -> common::api::Answer {
    api.post_json(
        "/api/auth/password-reset/confirm",
        &json!({"token": token, "password": password}),
        None,
    )
    .await
}

/// The messages to `to`, from the embedded catcher of `project`.
fn mail_to(project: &Project, to: &str) -> Vec<Value> {
    caught(&project.app.state_dir())
        .into_iter()
        .filter(|m| m["To"] == to)
        .collect()
}

/// The app with `SPIN_VARIABLE_{name}` set.
async fn spawn_with_variable(name: &str, value: &str) -> Project {
    let key = format!("SPIN_VARIABLE_{name}");
    Project::spawn_with(ProjectOptions {
        env: vec![(key.as_str(), value.to_owned())],
        ..Default::default()
    })
    .await
}

#[track_caller]
fn assert_not_logged(project: &Project, tokens: &[String]) {
    let output = project.app.output();
    for token in tokens {
        assert!(
            !output.contains(token.as_str()),
            "a token is in the host's output"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn reset_answers_alike_for_unknown_and_known_addresses_and_the_link_works() {
    let project = Project::spawn().await;
    let api = project.api();
    let (_, old) = api.user("ada@example.com").await;

    let unknown = reset_request(&api, "nobody@example.com").await;
    let known = reset_request(&api, "  Ada@Example.com ").await;
    assert_eq!(unknown.status.as_u16(), 202);
    assert_eq!(known.status.as_u16(), 202);
    assert_eq!(unknown.text, known.text, "the same body either way");

    let ada = wait_for(2, || mail_to(&project, "ada@example.com")).await;
    assert!(mail_to(&project, "nobody@example.com").is_empty());
    // Both requests were taken alike and matched after their answers: none
    // is left waiting, and the unknown address got no token.
    let db = common::database::connect(&project.db.url).await;
    let waiting: i64 = db
        .query_one("SELECT count(*) FROM password_reset_requests", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(waiting, 0);
    let tokens: i64 = db
        .query_one(
            "SELECT count(*) FROM account_tokens WHERE purpose = 'password_reset'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(tokens, 1, "one token, for the registered address");
    let reset = ada
        .iter()
        .find(|m| m["Subject"] == "Reset your password")
        .expect("a reset mail");
    let token = token_in(reset);
    assert!(
        reset["TextBody"]
            .as_str()
            .unwrap()
            .contains(&format!("/reset-password#token={token}"))
    );

    // Registration's rules hold for the new password.
    let weak = reset_confirm(&api, &token, "short").await;
    assert!(weak.problem(422)["errors"]["password"].is_array());
    reset_confirm(&api, &token, "a new password").await.ok(204);

    // Every session is over: refresh and access tokens alike.
    api.refresh(&old.refresh).await.problem(401);
    api.get("/api/users/me", Some(&old.access))
        .await
        .problem(401);
    api.login("ada@example.com", PASSWORD).await.problem(401);
    // ... and the user's open pages hear it: one session.revoked per session.
    assert_eq!(session_revoked_events(&project).await, 1);
    let new = tokens_of(&api.login("ada@example.com", "a new password").await);
    let me = api.get("/api/users/me", Some(&new.access)).await;
    assert!(
        me.ok(200)["email_verified_at"].is_string(),
        "the link proved the address"
    );

    // Spent: a second use is refused like a forged token.
    let again = reset_confirm(&api, &token, "another password").await;
    let forged = reset_confirm(&api, &"A".repeat(43), "another password").await;
    let malformed = reset_confirm(&api, "not-a-token", "another password").await;
    again.problem(400);
    assert_eq!(again.text, forged.text);
    assert_eq!(again.text, malformed.text);
    api.login("ada@example.com", "a new password").await.ok(200);
    assert_not_logged(&project, &[token]);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_expired_reset_link_is_refused() {
    let project = spawn_with_variable("PASSWORD_RESET_TTL_SECONDS", "1").await;
    let api = project.api();
    api.register("bo@example.com", PASSWORD, "Bo").await.ok(201);
    reset_request(&api, "bo@example.com").await.ok(202);
    let mail = wait_for(2, || mail_to(&project, "bo@example.com")).await;
    // Delivery runs after each response, so arrival order is not request order.
    let reset = mail.iter().find(|m| m["Subject"] == "Reset your password");
    let token = token_in(reset.expect("a reset mail"));
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    reset_confirm(&api, &token, "a new password")
        .await
        .problem(400);
    api.login("bo@example.com", PASSWORD).await.ok(200);
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_is_a_clear_4xx() {
    let project = Project::spawn().await;
    let api = project.api();
    for (path, body, status) in [
        ("/api/auth/password-reset", json!({}), 422),
        (
            "/api/auth/password-reset",
            json!({"email": "not an address"}),
            422,
        ),
        (
            "/api/auth/password-reset",
            json!({"email": "a@b.c", "x": 1}),
            422,
        ),
        (
            "/api/auth/password-reset/confirm",
            json!({"password": "long enough"}),
            422,
        ),
        (
            "/api/auth/password-reset/confirm",
            json!({"token": 5, "password": "x"}),
            422,
        ),
        ("/api/auth/verify-email", json!({}), 422),
        ("/api/auth/verify-email", json!({"token": "short"}), 400),
    ] {
        let answer = api.post_json(path, &body, None).await;
        answer.problem(status);
    }
    let not_json = api
        .send(
            api.client
                .post(api.url("/api/auth/password-reset"))
                .body("{"),
        )
        .await;
    not_json.problem(415);
    api.post_json("/api/auth/verify-email/resend", &json!({}), None)
        .await
        .problem(401);
}

#[tokio::test(flavor = "multi_thread")]
async fn verification_sets_email_verified_at_and_resend_mails_a_new_link() {
    let project = Project::spawn().await;
    let api = project.api();
    let (user, tokens) = api.user("cy@example.com").await;
    assert!(user["email_verified_at"].is_null());
    let mail = wait_for(1, || mail_to(&project, "cy@example.com")).await;
    assert_eq!(mail[0]["Subject"], "Confirm your email address");

    // A new link: both work until one is used.
    api.post_json(
        "/api/auth/verify-email/resend",
        &json!({}),
        Some(&tokens.access),
    )
    .await
    .ok(202);
    let mail = wait_for(2, || mail_to(&project, "cy@example.com")).await;
    let first = token_in(&mail[0]);
    let second = token_in(&mail[1]);
    assert_ne!(first, second);

    let verify = |token: String| {
        let api = api.clone();
        async move {
            api.post_json("/api/auth/verify-email", &json!({"token": token}), None)
                .await
        }
    };
    verify(second.clone()).await.ok(204);
    let me = api.get("/api/users/me", Some(&tokens.access)).await;
    let stamp = me.ok(200)["email_verified_at"].as_str().unwrap().to_owned();
    assert!(stamp.ends_with('Z'), "{stamp}");
    verify(second.clone()).await.problem(400);
    // Verified already: the older link changes nothing.
    verify(first.clone()).await.ok(204);
    let me = api.get("/api/users/me", Some(&tokens.access)).await;
    assert_eq!(me.ok(200)["email_verified_at"], stamp.as_str());
    assert_not_logged(&project, &[first, second]);
}

#[tokio::test(flavor = "multi_thread")]
async fn with_required_verification_an_unverified_login_is_403_until_verified() {
    let project = spawn_with_variable("REQUIRE_VERIFIED_EMAIL", "true").await;
    let api = project.api();
    api.register("di@example.com", PASSWORD, "Di").await.ok(201);
    let refused = api.login("di@example.com", PASSWORD).await;
    refused.problem(403);
    // Wrong password stays the same 401: a 403 needs the right one.
    api.login("di@example.com", "wrong password")
        .await
        .problem(401);
    // The refusal mailed a new link (the account cannot ask signed in).
    let mail = wait_for(2, || mail_to(&project, "di@example.com")).await;
    let token = token_in(&mail[1]);
    api.post_json("/api/auth/verify-email", &json!({"token": token}), None)
        .await
        .ok(204);
    api.login("di@example.com", PASSWORD).await.ok(200);
}

/// How many `session.revoked` events the events outbox holds.
async fn session_revoked_events(project: &Project) -> i64 {
    let db = common::database::connect(&project.db.url).await;
    db.query_one(
        "SELECT count(*) FROM events WHERE type = 'session.revoked'",
        &[],
    )
    .await
    .unwrap()
    .get(0)
}

/// Rows of the outbox: (recipient, attempts, sent, last_error).
async fn outbox(project: &Project) -> Vec<(String, i32, bool, Option<String>)> {
    let db = common::database::connect(&project.db.url).await;
    db.query(
        "SELECT recipient, attempts, sent_at IS NOT NULL, last_error FROM mail_outbox ORDER BY created_at",
        &[],
    )
    .await
    .unwrap()
    .iter()
    .map(|row| (row.get(0), row.get(1), row.get(2), row.get(3)))
    .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_provider_that_is_down_loses_nothing_and_later_gets_each_message_once() {
    let provider = TestMailApi::start().await;
    provider.set_down(true);
    let project = Project::spawn_with(ProjectOptions {
        env: vec![
            ("SPIN_VARIABLE_MAIL_API_URL", provider.url.clone()),
            ("SPIN_VARIABLE_MAIL_RETRY_SECONDS", "1".to_owned()),
        ],
        ..Default::default()
    })
    .await;
    let api = project.api();
    // The requests succeed although their mail cannot go.
    api.register("ed@example.com", PASSWORD, "Ed").await.ok(201);
    reset_request(&api, "ed@example.com").await.ok(202);
    // Both mails (the reset's is written after its answer, when the request
    // is matched to the account), each tried once.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let rows = outbox(&project).await;
        if rows.len() >= 2 && rows.iter().all(|row| row.3.is_some()) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no attempt was made: {rows:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let rows = outbox(&project).await;
    assert_eq!(rows.len(), 2);
    for (recipient, attempts, sent, error) in &rows {
        assert_eq!(recipient, "ed@example.com");
        assert!(*attempts >= 1 && !sent);
        assert_eq!(error.as_deref(), Some("the mail API answered 503"));
    }
    assert!(provider.messages().is_empty());

    // Up again: once the backoff step (1 s, doubling) is over, sweeps that
    // run at once on many instances deliver each message exactly once.
    provider.set_down(false);
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    let sweeps: Vec<_> = (0..4)
        .map(|i| {
            let api = api.clone();
            tokio::spawn(async move { reset_request(&api, &format!("n{i}@example.com")).await })
        })
        .collect();
    for sweep in sweeps {
        sweep.await.unwrap().ok(202);
    }
    let delivered = wait_for(2, || provider.messages()).await;
    // Later sweeps find nothing due.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    reset_request(&api, "nobody@example.com").await.ok(202);
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(provider.messages().len(), 2, "{delivered:?}");
    let subjects: Vec<&str> = delivered
        .iter()
        .map(|m| m["Subject"].as_str().unwrap())
        .collect();
    assert!(
        subjects.contains(&"Confirm your email address"),
        "{subjects:?}"
    );
    assert!(subjects.contains(&"Reset your password"), "{subjects:?}");
    assert!(
        outbox(&project)
            .await
            .iter()
            .all(|row| row.2 && row.3.is_none())
    );
    let tokens: Vec<String> = delivered.iter().map(token_in).collect();
    assert_not_logged(&project, &tokens);
}
