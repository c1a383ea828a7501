//! The one error type of the API, each variant mapped to an HTTP status.
//!
//! Client mistakes are ordinary responses (`Ok(4xx)` at the Lambda level);
//! faults are answered with a generic 5xx body, their cause logged by the
//! app ([`crate::App::handle`]). `Display` says why, for logs.

use std::fmt;
use std::time::Duration;

use http::{Method, StatusCode};
use serde::Serialize;
use utoipa::ToSchema;

use crate::response::Response;

/// A boxed error that can cross threads; the cause of a 5xx.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// The `Retry-After` of a 503, in seconds: a throttled or unreachable
/// dependency has usually recovered by then.
pub const RETRY_AFTER_SECONDS: u64 = 1;

/// One failed check of a request field, reported in the `errors` list of a 422.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// The field (JSON key or query parameter) the message is about.
    pub field: String,
    /// What is wrong with it, lowercase, saying what to send instead.
    pub message: String,
}

impl FieldError {
    /// A field error.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Everything a handler or the framework can answer besides success.
#[derive(Debug)]
pub enum ApiError {
    /// 400: the request cannot be read (bad JSON, bad base64, bad cursor...).
    BadRequest(String),
    /// 401: no credentials, or ones that do not authenticate; answered
    /// with `WWW-Authenticate: Bearer`.
    Unauthorized(String),
    /// 403: authenticated, but without the scope the route requires.
    Forbidden(String),
    /// 404: no such route or resource.
    NotFound(String),
    /// 405: the path exists but not with this method; carries the `Allow` list.
    MethodNotAllowed(Vec<Method>),
    /// 409: the request conflicts with stored state (e.g. an email in use).
    Conflict(String),
    /// 413: the body is larger than the configured maximum (bytes).
    PayloadTooLarge(usize),
    /// 415: the body is not in a media type the route accepts.
    UnsupportedMediaType(String),
    /// 422: the body is well-formed but fails validation.
    Validation(Vec<FieldError>),
    /// 503: a dependency is down or throttling; the cause is logged, and
    /// `Retry-After` says when to try again.
    Unavailable(BoxError),
    /// 503: the handler was still running at the invocation's deadline
    /// ([`crate::deadline`]), after the time it was given; answered like
    /// [`ApiError::Unavailable`], and logged.
    DeadlineExceeded(Duration),
    /// 500: a fault; the cause is logged, never sent.
    Internal(BoxError),
}

/// The JSON body of every error response: the shape API Gateway uses for
/// its own errors, plus the per-field list of a validation failure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ErrorBody {
    /// What went wrong, lowercase, saying what to do.
    pub message: String,
    /// The failed fields of a 422, absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldError>>,
}

impl ApiError {
    /// A 500 from any error; the app logs the cause, the client gets a generic message.
    pub fn internal(cause: impl Into<BoxError>) -> Self {
        Self::Internal(cause.into())
    }

    /// The HTTP status this error is answered with.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Unavailable(_) | Self::DeadlineExceeded(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The `message` of the response body: what went wrong, for a client
    /// mistake; a generic text for a fault (its cause is never sent).
    pub fn message(&self) -> String {
        match self {
            Self::BadRequest(m)
            | Self::Unauthorized(m)
            | Self::Forbidden(m)
            | Self::NotFound(m)
            | Self::Conflict(m)
            | Self::UnsupportedMediaType(m) => m.clone(),
            Self::MethodNotAllowed(_) => "method not allowed on this path".to_owned(),
            Self::PayloadTooLarge(max) => {
                format!("request body is too large; the limit is {max} bytes")
            }
            Self::Validation(_) => "request validation failed".to_owned(),
            Self::Unavailable(_) | Self::DeadlineExceeded(_) => {
                "service temporarily unavailable; retry later".to_owned()
            }
            Self::Internal(_) => "internal server error".to_owned(),
        }
    }

    /// Builds the JSON response; a 503 says when to retry (`Retry-After`),
    /// a 401 which scheme to authenticate with (`WWW-Authenticate: Bearer`).
    /// The `Allow` header of a 405 is the router's
    /// ([`crate::router::respond`]); logging a 5xx's cause is the app's
    /// ([`crate::App::handle`]).
    pub fn into_response(self) -> Response {
        let status = self.status();
        let message = self.message();
        let header = match self {
            Self::Unavailable(_) | Self::DeadlineExceeded(_) => {
                Some((http::header::RETRY_AFTER, RETRY_AFTER_SECONDS.to_string()))
            }
            Self::Unauthorized(_) => Some((http::header::WWW_AUTHENTICATE, "Bearer".to_owned())),
            _ => None,
        };
        let errors = match self {
            Self::Validation(errors) => Some(errors),
            _ => None,
        };
        let response = Response::json(status, &ErrorBody { message, errors });
        match header {
            Some((name, value)) => response.with_header(name, &value),
            None => response,
        }
    }
}

/// Fields of a 422 that its `Display` names.
const MAX_FIELDS_SHOWN: usize = 5;

