//! The issuer's signing keys: read from its JWKS, kept in the process, and
//! fetched again when a token names a key not seen yet (key rotation), at
//! most once per refetch interval, so a flood of made-up `kid`s costs the
//! issuer one request a minute.
//!
//! Keys are trusted for [`MAX_KEY_AGE`] after the fetch that brought them:
//! then the next token fetches the JWKS again, so a key the issuer
//! withdraws is refused within that age on every warm instance. While that
//! fetch fails, tokens are refused as a fault ([`AuthError::JwksUnavailable`]):
//! keys past their age are never used.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{
    AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, KeyOperations, PublicKeyUse,
};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Deserialize;
use serde_json::Value;

use super::error::{AuthError, Rejection};
use super::fetch::Fetcher;

/// How long after a fetch an unknown `kid` may cause another one.
pub const REFETCH_INTERVAL: Duration = Duration::from_secs(60);

/// How long after a failed fetch, with no usable keys, the next may start:
/// short, so a blip at a cold start does not lock callers out for a minute.
const RETRY_INTERVAL: Duration = Duration::from_secs(5);

/// How long after their fetch keys are used: past it, the JWKS is fetched
/// again before any token is verified (10 minutes).
pub const MAX_KEY_AGE: Duration = Duration::from_secs(600);

/// A verification key, with the one algorithm it may verify.
#[derive(Debug)]
pub(crate) struct Key {
    pub(crate) algorithm: Algorithm,
    pub(crate) decoding: DecodingKey,
}

/// The usable keys of one JWKS document, by `kid`.
#[derive(Debug, Default)]
pub(crate) struct KeySet {
    keys: HashMap<String, Arc<Key>>,
}

#[derive(Deserialize)]
struct Document {
    keys: Vec<Value>,
}

impl KeySet {
    /// Reads a JWKS document. Keys this verifier cannot use (encryption
    /// keys, other algorithms, no `kid`) are left out, each with a log line;
    /// a document that is not a JWKS is an error.
    pub(crate) fn parse(document: &[u8]) -> Result<Self, String> {
        let document: Document =
            serde_json::from_slice(document).map_err(|e| format!("not a JWKS document: {e}"))?;
        let mut keys = HashMap::new();
        for jwk in &document.keys {
            match usable(jwk) {
                Ok((kid, key)) => match keys.entry(kid) {
                    Entry::Vacant(slot) => {
                        slot.insert(Arc::new(key));
                    }
                    Entry::Occupied(slot) => {
                        tracing::warn!(
                            kid = slot.key(),
                            "JWKS lists a kid twice; the first key is used"
                        );
                    }
                },
                Err(reason) => {
                    let kid = jwk.get("kid").and_then(Value::as_str).unwrap_or_default();
                    tracing::info!(kid, reason, "JWKS key left out");
                }
            }
        }
        Ok(Self { keys })
    }

    /// The key named `kid`.
    pub(crate) fn get(&self, kid: &str) -> Option<Arc<Key>> {
        self.keys.get(kid).cloned()
    }

    /// How many keys are usable.
    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }
}

/// A JWK as a verification key: a signing key with a `kid`, RSA for RS256
/// or P-256 for ES256. The algorithm comes from the key (`alg`, else `kty`
/// and `crv`), never from a token.
fn usable(jwk: &Value) -> Result<(String, Key), String> {
    let jwk: Jwk = serde_json::from_value(jwk.clone()).map_err(|e| format!("unreadable: {e}"))?;
    let kid = jwk.common.key_id.clone().ok_or("no kid")?;
    if let Some(key_use) = &jwk.common.public_key_use
        && *key_use != PublicKeyUse::Signature
    {
        return Err(format!("`use` is {key_use:?}, not signing"));
    }
    if let Some(operations) = &jwk.common.key_operations
        && !operations.contains(&KeyOperations::Verify)
    {
        return Err("`key_ops` lacks verify".into());
    }
    let declared = jwk.common.key_algorithm;
    let algorithm = match (&jwk.algorithm, declared) {
        (AlgorithmParameters::RSA(_), None | Some(KeyAlgorithm::RS256)) => Algorithm::RS256,
        (AlgorithmParameters::EllipticCurve(ec), None | Some(KeyAlgorithm::ES256))
            if ec.curve == EllipticCurve::P256 =>
        {
            Algorithm::ES256
        }
        (_, Some(alg)) => return Err(format!("algorithm {alg:?} is not accepted for this key")),
        (_, None) => return Err("key type is not RSA or EC P-256".into()),
    };
    let decoding = DecodingKey::from_jwk(&jwk).map_err(|e| format!("unusable key: {e}"))?;
    Ok((
        kid,
        Key {
            algorithm,
            decoding,
        },
    ))
}

