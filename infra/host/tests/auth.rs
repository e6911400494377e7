//! The Auth rows of API.md through the host, against the system Postgres
//! and the key-value store: register, login, refresh rotation (reuse and the
//! concurrent race), logout, cookie mode with CSRF, the first admin, and
//! bad input (4xx problem+json, never 500).

mod common;

use common::api::{Project, ProjectOptions, tokens_of};
use serde_json::json;

#[tokio::test(flavor = "multi_thread")]
async fn register_returns_the_user_without_secrets() {
    let project = Project::spawn().await;
    let api = project.api();
    let answer = api
        .register("  Ada@Example.COM ", "password123", " Ada ")
        .await;
    let user = answer.ok(201);
    assert_eq!(user["email"], "ada@example.com");
    assert_eq!(user["name"], "Ada");
    assert_eq!(user["role"], "user");
    let id = user["id"].as_str().unwrap();
    assert!(uuid::Uuid::parse_str(id).is_ok());
    assert_eq!(
        answer.header("location"),
        Some(format!("/api/users/{id}").as_str())
    );
    for stamp in ["created_at", "updated_at"] {
        let text = user[stamp].as_str().unwrap();
        assert!(text.ends_with('Z') && text.contains('T'), "{stamp}: {text}");
    }
    let keys: Vec<&String> = user.as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 8, "exactly the contract's fields: {keys:?}");
    assert!(
        user["email_verified_at"].is_null(),
        "a new address is unverified"
    );
    assert_eq!(user["totp_enabled"], false, "two-factor sign-in starts off");
    assert!(
        !answer.text.contains("argon2"),
        "a hash leaked: {}",
        answer.text
    );
    assert_eq!(
        answer.header("content-type"),
        Some("application/json; charset=utf-8")
    );

    // Stored as argon2id with OWASP's minimum parameters.
    let db = common::database::connect(&project.db.url).await;
    let row = db
        .query_one(
            "SELECT password_hash FROM users WHERE email = 'ada@example.com'",
            &[],
        )
        .await
        .unwrap();
    let hash: String = row.get(0);
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn emails_are_unique_whatever_their_case() {
    let project = Project::spawn().await;
    let api = project.api();
    api.register("grace@example.com", "password123", "Grace")
        .await
        .ok(201);
    let again = api
        .register(" GRACE@example.com", "password456", "Other")
        .await;
    let problem = again.problem(409);
    assert!(problem["errors"]["email"].is_array());
    // The first account is untouched.
    api.tokens("grace@example.com", "password123").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn invalid_fields_are_422_with_a_reason_per_field() {
    let project = Project::spawn().await;
    let api = project.api();
    let cases = [
        (
            json!({"email": "nope", "password": "password123", "name": "A"}),
            vec!["email"],
        ),
        (
            json!({"email": "a@b.io", "password": "short", "name": "A"}),
            vec!["password"],
        ),
        (
            json!({"email": "a@b.io", "password": "x".repeat(129), "name": "A"}),
            vec!["password"],
        ),
        (
            json!({"email": "a@b.io", "password": "password123", "name": "  "}),
            vec!["name"],
        ),
        (
            json!({"email": "a@b.io", "password": "password123", "name": "n".repeat(101)}),
            vec!["name"],
        ),
        (
            json!({"email": "a@b.io", "password": "password123"}),
            vec!["name"],
        ),
        (json!({}), vec!["email", "name", "password"]),
        (
            json!({"email": "x".repeat(300) + "@b.io", "password": "p".repeat(5000), "name": "n".repeat(5000)}),
            vec!["email", "name", "password"],
        ),
    ];
    for (body, fields) in cases {
        let answer = api.post_json("/api/auth/register", &body, None).await;
        let problem = answer.problem(422);
        let mut named: Vec<&str> = problem["errors"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        named.sort();
        assert_eq!(named, fields, "{body}");
    }
    // 8 and 128 characters are both fine (characters, not bytes).
    api.register("min@b.io", "12345678", "Min").await.ok(201);
    api.register("max@b.io", &"é".repeat(128), "Max")
        .await
        .ok(201);
    api.tokens("max@b.io", &"é".repeat(128)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_bodies_are_4xx_problems_never_500() {
    let project = Project::spawn().await;
    let api = project.api();
    for path in ["/api/auth/register", "/api/auth/login", "/api/auth/refresh"] {
        let url = api.url(path);
        let cases: Vec<(reqwest::RequestBuilder, u16)> = vec![
            (
                api.client
                    .post(&url)
                    .header("content-type", "application/json")
                    .body("{"),
                400,
            ),
            (
                api.client
                    .post(&url)
                    .header("content-type", "application/json")
                    .body("{\"email\": \"a@b.io\", "),
                400,
            ),
            (
                api.client
                    .post(&url)
                    .header("content-type", "application/json")
                    .body(vec![0xff, 0xfe, 0x00]),
                400,
            ),
            (
                api.client
                    .post(&url)
                    .header("content-type", "text/plain")
                    .body("{}"),
                415,
            ),
            (
                api.client
                    .post(&url)
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body("email=a"),
                415,
            ),
            (
                api.client
                    .post(&url)
                    .header("content-type", "application/json")
                    .body("{\"email\": 5, \"password\": [], \"refresh_token\": {}}"),
                422,
            ),
            (
                api.client
                    .post(&url)
                    .header("content-type", "application/json")
                    .body("\"a string\""),
                400,
            ),
        ];
        for (request, status) in cases {
            let answer = api.send(request).await;
            answer.problem(status);
        }
        let wrong_method = api.get(path, None).await;
        wrong_method.problem(405);
        assert_eq!(wrong_method.header("allow"), Some("POST"));
    }
    // No body at all.
    let answer = api.send(api.client.post(api.url("/api/auth/login"))).await;
    answer.problem(415);
    api.get("/api/auth/nothing-here", None).await.problem(404);
    // An oversized field stays a 4xx (the gateway caps the body at 1 MiB).
    let huge = json!({"email": "a@b.io", "password": "p".repeat(900_000), "name": "n"});
    let answer = api.post_json("/api/auth/register", &huge, None).await;
    assert!(answer.status.is_client_error(), "{}", answer.status);
    let too_big = json!({"email": "a@b.io", "password": "p".repeat(2_000_000)});
    api.post_json("/api/auth/login", &too_big, None)
        .await
        .problem(413);
}

#[tokio::test(flavor = "multi_thread")]
async fn login_returns_tokens_and_wrong_credentials_one_401() {
    let project = Project::spawn().await;
    let api = project.api();
    api.register("linus@example.com", "password123", "Linus")
        .await
        .ok(201);

    let answer = api.login(" LINUS@example.com ", "password123").await;
    let body = answer.ok(200);
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    assert_eq!(answer.header("cache-control"), Some("no-store"));
    let refresh = body["refresh_token"].as_str().unwrap();
    assert_eq!(refresh.len(), 43, "256 bits, base64url");
    let access = body["access_token"].as_str().unwrap();
    assert_eq!(access.split('.').count(), 3);

    // Only a hash of the refresh token is stored.
    let db = common::database::connect(&project.db.url).await;
    let stored: i64 = db
        .query_one("SELECT count(*) FROM refresh_tokens", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(stored, 1);
    let leaked: i64 = db
        .query_one(
            "SELECT count(*) FROM refresh_tokens WHERE encode(token_hash, 'escape') LIKE '%' || $1 || '%'",
            &[&refresh],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(leaked, 0);

    let wrong_password = api.login("linus@example.com", "password124").await;
    let unknown_email = api.login("nobody@example.com", "password123").await;
    for answer in [&wrong_password, &unknown_email] {
        let problem = answer.problem(401);
        assert_eq!(problem["detail"], wrong_password.body["detail"]);
    }
    assert_eq!(wrong_password.text, unknown_email.text, "indistinguishable");

    // Malformed requests are 422, not a guess at the credentials.
    for body in [
        json!({"email": "linus@example.com"}),
        json!({"email": "not-an-email", "password": "password123"}),
        json!({"email": "linus@example.com", "password": ""}),
        json!({"email": "linus@example.com", "password": "p".repeat(129)}),
        json!({"email": "linus@example.com", "password": "password123", "remember": true}),
    ] {
        api.post_json("/api/auth/login", &body, None)
            .await
            .problem(422);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn logout_needs_a_bearer_token_and_the_callers_refresh_token() {
    let project = Project::spawn().await;
    let api = project.api();
    let (_, ken) = api.user("ken@example.com").await;
    let (_, eve) = api.user("eve@example.com").await;
    let no_token = api
        .post_json(
            "/api/auth/logout",
            &json!({"refresh_token": ken.refresh}),
            None,
        )
        .await;
    no_token.problem(401);
    assert_eq!(no_token.header("www-authenticate"), Some("Bearer"));
    // A body without a refresh token: 422; no body (and no cookie): 401, as
    // for refresh (the contract fuzz found the 422 there, for a request the
    // schema allows); another user's, or one that does not exist: 401. In
    // none of these is anything revoked.
    api.post_json("/api/auth/logout", &json!({}), Some(&ken.access))
        .await
        .problem(422);
    let no_body = api.post_empty("/api/auth/logout", Some(&ken.access)).await;
    no_body.problem(401);
    assert_eq!(no_body.header("www-authenticate"), Some("Bearer"));
    for foreign in [eve.refresh.as_str(), "A".repeat(43).as_str(), "junk"] {
        api.post_json(
            "/api/auth/logout",
            &json!({"refresh_token": foreign}),
            Some(&ken.access),
        )
        .await
        .problem(401);
    }
    api.get("/api/users/me", Some(&ken.access)).await.ok(200);
    api.get("/api/users/me", Some(&eve.access)).await.ok(200);
    let eve = tokens_of(&api.refresh(&eve.refresh).await);
    api.logout(&ken).await.ok(204);
    // Every access token of the ended session is refused at once, not only
    // the one presented.
    api.get("/api/users/me", Some(&ken.access))
        .await
        .problem(401);
    api.get("/api/users/me", Some(&eve.access)).await.ok(200);
}

#[tokio::test(flavor = "multi_thread")]
async fn refresh_rotates_and_reuse_revokes_the_family() {
    let project = Project::spawn().await;
    let api = project.api();
    let (_, first) = api.user("barbara@example.com").await;

    let second = tokens_of(&api.refresh(&first.refresh).await);
    assert_ne!(second.refresh, first.refresh);
    assert_ne!(second.access, first.access);
    let third = tokens_of(&api.refresh(&second.refresh).await);

    // A second session, untouched by what happens to the first.
    let other = api.tokens("barbara@example.com", "password123").await;

    // `first` is spent: using it again is a replay and ends its family.
    api.refresh(&first.refresh).await.problem(401);
    // Every refresh token of the family is dead now, unspent ones included,
    // and so are its access tokens.
    api.refresh(&third.refresh).await.problem(401);
    api.refresh(&second.refresh).await.problem(401);
    api.get("/api/users/me", Some(&third.access))
        .await
        .problem(401);
    api.get("/api/users/me", Some(&other.access)).await.ok(200);

    let next_other = tokens_of(&api.refresh(&other.refresh).await);
    api.logout(&next_other).await.ok(204);

    for bad in ["", "garbage", &"A".repeat(43), &first.refresh[1..]] {
        api.refresh(bad).await.problem(401);
    }
    api.post_json("/api/auth/refresh", &json!({}), None)
        .await
        .problem(401);
}

#[tokio::test(flavor = "multi_thread")]
async fn of_concurrent_refreshes_of_one_token_exactly_one_wins() {
    let project = Project::spawn().await;
    let api = project.api();
    for round in 0..3 {
        let (_, tokens) = api.user(&format!("race{round}@example.com")).await;
        let attempts: Vec<_> = (0..8)
            .map(|_| {
                let api = api.clone();
                let refresh = tokens.refresh.clone();
                tokio::spawn(async move { api.refresh(&refresh).await })
            })
            .collect();
        let mut wins = 0;
        for attempt in attempts {
            let answer = attempt.await.unwrap();
            match answer.status.as_u16() {
                200 => wins += 1,
                401 => {
                    answer.problem(401);
                }
                other => panic!("a refresh answered {other}: {}", answer.text),
            }
        }
        assert_eq!(wins, 1, "round {round}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn logout_revokes_the_family_and_the_access_token() {
    let project = Project::spawn().await;
    let api = project.api();
    let (_, tokens) = api.user("margaret@example.com").await;
    let rotated = tokens_of(&api.refresh(&tokens.refresh).await);
    let other_session = api.tokens("margaret@example.com", "password123").await;

    api.logout(&rotated).await.ok(204);
    // The access token is denylisted...
    let again = api.logout(&rotated).await;
    again.problem(401);
    assert_eq!(
        again.header("www-authenticate"),
        Some("Bearer error=\"invalid_token\"")
    );
    // ...and the family's refresh token is dead.
    api.refresh(&rotated.refresh).await.problem(401);
    // The other session lives on.
    let still = tokens_of(&api.refresh(&other_session.refresh).await);
    // Logging out with a refresh token of another session ends that one too.
    let third = api.tokens("margaret@example.com", "password123").await;
    let answer = api
        .post_json(
            "/api/auth/logout",
            &json!({"refresh_token": still.refresh}),
            Some(&third.access),
        )
        .await;
    answer.ok(204);
    api.refresh(&still.refresh).await.problem(401);
    api.refresh(&third.refresh).await.problem(401);
}

#[tokio::test(flavor = "multi_thread")]
async fn passwords_hashed_with_old_parameters_are_rehashed_on_login() {
    let project = Project::spawn().await;
    let api = project.api();
    api.register("old@example.com", "password123", "Old")
        .await
        .ok(201);
    // A hash made with weaker parameters, as an older release stored it.
    let weak = argon2_weak_hash("password123");
    let db = common::database::connect(&project.db.url).await;
    db.execute(
        "UPDATE users SET password_hash = $1 WHERE email = 'old@example.com'",
        &[&weak],
    )
    .await
    .unwrap();
    api.login("old@example.com", "password124")
        .await
        .problem(401);
    let stored: String = db
        .query_one(
            "SELECT password_hash FROM users WHERE email = 'old@example.com'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(stored, weak, "a wrong password rehashes nothing");

    api.tokens("old@example.com", "password123").await;
    let stored: String = db
        .query_one(
            "SELECT password_hash FROM users WHERE email = 'old@example.com'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(
        stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{stored}"
    );
    api.tokens("old@example.com", "password123").await;
}

fn argon2_weak_hash(password: &str) -> String {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let weak = argon2::Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        argon2::Params::new(4096, 1, 1, None).unwrap(),
    );
    let salt = SaltString::encode_b64(b"an-older-release").unwrap();
    weak.hash_password(password.as_bytes(), &salt)
        .unwrap()
        .to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn cookie_mode_keeps_the_refresh_token_out_of_reach_of_scripts() {
    let project = Project::spawn().await;
    let api = project.api();
    api.register("cookie@example.com", "password123", "Cookie")
        .await
        .ok(201);
    let login = api
        .post_json(
            "/api/auth/login",
            &json!({"email": "cookie@example.com", "password": "password123", "use_cookie": true}),
            None,
        )
        .await;
    let body = login.ok(200).clone();
    assert!(body.get("refresh_token").is_none(), "{body}");
    let csrf = body["csrf_token"].as_str().unwrap().to_owned();
    let cookies = login.all("set-cookie");
    assert_eq!(cookies.len(), 2, "{cookies:?}");
    let refresh_cookie = cookies
        .iter()
        .find(|c| c.starts_with("__Host-spinstack-refresh="))
        .unwrap();
    for attribute in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"] {
        assert!(refresh_cookie.contains(attribute), "{refresh_cookie}");
    }
    let refresh = refresh_cookie
        .trim_start_matches("__Host-spinstack-refresh=")
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let csrf_cookie = cookies
        .iter()
        .find(|c| c.starts_with("__Host-spinstack-csrf="))
        .unwrap();
    assert!(csrf_cookie.contains(&csrf) && !csrf_cookie.contains("HttpOnly"));

    let cookie_header = format!("__Host-spinstack-refresh={refresh}; __Host-spinstack-csrf={csrf}");
    let refresh_with = |csrf: Option<&str>, site: Option<&str>| {
        let mut request = api
            .client
            .post(api.url("/api/auth/refresh"))
            .header("cookie", &cookie_header);
        if let Some(csrf) = csrf {
            request = request.header("x-csrf-token", csrf);
        }
        if let Some(site) = site {
            request = request.header("sec-fetch-site", site);
        }
        request
    };
    // The cookie alone is not enough: a forged cross-site POST has no header.
    api.send(refresh_with(None, None)).await.problem(403);
    api.send(refresh_with(Some("forged"), None))
        .await
        .problem(403);
    api.send(refresh_with(Some(&csrf), Some("cross-site")))
        .await
        .problem(403);
    // Nothing was spent by the refusals.
    let rotated = api
        .send(refresh_with(Some(&csrf), Some("same-origin")))
        .await;
    let body = rotated.ok(200);
    assert!(body.get("refresh_token").is_none());
    assert_ne!(
        body["csrf_token"].as_str().unwrap(),
        csrf,
        "bound to the new token"
    );
    assert_eq!(rotated.all("set-cookie").len(), 2);

    // Logout clears both cookies.
    let access = body["access_token"].as_str().unwrap();
    let new_refresh = rotated
        .all("set-cookie")
        .iter()
        .find_map(|c| c.strip_prefix("__Host-spinstack-refresh="))
        .map(|c| c.split(';').next().unwrap().to_owned())
        .unwrap();
    let logout = api
        .send(
            api.client
                .post(api.url("/api/auth/logout"))
                .header("cookie", format!("__Host-spinstack-refresh={new_refresh}"))
                .bearer_auth(access),
        )
        .await;
    logout.ok(204);
    let cleared = logout.all("set-cookie");
    assert_eq!(cleared.len(), 2);
    assert!(
        cleared.iter().all(|c| c.contains("Max-Age=0")),
        "{cleared:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_first_admin_comes_from_variables() {
    let project = Project::spawn_with(ProjectOptions {
        env: vec![
            ("SPIN_VARIABLE_ADMIN_EMAIL", "Root@Example.com".to_owned()),
            (
                "SPIN_VARIABLE_ADMIN_PASSWORD",
                "correct-horse-battery".to_owned(),
            ),
        ],
        ..Default::default()
    })
    .await;
    let api = project.api();
    // Nobody can take the address first.
    api.register("root@example.com", "password123", "Squatter")
        .await
        .problem(409);
    // A wrong password creates nothing.
    api.login("root@example.com", "wrong-password")
        .await
        .problem(401);
    let db = common::database::connect(&project.db.url).await;
    let users: i64 = db
        .query_one("SELECT count(*) FROM users", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(users, 0);

    let tokens = api
        .tokens("root@example.com", "correct-horse-battery")
        .await;
    let row = db
        .query_one("SELECT role, email FROM users", &[])
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "admin");
    assert_eq!(row.get::<_, String>(1), "root@example.com");
    // Afterwards it is an ordinary account: log in again, refresh, log out.
    api.tokens("root@example.com", "correct-horse-battery")
        .await;
    api.logout(&tokens).await.ok(204);
    let users: i64 = db
        .query_one("SELECT count(*) FROM users", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(users, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_gateway_limits_auth_to_five_a_minute() {
    let project = Project::spawn_with(ProjectOptions {
        rate_limits: true,
        ..Default::default()
    })
    .await;
    let api = project.api();
    // nginx's limit_req: the request at the rate plus `burst` more.
    for attempt in 0..6 {
        let answer = api.login("nobody@example.com", "password123").await;
        assert_eq!(answer.status.as_u16(), 401, "attempt {attempt}");
    }
    let limited = api.login("nobody@example.com", "password123").await;
    limited.problem(429);
    let retry: u64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry));
}

#[tokio::test(flavor = "multi_thread")]
async fn expired_session_state_is_swept_away() {
    let redis = common::redis::Redis::start();
    let config_dir = tempfile::tempdir().unwrap();
    let config = redis.runtime_config(config_dir.path());
    let project = Project::spawn_with(ProjectOptions {
        env: vec![
            ("SPIN_VARIABLE_HOUSEKEEPING_EVERY", "1".to_owned()),
            ("SPIN_VARIABLE_ACCESS_TOKEN_TTL_SECONDS", "4".to_owned()),
        ],
        args: vec![
            "--runtime-config-file".into(),
            config.to_string_lossy().into_owned(),
        ],
        ..Default::default()
    })
    .await;
    let api = project.api();
    let (_, tokens) = api.user("sweep@example.com").await;
    let rotated = tokens_of(&api.refresh(&tokens.refresh).await);
    api.logout(&rotated).await.ok(204);
    let denylisted = || {
        let output = std::process::Command::new("redis-cli")
            .args([
                "-p",
                &redis.port.to_string(),
                "--scan",
                "--pattern",
                "denylist:*",
            ])
            .output()
            .unwrap();
        String::from_utf8(output.stdout).unwrap().lines().count()
    };
    assert_eq!(denylisted(), 1);
    // Everything of that session is now long expired.
    let db = common::database::connect(&project.db.url).await;
    db.batch_execute(
        "UPDATE refresh_tokens SET expires_at = now() - interval '2 days';
         UPDATE refresh_families SET created_at = now() - interval '3 days',
                                     revoked_at = now() - interval '2 days';",
    )
    .await
    .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(4100)).await;

    api.tokens("sweep@example.com", "password123").await;
    let count = |table: &'static str| {
        let db = &db;
        async move {
            db.query_one(&format!("SELECT count(*) FROM {table}"), &[])
                .await
                .unwrap()
                .get::<_, i64>(0)
        }
    };
    assert_eq!(count("refresh_tokens").await, 1, "only the new login's");
    assert_eq!(count("refresh_families").await, 1);
    assert_eq!(count("revoked_access_tokens").await, 0);
    assert_eq!(denylisted(), 0);
    assert!(
        project
            .app
            .log()
            .contains("housekeeping removed 2 refresh tokens, 1 sessions")
    );
}
