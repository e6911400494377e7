//! The mailed links as any deployment with a readable catcher answers them
//! (the host's embedded one, the compose stack's `mail` service through
//! `SPINSTACK_MAIL_URL`): a reset link that works once and ends every
//! session, the registration's verification link, and an address change
//! that happens only when the link to the new address is used. Against a
//! deployment that sends real mail they have nothing to read and say so.

use http_suite::accounts::{Account, PASSWORD, send_json};
use http_suite::mail::{token_in, wait_for};
use http_suite::{client, mail_url, url};
use serde_json::{Value, json};

async fn post(path: &str, bearer: Option<&str>, body: Value) -> (u16, Value) {
    send_json(reqwest::Method::POST, path, bearer, || body.clone()).await
}

async fn me(access: &str) -> (u16, Value) {
    let response = client()
        .get(url("/api/users/me"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn catcher() -> Option<String> {
    let found = mail_url();
    if found.is_none() {
        eprintln!("skipped: no mail catcher to read (set SPINSTACK_MAIL_URL)");
    }
    found
}

#[tokio::test]
async fn a_reset_link_works_once_and_ends_every_session() {
    let Some(catcher) = catcher() else { return };
    let account = Account::new("reset-link").await;
    let (status, _) = post(
        "/api/auth/password-reset",
        None,
        json!({"email": account.email}),
    )
    .await;
    assert_eq!(status, 202);
    let mail = wait_for(&catcher, &account.email, "Reset your password", 1).await;
    let token = token_in(&mail[0]);

    let body = json!({"token": token, "password": "a brand new password"});
    let (status, answer) = post("/api/auth/password-reset/confirm", None, body.clone()).await;
    assert_eq!(status, 204, "{answer}");
    let (status, _) = me(&account.access_token).await;
    assert_eq!(status, 401, "the access token of the old session");
    let (status, _) = post(
        "/api/auth/refresh",
        None,
        json!({"refresh_token": account.refresh_token}),
    )
    .await;
    assert_eq!(status, 401, "the refresh token of the old session");
    let (status, again) = post("/api/auth/password-reset/confirm", None, body).await;
    assert_eq!(status, 400, "a second use: {again}");
    let login = json!({"email": account.email, "password": "a brand new password"});
    let (status, tokens) = post("/api/auth/login", None, login).await;
    assert_eq!(status, 200, "{tokens}");
}

#[tokio::test]
async fn the_registration_s_link_verifies_the_address() {
    let Some(catcher) = catcher() else { return };
    let account = Account::new("verify-link").await;
    let (_, user) = me(&account.access_token).await;
    assert!(user["email_verified_at"].is_null(), "{user}");
    let mail = wait_for(&catcher, &account.email, "Confirm your email address", 1).await;
    let (status, answer) = post(
        "/api/auth/verify-email",
        None,
        json!({"token": token_in(&mail[0])}),
    )
    .await;
    assert_eq!(status, 204, "{answer}");
    let (_, user) = me(&account.access_token).await;
    assert!(user["email_verified_at"].is_string(), "{user}");
}

#[tokio::test]
async fn an_address_changes_only_when_the_link_to_it_is_used() {
    let Some(catcher) = catcher() else { return };
    let account = Account::new("change-link").await;
    let new_address = format!("moved-{}", account.email);
    let change = json!({"email": new_address, "current_password": PASSWORD});
    let (status, answer) = send_json(
        reqwest::Method::PATCH,
        "/api/users/me",
        Some(&account.access_token),
        || change.clone(),
    )
    .await;
    assert_eq!(status, 202, "{answer}");
    let (_, user) = me(&account.access_token).await;
    assert_eq!(user["email"], account.email.as_str(), "nothing moved yet");

    let mail = wait_for(&catcher, &new_address, "Confirm your new email address", 1).await;
    let (status, answer) = post(
        "/api/auth/email-change/confirm",
        None,
        json!({"token": token_in(&mail[0])}),
    )
    .await;
    assert_eq!(status, 204, "{answer}");
    let (_, user) = me(&account.access_token).await;
    assert_eq!(user["email"], new_address.as_str());
    let notice = wait_for(
        &catcher,
        &account.email,
        "Your email address was changed",
        1,
    )
    .await;
    assert!(
        notice[0]["TextBody"]
            .as_str()
            .unwrap()
            .contains(&new_address)
    );
}
