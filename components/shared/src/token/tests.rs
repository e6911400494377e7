//! The JWT attack catalogue against the verifier, natively. The same
//! catalogue runs through the host in `infra/host/tests/auth_tokens.rs`.

use super::*;

const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef-test";

fn settings() -> TokenSettings {
    TokenSettings::new(SECRET, "spinstack", "spinstack-api", 900).unwrap()
}

fn b64(bytes: &[u8]) -> String {
    use jwt_simple::reexports::ct_codecs::{Base64UrlSafeNoPadding, Encoder};
    Base64UrlSafeNoPadding::encode_to_string(bytes).unwrap()
}

fn b64_decode(text: &str) -> Vec<u8> {
    use jwt_simple::reexports::ct_codecs::{Base64UrlSafeNoPadding, Decoder};
    Base64UrlSafeNoPadding::decode_to_vec(text, None).unwrap()
}

/// A token with `header` and `claims`, HMAC-signed with `key`.
fn hs256(header: &serde_json::Value, claims: &serde_json::Value, key: &[u8]) -> String {
    use hmac_sha256::HMAC;
    let signing_input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let tag = HMAC::mac(signing_input.as_bytes(), key);
    format!("{signing_input}.{}", b64(&tag))
}

fn claims_at(now: u64) -> serde_json::Value {
    serde_json::json!({
        "iss": "spinstack", "aud": "spinstack-api",
        "sub": Uuid::new_v4().to_string(), "jti": Uuid::new_v4().to_string(),
        "sid": Uuid::new_v4().to_string(),
        "iat": now, "nbf": now, "exp": now + 900,
    })
}

fn header() -> serde_json::Value {
    serde_json::json!({"alg": "HS256", "typ": "at+jwt"})
}

fn now() -> u64 {
    crate::clock::now_unix()
}

#[test]
fn a_token_we_issue_verifies_with_its_claims() {
    let settings = settings();
    let (user, session) = (Uuid::new_v4(), Uuid::new_v4());
    let issued = settings.issue(user, session).unwrap();
    let verified = settings.verify(&issued.token).unwrap();
    assert_eq!(verified.user_id, user);
    assert_eq!(verified.session_id, session);
    assert_eq!(verified.jti, issued.jti);
    assert!(verified.expires_at >= now() + 899 && verified.expires_at <= now() + 901);
    let header: serde_json::Value =
        serde_json::from_slice(&b64_decode(issued.token.split('.').next().unwrap())).unwrap();
    assert_eq!(header["typ"], "at+jwt");
    assert_eq!(header["alg"], "HS256");
}

#[test]
fn a_hand_made_token_with_our_key_verifies() {
    // The baseline for the catalogue below: every refusal is down to the
    // one thing each case changes.
    let token = hs256(&header(), &claims_at(now()), SECRET);
    assert!(settings().verify(&token).is_ok());
}

#[test]
fn alg_none_is_refused() {
    for alg in ["none", "None", "NONE"] {
        let header = serde_json::json!({"alg": alg, "typ": "at+jwt"});
        let unsigned = format!(
            "{}.{}.",
            b64(header.to_string().as_bytes()),
            b64(claims_at(now()).to_string().as_bytes())
        );
        assert!(settings().verify(&unsigned).is_err(), "{alg}");
    }
}

#[test]
fn another_key_is_refused() {
    let token = hs256(
        &header(),
        &claims_at(now()),
        b"another-key-another-key-another-key!",
    );
    assert!(settings().verify(&token).is_err());
}

#[test]
fn other_algorithms_are_refused_even_when_signed_with_our_secret() {
    for alg in ["HS384", "HS512", "RS256", "ES256", "EdDSA"] {
        let header = serde_json::json!({"alg": alg, "typ": "at+jwt"});
        let token = hs256(&header, &claims_at(now()), SECRET);
        assert!(settings().verify(&token).is_err(), "{alg}");
    }
}

#[test]
fn an_rs256_token_is_refused() {
    // RS/HS confusion: a real RS256 token (public key known to anyone) must
    // not verify as HS256 with any interpretation of the key.
    let pair = RS256KeyPair::generate(2048).unwrap();
    let claims = Claims::create(Duration::from_secs(900))
        .with_issuer("spinstack")
        .with_audience("spinstack-api")
        .with_subject(Uuid::new_v4())
        .with_jwt_id(Uuid::new_v4());
    let token = pair.sign(claims).unwrap();
    assert!(settings().verify(&token).is_err());
    // And HS256 keyed with that public key's PEM.
    let pem = pair.public_key().to_pem().unwrap();
    let confused = hs256(&header(), &claims_at(now()), pem.as_bytes());
    assert!(settings().verify(&confused).is_err());
}

