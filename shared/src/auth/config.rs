//! The token issuer's settings, read once at start-up: `AUTH_ISSUER`,
//! `AUTH_AUDIENCE` (required), `AUTH_JWKS_URL` (optional).

use http::Uri;

use crate::config::ConfigError;

/// Where the JWKS sits under an issuer when `AUTH_JWKS_URL` is not set
/// (the path Cognito, Auth0 and most OpenID issuers publish it at).
pub const JWKS_PATH: &str = "/.well-known/jwks.json";

/// Whom tokens must come from and be meant for, and where their keys are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthConfig {
    /// The exact `iss` of accepted tokens (`AUTH_ISSUER`).
    pub issuer: String,
    /// Accepted `aud` values (`AUTH_AUDIENCE`, comma-separated); a token
    /// must name at least one (a Cognito access token, in `client_id`).
    pub audiences: Vec<String>,
    /// The issuer's JWKS (`AUTH_JWKS_URL`, default `${AUTH_ISSUER}/.well-known/jwks.json`):
    /// `https`, or `http` on the loopback interface only.
    pub jwks_url: Uri,
}

impl AuthConfig {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads settings through `lookup` (the environment, or a test's map).
    /// Missing or malformed: an error naming the variable.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let issuer = required(&lookup, "AUTH_ISSUER", "the `iss` of the access tokens")?;
        let audience = required(&lookup, "AUTH_AUDIENCE", "the `aud` of the access tokens")?;
        let audiences: Vec<String> = audience.split(',').map(|a| a.trim().to_owned()).collect();
        if audiences.iter().any(String::is_empty) {
            return Err(ConfigError {
                variable: "AUTH_AUDIENCE",
                reason: format!("`{audience}` has an empty entry; separate audiences by commas"),
            });
        }
        let jwks_url = match lookup("AUTH_JWKS_URL") {
            Some(url) => jwks_url(&url).map_err(|reason| ConfigError {
                variable: "AUTH_JWKS_URL",
                reason,
            })?,
            None => {
                let derived = format!("{}{JWKS_PATH}", issuer.trim_end_matches('/'));
                jwks_url(&derived).map_err(|reason| ConfigError {
                    variable: "AUTH_ISSUER",
                    reason: format!(
                        "cannot derive the JWKS URL from it: {reason}; \
                         set AUTH_JWKS_URL if the keys are elsewhere"
                    ),
                })?
            }
        };
        Ok(Self {
            issuer,
            audiences,
            jwks_url,
        })
    }
}

/// A set, non-blank value, kept exactly as given (an issuer is compared
/// byte for byte with `iss`).
fn required(
    lookup: &impl Fn(&str) -> Option<String>,
    variable: &'static str,
    what: &str,
) -> Result<String, ConfigError> {
    match lookup(variable) {
        None => Err(ConfigError {
            variable,
            reason: format!("not set; it must be {what}"),
        }),
        Some(value) if value.trim().is_empty() => Err(ConfigError {
            variable,
            reason: format!("empty; it must be {what}"),
        }),
        Some(value) if value.trim() != value => Err(ConfigError {
            variable,
            reason: format!("`{value}` has surrounding spaces"),
        }),
        Some(value) => Ok(value),
    }
}

