//! Errors in OpenAI's shape, `{"error": {"message", "type", "param", "code"}}`, and the JSON body
//! extractor that reports a bad field by its path.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// An error answer.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    /// OpenAI's `type`: `invalid_request_error`, `authentication_error`, `server_error`, ….
    pub kind: &'static str,
    pub code: &'static str,
    /// The request field at fault.
    pub param: Option<String>,
    /// Seconds for a `Retry-After` header.
    pub retry_after: Option<u64>,
}

impl ApiError {
    fn new(status: StatusCode, kind: &'static str, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, message: message.into(), kind, code, param: None, retry_after: None }
    }

    /// 400: a field has a wrong value.
    pub fn invalid(param: &str, message: impl Into<String>) -> Self {
        Self {
            param: Some(param.to_string()),
            ..Self::new(StatusCode::BAD_REQUEST, "invalid_request_error", "invalid_value", message)
        }
    }

    /// 400: a feature this server does not offer.
    pub fn unsupported(param: &str, message: impl Into<String>) -> Self {
        Self { code: "unsupported_parameter", ..Self::invalid(param, message) }
    }

    /// 400: the prompt does not fit the context, or cannot be rendered.
    pub fn bad_prompt(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request_error", "invalid_prompt", message)
    }

    pub fn model_not_found(model: &str, available: &[String]) -> Self {
        Self {
            param: Some("model".into()),
            ..Self::new(
                StatusCode::NOT_FOUND,
                "invalid_request_error",
                "model_not_found",
                format!("the model `{model}` does not exist; this server has: {}", available.join(", ")),
            )
        }
    }

    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "authentication_error",
            "invalid_api_key",
            "missing or wrong API key: send `Authorization: Bearer KEY`",
        )
    }

    /// 503 with `Retry-After`: every running and queued place is taken.
    pub fn overloaded(places: usize) -> Self {
        Self {
            retry_after: Some(1),
            ..Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "server_error",
                "server_overloaded",
                format!("the server is busy: all {places} running and queued places are taken; retry shortly"),
            )
        }
    }

    /// 503: the server is stopping, or a model failed to load.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "server_error", "unavailable", message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "server_error", "internal_error", message)
    }

    /// The `{"error": …}` object, also sent as an event when a stream fails.
    pub fn body(&self) -> serde_json::Value {
        #[derive(Serialize)]
        struct Inner<'a> {
            message: &'a str,
            #[serde(rename = "type")]
            kind: &'a str,
            param: Option<&'a str>,
            code: &'a str,
        }
        let inner = Inner { message: &self.message, kind: self.kind, param: self.param.as_deref(), code: self.code };
        serde_json::json!({ "error": inner })
    }

    /// An error for a status some layer answered with an empty or plain-text body.
    pub fn for_status(status: StatusCode, detail: &str) -> Self {
        let (kind, code, message) = match status {
            StatusCode::NOT_FOUND => ("invalid_request_error", "not_found", "no such endpoint".to_string()),
            StatusCode::METHOD_NOT_ALLOWED => {
                ("invalid_request_error", "method_not_allowed", "this endpoint does not take that method".into())
            }
            StatusCode::PAYLOAD_TOO_LARGE => {
                ("invalid_request_error", "payload_too_large", "the body is too large".into())
            }
            StatusCode::REQUEST_TIMEOUT => ("server_error", "timeout", "the request took too long".into()),
            s if s.is_server_error() => ("server_error", "internal_error", format!("{s}")),
            s => ("invalid_request_error", "invalid_request", format!("{s}")),
        };
        let message = if detail.trim().is_empty() { message } else { format!("{message}: {}", detail.trim()) };
        Self::new(status, kind, code, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(self.body())).into_response();
        if let Some(seconds) = self.retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// A JSON body; a syntax error, a wrong type or a body over the size limit is an [`ApiError`]
/// naming the field's path (`messages[0].content`, `temperature`, …).
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|rejection| ApiError::for_status(rejection.status(), &rejection.body_text()))?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// Deserializes the JSON object in `bytes`, naming the field a type error is in.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    // serde would also read a struct from an array, and name an index as the field at fault.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()).is_some_and(|&b| b != b'{') {
        return Err(ApiError::invalid("body", "the body must be a JSON object of the request's fields"));
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            ApiError { code: "invalid_json", ..ApiError::bad_prompt(format!("the body is not valid JSON: {inner}")) }
        } else {
            ApiError::invalid(&path, format!("`{path}`: {inner}"))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::openai::CompletionRequest;

    #[test]
    fn a_wrong_type_names_the_field_path() {
        let err = parse_json::<CompletionRequest>(br#"{"temperature": "hot"}"#).unwrap_err();
        assert_eq!(err.status, StatusCode::BAD_REQUEST);
        assert_eq!(err.param.as_deref(), Some("temperature"));
        assert!(err.message.contains("`temperature`"), "{}", err.message);

        let err = parse_json::<CompletionRequest>(br#"{"messages": [{"role": "user", "content": 5}]}"#).unwrap_err();
        assert_eq!(err.param.as_deref(), Some("messages[0].content"));
        let err = parse_json::<CompletionRequest>(br#"{"messages": [{"role": "wizard"}]}"#).unwrap_err();
        assert_eq!(err.param.as_deref(), Some("messages[0].role"));
    }

    #[test]
    fn broken_json_and_a_non_object_are_reported_as_such() {
        let err = parse_json::<CompletionRequest>(br#"{"model": "#).unwrap_err();
        assert_eq!((err.status, err.code), (StatusCode::BAD_REQUEST, "invalid_json"));
        let err = parse_json::<CompletionRequest>(b"[1, 2]").unwrap_err();
        assert_eq!(err.param.as_deref(), Some("body"));
    }

    #[test]
    fn the_body_has_openais_fields_and_overload_says_when_to_retry() {
        let err = ApiError::overloaded(8);
        let body = err.body();
        for field in ["message", "type", "param", "code"] {
            assert!(body["error"].get(field).is_some(), "{field} missing in {body}");
        }
        let response = err.into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[header::RETRY_AFTER], "1");
    }
}
