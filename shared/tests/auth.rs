//! The verifier against real tokens: keys generated here, tokens signed by
//! `jsonwebtoken`, the JWKS served over HTTP on 127.0.0.1 by testkit.

use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::{Algorithm, Header};
use serde_json::{Value, json};
use shared::auth::{AuthConfig, AuthError, Principal, Rejection, Verifier};
use testkit::jwks::{JwksServer, Mode, SigningKey, forge, now};

const ISSUER: &str = "https://issuer.test/pool";
const AUDIENCE: &str = "rust-lambda-api";

fn config(pairs: &[(&str, &str)]) -> AuthConfig {
    AuthConfig::from_lookup(|name| {
        pairs
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_owned())
    })
    .expect("a valid configuration")
}

fn verifier(server: &JwksServer) -> Verifier {
    let url = server.jwks_url();
    let config = config(&[
        ("AUTH_ISSUER", ISSUER),
        ("AUTH_AUDIENCE", &format!("other-api,{AUDIENCE}")),
        ("AUTH_JWKS_URL", &url),
    ]);
    Verifier::new(&config).expect("a verifier")
}

/// `outcome` is the fault of a JWKS that could not be had, saying `why`.
fn assert_jwks_unavailable(outcome: &Result<Principal, AuthError>, why: &str) {
    assert!(
        matches!(outcome, Err(AuthError::JwksUnavailable(said)) if said.contains(why)),
        "{outcome:?}"
    );
}

/// Valid claims for the test issuer and audience, changed by `changes`
/// (a `null` removes the claim).
fn claims(changes: Value) -> Value {
    let mut claims = json!({
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "ada",
        "scope": "users:read users:write",
        "iat": now(),
        "exp": now() + 300,
    });
    if let (Value::Object(base), Value::Object(changes)) = (&mut claims, changes) {
        for (name, value) in changes {
            if value.is_null() {
                base.remove(&name);
            } else {
                base.insert(name, value);
            }
        }
    }
    claims
}

fn header(algorithm: Algorithm, kid: &str) -> Header {
    let mut header = Header::new(algorithm);
    header.kid = Some(kid.to_owned());
    header
}

#[tokio::test]
async fn tokens_signed_by_the_issuers_keys_yield_their_principal() {
    let (rsa, ec) = (SigningKey::rsa("rsa-1"), SigningKey::ec("ec-1"));
    let server = JwksServer::start(&[&rsa, &ec]);
    let verifier = verifier(&server);
    let cases = [
        ("RS256", rsa.sign(&claims(json!({})))),
        ("ES256", ec.sign(&claims(json!({})))),
        (
            "exp 30 s ago, inside the leeway",
            rsa.sign(&claims(json!({"exp": now() - 30}))),
        ),
        (
            "nbf 30 s ahead, inside the leeway",
            ec.sign(&claims(json!({"nbf": now() + 30}))),
        ),
        (
            "aud as an array",
            ec.sign(&claims(json!({"aud": ["someone", AUDIENCE]}))),
        ),
        (
            "the second configured audience",
            rsa.sign(&claims(json!({"aud": "other-api"}))),
        ),
    ];
    for (name, token) in cases {
        let principal = verifier
            .verify(&token)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(principal.subject, "ada", "{name}");
        assert_eq!(principal.scopes, ["users:read", "users:write"], "{name}");
        assert_eq!(principal.claims["iss"], ISSUER, "{name}");
    }
    // A Cognito access token: no `aud`, the app client in `client_id`.
    let cognito = rsa.sign(&claims(json!({
        "aud": null,
        "client_id": AUDIENCE,
        "token_use": "access",
        "scope": null,
        "cognito:groups": ["admins"],
        "sub": "c0ffee",
    })));
    let principal = verifier.verify(&cognito).await.expect("a Cognito token");
    assert_eq!(
        (
            principal.subject.as_str(),
            principal.scope_string().as_str()
        ),
        ("c0ffee", "admins")
    );
    assert_eq!(server.requests(), 1, "one JWKS fetch serves every token");
}

