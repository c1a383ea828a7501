//! Token verification: the header picks the key, the key fixes the
//! algorithm, `jsonwebtoken` checks the signature and the claims.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, Validation};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::config::AuthConfig;
use super::error::{AuthError, Rejection};
use super::fetch::Fetcher;
use super::jwks::Jwks;
use super::principal::Principal;
use crate::config::ConfigError;

/// Clock skew tolerated on `exp` and `nbf`, in seconds.
pub const LEEWAY_SECONDS: u64 = 60;

/// How long a JWKS fetch may take, all included: well inside a function's
/// timeout, so an unreachable issuer ends in a clear error, not a timeout.
pub const JWKS_TIMEOUT: Duration = Duration::from_secs(2);

/// Longer than any real access token; refused before any parsing.
const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// The claims every accepted token carries; `aud` too, checked by
/// [`audience`] because Cognito's access tokens name their audience in
/// `client_id` instead.
const REQUIRED_CLAIMS: [&str; 3] = ["exp", "iss", "sub"];

/// Verifies access tokens of one issuer. Build it once per process; it
/// keeps the issuer's keys between requests.
#[derive(Debug)]
pub struct Verifier {
    jwks: Jwks,
    audiences: Vec<String>,
    rs256: Validation,
    es256: Validation,
}

/// The header fields read before the key is chosen.
#[derive(Deserialize)]
struct Header {
    alg: String,
    kid: Option<String>,
}

impl Verifier {
    /// A verifier for `config`. Fetches nothing yet: the JWKS is fetched
    /// when the first token needs it.
    pub fn new(config: &AuthConfig) -> Result<Self, ConfigError> {
        super::crypto::install();
        let fetcher =
            Fetcher::new(config.jwks_url.clone(), JWKS_TIMEOUT).map_err(|reason| ConfigError {
                variable: "AUTH_JWKS_URL",
                reason,
            })?;
        let validation = |algorithm| {
            let mut validation = Validation::new(algorithm);
            validation.set_issuer(&[&config.issuer]);
            validation.set_audience(&config.audiences);
            validation.set_required_spec_claims(&REQUIRED_CLAIMS);
            validation.leeway = LEEWAY_SECONDS;
            validation.validate_exp = true;
            validation.validate_nbf = true;
            validation.validate_aud = true;
            validation
        };
        Ok(Self {
            jwks: Jwks::new(fetcher),
            audiences: config.audiences.clone(),
            rs256: validation(Algorithm::RS256),
            es256: validation(Algorithm::ES256),
        })
    }

    /// A verifier for the settings in the environment ([`AuthConfig::from_env`]).
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::new(&AuthConfig::from_env()?)
    }

    /// Changes how soon after a fetch an unknown `kid` may fetch the JWKS
    /// again (default [`super::REFETCH_INTERVAL`], a minute).
    pub fn with_refetch_interval(mut self, interval: Duration) -> Self {
        self.jwks.set_refetch_interval(interval);
        self
    }

    /// Changes how long after their fetch the issuer's keys are used
    /// (default [`super::MAX_KEY_AGE`], 10 minutes); past it, the next
    /// token fetches the JWKS again, and is refused while that fails.
    pub fn with_max_key_age(mut self, age: Duration) -> Self {
        self.jwks.set_max_key_age(age);
        self
    }

    /// Verifies `token` (the JWT itself, without `Bearer `) and returns
    /// its caller.
    pub async fn verify(&self, token: &str) -> Result<Principal, AuthError> {
        if token.is_empty() {
            return Err(Rejection::Missing.into());
        }
        if token.len() > MAX_TOKEN_BYTES {
            return Err(Rejection::Malformed.into());
        }
        let header = header(token)?;
        let algorithm = match header.alg.as_str() {
            "RS256" => Algorithm::RS256,
            "ES256" => Algorithm::ES256,
            other => return Err(Rejection::Algorithm(other.to_owned()).into()),
        };
        let kid = header.kid.ok_or(Rejection::MissingKeyId)?;
        let key = self.jwks.key(&kid).await?;
        if key.algorithm != algorithm {
            return Err(Rejection::AlgorithmMismatch {
                token: header.alg,
                key: format!("{:?}", key.algorithm),
            }
            .into());
        }
        let validation = match key.algorithm {
            Algorithm::ES256 => &self.es256,
            _ => &self.rs256,
        };
        let data = jsonwebtoken::decode::<Map<String, Value>>(token, &key.decoding, validation)
            .map_err(Rejection::from)?;
        audience(&data.claims, &self.audiences)?;
        Ok(Principal::from_claims(data.claims)?)
    }
}