/// For logs: the status and why. A client mistake shows its message (a 422
/// also the names of its failed fields); a fault its cause, which the client never sees.
impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let status = self.status();
        match self {
            Self::Unavailable(cause) | Self::Internal(cause) => write!(f, "{status}: {cause}"),
            Self::DeadlineExceeded(budget) => write!(
                f,
                "{status}: request deadline reached after {} ms",
                budget.as_millis()
            ),
            Self::Validation(errors) if !errors.is_empty() => {
                // Field names only, a few, shortened: a hostile body can
                // fail on thousands of fields, with huge unknown keys.
                write!(f, "{status}: {} (", self.message())?;
                for (n, error) in errors.iter().take(MAX_FIELDS_SHOWN).enumerate() {
                    let field = match error.field.char_indices().nth(64) {
                        Some((end, _)) => &error.field[..end],
                        None => &error.field,
                    };
                    write!(f, "{}{field}", if n == 0 { "" } else { ", " })?;
                }
                match errors.len().saturating_sub(MAX_FIELDS_SHOWN) {
                    0 => f.write_str(")"),
                    more => write!(f, " and {more} more)"),
                }
            }
            _ => write!(f, "{status}: {}", self.message()),
        }
    }
}

impl std::error::Error for ApiError {}

impl From<ApiError> for Response {
    fn from(error: ApiError) -> Self {
        error.into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn body(response: &Response) -> Value {
        serde_json::from_slice(response.body_bytes()).expect("error bodies are JSON")
    }

    #[test]
    fn each_variant_has_its_status_and_a_message_body() {
        let cases: Vec<(ApiError, u16, &str)> = vec![
            (ApiError::BadRequest("bad cursor".into()), 400, "bad cursor"),
            (
                ApiError::Unauthorized("no bearer token".into()),
                401,
                "no bearer token",
            ),
            (
                ApiError::Forbidden("requires scope users:write".into()),
                403,
                "requires scope users:write",
            ),
            (
                ApiError::NotFound("user not found".into()),
                404,
                "user not found",
            ),
            (
                ApiError::Conflict("email in use".into()),
                409,
                "email in use",
            ),
            (
                ApiError::PayloadTooLarge(10),
                413,
                "request body is too large; the limit is 10 bytes",
            ),
            (
                ApiError::UnsupportedMediaType("json only".into()),
                415,
                "json only",
            ),
            (
                ApiError::Unavailable("table throttled".into()),
                503,
                "service temporarily unavailable; retry later",
            ),
            (
                ApiError::DeadlineExceeded(Duration::from_millis(750)),
                503,
                "service temporarily unavailable; retry later",
            ),
            (
                ApiError::internal("disk on fire at /var/db"),
                500,
                "internal server error",
            ),
        ];
        for (error, status, message) in cases {
            let response = error.into_response();
            assert_eq!(response.status.as_u16(), status);
            assert_eq!(body(&response), json!({ "message": message }));
            assert_eq!(response.header("content-type"), Some("application/json"));
        }
    }

    #[test]
    fn validation_lists_every_field() {
        let response = ApiError::Validation(vec![
            FieldError::new("name", "must not be empty"),
            FieldError::new("email", "must be an email address"),
        ])
        .into_response();
        assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            body(&response),
            json!({
                "message": "request validation failed",
                "errors": [
                    { "field": "name", "message": "must not be empty" },
                    { "field": "email", "message": "must be an email address" },
                ]
            })
        );
    }

    #[test]
    fn display_says_why() {
        let cases: Vec<(ApiError, &str)> = vec![
            (
                ApiError::BadRequest("request body is not valid base64".into()),
                "400 Bad Request: request body is not valid base64",
            ),
            (
                ApiError::MethodNotAllowed(vec![Method::GET]),
                "405 Method Not Allowed: method not allowed on this path",
            ),
            (
                ApiError::PayloadTooLarge(10),
                "413 Payload Too Large: request body is too large; the limit is 10 bytes",
            ),
            (
                ApiError::Validation(vec![
                    FieldError::new("name", "must not be empty"),
                    FieldError::new("email", "must be an email address"),
                ]),
                "422 Unprocessable Entity: request validation failed (name, email)",
            ),
            (
                ApiError::Validation(
                    (0..8)
                        .map(|n| FieldError::new(format!("k{n}"), "unknown field"))
                        .collect(),
                ),
                "422 Unprocessable Entity: request validation failed \
                 (k0, k1, k2, k3, k4 and 3 more)",
            ),
            (
                ApiError::internal("disk on fire"),
                "500 Internal Server Error: disk on fire",
            ),
            (
                ApiError::Unavailable("table throttled".into()),
                "503 Service Unavailable: table throttled",
            ),
            (
                ApiError::DeadlineExceeded(Duration::from_millis(750)),
                "503 Service Unavailable: request deadline reached after 750 ms",
            ),
        ];
        for (error, expected) in cases {
            assert_eq!(error.to_string(), expected);
        }
    }

    #[test]
    fn unauthorized_names_the_bearer_scheme() {
        let response = ApiError::Unauthorized("no bearer token".into()).into_response();
        assert_eq!(response.header("www-authenticate"), Some("Bearer"));
        let response = ApiError::Forbidden("requires scope x".into()).into_response();
        assert_eq!(response.header("www-authenticate"), None);
    }

    #[test]
    fn unavailable_carries_retry_after() {
        let response = ApiError::Unavailable("table throttled".into()).into_response();
        assert_eq!(response.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.header("retry-after"), Some("1"));
        let response = ApiError::DeadlineExceeded(Duration::from_secs(1)).into_response();
        assert_eq!(response.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.header("retry-after"), Some("1"));
        let response = ApiError::internal("not transient").into_response();
        assert_eq!(response.header("retry-after"), None);
    }
}