/// The JWKS of one issuer, cached in the process.
#[derive(Debug)]
pub(crate) struct Jwks {
    fetcher: Fetcher,
    /// `None` until a fetch succeeds; then the latest document's keys.
    keys: RwLock<Option<Fetched>>,
    /// When the last fetch started. Held across the fetch: one at a time,
    /// and those waiting find the new keys when it is done.
    last_fetch: tokio::sync::Mutex<Option<Instant>>,
    refetch_interval: Duration,
    max_key_age: Duration,
}

/// The keys of a successful fetch, and when that fetch started.
#[derive(Debug, Clone)]
struct Fetched {
    keys: Arc<KeySet>,
    at: Instant,
}

impl Jwks {
    /// Nothing is fetched until a token needs a key.
    pub(crate) fn new(fetcher: Fetcher) -> Self {
        Self {
            fetcher,
            keys: RwLock::new(None),
            last_fetch: tokio::sync::Mutex::new(None),
            refetch_interval: REFETCH_INTERVAL,
            max_key_age: MAX_KEY_AGE,
        }
    }

    pub(crate) fn set_refetch_interval(&mut self, interval: Duration) {
        self.refetch_interval = interval;
    }

    pub(crate) fn set_max_key_age(&mut self, age: Duration) {
        self.max_key_age = age;
    }

    /// The key named `kid`, fetching the JWKS if it is not known yet and
    /// the last fetch is old enough, or if the keys are past their age.
    pub(crate) async fn key(&self, kid: &str) -> Result<Arc<Key>, AuthError> {
        if let Some(key) = self.cached(kid) {
            return Ok(key);
        }
        let mut last_fetch = self.last_fetch.lock().await;
        // Another caller may have fetched while this one waited.
        if let Some(key) = self.cached(kid) {
            return Ok(key);
        }
        let fetched = self.current();
        let fresh = fetched.as_ref().is_some_and(|f| self.is_fresh(f));
        if let Some(at) = *last_fetch {
            // Keys that aged out of a successful fetch are fetched again at
            // once; after a failed one, not before the retry interval.
            let failed = fetched.as_ref().is_none_or(|f| f.at != at);
            let wait = match (fresh, failed) {
                (true, _) => self.refetch_interval,
                (false, true) => self.refetch_interval.min(RETRY_INTERVAL),
                (false, false) => Duration::ZERO,
            };
            if at.elapsed() < wait {
                return Err(if fresh {
                    Rejection::UnknownKey(kid.to_owned()).into()
                } else {
                    AuthError::JwksUnavailable(format!(
                        "the last fetch of {} failed; the next is due in under {} s",
                        self.fetcher.url(),
                        wait.as_secs().max(1)
                    ))
                });
            }
        }
        let at = Instant::now();
        *last_fetch = Some(at);
        let document = self
            .fetcher
            .get()
            .await
            .and_then(|body| KeySet::parse(&body));
        match document {
            Ok(set) => {
                tracing::info!(url = %self.fetcher.url(), keys = set.len(), "fetched the issuer's JWKS");
                let set = Arc::new(set);
                *self.keys.write().unwrap_or_else(PoisonError::into_inner) = Some(Fetched {
                    keys: Arc::clone(&set),
                    at,
                });
                set.get(kid)
                    .ok_or_else(|| Rejection::UnknownKey(kid.to_owned()).into())
            }
            Err(reason) => {
                let reason = format!("{}: {reason}", self.fetcher.url());
                tracing::error!(reason, "cannot fetch the issuer's JWKS");
                Err(AuthError::JwksUnavailable(reason))
            }
        }
    }