#[tokio::test]
async fn bad_tokens_are_rejected_for_what_is_wrong_with_them() {
    let (rsa, ec) = (SigningKey::rsa("rsa-1"), SigningKey::ec("ec-1"));
    let impostor = SigningKey::rsa("rsa-1");
    let server = JwksServer::start(&[&rsa, &ec]);
    let verifier = verifier(&server);
    let valid = rsa.sign(&claims(json!({})));
    let unknown = || Rejection::UnknownKey("rsa-9".into());
    let cases: Vec<(&str, String, Rejection)> = vec![
        (
            "expired",
            rsa.sign(&claims(json!({"exp": now() - 120}))),
            Rejection::Expired,
        ),
        (
            "not yet valid",
            ec.sign(&claims(json!({"nbf": now() + 120}))),
            Rejection::NotYetValid,
        ),
        (
            "wrong iss",
            rsa.sign(&claims(json!({"iss": "https://evil.test/pool"}))),
            Rejection::Issuer,
        ),
        (
            "wrong aud",
            ec.sign(&claims(json!({"aud": "another-api"}))),
            Rejection::Audience,
        ),
        (
            "a Cognito access token of another app client",
            rsa.sign(&claims(
                json!({"aud": null, "client_id": "another-app", "token_use": "access"}),
            )),
            Rejection::Audience,
        ),
        (
            "a Cognito ID token without aud",
            rsa.sign(&claims(
                json!({"aud": null, "client_id": AUDIENCE, "token_use": "id"}),
            )),
            Rejection::Claim("aud".into()),
        ),
        (
            "no exp",
            rsa.sign(&claims(json!({"exp": null}))),
            Rejection::Claim("exp".into()),
        ),
        (
            "no iss",
            rsa.sign(&claims(json!({"iss": null}))),
            Rejection::Claim("iss".into()),
        ),
        (
            "no aud",
            rsa.sign(&claims(json!({"aud": null}))),
            Rejection::Claim("aud".into()),
        ),
        (
            "no sub",
            rsa.sign(&claims(json!({"sub": null}))),
            Rejection::Claim("sub".into()),
        ),
        (
            "unknown kid",
            rsa.sign_with(&header(Algorithm::RS256, "rsa-9"), &claims(json!({}))),
            unknown(),
        ),
        (
            "no kid",
            rsa.sign_with(&Header::new(Algorithm::RS256), &claims(json!({}))),
            Rejection::MissingKeyId,
        ),
        (
            "alg none",
            forge::unsigned("rsa-1", &claims(json!({}))),
            Rejection::Algorithm("none".into()),
        ),
        (
            "HS256 signed with the public key as the secret",
            forge::hs256_with_public_key(&rsa, &claims(json!({}))),
            Rejection::Algorithm("HS256".into()),
        ),
        (
            "RS384, an algorithm the key does not declare",
            rsa.sign_with(&header(Algorithm::RS384, "rsa-1"), &claims(json!({}))),
            Rejection::Algorithm("RS384".into()),
        ),
        (
            "PS256 with the RSA key",
            rsa.sign_with(&header(Algorithm::PS256, "rsa-1"), &claims(json!({}))),
            Rejection::Algorithm("PS256".into()),
        ),
        (
            "ES256 header naming the RSA key",
            ec.sign_with(&header(Algorithm::ES256, "rsa-1"), &claims(json!({}))),
            Rejection::AlgorithmMismatch {
                token: "ES256".into(),
                key: "RS256".into(),
            },
        ),
        (
            "tampered payload",
            forge::tampered(&valid, &claims(json!({"sub": "eve"}))),
            Rejection::Signature,
        ),
        (
            "signed by another key with the same kid",
            impostor.sign(&claims(json!({}))),
            Rejection::Signature,
        ),
        (
            "signature of garbage bytes",
            forge::with_signature(
                &json!({"alg": "ES256", "kid": "ec-1"}),
                &claims(json!({})),
                &[7; 64],
            ),
            Rejection::Signature,
        ),
        ("garbage", "not-a-token".into(), Rejection::Malformed),
        (
            "three parts of garbage",
            "a.b.c".into(),
            Rejection::Malformed,
        ),
        (
            "oversized",
            format!("{valid}{}", "A".repeat(20_000)),
            Rejection::Malformed,
        ),
        ("empty", String::new(), Rejection::Missing),
    ];
    for (name, token, expected) in cases {
        assert_eq!(
            verifier.verify(&token).await,
            Err(AuthError::InvalidToken(expected)),
            "{name}"
        );
    }
    assert!(verifier.verify(&valid).await.is_ok());
    assert_eq!(
        server.requests(),
        1,
        "the unknown kid came within the minute"
    );
}

