//! TOTP two-factor sign-in through the host (issue 16): enrolment and its
//! confirmation, the login challenge, no replay of a code (also by two
//! requests at once), single-use recovery codes, turning it off, the
//! per-account limit on wrong codes, an admin's reset, the notices by mail,
//! and no secret, code or challenge in anything the host printed. Codes are
//! made by the suite's own RFC 6238 implementation (http_suite::totp).

mod common;

use common::api::{ADMIN_EMAIL, ADMIN_PASSWORD, Answer, Api, Project, tokens_of, with_admin};
use common::mail::{caught, wait_for};
use http_suite::totp::{code_at, now};
use serde_json::{Value, json};

const PASSWORD: &str = "password123";

async fn enrol(api: &Api, access: &str, password: &str) -> Answer {
    api.post_json(
        "/api/auth/totp/enrol",
        &json!({"password": password}),
        Some(access),
    )
    .await
}

async fn confirm(api: &Api, access: &str, code: &str) -> Answer {
    api.post_json(
        "/api/auth/totp/confirm",
        &json!({"code": code}),
        Some(access),
    )
    .await
}

async fn finish(api: &Api, challenge: &str, code: &str) -> Answer {
    api.post_json(
        "/api/auth/login/totp",
        &json!({"challenge": challenge, "code": code}),
        None,
    )
    .await
}

/// Logs in with the password; the challenge of the 202.
async fn challenge(api: &Api, email: &str) -> String {
    let answer = api.login(email, PASSWORD).await;
    let body = answer.ok(202);
    assert_eq!(body["second_factor"], "totp");
    assert_eq!(body["expires_in"], 300);
    assert!(
        body.get("access_token").is_none(),
        "no tokens before the code"
    );
    assert_eq!(answer.header("cache-control"), Some("no-store"));
    body["challenge"].as_str().unwrap().to_owned()
}