/// An absolute `https` URL, or `http` to the loopback interface (a local
/// issuer, tests): the keys decide who gets in, so they never travel in
/// clear over a network.
fn jwks_url(text: &str) -> Result<Uri, String> {
    let uri: Uri = text
        .parse()
        .map_err(|e| format!("`{text}` is not a URL: {e}"))?;
    let host = uri.host().unwrap_or_default();
    match uri.scheme_str() {
        Some("https") if !host.is_empty() => Ok(uri),
        Some("http") if matches!(host, "127.0.0.1" | "localhost" | "[::1]") => Ok(uri),
        Some("http") => Err(format!(
            "`{text}` is plain http to a remote host; use https"
        )),
        _ => Err(format!("`{text}` is not an absolute https URL")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Environment variables and their values.
    type Env<'a> = &'a [(&'a str, &'a str)];

    fn config(pairs: Env<'_>) -> Result<AuthConfig, ConfigError> {
        AuthConfig::from_lookup(|name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    const ISSUER: &str = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Abc";

    #[test]
    fn reads_the_settings_and_derives_the_jwks_url() {
        let cases: [(Env<'_>, &str, &[&str], &str); 4] = [
            (
                &[("AUTH_ISSUER", ISSUER), ("AUTH_AUDIENCE", "api")],
                ISSUER,
                &["api"],
                "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Abc/.well-known/jwks.json",
            ),
            (
                &[
                    ("AUTH_ISSUER", "https://tenant.auth0.example/"),
                    ("AUTH_AUDIENCE", "api, web"),
                ],
                "https://tenant.auth0.example/",
                &["api", "web"],
                "https://tenant.auth0.example/.well-known/jwks.json",
            ),
            (
                &[
                    ("AUTH_ISSUER", "https://id.example/realms/main"),
                    ("AUTH_AUDIENCE", "api"),
                    (
                        "AUTH_JWKS_URL",
                        "https://id.example/realms/main/protocol/openid-connect/certs",
                    ),
                ],
                "https://id.example/realms/main",
                &["api"],
                "https://id.example/realms/main/protocol/openid-connect/certs",
            ),
            (
                &[
                    ("AUTH_ISSUER", "http://127.0.0.1:9999"),
                    ("AUTH_AUDIENCE", "api"),
                ],
                "http://127.0.0.1:9999",
                &["api"],
                "http://127.0.0.1:9999/.well-known/jwks.json",
            ),
        ];
        for (pairs, issuer, audiences, url) in cases {
            let cfg = config(pairs).unwrap_or_else(|e| panic!("{pairs:?}: {e}"));
            assert_eq!(cfg.issuer, issuer);
            assert_eq!(cfg.audiences, audiences);
            assert_eq!(cfg.jwks_url.to_string(), url);
        }
    }

    #[test]
    fn refuses_missing_or_malformed_settings_naming_the_variable() {
        let cases: [(Env<'_>, &str, &str); 10] = [
            (&[("AUTH_AUDIENCE", "api")], "AUTH_ISSUER", "not set"),
            (&[("AUTH_ISSUER", ISSUER)], "AUTH_AUDIENCE", "not set"),
            (
                &[("AUTH_ISSUER", " "), ("AUTH_AUDIENCE", "api")],
                "AUTH_ISSUER",
                "empty",
            ),
            (
                &[("AUTH_ISSUER", ISSUER), ("AUTH_AUDIENCE", "")],
                "AUTH_AUDIENCE",
                "empty",
            ),
            (
                &[("AUTH_ISSUER", ISSUER), ("AUTH_AUDIENCE", "api,")],
                "AUTH_AUDIENCE",
                "empty entry",
            ),
            (
                &[
                    ("AUTH_ISSUER", " https://a.example"),
                    ("AUTH_AUDIENCE", "api"),
                ],
                "AUTH_ISSUER",
                "surrounding spaces",
            ),
            (
                &[("AUTH_ISSUER", "my-issuer"), ("AUTH_AUDIENCE", "api")],
                "AUTH_ISSUER",
                "set AUTH_JWKS_URL",
            ),
            (
                &[
                    ("AUTH_ISSUER", "http://id.example"),
                    ("AUTH_AUDIENCE", "api"),
                ],
                "AUTH_ISSUER",
                "plain http",
            ),
            (
                &[
                    ("AUTH_ISSUER", ISSUER),
                    ("AUTH_AUDIENCE", "api"),
                    ("AUTH_JWKS_URL", "http://keys.example/jwks.json"),
                ],
                "AUTH_JWKS_URL",
                "plain http",
            ),
            (
                &[
                    ("AUTH_ISSUER", ISSUER),
                    ("AUTH_AUDIENCE", "api"),
                    ("AUTH_JWKS_URL", "/jwks.json"),
                ],
                "AUTH_JWKS_URL",
                "not an absolute https URL",
            ),
        ];
        for (pairs, variable, reason) in cases {
            let error = config(pairs).expect_err(&format!("{pairs:?}"));
            assert_eq!(error.variable, variable, "{pairs:?}");
            assert!(error.reason.contains(reason), "{pairs:?}: {error}");
        }
    }
}