#[tokio::test]
async fn a_flood_of_unknown_kids_does_not_become_a_flood_of_fetches() {
    let key = SigningKey::ec("ec-1");
    let server = JwksServer::start(&[&key]);
    let verifier = verifier(&server);
    verifier
        .verify(&key.sign(&claims(json!({}))))
        .await
        .expect("valid");
    for n in 0..200 {
        let kid = format!("made-up-{n}");
        let token = key.sign_with(&header(Algorithm::ES256, &kid), &claims(json!({})));
        assert_eq!(
            verifier.verify(&token).await,
            Err(AuthError::InvalidToken(Rejection::UnknownKey(kid)))
        );
    }
    assert_eq!(server.requests(), 1);
}

#[tokio::test]
async fn concurrent_callers_on_a_cold_cache_share_one_fetch() {
    let key = SigningKey::rsa("rsa-1");
    let server = JwksServer::start(&[&key]);
    let verifier = Arc::new(verifier(&server));
    let token = key.sign(&claims(json!({})));
    let mut callers = tokio::task::JoinSet::new();
    for _ in 0..16 {
        let (verifier, token) = (Arc::clone(&verifier), token.clone());
        callers.spawn(async move { verifier.verify(&token).await.map(|p| p.subject) });
    }
    while let Some(outcome) = callers.join_next().await {
        assert_eq!(outcome.expect("no panic"), Ok("ada".to_owned()));
    }
    assert_eq!(server.requests(), 1);
}

#[tokio::test]
async fn an_unknown_kid_refetches_so_rotated_keys_come_and_go() {
    let (old, new) = (SigningKey::rsa("2025"), SigningKey::ec("2026"));
    let server = JwksServer::start(&[&old]);
    let verifier = verifier(&server).with_refetch_interval(Duration::ZERO);
    let old_token = old.sign(&claims(json!({})));
    let new_token = new.sign(&claims(json!({})));
    assert!(verifier.verify(&old_token).await.is_ok());
    assert_eq!(server.requests(), 1);

    server.set_keys(&[&old, &new]);
    assert!(verifier.verify(&new_token).await.is_ok(), "the new key");
    assert_eq!(server.requests(), 2);
    assert!(
        verifier.verify(&old_token).await.is_ok(),
        "both, from the cache"
    );
    assert_eq!(server.requests(), 2);

    server.set_keys(&[&new]);
    let unknown = new.sign_with(&header(Algorithm::ES256, "none-such"), &claims(json!({})));
    assert!(verifier.verify(&unknown).await.is_err());
    assert_eq!(server.requests(), 3, "each unknown kid refetches");
    assert_eq!(
        verifier.verify(&old_token).await,
        Err(AuthError::InvalidToken(Rejection::UnknownKey(
            "2025".into()
        ))),
        "a key the issuer withdrew is no longer accepted"
    );
}

#[tokio::test]
async fn keys_past_their_age_are_fetched_again_and_never_used_stale() {
    let (old, new) = (SigningKey::rsa("2025"), SigningKey::ec("2026"));
    let server = JwksServer::start(&[&old, &new]);
    // Every key is past its age as soon as it is fetched.
    let verifier = verifier(&server).with_max_key_age(Duration::ZERO);
    let old_token = old.sign(&claims(json!({})));
    let new_token = new.sign(&claims(json!({})));
    assert!(verifier.verify(&old_token).await.is_ok());
    assert!(verifier.verify(&old_token).await.is_ok());
    assert_eq!(
        server.requests(),
        2,
        "a known kid, but aged keys: fetched again"
    );

    // The issuer withdraws a key and no token ever names an unknown kid.
    server.set_keys(&[&new]);
    assert_eq!(
        verifier.verify(&old_token).await,
        Err(AuthError::InvalidToken(Rejection::UnknownKey(
            "2025".into()
        )))
    );
    assert_eq!(server.requests(), 3);

    // The JWKS down: aged keys are not used, the token is refused as a fault.
    server.set_mode(Mode::Failing);
    let outcome = verifier.verify(&new_token).await;
    assert_jwks_unavailable(&outcome, "503");
    let again = verifier.verify(&new_token).await;
    assert_jwks_unavailable(&again, "the last fetch");
    assert_eq!(
        server.requests(),
        4,
        "a failed fetch is not retried at once"
    );
}

