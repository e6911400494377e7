//! Changing the account's address through the host (issue 16): `PATCH
//! /api/users/me` `{email, current_password}` mails a link to the new
//! address and changes nothing yet; the link's use changes it, verifies it,
//! and tells the old address. Mail is read from the embedded catcher.

mod common;

use common::api::{Answer, Api, Project};
use common::mail::{caught, token_in, wait_for};
use serde_json::{Value, json};

const PASSWORD: &str = "password123";

fn mail(project: &Project, to: &str, subject: &str) -> Vec<Value> {
    caught(&project.app.state_dir())
        .into_iter()
        .filter(|m| m["To"] == to && m["Subject"] == subject)
        .collect()
}

async fn change(api: &Api, access: &str, body: Value) -> Answer {
    api.patch_json("/api/users/me", &body, access).await
}

async fn confirm(api: &Api, token: &str) -> Answer {
    api.post_json(
        "/api/auth/email-change/confirm",
        &json!({"token": token}),
        None,
    )
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn the_address_changes_only_when_the_link_to_it_is_used_and_the_old_one_is_told() {
    let project = Project::spawn().await;
    let api = project.api();
    let (_, tokens) = api.user("ada@example.com").await;
    api.user("bo@example.com").await;
    let access = tokens.access.as_str();

    let refusals = [
        (
            json!({"email": "ada.new@example.com"}),
            422,
            "current_password",
        ),
        (
            json!({"email": "ada.new@example.com", "current_password": "wrong"}),
            422,
            "current_password",
        ),
        (
            json!({"email": "not an address", "current_password": PASSWORD}),
            422,
            "email",
        ),
        (
            json!({"email": "ada@example.com", "current_password": PASSWORD}),
            422,
            "email",
        ),
        (
            json!({"email": "BO@example.com", "current_password": PASSWORD}),
            409,
            "email",
        ),
    ];
    for (body, status, field) in refusals {
        let answer = change(&api, access, body.clone()).await;
        assert!(
            answer.problem(status)["errors"][field].is_array(),
            "{body}: {}",
            answer.text
        );
    }

    let asked = change(
        &api,
        access,
        json!({"email": " Ada.New@Example.com ", "current_password": PASSWORD, "name": "Ada L"}),
    )
    .await;
    assert!(asked.ok(202)["message"].is_string());
    // Nothing moved yet; the other field was applied.
    let me = api.get("/api/users/me", Some(access)).await;
    assert_eq!(me.ok(200)["email"], "ada@example.com");
    assert_eq!(me.body["name"], "Ada L");
    let link = wait_for(1, || {
        mail(
            &project,
            "ada.new@example.com",
            "Confirm your new email address",
        )
    })
    .await;
    let token = token_in(&link[0]);
    assert!(
        link[0]["TextBody"]
            .as_str()
            .unwrap()
            .contains(&format!("/confirm-email#token={token}"))
    );

    confirm(&api, &token).await.ok(204);
    let me = api.get("/api/users/me", Some(access)).await;
    assert_eq!(
        me.ok(200)["email"],
        "ada.new@example.com",
        "the cached user was dropped"
    );
    assert!(
        me.body["email_verified_at"].is_string(),
        "the link proved the address"
    );
    api.login("ada.new@example.com", PASSWORD).await.ok(200);
    api.login("ada@example.com", PASSWORD).await.problem(401);
    let notice = wait_for(1, || {
        mail(
            &project,
            "ada@example.com",
            "Your email address was changed",
        )
    })
    .await;
    for part in ["TextBody", "HtmlBody"] {
        assert!(
            notice[0][part]
                .as_str()
                .unwrap()
                .contains("ada.new@example.com"),
            "{part}"
        );
    }

    // Spent, like every mailed link; forged and malformed are the same 400.
    let again = confirm(&api, &token).await;
    again.problem(400);
    assert_eq!(again.text, confirm(&api, &"A".repeat(43)).await.text);
    assert_eq!(again.text, confirm(&api, "nope").await.text);
    let output = project.app.output();
    assert!(
        !output.contains(token.as_str()),
        "a token is in the host's output"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_address_taken_before_the_link_is_used_is_a_409_and_nothing_changes() {
    let project = Project::spawn().await;
    let api = project.api();
    let (_, tokens) = api.user("cy@example.com").await;
    change(
        &api,
        &tokens.access,
        json!({"email": "wanted@example.com", "current_password": PASSWORD}),
    )
    .await
    .ok(202);
    let link = wait_for(1, || {
        mail(
            &project,
            "wanted@example.com",
            "Confirm your new email address",
        )
    })
    .await;
    api.register("wanted@example.com", PASSWORD, "Quick")
        .await
        .ok(201);
    let taken = confirm(&api, &token_in(&link[0])).await;
    assert!(taken.problem(409)["errors"]["token"].is_array());
    let me = api.get("/api/users/me", Some(&tokens.access)).await;
    assert_eq!(me.ok(200)["email"], "cy@example.com");
    assert!(mail(&project, "cy@example.com", "Your email address was changed").is_empty());
}