/// A user with two-factor sign-in on: their access token, the secret, and
/// the recovery codes.
async fn enrolled(api: &Api, email: &str) -> (String, String, Vec<String>) {
    let (_, tokens) = api.user(email).await;
    let enrolment = enrol(api, &tokens.access, PASSWORD).await;
    let secret = enrolment.ok(201)["secret"].as_str().unwrap().to_owned();
    let codes = confirm(api, &tokens.access, &code_at(&secret, now())).await;
    let codes = codes.ok(200)["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    (tokens.access, secret, codes)
}

fn mail_to(project: &Project, to: &str, subject: &str) -> Vec<Value> {
    caught(&project.app.state_dir())
        .into_iter()
        .filter(|m| m["To"] == to && m["Subject"] == subject)
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn enrol_confirm_log_in_with_a_code_then_a_recovery_code_then_turn_it_off() {
    let project = Project::spawn().await;
    let api = project.api();
    let email = "ada@example.com";
    let (_, tokens) = api.user(email).await;

    // Enrolment needs the password, and shows the secret once.
    let wrong = enrol(&api, &tokens.access, "not my password").await;
    assert!(wrong.problem(422)["errors"]["password"].is_array());
    let enrolment = enrol(&api, &tokens.access, PASSWORD).await;
    let body = enrolment.ok(201).clone();
    assert_eq!(enrolment.header("cache-control"), Some("no-store"));
    let secret = body["secret"].as_str().unwrap().to_owned();
    assert_eq!(secret.len(), 32, "160 bits of base32");
    let uri = body["otpauth_uri"].as_str().unwrap();
    assert!(
        uri.starts_with("otpauth://totp/Spinstack:ada%40example.com?"),
        "{uri}"
    );
    assert!(uri.contains(&format!("secret={secret}")), "{uri}");
    // Not on until confirmed: the password alone still signs in.
    let me = api.get("/api/users/me", Some(&tokens.access)).await;
    assert_eq!(me.ok(200)["totp_enabled"], false);
    api.login(email, PASSWORD).await.ok(200);

    confirm(&api, &tokens.access, "000000 ").await.problem(422);
    let first_code = code_at(&secret, now());
    let confirmed = confirm(&api, &tokens.access, &first_code).await;
    let recovery: Vec<String> = confirmed.ok(200)["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(recovery.len(), 10);
    assert_eq!(confirmed.header("cache-control"), Some("no-store"));
    let me = api.get("/api/users/me", Some(&tokens.access)).await;
    assert_eq!(
        me.ok(200)["totp_enabled"],
        true,
        "the cached user was dropped"
    );
    enrol(&api, &tokens.access, PASSWORD).await.problem(409);
    wait_for(1, || mail_to(&project, email, "Two-factor sign-in is on")).await;

    // The password alone no longer signs in: it answers a challenge.
    let first = challenge(&api, email).await;
    // The confirmation's code was used: within its window it is refused.
    let replayed = finish(&api, &first, &first_code).await;
    assert!(replayed.problem(401)["errors"]["code"].is_array());
    // The next step's code (one step of skew is allowed) signs in.
    let next_code = code_at(&secret, now() + 30);
    let signed_in = finish(&api, &first, &next_code).await;
    let session = tokens_of(&signed_in);
    api.get("/api/users/me", Some(&session.access))
        .await
        .ok(200);
    // The challenge is spent, and the code with it.
    let spent = finish(&api, &first, &code_at(&secret, now() + 30)).await;
    assert!(spent.problem(401)["errors"]["challenge"].is_array());
    let second = challenge(&api, email).await;
    finish(&api, &second, &next_code).await.problem(401);

    // A recovery code works once, typed any which way.
    let typed = format!(" {} ", recovery[0].to_uppercase());
    tokens_of(&finish(&api, &second, &typed).await);
    let third = challenge(&api, email).await;
    finish(&api, &third, &recovery[0]).await.problem(401);

    // A forged, malformed or unknown challenge is one answer.
    let forged = finish(&api, &"A".repeat(43), &code_at(&secret, now())).await;
    let malformed = finish(&api, "nope", &code_at(&secret, now())).await;
    forged.problem(401);
    assert_eq!(forged.text, malformed.text);

    // Off: password and a (recovery) code, then the password alone again.
    let off = json!({"password": PASSWORD, "code": "000000"});
    api.post_json("/api/auth/totp/disable", &off, Some(&session.access))
        .await
        .problem(422);
    let off = json!({"password": PASSWORD, "code": recovery[1]});
    api.post_json("/api/auth/totp/disable", &off, Some(&session.access))
        .await
        .ok(204);
    api.login(email, PASSWORD).await.ok(200);
    let me = api.get("/api/users/me", Some(&session.access)).await;
    assert_eq!(me.ok(200)["totp_enabled"], false);
    wait_for(1, || mail_to(&project, email, "Two-factor sign-in is off")).await;

    // Nothing secret reached the host's output.
    let output = project.app.output();
    for secret in [
        &secret,
        &first,
        &second,
        &next_code,
        &recovery[0],
        &recovery[1],
    ] {
        assert!(
            !output.contains(secret.as_str()),
            "a secret is in the host's output"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_code_sent_twice_at_once_signs_in_once() {
    let project = Project::spawn().await;
    let api = project.api();
    let email = "bo@example.com";
    let (_, secret, _) = enrolled(&api, email).await;
    let (a, b) = (challenge(&api, email).await, challenge(&api, email).await);
    let code = code_at(&secret, now() + 30);
    let (first, second) = tokio::join!(finish(&api, &a, &code), finish(&api, &b, &code));
    let mut statuses = [first.status.as_u16(), second.status.as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 401], "{} / {}", first.text, second.text);
}

#[tokio::test(flavor = "multi_thread")]
async fn five_wrong_codes_lock_the_account_s_codes_for_a_while() {
    let project = Project::spawn().await;
    let api = project.api();
    let email = "cy@example.com";
    let (_, secret, recovery) = enrolled(&api, email).await;
    let pending = challenge(&api, email).await;
    for _ in 0..5 {
        finish(&api, &pending, "123456").await.problem(401);
    }
    // Now even a right code, from a new challenge, waits.
    let other = challenge(&api, email).await;
    let limited = finish(&api, &other, &code_at(&secret, now() + 30)).await;
    limited.problem(429);
    let wait: u64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=900).contains(&wait), "Retry-After {wait}");
    finish(&api, &other, &recovery[0]).await.problem(429);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_admin_resets_a_user_s_two_factor_sign_in() {
    let project = Project::spawn_with(with_admin()).await;
    let api = project.api();
    let admin = api.tokens(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let email = "di@example.com";
    let (access, _, _) = enrolled(&api, email).await;
    let me = api.get("/api/users/me", Some(&access)).await;
    let id = me.ok(200)["id"].as_str().unwrap().to_owned();
    let path = format!("/api/users/{id}/totp");

    let listed = api.get("/api/users", Some(&admin.access)).await;
    let row = listed.ok(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == id.as_str())
        .cloned()
        .unwrap();
    assert_eq!(row["totp_enabled"], true);
    assert!(row["email_verified_at"].is_null());

    // Not by the user themselves, and not for anyone else.
    api.delete(&path, Some(&access)).await.problem(403);
    let (_, other) = api.user("eve@example.com").await;
    api.delete(&path, Some(&other.access)).await.problem(404);
    api.delete(
        "/api/users/00000000-0000-4000-8000-000000000000/totp",
        Some(&admin.access),
    )
    .await
    .problem(404);

    api.delete(&path, Some(&admin.access)).await.ok(204);
    api.login(email, PASSWORD).await.ok(200);
    let user = api
        .get(&format!("/api/users/{id}"), Some(&admin.access))
        .await;
    assert_eq!(user.ok(200)["totp_enabled"], false);
    // Idempotent.
    api.delete(&path, Some(&admin.access)).await.ok(204);
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_is_a_clear_4xx() {
    let project = Project::spawn().await;
    let api = project.api();
    let (_, tokens) = api.user("fay@example.com").await;
    let bearer = Some(tokens.access.as_str());
    for (path, body, auth, status) in [
        ("/api/auth/totp/enrol", json!({}), bearer, 422),
        (
            "/api/auth/totp/enrol",
            json!({"password": PASSWORD}),
            None,
            401,
        ),
        ("/api/auth/totp/enrol", json!({"password": 1}), bearer, 422),
        (
            "/api/auth/totp/confirm",
            json!({"code": "123456"}),
            bearer,
            409,
        ),
        (
            "/api/auth/totp/disable",
            json!({"password": PASSWORD, "code": "1"}),
            bearer,
            409,
        ),
        (
            "/api/auth/totp/disable",
            json!({"password": PASSWORD}),
            bearer,
            422,
        ),
        ("/api/auth/login/totp", json!({}), None, 422),
        (
            "/api/auth/login/totp",
            json!({"challenge": "x", "code": "1", "more": 1}),
            None,
            422,
        ),
        (
            "/api/auth/login/totp",
            json!({"challenge": "x", "code": "123456"}),
            None,
            401,
        ),
    ] {
        let answer = api.post_json(path, &body, auth).await;
        assert_eq!(
            answer.status.as_u16(),
            status,
            "{path} {body}: {}",
            answer.text
        );
        answer.problem(status);
    }
}