    fn current(&self) -> Option<Fetched> {
        self.keys
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn is_fresh(&self, fetched: &Fetched) -> bool {
        fetched.at.elapsed() < self.max_key_age
    }

    /// The key named `kid` among keys still within their age.
    fn cached(&self, kid: &str) -> Option<Arc<Key>> {
        let fetched = self.current()?;
        if self.is_fresh(&fetched) {
            fetched.keys.get(kid)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    // Public keys from RFC 7517, appendix A.1 (an EC P-256 and an RSA key).
    const EC_X: &str = "MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4";
    const EC_Y: &str = "4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM";
    const RSA_N: &str = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";

    fn ec(extra: Value) -> Value {
        let mut jwk = json!({"kty": "EC", "crv": "P-256", "x": EC_X, "y": EC_Y});
        merge(&mut jwk, extra);
        jwk
    }

    fn rsa(extra: Value) -> Value {
        let mut jwk = json!({"kty": "RSA", "n": RSA_N, "e": "AQAB"});
        merge(&mut jwk, extra);
        jwk
    }

    fn merge(jwk: &mut Value, extra: Value) {
        if let (Value::Object(base), Value::Object(extra)) = (jwk, extra) {
            base.extend(extra);
        }
    }

    #[test]
    fn the_algorithm_comes_from_the_key_and_unusable_keys_are_left_out() {
        let cases: [(Value, Result<Algorithm, &str>); 13] = [
            (rsa(json!({"kid": "r"})), Ok(Algorithm::RS256)),
            (
                rsa(json!({"kid": "r", "alg": "RS256", "use": "sig"})),
                Ok(Algorithm::RS256),
            ),
            (ec(json!({"kid": "e"})), Ok(Algorithm::ES256)),
            (
                ec(json!({"kid": "e", "alg": "ES256", "key_ops": ["verify"]})),
                Ok(Algorithm::ES256),
            ),
            (rsa(json!({})), Err("no kid")),
            (rsa(json!({"kid": "r", "use": "enc"})), Err("not signing")),
            (
                rsa(json!({"kid": "r", "key_ops": ["encrypt"]})),
                Err("lacks verify"),
            ),
            (rsa(json!({"kid": "r", "alg": "RS512"})), Err("RS512")),
            (rsa(json!({"kid": "r", "alg": "PS256"})), Err("PS256")),
            (rsa(json!({"kid": "r", "alg": "ES256"})), Err("ES256")),
            (ec(json!({"kid": "e", "alg": "RS256"})), Err("RS256")),
            (
                json!({"kid": "h", "kty": "oct", "k": "c2VjcmV0"}),
                Err("not RSA or EC P-256"),
            ),
            (
                json!({"kid": "h", "kty": "oct", "k": "c2VjcmV0", "alg": "HS256"}),
                Err("HS256"),
            ),
        ];
        for (jwk, expected) in cases {
            match (usable(&jwk), expected) {
                (Ok((_, key)), Ok(algorithm)) => assert_eq!(key.algorithm, algorithm, "{jwk}"),
                (Err(reason), Err(part)) => assert!(reason.contains(part), "{jwk}: {reason}"),
                (outcome, expected) => panic!(
                    "{jwk}: got {:?}, expected {expected:?}",
                    outcome.map(|(_, key)| key.algorithm)
                ),
            }
        }
    }

    #[test]
    fn a_document_keeps_its_usable_keys_and_the_first_of_a_kid() {
        let document = json!({"keys": [
            ec(json!({"kid": "a"})),
            rsa(json!({"kid": "a"})),
            rsa(json!({"kid": "b", "use": "enc"})),
            {"kty": "OKP", "crv": "Ed25519", "kid": "c", "x": EC_X},
            {"kty": "new-kind", "kid": "d"},
            rsa(json!({"kid": "e"})),
        ]});
        let set = KeySet::parse(document.to_string().as_bytes()).expect("a JWKS");
        assert_eq!(set.len(), 2);
        assert_eq!(set.get("a").map(|k| k.algorithm), Some(Algorithm::ES256));
        assert_eq!(set.get("e").map(|k| k.algorithm), Some(Algorithm::RS256));
        for kid in ["b", "c", "d", "z"] {
            assert!(set.get(kid).is_none(), "{kid}");
        }
    }

    #[test]
    fn a_document_that_is_not_a_jwks_is_an_error() {
        for body in [&b"<html>"[..], b"{}", b"{\"keys\": {}}", b"[]", b""] {
            let error = KeySet::parse(body).expect_err(&String::from_utf8_lossy(body));
            assert!(error.starts_with("not a JWKS document"), "{error}");
        }
        let empty = KeySet::parse(br#"{"keys": []}"#).expect("an empty JWKS is a JWKS");
        assert_eq!(empty.len(), 0);
    }
}
