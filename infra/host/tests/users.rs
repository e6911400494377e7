//! The Users rows of API.md through the host against the real services:
//! profile reads and updates, the authorisation matrix of every route, the
//! admin list's keyset pagination under concurrent inserts, the last-admin
//! rule, deletes, and bad ids and bodies as 4xx.

mod common;

use common::api::{ADMIN_EMAIL, ADMIN_PASSWORD, Api, Project, Tokens, tokens_of, with_admin};
use serde_json::{Value, json};

async fn admin(api: &Api) -> Tokens {
    api.tokens(ADMIN_EMAIL, ADMIN_PASSWORD).await
}

fn id_of(user: &Value) -> String {
    user["id"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn me_reads_and_updates_the_callers_profile() {
    let project = Project::spawn().await;
    let api = project.api();
    let (user, tokens) = api.user("ada@example.com").await;
    let me = api.get("/api/users/me", Some(&tokens.access)).await;
    assert_eq!(me.ok(200), &user);

    let renamed = api
        .patch_json(
            "/api/users/me",
            &json!({"name": "  Ada Lovelace "}),
            &tokens.access,
        )
        .await;
    let body = renamed.ok(200).clone();
    assert_eq!(body["name"], "Ada Lovelace");
    assert_ne!(body["updated_at"], user["updated_at"]);
    assert_eq!(body["created_at"], user["created_at"]);
    // Read right after the write: never the old value.
    let again = api.get("/api/users/me", Some(&tokens.access)).await;
    assert_eq!(again.ok(200)["name"], "Ada Lovelace");
    let one = api
        .get(
            &format!("/api/users/{}", id_of(&user)),
            Some(&tokens.access),
        )
        .await;
    assert_eq!(one.ok(200)["name"], "Ada Lovelace");

    for (body, field) in [
        (json!({}), "name"),
        (json!({"name": ""}), "name"),
        (json!({"name": "x".repeat(101)}), "name"),
        // The bound is on the name as sent, padding included (the contract's
        // maxLength), and control characters include C1 ones (U+0080-009F).
        (json!({"name": format!(" {} ", "x".repeat(99))}), "name"),
        (json!({"name": "Ada\u{85}"}), "name"),
        // `null` is refused, not read as absent (found by the contract fuzz:
        // it kept the name and answered 200).
        (json!({"name": null}), "name"),
        (json!({"name": "Ada", "password": null}), "password"),
        (
            json!({"name": "Ada", "password": "new-password-1", "current_password": null}),
            "current_password",
        ),
        (json!({"password": "new-password-1"}), "current_password"),
        (
            json!({"password": "short", "current_password": "password123"}),
            "password",
        ),
    ] {
        let answer = api.patch_json("/api/users/me", &body, &tokens.access).await;
        let problem = answer.problem(422);
        assert!(
            problem["errors"][field].is_array(),
            "{body}: {}",
            answer.text
        );
    }
    // Nobody promotes themselves: unknown fields are refused.
    let answer = api
        .patch_json("/api/users/me", &json!({"role": "admin"}), &tokens.access)
        .await;
    answer.problem(422);
    let me = api.get("/api/users/me", Some(&tokens.access)).await;
    assert_eq!(me.ok(200)["role"], "user");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_password_change_ends_the_other_sessions_and_keeps_this_one() {
    let project = Project::spawn().await;
    let api = project.api();
    let (_, current) = api.user("grace@example.com").await;
    let other = api.tokens("grace@example.com", "password123").await;

    let wrong = api
        .patch_json(
            "/api/users/me",
            &json!({"password": "new-password-1", "current_password": "password124"}),
            &current.access,
        )
        .await;
    assert!(wrong.problem(422)["errors"]["current_password"].is_array());
    // Nothing changed: the other session still works.
    api.get("/api/users/me", Some(&other.access)).await.ok(200);

    api.patch_json(
        "/api/users/me",
        &json!({"password": "new-password-1", "current_password": "password123"}),
        &current.access,
    )
    .await
    .ok(200);
    // The other session is over: its access token and its refresh token.
    api.get("/api/users/me", Some(&other.access))
        .await
        .problem(401);
    api.refresh(&other.refresh).await.problem(401);
    // This one goes on.
    api.get("/api/users/me", Some(&current.access))
        .await
        .ok(200);
    let next = tokens_of(&api.refresh(&current.refresh).await);
    api.get("/api/users/me", Some(&next.access)).await.ok(200);
    // Only the new password logs in.
    api.login("grace@example.com", "password123")
        .await
        .problem(401);
    api.tokens("grace@example.com", "new-password-1").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn every_route_answers_anonymous_user_other_user_and_admin_as_specified() {
    let project = Project::spawn_with(with_admin()).await;
    let api = project.api();
    let admin = admin(&api).await;
    let (alice, alice_tokens) = api.user("alice@example.com").await;
    let (bob, bob_tokens) = api.user("bob@example.com").await;
    let alice_path = format!("/api/users/{}", id_of(&alice));

    // Anonymous: 401 everywhere.
    for (method, path) in [
        ("GET", "/api/users/me"),
        ("PATCH", "/api/users/me"),
        ("GET", "/api/users"),
        ("GET", alice_path.as_str()),
        ("PATCH", alice_path.as_str()),
        ("DELETE", alice_path.as_str()),
    ] {
        let request = api
            .client
            .request(method.parse().unwrap(), api.url(path))
            .json(&json!({"name": "x"}));
        api.send(request).await.problem(401);
    }

    // Another user: the user is invisible (404), admin routes are 403.
    api.get(&alice_path, Some(&bob_tokens.access))
        .await
        .problem(404);
    api.delete(&alice_path, Some(&bob_tokens.access))
        .await
        .problem(404);
    api.patch_json(&alice_path, &json!({"name": "x"}), &bob_tokens.access)
        .await
        .problem(403);
    api.get("/api/users", Some(&bob_tokens.access))
        .await
        .problem(403);

    // Self: read yes, admin update no.
    api.get(&alice_path, Some(&alice_tokens.access))
        .await
        .ok(200);
    api.patch_json(&alice_path, &json!({"role": "admin"}), &alice_tokens.access)
        .await
        .problem(403);

    // Admin: everything.
    assert_eq!(
        api.get(&alice_path, Some(&admin.access)).await.ok(200),
        &alice
    );
    let list = api.get("/api/users", Some(&admin.access)).await;
    assert_eq!(list.ok(200)["items"].as_array().unwrap().len(), 3);
    let renamed = api
        .patch_json(&alice_path, &json!({"name": "Alice A."}), &admin.access)
        .await;
    assert_eq!(renamed.ok(200)["name"], "Alice A.");
    api.delete(&format!("/api/users/{}", id_of(&bob)), Some(&admin.access))
        .await
        .ok(204);
    api.get("/api/users/me", Some(&bob_tokens.access))
        .await
        .problem(401);
}

#[tokio::test(flavor = "multi_thread")]
async fn ids_that_are_not_uuids_or_unknown_are_404_never_500() {
    let project = Project::spawn_with(with_admin()).await;
    let api = project.api();
    let admin = admin(&api).await;
    for id in [
        "not-a-uuid",
        "1",
        "%00",
        "00000000-0000-0000-0000-000000000000",
        "'%20OR%201=1",
        &uuid::Uuid::new_v4().to_string(),
    ] {
        let path = format!("/api/users/{id}");
        api.get(&path, Some(&admin.access)).await.problem(404);
        api.delete(&path, Some(&admin.access)).await.problem(404);
        api.patch_json(&path, &json!({"name": "x"}), &admin.access)
            .await
            .problem(404);
    }
    api.get("/api/users/a/b", Some(&admin.access))
        .await
        .problem(404);
    let wrong = api
        .send(
            api.client
                .post(api.url("/api/users/me"))
                .bearer_auth(&admin.access),
        )
        .await;
    wrong.problem(405);
    // Bodies: malformed, wrong type, bad values.
    let me = "/api/users/me";
    let cases = [
        (
            api.client
                .patch(api.url(me))
                .header("content-type", "application/json")
                .body("{"),
            400,
        ),
        (
            api.client
                .patch(api.url(me))
                .header("content-type", "text/plain")
                .body("{}"),
            415,
        ),
        (api.client.patch(api.url(me)).json(&json!({"name": 7})), 422),
    ];
    for (request, status) in cases {
        api.send(request.bearer_auth(&admin.access))
            .await
            .problem(status);
    }
    let (user, _) = api.user("target@example.com").await;
    let path = format!("/api/users/{}", id_of(&user));
    for body in [
        json!({"role": "root"}),
        json!({}),
        json!({"name": " "}),
        json!({"email": "x@y.z"}),
    ] {
        api.patch_json(&path, &body, &admin.access)
            .await
            .problem(422);
    }
    for query in ["limit=0", "limit=101", "limit=x", "cursor=bogus", "cursor="] {
        api.get(&format!("/api/users?{query}"), Some(&admin.access))
            .await
            .problem(422);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_admin_list_pages_without_duplicates_or_gaps_under_concurrent_inserts() {
    let project = Project::spawn_with(with_admin()).await;
    let api = project.api();
    let admin = admin(&api).await;
    let mut existing = vec![ADMIN_EMAIL.to_owned()];
    for i in 0..23 {
        let email = format!("user{i:02}@example.com");
        api.register(&email, "password123", "U").await.ok(201);
        existing.push(email);
    }
    let mut seen: Vec<String> = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/users?limit=5&cursor={c}"),
            None => "/api/users?limit=5".to_owned(),
        };
        let page = api.get(&path, Some(&admin.access)).await;
        let body = page.ok(200).clone();
        let items = body["items"].as_array().unwrap();
        assert!(items.len() <= 5);
        seen.extend(
            items
                .iter()
                .map(|u| u["email"].as_str().unwrap().to_owned()),
        );
        pages += 1;
        // Others sign up while the admin pages through.
        api.register(&format!("late{pages}@example.com"), "password123", "L")
            .await
            .ok(201);
        match body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
        assert!(pages < 50, "pagination does not end");
    }
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), seen.len(), "duplicates: {seen:?}");
    for email in &existing {
        assert!(seen.contains(email), "{email} was skipped");
    }
    // Default and maximum limits.
    let all = api.get("/api/users?limit=100", Some(&admin.access)).await;
    // Newest first: the sign-ups made while paging sort before the first
    // page, so the walk saw exactly the users that existed when it began;
    // a fresh listing has them all, the latest first.
    assert_eq!(seen.len(), existing.len());
    assert_eq!(
        all.ok(200)["items"].as_array().unwrap().len(),
        existing.len() + pages
    );
    let newest = all.body["items"][0]["email"].as_str().unwrap();
    assert_eq!(newest, format!("late{pages}@example.com"));
    let default = api.get("/api/users", Some(&admin.access)).await;
    assert_eq!(default.ok(200)["items"].as_array().unwrap().len(), 20);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_demoted_admin_loses_admin_rights_on_the_next_request() {
    let project = Project::spawn_with(with_admin()).await;
    let api = project.api();
    let root = admin(&api).await;
    let (deputy, deputy_tokens) = api.user("deputy@example.com").await;
    let deputy_path = format!("/api/users/{}", id_of(&deputy));

    api.get("/api/users", Some(&deputy_tokens.access))
        .await
        .problem(403);
    // `null` is refused, not read as "keep the role".
    let null_role = api
        .patch_json(&deputy_path, &json!({"role": null}), &root.access)
        .await;
    assert!(null_role.problem(422)["errors"]["role"].is_array());
    let promoted = api
        .patch_json(&deputy_path, &json!({"role": "admin"}), &root.access)
        .await;
    assert_eq!(promoted.ok(200)["role"], "admin");
    // The same access token: the role comes from the (invalidated) cache.
    api.get("/api/users", Some(&deputy_tokens.access))
        .await
        .ok(200);
    assert_eq!(
        api.get("/api/users/me", Some(&deputy_tokens.access))
            .await
            .ok(200)["role"],
        "admin"
    );

    api.patch_json(&deputy_path, &json!({"role": "user"}), &root.access)
        .await
        .ok(200);
    api.get("/api/users", Some(&deputy_tokens.access))
        .await
        .problem(403);
    assert_eq!(
        api.get(&deputy_path, Some(&root.access)).await.ok(200)["role"],
        "user"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_last_admin_can_be_neither_demoted_nor_deleted() {
    let project = Project::spawn_with(with_admin()).await;
    let api = project.api();
    let root = admin(&api).await;
    let me = api
        .get("/api/users/me", Some(&root.access))
        .await
        .ok(200)
        .clone();
    let root_path = format!("/api/users/{}", id_of(&me));
    api.patch_json(&root_path, &json!({"role": "user"}), &root.access)
        .await
        .problem(409);
    api.delete(&root_path, Some(&root.access))
        .await
        .problem(409);
    // Renaming the last admin is fine; so is "demoting" them to admin.
    api.patch_json(
        &root_path,
        &json!({"name": "Root", "role": "admin"}),
        &root.access,
    )
    .await
    .ok(200);

    // With a second admin, either may go, but not both at once: two admins
    // demoting each other concurrently leave exactly one admin. (The loser
    // is refused by the last-admin rule, 409, or, if the winner's change
    // landed before its request was authenticated, as a non-admin, 403.)
    let (second, second_tokens) = api.user("second@example.com").await;
    let second_path = format!("/api/users/{}", id_of(&second));
    let demote = json!({"role": "user"});
    let promote = json!({"role": "admin"});
    for round in 0..5 {
        // Whoever is the admin now makes both admins.
        let root_is_admin =
            api.get("/api/users/me", Some(&root.access)).await.ok(200)["role"] == "admin";
        let promoter = if root_is_admin { &root } else { &second_tokens };
        api.patch_json(&second_path, &promote, &promoter.access)
            .await
            .ok(200);
        api.patch_json(&root_path, &promote, &promoter.access)
            .await
            .ok(200);
        let (a, b) = tokio::join!(
            api.patch_json(&second_path, &demote, &root.access),
            api.patch_json(&root_path, &demote, &second_tokens.access),
        );
        let mut statuses = [a.status.as_u16(), b.status.as_u16()];
        statuses.sort();
        assert!(
            statuses == [200, 403] || statuses == [200, 409],
            "round {round}: {statuses:?} ({} / {})",
            a.text,
            b.text
        );
        let db = common::database::connect(&project.db.url).await;
        let admins: i64 = db
            .query_one("SELECT count(*) FROM users WHERE role = 'admin'", &[])
            .await
            .unwrap()
            .get(0);
        assert_eq!(admins, 1, "round {round}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn deleting_oneself_ends_every_session() {
    let project = Project::spawn().await;
    let api = project.api();
    let (user, tokens) = api.user("leaver@example.com").await;
    let other = api.tokens("leaver@example.com", "password123").await;
    api.delete(
        &format!("/api/users/{}", id_of(&user)),
        Some(&tokens.access),
    )
    .await
    .ok(204);
    api.get("/api/users/me", Some(&tokens.access))
        .await
        .problem(401);
    api.get("/api/users/me", Some(&other.access))
        .await
        .problem(401);
    api.refresh(&other.refresh).await.problem(401);
    api.login("leaver@example.com", "password123")
        .await
        .problem(401);
    let db = common::database::connect(&project.db.url).await;
    for table in [
        "users",
        "refresh_families",
        "refresh_tokens",
        "revoked_access_tokens",
    ] {
        let count: i64 = db
            .query_one(&format!("SELECT count(*) FROM {table}"), &[])
            .await
            .unwrap()
            .get(0);
        assert_eq!(count, 0, "{table} keeps rows of a deleted user");
    }
    // The address is free again.
    api.register("leaver@example.com", "password123", "Back")
        .await
        .ok(201);
}

#[tokio::test(flavor = "multi_thread")]
async fn deleting_a_user_deletes_their_uploads_and_stored_objects() {
    let project = Project::spawn_with(with_admin()).await;
    let api = project.api();
    let admin = admin(&api).await;
    let (owner, owner_tokens) = api.user("uploader@example.com").await;
    let (_, other_tokens) = api.user("bystander@example.com").await;
    let mut downloads = Vec::new();
    for (tokens, name) in [
        (&owner_tokens, "a.txt"),
        (&owner_tokens, "b.txt"),
        (&other_tokens, "c.txt"),
    ] {
        let created = api
            .upload(
                &tokens.access,
                name,
                Some("text/plain"),
                format!("bytes of {name}").into_bytes(),
            )
            .await;
        let id = created.ok(201)["id"].as_str().unwrap().to_owned();
        let shown = api
            .get(&format!("/api/uploads/{id}"), Some(&tokens.access))
            .await;
        downloads.push(api.absolute(shown.ok(200)["download_url"].as_str().unwrap()));
    }
    for url in &downloads {
        assert_eq!(api.client.get(url).send().await.unwrap().status(), 200);
    }

    api.delete(
        &format!("/api/users/{}", id_of(&owner)),
        Some(&admin.access),
    )
    .await
    .ok(204);

    // The owner's objects are gone from the store (the presigned URLs are
    // still validly signed: the store itself says 404), the other user's
    // is not; no record is left behind.
    for url in &downloads[..2] {
        assert_eq!(
            api.client.get(url).send().await.unwrap().status(),
            404,
            "{url}"
        );
    }
    assert_eq!(
        api.client.get(&downloads[2]).send().await.unwrap().status(),
        200
    );
    let db = common::database::connect(&project.db.url).await;
    let records: i64 = db
        .query_one("SELECT count(*) FROM uploads", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(records, 1);
    let listed = api.get("/api/uploads", Some(&other_tokens.access)).await;
    assert_eq!(listed.ok(200)["items"].as_array().unwrap().len(), 1);
}
