//! Configuration shared by every function, read once at start-up.

use std::fmt;

use crate::cors::Cors;

/// The body maximum of a function that declares none: small, because a
/// body is held (and parsed) in memory whole.
pub const DEFAULT_MAX_BODY_BYTES: usize = 64 * 1024;

/// Lambda's synchronous invocation payload limit: no body is ever larger
/// (the event around it counts too), so a higher `MAX_BODY_BYTES` means "no
/// limit of our own".
pub const LAMBDA_PAYLOAD_BYTES: usize = 6 * 1024 * 1024;

/// What a function declares in code about the requests it accepts, next to
/// its routes; each setting is a default that the environment overrides
/// (`MAX_BODY_BYTES` replaces `max_body_bytes`, up or down).
///
/// ```
/// use shared::config::{Config, Defaults};
///
/// const USERS: Defaults = Defaults::new().max_body_bytes(16 * 1024);
/// let config = Config::from_lookup_with(USERS, |_| None).unwrap();
/// assert_eq!(config.max_body_bytes, 16 * 1024);
/// let raised = Config::from_lookup_with(USERS, |name| {
///     (name == "MAX_BODY_BYTES").then(|| "1048576".to_owned())
/// });
/// assert_eq!(raised.unwrap().max_body_bytes, 1 << 20);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Defaults {
    /// Largest accepted request body in bytes when `MAX_BODY_BYTES` is unset.
    pub max_body_bytes: usize,
}

impl Defaults {
    /// What a function gets when it declares nothing.
    pub const fn new() -> Self {
        Self {
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        }
    }

    /// Declares the largest body the function's routes accept.
    pub const fn max_body_bytes(self, bytes: usize) -> Self {
        Self {
            max_body_bytes: bytes,
        }
    }
}

impl Default for Defaults {
    fn default() -> Self {
        Self::new()
    }
}

/// The path of a custom domain's base path mapping to this API
/// (`API_BASE_PATH`): `/orders` when `api.example.com/orders` is mapped to
/// it. Requests on a custom domain arrive with it in front of the API's own
/// path; it is stripped before routing, and put back by
/// [`crate::Request::public_path`].
///
/// One or more segments of letters, digits, `-`, `.` and `_` (what API
/// Gateway allows in a mapping), with or without the leading `/`:
///
/// ```
/// use shared::config::BasePath;
///
/// assert_eq!(BasePath::parse("orders").unwrap().as_str(), "/orders");
/// assert_eq!(BasePath::parse("/v1/orders").unwrap().as_str(), "/v1/orders");
/// for bad in ["/", "/orders/", "//orders", "/a//b", "/a/../b", "/or ders", "/%6Frders"] {
///     assert!(BasePath::parse(bad).is_err(), "{bad}");
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BasePath(String);

impl BasePath {
    /// Reads a base path; the error says what is wrong with it.
    pub fn parse(value: &str) -> Result<Self, String> {
        let path = value.strip_prefix('/').unwrap_or(value);
        if path.is_empty() {
            return Err("is empty; leave the variable unset when no base path is mapped".into());
        }
        for segment in path.split('/') {
            if segment.is_empty() {
                return Err(format!(
                    "`{value}` has an empty segment; write it as `/orders` or `/v1/orders`"
                ));
            }
            if segment == "." || segment == ".." {
                return Err(format!("`{value}` has a `{segment}` segment"));
            }
            if let Some(bad) = segment
                .chars()
                .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_')))
            {
                return Err(format!(
                    "`{value}` contains {bad:?}; a base path has letters, digits, `-`, `.`, `_` and `/`"
                ));
            }
        }
        Ok(Self(format!("/{path}")))
    }

    /// The base path with its leading `/`, without a trailing one.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for BasePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Settings of the HTTP layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Allowed origins (`CORS_ALLOW_ORIGINS`, comma-separated, default `*`).
    pub cors: Cors,
    /// Largest accepted request body in bytes (`MAX_BODY_BYTES`, else the
    /// function's [`Defaults`]); larger is a 413, answered before parsing.
    pub max_body_bytes: usize,
    /// The custom domain's base path mapping (`API_BASE_PATH`, unset or
    /// empty: none), stripped from requests that are not on the API's
    /// `execute-api` host.
    pub base_path: Option<BasePath>,
}

impl Default for Config {
    fn default() -> Self {
        Self::from(Defaults::new())
    }
}

/// The settings a function declares, with nothing from the environment.
impl From<Defaults> for Config {
    fn from(defaults: Defaults) -> Self {
        Self {
            cors: Cors::AnyOrigin,
            max_body_bytes: defaults.max_body_bytes,
            base_path: None,
        }
    }
}

/// A setting that is present but unusable; the function refuses to start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The environment variable.
    pub variable: &'static str,
    /// Why its value is refused.
    pub reason: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid {}: {}", self.variable, self.reason)
    }
}

impl std::error::Error for ConfigError {}