#[tokio::test]
async fn a_withdrawn_key_is_refused_once_the_keys_age_out() {
    let (old, new) = (SigningKey::rsa("2025"), SigningKey::ec("2026"));
    let server = JwksServer::start(&[&old, &new]);
    let verifier = verifier(&server).with_max_key_age(Duration::from_secs(1));
    let old_token = old.sign(&claims(json!({})));
    assert!(verifier.verify(&old_token).await.is_ok());
    server.set_keys(&[&new]);
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    assert_eq!(
        verifier.verify(&old_token).await,
        Err(AuthError::InvalidToken(Rejection::UnknownKey(
            "2025".into()
        )))
    );
    assert_eq!(server.requests(), 2);
}

#[tokio::test]
async fn an_unreachable_jwks_is_a_fault_never_a_pass() {
    let key = SigningKey::rsa("rsa-1");
    let token = key.sign(&claims(json!({})));

    let failing = JwksServer::start(&[&key]);
    failing.set_mode(Mode::Failing);
    let verifier = verifier(&failing);
    let outcome = verifier.verify(&token).await;
    assert_jwks_unavailable(&outcome, "503");
    let again = verifier.verify(&token).await;
    assert!(
        matches!(again, Err(AuthError::JwksUnavailable(_))),
        "{again:?}"
    );
    assert_eq!(
        failing.requests(),
        1,
        "a failed fetch is not retried at once"
    );

    let hanging = JwksServer::start(&[&key]);
    hanging.set_mode(Mode::Hanging);
    let outcome = verifier_for(&hanging.jwks_url()).verify(&token).await;
    assert_jwks_unavailable(&outcome, "no answer within 2000 ms");

    let nobody = format!("http://127.0.0.1:{}/jwks.json", testkit::free_port());
    let outcome = verifier_for(&nobody).verify(&token).await;
    assert_jwks_unavailable(&outcome, "request failed");

    let not_jwks = JwksServer::serving(json!({"keys": "none"}));
    let outcome = verifier_for(&not_jwks.jwks_url()).verify(&token).await;
    assert_jwks_unavailable(&outcome, "not a JWKS document");
}

#[tokio::test]
async fn keys_come_back_once_the_jwks_does() {
    let key = SigningKey::ec("ec-1");
    let token = key.sign(&claims(json!({})));
    let server = JwksServer::start(&[&key]);
    server.set_mode(Mode::Failing);
    let verifier = verifier(&server).with_refetch_interval(Duration::ZERO);
    assert!(matches!(
        verifier.verify(&token).await,
        Err(AuthError::JwksUnavailable(_))
    ));
    server.set_mode(Mode::Up);
    assert!(verifier.verify(&token).await.is_ok());
    assert_eq!(server.requests(), 2);
}

#[tokio::test]
async fn the_issuer_alone_finds_its_well_known_jwks() {
    let key = SigningKey::rsa("rsa-1");
    let server = JwksServer::start(&[&key]);
    let issuer = server.issuer();
    let verifier = Verifier::new(&config(&[
        ("AUTH_ISSUER", &issuer),
        ("AUTH_AUDIENCE", AUDIENCE),
    ]))
    .expect("a verifier");
    let token = key.sign(&claims(json!({"iss": issuer})));
    assert_eq!(
        verifier.verify(&token).await.map(|p| p.subject),
        Ok("ada".to_owned())
    );
    assert_eq!(server.requests(), 1);
}

fn verifier_for(jwks_url: &str) -> Verifier {
    Verifier::new(&config(&[
        ("AUTH_ISSUER", ISSUER),
        ("AUTH_AUDIENCE", AUDIENCE),
        ("AUTH_JWKS_URL", jwks_url),
    ]))
    .expect("a verifier")
}