/// A token is for one of `audiences`: its `aud` (which `jsonwebtoken`
/// has matched when present), or, for a Cognito access token
/// (`token_use: access`, no `aud`), its `client_id`.
fn audience(claims: &Map<String, Value>, audiences: &[String]) -> Result<(), Rejection> {
    if claims.contains_key("aud") {
        return Ok(());
    }
    let cognito_access = claims.get("token_use").and_then(Value::as_str) == Some("access");
    match claims.get("client_id").and_then(Value::as_str) {
        Some(client) if cognito_access && audiences.iter().any(|a| a == client) => Ok(()),
        Some(_) if cognito_access => Err(Rejection::Audience),
        _ => Err(Rejection::Claim("aud".into())),
    }
}

/// The JOSE header of a compact JWS, read without trusting anything in it.
fn header(token: &str) -> Result<Header, Rejection> {
    let mut parts = token.split('.');
    let (Some(header), Some(_), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Rejection::Malformed);
    };
    let json = URL_SAFE_NO_PAD
        .decode(header)
        .map_err(|_| Rejection::Malformed)?;
    serde_json::from_slice(&json).map_err(|_| Rejection::Malformed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(json: &str) -> String {
        URL_SAFE_NO_PAD.encode(json)
    }

    #[test]
    fn the_header_is_read_from_the_first_of_three_parts() {
        let good = format!("{}.e30.c2ln", encode(r#"{"alg":"ES256","kid":"k1"}"#));
        let read = header(&good).expect("a header");
        assert_eq!(
            (read.alg.as_str(), read.kid.as_deref()),
            ("ES256", Some("k1"))
        );

        let none = format!("{}.e30.", encode(r#"{"alg":"none"}"#));
        assert_eq!(header_alg(&none), Ok("none".to_owned()));

        for bad in [
            String::new(),
            "abc".into(),
            "a.b".into(),
            format!("{}.e30.c2ln.x", encode(r#"{"alg":"ES256"}"#)),
            "!!.e30.c2ln".into(),
            format!("{}.e30.c2ln", encode("not json")),
            format!("{}.e30.c2ln", encode(r#"{"kid":"k1"}"#)),
            format!("{}.e30.c2ln", encode(r#"{"alg":"ES256","kid":7}"#)),
        ] {
            assert!(header(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn without_aud_only_a_cognito_access_token_names_its_audience_in_client_id() {
        let audiences = ["api".to_owned(), "web".to_owned()];
        let cases = [
            (
                serde_json::json!({"aud": "checked-by-jsonwebtoken"}),
                Ok(()),
            ),
            (
                serde_json::json!({"token_use": "access", "client_id": "web"}),
                Ok(()),
            ),
            (
                serde_json::json!({"token_use": "access", "client_id": "other"}),
                Err(Rejection::Audience),
            ),
            (
                serde_json::json!({"token_use": "id", "client_id": "api"}),
                Err(Rejection::Claim("aud".into())),
            ),
            (
                serde_json::json!({"client_id": "api"}),
                Err(Rejection::Claim("aud".into())),
            ),
            (
                serde_json::json!({"token_use": "access"}),
                Err(Rejection::Claim("aud".into())),
            ),
            (serde_json::json!({}), Err(Rejection::Claim("aud".into()))),
        ];
        for (claims, expected) in cases {
            let claims = claims.as_object().cloned().unwrap_or_default();
            assert_eq!(audience(&claims, &audiences), expected, "{claims:?}");
        }
    }

    fn header_alg(token: &str) -> Result<String, Rejection> {
        header(token).map(|h| h.alg)
    }
}