impl Config {
    /// Reads the process environment over a function's `defaults`.
    pub fn from_env(defaults: Defaults) -> Result<Self, ConfigError> {
        Self::from_lookup_with(defaults, |name| std::env::var(name).ok())
    }

    /// Reads settings through `lookup` (the environment, or a test's map)
    /// over the defaults of a function that declares none.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        Self::from_lookup_with(Defaults::new(), lookup)
    }

    /// Reads settings through `lookup` over a function's `defaults`: a set
    /// variable wins over the declared default.
    pub fn from_lookup_with(
        defaults: Defaults,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let cors = lookup("CORS_ALLOW_ORIGINS")
            .map(|v| Cors::parse(&v))
            .unwrap_or_default();
        let max_body_bytes = match lookup("MAX_BODY_BYTES") {
            None => defaults.max_body_bytes,
            Some(value) => value
                .trim()
                .parse::<usize>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| ConfigError {
                    variable: "MAX_BODY_BYTES",
                    reason: format!("`{value}` is not a positive number of bytes"),
                })?,
        };
        let base_path = match lookup("API_BASE_PATH").filter(|v| !v.is_empty()) {
            None => None,
            Some(value) => Some(BasePath::parse(&value).map_err(|reason| ConfigError {
                variable: "API_BASE_PATH",
                reason,
            })?),
        };
        Ok(Self {
            cors,
            max_body_bytes,
            base_path,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        Config::from_lookup(|name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    #[test]
    fn defaults() {
        assert_eq!(config(&[]), Ok(Config::default()));
    }

    #[test]
    fn reads_settings() {
        let cfg = config(&[
            ("CORS_ALLOW_ORIGINS", "https://a.example"),
            ("MAX_BODY_BYTES", "1024"),
        ])
        .expect("valid");
        assert_eq!(cfg.cors, Cors::Origins(vec!["https://a.example".into()]));
        assert_eq!(cfg.max_body_bytes, 1024);
    }

    #[test]
    fn the_environment_overrides_a_declared_body_limit() {
        let declared = Defaults::new().max_body_bytes(16 * 1024);
        let lookup = |value: Option<&'static str>| {
            move |name: &str| {
                value
                    .filter(|_| name == "MAX_BODY_BYTES")
                    .map(str::to_owned)
            }
        };
        let cases = [
            (Defaults::new(), None, DEFAULT_MAX_BODY_BYTES),
            (declared, None, 16 * 1024),
            (declared, Some("6291456"), LAMBDA_PAYLOAD_BYTES),
            (declared, Some("1024"), 1024),
            (Defaults::new(), Some("1048576"), 1 << 20),
        ];
        for (defaults, variable, expected) in cases {
            let config = Config::from_lookup_with(defaults, lookup(variable)).expect("valid");
            assert_eq!(config.max_body_bytes, expected, "{defaults:?} {variable:?}");
        }
        assert_eq!(DEFAULT_MAX_BODY_BYTES, 64 * 1024);
        assert_eq!(Config::from(declared).max_body_bytes, 16 * 1024);
    }

    #[test]
    fn reads_a_base_path_once_and_refuses_a_malformed_one() {
        let cases = [
            (None, Ok(None)),
            (Some(""), Ok(None)),
            (Some("orders"), Ok(Some("/orders"))),
            (Some("/orders"), Ok(Some("/orders"))),
            (Some("/v1/orders.api_2-x"), Ok(Some("/v1/orders.api_2-x"))),
            (Some("/"), Err("is empty")),
            (Some("/orders/"), Err("empty segment")),
            (Some("//orders"), Err("empty segment")),
            (Some("/a//b"), Err("empty segment")),
            (Some("/a/../b"), Err("`..` segment")),
            (Some("/./b"), Err("`.` segment")),
            (Some(" /orders"), Err("contains ' '")),
            (Some("/orders?x=1"), Err("contains '?'")),
            (Some("/%6Frders"), Err("contains '%'")),
            (Some("/caf\u{e9}"), Err("contains 'é'")),
        ];
        for (value, expected) in cases {
            let pairs: Vec<(&str, &str)> =
                value.map(|v| ("API_BASE_PATH", v)).into_iter().collect();
            let got = config(&pairs);
            match expected {
                Ok(path) => {
                    let config = got.unwrap_or_else(|e| panic!("{value:?}: {e}"));
                    assert_eq!(
                        config.base_path.as_ref().map(BasePath::as_str),
                        path,
                        "{value:?}"
                    );
                }
                Err(reason) => {
                    let error = got.expect_err(&format!("{value:?}"));
                    assert_eq!(error.variable, "API_BASE_PATH");
                    assert!(error.to_string().contains(reason), "{value:?}: {error}");
                }
            }
        }
    }

    #[test]
    fn refuses_a_bad_limit() {
        for bad in ["0", "-1", "six", ""] {
            let error = config(&[("MAX_BODY_BYTES", bad)]).expect_err(bad);
            assert_eq!(error.variable, "MAX_BODY_BYTES");
        }
    }
}
