//! The one error type of the API, each variant mapped to an HTTP status.
//!
//! Client mistakes are ordinary responses (`Ok(4xx)` at the Lambda level);
//! faults are logged with their cause and answered with a generic 5xx body.

use std::fmt;

use http::{Method, StatusCode, header};
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
    /// A 500 from any error; the cause is logged when the response is built.
    pub fn internal(cause: impl Into<BoxError>) -> Self {
        Self::Internal(cause.into())
    }

    /// The HTTP status this error is answered with.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Builds the JSON response, logging the cause of a 5xx.
    pub fn into_response(self) -> Response {
        let status = self.status();
        let message = match &self {
            Self::BadRequest(m)
            | Self::NotFound(m)
            | Self::Conflict(m)
            | Self::UnsupportedMediaType(m) => m.clone(),
            Self::MethodNotAllowed(_) => "method not allowed on this path".to_owned(),
            Self::PayloadTooLarge(max) => {
                format!("request body is too large; the limit is {max} bytes")
            }
            Self::Validation(_) => "request validation failed".to_owned(),
            Self::Unavailable(cause) => {
                tracing::error!(error = %cause, "dependency unavailable");
                "service temporarily unavailable; retry later".to_owned()
            }
            Self::Internal(cause) => {
                tracing::error!(error = %cause, "internal error");
                "internal server error".to_owned()
            }
        };
        let extra = match &self {
            Self::MethodNotAllowed(allow) => Some((header::ALLOW, allow_header(allow))),
            Self::Unavailable(_) => Some((header::RETRY_AFTER, RETRY_AFTER_SECONDS.to_string())),
            _ => None,
        };
        let errors = match self {
            Self::Validation(errors) => Some(errors),
            _ => None,
        };
        let response = Response::json(status, &ErrorBody { message, errors });
        match extra {
            Some((name, value)) => response.with_header(name, &value),
            None => response,
        }
    }
}

/// `GET, HEAD, OPTIONS`: the value of an `Allow` header.
pub(crate) fn allow_header(methods: &[Method]) -> String {
    methods
        .iter()
        .map(Method::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unavailable(cause) | Self::Internal(cause) => {
                write!(f, "{}: {cause}", self.status())
            }
            _ => write!(f, "{}", self.status()),
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
    fn method_not_allowed_carries_allow() {
        let response = ApiError::MethodNotAllowed(vec![Method::GET, Method::HEAD]).into_response();
        assert_eq!(response.status, StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(response.header("allow"), Some("GET, HEAD"));
    }

    #[test]
    fn unavailable_carries_retry_after() {
        let response = ApiError::Unavailable("table throttled".into()).into_response();
        assert_eq!(response.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.header("retry-after"), Some("1"));
        let response = ApiError::internal("not transient").into_response();
        assert_eq!(response.header("retry-after"), None);
    }
}
