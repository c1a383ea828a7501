//! Configuration shared by every function, read once at start-up.

use std::fmt;

use crate::cors::Cors;

/// Lambda's synchronous invocation payload limit: the default body maximum.
pub const DEFAULT_MAX_BODY_BYTES: usize = 6 * 1024 * 1024;

/// Settings of the HTTP layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Allowed origins (`CORS_ALLOW_ORIGINS`, comma-separated, default `*`).
    pub cors: Cors,
    /// Largest accepted request body in bytes (`MAX_BODY_BYTES`); larger is a 413.
    pub max_body_bytes: usize,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            cors: Cors::AnyOrigin,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
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
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads settings through `lookup` (the environment, or a test's map).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let cors = lookup("CORS_ALLOW_ORIGINS")
            .map(|v| Cors::parse(&v))
            .unwrap_or_default();
        let max_body_bytes = match lookup("MAX_BODY_BYTES") {
            None => DEFAULT_MAX_BODY_BYTES,
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
        Ok(Self {
            cors,
            max_body_bytes,
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
    fn refuses_a_bad_limit() {
        for bad in ["0", "-1", "six", ""] {
            let error = config(&[("MAX_BODY_BYTES", bad)]).expect_err(bad);
            assert_eq!(error.variable, "MAX_BODY_BYTES");
        }
    }
}
