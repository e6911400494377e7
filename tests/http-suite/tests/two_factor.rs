//! TOTP two-factor sign-in as any deployment answers it (openapi.yaml,
//! `enrolTotp`, `confirmTotp`, `loginWithTotp`): enrolment confirmed with a
//! first code, the login's 202 challenge, a code refused the second time
//! (even within its 30 s), the next step's code accepted, and a recovery
//! code that works once. Codes come from the suite's own RFC 6238 code
//! (http_suite::totp). About a dozen auth requests: past the gateway's
//! burst of 5 they wait out its `Retry-After`, so this takes a minute or
//! two behind a rate-limited gateway.

use http_suite::accounts::{Account, PASSWORD, send_json};
use http_suite::totp::{code_at, now};
use serde_json::{Value, json};

async fn call(path: &str, bearer: Option<&str>, body: impl Fn() -> Value) -> (u16, Value) {
    send_json(reqwest::Method::POST, path, bearer, body).await
}

async fn challenge(account: &Account) -> String {
    let (status, body) = call(
        "/api/auth/login",
        None,
        || json!({"email": account.email, "password": PASSWORD}),
    )
    .await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["second_factor"], "totp", "{body}");
    body["challenge"].as_str().expect("a challenge").to_owned()
}

async fn finish(challenge: &str, code: impl Fn() -> String) -> (u16, Value) {
    call(
        "/api/auth/login/totp",
        None,
        || json!({"challenge": challenge, "code": code()}),
    )
    .await
}

#[tokio::test]
async fn a_login_with_two_factor_on_takes_a_fresh_code_or_an_unused_recovery_code() {
    let account = Account::new("totp").await;
    let bearer = Some(account.access_token.as_str());
    let (status, enrolment) = call(
        "/api/auth/totp/enrol",
        bearer,
        || json!({"password": PASSWORD}),
    )
    .await;
    assert_eq!(status, 201, "{enrolment}");
    let secret = enrolment["secret"].as_str().unwrap().to_owned();
    assert!(
        enrolment["otpauth_uri"]
            .as_str()
            .unwrap()
            .starts_with("otpauth://totp/")
    );

    let first_code = code_at(&secret, now());
    let (status, confirmed) = call(
        "/api/auth/totp/confirm",
        bearer,
        || json!({"code": first_code}),
    )
    .await;
    assert_eq!(status, 200, "{confirmed}");
    let recovery = confirmed["recovery_codes"][0].as_str().unwrap().to_owned();

    let pending = challenge(&account).await;
    let (status, refused) = finish(&pending, || first_code.clone()).await;
    assert_eq!(status, 401, "a used code again: {refused}");
    assert!(refused["errors"]["code"].is_array(), "{refused}");
    // One step of skew is allowed: the next step's code is fresh.
    let (status, tokens) = finish(&pending, || code_at(&secret, now() + 30)).await;
    assert_eq!(status, 200, "{tokens}");
    assert!(tokens["access_token"].is_string(), "{tokens}");

    let pending = challenge(&account).await;
    let (status, tokens) = finish(&pending, || recovery.clone()).await;
    assert_eq!(status, 200, "{tokens}");
    let pending = challenge(&account).await;
    let (status, refused) = finish(&pending, || recovery.clone()).await;
    assert_eq!(status, 401, "a recovery code works once: {refused}");
}
