//! The JWT attack catalogue through the host: tokens forged, altered or
//! expired in every way API.md and the auth issue list, each sent to a route
//! behind the shared token check. Every one is a 401 with
//! `WWW-Authenticate: Bearer`, and a token made the honest way (same key,
//! same claims) is accepted, so each refusal is down to what its case
//! changes.

mod common;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::api::{Api, Project, ProjectOptions};
use serde_json::{Value, json};

const SECRET: &str = "attack-catalogue-secret-0123456789abcdef-0123456789";

async fn project() -> Project {
    Project::spawn_with(ProjectOptions {
        env: vec![("SPIN_VARIABLE_JWT_SECRET", SECRET.to_owned())],
        ..Default::default()
    })
    .await
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn sign(header: &Value, claims: &Value, key: &[u8]) -> String {
    let input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let tag = hmac_sha256::HMAC::mac(input.as_bytes(), key);
    format!("{input}.{}", b64(&tag))
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn header() -> Value {
    json!({"alg": "HS256", "typ": "at+jwt"})
}

/// The claims our auth component issues, for `user_id`.
fn claims(user_id: &str) -> Value {
    let now = now();
    json!({
        "iss": "spinstack", "aud": "spinstack-api", "sub": user_id,
        "jti": uuid::Uuid::new_v4().to_string(), "sid": uuid::Uuid::new_v4().to_string(),
        "iat": now, "nbf": now, "exp": now + 900,
    })
}

/// The answer of the token check to `token`: `GET /api/users/me` is
/// behind it.
async fn check(api: &Api, token: &str) -> common::api::Answer {
    api.send(
        api.client
            .get(api.url("/api/users/me"))
            .header("authorization", format!("Bearer {token}")),
    )
    .await
}

#[track_caller]
fn refused(answer: &common::api::Answer, case: &str) {
    assert_eq!(answer.status.as_u16(), 401, "{case}: {}", answer.text);
    answer.problem(401);
    assert_eq!(
        answer.header("www-authenticate"),
        Some("Bearer error=\"invalid_token\""),
        "{case}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn every_forged_or_altered_token_is_a_401() {
    let project = project().await;
    let api = project.api();
    let (user, issued) = api.user("target@example.com").await;
    let id = user["id"].as_str().unwrap();
    let key = SECRET.as_bytes();

    let mut cases: Vec<(&str, String)> = Vec::new();
    // alg: none, in its spellings, with and without a signature part.
    for alg in ["none", "None", "NONE", "nOnE"] {
        let header = json!({"alg": alg, "typ": "at+jwt"});
        let unsigned = format!(
            "{}.{}.",
            b64(header.to_string().as_bytes()),
            b64(claims(id).to_string().as_bytes())
        );
        cases.push(("alg none", unsigned.clone()));
        cases.push((
            "alg none, no dot",
            unsigned.trim_end_matches('.').to_owned(),
        ));
    }
    cases.push((
        "HS256 with another key",
        sign(
            &header(),
            &claims(id),
            b"someone-else's-key-0123456789abcdef",
        ),
    ));
    for alg in ["HS384", "HS512", "RS256", "ES256", "PS256", "EdDSA"] {
        cases.push((
            "another algorithm, our key",
            sign(&json!({"alg": alg, "typ": "at+jwt"}), &claims(id), key),
        ));
    }
    // RS/HS confusion: an RS256 header over a signature made by HMAC with
    // what an attacker knows (a public key's PEM).
    let pem = b"-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\n-----END PUBLIC KEY-----\n";
    cases.push((
        "RS256 header, HMAC with a public key",
        sign(&json!({"alg": "RS256", "typ": "at+jwt"}), &claims(id), pem),
    ));
    cases.push((
        "HS256, HMAC with a public key",
        sign(&header(), &claims(id), pem),
    ));

    let mut expired = claims(id);
    expired["iat"] = (now() - 2000).into();
    expired["nbf"] = (now() - 2000).into();
    expired["exp"] = (now() - 120).into();
    cases.push(("expired", sign(&header(), &expired, key)));
    let mut early = claims(id);
    early["iat"] = (now() + 600).into();
    early["nbf"] = (now() + 600).into();
    early["exp"] = (now() + 1200).into();
    cases.push(("not yet valid", sign(&header(), &early, key)));
    let mut long = claims(id);
    long["exp"] = (now() + 86_400 * 365).into();
    cases.push(("valid for a year", sign(&header(), &long, key)));
    for (claim, value) in [
        ("aud", "another-api"),
        ("iss", "evil"),
        ("sub", "not-a-uuid"),
    ] {
        let mut wrong = claims(id);
        wrong[claim] = value.into();
        cases.push(("wrong claim", sign(&header(), &wrong, key)));
    }
    for claim in ["sub", "jti", "exp", "iat", "nbf", "aud", "iss", "sid"] {
        let mut missing = claims(id);
        missing.as_object_mut().unwrap().remove(claim);
        cases.push(("missing claim", sign(&header(), &missing, key)));
    }
    for typ in [json!("JWT"), json!("refresh+jwt"), Value::Null] {
        let mut header = header();
        if typ.is_null() {
            header.as_object_mut().unwrap().remove("typ");
        } else {
            header["typ"] = typ;
        }
        cases.push(("wrong typ", sign(&header, &claims(id), key)));
    }
    // Tampered: the real token with another subject, signature kept.
    let parts: Vec<&str> = issued.access.split('.').collect();
    let mut payload: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    payload["sub"] = uuid::Uuid::new_v4().to_string().into();
    cases.push((
        "tampered payload",
        format!(
            "{}.{}.{}",
            parts[0],
            b64(payload.to_string().as_bytes()),
            parts[2]
        ),
    ));
    payload["sub"] = id.into();
    payload["role"] = "admin".into();
    cases.push((
        "tampered payload, extra claim",
        format!(
            "{}.{}.{}",
            parts[0],
            b64(payload.to_string().as_bytes()),
            parts[2]
        ),
    ));
    let mut flipped = parts[2].as_bytes().to_vec();
    flipped[5] = if flipped[5] == b'A' { b'B' } else { b'A' };
    cases.push((
        "flipped signature",
        format!(
            "{}.{}.{}",
            parts[0],
            parts[1],
            String::from_utf8(flipped).unwrap()
        ),
    ));
    // Truncated and garbage.
    cases.push((
        "truncated",
        issued.access[..issued.access.len() - 4].to_owned(),
    ));
    cases.push(("two parts", format!("{}.{}", parts[0], parts[1])));
    for garbage in ["garbage", "a.b.c", "....", "eyJ.eyJ.eyJ", "%00%01"] {
        cases.push(("garbage", garbage.to_owned()));
    }
    cases.push(("huge", "a".repeat(6000)));

    for (case, token) in &cases {
        refused(&check(&api, token).await, case);
    }

    // The same construction with the right key and claims is accepted: the
    // refusals above are not an accident of how the tokens were built.
    let honest = sign(&header(), &claims(id), key);
    check(&api, &honest).await.ok(200);
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_or_non_bearer_credentials_are_a_plain_401() {
    let project = project().await;
    let api = project.api();
    let (_, issued) = api.user("scheme@example.com").await;
    let bare = api.send(api.client.get(api.url("/api/users/me"))).await;
    bare.problem(401);
    assert_eq!(bare.header("www-authenticate"), Some("Bearer"));
    for value in [
        format!("Basic {}", b64(b"user:pass")),
        format!("Token {}", issued.access),
        "Bearer".to_owned(),
        "Bearer ".to_owned(),
        issued.access.clone(),
    ] {
        let answer = api
            .send(
                api.client
                    .post(api.url("/api/auth/logout"))
                    .header("authorization", value),
            )
            .await;
        answer.problem(401);
    }
    // The scheme is case-insensitive (RFC 6750).
    let answer = api
        .send(
            api.client
                .get(api.url("/api/users/me"))
                .header("authorization", format!("bearer {}", issued.access)),
        )
        .await;
    answer.ok(200);
}

#[tokio::test(flavor = "multi_thread")]
async fn tokens_of_deleted_or_logged_out_users_are_refused() {
    let project = project().await;
    let api = project.api();
    let (user, tokens) = api.user("leaver@example.com").await;
    let (_, other) = api.user("stayer@example.com").await;
    // Deleted (here straight in the database; the users component's delete
    // is tested with the cache in users.rs).
    let db = common::database::connect(&project.db.url).await;
    let id = user["id"].as_str().unwrap();
    db.execute("DELETE FROM users WHERE id = $1::text::uuid", &[&id])
        .await
        .unwrap();
    refused(&check(&api, &tokens.access).await, "deleted user");
    api.refresh(&tokens.refresh).await.problem(401);
    // Deactivated.
    db.execute(
        "UPDATE users SET active = false WHERE email = 'stayer@example.com'",
        &[],
    )
    .await
    .unwrap();
    refused(&check(&api, &other.access).await, "inactive user");
    api.refresh(&other.refresh).await.problem(401);
    api.login("stayer@example.com", "password123")
        .await
        .problem(401);

    // Logged out: the access token is denylisted.
    let (_, third) = api.user("third@example.com").await;
    api.logout(&third).await.ok(204);
    refused(&check(&api, &third.access).await, "after logout");
}
