//! How an authorization ends when it is not an Allow, as the Lambda error
//! API Gateway reads: the message `Unauthorized` exactly is its 401; any
//! other error is its 500 (the caller is not let in either way).

use std::fmt;

use lambda_runtime::Diagnostic;
use shared::auth::Rejection;

/// The error message API Gateway turns into a 401.
pub const UNAUTHORIZED: &str = "Unauthorized";

/// Why the authorizer does not answer with a policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorizerError {
    /// No valid bearer token: 401 for the caller.
    Unauthorized(Rejection),
    /// The issuer's keys are out of reach: a fault, 500 for the caller.
    JwksUnavailable(String),
    /// Not a TOKEN authorizer event of a REST API method (a wiring
    /// mistake, or an invocation by something else): a fault.
    InvalidEvent(String),
}

impl fmt::Display for AuthorizerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unauthorized(rejection) => write!(f, "unauthorized: {rejection}"),
            Self::JwksUnavailable(reason) => write!(f, "JWKS unavailable: {reason}"),
            Self::InvalidEvent(reason) => write!(f, "not a TOKEN authorizer event: {reason}"),
        }
    }
}

impl std::error::Error for AuthorizerError {}

impl From<AuthorizerError> for Diagnostic {
    /// The caller learns nothing about the token; the reason is logged.
    fn from(error: AuthorizerError) -> Self {
        let (error_type, error_message) = match &error {
            AuthorizerError::Unauthorized(_) => (UNAUTHORIZED, UNAUTHORIZED.to_owned()),
            AuthorizerError::JwksUnavailable(_) => (
                "JwksUnavailable",
                "cannot verify tokens now: the issuer's keys are unavailable".to_owned(),
            ),
            AuthorizerError::InvalidEvent(_) => ("InvalidAuthorizerEvent", error.to_string()),
        };
        Self {
            error_type: error_type.into(),
            error_message,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_bad_token_is_the_exact_unauthorized_message() {
        let cases = [
            (
                AuthorizerError::Unauthorized(Rejection::Expired),
                "Unauthorized",
                "Unauthorized",
            ),
            (
                AuthorizerError::JwksUnavailable("https://issuer.test: answered 503".into()),
                "JwksUnavailable",
                "cannot verify tokens now: the issuer's keys are unavailable",
            ),
            (
                AuthorizerError::InvalidEvent("no methodArn".into()),
                "InvalidAuthorizerEvent",
                "not a TOKEN authorizer event: no methodArn",
            ),
        ];
        for (error, error_type, message) in cases {
            let diagnostic = Diagnostic::from(error);
            assert_eq!(
                (
                    diagnostic.error_type.as_str(),
                    diagnostic.error_message.as_str()
                ),
                (error_type, message)
            );
        }
    }
}