#[test]
fn expired_and_not_yet_valid_are_refused_beyond_the_leeway() {
    let now = now();
    let mut expired = claims_at(now - 2000);
    expired["exp"] = (now - LEEWAY_SECONDS - 5).into();
    assert!(
        settings()
            .verify(&hs256(&header(), &expired, SECRET))
            .is_err()
    );

    let mut early = claims_at(now);
    early["nbf"] = (now + LEEWAY_SECONDS + 60).into();
    early["iat"] = (now + LEEWAY_SECONDS + 60).into();
    early["exp"] = (now + 900).into();
    assert!(
        settings()
            .verify(&hs256(&header(), &early, SECRET))
            .is_err()
    );

    // Inside the leeway: accepted.
    let mut skewed = claims_at(now);
    skewed["nbf"] = (now + 5).into();
    skewed["iat"] = (now + 5).into();
    assert!(
        settings()
            .verify(&hs256(&header(), &skewed, SECRET))
            .is_ok()
    );
}

#[test]
fn a_token_valid_for_longer_than_we_issue_is_refused() {
    let mut long = claims_at(now());
    long["exp"] = (now() + 30 * 24 * 3600).into();
    assert!(settings().verify(&hs256(&header(), &long, SECRET)).is_err());
}

#[test]
fn wrong_audience_issuer_or_type_is_refused() {
    let mut claims = claims_at(now());
    claims["aud"] = "someone-else".into();
    assert!(
        settings()
            .verify(&hs256(&header(), &claims, SECRET))
            .is_err()
    );

    let mut claims = claims_at(now());
    claims["iss"] = "evil".into();
    assert!(
        settings()
            .verify(&hs256(&header(), &claims, SECRET))
            .is_err()
    );

    for typ in [Some("JWT"), Some("refresh+jwt"), None] {
        let mut header = header();
        match typ {
            Some(typ) => header["typ"] = typ.into(),
            None => {
                header.as_object_mut().unwrap().remove("typ");
            }
        }
        let token = hs256(&header, &claims_at(now()), SECRET);
        assert!(settings().verify(&token).is_err(), "typ {typ:?}");
    }
}

#[test]
fn missing_claims_are_refused() {
    for claim in ["sub", "jti", "sid", "exp", "iat", "nbf", "iss", "aud"] {
        let mut claims = claims_at(now());
        claims.as_object_mut().unwrap().remove(claim);
        let token = hs256(&header(), &claims, SECRET);
        assert!(settings().verify(&token).is_err(), "without {claim}");
    }
    let mut claims = claims_at(now());
    claims["sub"] = "not-a-uuid".into();
    assert!(
        settings()
            .verify(&hs256(&header(), &claims, SECRET))
            .is_err()
    );
}

#[test]
fn tampered_truncated_and_garbage_tokens_are_refused() {
    let settings = settings();
    let token = settings
        .issue(Uuid::new_v4(), Uuid::new_v4())
        .unwrap()
        .token;
    let parts: Vec<&str> = token.split('.').collect();

    let mut payload: serde_json::Value = serde_json::from_slice(&b64_decode(parts[1])).unwrap();
    payload["sub"] = Uuid::new_v4().to_string().into();
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        b64(payload.to_string().as_bytes()),
        parts[2]
    );
    assert!(settings.verify(&tampered).is_err());

    for bad in [
        &token[..token.len() - 3],
        &token[..token.len() / 2],
        parts[0],
        "",
        "....",
        "not a token",
        "eyJhbGciOiJIUzI1NiJ9",
        "\u{0}\u{1}",
    ] {
        assert!(settings.verify(bad).is_err(), "{bad:?}");
    }
    assert_eq!(settings.verify(&"a".repeat(5000)), Err(TokenError::TooLong));
}

#[test]
fn weak_secrets_and_zero_lifetimes_are_configuration_errors() {
    assert!(TokenSettings::new(b"short", "i", "a", 900).is_err());
    assert!(TokenSettings::new(SECRET, "i", "a", 0).is_err());
}
